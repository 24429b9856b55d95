import { createBrokerActivities } from '../../activities/brokers';
import { createClusterRegistry } from '../../activities/clusters';
import { createHostShell } from '../../activities/ssh';
import { loadInventories } from '../../src/inventory/load';
import { startTraffic, trafficVerdict } from './support/traffic';
import { createTopicWithRetry, eventually, inventoryHost, loadLabInventory, registeredBrokers, runHostCommand, useLab } from './support/lab';

/**
 * The traffic harness the runbook e2e tests rely on, proved on its own: it sees a broker restart through
 * without losing an acknowledged message, and it would report a loss if there was one.
 */
describe('traffic harness', () => {
  const lab = useLab({ name: 'e2e-traffic', subnet: 23, mode: 'kraft' });

  test('a broker restarted mid-traffic: every acknowledged message consumed exactly once', async () => {
    await createTopicWithRetry(lab().bootstrapServers, { topic: 'traffic', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] });

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
    expect(report.acked).toBeGreaterThan(100);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
  });

  test('the canary activity produces a record and reads that same record back', async () => {
    const shell = createHostShell();
    const canary = createBrokerActivities({ clusters: createClusterRegistry(loadInventories([lab().inventoryPath])), shell });
    try {
      const r = await canary.canaryRoundTrip('e2e-traffic', 'traffic');
      expect(r.partition).toBeGreaterThanOrEqual(0);
      expect(Number(r.offset)).toBeGreaterThanOrEqual(0);
      await expect(canary.canaryRoundTrip('e2e-traffic', 'no-such-topic', 5_000)).rejects.toThrow();
    } finally {
      await shell.close();
    }
  });

});

test('the verdict names lost and duplicated messages', () => {
  const seen = new Map<number, Set<string>>([
    [0, new Set(['0:0'])],
    [1, new Set(['0:1', '1:7'])], // found at two offsets: a duplicate in the log
    [3, new Set(['2:4'])], // consumed but never acknowledged: allowed
  ]);
  expect(trafficVerdict(new Set([0, 1, 2]), seen)).toEqual({ acked: 3, consumedDistinct: 3, lost: [2], duplicated: [1] });
});
