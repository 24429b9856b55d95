import { type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { replicasOnBrokers } from '../../activities/cluster-reads';
import { planFromMetadata, type ReassignmentPlanActivities, reassignmentPlanActivities } from '../../activities/reassignment-plan';
import { abortUpdate, approveUpdate, pauseUpdate, progressQuery, resumeUpdate } from '../../src/names';
import { type ClusterMetadata } from '../../src/model/cluster';
import { brokersCounted, type EntityThrottleConfigs, type MoveStep } from '../../src/reassignment-exec';
import { type ReplicaMove } from '../../src/reassignment/types';
import { reassignmentPlanQuery, type ReassignPartitionsResult } from '../../workflows/reassign-partitions';
import { MemoryPlanStore } from '../support/plan-store';
import { saveHistory } from '../support/histories';
import { delegatingActivities, eventually, runFailure, startWorkflowTestBed, testWorkflowBundle, waitingAtGate, type WorkflowTestBed, withInputValidation } from '../support/temporal';
import { ClusterBuilder } from '../unit/health/builder';

type Fakes = Pick<
  Activities,
  | keyof ReassignmentPlanActivities
  | 'findReplicasOnBrokers'
  | 'readThrottleConfigs'
  | 'applyThrottles'
  | 'removeThrottles'
  | 'submitReassignment'
  | 'waitForReassignment'
  | 'cancelReassignment'
  | 'electPreferredLeaders'
  | 'listThrottledEntities'
  | 'acquireClusterLock'
  | 'releaseClusterLock'
  | 'describeInventory'
  | 'readClusterMetadata'
  | 'formatBrokerStorage'
  | 'startNode'
  | 'waitForBrokerRegistered'
  | 'stopNode'
  | 'waitForProcessExit'
  | 'waitForBrokerDeregistered'
  | 'unregisterBroker'
  | 'describeDataDirs'
  | 'wipeBrokerData'
>;

const TASK_QUEUE = 'reassign-test';

/** A simulated cluster: metadata the planner reads, moves applied when their wait ends, throttle configs by entity. */
class FakeCluster {
  metadata: ClusterMetadata;
  throttles = new Map<string, EntityThrottleConfigs>();
  log: string[] = [];
  submitted: ReplicaMove[][] = [];
  /** When set, waits block until released (or cancelled). */
  hold: { release: () => void; promise: Promise<void> } | null = null;
  failSubmitOnBatch: number | null = null;
  /** The plans on the "hosts": shared by every worker, as the files on the cluster's hosts are. */
  store = new MemoryPlanStore();
  /** Node ids whose hosts the inventory lists as KRaft controllers too (combined nodes). */
  controllers: number[] = [];

  constructor() {
    this.metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(8, 3, [1, 2, 3]))
      .build();
    // An operator's own throttle on the topic, which the run must keep and restore.
    this.throttles.set('topics:orders', { entityType: 'topics', entityName: 'orders', configs: [{ name: 'leader.replication.throttled.replicas', value: '0:1' }] });
  }

  holdWaits() {
    let release = () => undefined as void;
    const promise = new Promise<void>((r) => (release = r));
    this.hold = { release, promise };
  }

  apply(moves: ReplicaMove[]) {
    for (const m of moves) {
      const p = this.metadata.topics.find((t) => t.name === m.topic)?.partitions.find((x) => x.partition === m.partition);
      if (p) {
        p.replicas = [...m.to];
        p.isr = [...m.to];
        if (!m.to.includes(p.leader)) p.leader = m.to[0] ?? -1;
      }
    }
  }

  activities(): Fakes {
    const ops = this.reassignmentOps();
    return {
      // The real plan activities, on this simulated cluster and an in-memory store.
      ...reassignmentPlanActivities({ readMetadata: async () => structuredClone(this.metadata), store: this.store, ops }),
      ...ops,
      findReplicasOnBrokers: async (_c, ids) => replicasOnBrokers(this.metadata, ids),
      acquireClusterLock: async () => undefined,
      releaseClusterLock: async () => undefined,
      describeInventory: async (cluster) => ({
        cluster,
        mode: 'kraft' as const,
        expected: [1, 2, 3, 4].map((id) => ({ host: `kafka-${id}`, nodeId: id, roles: this.controllers.includes(id) ? ['broker' as const, 'controller' as const] : ['broker' as const], rack: null })),
      }),
      readClusterMetadata: async () => structuredClone(this.metadata),
      formatBrokerStorage: async (_c, host) => (this.log.push(`format ${host}`), { clusterId: 'x', output: '' }),
      startNode: async (_c, host) => (this.log.push(`start ${host}`), { alreadyRunning: false, output: '' }),
      waitForBrokerRegistered: async (_c, id) => (this.log.push(`registered ${id}`), { elapsedMs: 1 }),
      stopNode: async (_c, host) => (this.log.push(`stop ${host}`), { wasRunning: true, output: '' }),
      waitForProcessExit: async (_c, host) => (this.log.push(`exited ${host}`), { elapsedMs: 1 }),
      waitForBrokerDeregistered: async (_c, id) => (this.log.push(`deregistered ${id}`), { elapsedMs: 1 }),
      unregisterBroker: async (_c, id) => (this.log.push(`unregister ${id}`), { unregistered: true }),
      describeDataDirs: async (_c, hosts) => hosts.map((host) => ({ host, dataDirs: [`/srv/${host}/data-a`, `/srv/${host}/data-b`] })),
      wipeBrokerData: async (_c, host) => (this.log.push(`wipe ${host}`), { wiped: [`/srv/${host}/data-a`, `/srv/${host}/data-b`] }),
    };
  }

  /** The reassignment side effects, on the simulated cluster. */
  reassignmentOps(): Pick<
    Activities,
    'readThrottleConfigs' | 'applyThrottles' | 'removeThrottles' | 'submitReassignment' | 'waitForReassignment' | 'cancelReassignment' | 'electPreferredLeaders' | 'listThrottledEntities'
  > {
    return {
      readThrottleConfigs: async (_c, topics, brokers) => [
        ...topics.map((t) => structuredClone(this.throttles.get(`topics:${t}`)) ?? { entityType: 'topics' as const, entityName: t, configs: [] }),
        ...brokers.map((b) => structuredClone(this.throttles.get(`brokers:${b}`)) ?? { entityType: 'brokers' as const, entityName: String(b), configs: [] }),
      ],
      applyThrottles: async (_c, throttle) => {
        this.log.push(`throttle ${throttle.topics.join(',')} on ${throttle.brokers.join(',')}`);
        for (const a of throttle.alterations) {
          const k = `${a.entityType}:${a.entityName}`;
          const configs = new Map((this.throttles.get(k)?.configs ?? []).map((c) => [c.name, c.value]));
          for (const s of a.set) configs.set(s.name, s.value);
          this.throttles.set(k, { entityType: a.entityType, entityName: a.entityName, configs: [...configs].map(([name, value]) => ({ name, value })) });
        }
        return { changed: throttle.alterations.map((a) => `${a.entityType}:${a.entityName}`), offline: [], after: [] };
      },
      removeThrottles: async (_c, restore) => {
        this.log.push('remove throttles');
        for (const a of restore.alterations) {
          const k = `${a.entityType}:${a.entityName}`;
          const configs = new Map((this.throttles.get(k)?.configs ?? []).map((c) => [c.name, c.value]));
          for (const d of a.delete) configs.delete(d);
          for (const s of a.set) configs.set(s.name, s.value);
          if (configs.size === 0) this.throttles.delete(k);
          else this.throttles.set(k, { entityType: a.entityType, entityName: a.entityName, configs: [...configs].map(([name, value]) => ({ name, value })) });
        }
        return { changed: [], offline: [], after: [] };
      },
      submitReassignment: async (_c, moves) => {
        this.submitted.push(moves);
        this.log.push(`submit ${moves.length}`);
        if (this.failSubmitOnBatch === this.submitted.length) {
          const { ApplicationFailure } = await import('@temporalio/common');
          throw ApplicationFailure.create({ type: 'UnsafeToProceed', message: 'broker 4 went away', nonRetryable: true });
        }
        return { submitted: moves, alreadyInFlight: [], alreadyDone: [] };
      },
      waitForReassignment: async (_c, moves) => {
        this.log.push('wait');
        if (this.hold) {
          const ctx = Context.current();
          await Promise.race([this.hold.promise, ctx.cancelled]);
        }
        this.apply(moves);
        const progress = { atMs: 0, partitionsTotal: moves.length, partitionsDone: moves.length, partitionsRemaining: 0, replicasToCopy: 0, replicasCopied: 0, bytesTotal: null, bytesCopied: null, etaMs: null, done: true, stuck: false, pending: [] };
        return { outcome: 'done' as const, progress, elapsedMs: 1, resumed: false, polls: 1 };
      },
      cancelReassignment: async (_c, partitions) => {
        this.log.push(`cancel ${partitions.length}`);
        return { cancelled: partitions, notInFlight: [], revertedDirectly: [], replicasAfter: [], latencyMs: 1 };
      },
      electPreferredLeaders: async (_c, partitions) => {
        this.log.push('elect');
        return { elected: partitions, notNeeded: [] };
      },
      listThrottledEntities: async () =>
        [...this.throttles.values()]
          .map((e) => ({ ...e, configs: e.configs.filter((c) => !(e.entityName === 'orders' && c.value === '0:1')) }))
          .filter((e) => e.configs.length > 0),
    };
  }
}

