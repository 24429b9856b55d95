import { type Client } from '@temporalio/client';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type LabCluster } from '../../../src/lab';
import { type RunbookProgress } from '../../../src/names';
import { type RunState, runState } from '../../../src/run-operations';
import { createTopicWithRetry } from './lab';
import { cli } from './stack';

/** Helpers for rolling-restart end-to-end tests and the benchmark: lab host facts read from the lab's files. */

export function createTopic(lab: Pick<LabCluster, 'bootstrapServers'>, topic: string, partitions = 6): Promise<void> {
  return createTopicWithRetry(lab.bootstrapServers, { topic, numPartitions: partitions, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] });
}

function labHost(lab: LabCluster, name: string) {
  const h = lab.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name} in lab ${lab.name}`);
  return h;
}

/** The Kafka pid recorded on the host (its pid file), or null. */
export function kafkaPid(lab: LabCluster, host: string): number | null {
  try {
    const pid = Number(readFileSync(labHost(lab, host).paths.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`) ? pid : null;
  } catch {
    return null;
  }
}

/** The version the running process was started from (the kafka jar on its class path), or null. */
export function runningVersion(lab: LabCluster, host: string): string | null {
  const pid = kafkaPid(lab, host);
  if (pid === null) return null;
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  // The class path is `<installDir>/kafka_2.13-<version>/libs/*` (the start script resolves `current`).
  return /kafka_2\.13-(\d+\.\d+\.\d+)\/libs\b/.exec(cmd)?.[1] ?? /kafka_2\.13-(\d+\.\d+\.\d+)\.jar/.exec(cmd)?.[1] ?? null;
}

/** The version the host's `current` link points at. */
export function linkVersion(lab: LabCluster, host: string): string | null {
  const target = readlinkSync(labHost(lab, host).paths.currentLink);
  return /(\d+\.\d+\.\d+)$/.exec(basename(target))?.[1] ?? null;
}

/** How many times the node logged that it started (server.log and its rolled files). */
export function serverStarts(lab: LabCluster, host: string): number {
  const dir = labHost(lab, host).paths.logDir;
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.startsWith('server.log'))) {
    n += (readFileSync(join(dir, f), 'utf8').match(/Kafka Server started/g) ?? []).length;
  }
  return n;
}

export interface StatusJson {
  workflowId: string;
  temporalStatus: string;
  failure: string | null;
  progress: (RunbookProgress & { pendingGate: { name: string; prompt: string; choices?: string[] } | null }) | null;
}

export async function runStatus(env: NodeJS.ProcessEnv, id: string): Promise<StatusJson> {
  const r = await cli(env, ['status', id, '--json'], 300_000);
  if (!r.stdout.trim().startsWith('{')) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusJson;
}

/**
 * Polls a run in this process, with the read `status` makes (`runState`), until accept says yes; fails with the
 * last state seen. For waiting only: each `status` through the CLI starts a node process with tsx, a core-second
 * or more that a poll every few seconds takes from the lab's JVMs on this 2-core machine for the whole wait.
 * What a test asserts on still comes from the CLI (see atGate helpers).
 */
export async function pollRun(client: Client, id: string, what: string, accept: (s: RunState) => boolean, timeoutMs: number): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  let last: RunState | Error | undefined;
  for (;;) {
    try {
      last = await runState(client, id);
      if (accept(last)) return last;
    } catch (err) {
      last = err as Error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify({ status: last?.temporalStatus, step: last?.progress?.currentStep, gate: last?.progress?.pendingGate?.name })}`);
    await sleep(500);
  }
}

/**
 * Waits (in process) until the run waits at `gate` or has ended, then reads its status through the CLI, which must
 * show the gate: what the caller asserts on is what an operator's `status --json` printed.
 */
export async function runAtGate(client: Client, env: NodeJS.ProcessEnv, id: string, gate: string, timeoutMs: number, context: () => string = () => ''): Promise<StatusJson> {
  await pollRun(client, id, `gate ${gate}`, (s) => s.progress?.pendingGate?.name === gate || s.temporalStatus !== 'RUNNING', timeoutMs);
  const s = await runStatus(env, id);
  if (s.progress?.pendingGate?.name !== gate) throw new Error(`run ended ${s.temporalStatus} before gate ${gate}: ${s.failure}\nsteps: ${JSON.stringify(s.progress?.steps.slice(-8))}${context()}`);
  return s;
}

/** Starts the rolling-restart runbook through the CLI and returns its workflow id. */
export async function startRollingRestart(env: NodeJS.ProcessEnv, cluster: string, set: Record<string, unknown>): Promise<string> {
  const args = ['start', 'rolling-restart', '-c', cluster, '--json'];
  for (const [k, v] of Object.entries(set)) args.push('-s', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const r = await cli(env, args, 400_000);
  if (r.code !== 0) throw new Error(`start exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return (JSON.parse(r.stdout) as { workflowId: string }).workflowId;
}
