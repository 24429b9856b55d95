import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ConfigResourceTypes, type ITopicConfig } from 'kafkajs';
import { createClusterReadActivities } from '../../activities/cluster-reads';
import { createClusterRegistry, kafkaClient } from '../../activities/clusters';
import { planDirOf } from '../../activities/plan-store';
import { type ReassignmentActivities, type WaitHeartbeat, type WaitResult, createReassignmentActivities } from '../../activities/reassignment';
import { createReassignmentPlanActivities } from '../../activities/reassignment-plan';
import { type HostShell, createHostShell } from '../../activities/ssh';
import { FailureType, findFailure } from '../../src/errors';
import { type Inventory } from '../../src/inventory/schema';
import { type ClusterMetadata } from '../../src/model/cluster';
import { type PartitionSize, type ReassignmentPlan, planReassignment, reassignmentInputFromCluster } from '../../src/reassignment';
import {
  type EntityThrottleConfigs,
  ThrottleConfigName,
  batchThrottle,
  throttleRestore,
  throttledBrokers,
  verifyAssignment,
} from '../../src/reassignment-exec';
import { inventoryHost, loadLabInventory, runHostCommand, useLab } from './support/lab';

// The executor's side effects on real brokers: throttles set and put back through kafka-configs.sh over SSH
// without disturbing other dynamic configs, a throttled move observed and cancelled back to the original
// replicas, then the same move unthrottled to completion, verified and followed by a leader election.

const TOPIC = 'ra-orders';
const PARTITIONS = 3;
const MESSAGES_PER_PARTITION = 400;
const MESSAGE_BYTES = 10_000; // ~4 MB per partition: long enough to watch a move at 10 kB/s
const SLOW_RATE = 10_000;
const quiet = { logger: new DefaultLogger('WARN') };

/** TOPIC with RF 1, filled with `messagesPerPartition` records of MESSAGE_BYTES in each partition (acks=all). */
async function createFilledTopic(inventory: Inventory, messagesPerPartition: number): Promise<void> {
  const kafka = kafkaClient(inventory);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic: ITopicConfig = { topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 };
    await admin.createTopics({ topics: [topic], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  try {
    const value = Buffer.alloc(MESSAGE_BYTES, 'x');
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (let i = 0; i < messagesPerPartition; i += 50) {
        await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: 50 }, (_, j) => ({ partition, key: `k${i + j}`, value })) });
      }
    }
  } finally {
    await producer.disconnect();
  }
}

