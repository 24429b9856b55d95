/**
 * Fake activities for clusters at scale (hundreds of nodes, tens of thousands of partitions), typed like the
 * real ones; shared by the scale workflow tests and bench/scale.ts. Lookups are by map, so the fakes stay
 * fast at 40,000 partitions.
 */
import { Context } from '@temporalio/activity';
import type { Activities } from '../../activities';
import { reassignmentPlanActivities } from '../../activities/reassignment-plan';
import type { ClusterMetadata, PartitionState } from '../../src/model/cluster';
import type { EntityThrottleConfigs } from '../../src/reassignment-exec';
import type { ReplicaMove } from '../../src/reassignment/types';
import { ClusterBuilder, expectedNode, hostObservation, quorum } from '../unit/health/builder';
import { MemoryPlanStore } from './plan-store';
import { withRollingPreflight } from './rolling-preflight';

export type RollingFakes = Pick<
  Activities,
  | 'describeInventory'
  | 'planRollingRestartFor'
  | 'readClusterMetadata'
  | 'observeQuorum'
  | 'inspectHosts'
  | 'waitForRestartAllowed'
  | 'readNodeVersion'
  | 'backupNodeConfig'
  | 'stopNode'
  | 'waitForProcessExit'
  | 'waitForBrokerDeregistered'
  | 'startNode'
  | 'waitForBrokerRegistered'
  | 'waitForBrokerCaughtUp'
  | 'waitForQuorumCaughtUp'
  | 'restorePreferredLeaders'
  | 'acquireClusterLock'
  | 'releaseClusterLock'
>;

/**
 * A KRaft cluster of `nodes` nodes: three controllers and `nodes - 3` brokers, three partitions per broker.
 * Every node restarts at once and cleanly; `log` records each stop in order.
 */
export function rollingFakes(nodes: number, log: string[] = []): RollingFakes {
  const brokers = Array.from({ length: nodes - 3 }, (_, i) => i + 1);
  const controllers = [nodes - 2, nodes - 1, nodes];
  const metadata = ClusterBuilder.kraft()
    .brokers(...brokers)
    .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3 * brokers.length, 3, brokers))
    .quorum(quorum(nodes - 1).voters(...controllers))
    .build();
  const q = quorum(nodes - 1).voters(...controllers).build();
  const wait = { elapsedMs: 1 };
  const reads: Omit<RollingFakes, 'planRollingRestartFor'> = {
    describeInventory: async (cluster) => ({ cluster, mode: 'kraft' as const, expected: [...brokers.map((id) => expectedNode(id)), ...controllers.map((id) => expectedNode(id, ['controller']))] }),
    readClusterMetadata: async () => metadata,
    observeQuorum: async () => ({ quorum: q, observedAtMs: Date.now() }),
    inspectHosts: async () => [...brokers.map((id) => hostObservation(id)), ...controllers.map((id) => hostObservation(id, { roles: ['controller'], dataDirs: [] }))],
    waitForRestartAllowed: async () => ({ elapsedMs: 1, decision: { safe: true, reasons: [], ignored: [] }, quorumAgeMs: null }),
    readNodeVersion: async () => ({ linkTarget: null, linkVersion: '3.9.2', processRunning: true, runningVersion: '3.9.2', runningVersionFrom: 'process' as const }),
    backupNodeConfig: async (_c, h) => ({ path: `/etc/kafka/server.properties.bak-${h}`, reused: false }),
    stopNode: async (_c, h) => (log.push(`stop ${h}`), { wasRunning: true, output: '' }),
    waitForProcessExit: async () => wait,
    waitForBrokerDeregistered: async () => wait,
    startNode: async () => ({ alreadyRunning: false, output: '' }),
    waitForBrokerRegistered: async () => wait,
    waitForBrokerCaughtUp: async () => ({ ...wait, status: {} as never }),
    waitForQuorumCaughtUp: async () => ({ ...wait, leaderId: nodes - 1, observation: { quorum: q, observedAtMs: Date.now() } }),
    restorePreferredLeaders: async () => ({ host: 'x', elected: [], alreadyPreferred: [], failed: [] }),
    acquireClusterLock: async () => undefined,
    releaseClusterLock: async () => undefined,
  };
  return withRollingPreflight(reads);
}

export type ReassignFakes = Pick<
  Activities,
  | 'planReassignmentFor'
  | 'fingerprintReassignmentFor'
  | 'checkStoredPlan'
  | 'describeStoredBatch'
  | 'setBatchThrottles'
  | 'removeBatchThrottles'
  | 'submitReassignmentBatch'
  | 'waitForReassignmentBatch'
  | 'cancelReassignmentBatch'
  | 'verifyReassignmentPlan'
  | 'electLeadersOfPlan'
  | 'throttlesLeftOfPlan'
  | 'discardReassignmentPlan'
  | 'acquireClusterLock'
  | 'releaseClusterLock'
