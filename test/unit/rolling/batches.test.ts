import type { ClusterMetadata, ExpectedNode, NodeRole } from '../../../src/model/cluster';
import { brokersToCheckForRecovery, canRestartBatch, isRecentQuorum, orderNodes, type Parallelism, planBatches, RECENT_QUORUM_MAX_AGE_MS, refuseRecovering, selectNodes } from '../../../src/rolling';
import { ClusterBuilder, expectedNode, quorum, threeBrokerCluster } from '../health/builder';

const combined: NodeRole[] = ['broker', 'controller'];

function plan(metadata: ClusterMetadata, expected: ExpectedNode[], parallelism: Parallelism) {
  const order = orderNodes(selectNodes(expected, undefined).nodes, { metadata });
  return planBatches(order.nodes, metadata, parallelism);
}

const batchIds = (p: ReturnType<typeof plan>): number[][] => p.batches.map((b) => b.nodes.map((n) => n.nodeId));

/** Brokers 1-6 (rack-<id mod 3>: rack-1 {1,4}, rack-2 {2,5}, rack-0 {3,6}), controllers 50-52 (leader 51). */
function sixBrokers(build: (b: ClusterBuilder) => ClusterBuilder): { metadata: ClusterMetadata; expected: ExpectedNode[] } {
  const metadata = build(ClusterBuilder.kraft().brokers(1, 2, 3, 4, 5, 6).quorum(quorum(51).voters(50, 51, 52))).build();
  const expected = [...[1, 2, 3, 4, 5, 6].map((id) => expectedNode(id)), ...[50, 51, 52].map((id) => expectedNode(id, ['controller']))];
  return { metadata, expected };
}

describe('planBatches: one at a time', () => {
  it('puts every node in its own batch, in order, with a reason', () => {
    const metadata = threeBrokerCluster().build();
    const expected = [...[1, 2, 3].map((id) => expectedNode(id)), ...[3000, 3001, 3002].map((id) => expectedNode(id, ['controller']))];
    const p = plan(metadata, expected, { mode: 'one-at-a-time' });
    expect(batchIds(p)).toEqual([[3000], [3002], [3001], [1], [2], [3]]);
    expect(p.batches.map((b) => b.reason)).toEqual([
      'one at a time; controllers restart one at a time so the quorum keeps its majority',
      'one at a time; controllers restart one at a time so the quorum keeps its majority',
      'one at a time; the active controller (quorum leader)',
      'one at a time',
      'one at a time',
      'one at a time',
    ]);
  });
});

describe('planBatches: no shared partitions', () => {
  it('groups brokers that share no partition, controllers always alone', () => {
    const { metadata, expected } = sixBrokers((b) => b.topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]).partition([4, 5, 6]).partition([2, 3, 1]).partition([5, 6, 4])));
    const p = plan(metadata, expected, { mode: 'no-shared-partitions', maxBatch: 3 });
    expect(batchIds(p)).toEqual([[50], [52], [51], [1, 4], [2, 5], [3, 6]]);
    expect(p.batches[3]?.reason).toBe('brokers 1, 4 share no partition and min ISR holds with all of them down');
    expect(p.batches[0]?.reason).toBe('alone: controllers restart one at a time so the quorum keeps its majority');
  });

  it('never puts two brokers of one partition together, and respects maxBatch', () => {
    const { metadata, expected } = sixBrokers((b) => b.topic('orders', { minIsr: 1 }, (t) => t.partition([1, 2]).partition([3, 4]).partition([5, 6])));
    const p = plan(metadata, expected, { mode: 'no-shared-partitions', maxBatch: 2 });
    const brokerBatches = batchIds(p).slice(3);
    expect(brokerBatches).toEqual([[1, 3], [2, 4], [5], [6]]);
    for (const batch of brokerBatches) {
      for (const topic of metadata.topics) for (const part of topic.partitions) expect(part.replicas.filter((r) => batch.includes(r)).length).toBeLessThanOrEqual(1);
    }
    expect(p.batches[5]?.reason).toBe('alone: no remaining broker can join it (shares orders-2 with broker 6)');
    expect(p.batches[6]?.reason).toBe('alone: no other broker left to pair it with');
  });

  it('leaves a broker alone when min ISR would not hold even for it (the runbook waits for its guard)', () => {
    const { metadata, expected } = sixBrokers((b) => b.topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3], { isr: [1, 2] }).partition([4, 5, 6])));
    const p = plan(metadata, expected, { mode: 'no-shared-partitions', maxBatch: 3 });
    // broker 3 is out of the ISR (unhealthy: first); 1 and 2 sit in an ISR at min ISR.
    expect(batchIds(p)).toEqual([[3], [50], [52], [51], [1], [2], [4], [5], [6]]);
    expect(p.batches[4]?.reason).toBe('alone: not safe to restart now (Taking down broker 1 would leave orders-0 with ISR [2], below min.insync.replicas=2.); the runbook waits for its guard');
  });

  it('keeps a batch out of an in-flight reassignment: the broker involved goes alone and waits', () => {
    const { metadata, expected } = sixBrokers((b) => b.topic('orders', { minIsr: 1 }, (t) => t.partition([1, 2]).partition([3, 4])).reassigning('orders', 1, { adding: [5], removing: [3] }));
    const p = plan(metadata, expected, { mode: 'no-shared-partitions', maxBatch: 6 });
    const brokerBatches = batchIds(p).filter((b) => b.every((id) => id < 50));
    expect(brokerBatches).toContainEqual([5]);
    expect(brokerBatches.find((b) => b.includes(1))).toEqual([1, 6]);
    expect(p.batches.find((b) => b.nodes[0]?.nodeId === 3)?.reason).toMatch(/^alone: not safe to restart now \(Reassignment of orders-1 is in flight and involves broker 3/);
  });

  it('restarts combined nodes one at a time', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4)
      .topic('orders', { minIsr: 1 }, (t) => t.partition([1, 2]).partition([3, 4]))
      .quorum(quorum(1).voters(1, 2, 3))
      .build();
    const expected = [...[1, 2, 3].map((id) => expectedNode(id, combined)), expectedNode(4)];
    const p = plan(metadata, expected, { mode: 'no-shared-partitions', maxBatch: 4 });
    expect(batchIds(p)).toEqual([[2], [3], [1], [4]]);
    expect(p.batches[0]?.reason).toBe('alone: combined broker+controller nodes restart one at a time so the quorum keeps its majority');
  });
});

