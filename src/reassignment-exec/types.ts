import type { NodeId } from '../model/cluster';
import type { ReplicaMove } from '../reassignment';

/** One partition, by name. */
export interface PartitionRef {
  topic: string;
  partition: number;
}

/** A partition's current leader, as the metadata reports it. */
export interface PartitionLeader extends PartitionRef {
  leader: NodeId;
}

/** How much data movement may run at once. */
export interface BatchLimits {
  /**
   * Moves counted against one broker in a batch. A move counts against the partition's current leader (it
   * sends the data) and against every broker it adds a replica to (they receive it), as Cruise Control's
   * executor does; brokers whose replica is only removed are not counted. Cruise Control's default is 5.
   */
  maxMovesPerBroker: number;
  /** Moves in one batch, over the whole cluster. Cruise Control's default is 1250. */
  maxMovesPerCluster: number;
  /**
   * Split a move that adds several replicas into sequential steps that add one replica each (and remove one,
   * paired, when the move removes replicas), so each step copies the partition once.
   */
  oneNewReplicaAtATime: boolean;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxMovesPerBroker: 5, maxMovesPerCluster: 1250, oneNewReplicaAtATime: false };

/**
 * One `alterPartitionReassignments` target: a whole move, or one step of a move split to add one replica at a
 * time. `from`/`to`/`addingReplicas`/`removingReplicas`/`bytes` describe this step alone; the last step's `to`
 * is the move's `to`.
 */
export interface MoveStep extends ReplicaMove {
  /** 1-based position of this step in its partition's move, and how many steps the move has. */
  step: number;
  steps: number;
  /** The partition's leader while this step copies: the broker it is counted against as a source. */
  sourceLeader: NodeId;
}

export interface ReassignmentBatch {
  /** 0-based; batches run in order, each after the previous one completed. */
  index: number;
  /** At most one step per partition; sorted by topic then partition. */
  moves: MoveStep[];
  /** Moves counted against each broker (as source leader or destination), for brokers with at least one. */
  movesPerBroker: Record<NodeId, number>;
  /** Bytes this batch copies; null when the size of any of its moves is unknown. */
  bytes: number | null;
}

/** Throttle configuration names (Kafka docs, "Limiting Bandwidth Usage during Data Migration"). */
export const ThrottleConfigName = {
  /** Topic: `partition:broker` replicas whose leader side is throttled, or `*`. */
  LeaderReplicas: 'leader.replication.throttled.replicas',
  /** Topic: `partition:broker` replicas whose follower side is throttled, or `*`. */
  FollowerReplicas: 'follower.replication.throttled.replicas',
  /** Broker: bytes/s a leader sends to throttled followers. */
  LeaderRate: 'leader.replication.throttled.rate',
  /** Broker: bytes/s a throttled follower fetches. */
  FollowerRate: 'follower.replication.throttled.rate',
} as const;
export type ThrottleConfigName = (typeof ThrottleConfigName)[keyof typeof ThrottleConfigName];

export const TOPIC_THROTTLE_CONFIGS: readonly ThrottleConfigName[] = [ThrottleConfigName.LeaderReplicas, ThrottleConfigName.FollowerReplicas];
export const BROKER_THROTTLE_CONFIGS: readonly ThrottleConfigName[] = [ThrottleConfigName.LeaderRate, ThrottleConfigName.FollowerRate];

/** kafka-configs.sh `--entity-type` values. */
export type ConfigEntityType = 'topics' | 'brokers';

export interface ConfigEntry {
  name: string;
  value: string;
}

/**
 * The throttle configs set on one topic or broker itself (dynamic, at that entity; not defaults). A config
 * not listed is not set. `entityName` is the topic name or the broker id in decimal.
 */
export interface EntityThrottleConfigs {
  entityType: ConfigEntityType;
  entityName: string;
  configs: ConfigEntry[];
  /**
   * A broker that is not registered: its configs cannot be read (a broker describes its own), and it
   * replicates nothing, so batches leave it out of the rate list.
   */
  offline?: boolean;
}

/** Incremental changes to one entity's dynamic configs: `--add-config` for `set`, `--delete-config` for `delete`. */
export interface ConfigAlteration {
  entityType: ConfigEntityType;
  entityName: string;
  set: ConfigEntry[];
  delete: string[];
}

