/**
 * One module of names shared by workflows, activities, the worker and the CLI: task queue, messages,
 * search attributes and workflow IDs. Workflow-safe: no Node built-ins, no I/O.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { type Attestation, type GateKind } from './approvals/identity';

export const TASK_QUEUE = 'kafka-runbooks';

/**
 * Errors that mean a bug in workflow code: they fail the run (its undo steps run first when thrown in the
 * body) instead of retrying the workflow task forever. Non-determinism is left out on purpose: after a bad
 * deploy, rolling the workers back lets runs in flight continue.
 */
export const WORKFLOW_BUG_ERROR_TYPES: Record<string, string[]> = { '*': ['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError'] };

// ---- Search attributes (register them on the server: see src/lab/temporal.ts and the README) ----
export const SA_CLUSTER = defineSearchAttributeKey('KafkaCluster', SearchAttributeType.KEYWORD);
export const SA_RUNBOOK = defineSearchAttributeKey('Runbook', SearchAttributeType.KEYWORD);
export const SA_STATUS = defineSearchAttributeKey('RunbookStatus', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [SA_CLUSTER, SA_RUNBOOK, SA_STATUS] as const;

// ---- Runbook status, as shown in the UI and the CLI ----
export const RunbookStatus = {
  Running: 'Running',
  Paused: 'Paused',
  WaitingForApproval: 'WaitingForApproval',
  Aborting: 'Aborting',
  Completed: 'Completed',
  Failed: 'Failed',
  Aborted: 'Aborted',
} as const;
export type RunbookStatus = (typeof RunbookStatus)[keyof typeof RunbookStatus];

// ---- Human controls ----
/** An approver's answer at a gate. `approver` is who decided; it is recorded in history and the report. */
export interface GateAnswer {
  gate: string;
  approver: string;
  reason?: string;
  /** For gates that offer choices (e.g. retry / skip / abort): which one. */
  choice?: string;
  /** Set by the HTTP API: proof it authenticated the principal (src/approvals/attestation.ts). Absent: `approver` is unauthenticated. */
  attestation?: Attestation;
}
export interface GateDecision {
  gate: string;
  outcome: 'approved' | 'rejected';
  /** Who decided (`alice`, `alice via slack-bot`); "timeout-policy" when nobody answered in time. */
  approver: string;
  /** Whether the API vouched for the approver (an attestation the worker verified); absent on older runs. */
  authenticated?: boolean;
  reason: string | null;
  choice: string | null;
  at: string;
}
/** Who asked for a pause, resume or abort, and why. */
export interface ControlRequest {
  by: string;
  reason?: string;
  /** Set by the HTTP API (action pause, resume or abort): proof it authenticated `by`. Absent: recorded as unauthenticated. */
  attestation?: Attestation;
  /** On a request a parent passes to its child: the run the attestation was issued for (an ancestor of the child). */
  attestedFor?: string;
}
/** A pause, resume or abort as the run recorded it: who asked (`alice via slack-bot`), and whether the API vouched for them. */
export interface ControlRecord {
  action: 'pause' | 'resume' | 'abort';
  by: string;
  authenticated: boolean;
  reason: string | null;
  at: string;
}
export interface ControlAck {
  status: RunbookStatus;
  message: string;
}

export const approveUpdate = defineUpdate<GateDecision, [GateAnswer]>('approveGate');
export const rejectUpdate = defineUpdate<GateDecision, [GateAnswer]>('rejectGate');
export const pauseUpdate = defineUpdate<ControlAck, [ControlRequest]>('pauseRunbook');
export const resumeUpdate = defineUpdate<ControlAck, [ControlRequest]>('resumeRunbook');
export const abortUpdate = defineUpdate<ControlAck, [ControlRequest]>('abortRunbook');
// Signals carry the same requests for the Web UI's "Send a Signal"; invalid ones are recorded and ignored.
export const approveSignal = defineSignal<[GateAnswer]>('approve');
export const rejectSignal = defineSignal<[GateAnswer]>('reject');
export const pauseSignal = defineSignal<[ControlRequest]>('pause');
export const resumeSignal = defineSignal<[ControlRequest]>('resume');
export const abortSignal = defineSignal<[ControlRequest]>('abort');

/** What a child runbook tells its parent, so the parent's progress and details show the child's gates. */
export interface ChildState {
  workflowId: string;
  status: RunbookStatus;
  pendingGates: PendingGate[];
  /** Increases with every report: the parent keeps the newest it has seen. */
  seq: number;
}
export const childStateSignal = defineSignal<[ChildState]>('childState');

export interface StepRecord {
  name: string;
  state: 'running' | 'done' | 'failed' | 'undone' | 'undo-failed';
  startedAt: string;
  endedAt: string | null;
  error: string | null;
}
export interface PendingGate {
  name: string;
  prompt: string;
  since: string;
  /** ISO time when the timeout policy applies, or null to wait forever. */
  deadline: string | null;
  onTimeout: 'reject' | 'approve';
  /** What approving risks; decides who may answer (the cluster's approval policy). Absent on older runs: ordinary. */
  kind?: GateKind;
  /** Who may answer under the policy; null: anyone. */
  approvers: string[] | null;
  choices: string[] | null;
  /** The run that waits at this gate and takes the answer: this run, or its active child. */
  workflowId: string;
}
export interface RunbookProgress {
  runbook: string;
  cluster: string;
  status: RunbookStatus;
  currentStep: string | null;
  steps: StepRecord[];
  /** The oldest gate waiting for an answer (the first of pendingGates); kept for older callers. */
  pendingGate: PendingGate | null;
  /** Every gate waiting for an answer, this run's and its active child's: parallel nodes can open several at once. */
  pendingGates: PendingGate[];
  /** The child workflow this run is waiting for (a reassignment), which pause/resume/abort are forwarded to. */
  activeChild: string | null;
  /** Things that went wrong without changing the run's outcome (e.g. the cluster lock could not be released). */
  warnings: string[];
  gates: GateDecision[];
  paused: boolean;
  /** Who asked for the abort (`alice via slack-bot`, `bob (unauthenticated)`, `cancel-request`) and why. */
  abort: ControlRequest | null;
  /** Pause, resume and abort requests taken, oldest first, bounded; absent on older runs. */
  controlRequests?: ControlRecord[];
  /** The runbook's own one-line progress (e.g. "broker 2 of 3: waiting for ISR"). */
  detail: string | null;
  /** Most recent notes, newest last, bounded. */
  log: { at: string; message: string }[];
}
export const progressQuery = defineQuery<RunbookProgress>('progress');

// ---- The per-cluster lock: one disruptive runbook per cluster at a time ----
export interface LockHolder {
  workflowId: string;
  runbook: string;
  since: string;
}
export const acquireLockUpdate = defineUpdate<LockHolder, [LockHolder]>('acquire');
export const releaseLockUpdate = defineUpdate<boolean, [{ workflowId: string }]>('release');
export const lockHolderQuery = defineQuery<LockHolder | null>('holder');

// ---- Workflow IDs ----
export const clusterLockWorkflowId = (cluster: string): string => `cluster-lock/${cluster}`;
export const runbookWorkflowId = (runbook: string, cluster: string, stamp: string): string => `${runbook}/${cluster}/${stamp}`;
