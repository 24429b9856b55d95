import { type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { abortUpdate, approveUpdate, progressQuery } from '../../src/names';
import { NodeWaitFailure } from '../../src/rolling';
import { type RollingRestartResult } from '../../workflows/rolling-restart';
import { delegatingActivities, eventually, runFailure, startWorkflowTestBed, testWorkflowBundle, waitingAtGate, type WorkflowTestBed } from '../support/temporal';
import { ClusterBuilder, expectedNode, hostObservation, quorum } from '../unit/health/builder';

type Fakes = Pick<
  Activities,
  | 'describeInventory'
  | 'readClusterMetadata'
  | 'readQuorumState'
  | 'inspectHosts'
  | 'waitForRestartAllowed'
  | 'readBrokerState'
  | 'readNodeVersion'
  | 'backupNodeConfig'
  | 'stopNode'
  | 'waitForProcessExit'
  | 'killNode'
  | 'waitForBrokerDeregistered'
  | 'switchVersion'
  | 'carryOverNodeConfig'
  | 'startNode'
  | 'waitForBrokerRegistered'
  | 'waitForBrokerCaughtUp'
  | 'waitForQuorumCaughtUp'
  | 'restorePreferredLeaders'
  | 'restoreVersionLink'
  | 'restoreNodeConfig'
  | 'finalizeMetadataVersion'
  | 'canaryRoundTrip'
  | 'checkTargetVersion'
  | 'acquireClusterLock'
  | 'releaseClusterLock'
>;

const TASK_QUEUE = 'rolling-test';
const COMBINED = ['broker', 'controller'] as const;
const H = (id: number) => `kafka-${id}.lab`;

/** Three combined KRaft nodes; node 3 leads the quorum, so it goes last. Side effects are logged in order. */
class FakeNodes {
  log: string[] = [];
  version = new Map([1, 2, 3].map((id) => [H(id), '3.9.2']));
  /** Scripted failures: activity name + host/node → how many more times to fail, and with what. */
  failures = new Map<string, { times: number; type: string }>();
  holds = new Map<string, Promise<void>>();
  /** Hosts where the upgrade's target version is not installed. */
  missingInstall: string[] = [];
  releases = new Map<string, () => void>();

  hold(key: string) {
    this.holds.set(key, new Promise<void>((r) => this.releases.set(key, r)));
  }
  release(key: string) {
    this.releases.get(key)?.();
    this.holds.delete(key);
  }
  private async step(key: string) {
    this.log.push(key);
    const f = this.failures.get(key);
    if (f && f.times > 0) {
      f.times--;
      throw ApplicationFailure.create({ type: f.type, message: `${key} timed out` });
    }
    const held = this.holds.get(key);
    if (held) await Promise.race([held, Context.current().cancelled]);
  }

  activities(): Fakes {
    const metadata = () =>
      ClusterBuilder.kraft()
        .brokers(1, 2, 3)
        .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(6, 3, [1, 2, 3]))
        .build();
    const wait = { elapsedMs: 1 };
    return {
      describeInventory: async (cluster) => ({ cluster, mode: 'kraft' as const, expected: [1, 2, 3].map((id) => expectedNode(id, [...COMBINED])) }),
      readClusterMetadata: async () => metadata(),
      readQuorumState: async () => quorum(3).voters(1, 2, 3).build(),
      inspectHosts: async () => [1, 2, 3].map((id) => hostObservation(id, { roles: [...COMBINED], kafkaVersion: this.version.get(H(id)) ?? null })),
      waitForRestartAllowed: async (_c, batch) => (await this.step(`guard ${batch.map((n) => n.nodeId).join(',')}`), { elapsedMs: 1, decision: { safe: true, reasons: [], ignored: [] } }),
      readBrokerState: async (_c, h) => ({ host: h, state: 'RUNNING' as const, stateCode: 3, line: null, running: true }) as never,
      readNodeVersion: async (_c, h) => ({ linkTarget: null, linkVersion: this.version.get(h) ?? null, processRunning: true, runningVersion: this.version.get(h) ?? null, runningVersionFrom: 'process' as const }),
      backupNodeConfig: async (_c, h) => (this.log.push(`backup ${h}`), { path: `/etc/kafka/server.properties.bak-${h}`, reused: false }) as never,
      stopNode: async (_c, h) => (await this.step(`stop ${h}`), { wasRunning: true, output: '' }),
      waitForProcessExit: async (_c, h) => (await this.step(`exited ${h}`), wait),
      killNode: async (_c, h) => (await this.step(`kill ${h}`), { wasRunning: true, output: '' }),
      waitForBrokerDeregistered: async (_c, id) => (await this.step(`deregistered ${id}`), wait),
      switchVersion: async (_c, h, v) => {
        await this.step(`switch ${h} ${v}`);
        const previous = this.version.get(h) ?? null;
        this.version.set(h, v);
        return { previousTarget: `kafka_2.13-${previous}`, previousVersion: previous, target: `kafka_2.13-${v}`, version: v, changed: true, unpacked: false };
      },
      carryOverNodeConfig: async (_c, h) => (this.log.push(`carry-over ${h}`), { changed: false, changes: [], warnings: [] }) as never,
      startNode: async (_c, h) => (await this.step(`start ${h}`), { alreadyRunning: false, output: '' }),
      waitForBrokerRegistered: async (_c, id) => (await this.step(`registered ${id}`), wait),
      waitForBrokerCaughtUp: async (_c, id) => (await this.step(`caught-up ${id}`), { ...wait, status: {} as never }),
      waitForQuorumCaughtUp: async (_c, id) => (await this.step(`quorum ${id}`), { ...wait, leaderId: 3 }),
      restorePreferredLeaders: async () => (this.log.push('elect'), { host: 'x', elected: [], notNeeded: [], failed: [] }) as never,
      restoreVersionLink: async (_c, h, previous) => {
        this.log.push(`restore-link ${h} ${previous}`);
        this.version.set(h, previous.replace('kafka_2.13-', ''));
        return { previousTarget: null, previousVersion: null, target: previous, version: null, changed: true, unpacked: false };
      },
      restoreNodeConfig: async (_c, h) => (this.log.push(`restore-config ${h}`), { changed: true }),
      finalizeMetadataVersion: async (_c, v) => (this.log.push(`finalize ${v}`), { before: '3.9-IV0', after: '4.3-IV0' }),
      checkTargetVersion: async (_c, h, v) => ({ host: h, ok: !this.missingInstall.includes(h), detail: this.missingInstall.includes(h) ? `no install of Kafka ${v} under /opt/kafka` : 'installed' }),
      canaryRoundTrip: async (_c, topic) => (this.log.push(`canary ${topic}`), { partition: 0, offset: '0', roundTripMs: 1 }),
      acquireClusterLock: async () => undefined,
      releaseClusterLock: async () => undefined,
    };
  }
}

