/**
 * The cluster as the runbooks see it: one read of metadata, pure data, no I/O.
 * Activities build it (kafkajs + Kafka tools over SSH); health rules, restart guards and the reassignment
 * planner read it. Everything here must stay JSON-serialisable: it travels through Temporal history.
 */

export type NodeId = number;

export type NodeRole = 'broker' | 'controller' | 'zookeeper';

export type MetadataMode = 'kraft' | 'zookeeper';

/** A broker as the cluster metadata reports it (registered = present in Metadata responses). */
export interface BrokerInfo {
  id: NodeId;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionState {
  topic: string;
  partition: number;
  /** Leader broker id, or -1 when the partition has no leader (offline). */
  leader: NodeId;
  /** Assigned replicas in order; the first is the preferred leader. */
  replicas: NodeId[];
  isr: NodeId[];
  offlineReplicas: NodeId[];
}

export interface TopicState {
  name: string;
  internal: boolean;
  /** Effective min.insync.replicas (topic override, else broker default). */
  minInsyncReplicas: number;
  partitions: PartitionState[];
}

export interface ReassignmentInFlight {
  topic: string;
  partition: number;
  replicas: NodeId[];
  addingReplicas: NodeId[];
  removingReplicas: NodeId[];
}

/** KRaft quorum as `kafka-metadata-quorum.sh describe --status --replication` reports it. */
export interface QuorumVoterState {
  nodeId: NodeId;
  logEndOffset: number;
  /** Milliseconds since epoch, or null when the leader has never heard from the voter. */
  lastCaughtUpTimestamp: number | null;
  lastFetchTimestamp: number | null;
}

export interface QuorumState {
  leaderId: NodeId;
  leaderEpoch: number;
  highWatermark: number;
  voters: QuorumVoterState[];
  observers: QuorumVoterState[];
  /** Leader's clock when the state was read, to compare lastCaughtUpTimestamp against. */
  readAtMs: number;
}

/** A quorum state with the worker's clock when it was read, so a guard can tell whether it is still fresh. */
export interface QuorumObservation {
  quorum: QuorumState;
  observedAtMs: number;
}

export interface ClusterMetadata {
  clusterId: string | null;
  mode: MetadataMode;
  /** ZooKeeper mode: the controller broker. KRaft: the quorum leader when known (kafkajs reports a random broker). */
  controllerId: NodeId | null;
  brokers: BrokerInfo[];
  topics: TopicState[];
  reassignments: ReassignmentInFlight[];
  quorum: QuorumState | null;
}

/** What SSH sees on one host of the inventory. */
export interface HostObservation {
  host: string;
  nodeId: NodeId | null;
  roles: NodeRole[];
  reachable: boolean;
  /** Why the host could not be inspected, when reachable is false. */
  error: string | null;
  processRunning: boolean | null;
  /** Version from the install's `current` link, e.g. "3.9.2". */
  kafkaVersion: string | null;
  dataDirs: DataDirUsage[];
}

export interface DataDirUsage {
  path: string;
  usedBytes: number | null;
  /** Filesystem usage of the mount holding the dir, 0..100. */
  filesystemUsedPercent: number | null;
}

/** What the inventory says should exist (names only; no secrets, safe for history). */
export interface ExpectedNode {
  host: string;
  nodeId: NodeId | null;
  roles: NodeRole[];
  rack: string | null;
}
