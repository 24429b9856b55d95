/**
 * Hundreds of seeded random clusters per goal: every plan valid, the movement promises kept, and the same
 * plan whatever the input order.
 */
import { type ReassignmentInput, planReassignment } from '../../../src/reassignment';
import { countPerBroker, expectValidPlan, rackMap, rackViolations, spread } from './check';
import { type ClusterSpec, generateCluster, seededRandom } from './generate';

const CLUSTERS_PER_GOAL = 150;

function randomSpec(seed: number, options: { minBrokers?: number } = {}): ClusterSpec {
  const random = seededRandom(seed * 7919);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const brokers = int(options.minBrokers ?? 3, 12);
  return {
    seed,
    brokers,
    partitions: int(10, 300),
    topics: int(1, 5),
    replicationFactor: int(1, Math.min(3, brokers)),
    racks: random() < 0.5 ? 0 : int(2, 3),
    uneven: random() < 0.3,
    weighted: random() < 0.2,
    laggingFollowers: random() < 0.2,
  };
}

function shuffled<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** max(sum max(0, c - ceil(T/N)), sum max(0, floor(T/N) - c)): the add-broker lower bound with equal weights, no racks. */
function evenSpreadLowerBound(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const floor = Math.floor(total / counts.length);
  const ceil = Math.ceil(total / counts.length);
  const excess = counts.reduce((s, c) => s + Math.max(0, c - ceil), 0);
  const deficit = counts.reduce((s, c) => s + Math.max(0, floor - c), 0);
  return Math.max(excess, deficit);
}

const seeds = Array.from({ length: CLUSTERS_PER_GOAL }, (_, i) => i + 1);

