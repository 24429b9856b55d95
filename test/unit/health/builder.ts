/**
 * A fluent builder of hand-made cluster states for unit tests (after Strimzi's KafkaAvailabilityTest KSB).
 *
 *   const metadata = ClusterBuilder.kraft()
 *     .brokers(1, 2, 3)
 *     .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]).partition([2, 3, 1], { isr: [2, 3] }))
 *     .stopBroker(3)
 *     .build();
 */
import type {
  BrokerInfo,
  ClusterMetadata,
  ExpectedNode,
  HostObservation,
  MetadataMode,
  NodeId,
  NodeRole,
  PartitionState,
  QuorumState,
  QuorumVoterState,
  ReassignmentInFlight,
  TopicState,
} from '../../../src/model/cluster';

export const hostName = (nodeId: NodeId): string => `kafka-${nodeId}.lab`;

export class TopicBuilder {
  private readonly partitions: PartitionState[] = [];

  constructor(private readonly name: string) {}

  /**
   * Adds the next partition. ISR defaults to all replicas; the leader to the first replica in the ISR,
   * or -1 with an empty ISR.
   */
  partition(replicas: NodeId[], opts: { isr?: NodeId[]; leader?: NodeId } = {}): this {
    const isr = opts.isr ?? [...replicas];
    const leader = opts.leader ?? replicas.find((r) => isr.includes(r)) ?? isr[0] ?? -1;
    this.partitions.push({ topic: this.name, partition: this.partitions.length, leader, replicas: [...replicas], isr: [...isr], offlineReplicas: [] });
    return this;
  }

  /** `count` partitions of replication factor `rf`, replicas placed round-robin over `brokers`. */
  partitionsRoundRobin(count: number, rf: number, brokers: NodeId[]): this {
    for (let i = 0; i < count; i++) {
      const replicas: NodeId[] = [];
      for (let r = 0; r < rf; r++) replicas.push(brokers[(i + r) % brokers.length]!);
      this.partition(replicas);
    }
    return this;
  }

  build(): PartitionState[] {
    return this.partitions;
  }
}

export class ClusterBuilder {
  private readonly brokerList: BrokerInfo[] = [];
  private readonly topics: TopicState[] = [];
  private readonly reassignments: ReassignmentInFlight[] = [];
  private readonly stopped = new Set<NodeId>();
  private quorumState: QuorumState | null = null;
  private controller: NodeId | null = null;

  private constructor(private readonly mode: MetadataMode) {}

  static kraft(): ClusterBuilder {
    return new ClusterBuilder('kraft');
  }

  static zookeeper(): ClusterBuilder {
    return new ClusterBuilder('zookeeper');
  }

  /** Registered brokers at `kafka-<id>.lab:9092`; rack `rack-<id mod 3>`. */
  brokers(...ids: NodeId[]): this {
    for (const id of ids) this.brokerList.push({ id, host: hostName(id), port: 9092, rack: `rack-${id % 3}` });
    return this;
  }

  topic(name: string, opts: { minIsr?: number; internal?: boolean }, build: (t: TopicBuilder) => TopicBuilder): this {
    const partitions = build(new TopicBuilder(name)).build();
    this.topics.push({ name, internal: opts.internal ?? false, minInsyncReplicas: opts.minIsr ?? 1, partitions });
    return this;
  }

  /**
   * A reassignment in flight: the partition's replica set becomes its current replicas plus `adding`
   * (as Kafka reports it mid-move); the adding replicas are not in the ISR yet.
   */
  reassigning(topic: string, partition: number, move: { adding?: NodeId[]; removing?: NodeId[] }): this {
    const p = this.topics.find((t) => t.name === topic)?.partitions[partition];
    if (!p) throw new Error(`no partition ${topic}-${partition} to reassign`);
    const adding = move.adding ?? [];
    p.replicas = [...p.replicas, ...adding.filter((a) => !p.replicas.includes(a))];
    this.reassignments.push({ topic, partition, replicas: [...p.replicas], addingReplicas: adding, removingReplicas: move.removing ?? [] });
    return this;
  }

  /**
   * The broker has stopped and the controller noticed (applied at build time, to every topic): it is no
   * longer registered, has left every ISR, its replicas are offline, and partitions it led moved to the
   * first remaining ISR member, or have no leader.
   */
  stopBroker(id: NodeId): this {
    this.stopped.add(id);
    return this;
  }

  quorum(q: QuorumState | QuorumBuilder): this {
    this.quorumState = q instanceof QuorumBuilder ? q.build() : q;
    return this;
  }

  /** ZooKeeper mode's controller broker, or what kafkajs reported in KRaft mode. */
  controllerId(id: NodeId | null): this {
    this.controller = id;
    return this;
  }

