import { type ReassignmentInput, planReassignment } from '../../../src/reassignment';
import { brokersOf, expectValidPlan, topicOf } from './check';

describe('balanceLeaders', () => {
  test('reorders only: every partition keeps its replica set, leaders end within one of perfect', () => {
    // Broker 1 is the preferred leader of all nine partitions.
    const lists = Array.from({ length: 9 }, (_, i) => (i % 2 === 0 ? [1, 2, 3] : [1, 3, 2]));
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3]), partitions: topicOf('t', lists), goal: { kind: 'balanceLeaders' } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.moves).toEqual([]);
    expect(plan.stats.replicasMoved).toBe(0);
    expect(plan.stats.lowerBound).toBe(0);
    expect(plan.stats.leadersPerBroker.before).toEqual({ 1: 9, 2: 0, 3: 0 });
    expect(plan.stats.leadersPerBroker.after).toEqual({ 1: 3, 2: 3, 3: 3 });
    expect(plan.leaderChanges).toHaveLength(6);
    expect(plan.stats.preferredLeaderChanges).toBe(6);
    // The new leader moves to the front, the others keep their order.
    for (const c of plan.leaderChanges) expect(c.to.slice(1)).toEqual(c.from.filter((b) => b !== c.to[0]));
  });

  test('a replica out of the ISR is never made preferred leader', () => {
    const partitions = Array.from({ length: 6 }, (_, partition) => ({ topic: 't', partition, replicas: [1, 2, 3], isr: [1, 2] }));
    const input: ReassignmentInput = { brokers: brokersOf([1, 2, 3]), partitions, goal: { kind: 'balanceLeaders' } };
    const plan = planReassignment(input);
    expectValidPlan(input, plan);
    expect(plan.stats.leadersPerBroker.after).toEqual({ 1: 3, 2: 3, 3: 0 });
  });

  test('chains: leadership passes through a broker to reach one it does not share partitions with', () => {
    // Broker 1 leads everything; broker 3 only shares partitions with broker 2.
    const partitions = topicOf('t', [[1, 2], [1, 2], [1, 2], [1, 2], [2, 3], [2, 3]]);
    const plan = planReassignment({ brokers: brokersOf([1, 2, 3]), partitions, goal: { kind: 'balanceLeaders' } });
    expect(plan.stats.leadersPerBroker.before).toEqual({ 1: 4, 2: 2, 3: 0 });
    expect(plan.stats.leadersPerBroker.after).toEqual({ 1: 2, 2: 2, 3: 2 });
  });

  test('weights: a broker of weight 2 leads twice as many', () => {
    const lists = Array.from({ length: 8 }, () => [1, 2, 3]);
    const plan = planReassignment({
      brokers: [{ id: 1, rack: null }, { id: 2, rack: null }, { id: 3, rack: null, capacityWeight: 2 }],
      partitions: topicOf('t', lists),
      goal: { kind: 'balanceLeaders' },
    });
    expect(plan.stats.leadersPerBroker.after).toEqual({ 1: 2, 2: 2, 3: 4 });
  });

  test('RF 1: nothing to reorder, and a broker that could lead nothing is not counted short', () => {
    const plan = planReassignment({ brokers: brokersOf([1, 2]), partitions: topicOf('t', [[1], [1], [1], [1]]), goal: { kind: 'balanceLeaders' } });
    expect(plan.leaderChanges).toEqual([]);
    expect(plan.notes).toEqual([]);
  });

  test('says which brokers cannot be balanced when the placement forbids it', () => {
    // Brokers 1 and 2 share six partitions, 3 and 4 share two: 2 leaders each is out of reach.
    const lists = [...Array.from({ length: 6 }, () => [1, 2]), [3, 4], [3, 4]];
    const plan = planReassignment({ brokers: brokersOf([1, 2, 3, 4]), partitions: topicOf('t', lists), goal: { kind: 'balanceLeaders' } });
    expect(plan.stats.leadersPerBroker.after).toEqual({ 1: 3, 2: 3, 3: 1, 4: 1 });
    expect(plan.notes).toEqual([
      'Preferred leaders on brokers 1, 2, 3, 4 cannot reach their balanced share by reordering alone: the replica placement allows no better.',
    ]);
  });
});
