/**
 * Rolling-restart figures. Run: npx tsx bench/rolling-restart.ts   (BENCH_PARTS=i,ii,iii,iv to pick parts)
 *
 * (i)   engine overhead: a 3-node lab's rolling-restart wall time / the sum of the nodes' own downMs (target <= 1.15)
 * (ii)  readiness detection delay: node back in every ISR (kafkajs metadata polled every 200 ms) until the
 *       runbook moved on (end of its "wait until back in every ISR" step) (target <= 2 s)
 * (iii) history events per restarted node: a real 3-node run, and a 100-node run with fake activities
 *       (must stay under 10,240 events in total)
 * (iv)  rack-parallel vs one-at-a-time on a 6-broker, 3-rack lab with 3 separate controllers
 *
 * Labs: e2e-rr-bench3 (subnet 25) and e2e-rr-bench6 (subnet 29); both are taken down at the end.
 */
import { type Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Kafka, logLevel } from 'kafkajs';
import type { Activities } from '../activities';
import { type RollingRestartResult } from '../workflows/rolling-restart';
import { withLab } from '../test/e2e/support/lab';
import { createTopic, runStatus, startRollingRestart } from '../test/e2e/support/rolling';
import { stackEnv, startWorker } from '../test/e2e/support/stack';
import { startTraffic } from '../test/e2e/support/traffic';
import { startDevServer, testWorkflowBundle, withInputValidation } from '../test/support/temporal';
import { ClusterBuilder, expectedNode, hostObservation, quorum } from '../test/unit/health/builder';

const PARTS = new Set((process.env.BENCH_PARTS ?? 'i,ii,iii,iv').split(','));
const rows: [string, string, string][] = [];
const row = (figure: string, value: string, target = '') => {
  rows.push([figure, value, target]);
  console.log(`  ${figure}: ${value} ${target}`);
};

async function runToEnd(client: Client, env: NodeJS.ProcessEnv, cluster: string, set: Record<string, unknown>) {
  const t0 = Date.now();
  const id = await startRollingRestart(env, cluster, set);
  const result = (await client.workflow.getHandle(id).result()) as RollingRestartResult;
  return { id, result, externalWallMs: Date.now() - t0 };
}

/** Polls metadata every 200 ms; for every node, the times it went from "out" to "registered and in every ISR". */
function watchIsr(bootstrapServers: string[]) {
  const kafka = new Kafka({ clientId: 'bench-isr', brokers: bootstrapServers, logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } });
  const admin = kafka.admin();
  const backAt = new Map<number, number[]>();
  const outSince = new Map<number, number>();
  let stop = false;
  let polls = 0;
  const loop = (async () => {
    let connected = false;
    while (!stop) {
      const t = Date.now();
      try {
        if (!connected) {
          await admin.connect();
          connected = true;
        }
        const c = await admin.describeCluster();
        const md = await admin.fetchTopicMetadata();
        const registered = new Set(c.brokers.map((b) => b.nodeId));
        const holders = new Set<number>();
        const outOfIsr = new Set<number>();
        for (const topic of md.topics) {
          for (const p of topic.partitions) {
            for (const r of p.replicas) {
              holders.add(r);
              if (!p.isr.includes(r)) outOfIsr.add(r);
            }
          }
        }
        for (const id of holders) {
          const ok = registered.has(id) && !outOfIsr.has(id);
          if (!ok && !outSince.has(id)) outSince.set(id, t);
          if (ok && outSince.has(id)) {
            outSince.delete(id);
            backAt.set(id, [...(backAt.get(id) ?? []), t]);
          }
        }
        polls++;
      } catch {
        if (connected) await admin.disconnect().catch(() => undefined);
        connected = false;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 200 - (Date.now() - t))));
    }
    await admin.disconnect().catch(() => undefined);
  })();
  return {
    async stop() {
      stop = true;
      await loop;
      return { backAt, polls };
    },
  };
}

/** Where the wall time went: every step with its start offset and duration, for finding the overhead. */
function printTimeline(steps: { name: string; startedAt: string; endedAt?: string | null }[]) {
  const t0 = steps[0] ? Date.parse(steps[0].startedAt) : 0;
  console.log('step timeline (start offset, duration):');
  for (const s of steps) {
    const start = Date.parse(s.startedAt) - t0;
    const dur = s.endedAt ? Date.parse(s.endedAt) - Date.parse(s.startedAt) : NaN;
    console.log(`  +${(start / 1000).toFixed(2).padStart(7)} s  ${(dur / 1000).toFixed(2).padStart(6)} s  ${s.name}`);
  }
}

async function historyEvents(client: Client, id: string): Promise<number> {
  const h = await client.workflow.getHandle(id).fetchHistory();
  return h.events?.length ?? 0;
}