describe('reassignment activities: 3-node KRaft lab, Kafka 4.3.1', () => {
  const lab = useLab({ name: 'ra-e2e', subnet: 41 });
  let inventory: Inventory;
  let shell: HostShell;
  let acts: ReassignmentActivities;
  let reads: ReturnType<typeof createClusterReadActivities>;
  let cluster: string;

  // Shared by the steps below, in order.
  let plan: ReassignmentPlan;
  let originals: EntityThrottleConfigs[];

  beforeAll(() => {
    inventory = loadLabInventory(lab());
    cluster = inventory.name;
    const clusters = createClusterRegistry(new Map([[cluster, inventory]]));
    shell = createHostShell();
    acts = createReassignmentActivities({ clusters, shell });
    reads = createClusterReadActivities({ clusters, shell });
  });
  afterAll(async () => {
    await shell?.close();
  });

  /** kafka-configs.sh as an operator would type it on kafka-1. */
  const kafkaConfigs = async (args: string): Promise<string> => {
    const r = await runHostCommand(inventoryHost(inventory, 'kafka-1'), 'tool', { tool: 'kafka-configs.sh' }, `--bootstrap-server ${inventory.bootstrapServers.join(',')} ${args}`);
    if (r.code !== 0) throw new Error(`kafka-configs.sh ${args}: ${r.stderr}`);
    return r.stdout;
  };

  /** Every dynamic config of a topic or broker, read with the read-only DescribeConfigs. */
  const dynamicConfigs = async (type: 'topic' | 'broker', name: string): Promise<Record<string, string>> => {
    const admin = kafkaClient(inventory).admin();
    await admin.connect();
    try {
      const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: type === 'topic' ? ConfigResourceTypes.TOPIC : ConfigResourceTypes.BROKER, name }] });
      const own = type === 'topic' ? 1 : 2;
      return Object.fromEntries((r.resources[0]?.configEntries ?? []).filter((e) => e.configSource === own).map((e) => [e.configName, e.configValue]));
    } finally {
      await admin.disconnect();
    }
  };

  /** Replica sizes from kafka-log-dirs.sh, so plans and progress carry bytes. */
  const partitionSizes = async (topic: string): Promise<PartitionSize[]> => {
    const r = await runHostCommand(inventoryHost(inventory, 'kafka-1'), 'tool', { tool: 'kafka-log-dirs.sh' }, `--bootstrap-server ${inventory.bootstrapServers.join(',')} --describe --topic-list ${topic}`);
    const json = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (r.code !== 0 || !json) throw new Error(`kafka-log-dirs.sh: ${r.stderr || r.stdout}`);
    const parsed = JSON.parse(json) as { brokers: { logDirs: { partitions: { partition: string; size: number; isFuture: boolean }[] }[] }[] };
    const sizes = new Map<number, number>();
    for (const b of parsed.brokers) {
      for (const d of b.logDirs) {
        for (const p of d.partitions) {
          const n = Number(p.partition.slice(p.partition.lastIndexOf('-') + 1));
          if (!p.isFuture) sizes.set(n, Math.max(sizes.get(n) ?? 0, p.size));
        }
      }
    }
    return [...sizes].map(([partition, bytes]) => ({ topic, partition, bytes }));
  };

  const replicasOf = (md: ClusterMetadata, topic: string) => md.topics.find((t) => t.name === topic)?.partitions.map((p) => p.replicas) ?? [];

  const planRf3 = async (): Promise<ReassignmentPlan> => {
    const metadata = await reads.readClusterMetadata(cluster);
    return planReassignment(reassignmentInputFromCluster(metadata, { kind: 'setReplicationFactor', topic: TOPIC, replicationFactor: 3 }, { partitionSizes: await partitionSizes(TOPIC) }));
  };

  test('setup: an RF 1 topic with ~4 MB per partition, and unrelated dynamic configs on the topic and a broker', async () => {
    await createFilledTopic(inventory, MESSAGES_PER_PARTITION);
    // An operator's settings that a throttle must never disturb (kafkajs alterConfigs would wipe them).
    await kafkaConfigs(`--entity-type topics --entity-name ${TOPIC} --alter --add-config retention.ms=86400000`);
    await kafkaConfigs('--entity-type brokers --entity-name 2 --alter --add-config log.cleaner.threads=2');
    expect(await dynamicConfigs('topic', TOPIC)).toEqual({ 'retention.ms': '86400000' });
    expect(await dynamicConfigs('broker', '2')).toEqual({ 'log.cleaner.threads': '2' });
    expect(await acts.listThrottledEntities(cluster)).toEqual([]);

    plan = await planRf3();
    expect(plan.moves).toHaveLength(PARTITIONS);
    expect(plan.stats.replicasMoved).toBe(2 * PARTITIONS);
    expect(plan.stats.bytesMoved).toBeGreaterThan(2 * PARTITIONS * MESSAGES_PER_PARTITION * MESSAGE_BYTES * 0.9);
  });

  test('throttled: applied and merged, submitted, seen in progress, refused to a stranger, cancelled back to the original replicas, throttles removed', async () => {
    originals = await acts.readThrottleConfigs(cluster, [TOPIC], throttledBrokers(plan.moves));
    expect(originals).toEqual([
      { entityType: 'topics', entityName: TOPIC, configs: [] },
      ...[1, 2, 3].map((b) => ({ entityType: 'brokers', entityName: String(b), configs: [] })),
    ]);
    const throttle = batchThrottle(plan.moves, originals, SLOW_RATE);
    const applied = await acts.applyThrottles(cluster, throttle);
    expect(applied.changed).toEqual([`topics:${TOPIC}`, 'brokers:1', 'brokers:2', 'brokers:3']);
    const leaderList = plan.moves.flatMap((m) => m.from.map((b) => `${m.partition}:${b}`)).join(',');
    // The list values went through kafka-configs.sh's [a,b] syntax intact, next to the operator's config.
    expect(await dynamicConfigs('topic', TOPIC)).toEqual({
      'retention.ms': '86400000',
      [ThrottleConfigName.LeaderReplicas]: leaderList,
      [ThrottleConfigName.FollowerReplicas]: expect.stringMatching(/^(\d+:\d+,){5}\d+:\d+$/),
    });
    expect(await dynamicConfigs('broker', '2')).toEqual({ 'log.cleaner.threads': '2', [ThrottleConfigName.LeaderRate]: '10000', [ThrottleConfigName.FollowerRate]: '10000' });
    expect((await acts.applyThrottles(cluster, throttle)).changed).toEqual([]); // idempotent

    const t0 = Date.now();
    const first = await acts.submitReassignment(cluster, plan.moves);
    expect(first.submitted).toHaveLength(PARTITIONS);
    // A retried submit finds its own reassignment in flight and succeeds without resubmitting.
    expect(await acts.submitReassignment(cluster, plan.moves)).toEqual({ submitted: [], alreadyInFlight: first.submitted, alreadyDone: [] });
    // Anyone else's reassignment is refused while this one runs.
    const stranger = [{ topic: '__consumer_offsets', partition: 0, from: [1], to: [2], addingReplicas: [2], removingReplicas: [1], bytes: null }];
    const refusal = await acts.submitReassignment(cluster, stranger).catch((e: unknown) => e);
    expect(findFailure(refusal, FailureType.ClusterBusy)?.message).toMatch(/another reassignment is in flight \(ra-orders-0, ra-orders-1, ra-orders-2\)/);

    // Watch it for a few seconds inside an activity context: heartbeats carry the progress.
    const beats: WaitHeartbeat[] = [];
    const env = new MockActivityEnvironment(undefined, quiet);
    env.on('heartbeat', (d: WaitHeartbeat) => beats.push(d));
    const watched: WaitResult = await env.run(() => acts.waitForReassignment(cluster, plan.moves, { timeoutMs: 3000, throttleRateBytesPerSec: SLOW_RATE }));
    expect(watched.outcome).toBe('timedOut');
    expect(watched.progress.done).toBe(false);
    expect(watched.progress.partitionsDone).toBe(0);
    expect(watched.progress.pending.map((p) => p.state)).toEqual(['copying', 'copying', 'copying']);
    expect(watched.progress.etaMs).toBeGreaterThan(60_000); // MBs at 10 kB/s
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats[beats.length - 1]?.summary).toMatch(/^0\/3 partitions done, \d\/6 new replicas in sync, .* copied, ETA /);

    // A worker restart: the next attempt resumes from the last heartbeat, keeping the first attempt's start and
    // so its deadline (6 s from that start, not from now), and submits nothing.
    const last = beats[beats.length - 1] as WaitHeartbeat;
    const resumedEnv = new MockActivityEnvironment({ heartbeatDetails: last }, quiet);
    const resumedAt = Date.now();
    const resumed: WaitResult = await resumedEnv.run(() => acts.waitForReassignment(cluster, plan.moves, { timeoutMs: 6000, throttleRateBytesPerSec: SLOW_RATE }));
    expect(resumed).toMatchObject({ outcome: 'timedOut', resumed: true });
    expect(resumed.polls).toBeGreaterThan(last.polls);
    expect(resumed.elapsedMs).toBeGreaterThanOrEqual(6000);
    expect(Date.now() - resumedAt).toBeLessThan(5000);

    // Cancelling the activity (the workflow was cancelled) stops the wait at the next poll.
    const cancelEnv = new MockActivityEnvironment(undefined, quiet);
    const waiting = cancelEnv.run(() => acts.waitForReassignment(cluster, plan.moves, { timeoutMs: 60_000 }));
    setTimeout(() => cancelEnv.cancel(), 1500);
    await expect(waiting).rejects.toMatchObject({ name: 'CancelledFailure' });
    const inProgressMs = Date.now() - t0;

    const cancelled = await acts.cancelReassignment(cluster, plan.moves);
    expect(cancelled.cancelled).toHaveLength(PARTITIONS);
    expect(cancelled.revertedDirectly).toEqual([]); // the 4.3.1 tool cancels adding-only moves itself
    expect(cancelled.replicasAfter.map((p) => p.replicas)).toEqual(plan.moves.map((m) => m.from));
    expect(replicasOf(await reads.readClusterMetadata(cluster), TOPIC)).toEqual(plan.moves.map((m) => m.from));
    expect((await reads.readClusterMetadata(cluster)).reassignments.length).toBe(0);
    // A wait on a cancelled move reports it stuck instead of waiting out its timeout.
    const stuck = await acts.waitForReassignment(cluster, plan.moves, { timeoutMs: 60_000, pollIntervalMs: 200 });
    expect(stuck.outcome).toBe('stuck');
    expect(stuck.progress.pending.map((p) => p.state)).toEqual(['diverged', 'diverged', 'diverged']);
    // Cancelling again is a no-op that succeeds.
    expect(await acts.cancelReassignment(cluster, plan.moves)).toMatchObject({ cancelled: [], notInFlight: plan.moves.map((m) => ({ topic: m.topic, partition: m.partition })) });
    // --preserve-throttles: the tool left our throttles for us to remove.
    expect((await acts.listThrottledEntities(cluster)).map((e) => `${e.entityType}:${e.entityName}`)).toEqual([`topics:${TOPIC}`, 'brokers:1', 'brokers:2', 'brokers:3']);

    const restore = throttleRestore(originals, [throttle]);
    const removed = await acts.removeThrottles(cluster, restore);
    expect(removed.changed).toEqual([`topics:${TOPIC}`, 'brokers:1', 'brokers:2', 'brokers:3']);
    expect(await acts.listThrottledEntities(cluster)).toEqual([]);
    expect((await acts.removeThrottles(cluster, restore)).changed).toEqual([]); // already removed: still succeeds
    expect(await dynamicConfigs('topic', TOPIC)).toEqual({ 'retention.ms': '86400000' });
    expect(await dynamicConfigs('broker', '2')).toEqual({ 'log.cleaner.threads': '2' });
    console.log(`throttled run: in progress for ${inProgressMs} ms, cancel latency ${cancelled.latencyMs} ms (kafka-reassign-partitions.sh JVM start included)`);
  });

  test('unthrottled: the same plan runs to completion, matches the target, and leaders are elected', async () => {
    expect(await acts.listThrottledEntities(cluster)).toEqual([]); // else this run would be throttled
    plan = await planRf3();
    const t0 = Date.now();
    expect((await acts.submitReassignment(cluster, plan.moves)).submitted).toHaveLength(PARTITIONS);
    const done = await acts.waitForReassignment(cluster, plan.moves, { timeoutMs: 180_000, pollIntervalMs: 500 });
    const submitToDoneMs = Date.now() - t0;
    expect(done.outcome).toBe('done');
    expect(done.progress).toMatchObject({ partitionsDone: PARTITIONS, replicasCopied: 2 * PARTITIONS, done: true, etaMs: 0 });
    expect(done.progress.bytesCopied).toBe(done.progress.bytesTotal);

    // Retried after success: nothing is submitted again.
    expect((await acts.submitReassignment(cluster, plan.moves)).alreadyDone).toHaveLength(PARTITIONS);

    const metadata = await reads.readClusterMetadata(cluster);
    const partitions = metadata.topics.find((t) => t.name === TOPIC)?.partitions ?? [];
    const verification = verifyAssignment(
      plan.target.filter((t) => t.topic === TOPIC),
      partitions.map((p) => ({ topic: TOPIC, partition: p.partition, replicas: p.replicas, leader: p.leader })),
    );
    expect(verification).toMatchObject({ ok: true, mismatched: [], missing: [] });
    for (const p of partitions) expect([...p.isr].sort()).toEqual([1, 2, 3]);

    const election = await acts.electPreferredLeaders(cluster, plan.moves);
    // RF increases keep the leader first: nothing to elect, which counts as success.
    expect([...election.elected, ...election.notNeeded]).toHaveLength(PARTITIONS);
    const after = (await reads.readClusterMetadata(cluster)).topics.find((t) => t.name === TOPIC)?.partitions ?? [];
    for (const p of after) expect(p.leader).toBe(p.replicas[0]);
    console.log(`unthrottled run: submit -> done ${submitToDoneMs} ms for ${done.progress.bytesTotal} bytes, ${done.polls} polls`);
  });

  test('a leader change is elected: reorder the replicas, then kafka-leader-election.sh moves leadership', async () => {
    const before = (await reads.readClusterMetadata(cluster)).topics.find((t) => t.name === TOPIC)?.partitions[0];
    if (!before) throw new Error('no partition 0');
    const reordered = [...before.replicas.slice(1), before.replicas[0] as number];
    const move = { topic: TOPIC, partition: 0, from: before.replicas, to: reordered, addingReplicas: [], removingReplicas: [], bytes: 0 };
    expect((await acts.submitReassignment(cluster, [move])).submitted).toHaveLength(1);
    expect((await acts.waitForReassignment(cluster, [move], { timeoutMs: 30_000 })).outcome).toBe('done');
    const election = await acts.electPreferredLeaders(cluster, [{ topic: TOPIC, partition: 0 }]);
    expect(election).toEqual({ elected: [{ topic: TOPIC, partition: 0 }], notNeeded: [] });
    const after = (await reads.readClusterMetadata(cluster)).topics.find((t) => t.name === TOPIC)?.partitions[0];
    expect(after?.leader).toBe(reordered[0]);
    expect(await acts.electPreferredLeaders(cluster, [{ topic: TOPIC, partition: 0 }])).toEqual({ elected: [], notNeeded: [{ topic: TOPIC, partition: 0 }] });
    const missing = await acts.electPreferredLeaders(cluster, [{ topic: TOPIC, partition: 99 }]).catch((e: unknown) => e);
    expect(findFailure(missing, FailureType.InvalidInput)?.message).toMatch(/ra-orders-99: .*UnknownTopicOrPartition/);
  });

  test("pre-existing throttles are merged ('*' kept, lists extended) and put back exactly; the cluster default is reported", async () => {
    const topic = 'ra-audit';
    const admin = kafkaClient(inventory).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    // Someone else's throttles: a follower wildcard and a leader list on the topic, a rate on broker 1.
    await kafkaConfigs(`--entity-type topics --entity-name ${topic} --alter --add-config 'follower.replication.throttled.replicas=*,leader.replication.throttled.replicas=[7:1,8:2]'`);
    await kafkaConfigs('--entity-type brokers --entity-name 1 --alter --add-config leader.replication.throttled.rate=99000000');
    const md = await reads.readClusterMetadata(cluster);
    const moves = planReassignment(reassignmentInputFromCluster(md, { kind: 'setReplicationFactor', topic, replicationFactor: 2 })).moves;
    const saved = await acts.readThrottleConfigs(cluster, [topic], throttledBrokers(moves));
    expect(saved.find((e) => e.entityName === topic)?.configs).toEqual([
      { name: ThrottleConfigName.FollowerReplicas, value: '*' },
      { name: ThrottleConfigName.LeaderReplicas, value: '7:1,8:2' },
    ]);
    const throttle = batchThrottle(moves, saved, 5_000_000);
    await acts.applyThrottles(cluster, throttle);
    const during = await dynamicConfigs('topic', topic);
    expect(during[ThrottleConfigName.FollowerReplicas]).toBe('*');
    expect(during[ThrottleConfigName.LeaderReplicas]).toBe(['7:1', '8:2', ...moves.flatMap((m) => m.from.map((b) => `${m.partition}:${b}`))].join(','));
    expect((await dynamicConfigs('broker', '1'))[ThrottleConfigName.LeaderRate]).toBe('5000000');

    await acts.removeThrottles(cluster, throttleRestore(saved, [throttle]));
    expect(await acts.readThrottleConfigs(cluster, [topic], throttledBrokers(moves))).toEqual(saved);

    // The cluster-wide broker default counts as a throttle left behind too.
    await kafkaConfigs('--entity-type brokers --entity-default --alter --add-config follower.replication.throttled.rate=1234');
    const left = await acts.listThrottledEntities(cluster);
    expect(left.map((e) => `${e.entityType}:${e.entityName}`)).toEqual([`topics:${topic}`, 'brokers:1', 'brokers:']);
    expect(left.find((e) => e.entityName === '')?.configs).toEqual([{ name: ThrottleConfigName.FollowerRate, value: '1234' }]);

    // Clean up what "someone else" set, through the same activity; then nothing is throttled anywhere.
    await acts.removeThrottles(cluster, {
      alterations: [
        { entityType: 'topics', entityName: topic, set: [], delete: [ThrottleConfigName.LeaderReplicas, ThrottleConfigName.FollowerReplicas] },
        { entityType: 'brokers', entityName: '1', set: [], delete: [ThrottleConfigName.LeaderRate] },
        { entityType: 'brokers', entityName: '', set: [], delete: [ThrottleConfigName.FollowerRate] },
      ],
    });
    expect(await acts.listThrottledEntities(cluster)).toEqual([]);
  });

  test('the plan store: stored on three hosts and read back, loaded by reference, a changed copy skipped, changed everywhere refused (UnsafeToProceed), discarded', async () => {
    const planning = createReassignmentPlanActivities({ clusters: createClusterRegistry(new Map([[cluster, inventory]])), shell });
    const current = (await reads.readClusterMetadata(cluster)).topics.find((t) => t.name === TOPIC)?.partitions[0]?.replicas ?? [];
    // Partition 0 one replica smaller (or on another broker): a move that copies nothing.
    const replicas = current.length > 1 ? current.slice(0, current.length - 1) : [current[0] === 1 ? 2 : 1];
    const summary = await planning.planReassignmentFor(cluster, { kind: 'explicit', partitions: [{ topic: TOPIC, partition: 0, replicas }] });
    expect(summary).toMatchObject({ moves: 1, batches: 1 });
    expect(summary.ref.hosts).toEqual(['kafka-1', 'kafka-2', 'kafka-3']);
    expect(await planning.checkStoredPlan(cluster, summary.ref)).toEqual({ hosts: ['kafka-1', 'kafka-2', 'kafka-3'], lines: 2 });
    const batch = { kind: 'moves' as const, index: 0 };
    expect(await planning.describeStoredBatch(cluster, summary.ref, batch)).toMatchObject({ partitions: 1 });
    const fileOn = (name: string) => `${planDirOf(inventoryHost(inventory, name))}/${cluster}-${summary.ref.id}.jsonl`;
    const sh = async (name: string, command: string) => (await shell.exec(inventoryHost(inventory, name), command, { timeoutMs: 15_000 })).stdout.trim();
    // A copy changed on one host: the next host serves the batch.
    await sh('kafka-1', `sed -i '2s/"partition":0/"partition":1/' ${fileOn('kafka-1')}`);
    expect(await planning.describeStoredBatch(cluster, summary.ref, batch)).toMatchObject({ partitions: 1 });
    // Changed on every host: the run must stop, not move something else.
    for (const h of ['kafka-2', 'kafka-3']) await sh(h, `sed -i '2s/"partition":0/"partition":1/' ${fileOn(h)}`);
    const refused = await planning.describeStoredBatch(cluster, summary.ref, batch).catch((e: unknown) => e);
    expect(findFailure(refused, FailureType.UnsafeToProceed)?.message).toMatch(/is missing or does not match on every host that held it \(kafka-1: line 1 does not match/);
    await planning.discardReassignmentPlan(cluster, summary.ref);
    for (const h of ['kafka-1', 'kafka-2', 'kafka-3']) expect(await sh(h, `ls ${planDirOf(inventoryHost(inventory, h))}`)).toBe('');
    const gone = await planning.describeStoredBatch(cluster, summary.ref, batch).catch((e: unknown) => e);
    expect(findFailure(gone, FailureType.UnsafeToProceed)?.message).toContain('kafka-1: missing; kafka-2: missing; kafka-3: missing');
  });
});

