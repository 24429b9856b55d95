import { type ReassignmentInput, planReassignment } from '../../../src/reassignment';
import { brokersOf, expectValidPlan, topicOf } from './check';

const partitions = topicOf('orders', [
  [1, 2],
  [2, 3],
  [3, 1],
]);

describe('explicit', () => {
  test('applies the given lists, leaves the rest, copies only what is new', () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4]),
      partitions,
      goal: { kind: 'explicit', partitions: [{ topic: 'orders', partition: 1, replicas: [2, 4] }] },
    };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.target.map((t) => t.replicas)).toEqual([[1, 2], [2, 4], [3, 1]]);
    expect(plan.moves).toEqual([{ topic: 'orders', partition: 1, from: [2, 3], to: [2, 4], addingReplicas: [4], removingReplicas: [3], bytes: null }]);
    expect(plan.stats.lowerBound).toBe(1);
    expect(plan.stats.movesOverLowerBound).toBe(1);
  });

  test("the operator's new leader takes over only after the copy: phase 1 keeps the current one first", () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4]),
      partitions,
      goal: { kind: 'explicit', partitions: [{ topic: 'orders', partition: 0, replicas: [4, 1] }] },
    };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.moves[0]?.to).toEqual([1, 4]);
    expect(plan.leaderChanges).toEqual([{ topic: 'orders', partition: 0, from: [1, 4], to: [4, 1], leaderBefore: 1, leaderAfter: 4 }]);
  });

  test('a pure reorder is a leader change, not a move', () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3]),
      partitions,
      goal: { kind: 'explicit', partitions: [{ topic: 'orders', partition: 2, replicas: [1, 3] }] },
    };
    const plan = planReassignment(input);
    expect(plan.moves).toEqual([]);
    expect(plan.leaderChanges).toEqual([{ topic: 'orders', partition: 2, from: [3, 1], to: [1, 3], leaderBefore: 3, leaderAfter: 1 }]);
    expect(plan.stats.replicasMoved).toBe(0);
  });

  test('may change a partition RF, and warns when it narrows the rack spread', () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3], ['a', 'a', 'b']),
      partitions: topicOf('t', [[1, 3]]),
      goal: { kind: 'explicit', partitions: [{ topic: 't', partition: 0, replicas: [1, 2] }] },
    };
    const plan = planReassignment(input);
    expect(plan.stats.rackViolations).toEqual({ before: 0, after: 1 });
    expect(plan.notes).toEqual(['The explicit plan spreads 1 partition over fewer racks than before and than possible: t-0.']);
  });
});
