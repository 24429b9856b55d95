/**
 * The timeouts and retries every runbook gives its activities, read from what the server recorded
 * (ActivityTaskScheduled events) after running each runbook to its end with fakes.
 */
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import type { Activities } from '../../activities';
import { DEFAULT_WAIT_MS } from '../../activities/nodes';
import { approveUpdate } from '../../src/names';
import { NodeWaitFailure } from '../../src/rolling';
import { runFailure, startWorkflowTestBed, waitingAtGate, type WorkflowTestBed } from '../support/temporal';
import { FakeWorld } from './every-activity';

const TASK_QUEUE = 'activity-options-test';

/**
 * Changing activities that heartbeat all along (a keep-heartbeating timer, or a heartbeat per step), as the
 * runbooks schedule them: the reassignment's throttle and move changes run as their stored-batch versions.
 */
const HEARTBEATING_CHANGES: (keyof Activities)[] = ['switchVersion', 'restoreVersionLink', 'restorePreferredLeaders', 'setBatchThrottles', 'removeBatchThrottles', 'submitReassignmentBatch', 'cancelReassignmentBatch'];

/** The waits, and the timeout each was given (its argument; the activity's default when none was passed). */
const WAITS: Partial<Record<keyof Activities, (args: unknown[]) => number>> = {
  waitForProcessExit: (a) => (a[2] as number | undefined) ?? DEFAULT_WAIT_MS.processExit,
  waitForBrokerDeregistered: (a) => (a[2] as number | undefined) ?? DEFAULT_WAIT_MS.deregistration,
  waitForBrokerRegistered: (a) => (a[2] as number | undefined) ?? DEFAULT_WAIT_MS.registration,
  waitForBrokerCaughtUp: (a) => (a[2] as number | undefined) ?? DEFAULT_WAIT_MS.catchUp,
  waitForRestartAllowed: (a) => (a[2] as number | undefined) ?? DEFAULT_WAIT_MS.guard,
  waitForQuorumCaughtUp: (a) => (a[2] as number | undefined) ?? DEFAULT_WAIT_MS.quorumCatchUp,
  waitForReassignmentBatch: (a) => (a[3] as { timeoutMs: number }).timeoutMs,
};
const isWait = (name: string) => name in WAITS;
const heartbeats = (name: string) => isWait(name) || (HEARTBEATING_CHANGES as string[]).includes(name);

/** One ActivityTaskScheduled event, decoded. */
interface Scheduled {
  runbook: string;
  activity: keyof Activities;
  args: unknown[];
  startToCloseMs: number;
  scheduleToCloseMs: number;
  heartbeatMs: number;
  maximumAttempts: number;
  nonRetryable: string[];
}

let bed: WorkflowTestBed;
let client: Client;
let fake: FakeWorld;
const scheduled: Scheduled[] = [];

async function scheduledIn(runbook: string, workflowId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  for (const e of history.events ?? []) {
    const a: temporal.api.history.v1.IActivityTaskScheduledEventAttributes | null | undefined = e.activityTaskScheduledEventAttributes;
    if (!a) continue;
    scheduled.push({
      runbook,
      activity: a.activityType?.name as keyof Activities,
      args: (a.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)),
      startToCloseMs: optionalTsToMs(a.startToCloseTimeout) ?? 0,
      scheduleToCloseMs: optionalTsToMs(a.scheduleToCloseTimeout) ?? 0,
      heartbeatMs: optionalTsToMs(a.heartbeatTimeout) ?? 0,
      maximumAttempts: a.retryPolicy?.maximumAttempts ?? 0,
      nonRetryable: a.retryPolicy?.nonRetryableErrorTypes ?? [],
    });
  }
}

let seq = 0;
async function start(workflowType: string, input: Record<string, unknown>): Promise<WorkflowHandle> {
  // No execution timeout: the server would cap the activities' timeouts at it.
  return client.workflow.start(workflowType, { taskQueue: TASK_QUEUE, workflowId: `options-${workflowType}-${Date.now()}-${seq++}`, args: [{ cluster: 'c1', ...input }] });
}
const approve = (h: WorkflowHandle, gate: string) => h.executeUpdate(approveUpdate, { args: [{ gate, approver: 'sre-on-call', reason: 'test' }] });