// Clusters before their KRaft migration run 3.9 tools, which differ: kafka-configs.sh --delete-config fails
// on a config that is not set, and kafka-reassign-partitions.sh --cancel silently skips partitions that only
// add replicas (fixed in 4.1 by apache/kafka#20003).
describe('reassignment activities: ZooKeeper mode, Kafka 3.9.2', () => {
  const lab = useLab({ name: 'ra-e2e-zk', mode: 'zookeeper', subnet: 42 });
  let inventory: Inventory;
  let shell: HostShell;
  let acts: ReassignmentActivities;
  let reads: ReturnType<typeof createClusterReadActivities>;

  beforeAll(() => {
    inventory = loadLabInventory(lab());
    const clusters = createClusterRegistry(new Map([[inventory.name, inventory]]));
    shell = createHostShell();
    acts = createReassignmentActivities({ clusters, shell });
    reads = createClusterReadActivities({ clusters, shell });
  });
  afterAll(async () => {
    await shell?.close();
  });

  test('throttled move cancelled (the 3.9 tool skips it: reverted to the original replicas), throttles removed twice, then run to completion', async () => {
    const cluster = inventory.name;
    await createFilledTopic(inventory, 300);
    const r = await runHostCommand(inventoryHost(inventory, 'kafka-1'), 'tool', { tool: 'kafka-configs.sh' }, `--bootstrap-server ${inventory.bootstrapServers.join(',')} --entity-type topics --entity-name ${TOPIC} --alter --add-config retention.ms=86400000`);
    expect(r.code).toBe(0);

    const plan = planReassignment(reassignmentInputFromCluster(await reads.readClusterMetadata(cluster), { kind: 'setReplicationFactor', topic: TOPIC, replicationFactor: 3 }));
    const saved = await acts.readThrottleConfigs(cluster, [TOPIC], throttledBrokers(plan.moves));
    const throttle = batchThrottle(plan.moves, saved, SLOW_RATE);
    await acts.applyThrottles(cluster, throttle);
    expect((await acts.submitReassignment(cluster, plan.moves)).submitted).toHaveLength(PARTITIONS);
    const watched = await acts.waitForReassignment(cluster, plan.moves, { timeoutMs: 1500, throttleRateBytesPerSec: SLOW_RATE });
    expect(watched.outcome).toBe('timedOut');

    const cancelled = await acts.cancelReassignment(cluster, plan.moves);
    expect(cancelled.cancelled).toHaveLength(PARTITIONS);
    expect(cancelled.revertedDirectly).toEqual(cancelled.cancelled);
    expect(cancelled.replicasAfter.map((p) => p.replicas)).toEqual(plan.moves.map((m) => m.from));

    const restore = throttleRestore(saved, [throttle]);
    expect((await acts.removeThrottles(cluster, restore)).changed).toHaveLength(4);
    expect((await acts.removeThrottles(cluster, restore)).changed).toEqual([]); // no --delete-config of what is gone
    expect(await acts.listThrottledEntities(cluster)).toEqual([]);

    expect((await acts.submitReassignment(cluster, plan.moves)).submitted).toHaveLength(PARTITIONS);
    expect((await acts.waitForReassignment(cluster, plan.moves, { timeoutMs: 120_000, pollIntervalMs: 500 })).outcome).toBe('done');
    const md = await reads.readClusterMetadata(cluster);
    const partitions = md.topics.find((t) => t.name === TOPIC)?.partitions ?? [];
    expect(verifyAssignment(plan.target, md.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, replicas: p.replicas })))).ok).toBe(true);
    expect(partitions.every((p) => p.isr.length === 3)).toBe(true);
    const election = await acts.electPreferredLeaders(cluster, plan.moves);
    expect([...election.elected, ...election.notNeeded]).toHaveLength(PARTITIONS);
  });
});
