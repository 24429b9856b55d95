import { Kafka, logLevel } from 'kafkajs';
import { createBrokerActivities } from '../../activities/brokers';
import { createClusterRegistry } from '../../activities/clusters';
import { createHostShell, type HostShell } from '../../activities/ssh';
import { loadInventories } from '../../src/inventory/load';
import { type AckedAt, startTraffic, trafficVerdict } from './support/traffic';
import { createTopicWithRetry, eventually, inventoryHost, loadLabInventory, registeredBrokers, runHostCommand, useLab } from './support/lab';

/**
 * The traffic harness the runbook e2e tests rely on, proved on its own: Kafka's Java producer writes, kcat reads
 * the log back; it sees a broker restart through without losing an acknowledged record, and it reports a loss,
 * by partition and offset, when the log no longer holds an acknowledged record.
 */
describe('traffic harness', () => {
  const lab = useLab({ name: 'e2e-traffic', subnet: 23, mode: 'kraft' });
  const mustHold = async (topic: string) => createTopicWithRetry(lab().bootstrapServers, { topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] });

  test('a broker restarted mid-traffic: every acknowledged record read back exactly once, at its acknowledged offset', async () => {
    await mustHold('traffic');
    const traffic = await startTraffic({ bootstrapServers: lab().bootstrapServers, topic: 'traffic' });
    await eventually('some traffic', async () => traffic.acked(), (n) => n > 50, 30_000);
    const host = inventoryHost(loadLabInventory(lab()), 'kafka-3');
    expect((await runHostCommand(host, 'stop')).code).toBe(0);
    await eventually('kafka-3 gone', () => registeredBrokers(lab()), (ids) => !ids.includes(3), 60_000);
    const during = traffic.acked();
    await eventually('traffic while kafka-3 is down', async () => traffic.acked(), (n) => n > during + 50, 30_000);
    expect((await runHostCommand(host, 'start')).code).toBe(0);
    await eventually('kafka-3 back', () => registeredBrokers(lab()), (ids) => ids.includes(3), 60_000);

    const report = await traffic.stop();
    console.log(`traffic: ${JSON.stringify(report)}`);
    expect(report.acked).toBeGreaterThan(100);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.misplaced).toEqual([]);
    // Each request carried records for several partitions.
    expect(report.recordsPerRequest).toBeGreaterThan(1);
  });

  test('records gone from the log after their acknowledgement are reported lost, with their partition and offsets', async () => {
    await mustHold('traffic-truncated');
    const traffic = await startTraffic({ bootstrapServers: lab().bootstrapServers, topic: 'traffic-truncated' });
    await eventually('some traffic', async () => traffic.acked(), (n) => n > 60, 30_000);
    // Records acknowledged, then deleted: a reader that only watched them arrive would call them safe.
    const admin = new Kafka({ brokers: lab().bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: ['traffic-truncated'] }); // kafkajs deletes only in topics it has loaded
      await admin.deleteTopicRecords({ topic: 'traffic-truncated', partitions: [{ partition: 2, offset: '5' }] });
    } finally {
      await admin.disconnect();
    }
    const report = await traffic.stop();
    expect(report.lost.map((r) => [r.partition, r.offset])).toEqual([0, 1, 2, 3, 4].map((o) => [2, o]));
    expect(report.duplicated).toEqual([]);
  });

  test('the canary produces a record and reads it back with Kafka\'s console consumer at the acknowledged offset', async () => {
    const shell = createHostShell();
    const commands: string[] = [];
    const recording: HostShell = { exec: (h, c, o) => (commands.push(c), shell.exec(h, c, o)), close: () => shell.close() };
    const canary = createBrokerActivities({ clusters: createClusterRegistry(loadInventories([lab().inventoryPath])), shell: recording });
    try {
      const r = await canary.canaryRoundTrip('e2e-traffic', 'traffic');
      expect(r.partition).toBeGreaterThanOrEqual(0);
      expect(Number(r.offset)).toBeGreaterThanOrEqual(0);
      expect(commands.filter((c) => c.includes('kafka-console-consumer.sh'))).toEqual([expect.stringContaining(`--partition ${r.partition} --offset ${r.offset} --max-messages 1`)]);
      await expect(canary.canaryRoundTrip('e2e-traffic', 'no-such-topic', 5_000)).rejects.toThrow();
    } finally {
      await shell.close();
    }
  });
});

test('the verdict names lost, duplicated and misplaced records', () => {
  const acked = new Map<number, AckedAt>([
    [0, { partition: 0, offset: 0 }],
    [1, { partition: 0, offset: 1 }],
    [2, { partition: 1, offset: 3 }],
    [4, { partition: 2, offset: 5 }],
  ]);
  const seen = new Map<number, Set<string>>([
    [0, new Set(['0:0'])],
    [1, new Set(['0:1', '1:7'])], // found at two offsets: a duplicate in the log
    [3, new Set(['2:4'])], // read but never acknowledged: allowed
    [4, new Set(['2:6'])], // read, but not where its acknowledgement said
  ]);
  expect(trafficVerdict(acked, seen)).toEqual({ acked: 4, consumedDistinct: 4, lost: [{ seq: 2, partition: 1, offset: 3 }], duplicated: [1], misplaced: [4] });
});
