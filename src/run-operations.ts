/**
 * What the CLI and the HTTP API do to runs, in one place: start a runbook (validated first), read a run's
 * state, list runs, find the run waiting at a gate, and send it an Update. Callers turn `RunRefused` into
 * their own output (an exit code, an HTTP status).
 */
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { type UpdateDefinition } from '@temporalio/common';
import { clusterLockWorkflowId, lockHolderQuery, progressQuery, type RunbookProgress, runbookWorkflowId, SA_CLUSTER, SA_RUNBOOK, SA_STATUS, TASK_QUEUE } from './names';
import { type Attestation } from './approvals/identity';
import { inputProblems } from './runbooks/input';
import { startMetadata } from './runbooks/intent';
import { findRunbook, RUNBOOKS, type RunbookEntry } from './runbooks/registry';

export const RefusalCode = {
  UnknownRunbook: 'unknown-runbook',
  InvalidInput: 'invalid-input',
  ClusterBusy: 'cluster-busy',
  NoSuchRun: 'no-such-run',
  /** The run refused the request (its Update validator or handler said no). */
  Refused: 'refused',
} as const;
export type RefusalCode = (typeof RefusalCode)[keyof typeof RefusalCode];

/** A request refused before or by the run; nothing changed. `problems` lists each bad field for invalid input. */
export class RunRefused extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }
}

export const taskQueue = (env: NodeJS.ProcessEnv = process.env): string => env.KAFKA_RUNBOOKS_TASK_QUEUE ?? TASK_QUEUE;

/** The runbook and its input, checked exactly as the workflow will check it; throws RunRefused naming each field. */
export function checkStart(name: string, input: unknown): { runbook: RunbookEntry; cluster: string } {
  const runbook = findRunbook(name);
  if (!runbook) throw new RunRefused(RefusalCode.UnknownRunbook, `unknown runbook "${name}"; known: ${Object.keys(RUNBOOKS).join(', ')}`);
  const problems = inputProblems(runbook.schema, input);
  if (problems.length > 0) throw new RunRefused(RefusalCode.InvalidInput, `invalid input for ${name}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, problems);
  return { runbook, cluster: String((input as { cluster: unknown }).cluster) };
}

export interface StartedRun {
  workflowId: string;
  runId: string;
  runbook: string;
  cluster: string;
}

/**
 * Validates and starts a runbook. A disruptive one on a cluster another run holds is refused early with the
 * holder named (the workflow's own lock step is what enforces it).
 */
export async function startRun(
  client: Client,
  name: string,
  input: Record<string, unknown>,
  opts: { workflowId?: string; startedBy?: (workflowId: string) => { startedBy: string; attestation?: Attestation; rendered: string } } = {},
): Promise<StartedRun> {
  const { runbook, cluster } = checkStart(name, input);
  if (runbook.disruptive) {
    const holder = await client.workflow
      .getHandle(clusterLockWorkflowId(cluster))
      .query(lockHolderQuery)
      .catch(() => null);
    if (holder) throw new RunRefused(RefusalCode.ClusterBusy, `cluster "${cluster}" is busy: runbook ${holder.runbook} (workflow ${holder.workflowId}) holds it since ${holder.since}`);
  }
  const workflowId = opts.workflowId ?? runbookWorkflowId(runbook.workflowType, cluster, new Date().toISOString().replace(/[:.]/g, '-'));
  const startedBy = opts.startedBy?.(workflowId);
  // Who started the run travels in its input (the controls read it; the runbook's schema never sees it).
  const args = startedBy ? { ...input, startedBy: startedBy.startedBy, ...(startedBy.attestation ? { attestation: startedBy.attestation } : {}) } : input;
  const handle = await client.workflow.start(runbook.workflowType, {
    workflowId,
    taskQueue: taskQueue(),
    args: [args],
    typedSearchAttributes: [
      { key: SA_CLUSTER, value: cluster },
      { key: SA_RUNBOOK, value: runbook.workflowType },
      { key: SA_STATUS, value: 'Running' },
    ],
    // The Web UI's title and header: runbook, cluster, who started it, what it will do.
    ...startMetadata(runbook.workflowType, cluster, args, startedBy?.rendered ?? null, runbook.doc),
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, runbook: runbook.workflowType, cluster };
}

export interface RunState {
  workflowId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, ... */
  temporalStatus: string;
  /** Why a run that ended other than completed ended. */
  failure: string | null;
  progress: RunbookProgress | null;
}

/** A run's state and progress; RunRefused(no-such-run) when there is none. */
export async function runState(client: Client, workflowId: string): Promise<RunState> {
  const handle = client.workflow.getHandle(workflowId);
  const desc = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) throw new RunRefused(RefusalCode.NoSuchRun, `no run with workflow ID ${workflowId}`);
    throw err;
  });
  const progress = await handle.query(progressQuery).catch(() => null);
  const state = desc.status.name;
  const failure =
    state === 'RUNNING' || state === 'COMPLETED'
      ? null
      : await handle.result().then(
          () => null,
          (err: { cause?: Error; message: string }) => err.cause?.message ?? err.message,
        );
  return { workflowId, temporalStatus: state, failure, progress };
}

export interface RunSummary {
  workflowId: string;
  runbook: string;
  cluster: string | null;
  /** The runbook's own status (search attribute RunbookStatus). */
  status: string | null;
  temporalStatus: string;
  startTime: string;
  closeTime: string | null;
}

/** Runbook runs on our task queue, newest first (running ones only unless `all`), at most `limit`. */
export async function listRuns(client: Client, opts: { cluster?: string; all?: boolean; limit?: number } = {}): Promise<RunSummary[]> {
  const clauses = [`TaskQueue = '${taskQueue().replace(/'/g, '')}'`, `WorkflowType != 'clusterLock'`];
  if (opts.cluster) clauses.push(`KafkaCluster = '${opts.cluster.replace(/'/g, '')}'`);
  if (!opts.all) clauses.push(`ExecutionStatus = 'Running'`);
  const runs: RunSummary[] = [];
  for await (const w of client.workflow.list({ query: clauses.join(' AND ') })) {
    const sa = w.typedSearchAttributes;
    runs.push({
      workflowId: w.workflowId,
      runbook: w.type,
      cluster: sa.get(SA_CLUSTER) ?? null,
      status: sa.get(SA_STATUS) ?? null,
      temporalStatus: w.status.name,
      startTime: w.startTime.toISOString(),
      closeTime: w.closeTime?.toISOString() ?? null,
    });
    if (runs.length >= (opts.limit ?? 200)) break;
  }
  return runs;
}

