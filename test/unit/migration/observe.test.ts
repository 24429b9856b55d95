import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  enterKRaftMode,
  enterMigrationMode,
  finalizeController,
  combineControllerGauges,
  type ControllerZnode,
  type MigrationGauges,
  type MigrationZnode,
  type MigrationReadings,
  type MigrationZnodes,
  MigrationState as S,
  observeMigrationState,
  type QuorumSpec,
  renderControllerConfig,
  renderStateDiagram,
  summariseNodeConfig,
} from '../../../src/migration';

const ZK = readFileSync(resolve(__dirname, 'fixtures/zk-broker.server.properties'), 'utf8');
const QUORUM: QuorumSpec = { controllers: [3000, 3001, 3002].map((nodeId, i) => ({ nodeId, address: `10.0.0.${i + 1}`, port: 9093 })), style: 'voters', listenerName: 'CONTROLLER', securityProtocol: 'PLAINTEXT' };
const broker = (id: number) => ZK.replace('broker.id=1', `broker.id=${id}`);
const zkB = [1, 2, 3].map(broker);
const migB = zkB.map((t) => enterMigrationMode(t, QUORUM).text);
const kraftB = migB.map((t) => enterKRaftMode(t).text);
const ctl = [3000, 3001, 3002].map((nodeId) => renderControllerConfig({ nodeId, address: 'x', metadataDir: '/var/lib/m', quorum: QUORUM, brokerText: ZK }).text);
const finalCtl = ctl.map((t) => finalizeController(t).text);

const NO_ZNODES: MigrationZnodes = { clusterId: '06XJcO7-SiGgOAOR3GOo6w', migration: null, controller: { brokerid: 1, kraftControllerEpoch: -1 }, brokerIds: [1, 2, 3] };
// /migration and /controller as `zookeeper-shell get` printed them on a 3.9.2 lab (mig-lab's recording).
const RECORDED_MIGRATION_WAITING = JSON.parse('{"version":0,"kraft_metadata_offset":-1,"kraft_controller_id":-1,"kraft_metadata_epoch":-1,"kraft_controller_epoch":-1}') as MigrationZnode;
const RECORDED_MIGRATION_COPIED = JSON.parse('{"version":0,"kraft_metadata_offset":256,"kraft_controller_id":53,"kraft_metadata_epoch":2,"kraft_controller_epoch":2}') as MigrationZnode;
const RECORDED_CONTROLLER_KRAFT = JSON.parse('{"version":2,"brokerid":53,"timestamp":"1796011686976","kraftControllerEpoch":2}') as ControllerZnode;
const MIGRATING: MigrationZnodes = { ...NO_ZNODES, migration: RECORDED_MIGRATION_COPIED, controller: RECORDED_CONTROLLER_KRAFT };
/** Controllers up, waiting for the brokers: the active controller has already created /migration, empty. */
const WAITING: MigrationZnodes = { ...NO_ZNODES, migration: RECORDED_MIGRATION_WAITING };
const g = (zkMigrationState: number, zkWriteBehindLag = 0): MigrationGauges => ({ zkMigrationState, zkWriteBehindLag, migratingZkBrokerCount: 0 });

function readings(brokers: (string | null)[], controllers: (string | null)[], znodes: MigrationZnodes, gauges: MigrationGauges | null): MigrationReadings {
  return {
    brokers: brokers.map((t, i) => summariseNodeConfig(`kafka-${i + 1}`, t)),
    controllers: controllers.map((t, i) => summariseNodeConfig(`ctl-${i + 1}`, t)),
    znodes,
    gauges,
  };
}
const state = (r: MigrationReadings) => {
  const o = observeMigrationState(r);
  if (!o.ok) throw new Error(o.disagreements.join('; '));
  return o;
};
const refused = (r: MigrationReadings) => {
  const o = observeMigrationState(r);
  if (o.ok) throw new Error(`expected a refusal, got ${o.state}`);
  return o.disagreements.join('; ');
};

