import { type Client, ScheduleNotFoundError, type ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { type Command } from 'commander';
import { runbookWorkflowId, SA_CLUSTER, SA_RUNBOOK, SA_STATUS } from '../names';
import { inputProblems } from '../runbooks/input';
import { findRunbook, RUNBOOKS } from '../runbooks/registry';

/** A refused schedule request; exit code 2 like any bad input. */
export class ScheduleRequestError extends Error {
  override name = 'ScheduleRequestError';
}

export const OVERLAP_POLICIES = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;

export interface ScheduleRequest {
  runbook: string;
  input: Record<string, unknown>;
  id?: string;
  /** Cron expressions (5 fields), read in `timezone`. */
  cron?: string[];
  /** An interval such as `6h` or `30 minutes`. */
  every?: string;
  timezone?: string;
  overlap?: string;
  /** How late a missed run may still start (e.g. after the server was down): default 1 hour. */
  catchupWindow?: string;
  note?: string;
  force?: boolean;
  paused?: boolean;
}

export interface BuiltSchedule {
  options: ScheduleOptions;
  /** Printed on stderr: a disruptive runbook scheduled with --force. */
  warnings: string[];
}

function duration(what: string, text: string): number {
  let ms: number;
  try {
    ms = msToNumber(text as Parameters<typeof msToNumber>[0]);
  } catch {
    throw new ScheduleRequestError(`${what} "${text}": not a duration (e.g. 30m, 6h, 1 day)`);
  }
  if (!Number.isFinite(ms) || ms < 1000) throw new ScheduleRequestError(`${what} "${text}": must be at least 1 second`);
  return ms;
}

/** Checks a schedule request and builds the Temporal schedule, before anything is created. Pure apart from Intl. */
export function buildSchedule(req: ScheduleRequest, taskQueue: string): BuiltSchedule {
  const rb = findRunbook(req.runbook);
  if (!rb) throw new ScheduleRequestError(`unknown runbook "${req.runbook}"; known: ${Object.keys(RUNBOOKS).join(', ')}`);
  const problems = inputProblems(rb.schema, req.input);
  if (problems.length > 0) throw new ScheduleRequestError(`invalid input for ${req.runbook}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  const cluster = String(req.input.cluster);
  const cron = req.cron ?? [];
  if ((cron.length > 0) === (req.every !== undefined)) throw new ScheduleRequestError('give either --cron or --every (exactly one)');
  for (const c of cron) {
    if (c.trim().split(/\s+/).length !== 5) throw new ScheduleRequestError(`--cron "${c}": must have 5 fields (minute hour day-of-month month day-of-week)`);
  }
  const timezone = req.timezone ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new ScheduleRequestError(`--timezone "${timezone}": not an IANA time zone (e.g. Europe/Paris, UTC)`);
  }
  const overlapName = req.overlap ?? 'skip';
  const overlap = (OVERLAP_POLICIES as Record<string, ScheduleOverlapPolicy | undefined>)[overlapName];
  if (!overlap) throw new ScheduleRequestError(`--overlap "${overlapName}": one of ${Object.keys(OVERLAP_POLICIES).join(', ')}`);
  const catchupWindow = duration('--catchup-window', req.catchupWindow ?? '1 hour');
  const warnings: string[] = [];
  if (rb.disruptive) {
    if (!req.force) throw new ScheduleRequestError(`${req.runbook} is disruptive (it changes cluster ${cluster} and takes its lock): scheduling it unattended needs --force`);
    warnings.push(`warning: ${req.runbook} is disruptive; each scheduled run will change cluster ${cluster} with nobody watching it start`);
  }
  const scheduleId = req.id ?? `${req.runbook}/${cluster}`;
  if (!/^[A-Za-z0-9._/:-]{1,200}$/.test(scheduleId)) throw new ScheduleRequestError(`--id "${scheduleId}": letters, digits, ".", "_", "/", ":" or "-", at most 200`);
  return {
    warnings,
    options: {
      scheduleId,
      spec: req.every !== undefined ? { intervals: [{ every: duration('--every', req.every) }], timezone } : { cronExpressions: cron, timezone },
      action: {
        type: 'startWorkflow',
        workflowType: rb.workflowType,
        // Temporal appends each run's scheduled time to this ID.
        workflowId: runbookWorkflowId(rb.workflowType, cluster, 'scheduled'),
        taskQueue,
        args: [req.input],
        typedSearchAttributes: [
          { key: SA_CLUSTER, value: cluster },
          { key: SA_RUNBOOK, value: rb.workflowType },
          { key: SA_STATUS, value: 'Running' },
        ],
        staticSummary: `${rb.workflowType} on ${cluster} (schedule ${scheduleId})`,
      },
      policies: { overlap, catchupWindow },
      // Temporal stores a cron as calendars; the memo keeps what the operator typed, for describe.
      memo: { when: req.every !== undefined ? `every ${req.every}` : `cron ${cron.join(' | ')}` },
      state: { paused: req.paused ?? false, ...(req.note ? { note: req.note } : {}) },
    },
  };
}

type ScheduleClient = Pick<Client, 'schedule'>;

async function handleOf(client: ScheduleClient, id: string) {
  const handle = client.schedule.getHandle(id);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new ScheduleRequestError(`no schedule "${id}"`);
    throw err;
  }
}

/** `schedule create|list|describe|pause|unpause|trigger|delete`, on the program given. */
export function registerScheduleCommands(
  program: Command,
  deps: { client: () => Promise<ScheduleClient>; taskQueue: () => string; buildInput: (o: { file?: string; cluster?: string; set?: string[] }) => Record<string, unknown>; uiBase: () => string; namespace: () => string },
): void {
  const schedule = program.command('schedule').description('Temporal Schedules that start runbooks (also on the Web UI\'s Schedules page)');
  const url = (id: string) => `${deps.uiBase()}/namespaces/${deps.namespace()}/schedules/${encodeURIComponent(id)}`;
  schedule
    .command('create <runbook>')
    .description('schedule a runbook by cron or interval; the input is validated first')
    .option('-f, --file <input>', 'input as a JSON or YAML file')
    .option('-c, --cluster <name>', 'the cluster (overrides the file)')
    .option('-s, --set <key=value...>', 'set an input field (dotted keys, JSON values)')
    .option('--id <scheduleId>', 'schedule ID (default <runbook>/<cluster>)')
    .option('--cron <expr...>', 'cron expressions, e.g. "0 2 * * *"')
    .option('--every <duration>', 'an interval, e.g. 6h')
    .option('--timezone <tz>', 'IANA time zone the cron is read in', 'UTC')
    .option('--overlap <policy>', `when a run is still going: ${Object.keys(OVERLAP_POLICIES).join(', ')}`, 'skip')
    .option('--catchup-window <duration>', 'how late a missed run may still start', '1 hour')
    .option('--note <text>', 'a note shown with the schedule')
    .option('--paused', 'create it paused')
    .option('--force', 'allow a disruptive runbook')
    .action(async (runbook: string, o: { file?: string; cluster?: string; set?: string[]; id?: string; cron?: string[]; every?: string; timezone: string; overlap: string; catchupWindow: string; note?: string; paused?: boolean; force?: boolean }) => {
      const built = buildSchedule({ runbook, input: deps.buildInput(o), id: o.id, cron: o.cron, every: o.every, timezone: o.timezone, overlap: o.overlap, catchupWindow: o.catchupWindow, note: o.note, force: o.force, paused: o.paused }, deps.taskQueue());
      for (const w of built.warnings) console.error(w);
      const handle = await (await deps.client()).schedule.create(built.options);
      console.log(`created schedule ${handle.scheduleId}${o.paused ? ' (paused)' : ''}`);
      console.log(`  watch: ${url(handle.scheduleId)}`);
    });
  schedule
    .command('list')
    .description('every schedule')
    .action(async () => {
      let n = 0;
      for await (const s of (await deps.client()).schedule.list()) {
        const action = s.action as { workflowType?: string } | undefined;
        const next = s.info.nextActionTimes[0]?.toISOString() ?? '-';
        console.log([s.scheduleId.padEnd(36), (s.state.paused ? 'paused' : 'active').padEnd(7), (action?.workflowType ?? '-').padEnd(18), `next ${next}`, s.state.note ? `  "${s.state.note}"` : ''].join('  '));
        n++;
      }
      if (n === 0) console.log('no schedules');
    });
  schedule
    .command('describe <scheduleId>')
    .option('--json', 'machine-readable output')
    .description('spec, policies, state and recent runs of a schedule')
    .action(async (id: string, o: { json?: boolean }) => {
      const { description: d } = await handleOf(await deps.client(), id);
      const action = d.action as { workflowType?: string; args?: unknown[] };
      const summary = {
        scheduleId: d.scheduleId,
        workflowType: action.workflowType,
        input: action.args?.[0],
        when: typeof d.memo?.when === 'string' ? d.memo.when : JSON.stringify(d.spec.calendars ?? d.spec.intervals ?? []),
        timezone: d.spec.timezone ?? 'UTC',
        overlap: d.policies.overlap,
        catchupWindowMs: d.policies.catchupWindow,
        paused: d.state.paused,
        note: d.state.note ?? null,
        nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        recentRuns: d.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt.toISOString(), workflowId: a.action.workflow.workflowId })),
        runningWorkflows: d.info.runningActions.map((a) => a.workflow.workflowId),
      };
      if (o.json) console.log(JSON.stringify(summary, null, 2));
      else {
        console.log(`schedule ${summary.scheduleId}: ${summary.workflowType} ${summary.paused ? '(paused)' : '(active)'}  ${url(id)}`);
        console.log(`  when:     ${summary.when} (${summary.timezone})`);
        console.log(`  overlap:  ${summary.overlap}; catch-up window ${Number(summary.catchupWindowMs) / 1000} s`);
        if (summary.note) console.log(`  note:     ${summary.note}`);
        console.log(`  next:     ${summary.nextRuns.join(', ') || '-'}`);
        for (const r of summary.recentRuns) console.log(`  ran:      ${r.scheduledAt} ${r.workflowId}`);
      }
    });
  for (const verb of ['pause', 'unpause'] as const) {
    schedule
      .command(`${verb} <scheduleId>`)
      .option('--note <text>', 'why (shown with the schedule)')
      .description(`${verb} a schedule`)
      .action(async (id: string, o: { note?: string }) => {
        const { handle } = await handleOf(await deps.client(), id);
        await (verb === 'pause' ? handle.pause(o.note) : handle.unpause(o.note));
        console.log(`${verb}d schedule ${id}`);
      });
  }
  schedule
    .command('trigger <scheduleId>')
    .option('--overlap <policy>', 'overlap policy for this run (default: the schedule\'s)')
    .description('start the scheduled runbook now')
    .action(async (id: string, o: { overlap?: string }) => {
      const { handle } = await handleOf(await deps.client(), id);
      const overlap = o.overlap === undefined ? undefined : (OVERLAP_POLICIES as Record<string, ScheduleOverlapPolicy | undefined>)[o.overlap];
      if (o.overlap !== undefined && !overlap) throw new ScheduleRequestError(`--overlap "${o.overlap}": one of ${Object.keys(OVERLAP_POLICIES).join(', ')}`);
      await handle.trigger(overlap);
      console.log(`triggered schedule ${id}`);
    });
  schedule
    .command('delete <scheduleId>')
    .description('delete a schedule (runs it started are kept)')
    .action(async (id: string) => {
      const { handle } = await handleOf(await deps.client(), id);
      await handle.delete();
      console.log(`deleted schedule ${id}`);
    });
}