describe('planBatches: rack', () => {
  it('restarts a whole rack when every partition spans racks and min ISR holds', () => {
    // One replica per rack in every partition: rack-1 {1,4}, rack-2 {2,5}, rack-0 {3,6}.
    const { metadata, expected } = sixBrokers((b) => b.topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]).partition([4, 5, 6]).partition([1, 5, 6]).partition([4, 2, 3])));
    const p = plan(metadata, expected, { mode: 'rack' });
    expect(batchIds(p).slice(3)).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(p.batches[3]?.reason).toBe('whole rack rack-1 (brokers 1, 4): every partition on it has a replica in another rack and min ISR holds with the rack down');
    expect(p.notes).toEqual([]);
  });

  it('falls back to smaller batches when a partition would drop below min ISR with the rack down, and says why', () => {
    const { metadata, expected } = sixBrokers((b) => b.topic('orders', { minIsr: 2 }, (t) => t.partition([1, 4, 2]).partition([2, 3, 1]).partition([5, 6, 3])));
    const p = plan(metadata, expected, { mode: 'rack' });
    const fallback = 'rack rack-1 cannot restart at once: Taking down brokers 1, 4 would leave orders-0 with ISR [2], below min.insync.replicas=2.';
    expect(batchIds(p).slice(3, 5)).toEqual([[1], [4]]);
    expect(p.batches[3]?.reason).toBe(`${fallback}; alone: no remaining broker can join it (shares orders-0 with broker 4)`);
    expect(p.notes).toContain(`${fallback}; its brokers restart in smaller batches of brokers that share no partition.`);
    // orders-2 [5, 6, 3] has two replicas in rack-0 too; rack-2 holds one replica of each partition and goes whole.
    expect(batchIds(p).slice(5)).toEqual([[2, 5], [3], [6]]);
    expect(p.notes).toHaveLength(2);
  });

  it('falls back when a partition has every replica in the rack, even one whose RF <= min ISR', () => {
    const { metadata, expected } = sixBrokers((b) => b.topic('audit', { minIsr: 2 }, (t) => t.partition([2, 5])).topic('scratch', { minIsr: 1 }, (t) => t.partition([3])));
    const p = plan(metadata, expected, { mode: 'rack' });
    expect(p.notes).toEqual(['rack rack-2 cannot restart at once: 1 partition has every replica in it (audit-0); its brokers restart in smaller batches of brokers that share no partition.']);
    // An RF 1 partition is offline during any restart of its broker: it does not stop rack-0 going together.
    expect(batchIds(p).slice(3)).toEqual([[1, 4], [2], [5], [3, 6]]);
  });

  it('restarts brokers with no rack one at a time', () => {
    const { metadata, expected } = sixBrokers((b) => b.topic('orders', { minIsr: 1 }, (t) => t.partition([1, 2])));
    for (const b of metadata.brokers) b.rack = null;
    const p = plan(
      metadata,
      expected.map((e) => ({ ...e, rack: null })),
      { mode: 'rack' },
    );
    expect(batchIds(p).slice(3)).toEqual([[1], [2], [3], [4], [5], [6]]);
    expect(p.batches[3]?.reason).toBe('alone: no rack known for it (broker.rack unset)');
    expect(p.notes).toEqual(['brokers 1, 2, 3, 4, 5, 6 have no rack: restarted one at a time.']);
  });
});

