import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../activities';
import {
  applyMigrationEdit,
  enterKRaftMode,
  enterMigrationMode,
  finalizeController,
  MigrationState,
  type QuorumSpec,
  renderControllerConfig,
  summariseNodeConfig,
} from '../../src/migration';
import { type MigrationGaugeReadings } from '../../src/migration/jmx-gauges';
import { type MigrationZnodeReadings } from '../../src/migration/znodes';
import { parseProperties } from '../../src/rolling/config';
import { approveUpdate, progressQuery, rejectUpdate } from '../../src/names';
import { NodeWaitFailure } from '../../src/rolling';
import { ClusterBuilder, expectedNode, hostObservation } from '../unit/health/builder';
import { saveHistory } from '../support/histories';
import { withRollingPreflight } from '../support/rolling-preflight';
import { delegatingActivities, eventually, runFailure, startWorkflowTestBed, waitingAtGate, type WorkflowTestBed } from '../support/temporal';

/**
 * migrateToKRaft on fakes: a ZooKeeper-mode cluster (brokers 1-3, controller hosts 3000-3002 in the inventory)
 * whose server.properties are edited by the real pure edits, and whose znodes and gauges follow from its configs
 * as a 3.9.2 lab showed (test/fixtures/migration). The broker rolls are real rollingRestart children, with
 * their own preflight (the real planner over these fakes), guards, backups and node rollback.
 */

const ZK_BROKER = readFileSync(resolve(__dirname, '../fixtures/migration/0-zookeeper/kafka-1.server.properties'), 'utf8');
const ZK_CONNECT = '127.0.50.100:2181';
const CLUSTER_ID = '06XJcO7-SiGgOAOR3GOo6w';
const H = (id: number): string => `kafka-${id}.lab`;
const BROKER_IDS = [1, 2, 3];
const BROKERS = BROKER_IDS.map(H);
const CTL_IDS = [3000, 3001, 3002];
const CONTROLLERS = ['ctl-1.lab', 'ctl-2.lab', 'ctl-3.lab'];
const CTL_ADDR = (i: number) => `10.0.0.${i + 1}`;
const QUORUM: QuorumSpec = { controllers: CTL_IDS.map((nodeId, i) => ({ nodeId, address: CTL_ADDR(i), port: 9093 })), style: 'voters', listenerName: 'CONTROLLER', securityProtocol: 'PLAINTEXT' };
const TASK_QUEUE = 'migration-test';
const zkText = (id: number) => ZK_BROKER.replace('broker.id=1', `broker.id=${id}`).replace('127.0.50.1:', `127.0.50.${id}:`);
const ctlText = (i: number) => renderControllerConfig({ nodeId: CTL_IDS[i] as number, address: CTL_ADDR(i), metadataDir: '/var/lib/kafka/metadata', quorum: QUORUM, brokerText: zkText(1) }).text;
/** What Kafka reads from a file (last entry of a key wins, comments ignored). */
const effective = (text: string | null | undefined) => Object.fromEntries(parseProperties(text ?? '').map((e) => [e.key, e.value]));

type Start =
  | 'ZooKeeper'
  | 'ControllersProvisioned'
  | 'Roll1HalfDone'
  | 'Hybrid'
  | 'DualWrite'
  | 'Roll2HalfDone'
  | 'BrokersInKRaftMode'
  | 'FinalizeHalfDone';

const STARTS: Start[] = ['ZooKeeper', 'ControllersProvisioned', 'Roll1HalfDone', 'Hybrid', 'DualWrite', 'Roll2HalfDone', 'BrokersInKRaftMode', 'FinalizeHalfDone'];

/** A failure the next call of `op` on `host` meets (non-retryable, typed as the real activity would fail). */
interface Scripted {
  type: string;
  message: string;
}

class MigrationWorld {
  log: string[] = [];
  files = new Map<string, string | null>();
  backups = new Map<string, string | null>();
  running = new Set<string>(BROKERS);
  formatted = new Set<string>();
  /** /migration: absent, created empty by the first active controller, or holding a completed copy. */
  migration: 'none' | 'waiting' | 'copied' = 'none';
  kraftOwnsController = false;
  /** The controller never finishes copying the metadata (its wait times out). */
  migrationStuck = false;
  lag = 0;
  failures = new Map<string, Scripted>();
  /** Brokers missing from the cluster metadata (the roll's preflight blocks on them). */
  unregistered = new Set<number>();
  private backupSeq = 0;

  constructor(start: Start) {
    const past = (s: Start) => STARTS.indexOf(start) >= STARTS.indexOf(s);
    BROKER_IDS.forEach((id, i) => {
      let t = zkText(id);
      if (past('Hybrid') || (start === 'Roll1HalfDone' && i === 0)) t = enterMigrationMode(t, QUORUM).text;
      if (past('BrokersInKRaftMode') || (start === 'Roll2HalfDone' && i === 0)) t = enterKRaftMode(t).text;
      this.files.set(H(id), t);
    });
    CONTROLLERS.forEach((c, i) => {
      if (!past('ControllersProvisioned')) return void this.files.set(c, null);
      this.files.set(c, start === 'FinalizeHalfDone' && i === 0 ? finalizeController(ctlText(i)).text : ctlText(i));
      this.running.add(c);
      this.formatted.add(c);
    });
    if (past('ControllersProvisioned')) this.migration = 'waiting';
    if (past('DualWrite')) {
      this.migration = 'copied';
      this.kraftOwnsController = true;
    }
  }

