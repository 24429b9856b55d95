/**
 * Partition reassignment planner: pure, deterministic, workflow-safe (no I/O, no Node built-ins).
 * planReassignment(input) -> ReassignmentPlan; renderPlanSummary(plan) for the approval gate.
 */
export { planReassignment } from './planner';
export { PlanRefused, PlanRefusalReason } from './errors';
export { renderPlanSummary, describeGoal, formatBytes } from './summary';
export { reassignmentInputFromCluster } from './cluster-input';
export { GoalKind } from './types';
export type {
  AddBrokersGoal,
  BalanceLeadersGoal,
  BeforeAfter,
  ExplicitGoal,
  PartitionAssignment,
  PartitionPlacement,
  PartitionSize,
  PlannerBroker,
  PreferredLeaderChange,
  ReassignmentGoal,
  ReassignmentInput,
  ReassignmentPlan,
  ReassignmentStats,
  RemoveBrokersGoal,
  ReplicaMove,
  SetReplicationFactorGoal,
} from './types';