async function realThreeNode(temporal: TestWorkflowEnvironment) {
  await withLab({ name: 'e2e-rr-bench3', subnet: 25, mode: 'kraft', version: '4.3.1' }, async (lab) => {
    const env = stackEnv(temporal, [lab.inventoryPath], 'bench-rr-3');
    const worker = await startWorker(env, 400_000);
    try {
      await createTopic(lab, 'orders');
      const traffic = await startTraffic({ bootstrapServers: lab.bootstrapServers, topic: 'orders', messagesPerSecond: 20 });
      const isr = watchIsr(lab.bootstrapServers);
      const { id, result, externalWallMs } = await runToEnd(temporal.client, env, lab.name, {});
      const seen = await isr.stop();
      const t = await traffic.stop();
      console.log(`3-node run ${id}: ${JSON.stringify(result.nodes)}; traffic acked ${t.acked} lost ${t.lost.length} duplicated ${t.duplicated.length}; ${seen.polls} metadata polls`);
      const sumDown = result.nodes.reduce((s, n) => s + (n.downMs ?? 0), 0);
      if (PARTS.has('i')) {
        row('(i) wall time, 3-node lab (workflow wallMs / CLI start..result)', `${(result.wallMs / 1000).toFixed(1)} s / ${(externalWallMs / 1000).toFixed(1)} s`);
        row('(i) sum of nodes downMs', `${(sumDown / 1000).toFixed(1)} s (${result.nodes.map((n) => `${n.host} ${(Number(n.downMs) / 1000).toFixed(1)}`).join(', ')})`);
        row('(i) engine overhead = wallMs / sum(downMs)', (result.wallMs / sumDown).toFixed(3), '(target <= 1.15)');
        printTimeline((await runStatus(env, id)).progress?.steps ?? []);
      }
      if (PARTS.has('ii')) {
        const steps = (await runStatus(env, id)).progress?.steps ?? [];
        const delays: string[] = [];
        let worst = 0;
        for (const n of result.nodes) {
          const isrStep = steps.find((s) => s.name === `${n.host}: wait until back in every ISR`);
          const stopStep = steps.find((s) => s.name === `${n.host}: stop (controlled shutdown)`);
          const i = isrStep ? steps.indexOf(isrStep) : -1;
          const next = steps[i + 1];
          const stoppedAt = stopStep ? Date.parse(stopStep.startedAt) : 0;
          const back = (seen.backAt.get(n.nodeId) ?? []).filter((x) => x > stoppedAt)[0];
          if (!isrStep?.endedAt || back === undefined) {
            delays.push(`${n.host}: n/a`);
            continue;
          }
          const moved = next ? Date.parse(next.startedAt) : Date.parse(isrStep.endedAt);
          const d = moved - back;
          worst = Math.max(worst, d);
          delays.push(`${n.host} ${(d / 1000).toFixed(2)} s (next: "${next?.name ?? '-'}")`);
        }
        row('(ii) back in every ISR -> runbook moves on, per node', delays.join('; '));
        row('(ii) worst readiness detection delay', `${(worst / 1000).toFixed(2)} s`, '(target <= 2 s)');
      }
      if (PARTS.has('iii')) {
        const events = await historyEvents(temporal.client, id);
        const restarted = result.nodes.filter((n) => n.outcome === 'restarted').length;
        row('(iii) real 3-node run: history events (per restarted node)', `${events} (${(events / restarted).toFixed(1)})`);
      }
    } finally {
      await worker.stop();
    }
  });
}

type Fakes = Partial<Activities>;

function fakeActivities(n: number): Fakes {
  const brokers = Array.from({ length: n }, (_, i) => i + 1);
  const controllers = [n + 1, n + 2, n + 3];
  const metadata = ClusterBuilder.kraft()
    .brokers(...brokers)
    .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3 * n, 3, brokers))
    .quorum(quorum(n + 2).voters(...controllers))
    .build();
  const q = quorum(n + 2).voters(...controllers).build();
  const wait = { elapsedMs: 1 };
  return {
    describeInventory: async (cluster) => ({ cluster, mode: 'kraft' as const, expected: [...brokers.map((id) => expectedNode(id)), ...controllers.map((id) => expectedNode(id, ['controller']))] }),
    readClusterMetadata: async () => metadata,
    readQuorumState: async () => q,
    observeQuorum: async () => ({ quorum: q, observedAtMs: Date.now() }),
    inspectHosts: async () => [...brokers.map((id) => hostObservation(id)), ...controllers.map((id) => hostObservation(id, { roles: ['controller'], dataDirs: [] }))],
    waitForRestartAllowed: async () => ({ elapsedMs: 1, decision: { safe: true, reasons: [], ignored: [] }, quorumAgeMs: null }),
    readBrokerState: async (_c, h) => ({ host: h, state: 'RUNNING' as const, stateCode: 3, line: null, running: true }) as never,
    readNodeVersion: async () => ({ linkTarget: null, linkVersion: '3.9.2', processRunning: true, runningVersion: '3.9.2', runningVersionFrom: 'process' as const }),
    backupNodeConfig: async (_c, h) => ({ path: `/etc/kafka/server.properties.bak-${h}`, reused: false }) as never,
    stopNode: async () => ({ wasRunning: true, output: '' }),
    waitForProcessExit: async () => wait,
    killNode: async () => ({ wasRunning: true, output: '' }),
    waitForBrokerDeregistered: async () => wait,
    startNode: async () => ({ alreadyRunning: false, output: '' }),
    waitForBrokerRegistered: async () => wait,
    waitForBrokerCaughtUp: async () => ({ ...wait, status: {} as never }),
    waitForQuorumCaughtUp: async () => ({ ...wait, leaderId: n + 2, observation: { quorum: q, observedAtMs: Date.now() } }),
    restorePreferredLeaders: async () => ({ host: 'x', elected: [], notNeeded: [], failed: [] }) as never,
    acquireClusterLock: async () => undefined,
    releaseClusterLock: async () => undefined,
  } as Fakes;
}