  private summaries(hosts: string[]) {
    return hosts.map((h) => summariseNodeConfig(h, this.files.get(h) ?? null));
  }
  private fail(op: string, host: string): void {
    const key = `${op} ${host}`;
    const f = this.failures.get(key);
    if (!f) return;
    this.failures.delete(key);
    throw ApplicationFailure.create({ type: f.type, message: f.message, nonRetryable: true });
  }
  private get controllersUp() {
    return this.summaries(CONTROLLERS).filter((c) => c.present && c.processRoles === 'controller' && this.running.has(c.host));
  }
  /** The metadata copy happens while the runbook waits for it, once every broker runs with the migration flag. */
  private migrate(): void {
    const brokers = this.summaries(BROKERS);
    if (this.migrationStuck || this.controllersUp.length === 0) return;
    if (brokers.every((b) => b.migrationFlag || b.processRoles === 'broker')) {
      this.migration = 'copied';
      this.kraftOwnsController = true;
    }
  }
  gaugesOf(host: string): MigrationGaugeReadings {
    const up = this.controllersUp;
    // The real reader throws when JmxTool gets no answer (and is retried); a stopped controller answers nothing here, quickly.
    if (!up.some((c) => c.host === host)) return { zkMigrationState: null, zkWriteBehindLag: null, migratingZkBrokerCount: null, activeControllerCount: null };
    const state = up.every((c) => !c.migrationFlag) ? 3 : this.migration === 'copied' ? 1 : 2;
    const leader = up[0]?.host === host;
    return { zkMigrationState: state, zkWriteBehindLag: leader && state === 1 ? this.lag : 0, migratingZkBrokerCount: 0, activeControllerCount: leader ? 1 : 0 };
  }
  /** As readMigrationZnodes parses zookeeper-shell's output (src/migration/znodes.ts). */
  znodes(): MigrationZnodeReadings {
    const offset = this.migration === 'copied' ? 256 : -1;
    const migration = { version: 0, kraft_metadata_offset: offset, kraft_controller_id: offset > 0 ? 3000 : -1, kraft_metadata_epoch: offset > 0 ? 2 : -1, kraft_controller_epoch: offset > 0 ? 2 : -1 };
    const controller = this.kraftOwnsController ? { version: 2, brokerid: 3000, timestamp: '1', kraftControllerEpoch: 2 } : { version: 2, brokerid: 1, timestamp: '1', kraftControllerEpoch: -1 };
    return {
      clusterId: CLUSTER_ID,
      migration: this.migration === 'none' ? null : { raw: JSON.stringify(migration), kraftMetadataOffset: offset, kraftControllerId: migration.kraft_controller_id, kraftMetadataEpoch: migration.kraft_metadata_epoch, kraftControllerEpoch: migration.kraft_controller_epoch },
      controller: { raw: JSON.stringify(controller), brokerid: controller.brokerid, kraftControllerEpoch: controller.kraftControllerEpoch },
      brokerIds: BROKER_IDS,
    };
  }

