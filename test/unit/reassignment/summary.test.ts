import type { ClusterMetadata } from '../../../src/model/cluster';
import { describeGoal, formatBytes, planReassignment, reassignmentInputFromCluster, renderPlanSummary } from '../../../src/reassignment';
import { brokersOf, topicOf } from './check';

describe('renderPlanSummary', () => {
  const plan = planReassignment({
    brokers: brokersOf([1, 2, 3]),
    partitions: topicOf('pipe|line', [[1, 2], [2, 1], [1, 2], [2, 1]]),
    partitionSizes: [0, 1, 2, 3].map((partition) => ({ topic: 'pipe|line', partition, bytes: 3 * 1024 * 1024 })),
    goal: { kind: 'addBrokers', brokerIds: [3] },
  });
  const markdown = renderPlanSummary(plan, { movesShown: 1 });

  test('states the goal, the copies against the lower bound and the data to copy', () => {
    expect(markdown).toContain('### Reassignment plan: add broker 3');
    expect(markdown).toContain(`| Replica copies | ${plan.stats.replicasMoved} (lower bound ${plan.stats.lowerBound}, ratio 1.00) |`);
    expect(markdown).toContain(`| Data to copy | ${formatBytes(plan.stats.bytesMoved as number)} |`);
    // 8 replicas over 3 brokers: 3, 3, 2, so two copies of 3 MiB.
    expect(plan.stats.bytesMoved).toBe(2 * 3 * 1024 * 1024);
    expect(markdown).toContain('| Data to copy | 6.0 MiB |');
  });

  test('has one row per broker with before and after', () => {
    const after = plan.stats.replicasPerBroker.after;
    expect(markdown).toContain(`| 3 | 0 | ${after[3]} | 0 | ${plan.stats.leadersPerBroker.after[3]} |`);
  });

  test('lists moves up to the limit, escaping table separators', () => {
    expect(markdown).toContain('**Moves** (1 of 2)');
    expect(markdown).toContain('| pipe\\|line-');
    expect(markdown.match(/\| pipe\\\|line-\d \|/g)).toHaveLength(1);
  });

  test('shows notes', () => {
    const withNote = planReassignment({ brokers: brokersOf([1, 2]), partitions: topicOf('t', [[1, 2]]), goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 2 } });
    expect(renderPlanSummary(withNote)).toContain('**Notes**\n\n- Topic "t" already has replication factor 2; nothing to do.');
    expect(renderPlanSummary(withNote)).toContain('| Data to copy | unknown (no partition sizes) |');
  });
});

test('describeGoal and formatBytes', () => {
  expect(describeGoal({ kind: 'removeBrokers', brokerIds: [4, 5], topics: ['a'] })).toBe('remove brokers 4, 5 (topics "a")');
  expect(describeGoal({ kind: 'setReplicationFactor', topic: 'x', replicationFactor: 3 })).toBe('set replication factor of "x" to 3');
  expect(describeGoal({ kind: 'explicit', partitions: [{ topic: 'x', partition: 0, replicas: [1] }] })).toBe('explicit assignment of 1 partition');
  expect(formatBytes(512)).toBe('512 B');
  expect(formatBytes(1536)).toBe('1.5 KiB');
  expect(formatBytes(5 * 1024 ** 4)).toBe('5.0 TiB');
});

test('reassignmentInputFromCluster carries brokers, racks, replicas, ISR and the actual leader', () => {
  const cluster: ClusterMetadata = {
    clusterId: 'c',
    mode: 'kraft',
    controllerId: 1,
    brokers: [
      { id: 1, host: 'a', port: 9092, rack: 'r1' },
      { id: 2, host: 'b', port: 9092, rack: 'r2' },
    ],
    topics: [{ name: 't', internal: false, minInsyncReplicas: 1, partitions: [{ topic: 't', partition: 0, leader: 2, replicas: [1, 2], isr: [2], offlineReplicas: [] }] }],
    reassignments: [],
    quorum: null,
  };
  const input = reassignmentInputFromCluster(cluster, { kind: 'balanceLeaders' }, { capacityWeights: { 2: 3 } });
  expect(input.brokers).toEqual([
    { id: 1, rack: 'r1' },
    { id: 2, rack: 'r2', capacityWeight: 3 },
  ]);
  expect(input.partitions).toEqual([{ topic: 't', partition: 0, replicas: [1, 2], isr: [2], leader: 2 }]);
  // Broker 1 is out of sync: the plan makes the in-sync broker 2 the preferred leader.
  expect(planReassignment(input).target).toEqual([{ topic: 't', partition: 0, replicas: [2, 1] }]);
});