let bed: WorkflowTestBed;
let client: Client;
let fake: FakeNodes;

beforeAll(async () => {
  const names = Object.keys(new FakeNodes().activities()) as (keyof Fakes)[];
  bed = await startWorkflowTestBed(TASK_QUEUE, delegatingActivities(names, () => fake.activities()));
  client = bed.client;
}, 120_000);
afterAll(async () => bed?.stop());
beforeEach(() => {
  fake = new FakeNodes();
});

let seq = 0;
const start = (input: Record<string, unknown>, taskQueue = TASK_QUEUE) =>
  client.workflow.start('rollingRestart', { taskQueue, workflowId: `rr-${Date.now()}-${seq++}`, args: [{ cluster: 'c1', ...input }], workflowExecutionTimeout: '3 minutes' });
type Handle = Awaited<ReturnType<typeof start>>;
const waitingAt = waitingAtGate;
const answer = (h: Handle, gate: string, choice?: string) => h.executeUpdate(approveUpdate, { args: [{ gate, approver: 'sre-on-call', reason: 'checked', choice }] });
const failureOf = (h: Handle) => runFailure(h.result());
const nodeSteps = (id: number) => [`guard ${id}`, `stop ${H(id)}`, `exited ${H(id)}`, `deregistered ${id}`, `start ${H(id)}`, `registered ${id}`, `caught-up ${id}`, `quorum ${id}`, 'elect'];

test('a rolling restart: one node at a time, guarded, the active controller last, each back before the next', async () => {
  const result: RollingRestartResult = await (await start({})).result();
  const effects = fake.log.filter((l) => !l.startsWith('backup'));
  expect(effects).toEqual([...nodeSteps(1), ...nodeSteps(2), ...nodeSteps(3)]);
  expect(result.nodes.map((n) => [n.host, n.outcome, n.oldVersion, n.newVersion])).toEqual([
    [H(1), 'restarted', '3.9.2', '3.9.2'],
    [H(2), 'restarted', '3.9.2', '3.9.2'],
    [H(3), 'restarted', '3.9.2', '3.9.2'],
  ]);
});

test('with a canary topic, each batch ends with a produce-and-consume round trip', async () => {
  await (await start({ canaryTopic: 'canary' })).result();
  expect(fake.log.filter((l) => l === 'elect' || l.startsWith('canary'))).toEqual(['elect', 'canary canary', 'elect', 'canary canary', 'elect', 'canary canary']);
});