>;

/**
 * A cluster of `brokers` brokers with `partitions` partitions (RF 3) on all but the last `newBrokers`, which
 * are empty: adding them moves about partitions × newBrokers / brokers replicas. The real plan activities run
 * on it with an in-memory store; moves apply when their wait ends, and `hold` keeps waits open until released.
 */
export class ScaleCluster {
  readonly metadata: ClusterMetadata;
  readonly store = new MemoryPlanStore();
  readonly byKey = new Map<string, PartitionState>();
  readonly throttles = new Map<string, EntityThrottleConfigs>();
  readonly log: string[] = [];
  readonly newBrokers: number[];
  hold: { promise: Promise<void>; release: () => void } | null = null;

  constructor(brokers: number, newBrokers: number, partitions: number) {
    const old = Array.from({ length: brokers - newBrokers }, (_, i) => i + 1);
    this.newBrokers = Array.from({ length: newBrokers }, (_, i) => brokers - newBrokers + i + 1);
    this.metadata = ClusterBuilder.kraft()
      .brokers(...old, ...this.newBrokers)
      .topic('events', { minIsr: 2 }, (t) => t.partitionsRoundRobin(partitions, 3, old))
      .build();
    for (const t of this.metadata.topics) for (const p of t.partitions) this.byKey.set(`${t.name}/${p.partition}`, p);
  }

  holdWaits(): void {
    let release = () => undefined as void;
    const promise = new Promise<void>((r) => (release = r));
    this.hold = { promise, release };
  }

  private apply(moves: ReplicaMove[]): void {
    for (const m of moves) {
      const p = this.byKey.get(`${m.topic}/${m.partition}`);
      if (!p) continue;
      p.replicas = [...m.to];
      p.isr = [...m.to];
      if (!m.to.includes(p.leader)) p.leader = m.to[0] ?? -1;
    }
  }

  activities(): ReassignFakes {
    const ops: Parameters<typeof reassignmentPlanActivities>[0]['ops'] = {
      readThrottleConfigs: async (_c, topics, brokers) => [
        ...topics.map((t) => this.throttles.get(`topics:${t}`) ?? { entityType: 'topics' as const, entityName: t, configs: [] }),
        ...brokers.map((b) => this.throttles.get(`brokers:${b}`) ?? { entityType: 'brokers' as const, entityName: String(b), configs: [] }),
      ],
      applyThrottles: async (_c, throttle) => {
        for (const a of throttle.alterations) this.throttles.set(`${a.entityType}:${a.entityName}`, { entityType: a.entityType, entityName: a.entityName, configs: a.set.map((x) => ({ ...x })) });
        return { changed: throttle.alterations.map((a) => `${a.entityType}:${a.entityName}`), offline: [], after: [] };
      },
      removeThrottles: async (_c, restore) => {
        this.log.push('remove throttles');
        for (const a of restore.alterations) this.throttles.delete(`${a.entityType}:${a.entityName}`);
        return { changed: restore.alterations.map((a) => `${a.entityType}:${a.entityName}`), offline: [], after: [] };
      },
      submitReassignment: async (_c, moves) => (this.log.push(`submit ${moves.length}`), { submitted: moves, alreadyInFlight: [], alreadyDone: [] }),
      waitForReassignment: async (_c, moves) => {
        this.log.push('wait');
        if (this.hold) await Promise.race([this.hold.promise, Context.current().cancelled]);
        this.apply(moves);
        const pending = moves.map((m) => ({ topic: m.topic, partition: m.partition, state: 'done' })) as never[];
        const progress = { atMs: 0, partitionsTotal: moves.length, partitionsDone: moves.length, partitionsRemaining: 0, replicasToCopy: 0, replicasCopied: 0, bytesTotal: null, bytesCopied: null, etaMs: null, done: true, stuck: false, pending };
        return { outcome: 'done' as const, progress, elapsedMs: 1, resumed: false, polls: 1 };
      },
      cancelReassignment: async (_c, partitions) => (this.log.push(`cancel ${partitions.length}`), { cancelled: partitions, notInFlight: [], revertedDirectly: [], replicasAfter: [], latencyMs: 1 }),
      electPreferredLeaders: async (_c, partitions) => (this.log.push('elect'), { elected: partitions, notNeeded: [] }),
      listThrottledEntities: async () => [...this.throttles.values()].filter((e) => e.configs.length > 0),
    };
    return {
      ...reassignmentPlanActivities({ readMetadata: async () => structuredClone(this.metadata), store: this.store, ops }),
      acquireClusterLock: async () => undefined,
      releaseClusterLock: async () => undefined,
    };
  }
}
