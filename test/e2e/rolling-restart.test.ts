import { WorkflowFailedError } from '@temporalio/client';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LabCluster } from '../../src/lab';
import { type RollingRestartResult } from '../../workflows/rolling-restart';
import { inventoryHost, loadLabInventory, registeredBrokers, runHostCommand, useLab } from './support/lab';
import { createTopic, kafkaPid, linkVersion, pollRun, runAtGate, runningVersion, runStatus, serverStarts, startRollingRestart, type StatusJson } from './support/rolling';
import { cli, stackEnv, startWorker, useDevServer, type WorkerProcess } from './support/stack';
import { startTraffic, type Traffic } from './support/traffic';

/**
 * The rolling restart / upgrade runbook end to end: a real Temporal dev server, the real worker process, the
 * CLI, lab clusters whose nodes are stopped, switched and started over SSH, and producer/consumer traffic
 * (RF 3, min ISR 2) running throughout that must lose and duplicate nothing.
 * Three labs, not five (a lab start, its worker and its teardown cost about half a minute): a and d share a KRaft
 * 4.3.1 lab, one after the other; c and b share a KRaft 3.9.2 lab, where b re-runs the upgrade after c's abort
 * left it half done (kafka-1 on 4.3.1, the others on 3.9.2). Each scenario has its own traffic run, checked at its
 * end, and measures what it asserts (pids, start counts, versions) from a baseline taken at its own start.
 * The ZooKeeper-mode upgrade 3.8.1 -> 3.9.2 with its protocol bump is the first step of the migration journey
 * (migrate-to-kraft.test.ts), on that lab.
 */

const temporal = useDevServer();

const ONLY = process.env.RR_SCENARIOS?.split(',') ?? null;
const ran = (key: string) => !ONLY || ONLY.includes(key);
const scenario = (key: string, title: string, fn: () => void) => (ran(key) ? describe : describe.skip)(`${key}. ${title}`, fn);

/** A lab start timeout fitting a 3-node lab on a busy 2-core machine (the 9-node rack lab gets more). */
const RR_LAB_UP_MS = 300_000;

/** A worker and a topic for the describe's lab; traffic is per scenario (useTraffic). */
function useStack(lab: () => LabCluster, name: string) {
  const s: { env: NodeJS.ProcessEnv; worker: WorkerProcess | null; traffic: Traffic | null } = { env: {}, worker: null, traffic: null };
  beforeAll(async () => {
    s.env = stackEnv(temporal(), [lab().inventoryPath], `e2e-${name}`);
    s.worker = await startWorker(s.env, 400_000);
    await createTopic(lab(), 'orders');
  }, 600_000);
  afterAll(async () => {
    await s.traffic?.stop().catch(() => undefined);
    await s.worker?.stop();
  }, 180_000);
  return s;
}

/** Traffic on the lab's topic for the enclosing scenario only: started before its test, checked by it (expectTrafficIntact). */
function useTraffic(lab: () => LabCluster, s: { traffic: Traffic | null }) {
  beforeAll(async () => {
    s.traffic = await startTraffic({ bootstrapServers: lab().bootstrapServers, topic: 'orders', messagesPerSecond: 20 });
  }, 180_000);
  afterAll(async () => {
    await s.traffic?.stop().catch(() => undefined);
    s.traffic = null;
  }, 180_000);
}

async function waitResult(env: NodeJS.ProcessEnv, id: string, worker: () => WorkerProcess | null, timeoutMs = 1_500_000): Promise<RollingRestartResult> {
  const r = await cli(env, ['wait', id, '--json'], timeoutMs);
  if (r.code !== 0) {
    const st = await runStatus(env, id).catch(() => null);
    throw new Error(`wait exited ${r.code}: ${r.stderr}\n${r.stdout}\nsteps: ${JSON.stringify(st?.progress?.steps?.slice(-8))}\nworker:\n${worker()?.output().slice(-3000)}`);
  }
  return JSON.parse(r.stdout) as RollingRestartResult;
}

async function atGate(env: NodeJS.ProcessEnv, id: string, gate: string, timeoutMs: number): Promise<StatusJson> {
  return runAtGate(temporal().client, env, id, gate, timeoutMs);
}

