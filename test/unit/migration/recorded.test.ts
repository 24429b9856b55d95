import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  enterKRaftMode,
  enterMigrationMode,
  finalizeController,
  leaveMigrationMode,
  type MigrationGauges,
  type MigrationZnodes,
  MigrationState as S,
  observeMigrationState,
  type QuorumSpec,
  combineControllerGauges,
  summariseNodeConfig,
} from '../../../src/migration';
import { parseProperties } from '../../../src/rolling/config';

/**
 * The pure migration logic against what a real 3.9.2 lab printed in each phase (test/fixtures/migration,
 * recorded by hand over SSH: configs, zookeeper-shell output, JmxTool output; see its README).
 */
const DIR = resolve(__dirname, '../../fixtures/migration');
const BROKERS = ['kafka-1', 'kafka-2', 'kafka-3'];
const CONTROLLERS = ['controller-51', 'controller-52', 'controller-53'];
const QUORUM: QuorumSpec = { controllers: [51, 52, 53].map((nodeId) => ({ nodeId, address: `127.0.50.${nodeId}`, port: 9093 })), style: 'voters', listenerName: 'CONTROLLER', securityProtocol: 'PLAINTEXT' };

const file = (phase: string, name: string): string | null => {
  try {
    return readFileSync(resolve(DIR, phase, name), 'utf8');
  } catch {
    return null;
  }
};
/** The data line of `zookeeper-shell get -s`, or null for `Node does not exist`. */
const znode = <T>(phase: string, name: string): T | null => {
  const line = (file(phase, name) ?? '').split('\n').find((l) => l.startsWith('{'));
  return line ? (JSON.parse(line) as T) : null;
};
/** JmxTool `--report-format tsv` prints `<object name>:Value<TAB><n>`. */
const jmx = (phase: string, host: string, gauge: string): number | null => {
  const m = /:Value\t(-?\d+)/.exec(file(phase, `jmx-${host}-${gauge}.txt`) ?? '');
  return m ? Number(m[1]) : null;
};
const gauges = (phase: string): MigrationGauges | null =>
  combineControllerGauges(
    CONTROLLERS.map((h) => {
      const state = jmx(phase, h, 'ZkMigrationState');
      return state === null ? null : { zkMigrationState: state, zkWriteBehindLag: jmx(phase, h, 'ZkWriteBehindLag'), migratingZkBrokerCount: jmx(phase, h, 'MigratingZkBrokerCount'), activeControllerCount: jmx(phase, h, 'ActiveControllerCount') };
    }),
  );
const observed = (phase: string) => {
  const znodes: MigrationZnodes = { clusterId: null, migration: znode(phase, 'zk-migration.txt'), controller: znode(phase, 'zk-controller.txt'), brokerIds: [1, 2, 3] };
  return observeMigrationState({
    brokers: BROKERS.map((h) => summariseNodeConfig(h, file(phase, `${h}.server.properties`))),
    controllers: CONTROLLERS.map((h) => summariseNodeConfig(h, file(phase, `${h}.server.properties`))),
    znodes,
    gauges: gauges(phase),
  });
};
/** The properties Kafka reads (last entry of a key wins), without comments: what a config means. */
const effective = (text: string | null): Record<string, string> => Object.fromEntries(parseProperties(text ?? '').map((e) => [e.key, e.value]));

describe('observing the phases recorded on a 3.9.2 lab', () => {
  it('every phase directory is covered', () => expect(readdirSync(DIR).filter((d) => /^\d-/.test(d)).sort()).toEqual(['0-zookeeper', '1-controllers-provisioned', '2-brokers-in-migration-mode', '3-brokers-in-kraft-mode', '4-finalized']));
  it.each([
    ['0-zookeeper', S.ZooKeeper, null],
    ['1-controllers-provisioned', S.ControllersProvisioned, null],
    ['2-brokers-in-migration-mode', S.BrokersInMigrationMode, 'dual-write'],
    ['3-brokers-in-kraft-mode', S.BrokersInKRaftMode, 'dual-write'],
    ['4-finalized', S.Finalized, null],
  ])('%s reads as %s', (phase, state, migrationPhase) => {
    const o = observed(phase);
    if (!o.ok) throw new Error(o.disagreements.join('; '));
    expect({ state: o.state, phase: o.phase, inProgress: o.inProgress }).toEqual({ state, phase: migrationPhase, inProgress: null });
  });
  it('dual-write on the lab: the leader (ActiveControllerCount 1) reports lag 0, so a rollback is allowed', () => expect(gauges('2-brokers-in-migration-mode')).toMatchObject({ zkMigrationState: 1, zkWriteBehindLag: 0, activeControllerCount: 1 }));
  it('after a rollback by hand that left the controllers\' configs, stopped, the cluster reads as ControllersProvisioned (not ZooKeeper): the runbook moves them aside', () => {
    const o = observed('rollback-from-brokers-in-migration-mode');
    expect(o).toMatchObject({ ok: true, state: S.ControllersProvisioned, gauges: null });
  });
});

describe('config edits against the recorded configs', () => {
  it('roll 1 on the recorded ZooKeeper-mode broker gives the recorded migration-mode config', () => {
    for (const b of BROKERS) expect(effective(enterMigrationMode(file('0-zookeeper', `${b}.server.properties`) ?? '', QUORUM).text)).toEqual(effective(file('2-brokers-in-migration-mode', `${b}.server.properties`)));
  });
  it('roll 2 on the recorded migration-mode broker gives the recorded KRaft-mode config', () => {
    for (const b of BROKERS) expect(effective(enterKRaftMode(file('2-brokers-in-migration-mode', `${b}.server.properties`) ?? '').text)).toEqual(effective(file('3-brokers-in-kraft-mode', `${b}.server.properties`)));
  });
  it('the finalize on the recorded dual-write controller gives the recorded finalized config', () => {
    for (const c of CONTROLLERS) expect(effective(finalizeController(file('3-brokers-in-kraft-mode', `${c}.server.properties`) ?? '').text)).toEqual(effective(file('4-finalized', `${c}.server.properties`)));
  });
  it('the rollback roll on the recorded migration-mode broker gives back the recorded ZooKeeper-mode config', () => {
    for (const b of BROKERS) expect(effective(leaveMigrationMode(file('2-brokers-in-migration-mode', `${b}.server.properties`) ?? '', 'CONTROLLER').text)).toEqual(effective(file('rollback-from-brokers-in-migration-mode', `${b}.server.properties`)));
  });
});
