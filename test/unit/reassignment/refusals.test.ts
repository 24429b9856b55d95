import { type PlanRefusalReason, PlanRefused, type ReassignmentGoal, type ReassignmentInput, planReassignment } from '../../../src/reassignment';
import { brokersOf, topicOf } from './check';

const cluster = {
  brokers: brokersOf([1, 2, 3]),
  partitions: [...topicOf('orders', [[1, 2, 3], [2, 3, 1]]), ...topicOf('audit', [[1, 2], [3, 1]])],
};

function refusalOf(goal: ReassignmentGoal, input: Omit<ReassignmentInput, 'goal'> = cluster): PlanRefused {
  try {
    planReassignment({ ...input, goal });
  } catch (err) {
    if (err instanceof PlanRefused) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(goal)} to be refused`);
}

describe('refused goals', () => {
  test.each<[string, ReassignmentGoal, PlanRefusalReason, string, string]>([
    ['add: unknown broker', { kind: 'addBrokers', brokerIds: [7] }, 'unknownBroker', 'goal.brokerIds', 'cannot add broker 7: it is not registered (registered brokers: 1, 2, 3)'],
    ['add: no ids', { kind: 'addBrokers', brokerIds: [] }, 'noBrokersGiven', 'goal.brokerIds', 'no broker ids given'],
    ['add: id twice', { kind: 'addBrokers', brokerIds: [3, 3] }, 'duplicateBroker', 'goal.brokerIds', 'broker 3 is listed twice'],
    [
      'add: broker already a full member',
      { kind: 'addBrokers', brokerIds: [1] },
      'brokerAlreadyPresent',
      'goal.brokerIds',
      'cannot add broker 1: it already holds 4 replicas, at or above its balanced share of 4; it is not a new broker',
    ],
    ['add: unknown topic in filter', { kind: 'addBrokers', brokerIds: [3], topics: ['ordres'] }, 'unknownTopic', 'goal.topics', 'unknown topic "ordres" in the topics filter'],
    ['add: empty filter', { kind: 'addBrokers', brokerIds: [3], topics: [] }, 'invalidInput', 'goal.topics', 'the topics filter is empty: omit it to include every topic'],
    ['remove: unknown broker', { kind: 'removeBrokers', brokerIds: [2, 42] }, 'unknownBroker', 'goal.brokerIds', 'cannot remove broker 42: no such broker (registered brokers: 1, 2, 3)'],
    ['remove: all brokers', { kind: 'removeBrokers', brokerIds: [1, 2, 3] }, 'removingAllBrokers', 'goal.brokerIds', 'cannot remove brokers 1, 2, 3: no registered broker would remain'],
    [
      'remove: RF can no longer be met',
      { kind: 'removeBrokers', brokerIds: [3] },
      'tooFewBrokers',
      'goal.brokerIds',
      'cannot remove brokers 3: topic "orders" has replication factor 3 but only 2 brokers would remain',
    ],
    [
      'remove: RF can no longer be met (singular)',
      { kind: 'removeBrokers', brokerIds: [2, 3] },
      'tooFewBrokers',
      'goal.brokerIds',
      'cannot remove brokers 2, 3: topic "audit" has replication factor 2 but only 1 broker would remain',
    ],
    ['rf: unknown topic', { kind: 'setReplicationFactor', topic: 'nope', replicationFactor: 2 }, 'unknownTopic', 'goal.topic', 'unknown topic "nope"'],
    ['rf: zero', { kind: 'setReplicationFactor', topic: 'audit', replicationFactor: 0 }, 'replicationFactorTooSmall', 'goal.replicationFactor', 'replication factor must be a whole number of at least 1, got 0'],
    ['rf: fractional', { kind: 'setReplicationFactor', topic: 'audit', replicationFactor: 2.5 }, 'replicationFactorTooSmall', 'goal.replicationFactor', 'replication factor must be a whole number of at least 1, got 2.5'],
    [
      'rf: more than brokers',
      { kind: 'setReplicationFactor', topic: 'audit', replicationFactor: 4 },
      'replicationFactorTooLarge',
      'goal.replicationFactor',
      'replication factor 4 for topic "audit" needs 4 brokers but only 3 are registered',
    ],
    ['explicit: empty', { kind: 'explicit', partitions: [] }, 'invalidInput', 'goal.partitions', 'the explicit plan names no partitions'],
    [
      'explicit: unknown topic',
      { kind: 'explicit', partitions: [{ topic: 'ghost', partition: 0, replicas: [1] }] },
      'unknownTopic',
      'goal.partitions[0].topic',
      'goal.partitions[0]: topic "ghost" does not exist',
    ],
    [
      'explicit: unknown partition',
      { kind: 'explicit', partitions: [{ topic: 'orders', partition: 0, replicas: [1, 2, 3] }, { topic: 'orders', partition: 5, replicas: [1] }] },
      'unknownPartition',
      'goal.partitions[1].partition',
      'goal.partitions[1]: partition orders-5 does not exist (topic "orders" has 2 partitions)',
    ],
    [
      'explicit: broker twice',
      { kind: 'explicit', partitions: [{ topic: 'orders', partition: 1, replicas: [1, 2, 1] }] },
      'duplicateReplica',
      'goal.partitions[0].replicas',
      'goal.partitions[0]: replicas [1, 2, 1] of orders-1 list broker 1 twice',
    ],
    [
      'explicit: unknown broker',
      { kind: 'explicit', partitions: [{ topic: 'orders', partition: 1, replicas: [1, 9] }] },
      'unknownBroker',
      'goal.partitions[0].replicas',
      'goal.partitions[0]: broker 9 for orders-1 is not registered',
    ],
    [
      'explicit: partition twice',
      { kind: 'explicit', partitions: [{ topic: 'audit', partition: 1, replicas: [1, 2] }, { topic: 'audit', partition: 1, replicas: [2, 3] }] },
      'duplicatePartition',
      'goal.partitions[1]',
      'goal.partitions[1]: partition audit-1 is listed twice',
    ],
    [
      'explicit: no replicas',
      { kind: 'explicit', partitions: [{ topic: 'audit', partition: 0, replicas: [] }] },
      'emptyReplicaList',
      'goal.partitions[0].replicas',
      'goal.partitions[0]: partition audit-0 needs at least one replica',
    ],
  ])('%s', (_name, goal, reason, field, message) => {
    const refusal = refusalOf(goal);
    expect(refusal).toBeInstanceOf(Error);
    expect(refusal.name).toBe('PlanRefused');
    expect(refusal.reason).toBe(reason);
    expect(refusal.field).toBe(field);
    expect(refusal.message).toBe(message);
  });

  test('add: a broker that holds replicas but is not registered', () => {
    const input = { brokers: brokersOf([1, 2]), partitions: topicOf('t', [[1, 5]]) };
    expect(refusalOf({ kind: 'addBrokers', brokerIds: [5] }, input).message).toBe('cannot add broker 5: it holds replicas but is not registered (registered brokers: 1, 2)');
  });

  test.each<[string, Omit<ReassignmentInput, 'goal'>, string, string]>([
    ['a broker listed twice', { brokers: brokersOf([1, 1]), partitions: [] }, 'brokers[1].id', 'broker 1 is listed twice in the brokers'],
    [
      'a zero capacity weight',
      { brokers: [{ id: 1, rack: null, capacityWeight: 0 }], partitions: [] },
      'brokers[0].capacityWeight',
      'broker 1 has capacity weight 0; it must be a positive number',
    ],
    ['a partition listed twice', { brokers: brokersOf([1]), partitions: [...topicOf('t', [[1]]), ...topicOf('t', [[1]])] }, 'partitions[1]', 'partition t-0 appears twice in the current assignment'],
    ['a replica list naming a broker twice', { brokers: brokersOf([1, 2]), partitions: topicOf('t', [[1, 1]]) }, 'partitions[0].replicas', 'partition t-0 lists a broker twice: [1, 1]'],
    ['a partition without replicas', { brokers: brokersOf([1]), partitions: topicOf('t', [[]]) }, 'partitions[0].replicas', 'partition t-0 has no replicas'],
    [
      'a negative size',
      { brokers: brokersOf([1]), partitions: topicOf('t', [[1]]), partitionSizes: [{ topic: 't', partition: 0, bytes: -1 }] },
      'partitionSizes[0].bytes',
      'size of t-0 is -1 bytes',
    ],
  ])('bad current state: %s', (_name, input, field, message) => {
    const refusal = refusalOf({ kind: 'balanceLeaders' }, input);
    expect(refusal.field).toBe(field);
    expect(refusal.message).toBe(message);
  });
});