test('an upgrade switches each node, then finalizes only after the irreversible approval', async () => {
  const h = await start({ targetVersion: '4.3.1' });
  await waitingAt(h, 'finalize');
  expect(fake.log.filter((l) => l.startsWith('switch'))).toEqual([`switch ${H(1)} 4.3.1`, `switch ${H(2)} 4.3.1`, `switch ${H(3)} 4.3.1`]);
  expect(fake.log.some((l) => l.startsWith('finalize'))).toBe(false);
  expect((await h.query(progressQuery)).pendingGate?.prompt).toContain('IRREVERSIBLE');
  await answer(h, 'finalize');
  const result: RollingRestartResult = await h.result();
  expect(fake.log.at(-1)).toBe('finalize 4.3.1');
  expect(result.finalized).toEqual({ feature: 'metadata.version', before: '3.9-IV0', after: '4.3-IV0' });
  expect(result.nodes.every((n) => n.newVersion === '4.3.1' && n.oldVersion === '3.9.2')).toBe(true);
  expect(result.gates).toEqual([expect.objectContaining({ gate: 'finalize', outcome: 'approved', approver: 'sre-on-call' })]);
});

test('an upgrade whose target version is missing on a host is refused before any node goes down', async () => {
  fake.missingInstall = [H(3)];
  const f = await failureOf(await start({ targetVersion: '4.3.1' }));
  expect(f.type).toBe('UnsafeToProceed');
  expect(f.message).toBe(`Kafka 4.3.1 is not available on every host: ${H(3)}: no install of Kafka 4.3.1 under /opt/kafka`);
  expect(fake.log.filter((l) => l.startsWith('stop'))).toEqual([]);
});

test('a rejected finalize leaves the metadata version alone', async () => {
  const h = await start({ targetVersion: '4.3.1' });
  await waitingAt(h, 'finalize');
  await h.executeUpdate((await import('../../src/names')).rejectUpdate, { args: [{ gate: 'finalize', approver: 'sre-on-call', reason: 'soak first' }] });
  const f = await failureOf(h);
  expect(f.type).toBe('GateRejected');
  expect(fake.log.some((l) => l.startsWith('finalize'))).toBe(false);
});

test('a guard that does not allow the batch: the run waits, then asks; retry goes on when it is safe', async () => {
  fake.failures.set('guard 2', { times: 1, type: NodeWaitFailure.GuardWaitTimeout });
  const h = await start({});
  await waitingAt(h, 'guard-batch-2-1');
  // Nothing of node 2 happened while the guard refused.
  expect(fake.log).not.toContain(`stop ${H(2)}`);
  expect((await h.query(progressQuery)).pendingGate?.choices).toEqual(['retry', 'skip', 'abort']);
  await answer(h, 'guard-batch-2-1', 'retry');
  await h.result();
  expect(fake.log.filter((l) => l === 'guard 2')).toHaveLength(2);
  expect(fake.log).toContain(`stop ${H(2)}`);
});

test('a guard answered with skip leaves that node alone and goes on', async () => {
  fake.failures.set('guard 2', { times: 1, type: NodeWaitFailure.GuardWaitTimeout });
  const h = await start({});
  await waitingAt(h, 'guard-batch-2-1');
  await answer(h, 'guard-batch-2-1', 'skip');
  const result: RollingRestartResult = await h.result();
  expect(result.nodes.find((n) => n.host === H(2))?.outcome).toBe('skipped');
  expect(fake.log).not.toContain(`stop ${H(2)}`);
  expect(fake.log).toContain(`stop ${H(3)}`);
});

test('a node that fails to come back on the new version is rolled back, and the run halts before the next node', async () => {
  fake.failures.set('registered 2', { times: 1, type: NodeWaitFailure.RegistrationTimeout });
  const h = await start({ targetVersion: '4.3.1' });
  await waitingAt(h, `rollback-${H(2)}`);
  await answer(h, `rollback-${H(2)}`);
  await waitingAt(h, `halted-at-${H(2)}`);
  expect(fake.log.slice(fake.log.indexOf(`restore-link ${H(2)} kafka_2.13-3.9.2`))).toEqual([
    `restore-link ${H(2)} kafka_2.13-3.9.2`,
    `restore-config ${H(2)}`,
    `start ${H(2)}`,
    'registered 2',
    'caught-up 2',
    'quorum 2',
  ]);
  await answer(h, `halted-at-${H(2)}`, 'abort');
  const f = await failureOf(h);
  expect(f.type).toBe('UnsafeToProceed');
  expect(fake.version.get(H(2))).toBe('3.9.2');
  // The next node was never touched.
  expect(fake.log.some((l) => l.includes(H(3)) || l === 'guard 3')).toBe(false);
});

