/**
 * Runbooks at scale, on a dev server with fake activities: a 300-node rolling restart and a 20,000-move
 * reassignment. Prints, per runbook: events of the parent run and of its largest child, events of all runs
 * together, the largest single payload, the progress query's steps and bytes (parent and largest child), and
 * the wall time. Run: npx tsx bench/scale.ts   (BENCH_PARTS=rolling,reassign to pick parts; `unsliced` adds the
 * 300-node restart in a single run, nodesPerSlice 500, for comparison)
 */
import { type Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { progressQuery } from '../src/names';
import { type ReassignPartitionsResult } from '../workflows/reassign-partitions';
import { type RollingRestartResult } from '../workflows/rolling-restart';
import { historyOf, runsOf } from '../test/support/history';
import { rollingFakes, ScaleCluster } from '../test/support/scale-fakes';
import { startDevServer, testWorkflowBundle, withInputValidation } from '../test/support/temporal';

const PARTS = new Set((process.env.BENCH_PARTS ?? 'rolling,reassign').split(','));
const rows: string[][] = [['runbook', 'runs', 'events: parent', 'events: largest child', 'events: all runs', 'largest payload', 'progress steps: parent / largest child', 'progress query bytes: parent / largest child', 'wall time']];

async function measure(client: Client, label: string, workflowId: string, wallMs: number) {
  const tree = await historyOf(client, workflowId);
  const runs = runsOf(tree);
  const children = tree.children;
  const largestChild = children.reduce<(typeof children)[number] | null>((a, c) => (a === null || c.events > a.events ? c : a), null);
  const progress = async (id: string) => {
    const p = await client.workflow.getHandle(id).query(progressQuery);
    return { steps: p.steps.length, bytes: Buffer.byteLength(JSON.stringify(p)) };
  };
  const pp = await progress(workflowId);
  const cp = largestChild ? await progress(largestChild.workflowId) : null;
  rows.push([
    label,
    String(runs.length),
    String(tree.events),
    largestChild ? String(largestChild.events) : '-',
    String(runs.reduce((n, r) => n + r.events, 0)),
    `${(Math.max(...runs.map((r) => r.largestPayloadBytes)) / 1024).toFixed(1)} KiB`,
    `${pp.steps} / ${cp?.steps ?? '-'}`,
    `${(pp.bytes / 1024).toFixed(1)} KiB / ${cp ? `${(cp.bytes / 1024).toFixed(1)} KiB` : '-'}`,
    `${(wallMs / 1000).toFixed(1)} s`,
  ]);
  console.log(`  ${rows.at(-1)?.join(' | ')}`);
}

async function rolling(env: TestWorkflowEnvironment, nodes: number, nodesPerSlice?: number) {
  const taskQueue = `bench-scale-rolling-${nodes}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await testWorkflowBundle(), activities: withInputValidation(rollingFakes(nodes)) });
  await worker.runUntil(async () => {
    const t0 = Date.now();
    const h = await env.client.workflow.start('rollingRestart', { taskQueue, workflowId: `bench-scale-rolling-${nodes}-${Date.now()}`, args: [{ cluster: 'big', ...(nodesPerSlice ? { nodesPerSlice } : {}) }], workflowExecutionTimeout: '1 hour' });
    const result = (await h.result()) as RollingRestartResult;
    const restarted = result.nodes.filter((n) => n.outcome === 'restarted').length;
    await measure(env.client, `rolling restart, ${nodes} nodes (${restarted} restarted)${nodesPerSlice ? `, nodesPerSlice ${nodesPerSlice}` : ''}`, h.workflowId, Date.now() - t0);
  });
}

async function reassign(env: TestWorkflowEnvironment) {
  const taskQueue = 'bench-scale-reassign';
  const cluster = new ScaleCluster(60, 20, 40_000);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await testWorkflowBundle(), activities: withInputValidation(cluster.activities()) });
  await worker.runUntil(async () => {
    const t0 = Date.now();
    const h = await env.client.workflow.start('reassignPartitions', {
      taskQueue,
      workflowId: `bench-scale-reassign-${Date.now()}`,
      args: [{ cluster: 'big', goal: { kind: 'addBrokers', brokerIds: cluster.newBrokers }, approval: 'auto' }],
      workflowExecutionTimeout: '1 hour',
    });
    const result = (await h.result()) as ReassignPartitionsResult;
    const moves = result.batches.reduce((n, b) => n + b.partitions, 0);
    await measure(env.client, `reassignment, ${moves} moves in ${result.batches.length} batches (${result.replicasMoved} replicas, ${result.leaderChanges} leader changes)`, h.workflowId, Date.now() - t0);
  });
}

async function main() {
  // On a busy machine the dev server sometimes misses the SDK's 5 s start deadline: try again.
  let env: TestWorkflowEnvironment | null = null;
  for (let attempt = 1; !env; attempt++) {
    try {
      env = await startDevServer();
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
  try {
    if (PARTS.has('rolling')) await rolling(env, 300);
    if (PARTS.has('reassign')) await reassign(env);
    if (PARTS.has('unsliced')) await rolling(env, 300, 500);
  } finally {
    await env.teardown();
  }
  console.log('\nScale figures (fake activities, dev server)');
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
