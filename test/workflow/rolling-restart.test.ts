import { type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { abortUpdate, approveUpdate, pauseUpdate, progressQuery, resumeUpdate } from '../../src/names';
import { NodeWaitFailure } from '../../src/rolling';
import { type RollingRestartResult } from '../../workflows/rolling-restart';
import { withRollingPreflight } from '../support/rolling-preflight';
import { saveHistory } from '../support/histories';
import { delegatingActivities, eventually, runFailure, startWorkflowTestBed, testWorkflowBundle, waitingAtGate, type WorkflowTestBed, withInputValidation } from '../support/temporal';
import { ClusterBuilder, expectedNode, hostObservation, quorum } from '../unit/health/builder';

type Fakes = Pick<
  Activities,
  | 'describeInventory'
  | 'planRollingRestartFor'
  | 'readClusterMetadata'
  | 'readQuorumState'
  | 'observeQuorum'
  | 'readProtocolVersionPins'
  | 'bumpNodeProtocolVersion'
  | 'readBrokerConfig'
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
  /** Hosts whose version switch drops its SSH channel once, after the link was already changed (a retry follows). */
  switchDropsAfterChange = new Set<string>();
  /** Hosts where the upgrade's target version is not installed. */
  missingInstall: string[] = [];
  releases = new Map<string, () => void>();
  /** Per guard call, the leader of the recent quorum observation it was offered (null: none). */
  guardOffered: (number | null)[] = [];
  /** ZooKeeper mode: three brokers, no controllers; node 3 is the controller broker. */
  mode: 'kraft' | 'zookeeper' = 'kraft';
  /** ZooKeeper mode: the migration's controller hosts in the inventory, not provisioned (no version, not running). */
  migrationControllers: number[] = [];
  /** ZooKeeper mode: inter.broker.protocol.version in each broker's server.properties (null: not set). */
  protocolPins = new Map<string, string | null>([1, 2, 3].map((id) => [H(id), '3.8']));

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
    return withRollingPreflight(this.reads());
  }

  private reads(): Omit<Fakes, 'planRollingRestartFor'> {
    const zk = this.mode === 'zookeeper';
    const roles = zk ? (['broker'] as const) : COMBINED;
    const metadata = () =>
      (zk ? ClusterBuilder.zookeeper().controllerId(3) : ClusterBuilder.kraft())
        .brokers(1, 2, 3)
        .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(6, 3, [1, 2, 3]))
        .build();
    const wait = { elapsedMs: 1 };
    return {
      describeInventory: async (cluster) => ({ cluster, mode: this.mode, expected: [...[1, 2, 3].map((id) => expectedNode(id, [...roles])), ...this.migrationControllers.map((id) => expectedNode(id, ['controller']))] }),
      readClusterMetadata: async () => metadata(),
      readQuorumState: async () => quorum(3).voters(1, 2, 3).build(),
      observeQuorum: async () => ({ quorum: quorum(3).voters(1, 2, 3).build(), observedAtMs: Date.now() }),
      inspectHosts: async () => [
        ...[1, 2, 3].map((id) => hostObservation(id, { roles: [...roles], kafkaVersion: this.version.get(H(id)) ?? null })),
        ...this.migrationControllers.map((id) => hostObservation(id, { roles: ['controller'], kafkaVersion: null, processRunning: false })),
      ],
      readProtocolVersionPins: async (_c, target) =>
        [1, 2, 3].map((id) => {
          const pinned = this.protocolPins.get(H(id)) ?? null;
          return { host: H(id), pinned, needsBump: pinned !== null && pinned !== target.split('.').slice(0, 2).join('.'), problems: [] };
        }),
      bumpNodeProtocolVersion: async (_c, h, target) => {
        this.log.push(`bump-protocol ${h}`);
        const before = this.protocolPins.get(h) ?? null;
        this.protocolPins.set(h, target.split('.').slice(0, 2).join('.'));
        return { changed: true, changes: [`inter.broker.protocol.version ${before} -> ${this.protocolPins.get(h)}`], warnings: [] };
      },
      readBrokerConfig: async () => [1, 2, 3].map((id) => ({ nodeId: id, value: `${this.protocolPins.get(H(id)) ?? '3.9'}-IV0` })),
      waitForRestartAllowed: async (_c, batch, _t, opts) => {
        await this.step(`guard ${batch.map((n) => n.nodeId).join(',')}`);
        this.guardOffered.push(opts?.recentQuorum?.quorum.leaderId ?? null);
        return { elapsedMs: 1, decision: { safe: true, reasons: [], ignored: [] }, quorumAgeMs: null };
      },
      readBrokerState: async (_c, h) => ({ host: h, state: 'RUNNING' as const, stateCode: 3, line: null, running: true }) as never,
      readNodeVersion: async (_c, h) => ({ linkTarget: `kafka_2.13-${this.version.get(h) ?? ''}`, linkVersion: this.version.get(h) ?? null, processRunning: true, runningVersion: this.version.get(h) ?? null, runningVersionFrom: 'process' as const }),
      backupNodeConfig: async (_c, h) => (this.log.push(`backup ${h}`), { path: `/etc/kafka/server.properties.bak-${h}`, reused: false }) as never,
      stopNode: async (_c, h) => (await this.step(`stop ${h}`), { wasRunning: true, output: '' }),
      waitForProcessExit: async (_c, h) => (await this.step(`exited ${h}`), wait),
      killNode: async (_c, h) => (await this.step(`kill ${h}`), { wasRunning: true, output: '' }),
      waitForBrokerDeregistered: async (_c, id) => (await this.step(`deregistered ${id}`), wait),
      switchVersion: async (_c, h, v) => {
        await this.step(`switch ${h} ${v}`);
        const previous = this.version.get(h) ?? null;
        this.version.set(h, v);
        if (this.switchDropsAfterChange.delete(h)) throw ApplicationFailure.retryable(`ssh ${h}: channel closed`);
        return { previousTarget: `kafka_2.13-${previous}`, previousVersion: previous, target: `kafka_2.13-${v}`, version: v, changed: true, unpacked: false };
      },
      carryOverNodeConfig: async (_c, h) => (this.log.push(`carry-over ${h}`), { changed: false, changes: [], warnings: [] }) as never,
      startNode: async (_c, h) => (await this.step(`start ${h}`), { alreadyRunning: false, output: '' }),
      waitForBrokerRegistered: async (_c, id) => (await this.step(`registered ${id}`), wait),
      waitForBrokerCaughtUp: async (_c, id) => (await this.step(`caught-up ${id}`), { ...wait, status: {} as never }),
      waitForQuorumCaughtUp: async (_c, id) => (await this.step(`quorum ${id}`), { ...wait, leaderId: 3, observation: { quorum: quorum(3).voters(1, 2, 3).build(), observedAtMs: Date.now() } }),
      restorePreferredLeaders: async (_c, scope) => (this.log.push(`elect ${scope?.preferredLeader ?? 'all'}`), { host: 'x', elected: [], alreadyPreferred: [], failed: [] }),
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
  bed = await startWorkflowTestBed(TASK_QUEUE, delegatingActivities(names, () => withRollingPreflight(fake.activities())));
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
const nodeSteps = (id: number) => [`guard ${id}`, `stop ${H(id)}`, `exited ${H(id)}`, `deregistered ${id}`, `start ${H(id)}`, `registered ${id}`, `caught-up ${id}`, `quorum ${id}`];

test('a rolling restart: one node at a time, guarded, the active controller last, each back before the next', async () => {
  const result: RollingRestartResult = await (await start({})).result();
  const effects = fake.log.filter((l) => !l.startsWith('backup'));
  // A node's election overlaps its controller catching up and the next guard, so it is checked apart:
  // it starts once the node is back in every ISR and ends before the next node goes down.
  expect(effects.filter((l) => !l.startsWith('elect'))).toEqual([...nodeSteps(1), ...nodeSteps(2), ...nodeSteps(3)]);
  for (const id of [1, 2, 3]) {
    const at = effects.indexOf(`elect ${id}`);
    expect(at).toBeGreaterThan(effects.indexOf(`caught-up ${id}`));
    if (id < 3) expect(at).toBeLessThan(effects.indexOf(`stop ${H(id + 1)}`));
  }
  expect(effects.filter((l) => l.startsWith('elect'))).toHaveLength(3);
  // Each guard is offered the latest quorum read (preflight's, then the one that ended the previous node's wait).
  expect(fake.guardOffered).toEqual([3, 3, 3]);
  expect(result.nodes.map((n) => [n.host, n.outcome, n.oldVersion, n.newVersion])).toEqual([
    [H(1), 'restarted', '3.9.2', '3.9.2'],
    [H(2), 'restarted', '3.9.2', '3.9.2'],
    [H(3), 'restarted', '3.9.2', '3.9.2'],
  ]);
  expect(result.markdown).toContain('Rolling restart of c1: 3 of 3 nodes restarted in 3 batches');
  expect(result.markdown).toContain(`| 1 | ${H(1)} | restarted | 3.9.2 | 3.9.2 |`);
});

test('with a canary topic, each batch ends with a produce-and-consume round trip after its elections', async () => {
  await (await start({ canaryTopic: 'canary' })).result();
  expect(fake.log.filter((l) => l.startsWith('elect') || l.startsWith('canary'))).toEqual(['elect 1', 'canary canary', 'elect 2', 'canary canary', 'elect 3', 'canary canary']);
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
  expect(result.finalized).toEqual({ feature: 'metadata.version', before: '3.9-IV0', after: '4.3-IV0', roll: null });
  expect(result.markdown).toContain('**Finalized** metadata.version: 3.9-IV0 → 4.3-IV0 (irreversible).');
  expect(result.markdown).toContain('- finalize: approved by sre-on-call (checked)');
  expect(result.nodes.every((n) => n.newVersion === '4.3.1' && n.oldVersion === '3.9.2')).toBe(true);
  expect(result.gates).toEqual([expect.objectContaining({ gate: 'finalize', outcome: 'approved', approver: 'sre-on-call' })]);
  await saveHistory(client, 'rolling-upgrade-finalize-approved', 'rolling upgrade of 3 nodes, then the finalize gate approved', [h.workflowId]);
});

test('an upgrade of only some nodes does not offer the finalize: not every node runs the target', async () => {
  const result: RollingRestartResult = await (await start({ targetVersion: '4.3.1', nodes: [1, 2] })).result();
  expect(fake.log.some((l) => l.startsWith('finalize'))).toBe(false);
  expect(result.finalized).toBeNull();
  expect(result.finalizeSkipped).toBe(`not every node runs 4.3.1 yet (${H(3)}: 3.9.2); finalize once they all do.`);
  expect(result.gates).toEqual([]);
});

test('ZooKeeper mode: the finalize bumps inter.broker.protocol.version with a second guarded roll, after the irreversible approval', async () => {
  fake.mode = 'zookeeper';
  fake.version = new Map([1, 2, 3].map((id) => [H(id), '3.8.1']));
  const h = await start({ targetVersion: '3.9.2' });
  await waitingAt(h, 'finalize');
  const prompt = (await h.query(progressQuery)).pendingGate?.prompt ?? '';
  expect(prompt).toContain(`set inter.broker.protocol.version=3.9 on ${H(1)}, ${H(2)}, ${H(3)} (now 3.8)`);
  expect(prompt).toContain('IRREVERSIBLE');
  expect(fake.log.some((l) => l.startsWith('bump-protocol'))).toBe(false);
  const firstRoll = fake.log.length;
  await answer(h, 'finalize');
  const result: RollingRestartResult = await h.result();
  // The second roll: each broker guarded, stopped, its protocol bumped while down, started, back; the controller (3) last.
  const second = fake.log.slice(firstRoll).filter((l) => !l.startsWith('backup') && !l.startsWith('elect'));
  const zkNode = (id: number) => [`guard ${id}`, `stop ${H(id)}`, `exited ${H(id)}`, `deregistered ${id}`, `bump-protocol ${H(id)}`, `start ${H(id)}`, `registered ${id}`, `caught-up ${id}`];
  expect(second).toEqual([...zkNode(1), ...zkNode(2), ...zkNode(3)]);
  expect(fake.log.filter((l) => l.startsWith('switch'))).toHaveLength(3);
  expect(result.finalized).toMatchObject({ feature: 'inter.broker.protocol.version', before: '3.8', after: '3.9-IV0' });
  expect(result.finalized?.roll?.map((n) => [n.host, n.outcome])).toEqual([1, 2, 3].map((id) => [H(id), 'restarted']));
  expect(result.markdown).toContain('Second rolling restart, for the protocol version:');
});

test('ZooKeeper mode with the migration\'s controller hosts not yet provisioned: only the brokers roll, and the finalize is offered', async () => {
  fake.mode = 'zookeeper';
  fake.migrationControllers = [51, 52];
  fake.version = new Map([1, 2, 3].map((id) => [H(id), '3.8.1']));
  const h = await start({ targetVersion: '3.9.2' });
  await waitingAt(h, 'finalize');
  expect(fake.log.filter((l) => l.startsWith('switch'))).toEqual([1, 2, 3].map((id) => `switch ${H(id)} 3.9.2`));
  expect(fake.log.some((l) => l.includes(H(51)) || l.includes(H(52)))).toBe(false);
  await h.terminate('test over');
});

test('ZooKeeper mode: a broker that does not come back with the new protocol gets its old config back, and the run halts', async () => {
  fake.mode = 'zookeeper';
  fake.version = new Map([1, 2, 3].map((id) => [H(id), '3.8.1']));
  const h = await start({ targetVersion: '3.9.2', rollbackPolicy: 'automatic' });
  await waitingAt(h, 'finalize');
  fake.failures.set('registered 2', { times: 1, type: NodeWaitFailure.RegistrationTimeout });
  await answer(h, 'finalize');
  await waitingAt(h, `protocol-halted-at-${H(2)}`);
  const tail = fake.log.slice(fake.log.lastIndexOf(`bump-protocol ${H(2)}`));
  expect(tail.filter((l) => !l.startsWith('elect'))).toEqual([`bump-protocol ${H(2)}`, `start ${H(2)}`, 'registered 2', `stop ${H(2)}`, `exited ${H(2)}`, `restore-config ${H(2)}`, `start ${H(2)}`, 'registered 2', 'caught-up 2']);
  await answer(h, `protocol-halted-at-${H(2)}`, 'abort');
  expect((await failureOf(h)).type).toBe('UnsafeToProceed');
  expect(fake.log).not.toContain(`bump-protocol ${H(3)}`);
});

test('ZooKeeper mode: with nothing pinned below the target there is no second roll and no gate', async () => {
  fake.mode = 'zookeeper';
  fake.version = new Map([1, 2, 3].map((id) => [H(id), '3.9.1']));
  fake.protocolPins = new Map([1, 2, 3].map((id) => [H(id), null]));
  const result: RollingRestartResult = await (await start({ targetVersion: '3.9.2' })).result();
  expect(result.finalized).toBeNull();
  expect(result.finalizeSkipped).toContain('no broker pins inter.broker.protocol.version below 3.9');
  expect(fake.log.filter((l) => l.startsWith('stop'))).toHaveLength(3);
  expect(result.gates).toEqual([]);
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

test('a switch retried after it changed the link still rolls back to the link read before the stop', async () => {
  fake.switchDropsAfterChange.add(H(2));
  fake.failures.set('registered 2', { times: 1, type: NodeWaitFailure.RegistrationTimeout });
  const h = await start({ targetVersion: '4.3.1', rollbackPolicy: 'automatic' });
  await waitingAt(h, `halted-at-${H(2)}`);
  // The retry found the link already on 4.3.1 and reported that as "previous"; the rollback must not trust it.
  expect(fake.log.filter((l) => l === `switch ${H(2)} 4.3.1`)).toHaveLength(2);
  expect(fake.log.filter((l) => l.startsWith(`restore-link ${H(2)}`))).toEqual([`restore-link ${H(2)} kafka_2.13-3.9.2`]);
  expect(fake.version.get(H(2))).toBe('3.9.2');
  await answer(h, `halted-at-${H(2)}`, 'abort');
  expect((await failureOf(h)).type).toBe('UnsafeToProceed');
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

test('pause mid-node: the node finishes the step it is in, nothing else starts until resume, then the run completes', async () => {
  fake.hold('caught-up 1');
  const h = await start({});
  await eventually(() => fake.log.includes('caught-up 1'), 20_000, 'node 1 catching up');
  await h.executeUpdate(pauseUpdate, { args: [{ by: 'sre-on-call', reason: 'lunch' }] });
  fake.release('caught-up 1');
  await eventually(async () => (await h.query(progressQuery)).steps.some((st) => st.name === `${H(1)}: wait until back in every ISR` && st.state === 'done'), 20_000, 'the ISR wait done');
  await new Promise((r) => setTimeout(r, 1500));
  const p = await h.query(progressQuery);
  expect(p.paused).toBe(true);
  // Paused at the step boundary: node 1's next steps and node 2 have not started.
  expect(fake.log.at(-1)).toBe('caught-up 1');
  expect(fake.log.some((l) => l.includes(H(2)) || l === 'guard 2' || l === 'quorum 1')).toBe(false);
  await h.executeUpdate(resumeUpdate, { args: [{ by: 'sre-on-call' }] });
  const result: RollingRestartResult = await h.result();
  expect(result.nodes.map((n) => n.outcome)).toEqual(['restarted', 'restarted', 'restarted']);
  expect(fake.log.filter((l) => l === `stop ${H(1)}`)).toHaveLength(1);
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
  await saveHistory(client, 'rolling-upgrade-abort-undo', 'abort with undo during an upgrade: the switched node is put back and started', [u.workflowId]);
});

test('a worker restart mid-node neither restarts the node twice nor skips its wait', async () => {
  const queue = `${TASK_QUEUE}-restart`;
  const makeWorker = async () => Worker.create({ connection: bed.env.nativeConnection, taskQueue: queue, workflowBundle: await testWorkflowBundle(), activities: withInputValidation(withRollingPreflight(fake.activities())) });
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
  await saveHistory(client, 'rolling-restart-worker-restart', 'rolling restart across a worker restart mid-node', [h.workflowId]);
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