test('a process that does not stop is killed only after approval', async () => {
  fake.failures.set(`exited ${H(1)}`, { times: 1, type: NodeWaitFailure.StopTimeout });
  const h = await start({ approval: 'none' });
  await waitingAt(h, `force-kill-${H(1)}`);
  expect(fake.log).not.toContain(`kill ${H(1)}`);
  await answer(h, `force-kill-${H(1)}`);
  await h.result();
  expect(fake.log).toContain(`kill ${H(1)}`);
});

test('abort while a node catches up: no further node is touched', async () => {
  fake.hold('caught-up 1');
  const h = await start({});
  await eventually(() => fake.log.includes('caught-up 1'), 20_000, 'node 1 catching up');
  await h.executeUpdate(abortUpdate, { args: [{ by: 'sre-on-call', reason: 'incident' }] });
  const f = await failureOf(h);
  expect(f.type).toBe('RunbookAborted');
  expect(fake.log.some((l) => l.includes(H(2)) || l === 'guard 2')).toBe(false);
});

test('abort while a node is down: it is started again (on its previous version during an upgrade)', async () => {
  fake.hold(`exited ${H(1)}`);
  const h = await start({});
  await eventually(() => fake.log.includes(`exited ${H(1)}`), 20_000, 'node 1 stopping');
  await h.executeUpdate(abortUpdate, { args: [{ by: 'sre-on-call' }] });
  expect((await failureOf(h)).type).toBe('RunbookAborted');
  expect(fake.log.at(-1)).toBe(`start ${H(1)}`);

  // During an upgrade, an abort right after the switch puts the node back on its old version, then starts it.
  fake = new FakeNodes();
  fake.hold(`switch ${H(1)} 4.3.1`);
  const u = await start({ targetVersion: '4.3.1' });
  await eventually(() => fake.log.includes(`switch ${H(1)} 4.3.1`), 20_000, 'node 1 switching');
  await u.executeUpdate(abortUpdate, { args: [{ by: 'sre-on-call' }] });
  fake.release(`switch ${H(1)} 4.3.1`);
  expect((await failureOf(u)).type).toBe('RunbookAborted');
  expect(fake.log.slice(-3)).toEqual([`restore-link ${H(1)} kafka_2.13-3.9.2`, `restore-config ${H(1)}`, `start ${H(1)}`]);
  expect(fake.version.get(H(1))).toBe('3.9.2');
  expect(fake.log.some((l) => l.includes(H(2)))).toBe(false);
});

test('a worker restart mid-node neither restarts the node twice nor skips its wait', async () => {
  const queue = `${TASK_QUEUE}-restart`;
  const makeWorker = async () => Worker.create({ connection: bed.env.nativeConnection, taskQueue: queue, workflowBundle: await testWorkflowBundle(), activities: fake.activities() });
  fake.hold('registered 1');
  const h = await start({}, queue);
  await (await makeWorker()).runUntil(eventually(() => fake.log.includes('registered 1'), 20_000, 'node 1 registering'));
  const second = await makeWorker();
  fake.release('registered 1');
  await second.runUntil(h.result());
  expect(fake.log.filter((l) => l === `stop ${H(1)}`)).toHaveLength(1);
  expect(fake.log.filter((l) => l === `start ${H(1)}`)).toHaveLength(1);
  // The interrupted wait ran again before node 1 counted as back.
  expect(fake.log.filter((l) => l === 'registered 1').length).toBeGreaterThanOrEqual(2);
  expect(fake.log.indexOf(`stop ${H(2)}`)).toBeGreaterThan(fake.log.lastIndexOf('caught-up 1'));
});

test('bad input and an unhealthy cluster are refused before any node is touched', async () => {
  const f1 = await failureOf(await start({ targetVersion: '4.x', parallelism: { mode: 'sideways' } }));
  expect(f1.type).toBe('InvalidInput');
  expect(f1.message).toContain('targetVersion: must look like 3.9.2');
  expect(f1.message).toContain('parallelism');
  fake.activities = ((orig) => () => ({ ...orig(), inspectHosts: async () => [1, 2, 3].map((id) => hostObservation(id, { roles: [...COMBINED], reachable: id !== 2, error: id === 2 ? 'ssh timeout' : null })) }))(
    fake.activities.bind(fake),
  );
  const f2 = await failureOf(await start({}));
  expect(f2.type).toBe('UnsafeToProceed');
  expect(f2.message).toContain('not starting');
  expect(fake.log.filter((l) => l.startsWith('stop'))).toEqual([]);
});