let bed: WorkflowTestBed;
let client: Client;
let fake: FakeCluster;

beforeAll(async () => {
  const names = Object.keys(new FakeCluster().activities()) as (keyof Fakes)[];
  bed = await startWorkflowTestBed(TASK_QUEUE, delegatingActivities(names, () => fake.activities()));
  client = bed.client;
}, 120_000);
afterAll(async () => bed?.stop());
beforeEach(() => {
  fake = new FakeCluster();
});

let seq = 0;
const start = (input: Record<string, unknown>, taskQueue = TASK_QUEUE) =>
  client.workflow.start('reassignPartitions', {
    taskQueue,
    workflowId: `reassign-${Date.now()}-${seq++}`,
    args: [{ cluster: 'c1', goal: { kind: 'addBrokers', brokerIds: [4] }, ...input }],
    workflowExecutionTimeout: '3 minutes',
  });
type Handle = Awaited<ReturnType<typeof start>>;
const waitingAt = waitingAtGate;
const approve = (h: Handle) => h.executeUpdate(approveUpdate, { args: [{ gate: 'approve-plan', approver: 'sre-on-call', reason: 'ticket OPS-1' }] });
const failureOf = (h: Handle) => runFailure(h.result());

test('the plan is shown and waits for approval; the approved plan is executed exactly, then verified', async () => {
  const whole = planFromMetadata(structuredClone(fake.metadata), { kind: 'addBrokers', brokerIds: [4] }).plan;
  const h = await start({ throttleBytesPerSec: 1_000_000 });
  await waitingAt(h, 'approve-plan');
  expect(fake.submitted).toEqual([]);
  const shown = await h.query(reassignmentPlanQuery);
  // Rack-aware: broker 4 shares rack-1 with broker 1, and RF 3 over 3 racks puts one replica per partition in
  // each rack, so broker 4 takes half of rack-1's 8 replicas.
  expect(shown?.stats.replicasMoved).toBe(4);
  expect(shown?.stats.lowerBound).toBe(4);
  expect(shown?.fingerprint).toBe(planFromMetadata(structuredClone(fake.metadata), { kind: 'addBrokers', brokerIds: [4] }).fingerprint);
  // The whole plan is on the hosts, not in the workflow: the summary shows the first moves.
  expect(shown?.ref.hosts).toEqual(['kafka-1', 'kafka-2', 'kafka-3']);
  expect(shown?.firstMoves.map((m) => [m.partition, m.to])).toEqual(whole.moves.map((m) => [m.partition, m.to]));
  const plan = { plan: whole };
  await approve(h);
  const result: ReassignPartitionsResult = await h.result();
  expect(result).toMatchObject({ replicasMoved: 4, lowerBound: 4, approvedBy: 'sre-on-call', throttlesLeft: [] });
  const dataMoves = fake.submitted.flat().filter((m) => m.addingReplicas.length > 0);
  expect(dataMoves.map((m) => [m.topic, m.partition, m.to])).toEqual(plan?.plan.moves.map((m) => [m.topic, m.partition, m.to]));
  // Then the leader-balance reorders: same replica sets, no data.
  const reorders = fake.submitted.flat().filter((m) => m.addingReplicas.length === 0);
  expect(reorders.map((m) => [m.partition, m.to])).toEqual(plan?.plan.leaderChanges.map((c) => [c.partition, c.to]));
  // Broker 4 now holds its share; the operator's own throttle entry is back as it was.
  expect(fake.metadata.topics[0]!.partitions.filter((p) => p.replicas.includes(4))).toHaveLength(4);
  expect(fake.throttles.get('topics:orders')?.configs).toEqual([{ name: 'leader.replication.throttled.replicas', value: '0:1' }]);
  expect([...fake.throttles.keys()]).toEqual(['topics:orders']);
  expect(fake.log.at(-1)).toBe('elect');
  // Done: the stored plan is removed from the hosts.
  expect(fake.store.files.size).toBe(0);
});

