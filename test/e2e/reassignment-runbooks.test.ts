import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { addHost } from '../../src/lab';
import { type RunbookProgress } from '../../src/names';
import { createTopicWithRetry, eventually, inventoryHost, loadLabInventory, registeredBrokers, runHostCommand, useLab } from './support/lab';
import { pollRun } from './support/rolling';
import { cli, type CliResult, stackEnv, startWorker, useDevServer, type WorkerProcess } from './support/stack';
import { startTraffic, type Traffic } from './support/traffic';

/**
 * The reassignment runbooks end to end: a real Temporal server, the real worker process, the CLI, and a
 * 3-broker KRaft lab with producer/consumer traffic on an RF 3 / min ISR 2 topic running through every
 * scenario, which must lose and duplicate nothing.
 */

const LAB = 'e2e-reassign';

const temporal = useDevServer();

describe('reassignment runbooks: 3-broker KRaft lab, Kafka 4.3.1', () => {
  const lab = useLab({ name: LAB, subnet: 24, version: '4.3.1' });
  let worker: WorkerProcess | undefined;
  let env: NodeJS.ProcessEnv;
  const kafka = () => new Kafka({ clientId: 'e2e-reassign', brokers: lab().bootstrapServers, logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    env = stackEnv(temporal(), [lab().inventoryPath], `e2e-${LAB}`);
    worker = await startWorker(env);
  }, 180_000);
  afterAll(async () => {
    await worker?.stop();
  });

  // ---- helpers ----

  const workerTail = () => worker?.output().slice(-3000) ?? '';

  async function run(args: string[], timeoutMs?: number): Promise<CliResult> {
    return cli(env, args, timeoutMs);
  }

  function failed(what: string, r: CliResult): Error {
    return new Error(`${what}: cli exited ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}\nworker:\n${workerTail()}`);
  }

  /** `start <runbook> -c LAB -s k=v ... --json`; returns the workflow ID. */
  async function start(runbook: string, set: Record<string, unknown>): Promise<string> {
    const sets = Object.entries(set).flatMap(([k, v]) => ['-s', `${k}=${JSON.stringify(v)}`]);
    const r = await run(['start', runbook, '-c', LAB, ...sets, '--json']);
    if (r.code !== 0) throw failed(`start ${runbook}`, r);
    const id = (JSON.parse(r.stdout) as { workflowId: string }).workflowId;
    started.push(id);
    return id;
  }

  // A test that fails half way must not leave its run holding the cluster lock for the next one.
  const started: string[] = [];
  afterEach(async () => {
    for (const id of started.splice(0)) {
      const s = await status(id).catch(() => null);
      if (s?.temporalStatus !== 'RUNNING') continue;
      await run(['abort', id, '--as', 'e2e', '--reason', 'e2e cleanup after a failed test']);
      await waitFor(id, 180_000);
    }
  }, 240_000);

  /** `wait <id> --json`: the run's result, or its failure. */
  async function waitFor<T>(id: string, timeoutMs = 420_000): Promise<{ code: number; result: T | null; r: CliResult }> {
    const r = await run(['wait', id, '--json'], timeoutMs);
    await logSteps(id);
    await logSteps(`${id}/reassign`);
    return { code: r.code, result: r.code === 0 ? (JSON.parse(r.stdout) as T) : null, r };
  }

  async function completed<T>(id: string, timeoutMs?: number): Promise<T> {
    const w = await waitFor<T>(id, timeoutMs);
    if (w.code !== 0) throw failed(`wait ${id}`, w.r);
    return w.result as T;
  }

  interface StatusJson {
    workflowId: string;
    temporalStatus: string;
    failure: string | null;
    progress: RunbookProgress | null;
  }
  async function status(id: string): Promise<StatusJson> {
    const r = await run(['status', id, '--json']);
    // status exits 1 for runs that ended other than completed, but still prints its JSON.
    if (!r.stdout.trim().startsWith('{')) throw failed(`status ${id}`, r);
    return JSON.parse(r.stdout) as StatusJson;
  }

  /** Step durations of a finished run, printed at the end (where the time goes). */
  const stepLog: string[] = [];
  async function logSteps(id: string): Promise<void> {
    const s = await status(id).catch(() => null);
    if (!s?.progress) return;
    const secs = (a: string, b: string | null) => (b ? ((Date.parse(b) - Date.parse(a)) / 1000).toFixed(1) : '?');
    stepLog.push(`${id}: ${s.temporalStatus}\n${s.progress.steps.map((st) => `  ${secs(st.startedAt, st.endedAt).padStart(6)} s  [${st.state}] ${st.name}`).join('\n')}`);
  }
  afterAll(() => {
    console.log(stepLog.join('\n'));
  });

  /** Polled in process (a CLI process per poll takes a core-second from the lab); what the test reads of the gate comes from the CLI's status. */
  async function waitingAtGate(id: string, gate: string, timeoutMs = 120_000): Promise<StatusJson> {
    await pollRun(temporal().client, id, `${id} to wait at gate ${gate}`, (s) => s.progress?.pendingGate?.name === gate || s.temporalStatus !== 'RUNNING', timeoutMs);
    const s = await status(id);
    if (s.progress?.pendingGate?.name !== gate) throw new Error(`${id} is not waiting at gate ${gate} (${s.temporalStatus}: ${s.failure}): ${JSON.stringify(s.progress?.steps.slice(-8))}\nworker:\n${workerTail()}`);
    return s;
  }

  async function approve(id: string, gate: string): Promise<void> {
    const r = await run(['approve', id, '--gate', gate, '--as', 'e2e', '--reason', 'e2e test approves']);
    if (r.code !== 0) throw failed(`approve ${id} --gate ${gate}`, r);
  }

  /** Replica lists (and ISRs) per partition, ordered by partition. */
  async function assignment(topic: string): Promise<{ partition: number; replicas: number[]; isr: number[] }[]> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      return (md.topics[0]?.partitions ?? [])
        .map((p) => ({ partition: p.partitionId, replicas: [...p.replicas], isr: [...p.isr] }))
        .sort((a, b) => a.partition - b.partition);
    } finally {
      await admin.disconnect();
    }
  }

  async function allReplicas(): Promise<{ topic: string; partition: number; replicas: number[] }[]> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
      const md = await admin.fetchTopicMetadata({ topics });
      return md.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, replicas: [...p.replicas] })));
    } finally {
      await admin.disconnect();
    }
  }

  async function reassignmentsInFlight(): Promise<number> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const r = await admin.listPartitionReassignments({});
      return r.topics.reduce((n, t) => n + t.partitions.length, 0);
    } finally {
      await admin.disconnect();
    }
  }

  /** Every dynamic *.replication.throttled.* config on any topic or registered broker (and the cluster default). */
  async function throttleConfigs(): Promise<string[]> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      const brokers = await registeredBrokers(lab());
      const r = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [
          ...topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
          ...brokers.map((b) => ({ type: ConfigResourceTypes.BROKER, name: String(b) })),
        ],
      });
      const found = r.resources.flatMap((res) =>
        res.configEntries
          // 1 dynamic topic config, 2 dynamic broker config
          .filter((e) => /replication\.throttled/.test(e.configName) && [1, 2].includes(e.configSource) && e.configValue !== '')
          .map((e) => `${res.resourceType === ConfigResourceTypes.TOPIC ? 'topic' : 'broker'} ${res.resourceName}: ${e.configName}=${e.configValue}`),
      );
      // The cluster-wide broker default, which kafkajs cannot describe: kafka-configs.sh over SSH.
      const d = await kafkaConfigs('--describe --entity-type brokers --entity-default');
      found.push(...d.split('\n').filter((l) => /replication\.throttled/.test(l)).map((l) => `broker <default>: ${l.trim()}`));
      return found;
    } finally {
      await admin.disconnect();
    }
  }

  /** kafka-configs.sh on kafka-1, as an operator would run it. */
  async function kafkaConfigs(args: string): Promise<string> {
    const inv = loadLabInventory(lab());
    const r = await runHostCommand(inventoryHost(inv, 'kafka-1'), 'tool', { tool: 'kafka-configs.sh' }, `--bootstrap-server ${inv.bootstrapServers.join(',')} ${args}`);
    if (r.code !== 0) throw new Error(`kafka-configs.sh ${args}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** An RF 1 topic with `mb` MB of data per partition. */
  async function createDataTopic(topic: string, partitions: number, mbPerPartition: number): Promise<void> {
    const k = kafka();
    await createTopicWithRetry(lab().bootstrapServers, { topic, numPartitions: partitions, replicationFactor: 1 });
    const producer = k.producer();
    await producer.connect();
    try {
      const value = Buffer.alloc(20_000, 'x');
      const perPartition = Math.ceil((mbPerPartition * 1_000_000) / value.length);
      for (let partition = 0; partition < partitions; partition++) {
        for (let i = 0; i < perPartition; i += 25) {
          await producer.send({ topic, acks: 1, messages: Array.from({ length: Math.min(25, perPartition - i) }, (_, j) => ({ partition, key: `k${i + j}`, value })) });
        }
      }
    } finally {
      await producer.disconnect();
    }
  }

  /**
   * Runs fn with traffic on a fresh RF 3 / min ISR 2 topic (its own per scenario: the producer numbers from 0),
   * then checks every acknowledged message was consumed exactly once.
   */
  async function withTraffic(topic: string, fn: () => Promise<void>): Promise<void> {
    await createTopicWithRetry(lab().bootstrapServers, { topic, numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] });
    const traffic: Traffic = await startTraffic({ bootstrapServers: lab().bootstrapServers, topic, messagesPerSecond: 20 });
    let report;
    try {
      await fn();
    } finally {
      report = await traffic.stop();
    }
    console.log(`traffic on ${topic}: ${JSON.stringify({ ...report, lost: report.lost.length, duplicated: report.duplicated.length })}`);
    expect(report.acked).toBeGreaterThan(0);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
  }

  const timings: Record<string, number> = {};
  afterAll(() => {
    console.log(`reassignment runbooks e2e timings (s): ${JSON.stringify(timings)}`);
  });
  const timed = async (name: string, fn: () => Promise<void>) => {
    const t0 = Date.now();
    try {
      await fn();
    } finally {
      timings[name] = Math.round((Date.now() - t0) / 100) / 10;
    }
  };

  // ---- scenarios ----

  test('change-replication-factor: RF 1 -> 3 approved through the CLI on the child, then back to 2; no throttle left', async () => {
    await timed('rf', () =>
      withTraffic('rr-traffic-rf', async () => {
        const topic = 'rr-rf';
        await createDataTopic(topic, 6, 0.5);
        expect((await assignment(topic)).map((p) => p.replicas.length)).toEqual([1, 1, 1, 1, 1, 1]);

        const up = await start('change-replication-factor', { topic, replicationFactor: 3 });
        const gate = await waitingAtGate(`${up}/reassign`, 'approve-plan');
        expect(gate.progress?.pendingGate?.prompt).toMatch(/move 12 replicas/);
        await approve(`${up}/reassign`, 'approve-plan');
        const raised = await completed<{ replicasMoved: number; throttlesLeft: string[]; approvedBy: string | null }>(up);
        expect(raised).toMatchObject({ replicasMoved: 12, throttlesLeft: [], approvedBy: 'e2e' });
        const rf3 = await eventually('RF 3 with full ISRs', () => assignment(topic), (ps) => ps.every((p) => p.replicas.length === 3 && p.isr.length === 3), 30_000);
        expect(rf3.every((p) => new Set(p.replicas).size === 3)).toBe(true);
        expect(await throttleConfigs()).toEqual([]);

        const down = await start('change-replication-factor', { topic, replicationFactor: 2, approval: 'auto' });
        const lowered = await completed<{ replicasMoved: number; throttlesLeft: string[]; approvedBy: string | null }>(down);
        expect(lowered).toMatchObject({ throttlesLeft: [], approvedBy: null });
        const rf2 = await assignment(topic);
        expect(rf2.map((p) => p.replicas.length)).toEqual([2, 2, 2, 2, 2, 2]);
        // A decrease drops replicas: each partition keeps two of its three.
        for (const p of rf2) expect(p.replicas.every((r) => rf3[p.partition]?.replicas.includes(r))).toBe(true);
        expect(await throttleConfigs()).toEqual([]);
        expect(await reassignmentsInFlight()).toBe(0);
      }),
    );
  });

  test('abort during a throttled move: the abort reaches the child, the original replicas are back and no throttle is left', async () => {
    await timed('abort', () =>
      withTraffic('rr-traffic-abort', async () => {
        const topic = 'rr-abort';
        await createDataTopic(topic, 6, 5);
        const before = await assignment(topic);
        expect(before.map((p) => p.replicas.length)).toEqual([1, 1, 1, 1, 1, 1]);

        const id = await start('change-replication-factor', { topic, replicationFactor: 3, throttleBytesPerSec: 10_000, approval: 'auto' });
        const child = `${id}/reassign`;
        await pollRun(temporal().client, child, 'the child to wait for the new replicas', (s) => /wait for the new replicas to join the ISR/.test(s.progress?.currentStep ?? ''), 120_000);
        // The throttle is in place while it copies.
        expect((await throttleConfigs()).length).toBeGreaterThan(0);
        expect(await reassignmentsInFlight()).toBeGreaterThan(0);

        const abort = await run(['abort', id, '--as', 'e2e', '--reason', 'e2e: abort a throttled move']);
        if (abort.code !== 0) throw failed(`abort ${id}`, abort);
        const ended = await waitFor(id, 180_000);
        expect(ended.code).not.toBe(0);
        expect(ended.r.stderr).toMatch(/abort/i);

        const parent = await status(id);
        const childEnd = await status(child);
        expect(parent.progress?.status).toBe('Aborted');
        // The child was cancelled by the parent's abort and ran its undo steps.
        expect(childEnd.temporalStatus).not.toBe('RUNNING');
        const undone = (childEnd.progress?.steps ?? []).map((s) => `${s.name}:${s.state}`);
        expect(undone.some((s) => /cancel the moves of batch/.test(s))).toBe(true);
        expect(undone.some((s) => /remove the throttles of batch/.test(s))).toBe(true);

        expect(await reassignmentsInFlight()).toBe(0);
        const after = await eventually('the original replicas', () => assignment(topic), (ps) => ps.every((p) => p.replicas.length === 1), 30_000);
        expect(after.map((p) => [p.partition, p.replicas])).toEqual(before.map((p) => [p.partition, p.replicas]));
        expect(await throttleConfigs()).toEqual([]);
      }),
    );
  });

  test('add-brokers brings a 4th broker in, decommission-broker takes it out again', async () => {
    await timed('add-decommission', () =>
      withTraffic('rr-traffic-brokers', async () => {
        await timed('addHost', async () => {
          await addHost(LAB, { nodeId: 4 });
        });
        // The worker read the inventory at start: restart it to see kafka-4.
        await worker?.stop();
        worker = undefined;
        worker = await startWorker(env);
        const host4 = inventoryHost(loadLabInventory(lab()), 'kafka-4');

        // One batch: each batch costs several kafka-configs.sh JVM starts over SSH on a 2-core machine.
        const add = await start('add-brokers', { hosts: ['kafka-4'], approval: 'auto', maxMovesPerBroker: 100 });
        const added = await completed<{ replicasMoved: number; throttlesLeft: string[] }>(add);
        expect(added.replicasMoved).toBeGreaterThan(0);
        expect(added.throttlesLeft).toEqual([]);
        expect(await registeredBrokers(lab())).toEqual([1, 2, 3, 4]);
        const on4 = (await allReplicas()).filter((p) => p.replicas.includes(4));
        expect(on4.length).toBeGreaterThan(0);
        expect(await throttleConfigs()).toEqual([]);

        const dec = await start('decommission-broker', { hosts: ['kafka-4'], approval: 'auto', maxMovesPerBroker: 100 });
        await waitingAtGate(dec, 'stop-brokers', 300_000);
        // Empty before the gate.
        expect((await allReplicas()).filter((p) => p.replicas.includes(4))).toEqual([]);
        await approve(dec, 'stop-brokers');
        const ended = await waitFor<{ stopped: string[]; unregistered: number[]; reassignment: { throttlesLeft: string[] } }>(dec);
        // The cluster's state first, so a failing last step still tells what it left behind.
        expect((await allReplicas()).filter((p) => p.replicas.includes(4))).toEqual([]);
        expect((await runHostCommand(host4, 'status')).code).not.toBe(0);
        expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
        expect(await throttleConfigs()).toEqual([]);
        if (ended.code !== 0) throw failed(`wait ${dec}`, ended.r);
        expect(ended.result).toMatchObject({ stopped: ['kafka-4'], unregistered: [4], reassignment: { throttlesLeft: [] } });
      }),
    );
  });
});