async function approve(env: NodeJS.ProcessEnv, id: string, gate: string, choice?: string) {
  const r = await cli(env, ['approve', id, '--gate', gate, ...(choice ? ['--choice', choice] : []), '--as', 'e2e', '--reason', 'e2e test'], 400_000);
  if (r.code !== 0) throw new Error(`approve ${gate} exited ${r.code}: ${r.stderr}\n${r.stdout}`);
}

async function expectTrafficIntact(traffic: Traffic | null) {
  const t = await (traffic as Traffic).stop();
  console.log(`traffic: ${JSON.stringify({ ...t, lost: t.lost.length, duplicated: t.duplicated.length })}`);
  expect(t.acked).toBeGreaterThan(0);
  expect(t.lost).toEqual([]);
  expect(t.duplicated).toEqual([]);
}

const names = (lab: LabCluster) => lab.hosts.filter((h) => h.kind === 'kafka').map((h) => h.name);

describe('one KRaft 4.3.1 lab of 3 combined nodes: a, then d', () => {
  const lab = useLab({ name: 'e2e-rr-ad', subnet: 25, mode: 'kraft', version: '4.3.1' }, RR_LAB_UP_MS);
  const s = useStack(lab, 'rr-ad');

  scenario('a', 'rolling restart of a 3-node KRaft cluster (4.3.1)', () => {
    useTraffic(lab, s);

    test('every node is restarted once, one at a time, the canary passes after each, and traffic is intact', async () => {
      const before = new Map(names(lab()).map((h) => [h, kafkaPid(lab(), h)]));
      expect([...before.values()].every((p) => p !== null)).toBe(true);
      const t0 = Date.now();
      const id = await startRollingRestart(s.env, lab().name, { canaryTopic: 'orders' });
      const result = await waitResult(s.env, id, () => s.worker);
      console.log(`a: wall ${Date.now() - t0} ms; result ${JSON.stringify(result)}`);
      // After each node, a canary record went through kafkajs and was read back by Kafka's console consumer.
      const canaries = ((await runStatus(s.env, id)).progress?.steps ?? []).filter((st) => /canary produce and consume on orders/.test(st.name));
      expect(canaries.map((st) => st.state)).toEqual(['done', 'done', 'done']);
      expect(result.nodes.map((n) => [n.host, n.outcome]).sort()).toEqual([
        ['kafka-1', 'restarted'],
        ['kafka-2', 'restarted'],
        ['kafka-3', 'restarted'],
      ]);
      expect(result.batches).toBe(3);
      for (const h of names(lab())) {
        const pid = kafkaPid(lab(), h);
        expect(pid).not.toBeNull();
        expect(pid).not.toBe(before.get(h));
      }
      expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
      await expectTrafficIntact(s.traffic);
    });
  });

  scenario('d', 'the worker killed with SIGKILL mid-run', () => {
    useTraffic(lab, s);

    test('a new worker finishes the run; every node stopped and started exactly once', async () => {
      const pids = new Map(names(lab()).map((h) => [h, kafkaPid(lab(), h)]));
      const starts = new Map(names(lab()).map((h) => [h, serverStarts(lab(), h)]));
      const t0 = Date.now();
      const id = await startRollingRestart(s.env, lab().name, { nodes: ['kafka-1', 'kafka-2', 'kafka-3'], order: 'as-given' });
      // Polled in process, so the kill lands while kafka-2's wait is still the current step.
      const st = await pollRun(temporal().client, id, 'kafka-2 waiting', (x) => /^kafka-2: wait/.test(x.progress?.currentStep ?? '') || x.temporalStatus !== 'RUNNING', 900_000);
      console.log(`d: killing the worker at "${st.progress?.currentStep}" after ${Date.now() - t0} ms`);
      expect(st.temporalStatus).toBe('RUNNING');
      await (s.worker as WorkerProcess).stop('SIGKILL');
      s.worker = await startWorker(s.env, 400_000);
      const result = await waitResult(s.env, id, () => s.worker);
      console.log(`d: wall ${Date.now() - t0} ms; result ${JSON.stringify(result)}`);
      expect(result.nodes.map((n) => [n.host, n.outcome])).toEqual([
        ['kafka-1', 'restarted'],
        ['kafka-2', 'restarted'],
        ['kafka-3', 'restarted'],
      ]);
      const end = await runStatus(s.env, id);
      for (const h of names(lab())) {
        expect([h, end.progress?.steps.filter((x) => x.name === `${h}: stop (controlled shutdown)`).length]).toEqual([h, 1]);
        expect([h, serverStarts(lab(), h) - (starts.get(h) as number)]).toEqual([h, 1]);
        expect(kafkaPid(lab(), h)).not.toBe(pids.get(h));
      }
      await expectTrafficIntact(s.traffic);
    });
  });
});