async function simulated(temporal: TestWorkflowEnvironment, n: number) {
  const taskQueue = `bench-rr-fake-${n}`;
  const worker = await Worker.create({ connection: temporal.nativeConnection, taskQueue, workflowBundle: await testWorkflowBundle(), activities: withInputValidation(fakeActivities(n)) });
  const t0 = Date.now();
  await worker.runUntil(async () => {
    const id = `bench-rr-sim-${n}-${Date.now()}`;
    const h = await temporal.client.workflow.start('rollingRestart', { taskQueue, workflowId: id, args: [{ cluster: 'sim', nodes: Array.from({ length: n }, (_, i) => i + 1) }], workflowExecutionTimeout: '30 minutes' });
    const result = (await h.result()) as RollingRestartResult;
    const events = await historyEvents(temporal.client, id);
    const restarted = result.nodes.filter((x) => x.outcome === 'restarted').length;
    row(`(iii) simulated ${n}-node run: history events (per restarted node)`, `${events} (${(events / restarted).toFixed(1)}), ${restarted} restarted in ${((Date.now() - t0) / 1000).toFixed(1)} s`, `(must be < 10,240: ${events < 10_240 ? 'OK' : 'EXCEEDED'})`);
  });
}

async function rackParallel(temporal: TestWorkflowEnvironment) {
  await withLab({ name: 'e2e-rr-bench6', subnet: 29, mode: 'kraft', version: '4.3.1', brokers: 6, controllers: 3, racks: 3 }, async (lab) => {
    const env = stackEnv(temporal, [lab.inventoryPath], 'bench-rr-6');
    const worker = await startWorker(env, 400_000);
    try {
      await createTopic(lab, 'orders');
      const nodes = [1, 2, 3, 4, 5, 6];
      for (const [label, parallelism] of [
        ['rack', { mode: 'rack' }],
        ['one-at-a-time', { mode: 'one-at-a-time' }],
      ] as const) {
        const { result } = await runToEnd(temporal.client, env, lab.name, { nodes, parallelism });
        const ok = result.nodes.filter((x) => x.outcome === 'restarted').length;
        row(`(iv) 6 brokers / 3 racks, ${label}`, `${result.batches} rounds, ${(result.wallMs / 1000).toFixed(1)} s, ${ok}/6 restarted`);
      }
    } finally {
      await worker.stop();
    }
  });
}

async function main() {
  // On a busy machine the dev server sometimes misses the SDK's 5 s start deadline: try again.
  let temporal: TestWorkflowEnvironment | null = null;
  for (let attempt = 1; !temporal; attempt++) {
    try {
      temporal = await startDevServer();
    } catch (err) {
      if (attempt >= 5) throw err;
      console.log(`dev server did not start (attempt ${attempt}): ${(err as Error).message.slice(0, 120)}`);
    }
  }
  try {
    if (PARTS.has('i') || PARTS.has('ii') || PARTS.has('iii')) await realThreeNode(temporal).catch((e: Error) => row('(i-iii) real 3-node run', `FAILED: ${e.message.slice(0, 500)}`));
    if (PARTS.has('iii') || PARTS.has('sim')) await simulated(temporal, 100).catch((e: Error) => row('(iii) simulated 100-node run', `FAILED: ${e.message.slice(0, 500)}`));
    if (PARTS.has('iv')) await rackParallel(temporal).catch((e: Error) => row('(iv) rack-parallel', `FAILED: ${e.message.slice(0, 500)}`));
  } finally {
    await temporal.teardown();
  }
  console.log('\nRolling-restart figures');
  const w = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0] as number)}  ${b.padEnd(w[1] as number)}  ${c}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
