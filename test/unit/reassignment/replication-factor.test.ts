import { type ReassignmentInput, planReassignment } from '../../../src/reassignment';
import { brokersOf, expectValidPlan, topicOf } from './check';

describe('setReplicationFactor', () => {
  test('increase copies only the new replicas, appended after the current ones, on the least loaded brokers', () => {
    const partitions = [...topicOf('t', [[1], [2], [3]]), ...topicOf('other', [[1, 2], [1, 3]])];
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3, 4]), partitions, goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 2 } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan, { rfChanges: true });
    expect(plan.stats.replicasMoved).toBe(3);
    expect(plan.stats.lowerBound).toBe(3);
    expect(plan.stats.replicasRemoved).toBe(0);
    for (const m of plan.moves) {
      expect(m.to.slice(0, 1)).toEqual(m.from);
      expect(m.removingReplicas).toEqual([]);
    }
    // Broker 4 is empty, broker 1 the busiest: 4 takes a copy, 1 takes none.
    const added = plan.moves.flatMap((m) => m.addingReplicas);
    expect(added).toContain(4);
    expect(added).not.toContain(1);
    expect(plan.leaderChanges).toEqual([]);
  });

  test('increase is rack-aware: the new replica goes to a rack the partition is not in', () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4], ['a', 'a', 'b', 'c']),
      partitions: topicOf('t', [[1, 3]]),
      goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 3 },
    };
    const plan = planReassignment(input);
    expect(plan.target[0]?.replicas).toEqual([1, 3, 4]);
  });

  test('decrease copies nothing, keeps the leader, drops the out-of-sync replica first', () => {
    const partitions = [{ topic: 't', partition: 0, replicas: [1, 2, 3], isr: [1, 3] }];
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3]), partitions, goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 2 } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan, { rfChanges: true });
    expect(plan.target[0]?.replicas).toEqual([1, 3]);
    expect(plan.stats.replicasMoved).toBe(0);
    expect(plan.stats.replicasRemoved).toBe(1);
    expect(plan.stats.lowerBound).toBe(0);
    expect(plan.stats.movesOverLowerBound).toBe(1);
  });

  test('decrease drops from the most loaded brokers, never the leader', () => {
    // Broker 3 is busiest (other topic), then 2; leader 3 of partition 1 must stay.
    const partitions = [...topicOf('t', [[1, 2, 3], [3, 1, 2]]), ...topicOf('other', [[3], [3], [2]])];
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3]), partitions, goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 1 } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan, { rfChanges: true });
    expect(plan.target.filter((t) => t.topic === 't').map((t) => t.replicas)).toEqual([[1], [3]]);
    expect(plan.stats.replicasMoved).toBe(0);
  });

  test('decrease keeps the partition over as many racks as the new RF allows', () => {
    const input: ReassignmentInput = {
      brokers: brokersOf([1, 2, 3, 4], ['a', 'a', 'b', 'b']),
      partitions: topicOf('t', [[1, 2, 3, 4]]),
      goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 2 },
    };
    const plan = planReassignment(input);
    const racks = new Set(plan.target[0]?.replicas.map((b) => (b <= 2 ? 'a' : 'b')));
    expect(racks.size).toBe(2);
    expect(plan.target[0]?.replicas[0]).toBe(1);
  });

  test('same RF: nothing to do, said so', () => {
    const input: ReassignmentInput = { brokers: brokersOf([1, 2]), partitions: topicOf('t', [[1, 2]]), goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 2 } };
    const plan = planReassignment(input);
    expect(plan.moves).toEqual([]);
    expect(plan.notes).toEqual(['Topic "t" already has replication factor 2; nothing to do.']);
  });
});
