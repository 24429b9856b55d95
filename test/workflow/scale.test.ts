/**
 * Runbooks at scale: a 300-node rolling restart and a 20,000-move reassignment, on fakes, must complete with
 * every run's history under Temporal's 10,240-event warning and no payload near the 2 MB limit.
 */
import { type Client } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { abortUpdate, progressQuery } from '../../src/names';
import { type ReassignPartitionsResult, reassignmentPlanQuery } from '../../workflows/reassign-partitions';
import { type RollingRestartResult } from '../../workflows/rolling-restart';
import { historyOf, runsOf } from '../support/history';
import { type ReassignFakes, type RollingFakes, rollingFakes, ScaleCluster } from '../support/scale-fakes';
import { delegatingActivities, eventually, REPO_ROOT, runFailure, startWorkflowTestBed, type WorkflowTestBed } from '../support/temporal';

const TASK_QUEUE = 'scale-test';
/** Temporal warns at 10,240 events per run. */
const EVENT_WARNING = 10_240;
/** Far below Temporal's 2 MB per payload: what a run may carry at once. */
const PAYLOAD_BUDGET = 256 * 1024;

let bed: WorkflowTestBed;
let client: Client;
let fakes: RollingFakes & ReassignFakes;

beforeAll(async () => {
  fakes = { ...rollingFakes(6), ...new ScaleCluster(6, 2, 24).activities() };
  const names = Object.keys(fakes) as (keyof typeof fakes)[];
  bed = await startWorkflowTestBed(TASK_QUEUE, delegatingActivities(names, () => fakes));
  client = bed.client;
}, 120_000);
afterAll(async () => bed?.stop());

let seq = 0;
const start = (type: string, input: Record<string, unknown>) =>
  client.workflow.start(type, { taskQueue: TASK_QUEUE, workflowId: `${type}-scale-${Date.now()}-${seq++}`, args: [{ cluster: 'big', ...input }], workflowExecutionTimeout: '20 minutes' });

test('a 300-node rolling restart completes in child workflows of 50 nodes; no run passes 10,240 events, no payload 256 KB', async () => {
  const stops: string[] = [];
  fakes = { ...fakes, ...rollingFakes(300, stops) };
  const h = await start('rollingRestart', {});
  const result: RollingRestartResult = await h.result();
  expect(result.nodes).toHaveLength(300);
  expect(result.nodes.every((n) => n.outcome === 'restarted')).toBe(true);
  // Each node went down once: controllers before brokers, the active controller (299) last of the controllers.
  expect(stops).toHaveLength(300);
  expect(new Set(stops).size).toBe(300);
  expect(stops.slice(0, 3)).toEqual(['stop kafka-298.lab', 'stop kafka-300.lab', 'stop kafka-299.lab']);
  expect(stops.at(-1)).toBe('stop kafka-297.lab');
  const tree = await historyOf(client, h.workflowId);
  const runs = runsOf(tree);
  expect(tree.children.map((c) => c.workflowId)).toEqual([1, 2, 3, 4, 5, 6].map((k) => `${h.workflowId}/slice-${k}`));
  for (const run of runs) {
    expect(run.events).toBeLessThan(EVENT_WARNING);
    expect(run.largestPayloadBytes).toBeLessThan(PAYLOAD_BUDGET);
  }
}, 600_000);

test('a 20,000-move reassignment completes in child workflows of 100 batches; no run passes 10,240 events, no payload 256 KB', async () => {
  const cluster = new ScaleCluster(60, 20, 40_000);
  fakes = { ...fakes, ...cluster.activities() };
  const h = await start('reassignPartitions', { goal: { kind: 'addBrokers', brokerIds: cluster.newBrokers }, approval: 'auto' });
  const result: ReassignPartitionsResult = await h.result();
  const moved = result.batches.reduce((n, b) => n + b.partitions, 0);
  expect(moved).toBeGreaterThanOrEqual(20_000);
  expect(result.throttlesLeft).toEqual([]);
  // Every partition moved is on its target: the new brokers hold their share.
  const onNew = [...cluster.byKey.values()].filter((p) => p.replicas.some((r) => cluster.newBrokers.includes(r))).length;
  expect(onNew).toBeGreaterThanOrEqual(20_000);
  expect(result.slices.length).toBeGreaterThan(1);
  const tree = await historyOf(client, h.workflowId);
  const runs = runsOf(tree);
  expect(tree.children.map((c) => c.workflowId)).toEqual(result.slices);
  for (const run of runs) {
    expect(run.events).toBeLessThan(EVENT_WARNING);
    expect(run.largestPayloadBytes).toBeLessThan(PAYLOAD_BUDGET);
  }
  // The plan is removed from the hosts once done.
  expect(cluster.store.files.size).toBe(0);
}, 600_000);

