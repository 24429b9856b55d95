/**
 * A fake of every activity, typed like the real ones, over one small simulated cluster: KRaft, combined nodes
 * 1-3 (node 3 leads the quorum) and broker 4, which holds no replica. Enough for every runbook to run to its
 * end, so a test can read what each runbook scheduled. Also run in a separate worker process
 * (test/support/fake-activity-worker.ts), so it imports no jest.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import { replicasOnBrokers } from '../../activities/cluster-reads';
import { createInputActivities } from '../../activities/inputs';
import { FakeBackupWorld } from './backup-fakes';
import { noApprovalActivities } from '../support/approvals';
import { FakeRestoreWorld } from './restore-fakes';
import { type ReassignmentPlanActivities, reassignmentPlanActivities } from '../../activities/reassignment-plan';
import { MemoryPlanStore } from '../support/plan-store';
import { withRollingPreflight } from '../support/rolling-preflight';
import { type ClusterMetadata } from '../../src/model/cluster';
import { type ReplicaMove } from '../../src/reassignment/types';
import { ClusterBuilder, expectedNode, hostObservation, quorum } from '../unit/health/builder';

const host = (id: number): string => `kafka-${id}.lab`;
const NODES = [1, 2, 3, 4];
const rolesOf = (id: number) => (id === 4 ? (['broker'] as const) : (['broker', 'controller'] as const));

export interface FakeWorldOptions {
  /** This activity heartbeats once, says so through `onStarted`, then never returns: its worker is to be killed. */
  hangIn?: keyof Activities;
  /** What waitForReassignment reports: `stuck` makes the runbook undo its batch. */
  reassignmentOutcome?: 'done' | 'stuck';
  /** This activity fails once, with a non-retryable failure of this type (e.g. a wait timing out). */
  failOnce?: { activity: keyof Activities; type: string };
  /** Called as each activity attempt starts. */
  onStarted?: (activity: keyof Activities, attempt: number) => void;
}