test('a stored plan that no longer matches on every host stops the run before anything moves', async () => {
  const h = await start({ throttleBytesPerSec: 1_000_000 });
  await waitingAt(h, 'approve-plan');
  // Someone edits the plan on every host while it waits: batch 1 now moves a partition the plan did not.
  for (const [key, lines] of fake.store.files) {
    const batch = JSON.parse(lines[1] as string) as { moves: { partition: number }[] };
    batch.moves[0]!.partition = 7;
    fake.store.files.set(key, [lines[0] as string, JSON.stringify(batch), ...lines.slice(2)]);
  }
  await approve(h);
  const f = await failureOf(h);
  expect(f.type).toBe('UnsafeToProceed');
  expect(f.message).toMatch(/the stored plan [0-9a-f]{16} is missing or does not match on every host that held it \(kafka-1: line 1 does not match/);
  expect(fake.submitted).toEqual([]);
  expect([...fake.throttles.keys()]).toEqual(['topics:orders']);
});

test('a copy lost on one host: the batches load from the next host that holds the plan', async () => {
  const h = await start({ throttleBytesPerSec: 1_000_000 });
  await waitingAt(h, 'approve-plan');
  for (const key of [...fake.store.files.keys()]) if (key.startsWith('kafka-1:')) fake.store.files.delete(key);
  await approve(h);
  expect((await h.result()).replicasMoved).toBe(4);
});

test('when the cluster changes before approval, it re-plans and asks again', async () => {
  const h = await start({});
  await waitingAt(h, 'approve-plan');
  const first = await h.query(reassignmentPlanQuery);
  // Someone moves a partition by hand while the plan waits.
  const p0 = fake.metadata.topics[0]!.partitions[0]!;
  p0.replicas = [4, 2, 3];
  p0.isr = [4, 2, 3];
  p0.leader = 4;
  await approve(h);
  await eventually(async () => (await h.query(reassignmentPlanQuery))?.fingerprint !== first?.fingerprint, 20_000, 'a new plan');
  await waitingAt(h, 'approve-plan');
  expect(fake.submitted).toEqual([]);
  await approve(h);
  await h.result();
  const p = await h.query(progressQuery);
  expect(p.gates.filter((g) => g.gate === 'approve-plan')).toHaveLength(2);
  expect(p.log.some((l) => l.message.includes('the cluster changed since plan'))).toBe(true);
});

test('batches respect the per-broker limit', async () => {
  const h = await start({ approval: 'auto', maxMovesPerBroker: 1, throttleBytesPerSec: null });
  await h.result();
  expect(fake.submitted.length).toBeGreaterThan(1);
  for (const batch of fake.submitted.filter((b) => b.some((m) => m.addingReplicas.length > 0))) {
    const perBroker = new Map<number, number>();
    for (const m of batch as MoveStep[]) for (const b of brokersCounted(m)) perBroker.set(b, (perBroker.get(b) ?? 0) + 1);
    expect(Math.max(...perBroker.values())).toBe(1);
  }
  expect(fake.log).not.toContain('throttle');
});

test('a failure mid-way cancels the moves in flight and removes every throttle', async () => {
  fake.failSubmitOnBatch = 2;
  const h = await start({ approval: 'auto', maxMovesPerBroker: 2, throttleBytesPerSec: 1_000_000 });
  const f = await failureOf(h);
  expect(f.type).toBe('UnsafeToProceed');
  expect(f.message).toContain('broker 4 went away');
  const tail = fake.log.slice(-2);
  expect(tail).toEqual([expect.stringMatching(/^cancel \d+$/), 'remove throttles']);
  expect([...fake.throttles.keys()]).toEqual(['topics:orders']);
  expect(fake.throttles.get('topics:orders')?.configs).toEqual([{ name: 'leader.replication.throttled.replicas', value: '0:1' }]);
});

test('abort during a throttled move cancels it and removes the throttles', async () => {
  fake.holdWaits();
  const h = await start({ approval: 'auto', throttleBytesPerSec: 1_000 });
  await eventually(() => fake.log.includes('wait'), 20_000, 'the wait');
  expect(fake.throttles.size).toBeGreaterThan(1);
  await h.executeUpdate(abortUpdate, { args: [{ by: 'sre-on-call', reason: 'peak traffic' }] });
  const f = await failureOf(h);
  expect(f.type).toBe('RunbookAborted');
  expect(fake.log.slice(-2)).toEqual([expect.stringMatching(/^cancel \d+$/), 'remove throttles']);
  expect([...fake.throttles.keys()]).toEqual(['topics:orders']);
});

test('a refused goal fails before anything changes, with the planner\'s reason', async () => {
  const h = await start({ goal: { kind: 'setReplicationFactor', topic: 'orders', replicationFactor: 9 } });
  const f = await failureOf(h);
  expect(f.type).toBe('InvalidInput');
  expect(f.message).toMatch(/^the plan was refused: /);
  expect(fake.log).toEqual([]);
});

test('a reassignment already in flight is refused', async () => {
  fake.metadata.reassignments = [{ topic: 'orders', partition: 3, replicas: [1, 2, 3, 4], addingReplicas: [4], removingReplicas: [1] }];
  const f = await failureOf(await start({ approval: 'auto' }));
  expect(f.type).toBe('UnsafeToProceed');
  expect(f.message).toContain('already in flight (orders-3)');
});

test('a worker restart mid-move neither resubmits nor loses track', async () => {
  const queue = `${TASK_QUEUE}-restart`;
  const makeWorker = async () =>
    Worker.create({ connection: bed.env.nativeConnection, taskQueue: queue, workflowBundle: await testWorkflowBundle(), activities: withInputValidation(fake.activities()) });
  fake.holdWaits();
  const first = await makeWorker();
  const h = await start({ approval: 'auto', throttleBytesPerSec: null }, queue);
  await first.runUntil(eventually(() => fake.log.includes('wait'), 20_000, 'the wait'));
  // The first worker is gone mid-wait; a new one picks the run up.
  fake.hold?.release();
  fake.hold = null;
  const second = await makeWorker();
  const result = await second.runUntil(h.result());
  expect(result.replicasMoved).toBe(4);
  // One data batch and one reorder batch, each submitted once.
  expect(fake.log.filter((l) => l.startsWith('submit'))).toEqual(['submit 4', `submit ${result.leaderChanges}`]);
});

describe('runbooks on top of the executor', () => {
  const startRunbook = (type: string, input: Record<string, unknown>) =>
    client.workflow.start(type, { taskQueue: TASK_QUEUE, workflowId: `${type}-${Date.now()}-${seq++}`, args: [{ cluster: 'c1', ...input }], workflowExecutionTimeout: '3 minutes' });

  test('changeReplicationFactor: the plan is approved in the child; an increase copies only the new replicas', async () => {
    const h = await startRunbook('changeReplicationFactor', { topic: 'orders', replicationFactor: 4 });
    const child = client.workflow.getHandle(`${h.workflowId}/reassign`);
    await eventually(async () => (await child.query(progressQuery)).pendingGate?.name === 'approve-plan', 20_000, 'the child plan gate');
    await child.executeUpdate(approveUpdate, { args: [{ gate: 'approve-plan', approver: 'sre-on-call' }] });
    const result: ReassignPartitionsResult = await h.result();
    expect(result).toMatchObject({ replicasMoved: 8, lowerBound: 8, approvedBy: 'sre-on-call' });
    expect(fake.metadata.topics[0]!.partitions.every((p) => p.replicas.length === 4)).toBe(true);
    await saveHistory(client, 'change-rf-child-approved', 'changeReplicationFactor with its child reassignment, the plan gate approved in the child', [h.workflowId, child.workflowId]);
  });

  test('aborting the runbook cancels the child: its moves are cancelled and its throttles removed', async () => {
    fake.holdWaits();
    const h = await startRunbook('changeReplicationFactor', { topic: 'orders', replicationFactor: 4, approval: 'auto', throttleBytesPerSec: 1000 });
    await eventually(() => fake.log.includes('wait'), 20_000, 'the wait');
    await h.executeUpdate(abortUpdate, { args: [{ by: 'sre-on-call', reason: 'rollback' }] });
    const f = await failureOf(h as Handle);
    expect(f.type).toBe('RunbookAborted');
    expect(fake.log.slice(-2)).toEqual([expect.stringMatching(/^cancel \d+$/), 'remove throttles']);
    expect([...fake.throttles.keys()]).toEqual(['topics:orders']);
  });

  test("the parent's progress shows the child's gate; pause, resume and abort sent to the parent reach the child", async () => {
    const h = await startRunbook('changeReplicationFactor', { topic: 'orders', replicationFactor: 4 });
    const childId = `${h.workflowId}/reassign`;
    const child = client.workflow.getHandle(childId);
    await eventually(async () => (await h.query(progressQuery)).pendingGates.some((g) => g.name === 'approve-plan'), 20_000, "the child's gate in the parent");
    const p = await h.query(progressQuery);
    expect(p.status).toBe('WaitingForApproval');
    expect(p.activeChild).toBe(childId);
    expect(p.pendingGates).toEqual([expect.objectContaining({ name: 'approve-plan', workflowId: childId, prompt: expect.stringMatching(/move 8 replicas/) })]);
    await h.executeUpdate(pauseUpdate, { args: [{ by: 'sre-on-call', reason: 'hold on' }] });
    await eventually(async () => (await child.query(progressQuery)).paused, 20_000, 'the child paused');
    await h.executeUpdate(resumeUpdate, { args: [{ by: 'sre-on-call' }] });
    await eventually(async () => !(await child.query(progressQuery)).paused, 20_000, 'the child resumed');
    await h.executeUpdate(abortUpdate, { args: [{ by: 'sre-on-call', reason: 'wrong topic' }] });
    expect((await failureOf(h as Handle)).type).toBe('RunbookAborted');
    const c = await runFailure(child.result());
    expect(c.type).toBe('RunbookAborted');
    expect(c.message).toContain('aborted by sre-on-call (unauthenticated): wrong topic');
    expect(fake.submitted).toEqual([]);
  });

  test('a terminated parent cancels its child, whose undo cancels the moves and removes the throttles', async () => {
    fake.holdWaits();
    const h = await startRunbook('changeReplicationFactor', { topic: 'orders', replicationFactor: 4, approval: 'auto', throttleBytesPerSec: 1000 });
    await eventually(() => fake.log.includes('wait'), 20_000, 'the wait');
    await h.terminate('operator terminated the parent');
    const child = client.workflow.getHandle(`${h.workflowId}/reassign`);
    expect((await runFailure(child.result())).type).toBe('RunbookAborted');
    expect(fake.log.slice(-2)).toEqual([expect.stringMatching(/^cancel \d+$/), 'remove throttles']);
    expect([...fake.throttles.keys()]).toEqual(['topics:orders']);
  });

  test('decommissionBroker: empties the broker, then stops and unregisters it only after approval', async () => {
    const h = await startRunbook('decommissionBroker', { hosts: ['kafka-3'], approval: 'auto', throttleBytesPerSec: null });
    await eventually(async () => (await h.query(progressQuery)).pendingGate?.name === 'stop-brokers', 30_000, 'the stop gate');
    expect(fake.metadata.topics[0]!.partitions.some((p) => p.replicas.includes(3))).toBe(false);
    expect(fake.log.filter((l) => /^(stop|unregister)/.test(l))).toEqual([]);
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'stop-brokers', approver: 'sre-on-call' }] });
    const result = await h.result();
    expect(result).toMatchObject({ stopped: ['kafka-3'], unregistered: [3], wiped: [] });
    expect(fake.log.slice(-4)).toEqual(['stop kafka-3', 'exited kafka-3', 'deregistered 3', 'unregister 3']);
  });

  test('decommissionBroker with wipeData: the wipe-data gate lists every data dir per host, and nothing is wiped before it is approved', async () => {
    const h = await startRunbook('decommissionBroker', { hosts: ['kafka-3'], approval: 'auto', throttleBytesPerSec: null, wipeData: true });
    await waitingAtGate(h, 'stop-brokers');
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'stop-brokers', approver: 'sre-on-call' }] });
    await waitingAtGate(h, 'wipe-data');
    const prompt = (await h.query(progressQuery)).pendingGate?.prompt ?? '';
    expect(prompt).toContain('kafka-3: /srv/kafka-3/data-a, /srv/kafka-3/data-b');
    expect(fake.log.filter((l) => l.startsWith('wipe'))).toEqual([]);
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'wipe-data', approver: 'sre-on-call' }] });
    expect(await h.result()).toMatchObject({ stopped: ['kafka-3'], unregistered: [3], wiped: ['/srv/kafka-3/data-a', '/srv/kafka-3/data-b'] });
    expect(fake.log.at(-1)).toBe('wipe kafka-3');
  });

  test('decommissioning a combined broker+controller host is refused before anything moves, naming the host and the quorum change it would need', async () => {
    fake.controllers = [1, 2, 3];
    // Without the controller role, this very input empties and stops kafka-3 (the test above).
    const h = await startRunbook('decommissionBroker', { hosts: ['kafka-3'], approval: 'auto', throttleBytesPerSec: null });
    const f = await failureOf(h as Handle);
    expect(f.type).toBe('UnsafeToProceed');
    expect(f.message).toMatch(/^hosts: kafka-3 \(node 3\) is a KRaft controller as well as broker: /);
    expect(f.message).toContain('kafka-metadata-quorum.sh remove-controller');
    expect(fake.submitted).toEqual([]);
    expect(fake.log).toEqual([]);
  });

  test('decommissioning so many brokers that a topic cannot keep its RF is refused before anything moves', async () => {
    const h = await startRunbook('decommissionBroker', { hosts: ['kafka-2', 'kafka-3'], approval: 'auto' });
    const f = await failureOf(h as Handle);
    expect(f.message).toMatch(/orders/);
    expect(fake.submitted).toEqual([]);
  });

  test('addBrokers: formats and starts the new broker, waits for it, then spreads replicas onto it', async () => {
    const h = await startRunbook('addBrokers', { hosts: ['kafka-4'], approval: 'auto', throttleBytesPerSec: null });
    const result: ReassignPartitionsResult = await h.result();
    expect(fake.log.slice(0, 3)).toEqual(['format kafka-4', 'start kafka-4', 'registered 4']);
    expect(result.replicasMoved).toBe(4);
  });
});