test('a gate in a slice of a rolling restart is answered with the CLI by the ID the operator started', async () => {
  fakes = { ...fakes, ...rollingFakes(6) };
  const h = await start('rollingRestart', { approval: 'every-node', nodesPerSlice: 2 });
  const cli = (...args: string[]) =>
    promisify(execFile)(resolve(REPO_ROOT, 'bin/kafka-runbooks'), args, { env: { ...process.env, TEMPORAL_ADDRESS: bed.env.address, TEMPORAL_NAMESPACE: 'default' } });
  for (const [slice, gate] of [
    [1, 'batch-1'],
    [1, 'batch-2'],
    [2, 'batch-3'],
  ] as const) {
    const child = client.workflow.getHandle(`${h.workflowId}/slice-${slice}`);
    await eventually(async () => (await child.query(progressQuery)).pendingGate?.name === gate, 30_000, `gate ${gate} in slice ${slice}`);
    // The parent's progress shows the slice's gate, with the slice as the run that takes the answer.
    await eventually(async () => (await h.query(progressQuery)).pendingGates.some((g) => g.name === gate && g.workflowId === child.workflowId), 30_000, `gate ${gate} in the parent`);
    expect((await h.query(progressQuery)).activeChild).toBe(child.workflowId);
    const out = await cli('approve', h.workflowId, '--gate', gate, '--as', 'sre-on-call', '--reason', 'checked');
    expect(out.stderr).toContain(`is waiting in the child workflow ${child.workflowId}`);
  }
  for (const gate of ['batch-4', 'batch-5', 'batch-6']) {
    await eventually(async () => {
      return (await h.query(progressQuery)).pendingGates.some((g) => g.name === gate);
    }, 30_000, `gate ${gate}`);
    await cli('approve', h.workflowId, '--gate', gate, '--as', 'sre-on-call');
  }
  const result: RollingRestartResult = await h.result();
  // The decisions made in the children are the run's decisions, in order.
  expect(result.gates.map((g) => [g.gate, g.approver])).toEqual([1, 2, 3, 4, 5, 6].map((i) => [`batch-${i}`, 'sre-on-call']));
  expect(result.nodes.every((n) => n.outcome === 'restarted')).toBe(true);
}, 120_000);

test('aborting a reassignment while a slice copies: that child cancels its moves and removes its throttles', async () => {
  const cluster = new ScaleCluster(6, 2, 24);
  fakes = { ...fakes, ...cluster.activities() };
  const h = await start('reassignPartitions', { goal: { kind: 'addBrokers', brokerIds: cluster.newBrokers }, approval: 'auto', maxMovesPerBroker: 1, batchesPerSlice: 1 });
  await eventually(async () => ((await h.query(reassignmentPlanQuery))?.batches ?? 0) > 0, 30_000, 'the plan');
  // Let the first slice finish, then hold the second one's wait.
  await eventually(() => cluster.log.includes('wait'), 30_000, 'the first wait');
  cluster.holdWaits();
  await eventually(async () => (await h.query(progressQuery)).activeChild?.endsWith('/batches-2-2'), 30_000, 'the second slice');
  await eventually(() => cluster.log.filter((l) => l === 'wait').length === 2, 30_000, 'the second wait');
  await h.executeUpdate(abortUpdate, { args: [{ by: 'sre-on-call', reason: 'peak traffic' }] });
  const f = await runFailure(h.result());
  expect(f.type).toBe('RunbookAborted');
  expect(cluster.log.slice(-2)).toEqual([expect.stringMatching(/^cancel \d+$/), 'remove throttles']);
  expect(cluster.throttles.size).toBe(0);
  const child = await client.workflow.getHandle(`${h.workflowId}/batches-2-2`).query(progressQuery);
  expect(child.steps.filter((s) => s.name.startsWith('undo:')).map((s) => [s.name, s.state])).toEqual([
    ['undo: cancel the moves of batch 2/' + (await h.query(reassignmentPlanQuery))?.batches, 'undone'],
    ['undo: remove the throttles of batch 2/' + (await h.query(reassignmentPlanQuery))?.batches, 'undone'],
  ]);
}, 120_000);
