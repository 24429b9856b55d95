import { kafkaConfigsAlterArgs, parseLeaderElectionOutput } from '../../../activities/reassignment';

// What the activities hand to and read from Kafka's tools; the formats were taken from Kafka 3.9.2 and
// 4.3.1 on the lab (test/e2e/reassignment.test.ts runs them for real).

describe('kafkaConfigsAlterArgs', () => {
  test('list values go in [..] so kafka-configs.sh does not split them on their commas', () => {
    expect(
      kafkaConfigsAlterArgs({
        entityType: 'topics',
        entityName: 'orders',
        set: [
          { name: 'leader.replication.throttled.replicas', value: '0:1,1:2' },
          { name: 'follower.replication.throttled.replicas', value: '*' },
        ],
        delete: [],
      }),
    ).toEqual(['--entity-type', 'topics', '--entity-name', 'orders', '--alter', '--add-config', 'leader.replication.throttled.replicas=[0:1,1:2],follower.replication.throttled.replicas=*']);
  });

  test('adds and deletes in one call; the cluster-wide broker default is --entity-default', () => {
    expect(kafkaConfigsAlterArgs({ entityType: 'brokers', entityName: '3', set: [{ name: 'leader.replication.throttled.rate', value: '500' }], delete: ['follower.replication.throttled.rate'] })).toEqual([
      '--entity-type', 'brokers', '--entity-name', '3', '--alter',
      '--add-config', 'leader.replication.throttled.rate=500',
      '--delete-config', 'follower.replication.throttled.rate',
    ]);
    expect(kafkaConfigsAlterArgs({ entityType: 'brokers', entityName: '', set: [], delete: ['a', 'b'] })).toEqual(['--entity-type', 'brokers', '--entity-default', '--alter', '--delete-config', 'a,b']);
  });
});

describe('parseLeaderElectionOutput', () => {
  test('elected, already elected and failed partitions; topic names with dashes', () => {
    const out = [
      'Successfully completed leader election (PREFERRED) for partitions my-topic-2, my-topic-10',
      'Valid replica already elected for partitions t2-2, t2-1',
      'Error completing leader election (PREFERRED) for partition: t2-7: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such partition as t2-7',
      '1 replica(s) could not be elected',
    ].join('\n');
    expect(parseLeaderElectionOutput(out)).toEqual({
      elected: [
        { topic: 'my-topic', partition: 2 },
        { topic: 'my-topic', partition: 10 },
      ],
      notNeeded: [
        { topic: 't2', partition: 1 },
        { topic: 't2', partition: 2 },
      ],
      failed: [{ topic: 't2', partition: 7, error: 'org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such partition as t2-7' }],
    });
    expect(parseLeaderElectionOutput('')).toEqual({ elected: [], notNeeded: [], failed: [] });
  });
});