/** Rolling upgrade, reassignments (done, and undone), add and decommission brokers, health: every runbook once. */
async function runEveryRunbook(): Promise<void> {
  fake = new FakeWorld();
  const upgrade = await start('rollingRestart', {
    targetVersion: '4.3.1',
    timeouts: { stopSeconds: 7200, registrationSeconds: 5400, catchUpSeconds: 10_800, guardWaitSeconds: 9000 },
  });
  await waitingAtGate(upgrade, 'finalize');
  await approve(upgrade, 'finalize');
  await upgrade.result();
  await scheduledIn('rollingRestart', upgrade.workflowId);

  // A node that does not come back is rolled back (restoreVersionLink), then the run halts.
  fake = new FakeWorld({ failOnce: { activity: 'waitForBrokerRegistered', type: NodeWaitFailure.RegistrationTimeout } });
  const rolledBack = await start('rollingRestart', { targetVersion: '4.3.1', rollbackPolicy: 'automatic' });
  await waitingAtGate(rolledBack, 'halted-at-kafka-1.lab');
  await rolledBack.executeUpdate(approveUpdate, { args: [{ gate: 'halted-at-kafka-1.lab', approver: 'sre-on-call', reason: 'test', choice: 'abort' }] });
  expect((await runFailure(rolledBack.result())).type).toBe('UnsafeToProceed');
  await scheduledIn('rollingRestart (rolled back)', rolledBack.workflowId);

  fake = new FakeWorld();
  const reassign = await start('reassignPartitions', { goal: { kind: 'addBrokers', brokerIds: [4] }, approval: 'auto', throttleBytesPerSec: 1_000_000, batchTimeoutMinutes: 150 });
  await reassign.result();
  await scheduledIn('reassignPartitions', reassign.workflowId);

  fake = new FakeWorld({ reassignmentOutcome: 'stuck' });
  const undone = await start('reassignPartitions', { goal: { kind: 'addBrokers', brokerIds: [4] }, approval: 'auto', throttleBytesPerSec: 1_000_000, batchTimeoutMinutes: 150 });
  expect((await runFailure(undone.result())).type).toBe('UnsafeToProceed');
  await scheduledIn('reassignPartitions (undone)', undone.workflowId);

  fake = new FakeWorld();
  const add = await start('addBrokers', { hosts: ['kafka-4.lab'], registrationTimeoutMinutes: 120, approval: 'auto', batchTimeoutMinutes: 150 });
  await add.result();
  await scheduledIn('addBrokers', add.workflowId);
  await scheduledIn('addBrokers (child)', `${add.workflowId}/reassign`);

  fake = new FakeWorld();
  const decommission = await start('decommissionBroker', { hosts: ['kafka-4.lab'], wipeData: true, approval: 'auto' });
  await waitingAtGate(decommission, 'stop-brokers');
  await approve(decommission, 'stop-brokers');
  await waitingAtGate(decommission, 'wipe-data');
  await approve(decommission, 'wipe-data');
  await decommission.result();
  await scheduledIn('decommissionBroker', decommission.workflowId);

  fake = new FakeWorld();
  const health = await start('clusterHealth', {});
  await health.result();
  await scheduledIn('clusterHealth', health.workflowId);
}

beforeAll(async () => {
  const names = Object.keys(new FakeWorld().activities()) as (keyof Activities)[];
  bed = await startWorkflowTestBed(TASK_QUEUE, Object.fromEntries(names.map((n) => [n, (...args: never[]) => (fake.activities()[n] as (...a: never[]) => unknown)(...args)])));
  client = bed.client;
  await runEveryRunbook();
}, 180_000);
afterAll(async () => bed?.stop());

const where = (s: Scheduled) => `${s.runbook}: ${s.activity}`;

test('the runbooks scheduled every heartbeating change and every wait (so the checks below are not vacuous)', () => {
  const seen = new Set(scheduled.map((s) => s.activity));
  expect([...HEARTBEATING_CHANGES, ...Object.keys(WAITS)].filter((n) => !seen.has(n as keyof Activities))).toEqual([]);
});

test('every changing activity that heartbeats, and every wait, has a heartbeat timeout of at most 30 s', () => {
  const wrong = scheduled.filter((s) => heartbeats(s.activity) && !(s.heartbeatMs > 0 && s.heartbeatMs <= 30_000)).map((s) => `${where(s)} heartbeat timeout ${s.heartbeatMs} ms`);
  expect(wrong).toEqual([]);
});

test('no activity that does not heartbeat has a heartbeat timeout', () => {
  const wrong = scheduled.filter((s) => !heartbeats(s.activity) && s.heartbeatMs > 0).map((s) => `${where(s)} heartbeat timeout ${s.heartbeatMs} ms`);
  expect(wrong).toEqual([]);
});

test("every wait's attempt, and all its attempts together, are allowed at least the user's timeout", () => {
  const wrong = scheduled.flatMap((s) => {
    const timeoutOf = WAITS[s.activity];
    if (!timeoutOf) return [];
    const userMs = timeoutOf(s.args);
    const problems: string[] = [];
    if (s.startToCloseMs < userMs) problems.push(`${where(s)}: start-to-close ${s.startToCloseMs} ms < the wait's ${userMs} ms`);
    if (s.scheduleToCloseMs !== 0 && s.scheduleToCloseMs < userMs) problems.push(`${where(s)}: schedule-to-close ${s.scheduleToCloseMs} ms < the wait's ${userMs} ms`);
    return problems;
  });
  expect(wrong).toEqual([]);
  // The user's own timeouts reached the waits.
  const given = (runbook: string, activity: keyof Activities) => scheduled.filter((s) => s.runbook === runbook && s.activity === activity).map((s) => WAITS[activity]?.(s.args));
  expect(new Set(given('addBrokers', 'waitForBrokerRegistered'))).toEqual(new Set([120 * 60_000]));
  expect(new Set(given('rollingRestart', 'waitForProcessExit'))).toEqual(new Set([7200 * 1000]));
  expect(new Set(given('rollingRestart', 'waitForBrokerCaughtUp'))).toEqual(new Set([10_800 * 1000]));
  expect(new Set(given('rollingRestart', 'waitForRestartAllowed'))).toEqual(new Set([9000 * 1000]));
  expect(new Set(given('reassignPartitions', 'waitForReassignmentBatch'))).toEqual(new Set([150 * 60_000]));
});

test('wait failures are non-retryable for every activity of every runbook', () => {
  const waitFailures = Object.values(NodeWaitFailure);
  const wrong = scheduled.filter((s) => !waitFailures.every((t) => s.nonRetryable.includes(t))).map(where);
  expect(wrong).toEqual([]);
});

test('the reassignment wait has an overall limit: a bounded number of attempts within a schedule-to-close timeout', () => {
  const waits = scheduled.filter((s) => s.activity === 'waitForReassignmentBatch');
  expect(waits.length).toBeGreaterThan(0);
  for (const s of waits) {
    expect(s.maximumAttempts).toBeGreaterThan(0);
    expect(s.scheduleToCloseMs).toBeGreaterThanOrEqual(WAITS.waitForReassignmentBatch?.(s.args) ?? Infinity);
  }
});
