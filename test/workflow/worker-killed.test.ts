/**
 * A worker SIGKILLed in the middle of a changing activity: the server must notice by the missing heartbeats
 * (seconds), not wait for the activity's start-to-close timeout (minutes), and retry it on another worker.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { type Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { type RollingRestartResult } from '../../workflows/rolling-restart';
import { REPO_ROOT, startDevServer, testWorkflowBundle, withInputValidation } from '../support/temporal';
import { FakeWorld } from './every-activity';

const TASK_QUEUE = 'worker-killed-test';
let env: TestWorkflowEnvironment;
let client: Client;
let workflowWorker: Worker;
let workflowsRunning: Promise<void>;
let child: ChildProcessWithoutNullStreams | null = null;

beforeAll(async () => {
  env = await startDevServer();
  client = env.client;
  // Workflows only: activities run on the worker in the child process, then on the second worker.
  workflowWorker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await testWorkflowBundle(), activities: withInputValidation({}), enableNonLocalActivities: false });
  workflowsRunning = workflowWorker.run();
}, 120_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  workflowWorker?.shutdown();
  await workflowsRunning;
  await env?.teardown();
});

/** Starts the activity worker in its own process and resolves its stdout lines as they come. */
function startActivityWorkerProcess(hangIn: keyof Activities): { lines: AsyncIterator<string>; proc: ChildProcessWithoutNullStreams } {
  // Node itself with tsx's loader (not the tsx wrapper, whose child would outlive a SIGKILL of the wrapper).
  const proc = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'test/support/fake-activity-worker.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default', TASK_QUEUE, HANG_IN: hangIn, WORKER_IDENTITY: 'worker-a' },
  });
  proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[worker-a] ${d.toString()}`));
  return { proc, lines: createInterface({ input: proc.stdout })[Symbol.asyncIterator]() };
}

async function lineMatching(lines: AsyncIterator<string>, wanted: string): Promise<void> {
  for (;;) {
    const next = await lines.next();
    if (next.done) throw new Error(`the activity worker exited before printing "${wanted}"`);
    if (next.value === wanted) return;
  }
}

test('a worker killed during a version switch is noticed by its heartbeat timeout, and the switch runs again on another worker', async () => {
  // switchVersion heartbeats all along, like applyThrottles; it needs nothing the killed worker kept in memory
  // (the reassignment's batches are stored on the hosts, which these fakes keep per process).
  const a = startActivityWorkerProcess('switchVersion');
  child = a.proc;
  await lineMatching(a.lines, 'ready');
  const handle = await client.workflow.start('rollingRestart', {
    taskQueue: TASK_QUEUE,
    workflowId: `worker-killed-${Date.now()}`,
    args: [{ cluster: 'c1', targetVersion: '4.3.1', nodes: [1] }],
  });
  await lineMatching(a.lines, 'started switchVersion 1');
  a.proc.kill('SIGKILL');
  const killedAt = Date.now();
  child = null;

  const retries: { attempt: number; atMs: number }[] = [];
  const world = new FakeWorld({ onStarted: (activity, attempt) => void (activity === 'switchVersion' && retries.push({ attempt, atMs: Date.now() })) });
  const second = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, identity: 'worker-b', activities: world.activities() });
  const result: RollingRestartResult = await second.runUntil(handle.result());
  expect(result.nodes.find((n) => n.nodeId === 1)).toMatchObject({ outcome: 'restarted', newVersion: '4.3.1' });

  // The server's record: the second attempt ran on the second worker, after the first one timed out by heartbeat.
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'switchVersion');
  const started = events.find((e) => e.activityTaskStartedEventAttributes && Number(e.activityTaskStartedEventAttributes.scheduledEventId) === Number(scheduled?.eventId))?.activityTaskStartedEventAttributes;
  expect(started?.attempt).toBe(2);
  expect(started?.identity).toBe('worker-b');
  expect(started?.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
  expect(retries.map((r) => r.attempt)).toEqual([2]);

  const heartbeatTimeoutMs = optionalTsToMs(scheduled?.activityTaskScheduledEventAttributes?.heartbeatTimeout);
  const noticedAfterMs = (retries[0]?.atMs ?? NaN) - killedAt;
  process.stdout.write(`switchVersion: worker killed; retried on worker-b ${(noticedAfterMs / 1000).toFixed(1)} s later (heartbeat timeout ${(heartbeatTimeoutMs ?? 0) / 1000} s)\n`);
}, 420_000);