describe('observing the migration state', () => {
  it('ZooKeeper: brokers in ZooKeeper mode, no controller config', () => expect(state(readings(zkB, [null, null, null], NO_ZNODES, null))).toMatchObject({ state: S.ZooKeeper, inProgress: null }));
  it('ZooKeeper with controllers part-provisioned', () =>
    expect(state(readings(zkB, [ctl[0] ?? null, null, null], NO_ZNODES, null)).inProgress).toEqual({ toward: S.ControllersProvisioned, done: ['ctl-1'], pending: ['ctl-2', 'ctl-3'] }));
  it('ControllersProvisioned', () => expect(state(readings(zkB, ctl, NO_ZNODES, g(2))).state).toBe(S.ControllersProvisioned));
  it('a half-done roll 1 is recognised, naming the brokers reached', () =>
    expect(state(readings([migB[0] ?? '', zkB[1] ?? '', zkB[2] ?? ''], ctl, NO_ZNODES, g(2)))).toMatchObject({ state: S.ControllersProvisioned, inProgress: { toward: S.BrokersInMigrationMode, done: ['kafka-1'], pending: ['kafka-2', 'kafka-3'] } }));
  it('BrokersInMigrationMode, hybrid while PRE_MIGRATION', () => expect(state(readings(migB, ctl, NO_ZNODES, g(2)))).toMatchObject({ state: S.BrokersInMigrationMode, phase: 'hybrid' }));
  it('BrokersInMigrationMode, dual-write once MIGRATION', () => expect(state(readings(migB, ctl, MIGRATING, g(1)))).toMatchObject({ state: S.BrokersInMigrationMode, phase: 'dual-write' }));
  it('a half-done roll 2', () =>
    expect(state(readings([kraftB[0] ?? '', migB[1] ?? '', migB[2] ?? ''], ctl, MIGRATING, g(1))).inProgress).toEqual({ toward: S.BrokersInKRaftMode, done: ['kafka-1'], pending: ['kafka-2', 'kafka-3'] }));
  it('BrokersInKRaftMode', () => expect(state(readings(kraftB, ctl, MIGRATING, g(1)))).toMatchObject({ state: S.BrokersInKRaftMode, finalizeStarted: false }));
  it('a half-done finalize marks the finalize as started', () => expect(state(readings(kraftB, [finalCtl[0] ?? '', ctl[1] ?? '', ctl[2] ?? ''], MIGRATING, g(1)))).toMatchObject({ state: S.BrokersInKRaftMode, finalizeStarted: true }));
  it('Finalized', () => expect(state(readings(kraftB, finalCtl, MIGRATING, g(3))).state).toBe(S.Finalized));

  it('refuses brokers in ZooKeeper and KRaft mode at once', () => expect(refused(readings([zkB[0] ?? '', kraftB[1] ?? '', migB[2] ?? ''], ctl, MIGRATING, g(1)))).toContain('cannot skip migration mode'));
  it('refuses brokers out of ZooKeeper mode without controllers', () => expect(refused(readings(migB, [null, null, null], NO_ZNODES, null))).toContain('are not provisioned'));
  it('refuses a leftover /migration znode, naming it', () => expect(refused(readings(zkB, [null, null, null], MIGRATING, null))).toContain('/migration znode records a completed metadata copy'));
  it('refuses KRaft brokers while the controller reports PRE_MIGRATION', () => expect(refused(readings(kraftB, ctl, MIGRATING, g(2)))).toContain('ZkMigrationState is PRE_MIGRATION'));
  it('refuses finalized configs while the controller still reports MIGRATION', () => expect(refused(readings(kraftB, finalCtl, MIGRATING, g(1)))).toContain('was not restarted'));
  it('refuses MIGRATION without a /migration znode', () => expect(refused(readings(migB, ctl, NO_ZNODES, g(1)))).toContain('records no metadata copy'));

  it('ControllersProvisioned and hybrid with the empty /migration the active controller creates (recorded)', () => {
    expect(state(readings(zkB, ctl, WAITING, g(2))).state).toBe(S.ControllersProvisioned);
    expect(state(readings([migB[0] ?? '', zkB[1] ?? '', zkB[2] ?? ''], ctl, WAITING, g(2))).inProgress?.done).toEqual(['kafka-1']);
    expect(state(readings(migB, ctl, WAITING, g(2)))).toMatchObject({ state: S.BrokersInMigrationMode, phase: 'hybrid' });
  });
  it('ZooKeeper after deprovisioned controllers: an empty /migration is noted, not refused', () => {
    const o = state(readings(zkB, [null, null, null], WAITING, null));
    expect(o.state).toBe(S.ZooKeeper);
    expect(o.notes.join(' ')).toContain('/migration exists without a metadata copy');
  });
  it('refuses a /migration that records a copy while brokers are still in ZooKeeper mode', () => expect(refused(readings(zkB, ctl, MIGRATING, g(2)))).toContain('records a completed metadata copy'));
  it('refuses MIGRATION while /migration is still empty', () => expect(refused(readings(migB, ctl, WAITING, g(1)))).toContain('records no metadata copy'));

  it('the diagram marks the current state and the rollback still possible', () => {
    const md = renderStateDiagram(observeMigrationState(readings(migB, ctl, MIGRATING, g(1, 0))));
    expect(md).toContain('[BrokersInMigrationMode]');
    expect(md).toContain('Rollback possible: to ZooKeeper');
    const lagging = renderStateDiagram(observeMigrationState(readings(migB, ctl, MIGRATING, g(1, 4))));
    expect(lagging).toContain('ZkWriteBehindLag is 4');
  });
});

describe('the gauges of several controllers', () => {
  // As recorded in dual-write: every controller reports ZkMigrationState 1; only the leader's lag can be > 0.
  const standby = (lag: number | null = 0): MigrationGauges => ({ zkMigrationState: 1, zkWriteBehindLag: lag, migratingZkBrokerCount: 0, activeControllerCount: 0 });
  const leader = (lag: number | null): MigrationGauges => ({ zkMigrationState: 1, zkWriteBehindLag: lag, migratingZkBrokerCount: 0, activeControllerCount: 1 });
  it('a standby answering first does not hide the leader\'s lag', () => expect(combineControllerGauges([standby(), standby(), leader(7)])?.zkWriteBehindLag).toBe(7));
  it('the lag is unknown when the leader\'s is', () => expect(combineControllerGauges([standby(), leader(null)])?.zkWriteBehindLag).toBeNull());
  it('without ActiveControllerCount, the highest lag of all, unknown if any is', () => {
    const plain = (lag: number | null): MigrationGauges => ({ zkMigrationState: 1, zkWriteBehindLag: lag, migratingZkBrokerCount: 0 });
    expect(combineControllerGauges([plain(0), plain(3), null])?.zkWriteBehindLag).toBe(3);
    expect(combineControllerGauges([plain(0), plain(null)])?.zkWriteBehindLag).toBeNull();
  });
  it('the state comes from the leader', () => expect(combineControllerGauges([{ ...standby(), zkMigrationState: 2 }, { ...leader(0), zkMigrationState: 1 }])?.zkMigrationState).toBe(1));
  it('none when no controller answered', () => expect(combineControllerGauges([null, null])).toBeNull());
});
