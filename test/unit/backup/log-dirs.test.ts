import { partitionSizes } from '../../../src/backup/log-dirs';

test('sizes per partition from kafka-log-dirs.sh: the largest replica, future replicas and failed dirs left out', () => {
  const out = [
    'Querying brokers for log directories information',
    'Received log directory information from brokers 1,2',
    JSON.stringify({
      version: 1,
      brokers: [
        { broker: 1, logDirs: [{ logDir: '/d1', error: null, partitions: [{ partition: 'orders-0', size: 100, offsetLag: 0, isFuture: false }, { partition: 'my-topic-10', size: 7, offsetLag: 0, isFuture: false }] }] },
        {
          broker: 2,
          logDirs: [
            { logDir: '/d2', error: null, partitions: [{ partition: 'orders-0', size: 90, offsetLag: 0, isFuture: false }, { partition: 'orders-0', size: 999, offsetLag: 0, isFuture: true }] },
            { logDir: '/d3', error: 'KafkaStorageException', partitions: [{ partition: 'orders-1', size: 5, offsetLag: 0, isFuture: false }] },
          ],
        },
      ],
    }),
  ].join('\n');
  expect([...partitionSizes(out)]).toEqual([
    ['orders:0', 100],
    ['my-topic:10', 7],
  ]);
  expect(() => partitionSizes('Querying brokers\n')).toThrow('no JSON line');
});
