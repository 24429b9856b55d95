import { type ReassignmentInput, planReassignment } from '../../../src/reassignment';
import { brokersOf, expectValidPlan, topicOf } from './check';

// Four brokers, eight partitions RF 2, two leaders and four replicas each.
const fourBrokers = topicOf(
  'orders',
  Array.from({ length: 8 }, (_, i) => [1 + (i % 4), 1 + ((i + 1) % 4)]),
);

describe('removeBrokers', () => {
  test('moves exactly the replicas on the removed broker, keeps leaders in place while copying', () => {
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions: fourBrokers, goal: { kind: 'removeBrokers', brokerIds: [4] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.stats.lowerBound).toBe(4);
    expect(plan.stats.replicasMoved).toBe(4);
    expect(plan.stats.movesOverLowerBound).toBe(1);
    expect(plan.moves.every((m) => m.removingReplicas.length === 1 && m.removingReplicas[0] === 4)).toBe(true);
    expect(plan.stats.replicasPerBroker.after[4]).toBe(0);
    expect(plan.stats.leadersPerBroker.after[4]).toBe(0);
    // 16 replicas over 3 brokers: 5 or 6 each; 8 leaders: 2 or 3 each.
    for (const id of [1, 2, 3]) {
      expect([5, 6]).toContain(plan.stats.replicasPerBroker.after[id]);
      expect([2, 3]).toContain(plan.stats.leadersPerBroker.after[id]);
    }
    // Partitions led by broker 4 get a new leader; the others keep theirs during the copy.
    for (const m of plan.moves) {
      if (m.from[0] !== 4) expect(m.to[0]).toBe(m.from[0]);
      else expect(m.to).not.toContain(4);
    }
  });

  test('racks: a replica leaving rack a goes to the other broker in rack a when RF = racks', () => {
    const lists = Array.from({ length: 6 }, (_, i) => [1 + (i % 2), 3 + (i % 2), 5 + (i % 2)]);
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4, 5, 6], ['a', 'a', 'b', 'b', 'c', 'c']),
      partitions: topicOf('t', lists),
      goal: { kind: 'removeBrokers', brokerIds: [1] },
    };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.moves.flatMap((m) => m.addingReplicas)).toEqual([2, 2, 2]);
    expect(plan.stats.rackViolations).toEqual({ before: 0, after: 0 });
  });

  test('a dead broker (holding replicas, not registered) can be removed', () => {
    const partitions = topicOf('t', [[9, 1], [2, 9], [1, 2]]);
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3]), partitions, goal: { kind: 'removeBrokers', brokerIds: [9] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.stats.replicasMoved).toBe(2);
    expect(plan.target.flatMap((t) => t.replicas)).not.toContain(9);
    // Broker 3 holds nothing and is least loaded: it takes both.
    expect(plan.moves.flatMap((m) => m.addingReplicas)).toEqual([3, 3]);
  });

  test('a topics filter drains only those topics and says what stays behind', () => {
    const partitions = [...topicOf('a', [[3, 1], [2, 3]]), ...topicOf('b', [[3, 2]])];
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3]), partitions, goal: { kind: 'removeBrokers', brokerIds: [3], topics: ['a'] } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.moves.map((m) => m.topic)).toEqual(['a', 'a']);
    expect(plan.stats.replicasMoved).toBe(2);
    expect(plan.stats.lowerBound).toBe(2);
    expect(plan.stats.replicasPerBroker.after[3]).toBe(1);
    expect(plan.notes).toContain('1 replica of topics outside the filter stay on brokers 3; they are not empty yet.');
  });

  test('partition sizes give the bytes to copy', () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4]),
      partitions: fourBrokers,
      partitionSizes: fourBrokers.map((p) => ({ topic: p.topic, partition: p.partition, bytes: 1000 * (p.partition + 1) })),
      goal: { kind: 'removeBrokers', brokerIds: [4] },
    };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    // Broker 4 holds partitions 2, 3, 6, 7: sizes 3000 + 4000 + 7000 + 8000.
    expect(plan.stats.bytesMoved).toBe(22_000);
    expect(plan.moves.map((m) => m.bytes)).toEqual([3000, 4000, 7000, 8000]);
  });

  test('bytes are unknown when a moved partition has no size', () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4]),
      partitions: fourBrokers,
      partitionSizes: [{ topic: 'orders', partition: 2, bytes: 5 }],
      goal: { kind: 'removeBrokers', brokerIds: [4] },
    };
    const plan = planReassignment(input);
    expect(plan.stats.bytesMoved).toBeNull();
    expect(plan.notes).toContain('Sizes are missing for 3 moved partitions, so the bytes to copy are unknown.');
  });
});
