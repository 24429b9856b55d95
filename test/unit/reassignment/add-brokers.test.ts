import { PlanRefusalReason, PlanRefused, type ReassignmentInput, planReassignment } from '../../../src/reassignment';
import { brokersOf, currentLeader, expectValidPlan, topicOf } from './check';

// Three brokers, six partitions, RF 2: four replicas and two preferred leaders each.
const threeBrokers = topicOf('orders', [
  [1, 2],
  [2, 3],
  [3, 1],
  [1, 3],
  [2, 1],
  [3, 2],
]);

describe('addBrokers', () => {
  test('moves exactly the lower bound onto the new broker, followers only, and gives it leaders afterwards', () => {
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions: threeBrokers, goal: { kind: 'addBrokers', brokerIds: [4] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);

    // 12 replicas over 4 brokers: 3 each; each old broker gives exactly one.
    expect(plan.stats.lowerBound).toBe(3);
    expect(plan.stats.replicasMoved).toBe(3);
    expect(plan.stats.movesOverLowerBound).toBe(1);
    expect(plan.stats.replicasPerBroker.after).toEqual({ 1: 3, 2: 3, 3: 3, 4: 3 });
    expect(plan.moves.flatMap((m) => m.addingReplicas)).toEqual([4, 4, 4]);
    expect(plan.moves.flatMap((m) => m.removingReplicas).sort()).toEqual([1, 2, 3]);
    // While copying, the current leader stays first: no move touches a leader.
    for (const m of plan.moves) {
      expect(m.removingReplicas).not.toContain(m.from[0]);
      expect(m.to[0]).toBe(m.from[0]);
    }
    // Phase 2 hands the new broker its share of preferred leaders (6 over 4 brokers: 1 or 2 each).
    const leaders = Object.values(plan.stats.leadersPerBroker.after);
    expect(Math.max(...leaders) - Math.min(...leaders)).toBeLessThanOrEqual(1);
    expect(plan.stats.leadersPerBroker.after[4]).toBeGreaterThanOrEqual(1);
    expect(plan.leaderChanges.length).toBeGreaterThanOrEqual(1);
    for (const c of plan.leaderChanges) expect([...c.to].sort()).toEqual([...c.from].sort());
  });

  test('lower bound on an already uneven cluster is max(excess above ceil, deficit below floor)', () => {
    // Broker 1 holds 6, broker 2 holds 2, broker 3 is new: 8 replicas, 2.67 each -> targets 3, 2, 3.
    const partitions = topicOf('t', [[1], [1], [1], [1], [1], [1], [2], [2]]);
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3]), partitions, goal: { kind: 'addBrokers', brokerIds: [3] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.stats.lowerBound).toBe(3);
    expect(plan.stats.replicasMoved).toBe(3);
    expect(plan.stats.replicasPerBroker.after).toEqual({ 1: 3, 2: 2, 3: 3 });
  });

  test('capacity weights: a broker of weight 2 ends with twice the replicas', () => {
    const partitions = topicOf('t', [[1], [1], [1], [1], [2], [2], [2], [2]]);
    const input: ReassignmentInput = {
      brokers: [{ id: 1, rack: null }, { id: 2, rack: null }, { id: 3, rack: null, capacityWeight: 2 }],
      partitions,
      goal: { kind: 'addBrokers', brokerIds: [3] },
    };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.stats.replicasPerBroker.after).toEqual({ 1: 2, 2: 2, 3: 4 });
    expect(plan.stats.replicasMoved).toBe(4);
    expect(plan.stats.lowerBound).toBe(4);
  });

  test('topics filter: only those topics move, and they spread evenly over all brokers', () => {
    const partitions = [...topicOf('big', Array.from({ length: 8 }, (_, i) => [1 + (i % 2), 1 + ((i + 1) % 2)])), ...topicOf('small', [[1, 2], [2, 1]])];
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions, goal: { kind: 'addBrokers', brokerIds: [3, 4], topics: ['big'] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.moves.every((m) => m.topic === 'big')).toBe(true);
    expect(plan.leaderChanges.every((c) => c.topic === 'big')).toBe(true);
    // 16 replicas of "big" over 4 brokers: 4 each (plus the untouched "small" on 1 and 2).
    expect(plan.stats.replicasPerBroker.after).toEqual({ 1: 6, 2: 6, 3: 4, 4: 4 });
    expect(plan.stats.lowerBound).toBe(8);
    expect(plan.stats.replicasMoved).toBe(8);
  });

  test('racks: with RF = racks a new broker only takes replicas from its own rack, and the spread is kept', () => {
    // Racks a: 1, 2; b: 3, 4; c: 5, 6. Twelve partitions RF 3, one replica per rack each. Broker 7 joins rack a.
    const lists = Array.from({ length: 12 }, (_, i) => [1 + (i % 2), 3 + ((i >> 1) % 2), 5 + (i % 2)]);
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4, 5, 6, 7], ['a', 'a', 'b', 'b', 'c', 'c', 'a']),
      partitions: topicOf('t', lists),
      goal: { kind: 'addBrokers', brokerIds: [7] },
    };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    // Rack a holds 12 replicas whatever happens: 4 per broker there; the other racks cannot give any.
    expect(plan.stats.replicasPerBroker.after).toEqual({ 1: 4, 2: 4, 3: 6, 4: 6, 5: 6, 6: 6, 7: 4 });
    expect(plan.stats.lowerBound).toBe(4);
    expect(plan.stats.replicasMoved).toBe(4);
    for (const m of plan.moves) expect(m.removingReplicas.every((b) => b === 1 || b === 2)).toBe(true);
    expect(plan.stats.rackViolations).toEqual({ before: 0, after: 0 });
  });

  test('a move never takes a partition below its rack spread, and repairs a violation when it is free to', () => {
    // Partition 0 has two replicas in rack a; new broker 4 is in rack c.
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4], ['a', 'a', 'b', 'c']),
      partitions: topicOf('t', [[3, 1, 2], [1, 3], [2, 3]]),
      goal: { kind: 'addBrokers', brokerIds: [4] },
    };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.stats.rackViolations).toEqual({ before: 1, after: 0 });
    expect(plan.moves.find((m) => m.partition === 0)?.addingReplicas).toEqual([4]);
  });

  test('keeps the actual leader first during the copy even when it is not the preferred one', () => {
    const partitions = threeBrokers.map((p) => ({ ...p, leader: p.replicas[1] as number }));
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions, goal: { kind: 'addBrokers', brokerIds: [4] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    for (const m of plan.moves) {
      const p = partitions.find((x) => x.partition === m.partition);
      if (p && m.to.includes(currentLeader(p))) expect(m.to[0]).toBe(p.leader);
    }
  });

  test('refuses a broker that already holds its share: it is not new', () => {
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions: threeBrokers, goal: { kind: 'addBrokers', brokerIds: [3] } };
    const refusal = captureRefusal(input);
    expect(refusal.reason).toBe(PlanRefusalReason.BrokerAlreadyPresent);
    expect(refusal.field).toBe('goal.brokerIds');
    expect(refusal.message).toBe('cannot add broker 3: it already holds 4 replicas, at or above its balanced share of 3; it is not a new broker');
  });

  test('a new broker that already holds a few replicas is accepted and topped up', () => {
    const partitions = [...threeBrokers, ...topicOf('late', [[4, 1]])];
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions, goal: { kind: 'addBrokers', brokerIds: [4] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    // 14 replicas over 4 brokers: 3 or 4 each.
    for (const n of Object.values(plan.stats.replicasPerBroker.after)) expect([3, 4]).toContain(n);
  });

  test('an already balanced cluster needs nothing', () => {
    // Three replicas over four brokers: 0 or 1 each is already within one of perfect.
    const partitions = topicOf('t', [[1], [2], [3]]);
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions, goal: { kind: 'addBrokers', brokerIds: [4] } };
    const plan = planReassignment(input);
    expect(plan.moves).toEqual([]);
    expect(plan.stats.lowerBound).toBe(0);
    expect(plan.stats.movesOverLowerBound).toBe(1);
  });
});

function captureRefusal(input: ReassignmentInput): PlanRefused {
  try {
    planReassignment(input);
  } catch (err) {
    if (err instanceof PlanRefused) return err;
    throw err;
  }
  throw new Error('expected the plan to be refused');
}
