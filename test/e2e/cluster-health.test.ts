import { Kafka, logLevel } from 'kafkajs';
import { type HealthReport } from '../../src/health';
import { type LabCluster } from '../../src/lab';
import { cli, stackEnv, startWorker, useDevServer, type WorkerProcess } from './support/stack';
import { eventually, inventoryHost, loadLabInventory, registeredBrokers, runHostCommand, useLab } from './support/lab';

/**
 * The first runbook end to end: a real Temporal server, the real worker process, the CLI, and lab clusters
 * whose brokers are stopped and started over SSH.
 */

const temporal = useDevServer();

async function createTopic(lab: LabCluster, topic: string) {
  const admin = new Kafka({ brokers: lab.bootstrapServers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

function healthScenario(opts: { name: string; subnet: number; mode: 'kraft' | 'zookeeper'; version: string }) {
  describe(`${opts.mode} lab (${opts.version})`, () => {
    const lab = useLab({ name: opts.name, subnet: opts.subnet, mode: opts.mode });
    let worker: WorkerProcess;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      env = stackEnv(temporal(), [lab().inventoryPath], `e2e-${opts.name}`);
      worker = await startWorker(env);
      await createTopic(lab(), 'payments');
    }, 180_000);
    afterAll(async () => {
      await worker?.stop();
    });

    async function health(): Promise<HealthReport> {
      const r = await cli(env, ['start', 'cluster-health', '--cluster', opts.name, '--wait', '--json']);
      if (r.code !== 0) throw new Error(`cli exited ${r.code}: ${r.stderr}\n${r.stdout}\nworker:\n${worker.output().slice(-3000)}`);
      return (JSON.parse(r.stdout) as { report: HealthReport }).report;
    }

    test('reports healthy, with every broker, its version and the controller', async () => {
      const report = await eventually('a healthy report', health, (r) => r.status === 'healthy', 90_000);
      expect(report.brokers.map((b) => [b.nodeId, b.registered, b.processRunning, b.version])).toEqual([
        [1, true, true, opts.version],
        [2, true, true, opts.version],
        [3, true, true, opts.version],
      ]);
      expect(report.partitions.total).toBeGreaterThanOrEqual(6);
      if (opts.mode === 'kraft') {
        expect(report.controller.quorum?.voters.map((v) => v.nodeId).sort()).toEqual([1, 2, 3]);
        expect([1, 2, 3]).toContain(report.controller.quorum?.leaderId);
      } else {
        expect([1, 2, 3]).toContain(report.controller.controllerId);
      }
      expect(report.hosts.every((h) => h.reachable && h.dataDirs.every((d) => (d.usedBytes ?? 0) > 0))).toBe(true);
    });

    test('a broker stopped over SSH is named offline, with its partitions under-replicated', async () => {
      const host = inventoryHost(loadLabInventory(lab()), 'kafka-2');
      const stop = await runHostCommand(host, 'stop');
      expect(stop.code).toBe(0);
      await eventually('kafka-2 to leave the metadata', () => registeredBrokers(lab()), (ids) => !ids.includes(2), 60_000);
      const report = await eventually('a report without broker 2', health, (r) => r.brokers.find((b) => b.nodeId === 2)?.registered === false, 60_000);
      expect(report.status).toBe('critical');
      const notRegistered = report.findings.filter((f) => f.code === 'BROKER_NOT_REGISTERED');
      expect(notRegistered.map((f) => f.subject.brokerId)).toEqual([2]);
      expect(report.findings.find((f) => f.code === 'PROCESS_NOT_RUNNING')?.subject.host).toBe('kafka-2');
      const payments = report.partitions.underReplicated.items.filter((u) => u.partition.startsWith('payments-'));
      expect(payments).toHaveLength(6);
      expect(payments.every((u) => u.missing.includes(2))).toBe(true);
      // RF 3 with min ISR 2 and one broker down: under-replicated, never under min ISR.
      expect(report.partitions.underMinIsr.count).toBe(0);
    });

    test('restarted over SSH, it is healthy again', async () => {
      const host = inventoryHost(loadLabInventory(lab()), 'kafka-2');
      expect((await runHostCommand(host, 'start')).code).toBe(0);
      const report = await eventually('a healthy report', health, (r) => r.status === 'healthy', 120_000);
      expect(report.brokers.find((b) => b.nodeId === 2)).toMatchObject({ registered: true, processRunning: true });
      expect(report.partitions.underReplicated.count).toBe(0);
    });

    test('the CLI lists the runs and shows a run\'s progress', async () => {
      const list = await cli(env, ['list', '--all', '--cluster', opts.name]);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/COMPLETED\s+Completed\s+\S+\s+clusterHealth\s+clusterHealth\//);
      const id = /(clusterHealth\/\S+)/.exec(list.stdout)?.[1] as string;
      const status = await cli(env, ['status', id]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('[done] inspect hosts over SSH');
    });
  });
}

healthScenario({ name: 'e2e-kraft', subnet: 21, mode: 'kraft', version: '4.3.1' });
healthScenario({ name: 'e2e-zk', subnet: 22, mode: 'zookeeper', version: '3.9.2' });