describe('canRestartBatch', () => {
  it('checks the broker side and the quorum side of a combined node', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
      .quorum(quorum(1).voter(1).voter(2).voter(3, { behindMs: null }))
      .build();
    expect(canRestartBatch(metadata, [{ nodeId: 3, roles: combined }])).toEqual({ safe: true, reasons: [], ignored: [] });
    expect(canRestartBatch(metadata, [{ nodeId: 2, roles: combined }])).toEqual({
      safe: false,
      reasons: ['Without controller 2, only 1 of 3 voters would be caught up; 2 are needed (majority 2). Lagging voters: 3: the leader 1 has never seen it caught up, 0 offsets behind.'],
      ignored: [],
    });
  });

  it('does not let topics with RF <= min ISR block a restart forever, and reports them as not checked', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
      .topic('audit', { minIsr: 2 }, (t) => t.partition([1, 2]))
      .topic('scratch', { minIsr: 1 }, (t) => t.partition([1]))
      .quorum(quorum(50).voters(50, 51, 52))
      .build();
    const decision = canRestartBatch(metadata, [{ nodeId: 1, roles: ['broker'] }]);
    expect(decision.safe).toBe(true);
    expect(decision.ignored).toEqual([
      'Topic audit: 1 partition (audit-0) not checked: replication factor 2 <= min.insync.replicas 2, so no restart can keep it writable.',
      'Topic scratch: 1 partition (scratch-0) not checked: replication factor 1 <= min.insync.replicas 1, so no restart can keep it writable.',
    ]);
    // ...and the plan for that cluster restarts broker 1 on its own like any other.
    const expected = [1, 2, 3].map((id) => expectedNode(id));
    expect(batchIds(plan(metadata, expected, { mode: 'one-at-a-time' }))).toEqual([[1], [2], [3]]);
  });

  it('blocks a batch that would take a partition below min ISR, though each broker alone is fine', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]))
      .build();
    expect(canRestartBatch(metadata, [{ nodeId: 1, roles: ['broker'] }]).safe).toBe(true);
    expect(canRestartBatch(metadata, [1, 2].map((nodeId) => ({ nodeId, roles: ['broker'] as NodeRole[] })))).toEqual({
      safe: false,
      reasons: ['Taking down brokers 1, 2 would leave orders-0 with ISR [3], below min.insync.replicas=2.'],
      ignored: [],
    });
  });

  it('in ZooKeeper mode checks only the brokers (no quorum to read)', () => {
    const metadata = ClusterBuilder.zookeeper()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
      .controllerId(2)
      .build();
    expect(canRestartBatch(metadata, [{ nodeId: 2, roles: ['broker'] }])).toEqual({ safe: true, reasons: [], ignored: [] });
  });
});

describe('the guard around canRestartBatch', () => {
  it('reads the broker state only of batch brokers the metadata does not list (down, fenced or recovering)', () => {
    const metadata = ClusterBuilder.kraft().brokers(1, 3).build();
    const batch = [
      { nodeId: 1, roles: combined },
      { nodeId: 2, roles: combined },
      { nodeId: 9, roles: ['controller'] as NodeRole[] },
    ];
    expect(brokersToCheckForRecovery(metadata, batch)).toEqual([2]);
    expect(brokersToCheckForRecovery(metadata, [{ nodeId: 3, roles: ['broker'] }])).toEqual([]);
  });

  it('refuses a broker in log recovery even when min ISR and the quorum allow it, and says which and why', () => {
    const allowed = { safe: true, reasons: [], ignored: ['orders has RF 1'] };
    expect(refuseRecovering(allowed, [])).toBe(allowed);
    expect(refuseRecovering(allowed, [{ nodeId: 2, host: 'kafka-2' }])).toEqual({
      safe: false,
      reasons: ['kafka-2 (node 2) is recovering its logs (broker state RECOVERY): a restart now would start the recovery over.'],
      ignored: ['orders has RF 1'],
    });
    const refused = { safe: false, reasons: ['Taking down broker 2 would leave orders-0 with ISR [1].'], ignored: [] };
    expect(refuseRecovering(refused, [{ nodeId: 2, host: 'kafka-2' }]).reasons).toHaveLength(2);
  });

  it('lets a quorum observation stand in for a fresh read only while it is at most 2 s old', () => {
    expect(RECENT_QUORUM_MAX_AGE_MS).toBe(2000);
    expect(isRecentQuorum(10_000, 10_000)).toBe(true);
    expect(isRecentQuorum(10_000, 12_000)).toBe(true);
    expect(isRecentQuorum(10_000, 12_001)).toBe(false);
    // From a clock that runs ahead: not trusted.
    expect(isRecentQuorum(10_500, 10_000)).toBe(false);
  });
});
