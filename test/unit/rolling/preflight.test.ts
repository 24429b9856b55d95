import { expandRollingPlan, rollingPreflight, rollingRestartInput, sliceBatches } from '../../../src/rolling';
import { ClusterBuilder, expectedNode, hostObservation, quorum } from '../health/builder';

const batchesOf = (...sizes: number[]) => sizes.map((n) => ({ nodes: Array.from({ length: n }, () => ({})) }));

describe('sliceBatches', () => {
  test('consecutive batches up to the node budget; a batch is never split', () => {
    expect(sliceBatches(batchesOf(1, 1, 1, 1, 1), 2)).toEqual([
      { from: 0, to: 2, nodes: 2 },
      { from: 2, to: 4, nodes: 2 },
      { from: 4, to: 5, nodes: 1 },
    ]);
    expect(sliceBatches(batchesOf(3, 1, 1), 2)).toEqual([
      { from: 0, to: 1, nodes: 3 },
      { from: 1, to: 3, nodes: 2 },
    ]);
    expect(sliceBatches(batchesOf(1, 1), 50)).toEqual([{ from: 0, to: 2, nodes: 2 }]);
    expect(sliceBatches([], 50)).toEqual([]);
  });
});

describe('rollingPreflight', () => {
  const n = 200;
  const brokers = Array.from({ length: n }, (_, i) => i + 1);
  const state = (offline: boolean) => {
    const b = ClusterBuilder.kraft()
      .brokers(...brokers)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(20 * n, 3, brokers));
    if (offline) for (const id of [1, 2, 3, 50, 100, 150, 199]) b.stopBroker(id);
    const metadata = b.build();
    return {
      mode: 'kraft' as const,
      expected: [...brokers.map((id) => expectedNode(id)), ...[201, 202, 203].map((id) => expectedNode(id, ['controller']))],
      metadata,
      quorum: { quorum: quorum(202).voters(201, 202, 203).build(), observedAtMs: 0 },
      hosts: [...brokers.map((id) => hostObservation(id)), ...[201, 202, 203].map((id) => hostObservation(id, { roles: ['controller'], dataDirs: [] }))],
      checkedAt: '2026-01-01T00:00:00Z',
    };
  };

  test('returns the plan and no partition of the metadata: small enough for history', () => {
    const r = rollingPreflight(rollingRestartInput.parse({ cluster: 'c' }), state(false));
    expect(r.blocking.count).toBe(0);
    expect(r.plan.nodes).toHaveLength(203);
    expect(JSON.stringify(r)).not.toContain('"isr"');
    // 4,000 partitions would be ~400 KB; the plan of 203 nodes is well under 64 KB.
    expect(JSON.stringify(r).length).toBeLessThan(64 * 1024);
    const plan = expandRollingPlan(r.plan);
    expect(plan.batches.map((b) => b.nodes.map((x) => x.host))).toEqual(r.plan.batches.map((b) => b.hosts));
    expect(plan.batches.flatMap((b) => b.nodes)).toEqual(expect.arrayContaining(r.plan.nodes));
  });

  test('blocking findings are counted, and only the first five travel', () => {
    const r = rollingPreflight(rollingRestartInput.parse({ cluster: 'c' }), state(true));
    expect(r.blocking.count).toBeGreaterThan(5);
    expect(r.blocking.first).toHaveLength(5);
  });
});
