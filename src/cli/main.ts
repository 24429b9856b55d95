import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parse as parseYaml } from 'yaml';
import {
  abortUpdate,
  activeChildQuery,
  approveUpdate,
  clusterLockWorkflowId,
  lockHolderQuery,
  pauseUpdate,
  progressQuery,
  rejectUpdate,
  resumeUpdate,
  type RunbookProgress,
  runbookWorkflowId,
  SA_CLUSTER,
  SA_RUNBOOK,
  SA_STATUS,
  TASK_QUEUE,
} from '../names';
import { inputProblems } from '../runbooks/input';
import { findRunbook, RUNBOOKS } from '../runbooks/registry';
import { connectClient } from '../temporal-connection';

/** Exit codes: 0 done, 1 the run failed or was refused, 2 bad input or usage. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const uiBase = () => (process.env.KAFKA_RUNBOOKS_UI_URL ?? 'http://localhost:8233').replace(/\/$/, '');
const namespace = () => process.env.TEMPORAL_NAMESPACE ?? 'default';
const whoami = () => process.env.KAFKA_RUNBOOKS_USER ?? userInfo().username;
export const workflowUrl = (id: string) => `${uiBase()}/namespaces/${namespace()}/workflows/${encodeURIComponent(id)}`;

let clientPromise: Promise<Client> | null = null;
const client = () => (clientPromise ??= connectClient());

/** Builds a runbook input from a JSON/YAML file plus --cluster and --set key=value (dotted keys, JSON values). */
export function buildInput(opts: { file?: string; cluster?: string; set?: string[] }): Record<string, unknown> {
  let input: Record<string, unknown> = {};
  if (opts.file) {
    const text = readFileSync(opts.file, 'utf8');
    const parsed: unknown = /\.ya?ml$/.test(opts.file) ? parseYaml(text) : JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${opts.file}: the input must be one JSON/YAML object`, 2);
    input = parsed as Record<string, unknown>;
  }
  if (opts.cluster) input.cluster = opts.cluster;
  for (const kv of opts.set ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new CliError(`--set ${kv}: expected key=value`, 2);
    const keys = kv.slice(0, eq).split('.');
    let value: unknown = kv.slice(eq + 1);
    try {
      value = JSON.parse(value as string);
    } catch {
      // a bare string
    }
    let target = input;
    keys.slice(0, -1).forEach((k) => {
      target[k] = typeof target[k] === 'object' && target[k] !== null ? target[k] : {};
      target = target[k] as Record<string, unknown>;
    });
    target[keys[keys.length - 1] as string] = value;
  }
  return input;
}

async function start(name: string, opts: { file?: string; cluster?: string; set?: string[]; id?: string; wait?: boolean; json?: boolean }) {
  const rb = findRunbook(name);
  if (!rb) throw new CliError(`unknown runbook "${name}"; known: ${Object.keys(RUNBOOKS).join(', ')}`, 2);
  const input = buildInput(opts);
  const problems = inputProblems(rb.schema, input);
  if (problems.length > 0) throw new CliError(`invalid input for ${name}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 2);
  const cluster = String(input.cluster);
  const c = await client();
  if (rb.disruptive) {
    // Early, friendly refusal; the workflow's own lock step is what actually enforces it.
    const holder = await c.workflow
      .getHandle(clusterLockWorkflowId(cluster))
      .query(lockHolderQuery)
      .catch(() => null);
    if (holder) throw new CliError(`cluster "${cluster}" is busy: runbook ${holder.runbook} (workflow ${holder.workflowId}) holds it since ${holder.since}`);
  }
  const workflowId = opts.id ?? runbookWorkflowId(rb.workflowType, cluster, new Date().toISOString().replace(/[:.]/g, '-'));
  const handle = await c.workflow.start(rb.workflowType, {
    workflowId,
    taskQueue: process.env.KAFKA_RUNBOOKS_TASK_QUEUE ?? TASK_QUEUE,
    args: [input],
    typedSearchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_RUNBOOK, value: rb.workflowType },
      { key: SA_STATUS, value: 'Running' },
    ],
    staticSummary: `${rb.workflowType} on ${cluster}`,
  });
  if (!opts.json) {
    console.log(`started ${rb.workflowType} on cluster ${cluster}`);
    console.log(`  workflow: ${handle.workflowId}`);
    console.log(`  watch:    ${workflowUrl(handle.workflowId)}`);
  }
  if (opts.wait) await follow(handle.workflowId, opts.json ?? false);
  else if (opts.json) console.log(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId }));
}

