/**
 * Failure types the node activities raise when a wait runs out. They are retryable ApplicationFailures: a
 * retry re-runs the (idempotent) activity and waits again; a workflow that would rather ask a human lists
 * them in its retry policy's nonRetryableErrorTypes, or sets maximumAttempts, and catches them by type.
 * Workflow-safe, so the workflow can match on them. (Candidates for src/errors.ts's FailureType.)
 */
export const NodeWaitFailure = {
  /** The restart guards (min ISR, quorum) did not allow the batch in time: ask a human. */
  GuardWaitTimeout: 'RestartGuardTimeout',
  /** The process did not exit within the stop timeout: a forced kill needs a human. */
  StopTimeout: 'NodeStopTimeout',
  /** The broker is still in the metadata after its process exited. */
  DeregistrationTimeout: 'NodeDeregistrationTimeout',
  /** The started broker did not register (unfence) in time: log recovery, or it failed to start. */
  RegistrationTimeout: 'NodeRegistrationTimeout',
  /** The broker registered but is not back in every ISR in time. */
  CatchUpTimeout: 'NodeCatchUpTimeout',
  /** The controller is not a caught-up voter of the KRaft quorum in time. */
  QuorumCatchUpTimeout: 'QuorumCatchUpTimeout',
} as const;
export type NodeWaitFailure = (typeof NodeWaitFailure)[keyof typeof NodeWaitFailure];

/** Each node wait's timeout when the workflow passes none (ms); the runbook input's timeouts normally decide. Workflow-safe, so a workflow allows a wait the same time. */
export const DEFAULT_WAIT_MS = {
  processExit: 300_000,
  deregistration: 120_000,
  registration: 600_000,
  catchUp: 1_800_000,
  quorumCatchUp: 300_000,
  guard: 1_800_000,
} as const;
