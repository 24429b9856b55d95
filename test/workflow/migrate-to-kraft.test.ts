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
  type MigrationGauges,
  type MigrationZnodes,
  MigrationState,
  type QuorumSpec,
  renderControllerConfig,
  summariseNodeConfig,
} from '../../src/migration';
import { approveUpdate, rejectUpdate } from '../../src/names';
import { NodeWaitFailure } from '../../src/rolling';
import { delegatingActivities, runFailure, startWorkflowTestBed, waitingAtGate, type WorkflowTestBed } from '../support/temporal';

const ZK = readFileSync(resolve(__dirname, '../unit/migration/fixtures/zk-broker.server.properties'), 'utf8');
const QUORUM: QuorumSpec = { controllers: [3000, 3001, 3002].map((nodeId, i) => ({ nodeId, address: `10.0.0.${i + 1}`, port: 9093 })), style: 'voters', listenerName: 'CONTROLLER', securityProtocol: 'PLAINTEXT' };
const BROKERS = ['kafka-1', 'kafka-2', 'kafka-3'];
const CONTROLLERS = ['ctl-1', 'ctl-2', 'ctl-3'];
const TASK_QUEUE = 'migration-test';

/** A cluster mid-migration: each node's server.properties as text (edited with the real pure edits), znodes and gauges derived from them. */
class MigrationWorld {
  log: string[] = [];
  files = new Map<string, string | null>();
  running = new Set<string>([...BROKERS]);
  lag = 0;
  constructor(state: 'ControllersProvisioned' | 'BrokersInKRaftMode') {
    BROKERS.forEach((b, i) => {
      const zk = ZK.replace('broker.id=1', `broker.id=${i + 1}`);
      this.files.set(b, state === 'BrokersInKRaftMode' ? enterKRaftMode(enterMigrationMode(zk, QUORUM).text).text : zk);
    });
    CONTROLLERS.forEach((c, i) => {
      this.files.set(c, renderControllerConfig({ nodeId: 3000 + i, address: `10.0.0.${i + 1}`, metadataDir: '/var/lib/m', quorum: QUORUM, brokerText: ZK }).text);
      this.running.add(c);
    });
  }
  private summaries(hosts: string[]) {
    return hosts.map((h) => summariseNodeConfig(h, this.files.get(h) ?? null));
  }
  gauges(): MigrationGauges | null {
    const ctl = this.summaries(CONTROLLERS).filter((c) => c.present && this.running.has(c.host));
    if (ctl.length === 0) return null;
    const brokers = this.summaries(BROKERS);
    const state = ctl.every((c) => !c.migrationFlag) ? 3 : brokers.every((b) => b.migrationFlag || b.processRoles === 'broker') ? 1 : 2;
    return { zkMigrationState: state, zkWriteBehindLag: state === 1 ? this.lag : 0, migratingZkBrokerCount: 0 };
  }
  znodes(): MigrationZnodes {
    const g = this.gauges();
    const migrating = g !== null && g.zkMigrationState !== 2;
    return { clusterId: '06XJcO7-SiGgOAOR3GOo6w', migration: migrating ? { kraftControllerId: 3000 } : null, controller: migrating ? { brokerid: 3000, kraftControllerEpoch: 1 } : { brokerid: 1, kraftControllerEpoch: -1 }, brokerIds: [1, 2, 3] };
  }
  activities(): Partial<Activities> & Record<string, unknown> {
    const did = (s: string) => void this.log.push(s);
    return {
      acquireClusterLock: async () => undefined,
      releaseClusterLock: async () => undefined,
      describeMigrationHosts: async (_c, _ctl, port) => ({ brokers: BROKERS.map((host, i) => ({ host, nodeId: i + 1 })), controllers: CONTROLLERS.map((host, i) => ({ host, nodeId: 3000 + i, address: `10.0.0.${i + 1}`, port })), zookeeperConnect: '127.0.50.100:2181' }),
      readMigrationConfigs: async () => ({ brokers: this.summaries(BROKERS), controllers: this.summaries(CONTROLLERS) }),
      readMigrationZnodes: async () => this.znodes(),
      readMigrationGauges: async () => {
        const g = this.gauges();
        if (!g) throw new Error('no JMX');
        return g;
      },
      backupNodeConfig: async (_c: string, h: string) => ({ path: `/etc/kafka/server.properties.bak-${h}`, reused: false }),
      restoreNodeConfig: async (_c: string, h: string) => (did(`restore ${h}`), { changed: true }),
      stopNode: async (_c: string, h: string) => (did(`stop ${h}`), this.running.delete(h), { wasRunning: true, output: '' }),
      startNode: async (_c: string, h: string) => (did(`start ${h}`), this.running.add(h), { alreadyRunning: false, output: '' }),
      waitForProcessExit: async () => ({ elapsedMs: 1 }),
      editMigrationConfig: async (_c: string, h: string, edit) => {
        did(`edit ${h} ${edit.kind}`);
        const r = applyMigrationEdit(this.files.get(h) ?? '', edit, null);
        if (r.problems.length > 0) throw ApplicationFailure.nonRetryable(r.problems.join(' '), 'UnsafeToProceed');
        this.files.set(h, r.text);
        return { changed: r.changed, changes: r.changes, warnings: [] };
      },
      waitForControllerQuorum: async () => ({ leaderId: 3000, elapsedMs: 1 }),
      waitForZkMigrationState: async (_c, _h, wanted) => {
        const g = this.gauges();
        if (g?.zkMigrationState !== wanted) throw ApplicationFailure.nonRetryable(`ZkMigrationState is ${g?.zkMigrationState ?? 'unknown'}`, NodeWaitFailure.QuorumCatchUpTimeout);
        return { ...g, elapsedMs: 1 };
      },
      wipeControllerMetadata: async (_c: string, h: string) => (did(`wipe ${h}`), { host: h, wiped: [] }),
      retireMigrationControllerConfig: async (_c: string, h: string) => (did(`retire ${h}`), this.files.set(h, null), { movedTo: `x.bak-${h}` }),
      deleteMigrationZnodes: async () => (did('delete znodes'), { controller: 'deleted' as const, migration: 'deleted' as const, before: { controller: null, migration: null } }),
    };
  }
}

