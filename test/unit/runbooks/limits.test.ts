import { inputProblems } from '../../../src/runbooks/input';
import { RUNBOOKS } from '../../../src/runbooks/registry';

/**
 * Hostile values for every bounded field of every runbook input: each is refused before anything starts,
 * with the field and the limit named. Each row starts from a valid input and breaks one field.
 */

const BASE: Record<string, Record<string, unknown>> = {
  'cluster-health': { cluster: 'lab' },
  'rolling-restart': { cluster: 'lab', targetVersion: '4.3.1' },
  'add-brokers': { cluster: 'lab', hosts: ['kafka-4'] },
  'decommission-broker': { cluster: 'lab', hosts: ['kafka-4'] },
  'change-replication-factor': { cluster: 'lab', topic: 'payments', replicationFactor: 3 },
  'rebalance-leaders': { cluster: 'lab' },
  'reassign-partitions': { cluster: 'lab', goal: { kind: 'addBrokers', brokerIds: [4] } },
};

const INT32 = 2 ** 31 - 1;
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const long = (n: number) => 'a'.repeat(n);
const explicit = (partitions: unknown[]) => ({ kind: 'explicit', partitions });
const move = (over: Record<string, unknown> = {}) => ({ topic: 'payments', partition: 0, replicas: [1, 2, 3], ...over });

type Row = [runbook: string, field: string, value: Record<string, unknown>, problem: string];

const EXECUTION_RUNBOOKS = ['add-brokers', 'decommission-broker', 'change-replication-factor', 'rebalance-leaders', 'reassign-partitions'];