/** What to set for one batch. Built by `batchThrottle`; applied by the `applyThrottles` activity. */
export interface BatchThrottle {
  /** Bytes/s, set as both leader and follower rate on every broker in `brokers`. */
  rateBytesPerSec: number;
  /** Every current and new replica's broker of the throttled moves (sources and destinations), sorted. */
  brokers: NodeId[];
  /** Topics with throttled replicas, sorted. */
  topics: string[];
  /** Only `set` entries: topic replica lists merged with the originals, and broker rates. */
  alterations: ConfigAlteration[];
}

/** What to put back. Built by `throttleRestore`; applied by the `removeThrottles` activity. */
export interface ThrottleRestore {
  /** Original values to set again, and configs that were not set before to delete. */
  alterations: ConfigAlteration[];
}

/** One partition as observed while a reassignment runs: metadata plus `listPartitionReassignments`. */
export interface PartitionObservation extends PartitionRef {
  /** Leader, or -1 when the partition has none. */
  leader: NodeId;
  /** Assigned replicas; during a move, the target plus the replicas being removed. */
  replicas: NodeId[];
  isr: NodeId[];
  /** True when `listPartitionReassignments` lists the partition. */
  reassigning: boolean;
  addingReplicas: NodeId[];
  removingReplicas: NodeId[];
}

export interface ReassignmentSnapshot {
  /** When the observation was taken (ms since epoch). */
  atMs: number;
  /** Observed partitions; a partition of the moves missing here does not exist (any more). */
  partitions: PartitionObservation[];
}

export const PartitionMoveState = {
  /** Not listed as reassigning, the replica set equals the target and every target replica is in the ISR. */
  Done: 'done',
  /** Listed by `listPartitionReassignments`. */
  Copying: 'copying',
  /** Reassignment finished, but a target replica is out of the ISR (e.g. its broker restarted). */
  CatchingUp: 'catchingUp',
  /** Not reassigning, and the replica set is not the target: cancelled, or changed by someone else. */
  Diverged: 'diverged',
  /** The partition is not in the metadata. */
  Missing: 'missing',
} as const;
export type PartitionMoveState = (typeof PartitionMoveState)[keyof typeof PartitionMoveState];

export interface PartitionProgress extends PartitionRef {
  state: PartitionMoveState;
  target: NodeId[];
  /** Target replicas not yet in the ISR. */
  waitingFor: NodeId[];
}

export interface ReassignmentProgress {
  atMs: number;
  partitionsTotal: number;
  partitionsDone: number;
  partitionsRemaining: number;
  /** New replicas the moves create, and how many of them are in the ISR. */
  replicasToCopy: number;
  replicasCopied: number;
  /** Null unless every move's size is known. */
  bytesTotal: number | null;
  /** Bytes of new replicas in the ISR (plus partial copies when their sizes were observed). */
  bytesCopied: number | null;
  /** Estimated time to completion; null when sizes are unknown (or nothing to go on yet). */
  etaMs: number | null;
  /** Every partition is done. */
  done: boolean;
  /** Some partition is diverged or missing: waiting longer will not finish it. */
  stuck: boolean;
  /** Partitions not done, sorted by topic then partition (at most `maxPendingListed`). */
  pending: PartitionProgress[];
}

/** Verification of a finished reassignment against the plan's target. */
export interface AssignmentVerification {
  /** Every target partition exists and has exactly the target's replica set (order aside). */
  ok: boolean;
  partitionsChecked: number;
  /** Replica set differs from the target. */
  mismatched: { topic: string; partition: number; expected: NodeId[]; actual: NodeId[] }[];
  /** In the target, not in the cluster. */
  missing: PartitionRef[];
  /** Same replica set in another order: the preferred leader (first replica) may differ. Not a failure. */
  orderDiffers: { topic: string; partition: number; expected: NodeId[]; actual: NodeId[]; preferredLeaderDiffers: boolean }[];
  /** Actual leader is not the target's first replica (a preferred leader election is still due). Not a failure. */
  leaderNotPreferred: { topic: string; partition: number; preferred: NodeId; leader: NodeId }[];
}