function printProgress(p: RunbookProgress) {
  console.log(`${p.runbook} on ${p.cluster}: ${p.status}${p.paused ? ' (paused)' : ''}`);
  if (p.currentStep) console.log(`  step:   ${p.currentStep}`);
  if (p.detail) console.log(`  detail: ${p.detail}`);
  if (p.pendingGate) {
    console.log(`  waiting for approval at gate "${p.pendingGate.name}": ${p.pendingGate.prompt}`);
    if (p.pendingGate.choices) console.log(`  choices: ${p.pendingGate.choices.join(', ')}`);
    if (p.pendingGate.deadline) console.log(`  deadline: ${p.pendingGate.deadline} (then ${p.pendingGate.onTimeout})`);
  }
  for (const s of p.steps) console.log(`  [${s.state}] ${s.name}${s.error ? `: ${s.error}` : ''}`);
  for (const g of p.gates) console.log(`  gate ${g.gate}: ${g.outcome} by ${g.approver}${g.reason ? ` (${g.reason})` : ''}`);
}

/** Follows a run with live progress until it ends; prints the result. Exit code 1 unless it completed. */
async function follow(workflowId: string, json: boolean) {
  const c = await client();
  const handle = c.workflow.getHandle(workflowId);
  let lastLog = 0;
  let lastLine = '';
  for (;;) {
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING') break;
    const p = await handle.query(progressQuery).catch(() => null);
    if (p && !json) {
      for (const l of p.log.slice(Math.max(0, p.log.length - (p.log.length - lastLog)))) console.log(`${l.at}  ${l.message}`);
      lastLog = p.log.length;
      const line = `${p.status} | ${p.currentStep ?? '-'} | ${p.detail ?? ''}`;
      if (line !== lastLine) console.log(`${new Date().toISOString()}  ${line}`);
      lastLine = line;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    const result: unknown = await handle.result();
    if (json) console.log(JSON.stringify(result, null, 2));
    else {
      const md = (result as { markdown?: string } | null)?.markdown;
      console.log(md ?? JSON.stringify(result, null, 2));
      console.log(`completed: ${workflowId}`);
    }
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    throw new CliError(`run ${workflowId} did not complete: ${cause?.message ?? (err as Error).message}`);
  }
}

async function status(workflowId: string, opts: { json?: boolean }) {
  const handle = (await client()).workflow.getHandle(workflowId);
  const desc = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no run with workflow ID ${workflowId}`);
    throw err;
  });
  const p = await handle.query(progressQuery).catch(() => null);
  const state = desc.status.name;
  // A run that ended other than completed says why, and the command fails like the run did.
  const failure =
    state === 'RUNNING' || state === 'COMPLETED'
      ? null
      : await handle.result().then(
          () => null,
          (err: { cause?: Error; message: string }) => err.cause?.message ?? err.message,
        );
  if (opts.json) console.log(JSON.stringify({ workflowId, temporalStatus: state, failure, progress: p }, null, 2));
  else {
    console.log(`workflow ${workflowId}: ${state}  ${workflowUrl(workflowId)}`);
    if (failure) console.log(`  failure: ${failure}`);
    if (p) printProgress(p);
    else console.log(state === 'RUNNING' ? '  (no progress yet: is a worker polling the task queue?)' : '  (no progress recorded)');
  }
  if (state !== 'RUNNING' && state !== 'COMPLETED') throw new CliError(`run ${workflowId} ended ${state}`);
}

async function sendUpdate(workflowId: string, send: (c: Client) => Promise<unknown>) {
  try {
    return await send(await client());
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new CliError(`refused: ${err.cause?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no running workflow ${workflowId}`);
    throw err;
  }
}

/**
 * The run that is waiting at `gate`: the run itself, or down its active children (a broker runbook's
 * reassignment `<id>/reassign`, a slice of batches), so operators can answer every gate of a runbook with the
 * ID they started.
 */
async function gateOwner(workflowId: string, gate: string): Promise<string> {
  const c = await client();
  const waitingAt = (id: string) =>
    c.workflow
      .getHandle(id)
      .query(progressQuery)
      .then((p) => p.pendingGate?.name ?? null)
      .catch(() => null);
  const activeChild = (id: string) =>
    c.workflow
      .getHandle(id)
      .query(activeChildQuery)
      .catch(() => null);
  let id: string | null = workflowId;
  for (let depth = 0; id !== null && depth < 4; depth++) {
    if ((await waitingAt(id)) === gate) {
      if (id !== workflowId) console.error(`gate "${gate}" is waiting in the child workflow ${id}: answering there`);
      return id;
    }
    // The broker runbooks' reassignment child has a fixed ID; slices are named by the run that started them.
    id = (await activeChild(id)) ?? (depth === 0 ? `${workflowId}/reassign` : null);
  }
  return workflowId;
}

async function list(opts: { cluster?: string; all?: boolean }) {
  const clauses = [`TaskQueue = '${process.env.KAFKA_RUNBOOKS_TASK_QUEUE ?? TASK_QUEUE}'`, `WorkflowType != 'clusterLock'`];
  if (opts.cluster) clauses.push(`KafkaCluster = '${opts.cluster.replace(/'/g, '')}'`);
  if (!opts.all) clauses.push(`ExecutionStatus = 'Running'`);
  let n = 0;
  for await (const w of (await client()).workflow.list({ query: clauses.join(' AND ') })) {
    const sa = w.typedSearchAttributes;
    console.log(
      [w.startTime.toISOString(), w.status.name.padEnd(10), (sa.get(SA_STATUS) ?? '-').padEnd(18), (sa.get(SA_CLUSTER) ?? '-').padEnd(12), w.type.padEnd(18), w.workflowId].join('  '),
    );
    if (++n >= 200) break;
  }
  if (n === 0) console.log(opts.all ? 'no runs' : 'no running runbooks (use --all for finished ones)');
}