describe('random clusters: addBrokers', () => {
  const ratios: number[] = [];
  afterAll(() => {
    // Guard against a vacuous run: the loop below really planned every cluster.
    expect(ratios).toHaveLength(CLUSTERS_PER_GOAL);
  });

  test.each(seeds)('seed %i', (seed) => {
    const spec = { ...randomSpec(seed), emptyBrokers: 1 + (seed % 3) };
    const cluster = generateCluster(spec);
    const input: ReassignmentInput = { ...cluster, goal: { kind: 'addBrokers', brokerIds: cluster.newBrokerIds } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    const s = plan.stats;
    ratios.push(s.movesOverLowerBound);
    expect(s.movesOverLowerBound).toBeLessThanOrEqual(1.05);
    expect(s.replicasRemoved).toBe(s.replicasMoved);

    const ids = cluster.brokers.map((b) => b.id);
    if (!spec.weighted && !spec.racks) {
      expect(s.lowerBound).toBe(evenSpreadLowerBound(ids.map((id) => s.replicasPerBroker.before[id] ?? 0)));
      expect(spread(s.replicasPerBroker.after, ids)).toBeLessThanOrEqual(1);
    }
    if (s.rackViolations.before === 0) expect(s.rackViolations.after).toBe(0);
    expect(s.rackViolations.after).toBeLessThanOrEqual(s.rackViolations.before);
    // New brokers lead some partitions once they hold replicas (phase 2), unless the rounding gives them none.
    if (!spec.weighted && !spec.laggingFollowers && !spec.racks && spec.partitions >= 3 * ids.length) {
      expect(spread(s.leadersPerBroker.after, ids)).toBeLessThanOrEqual(1);
    }
  });
});

describe('random clusters: removeBrokers', () => {
  test.each(seeds)('seed %i', (seed) => {
    const spec = randomSpec(seed, { minBrokers: 4 });
    const cluster = generateCluster(spec);
    const removing = [spec.brokers, ...(seed % 2 === 0 && spec.brokers - 2 >= spec.replicationFactor ? [1] : [])];
    const input: ReassignmentInput = { ...cluster, goal: { kind: 'removeBrokers', brokerIds: removing } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    const s = plan.stats;
    const onRemoved = removing.reduce((n, id) => n + (s.replicasPerBroker.before[id] ?? 0), 0);
    expect(s.replicasMoved).toBe(onRemoved);
    expect(s.lowerBound).toBe(onRemoved);
    expect(s.movesOverLowerBound).toBe(1);
    for (const id of removing) {
      expect(s.replicasPerBroker.after[id]).toBe(0);
      expect(s.leadersPerBroker.after[id]).toBe(0);
    }
    // Only replicas on removed brokers move: every other placement stays.
    for (const m of plan.moves) for (const b of m.removingReplicas) expect(removing).toContain(b);
    if (s.rackViolations.before === 0) expect(s.rackViolations.after).toBe(0);
  });
});

describe('random clusters: setReplicationFactor', () => {
  test.each(seeds)('seed %i', (seed) => {
    const spec = randomSpec(seed);
    const cluster = generateCluster(spec);
    const topic = cluster.partitions[seed % cluster.partitions.length]?.topic as string;
    const replicationFactor = 1 + (seed % Math.min(4, spec.brokers));
    const input: ReassignmentInput = { ...cluster, goal: { kind: 'setReplicationFactor', topic, replicationFactor } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan, { rfChanges: true });
    for (const t of plan.target) {
      const before = cluster.partitions.find((p) => p.topic === t.topic && p.partition === t.partition);
      expect(t.replicas.length).toBe(t.topic === topic ? replicationFactor : before?.replicas.length);
      // The leader is never dropped and never moves.
      expect(t.replicas[0]).toBe(before?.replicas[0]);
      // Increase: existing replicas stay, in order; decrease: survivors keep their order.
      const kept = t.replicas.filter((b) => before?.replicas.includes(b));
      expect(kept).toEqual(before?.replicas.filter((b) => t.replicas.includes(b)));
    }
    const s = plan.stats;
    const increase = cluster.partitions.filter((p) => p.topic === topic).reduce((n, p) => n + Math.max(0, replicationFactor - p.replicas.length), 0);
    expect(s.replicasMoved).toBe(increase);
    expect(s.lowerBound).toBe(increase);
    expect(plan.leaderChanges).toEqual([]);
    if (s.rackViolations.before === 0) expect(s.rackViolations.after).toBe(0);
  });
});

describe('random clusters: balanceLeaders', () => {
  test.each(seeds)('seed %i', (seed) => {
    const spec = randomSpec(seed);
    const cluster = generateCluster({ ...spec, uneven: true });
    const input: ReassignmentInput = { ...cluster, goal: { kind: 'balanceLeaders' } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.moves).toEqual([]);
    expect(plan.stats.replicasMoved).toBe(0);
    expect(plan.stats.bytesMoved).toBe(0);
    const isr = new Map(cluster.partitions.map((p) => [`${p.topic}/${p.partition}`, p.isr]));
    for (const t of plan.target) expect(isr.get(`${t.topic}/${t.partition}`)).toContain(t.replicas[0]);
    const ids = cluster.brokers.map((b) => b.id);
    const before = spread(plan.stats.leadersPerBroker.before, ids);
    const after = spread(plan.stats.leadersPerBroker.after, ids);
    if (!spec.weighted) expect(after).toBeLessThanOrEqual(Math.max(1, before));
    if (!spec.weighted && spec.replicationFactor > 1) {
      // Within one among brokers that could lead their perfect share; the others lead all they can.
      const couldLead = countPerBroker(
        cluster.partitions.map((p) => p.replicas.filter((b) => p.isr.includes(b))),
        ids,
      );
      const perfect = Math.ceil(cluster.partitions.length / ids.length);
      const unconstrained = ids.filter((id) => (couldLead[id] as number) >= perfect);
      expect(spread(plan.stats.leadersPerBroker.after, unconstrained)).toBeLessThanOrEqual(1);
      for (const id of ids.filter((b) => !unconstrained.includes(b))) {
        expect(plan.stats.leadersPerBroker.after[id]).toBeGreaterThanOrEqual(Math.min(couldLead[id] as number, plan.stats.leadersPerBroker.before[id] as number));
      }
    }
  });
});

describe('random clusters: the same plan whatever the input order', () => {
  test.each(seeds.slice(0, 40))('seed %i', (seed) => {
    const cluster = generateCluster({ ...randomSpec(seed), emptyBrokers: 2 });
    const goals = [
      { kind: 'addBrokers' as const, brokerIds: cluster.newBrokerIds },
      { kind: 'removeBrokers' as const, brokerIds: [1] },
      { kind: 'balanceLeaders' as const },
    ];
    for (const goal of goals) {
      const ordered = planReassignment({ ...cluster, goal });
      const reversed = planReassignment({
        brokers: shuffled(cluster.brokers, seed),
        partitions: shuffled(cluster.partitions, seed + 1),
        partitionSizes: shuffled(cluster.partitionSizes, seed + 2),
        goal,
      });
      expect(reversed).toEqual(ordered);
    }
  });
});

test('the generator itself: racks are respected and load is even unless asked otherwise', () => {
  const cluster = generateCluster({ seed: 3, brokers: 6, partitions: 120, replicationFactor: 3, racks: 3 });
  const ids = cluster.brokers.map((b) => b.id);
  expect(rackViolations(cluster.partitions.map((p) => p.replicas), rackMap({ ...cluster, goal: { kind: 'balanceLeaders' } }), ids)).toBe(0);
  expect(spread(countPerBroker(cluster.partitions.map((p) => p.replicas), ids), ids)).toBeLessThanOrEqual(1);
});
