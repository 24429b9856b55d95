import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parse as parseYaml } from 'yaml';
import {
  abortUpdate,
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
import { registerScheduleCommands, ScheduleRequestError } from './schedules';

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

/** Key segments that reach an object's prototype: `--set __proto__.x=1` would change every object in the process. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first forbidden key anywhere in a --set JSON value, e.g. `{"__proto__": {...}}`. */
function forbiddenKeyIn(value: unknown): string | null {
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (FORBIDDEN_KEYS.has(k)) return k;
    const inner = forbiddenKeyIn(v);
    if (inner) return inner;
  }
  return null;
}

/**
 * Builds a runbook input from a JSON/YAML file plus --cluster and --set key=value (dotted keys, JSON values).
 * Refuses `__proto__`, `constructor` and `prototype` in keys and values (prototype pollution).
 */
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
    const key = kv.slice(0, eq);
    const keys = key.split('.');
    if (keys.some((k) => k === '')) throw new CliError(`--set ${key}: empty key segment`, 2);
    const forbidden = keys.find((k) => FORBIDDEN_KEYS.has(k));
    if (forbidden) throw new CliError(`--set ${key}: "${forbidden}" is not allowed in a key`, 2);
    let value: unknown = kv.slice(eq + 1);
    try {
      value = JSON.parse(value as string);
    } catch {
      // a bare string
    }
    const forbiddenInValue = forbiddenKeyIn(value);
    if (forbiddenInValue) throw new CliError(`--set ${key}: "${forbiddenInValue}" is not allowed in a key of the value`, 2);
    let target = input;
    keys.slice(0, -1).forEach((k) => {
      const own = Object.prototype.hasOwnProperty.call(target, k) ? target[k] : undefined;
      target[k] = typeof own === 'object' && own !== null ? own : {};
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

function printProgress(p: RunbookProgress, workflowId: string) {
  console.log(`${p.runbook} on ${p.cluster}: ${p.status}${p.paused ? ' (paused)' : ''}`);
  if (p.currentStep) console.log(`  step:   ${p.currentStep}`);
  if (p.detail) console.log(`  detail: ${p.detail}`);
  for (const g of p.pendingGates ?? (p.pendingGate ? [p.pendingGate] : [])) {
    console.log(`  waiting for approval at gate "${g.name}"${g.workflowId && g.workflowId !== workflowId ? ` (in child ${g.workflowId})` : ''}: ${g.prompt}`);
    if (g.choices) console.log(`    choices: ${g.choices.join(', ')}`);
    if (g.deadline) console.log(`    deadline: ${g.deadline} (then ${g.onTimeout})`);
  }
  for (const w of p.warnings ?? []) console.log(`  warning: ${w}`);
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
    if (p) printProgress(p, workflowId);
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
 * The run that is waiting at `gate`: the run itself, or its active child (a reassignment), whose gates the
 * parent's progress lists with the child's ID, so operators answer every gate with the ID they started.
 */
async function gateOwner(workflowId: string, gate: string): Promise<string> {
  const c = await client();
  const progress = await c.workflow
    .getHandle(workflowId)
    .query(progressQuery)
    .catch(() => null);
  const open = progress?.pendingGates?.find((g) => g.name === gate);
  // Only this run's active child or a child of that (IDs under it): a gate entry never redirects an answer elsewhere.
  const owner = open?.workflowId;
  const child = progress?.activeChild;
  if (owner && child && (owner === child || owner.startsWith(`${child}/`)) && child.startsWith(`${workflowId}/`)) {
    console.error(`gate "${gate}" is waiting in the child workflow ${owner}: answering there`);
    return owner;
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
  registerScheduleCommands(program, { client, taskQueue: () => process.env.KAFKA_RUNBOOKS_TASK_QUEUE ?? TASK_QUEUE, buildInput, uiBase, namespace });
  program
    .command('backups')
    .description('backup points of a cluster')
    .command('list')
    .requiredOption('-c, --cluster <name>', 'the backed-up (source) cluster')
    .option('--json', 'machine-readable output')
    .description("backup points on the cluster's backup cluster, newest first")
    .action(listBackupPoints);
  return program;
}

async function listBackupPoints(o: { cluster: string; json?: boolean }) {
  const c = await client();
  const r = (await c.workflow.execute('listBackups', {
    taskQueue: process.env.KAFKA_RUNBOOKS_TASK_QUEUE ?? TASK_QUEUE,
    workflowId: runbookWorkflowId('listBackups', o.cluster, new Date().toISOString().replace(/[:.]/g, '-')),
    args: [{ cluster: o.cluster }],
    workflowExecutionTimeout: '5 minutes',
  })) as { backupCluster: string; points: { id: string; time: string; topics: number; partitions: number; records: number; groups: number; aclsCaptured: boolean }[]; unreadable: string[] };
  if (o.json) {
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  console.log(`backup points of ${o.cluster} on ${r.backupCluster}:`);
  if (r.points.length === 0) console.log('  none');
  else console.log(['ID'.padEnd(22), 'TIME'.padEnd(26), 'TOPICS', 'PARTITIONS', 'RECORDS'.padStart(12), 'GROUPS', 'ACLS'].join('  '));
  for (const p of r.points) {
    console.log([p.id.padEnd(22), p.time.padEnd(26), String(p.topics).padStart(6), String(p.partitions).padStart(10), String(p.records).padStart(12), String(p.groups).padStart(6), p.aclsCaptured ? 'yes' : 'no'].join('  '));
  }
  for (const u of r.unreadable) console.log(`  unreadable: ${u}`);
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .then(() => process.exit(0))
    .catch((err: unknown) => {
      console.error(`error: ${(err as Error).message}`);
      process.exit(err instanceof CliError ? err.exitCode : err instanceof ScheduleRequestError ? 2 : 1);
    });
}