export function buildProgram(): Command {
  const program = new Command('kafka-runbooks').description('Run and steer Kafka runbooks on Temporal').showHelpAfterError();
  const asOpt = () => new Option('--as <who>', 'who you are (recorded with the decision)').default(whoami());
  program
    .command('start <runbook>')
    .description(`start a runbook (${Object.keys(RUNBOOKS).join(', ')}); the input is validated before anything starts`)
    .option('-f, --file <input>', 'input as a JSON or YAML file')
    .option('-c, --cluster <name>', 'the cluster (overrides the file)')
    .option('-s, --set <key=value...>', 'set an input field (dotted keys, JSON values)')
    .option('--id <workflowId>', 'workflow ID (default: <runbook>/<cluster>/<time>)')
    .option('-w, --wait', 'follow progress until the run ends')
    .option('--json', 'machine-readable output')
    .action(start);
  program.command('status <workflowId>').option('--json').description('progress of a run').action(status);
  program.command('wait <workflowId>').option('--json').description('follow a run until it ends').action((id: string, o: { json?: boolean }) => follow(id, o.json ?? false));
  program
    .command('list')
    .option('-c, --cluster <name>')
    .option('-a, --all', 'include finished runs')
    .description('runbook runs (running ones by default)')
    .action(list);
  for (const [verb, update] of [
    ['approve', approveUpdate],
    ['reject', rejectUpdate],
  ] as const) {
    program
      .command(`${verb} <workflowId>`)
      .description(`${verb} the gate a run is waiting at`)
      .requiredOption('-g, --gate <name>', 'the gate')
      .option('-r, --reason <text>', 'why')
      .option('--choice <choice>', 'for gates that offer choices')
      .addOption(asOpt())
      .action(async (id: string, o: { gate: string; reason?: string; choice?: string; as: string }) => {
        const target = await gateOwner(id, o.gate);
        const d = await sendUpdate(target, (c) => c.workflow.getHandle(target).executeUpdate(update, { args: [{ gate: o.gate, approver: o.as, reason: o.reason, choice: o.choice }] }));
        console.log(JSON.stringify(d));
      });
  }
  for (const [verb, update] of [
    ['pause', pauseUpdate],
    ['resume', resumeUpdate],
    ['abort', abortUpdate],
  ] as const) {
    program
      .command(`${verb} <workflowId>`)
      .description(`${verb} a run${verb === 'abort' ? ' (stops at the next safe point and runs its undo steps)' : ''}`)
      .option('-r, --reason <text>', 'why')
      .addOption(asOpt())
      .action(async (id: string, o: { reason?: string; as: string }) => {
        const ack = await sendUpdate(id, (c) => c.workflow.getHandle(id).executeUpdate(update, { args: [{ by: o.as, reason: o.reason }] }));
        console.log(JSON.stringify(ack));
      });
  }
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .then(() => process.exit(0))
    .catch((err: unknown) => {
      console.error(`error: ${(err as Error).message}`);
      process.exit(err instanceof CliError ? err.exitCode : 1);
    });
}