  /** Every activity either runbook schedules, typed like the real ones where they exist. */
  activities(): Partial<Activities> & Record<string, unknown> {
    const did = (s: string) => void this.log.push(s);
    const wait = { elapsedMs: 1 };
    const quorumTimeout = (what: string) => ApplicationFailure.create({ type: NodeWaitFailure.QuorumCatchUpTimeout, message: what, nonRetryable: true });
    const reads = {
      describeInventory: async (cluster: string) => ({
        cluster,
        mode: 'zookeeper' as const,
        expected: [...BROKER_IDS.map((id) => expectedNode(id, ['broker'])), ...CONTROLLERS.map((host, i) => ({ host, nodeId: CTL_IDS[i] as number, roles: ['controller' as const], rack: null }))],
      }),
      readClusterMetadata: async () =>
        ClusterBuilder.zookeeper()
          .controllerId(this.kraftOwnsController ? 3000 : 1)
          .brokers(...BROKER_IDS.filter((id) => !this.unregistered.has(id)))
          .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(6, 3, BROKER_IDS))
          .build(),
      observeQuorum: async () => null as never,
      inspectHosts: async () => [
        ...BROKER_IDS.map((id) => hostObservation(id, { kafkaVersion: '3.9.2' })),
        ...CONTROLLERS.map((host, i) => ({ host, nodeId: CTL_IDS[i] as number, roles: ['controller' as const], reachable: true, error: null, processRunning: this.running.has(host), kafkaVersion: '3.9.2', dataDirs: [] })),
      ],
    } satisfies Partial<Activities>;
    const fakes = {
      ...withRollingPreflight(reads),
      acquireClusterLock: async () => undefined,
      releaseClusterLock: async () => undefined,
      // The migration's own activities.
      describeMigrationHosts: async (_c, _ctl, port) => ({ brokers: BROKER_IDS.map((nodeId) => ({ host: H(nodeId), nodeId })), controllers: CONTROLLERS.map((host, i) => ({ host, nodeId: CTL_IDS[i] as number, address: CTL_ADDR(i), port })), zookeeperConnect: ZK_CONNECT }),
      readMigrationConfigs: async () => ({ brokers: this.summaries(BROKERS), controllers: this.summaries(CONTROLLERS) }),
      readMigrationPreflight: async () => ({
        brokers: BROKER_IDS.map((nodeId) => ({ host: H(nodeId), nodeId, kafkaVersion: '3.9.2', config: summariseNodeConfig(H(nodeId), this.files.get(H(nodeId)) ?? null) })),
        controllers: CONTROLLERS.map((host, i) => ({ host, nodeId: CTL_IDS[i] as number })),
        healthBlocking: [],
        reassignmentsInFlight: 0,
        assignedBrokerIds: BROKER_IDS,
        scramUsers: [],
        delegationTokens: 0,
      }),
      snapshotMigrationMetadata: async () => ({ topics: { orders: 'a1b2' }, acls: ['c3d4'], aclsUnavailable: null, topicCount: 1, aclCount: 1 }),
      writeMigrationControllerConfig: async (_c, h, quorum, dir) => {
        did(`write-config ${h}`);
        this.files.set(h, renderControllerConfig({ nodeId: CTL_IDS[CONTROLLERS.indexOf(h)] as number, address: CTL_ADDR(CONTROLLERS.indexOf(h)), metadataDir: dir ?? '/var/lib/kafka/metadata', quorum, brokerText: this.files.get(H(1)) ?? '' }).text);
        return { changed: true, changes: [], warnings: [] };
      },
      editMigrationConfig: async (_c, h, edit) => {
        did(`edit ${h} ${edit.kind}`);
        const r = applyMigrationEdit(this.files.get(h) ?? '', edit, ZK_CONNECT);
        if (r.problems.length > 0) throw ApplicationFailure.nonRetryable(r.problems.join(' '), 'UnsafeToProceed');
        this.files.set(h, r.text);
        return { changed: r.changed, changes: r.changes, warnings: [] };
      },
      retireMigrationControllerConfig: async (_c, h) => (did(`retire ${h}`), this.files.set(h, null), { movedTo: `${h}.bak-retired` }),
      waitForControllerQuorum: async (_c, hosts) => {
        for (const h of hosts) this.fail('quorum', h);
        if (hosts.some((h) => !this.running.has(h))) throw quorumTimeout('the controller quorum is not ready: voters missing');
        return { leaderId: 3000, elapsedMs: 1 };
      },
      waitForMetadataMigrated: async () => {
        this.migrate();
        const g = this.gaugesOf(CONTROLLERS[0] as string);
        if (g.zkMigrationState !== 1) throw quorumTimeout(`the metadata migration has not completed: ZkMigrationState is ${g.zkMigrationState ?? 'unknown'}`);
        did('migrated');
        return { ...g, logLine: '[KRaftMigrationDriver id=3000] Completed migration of metadata from ZooKeeper to KRaft. 23 records were generated in 284 ms', elapsedMs: 1 };
      },
      waitForZkMigrationState: async (_c, hosts, wanted) => {
        const g = this.gaugesOf(hosts[0] as string);
        if (g.zkMigrationState !== wanted) throw quorumTimeout(`ZkMigrationState is ${g.zkMigrationState ?? 'unknown'}`);
        return { ...g, elapsedMs: 1 };
      },
      // The rolling restart's node activities.
      waitForRestartAllowed: async (_c, batch) => {
        for (const n of batch) this.fail('guard', n.nodeId >= 3000 ? (CONTROLLERS[CTL_IDS.indexOf(n.nodeId)] as string) : H(n.nodeId));
        return { elapsedMs: 1, decision: { safe: true, reasons: [], ignored: [] }, quorumAgeMs: null };
      },
      readNodeVersion: async () => ({ linkTarget: 'kafka_2.13-3.9.2', linkVersion: '3.9.2', processRunning: true, runningVersion: '3.9.2', runningVersionFrom: 'process' as const }),
      checkTargetVersion: async (_c, h, v) => ({ host: h, ok: true, detail: `Kafka ${v} installed` }),
      switchVersion: async (_c, h, v) => (did(`run ${v} on ${h}`), { previousTarget: 'kafka_2.13-3.8.1', previousVersion: '3.8.1', target: `kafka_2.13-${v}`, version: v, changed: true, unpacked: false }),
      backupNodeConfig: async (_c, h) => {
        const path = `/etc/kafka/server.properties.bak-${++this.backupSeq}`;
        this.backups.set(path, this.files.get(h) ?? null);
        return { path, reused: false };
      },
      restoreNodeConfig: async (_c, h, path) => (did(`restore ${h}`), this.files.set(h, this.backups.get(path) ?? null), { changed: true }),
      stopNode: async (_c, h) => (did(`stop ${h}`), this.running.delete(h), { wasRunning: true, output: '' }),
      killNode: async (_c, h) => (did(`kill ${h}`), this.running.delete(h), { wasRunning: true, output: '' }),
      startNode: async (_c, h) => {
        this.fail('start', h);
        did(`start ${h}`);
        this.running.add(h);
        return { alreadyRunning: false, output: '' };
      },
      waitForProcessExit: async () => wait,
      // As on the lab: with a KRaft controller active, a stopped broker stays registered (fenced) and never leaves.
      waitForBrokerDeregistered: async (_c, id) => {
        if (this.kraftOwnsController && this.controllersUp.length > 0) {
          throw ApplicationFailure.create({ type: NodeWaitFailure.DeregistrationTimeout, message: `broker ${id} is still registered 1 s after its process exited`, nonRetryable: true });
        }
        did(`left-metadata ${H(id)}`);
        return wait;
      },
      waitForBrokerRegistered: async (_c, id) => (this.fail('registered', H(id)), wait),
      waitForBrokerCaughtUp: async () => ({ ...wait, status: {} as never }),
      waitForQuorumCaughtUp: async () => null as never,
      restorePreferredLeaders: async () => ({ host: 'x', elected: [], alreadyPreferred: [], failed: [] }),
      restoreVersionLink: async () => null as never,
      canaryRoundTrip: async () => ({ partition: 0, offset: '0', roundTripMs: 1 }),
      // ZooKeeper, JMX and the controllers' storage (mig-lab's activities).
      readMigrationZnodes: async () => this.znodes(),
      readMigrationGauges: async (_c: string, h: string) => this.gaugesOf(h),
      formatControllerStorage: async (_c: string, h: string, clusterId: string) => {
        this.fail('format', h);
        did(`format ${h} ${clusterId}`);
        this.formatted.add(h);
        return { host: h, dirs: ['/var/lib/kafka/metadata'], formatted: true, output: '' };
      },
      wipeControllerMetadata: async (_c: string, h: string) => (did(`wipe ${h}`), this.formatted.delete(h), { host: h, wiped: [{ dir: '/var/lib/kafka/metadata', removed: ['__cluster_metadata-0', 'meta.properties'] }] }),
      deleteMigrationZnodes: async () => {
        did('delete /controller /migration');
        const before = this.znodes();
        this.migration = 'none';
        this.kraftOwnsController = false;
        return { controller: 'deleted' as const, migration: 'deleted' as const, before: { controller: before.controller?.raw ?? null, migration: before.migration?.raw ?? null, controllerEpoch: 5 }, controllerEpochSetTo: 8 };
      },
    } satisfies Partial<Activities> & Record<string, unknown>;
    return fakes;
  }

  /** The config edits and lifecycle steps, without the backups and waits. */
  effects(filter: RegExp = /./): string[] {
    return this.log.filter((l) => filter.test(l));
  }
}