/**
 * The run that is waiting at `gate`: the run itself, or its active child (a reassignment, a slice), whose
 * gates the parent's progress lists with the child's ID, so operators answer every gate with the ID they started.
 */
export async function gateOwner(client: Client, workflowId: string, gate: string): Promise<string> {
  const progress = await client.workflow
    .getHandle(workflowId)
    .query(progressQuery)
    .catch(() => null);
  const open = progress?.pendingGates?.find((g) => g.name === gate);
  // Only this run's active child or a child of that (IDs under it): a gate entry never redirects an answer elsewhere.
  const owner = open?.workflowId;
  const child = progress?.activeChild;
  if (owner && child && (owner === child || owner.startsWith(`${child}/`)) && child.startsWith(`${workflowId}/`)) return owner;
  return workflowId;
}

/** Sends an Update and waits for its answer; a refusal by the run or a missing run becomes RunRefused. */
export async function sendUpdate<Ret, Arg>(client: Client, workflowId: string, update: UpdateDefinition<Ret, [Arg]>, arg: Arg): Promise<Ret> {
  try {
    return await client.workflow.getHandle(workflowId).executeUpdate(update, { args: [arg] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new RunRefused(RefusalCode.Refused, `refused: ${err.cause?.message ?? err.message}`);
    // Also what an Update to a run that has ended gets ("workflow execution already completed").
    if (err instanceof WorkflowNotFoundError) throw new RunRefused(RefusalCode.NoSuchRun, `no running workflow ${workflowId}: ${err.message}`);
    throw err;
  }
}
