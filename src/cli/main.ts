import { type Client } from '@temporalio/client';
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { abortUpdate, approveUpdate, pauseUpdate, progressQuery, rejectUpdate, resumeUpdate, type RunbookProgress, runbookWorkflowId } from '../names';
import { RUNBOOKS } from '../runbooks/registry';
import { checkStart, gateOwner, listRuns, RefusalCode, RunRefused, runState, sendUpdate, startRun, taskQueue } from '../run-operations';
import { serve } from '../serve/app';
import { serveConfig, type ServeFlags } from '../serve/config';
import { API_ACTIONS, newToken, tokenEntrySchema } from '../serve/tokens';
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
  const input = buildInput(opts);
  // Refused before connecting: bad input needs no server.
  await refusedAsCliError(async () => checkStart(name, input));
  const c = await client();
  // The starter, by name (unauthenticated): the run's approval policy keeps it from approving its own irreversible gates.
  const startedBy = typeof input.startedBy === 'string' ? input.startedBy : whoami();
  const run = await refusedAsCliError(() => startRun(c, name, input, { workflowId: opts.id, startedBy: () => ({ startedBy, rendered: `${startedBy} (unauthenticated)` }) }));
  if (!opts.json) {
    console.log(`started ${run.runbook} on cluster ${run.cluster}`);
    console.log(`  workflow: ${run.workflowId}`);
    console.log(`  watch:    ${workflowUrl(run.workflowId)}`);
  }
  if (opts.wait) await follow(run.workflowId, opts.json ?? false);
  else if (opts.json) console.log(JSON.stringify({ workflowId: run.workflowId, runId: run.runId }));
}

/** Refusals exit 2 when the input is wrong, 1 otherwise. */
async function refusedAsCliError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RunRefused) throw new CliError(err.message, err.code === RefusalCode.InvalidInput || err.code === RefusalCode.UnknownRunbook ? 2 : 1);
    throw err;
  }
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
  const { temporalStatus: state, failure, progress: p } = await refusedAsCliError(async () => runState(await client(), workflowId));
  if (opts.json) console.log(JSON.stringify({ workflowId, temporalStatus: state, failure, progress: p }, null, 2));
  else {
    console.log(`workflow ${workflowId}: ${state}  ${workflowUrl(workflowId)}`);
    if (failure) console.log(`  failure: ${failure}`);
    if (p) printProgress(p, workflowId);
    else console.log(state === 'RUNNING' ? '  (no progress yet: is a worker polling the task queue?)' : '  (no progress recorded)');
  }
  // A run that ended other than completed says why, and the command fails like the run did.
  if (state !== 'RUNNING' && state !== 'COMPLETED') throw new CliError(`run ${workflowId} ended ${state}`);
}

async function list(opts: { cluster?: string; all?: boolean }) {
  const runs = await listRuns(await client(), opts);
  for (const r of runs) {
    console.log([r.startTime, r.temporalStatus.padEnd(10), (r.status ?? '-').padEnd(18), (r.cluster ?? '-').padEnd(12), r.runbook.padEnd(18), r.workflowId].join('  '));
  }
  if (runs.length === 0) console.log(opts.all ? 'no runs' : 'no running runbooks (use --all for finished ones)');
}

/** The run that takes an answer at `gate` (the run or its active child), said aloud when it is the child. */
async function answeringRun(workflowId: string, gate: string): Promise<string> {
  const target = await gateOwner(await client(), workflowId, gate);
  if (target !== workflowId) console.error(`gate "${gate}" is waiting in the child workflow ${target}: answering there`);
  return target;
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
        const target = await answeringRun(id, o.gate);
        const d = await refusedAsCliError(async () => sendUpdate(await client(), target, update, { gate: o.gate, approver: o.as, reason: o.reason, choice: o.choice }));
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
        const ack = await refusedAsCliError(async () => sendUpdate(await client(), id, update, { by: o.as, reason: o.reason }));
        console.log(JSON.stringify(ack));
      });
  }
  program
    .command('serve')
    .description('the HTTP API for bots and scripts (runbooks/chatops.md); runs until SIGINT/SIGTERM')
    .option('--listen <host:port>', 'listen address (KAFKA_RUNBOOKS_SERVE_LISTEN; default 127.0.0.1:8080)')
    .option('--tokens <file>', 'token file (KAFKA_RUNBOOKS_TOKENS_FILE)')
    .option('--attestation-key <file>', 'the key answers are attested with; the worker verifies them with the same key (KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE)')
    .option('--tls-cert <file>', 'TLS certificate (KAFKA_RUNBOOKS_TLS_CERT)')
    .option('--tls-key <file>', 'TLS private key (KAFKA_RUNBOOKS_TLS_KEY)')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (KAFKA_RUNBOOKS_TLS_CLIENT_CA)')
    .option('--rate-limit <n>', 'requests per minute per principal (KAFKA_RUNBOOKS_RATE_LIMIT; default 120)')
    .action(async (flags: ServeFlags) => runServer(flags));
  program
    .command('token <principal>')
    .description('a new API token: prints the token once, and the token file entry that holds only its hash')
    .requiredOption('--actions <list>', `comma-separated: ${API_ACTIONS.join(', ')}`)
    .option('--on-behalf-of <users>', 'a bot: "anyone" or comma-separated users it may act for')
    .action((principal: string, o: { actions: string; onBehalfOf?: string }) => {
      const t = newToken();
      const onBehalfOf = o.onBehalfOf === undefined ? undefined : o.onBehalfOf === 'anyone' ? 'anyone' : o.onBehalfOf.split(',');
      const entry = tokenEntrySchema.safeParse({ principal, sha256: t.sha256, actions: o.actions.split(','), ...(onBehalfOf ? { onBehalfOf } : {}) });
      if (!entry.success) throw new CliError(`invalid token entry: ${entry.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 2);
      console.log(`token (shown once; give it to ${principal}): ${t.token}`);
      console.log(`token file entry:\n  - ${JSON.stringify(entry.data)}`);
    });
  registerScheduleCommands(program, { client, taskQueue: () => taskQueue(), buildInput, uiBase, namespace });
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

async function runServer(flags: ServeFlags): Promise<void> {
  let config;
  try {
    config = serveConfig(flags, process.env);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const app = await serve(config);
  // The bound address: with port 0 the system picks one.
  const bound = app.server.address();
  const where = bound && typeof bound === 'object' ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : config.listen;
  console.log(`serving the API on ${config.tls ? 'https' : 'http'}://${where} (OpenAPI at /openapi.json, metrics at /metrics)`);
  await new Promise<void>((done) => {
    const stop = () => void app.close().then(done, done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function listBackupPoints(o: { cluster: string; json?: boolean }) {
  const c = await client();
  const r = (await c.workflow.execute('listBackups', {
    taskQueue: taskQueue(),
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