describe('one KRaft 3.9.2 lab of 3 combined nodes: c, then b', () => {
  const lab = useLab({ name: 'e2e-rr-cb', subnet: 27, mode: 'kraft', version: '3.9.2' }, RR_LAB_UP_MS);
  const s = useStack(lab, 'rr-cb');

  scenario('c', 'a broken 4.3.1 install on kafka-2: rolled back, the run halts', () => {
    useTraffic(lab, s);
    let repair: (() => void) | null = null;
    // The operator repairs kafka-2's install afterwards, whatever happened: b re-runs the upgrade on this lab.
    afterAll(() => repair?.());

    test('kafka-2 is rolled back to 3.9.2, kafka-3 is untouched, abort fails the run with UnsafeToProceed', async () => {
      expect(names(lab()).map((h) => runningVersion(lab(), h))).toEqual(['3.9.2', '3.9.2', '3.9.2']);
      // Only 4.3.1 on kafka-2 fails to start: its own copy of the start script exits 1.
      const k2 = lab().hosts.find((h) => h.name === 'kafka-2');
      const script = join(k2?.paths.installDir as string, 'kafka_2.13-4.3.1', 'bin', 'kafka-server-start.sh');
      const text = readFileSync(script, 'utf8');
      repair = () => writeFileSync(script, text);
      writeFileSync(script, text.replace(/^(#!.*\n)/, '$1echo "broken on purpose by the e2e test" >&2; exit 1\n'));
      const pid3 = kafkaPid(lab(), 'kafka-3');
      const starts3 = serverStarts(lab(), 'kafka-3');
      const t0 = Date.now();
      const id = await startRollingRestart(s.env, lab().name, {
        targetVersion: '4.3.1',
        nodes: ['kafka-1', 'kafka-2', 'kafka-3'],
        order: 'as-given',
        rollbackPolicy: 'automatic',
        timeouts: { registrationSeconds: 60, catchUpSeconds: 120, stopSeconds: 120 },
      });
      const st = await atGate(s.env, id, 'halted-at-kafka-2', 1_200_000);
      console.log(`c: halted after ${Date.now() - t0} ms; prompt: ${st.progress?.pendingGate?.prompt}`);
      console.log(`c: steps: ${JSON.stringify(st.progress?.steps.map((x) => `${x.state} ${x.name}${x.error ? `: ${x.error}` : ''}`))}`);
      expect(st.progress?.pendingGate?.choices).toEqual(['abort']);
      expect(linkVersion(lab(), 'kafka-1')).toBe('4.3.1');
      expect(runningVersion(lab(), 'kafka-1')).toBe('4.3.1');
      expect(linkVersion(lab(), 'kafka-2')).toBe('3.9.2');
      expect(runningVersion(lab(), 'kafka-2')).toBe('3.9.2');
      expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
      expect(kafkaPid(lab(), 'kafka-3')).toBe(pid3);
      expect(serverStarts(lab(), 'kafka-3')).toBe(starts3);
      expect(runningVersion(lab(), 'kafka-3')).toBe('3.9.2');
      expect(st.progress?.steps.some((x) => x.name.startsWith('kafka-3'))).toBe(false);

      await approve(s.env, id, 'halted-at-kafka-2', 'abort');
      const err = await temporal().client.workflow
        .getHandle(id)
        .result()
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(((err as WorkflowFailedError).cause as { type?: string }).type).toBe('UnsafeToProceed');
      const end = await runStatus(s.env, id);
      expect(end.temporalStatus).toBe('FAILED');
      expect(end.failure).toContain('kafka-2 failed to come back healthy');
      expect(kafkaPid(lab(), 'kafka-3')).toBe(pid3);
      await expectTrafficIntact(s.traffic);
    });
  });

  scenario('b', 'upgrade 3.9.2 -> 4.3.1 with an approved finalize (re-run after c aborted its upgrade half way)', () => {
    useTraffic(lab, s);

    test('stops at finalize; after approval every node runs 4.3.1 and metadata.version is 4.3', async () => {
      // What c's abort left: kafka-1 kept its upgrade (started on 4.3.1, its undo forgotten), kafka-2 rolled back.
      const start = new Map(names(lab()).map((h) => [h, runningVersion(lab(), h)]));
      expect([...start.values()]).toEqual(ran('c') ? ['4.3.1', '3.9.2', '3.9.2'] : ['3.9.2', '3.9.2', '3.9.2']);
      const t0 = Date.now();
      const id = await startRollingRestart(s.env, lab().name, { targetVersion: '4.3.1' });
      const st = await atGate(s.env, id, 'finalize', 1_200_000);
      console.log(`b: at finalize after ${Date.now() - t0} ms`);
      expect(st.progress?.pendingGate?.prompt).toContain('IRREVERSIBLE');
      expect(names(lab()).map((h) => [linkVersion(lab(), h), runningVersion(lab(), h)])).toEqual([
        ['4.3.1', '4.3.1'],
        ['4.3.1', '4.3.1'],
        ['4.3.1', '4.3.1'],
      ]);
      await approve(s.env, id, 'finalize');
      const result = await waitResult(s.env, id, () => s.worker);
      console.log(`b: wall ${Date.now() - t0} ms; result ${JSON.stringify(result)}`);
      // Every node restarted onto 4.3.1, each from the version it ran at this scenario's start (one already on 4.3.1 is restarted anyway).
      expect(result.nodes.map((n) => [n.host, n.outcome, n.oldVersion, n.newVersion]).sort()).toEqual(names(lab()).map((h) => [h, 'restarted', start.get(h), '4.3.1']));
      expect(result.finalized?.feature).toBe('metadata.version');
      expect(result.finalized?.before).toMatch(/^3\.9/);
      expect(result.finalized?.after).toMatch(/^4\.3/);
      expect(result.gates).toEqual([expect.objectContaining({ gate: 'finalize', outcome: 'approved', approver: 'e2e' })]);
      expect(names(lab()).map((h) => [linkVersion(lab(), h), runningVersion(lab(), h)])).toEqual([
        ['4.3.1', '4.3.1'],
        ['4.3.1', '4.3.1'],
        ['4.3.1', '4.3.1'],
      ]);
      const host = inventoryHost(loadLabInventory(lab()), 'kafka-1');
      const features = await runHostCommand(host, 'tool', { tool: 'kafka-features.sh' }, `--bootstrap-server ${lab().bootstrapServers[0]} describe`);
      console.log(`b: features:\n${features.stdout}`);
      expect(features.code).toBe(0);
      expect(features.stdout).toMatch(/Feature:\s*metadata\.version.*FinalizedVersionLevel:\s*4\.3-IV\d+/);
      await expectTrafficIntact(s.traffic);
    });
  });
});

scenario('e', 'rack-parallel restart: 6 brokers on 3 racks, 3 separate controllers', () => {
  const lab = useLab({ name: 'e2e-rr-e', subnet: 29, mode: 'kraft', version: '4.3.1', brokers: 6, controllers: 3, racks: 3 }, 420_000);
  const s = useStack(lab, 'rr-e');
  useTraffic(lab, s);

  test('restarts the 6 brokers in 3 rounds, one rack at a time', async () => {
    const before = new Map([1, 2, 3, 4, 5, 6].map((i) => [`kafka-${i}`, kafkaPid(lab(), `kafka-${i}`)]));
    const t0 = Date.now();
    const id = await startRollingRestart(s.env, 'e2e-rr-e', { nodes: [1, 2, 3, 4, 5, 6], parallelism: { mode: 'rack' } });
    const result = await waitResult(s.env, id, () => s.worker);
    console.log(`e: wall ${Date.now() - t0} ms; result ${JSON.stringify(result)}`);
    expect(result.nodes.map((n) => n.outcome)).toEqual(Array(6).fill('restarted'));
    expect(result.batches).toBeLessThan(6);
    expect(result.batches).toBe(3);
    for (const [h, pid] of before) expect(kafkaPid(lab(), h)).not.toBe(pid);
    await expectTrafficIntact(s.traffic);
  });
});
