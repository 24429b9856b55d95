import type { NodeId } from '../model/cluster';

/** One partition's current placement, as the planner reads it. */
export interface PartitionPlacement {
  topic: string;
  partition: number;
  /** Assigned replicas in order; the first is the preferred leader. */
  replicas: NodeId[];
  /** In-sync replicas (order irrelevant). A replica outside the ISR is never made preferred leader. */
  isr: NodeId[];
  /** The partition's actual leader when known (-1 or absent: take the first replica). */
  leader?: NodeId;
}

/** A registered broker. Brokers that hold replicas but are missing here count as unregistered (offline). */
export interface PlannerBroker {
  id: NodeId;
  rack: string | null;
  /** Relative capacity: a broker of weight 2 is given twice the replicas and leaders of a broker of weight 1. Default 1. */
  capacityWeight?: number;
}

export interface PartitionSize {
  topic: string;
  partition: number;
  /** Size of one replica of the partition, in bytes. */
  bytes: number;
}

/** A replica list for one partition, the unit `alterPartitionReassignments` takes. */
export interface PartitionAssignment {
  topic: string;
  partition: number;
  replicas: NodeId[];
}

export const GoalKind = {
  AddBrokers: 'addBrokers',
  RemoveBrokers: 'removeBrokers',
  SetReplicationFactor: 'setReplicationFactor',
  BalanceLeaders: 'balanceLeaders',
  Explicit: 'explicit',
} as const;
export type GoalKind = (typeof GoalKind)[keyof typeof GoalKind];

/** Spread the replicas of the topics in scope evenly over all brokers, the new ones included. */
export interface AddBrokersGoal {
  kind: 'addBrokers';
  /** Brokers already registered and (nearly) empty. */
  brokerIds: NodeId[];
  /** Only these topics may move; balance is then computed over their replicas alone. Default: every topic. */
  topics?: string[];
}

/** Move every replica (of the topics in scope) off these brokers. */
export interface RemoveBrokersGoal {
  kind: 'removeBrokers';
  brokerIds: NodeId[];
  /** Only these topics may move: a staged drain. Replicas of other topics stay on the brokers. Default: every topic. */
  topics?: string[];
}

export interface SetReplicationFactorGoal {
  kind: 'setReplicationFactor';
  topic: string;
  replicationFactor: number;
}

/** Reorder replica lists so preferred leaders are spread evenly. Moves no data. */
export interface BalanceLeadersGoal {
  kind: 'balanceLeaders';
}

/** An operator-written partial assignment; partitions not named keep their replicas. */
export interface ExplicitGoal {
  kind: 'explicit';
  partitions: PartitionAssignment[];
}

export type ReassignmentGoal = AddBrokersGoal | RemoveBrokersGoal | SetReplicationFactorGoal | BalanceLeadersGoal | ExplicitGoal;

export interface ReassignmentInput {
  partitions: PartitionPlacement[];
  brokers: PlannerBroker[];
  /** Per-partition replica sizes; when absent, bytesMoved is null. */
  partitionSizes?: PartitionSize[];
  goal: ReassignmentGoal;
}

/**
 * Phase 1: one partition's data movement, submitted with `alterPartitionReassignments`.
 * `to` keeps the current leader first when it stays, so leadership does not move while new replicas copy.
 */
export interface ReplicaMove {
  topic: string;
  partition: number;
  from: NodeId[];
  to: NodeId[];
  /** Brokers that receive a copy of the partition (`to` minus `from`). */
  addingReplicas: NodeId[];
  /** Brokers whose replica is deleted once the move completes (`from` minus `to`). */
  removingReplicas: NodeId[];
  /** Bytes copied (size x adding replicas); null when the partition's size is unknown. */
  bytes: number | null;
}

/**
 * Phase 2: after every move is complete, reorder this partition's replicas (same set, no data moves),
 * then run a preferred leader election.
 */
export interface PreferredLeaderChange {
  topic: string;
  partition: number;
  from: NodeId[];
  to: NodeId[];
  leaderBefore: NodeId;
  leaderAfter: NodeId;
}

export interface BeforeAfter<T> {
  before: T;
  after: T;
}

export interface ReassignmentStats {
  partitions: number;
  /** Partitions with a data move. */
  partitionsMoved: number;
  /** New replica placements, i.e. partition copies. */
  replicasMoved: number;
  /** Replica placements deleted (equals replicasMoved except for replication factor changes). */
  replicasRemoved: number;
  /** Bytes copied when sizes of every moved partition are known, else null. */
  bytesMoved: number | null;
  /** Replica copies no plan for this goal can avoid; the definition per goal is in planReassignment's JSDoc. */
  lowerBound: number;
  /** replicasMoved / lowerBound; 1 when both are 0. */
  movesOverLowerBound: number;
  /** Partitions whose preferred leader (first replica) differs between the current and the target assignment. */
  preferredLeaderChanges: number;
  /** Replicas per broker, for every broker that is registered or holds replicas. */
  replicasPerBroker: BeforeAfter<Record<NodeId, number>>;
  /** Preferred leaders (first replica) per broker. */
  leadersPerBroker: BeforeAfter<Record<NodeId, number>>;
  /**
   * Partitions whose replicas span fewer than min(RF, number of racks) distinct racks. Racks counted over
   * registered brokers before, and over the brokers that remain after. Always 0 when no broker has a rack.
   */
  rackViolations: BeforeAfter<number>;
}

export interface ReassignmentPlan {
  goal: ReassignmentGoal;
  /** The complete assignment after both phases, sorted by topic then partition. */
  target: PartitionAssignment[];
  /** Phase 1, data movements; sorted by topic then partition. */
  moves: ReplicaMove[];
  /** Phase 2, reorders once phase 1 is complete; sorted by topic then partition. */
  leaderChanges: PreferredLeaderChange[];
  stats: ReassignmentStats;
  /** Things the operator should know: targets not reached, replicas left behind, unregistered brokers. */
  notes: string[];
}