/** The messages of a failure and its causes, outermost first. */
const messages = (f: unknown): string => {
  const out: string[] = [];
  for (let e = f as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e.message ?? '');
  return out.join(' / ');
};

const NAMES = Object.keys(new MigrationWorld('ZooKeeper').activities());

describe('migrateToKRaft on fakes', () => {
  let bed: WorkflowTestBed;
  let client: Client;
  let world = new MigrationWorld('ZooKeeper');
  let seq = 0;
  beforeAll(async () => {
    bed = await startWorkflowTestBed(TASK_QUEUE, delegatingActivities(NAMES as never[], () => world.activities() as never));
    client = bed.client;
  }, 120_000);
  afterAll(async () => bed?.stop());

  const start = (extra: Record<string, unknown> = {}) =>
    client.workflow.start('migrateToKRaft', { taskQueue: TASK_QUEUE, workflowId: `mig-${seq++}-${Date.now()}`, workflowExecutionTimeout: '3 minutes', args: [{ cluster: 'orders-zk', controllers: CONTROLLERS, ...extra }] });
  type Handle = Awaited<ReturnType<typeof start>>;
  type Result = { startState: string; endState: string; gates: { gate: string; choice: string | null }[]; migrationLogLine: string | null; metadataDiff: { same: boolean } | null; phases: { phase: string }[]; markdown: string };

  /** Answers gates (this run's or its child's) as they open, in order, with the given choices; returns the gate names seen. */
  async function answer(h: Handle, plan: [gate: RegExp, choice: string | null][]): Promise<string[]> {
    const seen: string[] = [];
    for (const [gate, choice] of plan) {
      const g = await eventually(async () => (await h.query(progressQuery)).pendingGates.find((x) => gate.test(x.name)), 30_000, `gate ${String(gate)}`);
      seen.push(g.name);
      await client.workflow.getHandle(g.workflowId).executeUpdate(approveUpdate, { args: [{ gate: g.name, approver: 'alice', reason: 'checked', ...(choice ? { choice } : {}) }] });
    }
    return seen;
  }
  const edits = (kind: string) => world.effects(new RegExp(` ${kind}$`)).map((l) => l.split(' ')[1]);
  const isZooKeeperBroker = (h: string) => expect(effective(world.files.get(h))).toEqual(effective(zkText(BROKER_IDS[BROKERS.indexOf(h)] as number)));

  it('migrates a ZooKeeper cluster to KRaft through every gate: controllers with the ZooKeeper cluster id, two guarded broker rolls, the finalize', async () => {
    world = new MigrationWorld('ZooKeeper');
    const h = await start({ approval: 'every-phase' });
    const gates = await answer(h, [
      [/^provision-controllers$/, 'proceed'],
      [/^brokers-into-migration-mode$/, 'proceed'],
      [/^brokers-into-kraft-mode$/, 'proceed'],
      [/^finalize$/, 'finalize'],
    ]);
    const r = (await h.result()) as Result;
    expect(gates).toEqual(['provision-controllers', 'brokers-into-migration-mode', 'brokers-into-kraft-mode', 'finalize']);
    expect(r).toMatchObject({ startState: MigrationState.ZooKeeper, endState: MigrationState.Finalized, metadataDiff: { same: true } });
    expect(r.migrationLogLine).toContain('Completed migration of metadata from ZooKeeper to KRaft');
    // Controllers first, each formatted with the id read from ZooKeeper, then roll 1, the copy, roll 2, the finalize.
    const phases = world.effects(/^(run|write-config|format|edit|migrated)/).map((l) => l.replace(/ .*(enter-migration-mode|enter-kraft-mode|finalize-controller)$/, ' $1'));
    expect(phases).toEqual([
      // Each controller runs the brokers' release (its `current` link may point at another) before its config.
      ...CONTROLLERS.flatMap((c) => [`run 3.9.2 on ${c}`, `write-config ${c}`, `format ${c} ${CLUSTER_ID}`]),
      ...BROKERS.map(() => 'edit enter-migration-mode'),
      'migrated',
      ...BROKERS.map(() => 'edit enter-kraft-mode'),
      ...CONTROLLERS.map(() => 'edit finalize-controller'),
    ]);
    // Each broker in each roll was stopped before its edit and started after it (the child's order: controller broker 1 last).
    expect(edits('enter-migration-mode')).toEqual([H(2), H(3), H(1)]);
    for (const b of BROKERS) {
      const i = world.log.indexOf(`edit ${b} enter-migration-mode`);
      expect(world.log.lastIndexOf(`stop ${b}`, i)).toBeGreaterThan(world.log.lastIndexOf(`start ${b}`, i));
      expect(world.log.indexOf(`start ${b}`, i)).toBeGreaterThan(i);
      expect(effective(world.files.get(b))).toMatchObject({ 'process.roles': 'broker', 'node.id': String(BROKER_IDS[BROKERS.indexOf(b)]) });
    }
    for (const c of CONTROLLERS) expect(effective(world.files.get(c))).not.toHaveProperty('zookeeper.metadata.migration.enable');
    expect(r.markdown).toContain('Controller log: `[KRaftMigrationDriver id=3000] Completed migration');
    await saveHistory(client, 'migrate-to-kraft-journey', 'ZooKeeper to Finalized through every gate, two broker rolls as children', [h.workflowId, `${h.workflowId}/roll-1-enter-migration-mode`, `${h.workflowId}/roll-2-enter-kraft-mode`]);
  }, 120_000);

  describe('resumes from where the cluster is, doing only what is left', () => {
    it.each<[Start, string, Record<string, string[]>]>([
      ['ControllersProvisioned', MigrationState.ControllersProvisioned, { 'write-config': [], 'enter-migration-mode': [H(2), H(3), H(1)], 'enter-kraft-mode': BROKERS, 'finalize-controller': CONTROLLERS }],
      ['Roll1HalfDone', MigrationState.ControllersProvisioned, { 'write-config': [], 'enter-migration-mode': [H(2), H(3)], 'enter-kraft-mode': BROKERS, 'finalize-controller': CONTROLLERS }],
      ['Hybrid', MigrationState.BrokersInMigrationMode, { 'write-config': [], 'enter-migration-mode': [], 'enter-kraft-mode': BROKERS, 'finalize-controller': CONTROLLERS }],
      ['DualWrite', MigrationState.BrokersInMigrationMode, { 'write-config': [], 'enter-migration-mode': [], 'enter-kraft-mode': BROKERS, 'finalize-controller': CONTROLLERS }],
      ['Roll2HalfDone', MigrationState.BrokersInMigrationMode, { 'write-config': [], 'enter-migration-mode': [], 'enter-kraft-mode': [H(2), H(3)], 'finalize-controller': CONTROLLERS }],
      ['BrokersInKRaftMode', MigrationState.BrokersInKRaftMode, { 'write-config': [], 'enter-migration-mode': [], 'enter-kraft-mode': [], 'finalize-controller': CONTROLLERS }],
      ['FinalizeHalfDone', MigrationState.BrokersInKRaftMode, { 'write-config': [], 'enter-migration-mode': [], 'enter-kraft-mode': [], 'finalize-controller': CONTROLLERS.slice(1) }],
    ])('from %s (observed as %s)', async (from, observed, expected) => {
      world = new MigrationWorld(from);
      const h = await start({ approval: 'finalize-only' });
      await answer(h, [[/^finalize$/, 'finalize']]);
      const r = (await h.result()) as Result;
      expect(r).toMatchObject({ startState: observed, endState: MigrationState.Finalized });
      expect({
        'write-config': world.effects(/^write-config/).map((l) => l.split(' ')[1]),
        'enter-migration-mode': edits('enter-migration-mode'),
        'enter-kraft-mode': edits('enter-kraft-mode'),
        'finalize-controller': edits('finalize-controller'),
      }).toEqual(expected);
      // No broker is ever restarted into a mode it already had.
      expect(world.effects(/^edit kafka/).length).toBe(new Set(world.effects(/^edit kafka/)).size);
    }, 120_000);
  });

  describe('a failure in each phase leads to the rollback Kafka\'s table gives for where the cluster is', () => {
    /** Starts, lets the failure happen, answers the child's halt (if any) and the rollback offer; returns the run's failure. */
    async function failAndRollBack(h: Handle, childHalt: RegExp | null): Promise<{ type?: string; message: string }> {
      if (childHalt) await answer(h, [[childHalt, 'abort']]);
      await answer(h, [[/^rollback-after-failure$/, 'rollback']]);
      return runFailure(h.result());
    }
    const deprovisioned = () => CONTROLLERS.flatMap((c) => [`stop ${c}`, `wipe ${c}`, `retire ${c}`]);

    it('provisioning: a controller whose storage cannot be formatted → the controllers it reached deprovisioned', async () => {
      world = new MigrationWorld('ZooKeeper');
      world.failures.set('format ctl-2.lab', { type: 'UnsafeToProceed', message: 'kafka-storage.sh format failed on ctl-2.lab' });
      const f = await failAndRollBack(await start({ approval: 'finalize-only' }), null);
      expect(messages(f)).toContain('kafka-storage.sh format failed');
      // ctl-3 was never reached: nothing of the migration is on it to undo.
      expect(world.effects(/^(stop|wipe|retire) ctl/)).toEqual(CONTROLLERS.slice(0, 2).flatMap((c) => [`stop ${c}`, `wipe ${c}`, `retire ${c}`]));
      for (const c of CONTROLLERS) expect(world.files.get(c)).toBeNull();
      expect([...world.running].filter((h) => h.startsWith('ctl'))).toEqual([]);
      expect(world.effects(/^edit/)).toEqual([]);
    }, 120_000);

    it('roll 1: a broker that does not come back → its config restored by the roll, the broker it reached rolled back out of migration mode, then the controllers deprovisioned', async () => {
      world = new MigrationWorld('ControllersProvisioned');
      world.failures.set(`registered ${H(3)}`, { type: NodeWaitFailure.RegistrationTimeout, message: `broker 3 did not register` });
      const f = await failAndRollBack(await start({ approval: 'finalize-only' }), /^halted-at-kafka-3\.lab$/);
      expect(messages(f)).toContain('did not register');
      expect(world.effects(/^(edit|restore|stop ctl|wipe|retire)/)).toEqual([
        `edit ${H(2)} enter-migration-mode`,
        `edit ${H(3)} enter-migration-mode`,
        `restore ${H(3)}`,
        // Kafka: back out the half-done step (only kafka-2 was reached), then the directions for ControllersProvisioned.
        `edit ${H(2)} leave-migration-mode`,
        ...deprovisioned(),
      ]);
      BROKERS.forEach(isZooKeeperBroker);
    }, 120_000);

    it('waiting for the metadata copy (hybrid): controllers deprovisioned, /controller and /migration deleted, then one roll out of migration mode', async () => {
      world = new MigrationWorld('ControllersProvisioned');
      world.migrationStuck = true;
      const f = await failAndRollBack(await start({ approval: 'finalize-only' }), null);
      expect(messages(f)).toContain('has not completed');
      expect(world.effects(/^(stop ctl|wipe|retire|delete|edit \S+ leave)/)).toEqual([...deprovisioned(), 'delete /controller /migration', ...[H(2), H(3), H(1)].map((b) => `edit ${b} leave-migration-mode`)]);
      BROKERS.forEach(isZooKeeperBroker);
      expect(world.migration).toBe('none');
    }, 120_000);

    it('roll 2: the brokers it reached back to ZooKeeper mode keeping the flag, controllers deprovisioned, znodes deleted, then the roll without the flag', async () => {
      world = new MigrationWorld('DualWrite');
      world.failures.set(`registered ${H(3)}`, { type: NodeWaitFailure.RegistrationTimeout, message: 'broker 3 did not register in KRaft mode' });
      const h = await start({ approval: 'finalize-only' });
      const f = await failAndRollBack(h, /^halted-at-kafka-3\.lab$/);
      expect(messages(f)).toContain('did not register in KRaft mode');
      expect(world.effects(/^(edit|restore|stop ctl|wipe|retire|delete)/)).toEqual([
        `edit ${H(1)} enter-kraft-mode`,
        `edit ${H(2)} enter-kraft-mode`,
        `edit ${H(3)} enter-kraft-mode`,
        `restore ${H(3)}`,
        `edit ${H(1)} back-to-migration-mode`,
        `edit ${H(2)} back-to-migration-mode`,
        ...deprovisioned(),
        'delete /controller /migration',
        ...[H(2), H(3), H(1)].map((b) => `edit ${b} leave-migration-mode`),
      ]);
      BROKERS.forEach(isZooKeeperBroker);
      await saveHistory(client, 'migrate-to-kraft-roll2-failed-rollback', 'roll 2 fails on kafka-3, the rollback from dual-write with two rolls', [h.workflowId]);
    }, 120_000);

    it('finalize: once a controller runs without the flag no rollback is offered; the failed controller gets its config back', async () => {
      world = new MigrationWorld('BrokersInKRaftMode');
      world.failures.set('start ctl-2.lab', { type: 'UnsafeToProceed', message: 'ctl-2.lab did not start' });
      const h = await start({ approval: 'finalize-only' });
      await answer(h, [[/^finalize$/, 'finalize']]);
      const f = await runFailure(h.result());
      expect(messages(f)).toContain('ctl-2.lab did not start');
      const progress = await h.query(progressQuery);
      expect(progress.gates.map((g) => g.gate)).toEqual(['finalize']);
      expect(world.effects(/^(edit|restore|start) ctl/)).toEqual(['edit ctl-1.lab finalize-controller', 'start ctl-1.lab', 'edit ctl-2.lab finalize-controller', 'restore ctl-2.lab', 'start ctl-2.lab']);
      expect(effective(world.files.get('ctl-2.lab'))).toEqual(effective(ctlText(1)));
      expect(world.effects(/^(wipe|delete)/)).toEqual([]);
    }, 120_000);
  });

  describe('the broker roll (a rollingRestart child) as the migration sees it', () => {
    it('its preflight blocks (a broker not registered): nothing is touched, the failure names it, the rollback offered is the table\'s', async () => {
      world = new MigrationWorld('ControllersProvisioned');
      world.unregistered.add(2);
      const h = await start({ approval: 'finalize-only' });
      const g = await eventually(async () => (await h.query(progressQuery)).pendingGates.find((x) => x.name === 'rollback-after-failure'), 30_000);
      expect(g.prompt).toContain('Broker 2');
      expect(g.choices).toEqual(['rollback', 'leave']);
      await client.workflow.getHandle(g.workflowId).executeUpdate(approveUpdate, { args: [{ gate: g.name, approver: 'alice', choice: 'leave' }] });
      expect(messages(await runFailure(h.result()))).toContain('not registered');
      expect(world.effects(/^(edit|stop|start)/)).toEqual([]);
    }, 120_000);

    it('a broker skipped at its guard gate stops the migration right after the roll, naming it, instead of waiting for a copy that cannot start', async () => {
      world = new MigrationWorld('ControllersProvisioned');
      world.failures.set(`guard ${H(3)}`, { type: NodeWaitFailure.GuardWaitTimeout, message: 'partitions of kafka-3 would go under min ISR' });
      const h = await start({ approval: 'finalize-only' });
      await answer(h, [[/^guard-batch-2-1$/, 'skip']]);
      const g = await eventually(async () => (await h.query(progressQuery)).pendingGates.find((x) => x.name === 'rollback-after-failure'), 30_000);
      expect(g.prompt).toContain(`did not restart ${H(3)} (skipped`);
      await client.workflow.getHandle(g.workflowId).executeUpdate(approveUpdate, { args: [{ gate: g.name, approver: 'alice', choice: 'rollback' }] });
      await runFailure(h.result());
      expect(world.effects(/^migrated/)).toEqual([]);
      // Backed out on the two it reached, then the controllers deprovisioned.
      expect(edits('leave-migration-mode')).toEqual([H(2), H(1)]);
      BROKERS.forEach(isZooKeeperBroker);
    }, 120_000);

    it('an abort of the migration while a broker is down for its edit: the roll puts it back as it was, nothing else runs', async () => {
      world = new MigrationWorld('ControllersProvisioned');
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => (release = r));
      const acts = world.activities();
      const stop = acts.stopNode as NonNullable<Activities['stopNode']>;
      world.activities = () => ({ ...acts, stopNode: async (c: string, host: string) => (host === H(3) ? (await stop(c, host), await held, { wasRunning: true, output: '' }) : stop(c, host)) });
      const h = await start({ approval: 'finalize-only' });
      await eventually(() => world.log.includes(`stop ${H(3)}`));
      await h.cancel();
      // The stop itself runs to its end (a change is never cut short); the abort is seen at the next step.
      await eventually(async () => (await h.query(progressQuery)).abort !== null);
      release();
      const f = await runFailure(h.result());
      expect(f.type).toBe('RunbookAborted');
      // kafka-3 was stopped, never edited, started again with its ZooKeeper-mode config; no rollback offered, no controller touched.
      const k3 = world.effects(new RegExp(`^(edit|start|restore) ${H(3).replace('.', '\\.')}`));
      expect(k3.filter((l) => l.startsWith('edit'))).toEqual([]);
      expect(k3.at(-1)).toBe(`start ${H(3)}`);
      isZooKeeperBroker(H(3));
      expect(world.running.has(H(3))).toBe(true);
      expect(world.effects(/ctl/)).toEqual([]);
    }, 120_000);
  });

  it('waits for a stopped broker to leave the metadata only while no KRaft controller is active: not in the rolls into KRaft mode and back, where it stays registered (fenced)', async () => {
    world = new MigrationWorld('ControllersProvisioned');
    const h = await start({ approval: 'finalize-only' });
    await answer(h, [[/^finalize$/, 'rollback']]);
    const r = (await h.result()) as Result;
    expect(r).toMatchObject({ startState: MigrationState.ControllersProvisioned, endState: MigrationState.ZooKeeper });
    // Roll 1 (a ZooKeeper-mode controller) and the roll out of migration mode (znodes deleted) wait; roll 2 and its undo do not.
    expect(world.effects(/^(left-metadata|edit kafka)/).map((l) => l.replace(/^edit (\S+) (.*)$/, '$2 $1'))).toEqual([
      ...[H(2), H(3), H(1)].flatMap((b) => [`left-metadata ${b}`, `enter-migration-mode ${b}`]),
      ...BROKERS.map((b) => `enter-kraft-mode ${b}`),
      ...BROKERS.map((b) => `back-to-migration-mode ${b}`),
      ...[H(2), H(3), H(1)].flatMap((b) => [`left-metadata ${b}`, `leave-migration-mode ${b}`]),
    ]);
    BROKERS.forEach(isZooKeeperBroker);
  }, 120_000);

  it('rolls back from BrokersInKRaftMode with two rolls, giving each broker back its exact ZooKeeper-mode settings', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    const r = (await (await start({ goal: 'rollback' })).result()) as Result;
    expect(r).toMatchObject({ startState: MigrationState.BrokersInKRaftMode, endState: MigrationState.ZooKeeper });
    expect(world.effects(/^(edit|stop ctl|wipe|retire|delete)/)).toEqual([
      ...BROKERS.map((b) => `edit ${b} back-to-migration-mode`),
      ...CONTROLLERS.flatMap((c) => [`stop ${c}`, `wipe ${c}`, `retire ${c}`]),
      'delete /controller /migration',
      ...[H(2), H(3), H(1)].map((b) => `edit ${b} leave-migration-mode`),
    ]);
    BROKERS.forEach(isZooKeeperBroker);
  }, 120_000);

  it('resumes in dual-write and finalizes only after the finalize gate, one controller at a time', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    const h = await start();
    await waitingAtGate(h, 'finalize');
    expect(world.log).toEqual([]);
    expect((await h.query(progressQuery)).pendingGate?.prompt).toContain('ZooKeeper rollback ends here');
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'finalize', approver: 'alice', reason: 'validated for a week', choice: 'finalize' }] });
    const r = (await h.result()) as Result & { inventorySnippet: string | null };
    expect(r.startState).toBe(MigrationState.BrokersInKRaftMode);
    expect(r.endState).toBe(MigrationState.Finalized);
    expect(world.log).toEqual(CONTROLLERS.flatMap((c) => [`stop ${c}`, `edit ${c} finalize-controller`, `start ${c}`]));
    expect(r.gates).toEqual([expect.objectContaining({ gate: 'finalize', choice: 'finalize' })]);
    expect(r.inventorySnippet).toContain('mode: kraft');
    for (const c of CONTROLLERS) expect(finalizeController(world.files.get(c) ?? '').changed).toBe(false);
  }, 60_000);

  it('a rejected finalize gate leaves the cluster in dual-write, untouched, and offers no rollback', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    const h = await start();
    await waitingAtGate(h, 'finalize');
    await h.executeUpdate(rejectUpdate, { args: [{ gate: 'finalize', approver: 'bob', reason: 'not yet' }] });
    const f = await runFailure(h.result());
    expect(f.type).toBe('GateRejected');
    expect(messages(f)).toContain('stays in dual-write');
    expect(world.log).toEqual([]);
  }, 60_000);

  it('"rollback" chosen at the finalize gate takes the cluster back to ZooKeeper', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    const h = await start();
    await answer(h, [[/^finalize$/, 'rollback']]);
    const r = (await h.result()) as Result;
    expect(r.endState).toBe(MigrationState.ZooKeeper);
    expect(edits('finalize-controller')).toEqual([]);
    BROKERS.forEach(isZooKeeperBroker);
  }, 120_000);

  it('refuses a rollback while ZkWriteBehindLag > 0, changing nothing', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    world.lag = 5;
    const f = await runFailure((await start({ goal: 'rollback' })).result());
    expect(f.type).toBe('UnsafeToProceed');
    expect(messages(f)).toContain('ZkWriteBehindLag is 5');
    expect(world.log).toEqual([]);
  }, 60_000);

  it('after a failure in dual-write with ZkWriteBehindLag > 0, offers only "leave"', async () => {
    world = new MigrationWorld('DualWrite');
    world.lag = 3;
    world.failures.set(`registered ${H(2)}`, { type: NodeWaitFailure.RegistrationTimeout, message: 'broker 2 did not register' });
    const h = await start({ approval: 'finalize-only' });
    await answer(h, [[/^halted-at-kafka-2\.lab$/, 'abort']]);
    const g = await eventually(async () => (await h.query(progressQuery)).pendingGates.find((x) => x.name === 'rollback-after-failure'));
    expect(g.choices).toEqual(['leave']);
    expect(g.prompt).toContain('ZkWriteBehindLag is 3');
    await h.executeUpdate(approveUpdate, { args: [{ gate: g.name, approver: 'alice', choice: 'leave' }] });
    await runFailure(h.result());
    expect(world.effects(/^(wipe|delete|edit \S+ back)/)).toEqual([]);
  }, 120_000);

  it('rolls back from ControllersProvisioned by deprovisioning the controllers, and observes ZooKeeper after', async () => {
    world = new MigrationWorld('ControllersProvisioned');
    const r = (await (await start({ goal: 'rollback' })).result()) as Result;
    expect(r).toMatchObject({ startState: MigrationState.ControllersProvisioned, endState: MigrationState.ZooKeeper });
    expect(world.log).toEqual(CONTROLLERS.flatMap((c) => [`stop ${c}`, `wipe ${c}`, `retire ${c}`]));
  }, 60_000);
});

