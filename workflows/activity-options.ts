import { type ActivityOptions } from '@temporalio/workflow';

/** Quick reads of the cluster: a broker or host briefly unreachable is retried, a few times only. */
export const READ_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: ['UnknownCluster', 'InvalidInput'] },
};

/** Lock calls are short; retry transient server errors, never a "cluster busy" answer. */
export const LOCK_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '5s', maximumAttempts: 10, nonRetryableErrorTypes: ['ClusterBusy'] },
};

/** Commands that change a host or the cluster: idempotent, so retried through brief SSH or broker trouble; typed refusals are final. */
export const CHANGE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidInput', 'UnsafeToProceed', 'UnknownCluster'] },
};