const NAMES = ['acquireClusterLock', 'releaseClusterLock', 'describeMigrationHosts', 'readMigrationConfigs', 'readMigrationZnodes', 'readMigrationGauges', 'backupNodeConfig', 'restoreNodeConfig', 'stopNode', 'startNode', 'waitForProcessExit', 'editMigrationConfig', 'waitForControllerQuorum', 'waitForZkMigrationState', 'wipeControllerMetadata', 'retireMigrationControllerConfig', 'deleteMigrationZnodes'];

describe('migrateToKRaft on fakes', () => {
  let bed: WorkflowTestBed;
  let client: Client;
  let world = new MigrationWorld('BrokersInKRaftMode');
  beforeAll(async () => {
    bed = await startWorkflowTestBed(TASK_QUEUE, delegatingActivities(NAMES as never[], () => world.activities() as never));
    client = bed.client;
  }, 120_000);
  afterAll(async () => bed?.stop());

  const start = (id: string, extra: Record<string, unknown> = {}) =>
    client.workflow.start('migrateToKRaft', { taskQueue: TASK_QUEUE, workflowId: id, args: [{ cluster: 'orders-zk', controllers: CONTROLLERS, ...extra }] });

  it('resumes in dual-write and finalizes only after the finalize gate, one controller at a time', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    const h = await start('mig-finalize');
    await waitingAtGate(h, 'finalize');
    expect(world.log).toEqual([]);
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'finalize', approver: 'alice', reason: 'validated for a week', choice: 'finalize' }] });
    const r = (await h.result()) as { endState: string; startState: string; inventorySnippet: string | null; gates: { gate: string; choice: string | null }[] };
    expect(r.startState).toBe(MigrationState.BrokersInKRaftMode);
    expect(r.endState).toBe(MigrationState.Finalized);
    expect(world.log).toEqual(CONTROLLERS.flatMap((c) => [`stop ${c}`, `edit ${c} finalize-controller`, `start ${c}`]));
    expect(r.gates).toEqual([expect.objectContaining({ gate: 'finalize', choice: 'finalize' })]);
    expect(r.inventorySnippet).toContain('mode: kraft');
    for (const c of CONTROLLERS) expect(finalizeController(world.files.get(c) ?? '').changed).toBe(false);
  }, 60_000);

  it('a rejected finalize gate leaves the cluster in dual-write, untouched', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    const h = await start('mig-finalize-rejected');
    await waitingAtGate(h, 'finalize');
    await h.executeUpdate(rejectUpdate, { args: [{ gate: 'finalize', approver: 'bob', reason: 'not yet' }] });
    const f = await runFailure(h.result());
    expect(f.type).toBe('GateRejected');
    expect(f.message).toContain('stays in dual-write');
    expect(world.log).toEqual([]);
  }, 60_000);

  it('refuses a rollback while ZkWriteBehindLag > 0, changing nothing', async () => {
    world = new MigrationWorld('BrokersInKRaftMode');
    world.lag = 5;
    const f = await runFailure((await start('mig-rollback-lag', { goal: 'rollback' })).result());
    expect(f.type).toBe('UnsafeToProceed');
    expect(f.message).toContain('ZkWriteBehindLag is 5');
    expect(world.log).toEqual([]);
  }, 60_000);

  it('rolls back from ControllersProvisioned by deprovisioning the controllers, and observes ZooKeeper after', async () => {
    world = new MigrationWorld('ControllersProvisioned');
    const r = (await (await start('mig-rollback-controllers', { goal: 'rollback' })).result()) as { startState: string; endState: string };
    expect(r).toMatchObject({ startState: MigrationState.ControllersProvisioned, endState: MigrationState.ZooKeeper });
    expect(world.log).toEqual(CONTROLLERS.flatMap((c) => [`stop ${c}`, `wipe ${c}`, `retire ${c}`]));
  }, 60_000);
});
