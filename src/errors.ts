/**
 * Failures typed by what to do about them. Workflow-safe.
 * - retry: transient (a broker briefly unreachable); activities throw ordinary errors and Temporal retries.
 * - wait for a human: the runbook stops at a gate (see workflows/controls.ts), never here.
 * - stop: bad input or unsafe to proceed; non-retryable, the run ends and its undo steps run.
 */
import { ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  /** The input is wrong; nothing on the cluster was touched. */
  InvalidInput: 'InvalidInput',
  /** The inventory has no such cluster or host. */
  UnknownCluster: 'UnknownCluster',
  /** Proceeding could lose data or availability. */
  UnsafeToProceed: 'UnsafeToProceed',
  /** Another disruptive runbook holds the cluster. */
  ClusterBusy: 'ClusterBusy',
  /** A human rejected a gate, or it timed out under a reject policy. */
  GateRejected: 'GateRejected',
  /** A human aborted the run; undo steps ran. */
  Aborted: 'RunbookAborted',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export function invalidInput(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

export function unsafeToProceed(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.UnsafeToProceed, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

export function unknownCluster(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.UnknownCluster, message, nonRetryable: true });
}

export function clusterBusy(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.ClusterBusy, message, nonRetryable: true });
}

export function gateRejected(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.GateRejected, message, nonRetryable: true });
}

export function aborted(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.Aborted, message, nonRetryable: true });
}

/** Walks an error's cause chain for an ApplicationFailure of the given type. */
export function findFailure(err: unknown, type: FailureType): ApplicationFailure | null {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 10; depth++) {
    if (cur instanceof ApplicationFailure && cur.type === type) return cur;
    // The SDK may hand errors across the sandbox boundary, where instanceof fails: compare by shape too.
    const c = cur as { name?: string; type?: string; cause?: unknown };
    if (c.name === 'ApplicationFailure' && c.type === type) return cur as ApplicationFailure;
    cur = c.cause;
  }
  return null;
}