  build(): ClusterMetadata {
    const topics: TopicState[] = this.topics.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => {
        const isr = p.isr.filter((r) => !this.stopped.has(r));
        const leader = this.stopped.has(p.leader) ? (p.replicas.find((r) => isr.includes(r)) ?? -1) : p.leader;
        const offlineReplicas = [...p.offlineReplicas, ...p.replicas.filter((r) => this.stopped.has(r) && !p.offlineReplicas.includes(r))];
        return { ...p, replicas: [...p.replicas], isr, leader, offlineReplicas };
      }),
    }));
    const controllerId = this.controller ?? (this.mode === 'kraft' ? (this.quorumState?.leaderId ?? null) : null);
    return {
      clusterId: 'test-cluster-id',
      mode: this.mode,
      controllerId,
      brokers: this.brokerList.filter((b) => !this.stopped.has(b.id)).map((b) => ({ ...b })),
      topics,
      reassignments: this.reassignments.map((r) => ({ ...r })),
      quorum: this.quorumState,
    };
  }
}

export const READ_AT_MS = 1_700_000_000_000;
const LEADER_LEO = 10_000;

export class QuorumBuilder {
  private readonly voterStates: QuorumVoterState[] = [];

  constructor(
    private readonly leaderId: NodeId,
    private readonly readAtMs = READ_AT_MS,
  ) {}

  /**
   * A voter `behindMs` behind the leader's lastCaughtUpTimestamp (null: never caught up) and `lagOffsets`
   * behind its log end offset. The leader's own timestamp is `readAtMs`.
   */
  voter(nodeId: NodeId, lag: { behindMs?: number | null; lagOffsets?: number } = {}): this {
    const isLeader = nodeId === this.leaderId;
    const behindMs = isLeader ? 0 : lag.behindMs === undefined ? 100 : lag.behindMs;
    const lastCaughtUpTimestamp = behindMs === null ? null : this.readAtMs - behindMs;
    this.voterStates.push({
      nodeId,
      logEndOffset: LEADER_LEO - (isLeader ? 0 : (lag.lagOffsets ?? 0)),
      lastCaughtUpTimestamp,
      lastFetchTimestamp: lastCaughtUpTimestamp,
    });
    return this;
  }

  voters(...ids: NodeId[]): this {
    for (const id of ids) this.voter(id);
    return this;
  }

  build(): QuorumState {
    return { leaderId: this.leaderId, leaderEpoch: 7, highWatermark: LEADER_LEO, voters: [...this.voterStates], observers: [], readAtMs: this.readAtMs };
  }
}

export function quorum(leaderId: NodeId): QuorumBuilder {
  return new QuorumBuilder(leaderId);
}

/** The inventory entry of a node at `kafka-<id>.lab`. */
export function expectedNode(nodeId: NodeId, roles: NodeRole[] = ['broker']): ExpectedNode {
  return { host: hostName(nodeId), nodeId, roles, rack: `rack-${nodeId % 3}` };
}

/** What SSH sees on a healthy node's host; override what the test is about. */
export function hostObservation(nodeId: NodeId, overrides: Partial<HostObservation> = {}): HostObservation {
  return {
    host: hostName(nodeId),
    nodeId,
    roles: ['broker'],
    reachable: true,
    error: null,
    processRunning: true,
    kafkaVersion: '3.9.2',
    dataDirs: [{ path: '/var/lib/kafka/data', usedBytes: 10_000_000, filesystemUsedPercent: 40 }],
    ...overrides,
  };
}

/**
 * The usual test cluster, healthy: KRaft, brokers 1-3, controllers 3000-3002 (leader 3001), topic `orders`
 * (6 partitions, RF 3, minISR 2) and `__consumer_offsets` (3 partitions, RF 3, minISR 2).
 */
export function threeBrokerCluster(): ClusterBuilder {
  return ClusterBuilder.kraft()
    .brokers(1, 2, 3)
    .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(6, 3, [1, 2, 3]))
    .topic('__consumer_offsets', { minIsr: 2, internal: true }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
    .quorum(quorum(3001).voters(3000, 3001, 3002));
}

/** Inventory and host observations of {@link threeBrokerCluster}, every host healthy. */
export function threeBrokerInventory(): { expected: ExpectedNode[]; hosts: HostObservation[] } {
  const brokers = [1, 2, 3];
  const controllers = [3000, 3001, 3002];
  return {
    expected: [...brokers.map((id) => expectedNode(id)), ...controllers.map((id) => expectedNode(id, ['controller']))],
    hosts: [
      ...brokers.map((id) => hostObservation(id)),
      ...controllers.map((id) => hostObservation(id, { roles: ['controller'], dataDirs: [] })),
    ],
  };
}