const rows: Row[] = [
  // Every runbook: the cluster name's length.
  ...Object.keys(BASE).map((rb): Row => [rb, 'cluster', { cluster: long(254) }, 'cluster: must be at most 253 characters']),

  // Timeouts.
  ['add-brokers', 'registrationTimeoutMinutes', { registrationTimeoutMinutes: 1e308 }, 'registrationTimeoutMinutes: must be at most 10080 minutes'],
  ['add-brokers', 'registrationTimeoutMinutes', { registrationTimeoutMinutes: Infinity }, 'registrationTimeoutMinutes: must be at most 10080 minutes'],
  ['add-brokers', 'registrationTimeoutMinutes', { registrationTimeoutMinutes: 10_081 }, 'registrationTimeoutMinutes: must be at most 10080 minutes'],
  ['add-brokers', 'registrationTimeoutMinutes', { registrationTimeoutMinutes: NaN }, 'registrationTimeoutMinutes: Expected number, received nan'],
  ...EXECUTION_RUNBOOKS.map((rb): Row => [rb, 'batchTimeoutMinutes', { batchTimeoutMinutes: 1e308 }, 'batchTimeoutMinutes: must be at most 10080 minutes']),
  ['reassign-partitions', 'batchTimeoutMinutes', { batchTimeoutMinutes: -1 }, 'batchTimeoutMinutes: must be more than 0 minutes'],
  ['rolling-restart', 'timeouts.catchUpSeconds', { timeouts: { catchUpSeconds: 1e308 } }, 'timeouts.catchUpSeconds: must be at most 604800 seconds'],
  ['rolling-restart', 'timeouts.stopSeconds', { timeouts: { stopSeconds: Infinity } }, 'timeouts.stopSeconds: must be a whole number of seconds'],

  // Throttle rates and move counts.
  ...EXECUTION_RUNBOOKS.map((rb): Row => [rb, 'throttleBytesPerSec', { throttleBytesPerSec: 1e308 }, 'throttleBytesPerSec: must be at most 10737418240 bytes/s']),
  ['reassign-partitions', 'throttleBytesPerSec', { throttleBytesPerSec: 2 ** 53 }, 'throttleBytesPerSec: must be at most 10737418240 bytes/s'],
  ['reassign-partitions', 'throttleBytesPerSec', { throttleBytesPerSec: -1 }, 'throttleBytesPerSec: must be at least 1 bytes/s'],
  ['reassign-partitions', 'maxMovesPerBroker', { maxMovesPerBroker: 2 ** 31 }, 'maxMovesPerBroker: must be at most 1000'],
  ['reassign-partitions', 'maxMovesPerCluster', { maxMovesPerCluster: 1e308 }, 'maxMovesPerCluster: must be at most 100000'],
  ['rolling-restart', 'parallelism.maxBatch', { parallelism: { mode: 'no-shared-partitions', maxBatch: 1e308 } }, 'parallelism.maxBatch: must be at most 100'],

  // Broker ids, partitions, replication factors.
  ['reassign-partitions', 'goal.brokerIds[0]', { goal: { kind: 'addBrokers', brokerIds: [2 ** 31] } }, `goal.brokerIds[0]: broker ids are at most ${INT32}`],
  ['reassign-partitions', 'goal.brokerIds[0]', { goal: { kind: 'removeBrokers', brokerIds: [1e308] } }, `goal.brokerIds[0]: broker ids are at most ${INT32}`],
  ['reassign-partitions', 'goal.brokerIds', { goal: { kind: 'addBrokers', brokerIds: many(10_001, (i) => i) } }, 'goal.brokerIds: must list at most 10000 brokers'],
  ['reassign-partitions', 'goal.partitions[0].partition', { goal: explicit([move({ partition: 2 ** 31 })]) }, `goal.partitions[0].partition: partition numbers are at most ${INT32}`],
  ['reassign-partitions', 'goal.partitions[0].replicas[1]', { goal: explicit([move({ replicas: [1, 1e308] })]) }, `goal.partitions[0].replicas[1]: broker ids are at most ${INT32}`],
  ['reassign-partitions', 'goal.partitions[0].replicas', { goal: explicit([move({ replicas: many(101, (i) => i) })]) }, 'goal.partitions[0].replicas: must list at most 100 replicas'],
  ['reassign-partitions', 'goal.partitions', { goal: explicit(many(20_001, (i) => move({ partition: i }))) }, 'goal.partitions: must list at most 20000 partitions'],
  ['reassign-partitions', 'goal.replicationFactor', { goal: { kind: 'setReplicationFactor', topic: 't', replicationFactor: 1e308 } }, 'goal.replicationFactor: must be at most 100'],
  ['change-replication-factor', 'replicationFactor', { replicationFactor: 2 ** 31 }, 'replicationFactor: must be at most 100'],
  ['rolling-restart', 'nodes[0]', { nodes: [2 ** 31] }, `nodes[0]: node ids are at most ${INT32}`],
  ['rolling-restart', 'nodes[0]', { nodes: [1e308] }, `nodes[0]: node ids are at most ${INT32}`],

  // List lengths.
  ['add-brokers', 'hosts', { hosts: many(10_001, (i) => `kafka-${i}`) }, 'hosts: must list at most 10000 hosts'],
  ['decommission-broker', 'hosts', { hosts: many(10_001, (i) => `kafka-${i}`) }, 'hosts: must list at most 10000 hosts'],
  ['rolling-restart', 'nodes', { nodes: many(10_001, (i) => i) }, 'nodes: must list at most 10000 nodes'],
  ['rolling-restart', 'sourceByHost', { sourceByHost: Object.fromEntries(many(10_001, (i) => [`kafka-${i}`, { kind: 'staged', path: 'k' }])) }, 'sourceByHost: must name at most 10000 hosts'],
  ['reassign-partitions', 'goal.topics', { goal: { kind: 'addBrokers', brokerIds: [4], topics: many(10_001, (i) => `t${i}`) } }, 'goal.topics: must list at most 10000 topics'],
  ...EXECUTION_RUNBOOKS.map((rb): Row => [rb, 'approvers', { approvers: many(101, (i) => `op${i}`) }, 'approvers: must list at most 100 approvers']),
  ['rolling-restart', 'approvers', { approvers: many(101, (i) => `op${i}`) }, 'approvers: must list at most 100 approvers'],

  // String lengths.
  ['add-brokers', 'hosts[0]', { hosts: [long(254)] }, 'hosts[0]: must be at most 253 characters'],
  ['change-replication-factor', 'topic', { topic: long(250) }, 'topic: must be at most 249 characters'],
  ['reassign-partitions', 'goal.topics[0]', { goal: { kind: 'removeBrokers', brokerIds: [1], topics: [long(250)] } }, 'goal.topics[0]: must be at most 249 characters'],
  ['reassign-partitions', 'goal.partitions[0].topic', { goal: explicit([move({ topic: long(250) })]) }, 'goal.partitions[0].topic: must be at most 249 characters'],
  ['reassign-partitions', 'approvers[0]', { approvers: [long(254)] }, 'approvers[0]: must be at most 253 characters'],
  ['rolling-restart', 'nodes[0]', { nodes: [long(254)] }, 'nodes[0]: must be at most 253 characters'],
  ['rolling-restart', 'approvers[0]', { approvers: [long(254)] }, 'approvers[0]: must be at most 253 characters'],
  ['rolling-restart', 'source.path', { source: { kind: 'archive', path: `/opt/kafka/${long(4096)}` } }, 'source.path: must be at most 4096 characters'],
  ['rolling-restart', 'targetVersion', { targetVersion: `${'9'.repeat(40)}.0.0` }, 'targetVersion: must be at most 32 characters'],
];

describe('upper bounds on runbook inputs', () => {
  test.each(rows)('%s: %s is refused with its limit', (runbook, _field, value, problem) => {
    const schema = RUNBOOKS[runbook]!.schema;
    expect(inputProblems(schema, BASE[runbook])).toEqual([]);
    expect(inputProblems(schema, { ...BASE[runbook], ...value })).toContain(problem);
  });

  test.each([
    ['add-brokers', { registrationTimeoutMinutes: 10_080, throttleBytesPerSec: 10 * 1024 ** 3, batchTimeoutMinutes: 10_080, maxMovesPerBroker: 1000, maxMovesPerCluster: 100_000 }],
    ['add-brokers', { hosts: many(10_000, (i) => `kafka-${i}`), approvers: many(100, (i) => `op${i}`) }],
    ['reassign-partitions', { goal: { kind: 'addBrokers', brokerIds: [INT32, 0], topics: many(10_000, (i) => `t${i}`) } }],
    ['reassign-partitions', { goal: explicit(many(20_000, (i) => move({ partition: i, topic: long(249) }))) }],
    ['rolling-restart', { nodes: [INT32, long(253)], timeouts: { catchUpSeconds: 604_800, guardWaitSeconds: 604_800 } }],
  ])('%s: values at the limits are accepted', (runbook, value) => {
    expect(inputProblems(RUNBOOKS[runbook]!.schema, { ...BASE[runbook], ...value })).toEqual([]);
  });
});