export class FakeWorld {
  metadata: ClusterMetadata = ClusterBuilder.kraft()
    .brokers(...NODES)
    .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(8, 3, [1, 2, 3]))
    .build();
  version = new Map(NODES.map((id) => [host(id), '3.9.2']));

  constructor(private readonly opts: FakeWorldOptions = {}) {}

  private apply(moves: ReplicaMove[]): void {
    for (const m of moves) {
      const p = this.metadata.topics.find((t) => t.name === m.topic)?.partitions.find((x) => x.partition === m.partition);
      if (!p) continue;
      p.replicas = [...m.to];
      p.isr = [...m.to];
      if (!m.to.includes(p.leader)) p.leader = m.to[0] ?? -1;
    }
  }

  /** Every activity, each reporting its start and hanging where asked. */
  activities(): Activities {
    const all = this.fakes();
    return Object.fromEntries(
      Object.entries(all).map(([name, fn]) => [
        name,
        async (...args: unknown[]) => {
          const attempt = Context.current().info.attempt;
          this.opts.onStarted?.(name as keyof Activities, attempt);
          const fail = this.opts.failOnce;
          if (fail?.activity === name) {
            this.opts.failOnce = undefined;
            throw ApplicationFailure.create({ type: fail.type, message: `${name} failed, as the test asked`, nonRetryable: true });
          }
          if (name === this.opts.hangIn) {
            Context.current().heartbeat('started');
            await new Promise<never>(() => undefined);
          }
          return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        },
      ]),
    ) as unknown as Activities;
  }

  private readonly store = new MemoryPlanStore();

  private fakes(): Activities {
    const all = this.fakeOps();
    const withPlans = {
      ...all,
      // The real plan activities over the fake reassignment ops and an in-memory plan store.
      ...reassignmentPlanActivities({ readMetadata: async () => structuredClone(this.metadata), store: this.store, ops: all }),
      findReplicasOnBrokers: async (_c: string, ids: number[]) => replicasOnBrokers(this.metadata, ids),
    };
    return withRollingPreflight(withPlans);
  }

  private fakeOps(): Omit<Activities, keyof ReassignmentPlanActivities | 'findReplicasOnBrokers' | 'planRollingRestartFor'> {
    const waited = { elapsedMs: 1 };
    const quorumNow = () => quorum(3).voters(1, 2, 3).build();
    const changed = { changed: true, changes: [], warnings: [] };
    return {
      describeInventory: async (cluster) => ({ cluster, mode: 'kraft' as const, expected: NODES.map((id) => expectedNode(id, [...rolesOf(id)])) }),
      readClusterMetadata: async () => structuredClone(this.metadata),
      readQuorumState: async () => quorumNow(),
      readBrokerConfig: async () => [1, 2, 3, 4].map((nodeId) => ({ nodeId, value: null })),
      observeQuorum: async () => ({ quorum: quorumNow(), observedAtMs: Date.now() }),
      inspectHosts: async () => NODES.map((id) => hostObservation(id, { roles: [...rolesOf(id)], kafkaVersion: this.version.get(host(id)) ?? null })),
      acquireClusterLock: async () => undefined,
      releaseClusterLock: async () => undefined,
      backupNodeConfig: async (_c, h) => ({ path: `/etc/kafka/server.properties.bak-${h}`, reused: false }),
      restoreNodeConfig: async () => ({ changed: true }),
      carryOverNodeConfig: async () => changed,
      bumpNodeProtocolVersion: async () => changed,
      readProtocolVersionPins: async () => [],
      stopNode: async () => ({ wasRunning: true, output: '' }),
      waitForProcessExit: async () => waited,
      waitForBrokerDeregistered: async () => waited,
      killNode: async () => ({ wasRunning: true, output: '' }),
      switchVersion: async (_c, h, v) => {
        const previous = this.version.get(h) ?? null;
        this.version.set(h, v);
        return { previousTarget: `kafka_2.13-${previous}`, previousVersion: previous, target: `kafka_2.13-${v}`, version: v, changed: true, unpacked: false };
      },
      checkTargetVersion: async (_c, h) => ({ host: h, ok: true, detail: 'installed' }),
      restoreVersionLink: async (_c, h, previous) => {
        this.version.set(h, previous.replace('kafka_2.13-', ''));
        return { previousTarget: null, previousVersion: null, target: previous, version: null, changed: true, unpacked: false };
      },
      startNode: async () => ({ alreadyRunning: false, output: '' }),
      waitForBrokerRegistered: async () => waited,
      waitForBrokerCaughtUp: async (_c, nodeId) => ({ ...waited, status: { nodeId, registered: true, caughtUp: true, partitionsChecked: 0, catchingUp: { count: 0, sample: [] } } as never }),
      waitForRestartAllowed: async () => ({ elapsedMs: 1, decision: { safe: true, reasons: [], ignored: [] }, quorumAgeMs: null }),
      waitForQuorumCaughtUp: async () => ({ ...waited, leaderId: 3, observation: { quorum: quorumNow(), observedAtMs: Date.now() } }),
      restorePreferredLeaders: async () => ({ host: host(1), elected: [], alreadyPreferred: [], failed: [] }),
      readNodeVersion: async (_c, h) => ({ linkTarget: `kafka_2.13-${this.version.get(h) ?? ''}`, linkVersion: this.version.get(h) ?? null, processRunning: true, runningVersion: this.version.get(h) ?? null, runningVersionFrom: 'process' as const }),
      readBrokerState: async () => ({ state: 'RUNNING', running: true, line: null }) as never,
      readThrottleConfigs: async (_c, topics, brokers) => [
        ...topics.map((t) => ({ entityType: 'topics' as const, entityName: t, configs: [] })),
        ...brokers.map((b) => ({ entityType: 'brokers' as const, entityName: String(b), configs: [] })),
      ],
      applyThrottles: async (_c, throttle) => ({ changed: throttle.alterations.map((a) => `${a.entityType}:${a.entityName}`), offline: [], after: [] }),
      removeThrottles: async () => ({ changed: [], offline: [], after: [] }),
      submitReassignment: async (_c, moves) => ({ submitted: moves.map((m) => ({ topic: m.topic, partition: m.partition })), alreadyInFlight: [], alreadyDone: [] }),
      waitForReassignment: async (_c, moves) => {
        const outcome = this.opts.reassignmentOutcome ?? 'done';
        if (outcome === 'done') this.apply(moves);
        const done = outcome === 'done';
        const progress = {
          atMs: 0,
          partitionsTotal: moves.length,
          partitionsDone: done ? moves.length : 0,
          partitionsRemaining: done ? 0 : moves.length,
          replicasToCopy: 0,
          replicasCopied: 0,
          bytesTotal: null,
          bytesCopied: null,
          etaMs: null,
          done,
          stuck: !done,
          pending: [],
        };
        return { outcome, progress, elapsedMs: 1, resumed: false, polls: 1 };
      },
      cancelReassignment: async (_c, partitions) => ({ cancelled: partitions, notInFlight: [], revertedDirectly: [], replicasAfter: [], latencyMs: 1 }),
      electPreferredLeaders: async (_c, partitions) => ({ elected: partitions, notNeeded: [] }),
      listThrottledEntities: async () => [],
      formatBrokerStorage: async () => ({ clusterId: 'fake-cluster', output: '' }),
      unregisterBroker: async () => ({ unregistered: true }),
      finalizeMetadataVersion: async () => ({ before: '3.9-IV0', after: '4.3-IV0' }),
      canaryRoundTrip: async () => ({ partition: 0, offset: '0', roundTripMs: 1 }),
      wipeBrokerData: async () => ({ wiped: ['/var/lib/kafka/data'] }),
      // The migration's own activities: this KRaft world is already past any migration.
      describeMigrationHosts: async (_c, controllers, port) => ({ brokers: NODES.map((id) => ({ host: host(id), nodeId: id })), controllers: controllers.map((c, i) => ({ host: String(c), nodeId: 1 + i, address: `10.0.0.${i + 1}`, port })), zookeeperConnect: null }),
      readMigrationConfigs: async () => ({ brokers: [], controllers: [] }),
      readMigrationPreflight: async () => ({ brokers: [], controllers: [], healthBlocking: [], reassignmentsInFlight: 0, assignedBrokerIds: [], scramUsers: [], delegationTokens: 0 }),
      snapshotMigrationMetadata: async () => ({ topics: { orders: 'x' }, acls: [], aclsUnavailable: null, topicCount: 1, aclCount: 0 }),
      writeMigrationControllerConfig: async () => changed,
      editMigrationConfig: async () => changed,
      retireMigrationControllerConfig: async () => ({ movedTo: null }),
      waitForControllerQuorum: async () => ({ leaderId: 3, elapsedMs: 1 }),
      waitForMetadataMigrated: async () => ({ zkMigrationState: 1, zkWriteBehindLag: 0, migratingZkBrokerCount: 0, logLine: 'Completed migration of metadata from ZooKeeper to KRaft.', elapsedMs: 1 }),
      waitForZkMigrationState: async (_c, _h, wanted) => ({ zkMigrationState: wanted, zkWriteBehindLag: 0, migratingZkBrokerCount: 0, elapsedMs: 1 }),
      // ZooKeeper, JMX and controller storage of the migration: this KRaft world has no ZooKeeper left.
      readMigrationZnodes: async () => {
        throw ApplicationFailure.create({ type: 'InvalidInput', message: 'no zookeeperConnect in this KRaft world', nonRetryable: true });
      },
      deleteMigrationZnodes: async () => ({ controller: 'absent' as const, migration: 'absent' as const, before: { controller: null, migration: null, controllerEpoch: 1 }, controllerEpochSetTo: null }),
      readMigrationGauges: async () => ({ zkMigrationState: 3, zkWriteBehindLag: null, migratingZkBrokerCount: 0, activeControllerCount: 1 }),
      formatControllerStorage: async (_c, h) => ({ host: h, dirs: ['/var/lib/kafka/data'], formatted: false, output: '' }),
      wipeControllerMetadata: async (_c, h) => ({ host: h, wiped: [] }),
      ...createInputActivities(),
      ...new FakeBackupWorld().activities(),
      ...noApprovalActivities(),
      ...new FakeRestoreWorld().activities(),
      describeDataDirs: async (_c, hosts) => hosts.map((host) => ({ host, dataDirs: ['/var/lib/kafka/data'] })),
    };
  }
}
