/**
 * A node wait retried after its worker died resumes with the deadline of its first attempt (kept in the
 * heartbeat details), not a fresh full timeout. Driven through waitForProcessExit with a fake SSH shell whose
 * node never stops, and a shifted clock for "the retry started much later".
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { createClusterRegistry } from '../../../activities/clusters';
import { createNodeActivities } from '../../../activities/nodes';
import { type HostShell } from '../../../activities/ssh';
import { parseInventory } from '../../../src/inventory/load';
import { NodeWaitFailure } from '../../../src/rolling';

const inventory = parseInventory(
  'c1.yaml',
  stringify({
    name: 'c1',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { user: 'kafka', privateKeyFile: '~/.ssh/id_ed25519' } },
    hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
  }),
);

const quiet = { logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined } };
const TIMEOUT_MS = 5 * 60_000;
/** A retry that polls this often has clearly started a fresh full wait. */
const TOO_MANY_POLLS = 100;

let clockShiftMs = 0;
let statusChecks = 0;
/** When set, status commands hang until it settles (an SSH command to a host that does not answer). */
let hangStatus: Promise<void> | null = null;
/** A node that never stops: the status command always says running. */
const shell: HostShell = {
  exec: async () => {
    statusChecks++;
    if (hangStatus) await hangStatus;
    return { code: 0, stdout: '', stderr: '' };
  },
  close: async () => undefined,
};
const acts = createNodeActivities({ clusters: createClusterRegistry(new Map([['c1', inventory]])), shell, pollIntervalMs: 20 });

beforeEach(() => {
  clockShiftMs = 0;
  hangStatus = null;
  const realNow = Date.now.bind(Date);
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + clockShiftMs);
});
afterEach(() => jest.restoreAllMocks());

/** The first attempt: polls a few times, heartbeating, then its worker "dies" (the attempt is cancelled). Returns its last heartbeat. */
async function firstAttemptDies(): Promise<unknown> {
  const beats: unknown[] = [];
  const env = new MockActivityEnvironment({ attempt: 1 }, quiet);
  env.on('heartbeat', (d: unknown) => {
    beats.push(d);
    if (beats.length === 3) env.cancel();
  });
  await expect(env.run(() => acts.waitForProcessExit('c1', 'kafka-1', TIMEOUT_MS))).rejects.toBeInstanceOf(CancelledFailure);
  return beats.at(-1);
}

/** The retry, resuming from `heartbeatDetails`; cancelled if it polls as if it had a fresh full timeout. */
async function retry(heartbeatDetails: unknown): Promise<{ failure: unknown; polls: number }> {
  const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails }, quiet);
  const before = statusChecks;
  env.on('heartbeat', () => {
    if (statusChecks - before > TOO_MANY_POLLS) env.cancel();
  });
  const failure = await env.run(() => acts.waitForProcessExit('c1', 'kafka-1', TIMEOUT_MS)).catch((e: unknown) => e);
  return { failure, polls: statusChecks - before };
}

test('a wait retried after its deadline passed times out at once, counting from the first attempt', async () => {
  const last = await firstAttemptDies();
  clockShiftMs = 10 * 60_000; // the worker was dead, and the retry starts ten minutes later
  const { failure, polls } = await retry(last);
  expect(failure).toMatchObject({ type: NodeWaitFailure.StopTimeout });
  expect(polls).toBe(1);
  const details = (failure as { details: { elapsedMs: number }[] }).details[0];
  expect(details?.elapsedMs).toBeGreaterThanOrEqual(10 * 60_000);
});

test('a wait retried before its deadline ends at the deadline of the first attempt, not a full timeout later', async () => {
  const last = await firstAttemptDies();
  clockShiftMs = TIMEOUT_MS - 500; // half a second of the first attempt's timeout left
  const { failure, polls } = await retry(last);
  expect(failure).toMatchObject({ type: NodeWaitFailure.StopTimeout });
  expect(polls).toBeLessThan(TOO_MANY_POLLS);
  expect((failure as { details: { elapsedMs: number }[] }).details[0]?.elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS);
});

test('a first attempt (no heartbeat details) waits its full timeout', async () => {
  const { failure, polls } = await retry(undefined);
  // Cancelled by the poll limit: it was still waiting, as it should with five minutes to go.
  expect(failure).toBeInstanceOf(CancelledFailure);
  expect(polls).toBeGreaterThan(TOO_MANY_POLLS);
});

test('a wait keeps heartbeating while one poll hangs, so a short heartbeat timeout does not take it for a dead worker', async () => {
  let release = () => undefined as void;
  hangStatus = new Promise<void>((r) => (release = r));
  const env = new MockActivityEnvironment({ attempt: 1 }, quiet);
  const before = statusChecks;
  let hanging = true;
  let beatsDuringTheHang = 0;
  const end = () => {
    hanging = false;
    release();
    env.cancel();
  };
  env.on('heartbeat', () => {
    // The first status command has started and not returned: a heartbeat from the keep-alive, not from a poll.
    if (hanging && statusChecks - before === 1 && ++beatsDuringTheHang === 1) end();
  });
  // Without heartbeats during the poll nothing would end the hang: the test bounds it.
  const bound = setTimeout(end, 15_000);
  await expect(env.run(() => acts.waitForProcessExit('c1', 'kafka-1', TIMEOUT_MS))).rejects.toBeInstanceOf(CancelledFailure);
  clearTimeout(bound);
  expect(beatsDuringTheHang).toBe(1);
}, 30_000);
