/**
 * Executing a reassignment plan, the pure part: batches under concurrency limits, replication throttles
 * merged with what the cluster already has (and their undo), progress and ETA from snapshots, and the final
 * check against the target. Workflow-safe: no I/O, no clock, no Node built-ins. The side effects are the
 * activities in activities/reassignment.ts.
 */
export { batchAssignments, batchMoves, brokersCounted, leaderChangeBatches, splitMove } from './batching';
export { batchThrottle, mergeThrottledReplicas, parseThrottledReplicas, throttledBrokers, throttledReplicas, throttleRestore } from './throttle';
export { describeProgress, formatDuration, type ProgressOptions, reassignmentProgress } from './progress';
export { type ObservedAssignment, verifyAssignment } from './verify';
export { comparePartitions, partitionKey, partitionName, sameList, sameSet } from './partitions';
export {
  BROKER_THROTTLE_CONFIGS,
  DEFAULT_BATCH_LIMITS,
  PartitionMoveState,
  TOPIC_THROTTLE_CONFIGS,
  ThrottleConfigName,
} from './types';
export type {
  AssignmentVerification,
  BatchLimits,
  BatchThrottle,
  ConfigAlteration,
  ConfigEntityType,
  ConfigEntry,
  EntityThrottleConfigs,
  MoveStep,
  PartitionLeader,
  PartitionObservation,
  PartitionProgress,
  PartitionRef,
  ReassignmentBatch,
  ReassignmentProgress,
  ReassignmentSnapshot,
  ThrottleRestore,
} from './types';
