/** Why a goal was refused: the input is wrong, nothing was planned. Workflow-safe (no Node built-ins). */
export const PlanRefusalReason = {
  InvalidInput: 'invalidInput',
  UnknownBroker: 'unknownBroker',
  DuplicateBroker: 'duplicateBroker',
  BrokerAlreadyPresent: 'brokerAlreadyPresent',
  NoBrokersGiven: 'noBrokersGiven',
  RemovingAllBrokers: 'removingAllBrokers',
  TooFewBrokers: 'tooFewBrokers',
  ReplicationFactorTooSmall: 'replicationFactorTooSmall',
  ReplicationFactorTooLarge: 'replicationFactorTooLarge',
  UnknownTopic: 'unknownTopic',
  UnknownPartition: 'unknownPartition',
  DuplicatePartition: 'duplicatePartition',
  DuplicateReplica: 'duplicateReplica',
  EmptyReplicaList: 'emptyReplicaList',
} as const;
export type PlanRefusalReason = (typeof PlanRefusalReason)[keyof typeof PlanRefusalReason];

/**
 * The planner will not plan this goal. Not retryable: the same input gives the same refusal.
 * `field` points at the offending input, e.g. `goal.brokerIds` or `goal.partitions[2].replicas`.
 */
export class PlanRefused extends Error {
  override readonly name = 'PlanRefused';

  constructor(
    readonly reason: PlanRefusalReason,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
