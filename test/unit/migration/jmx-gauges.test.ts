import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jmxToolArgs, jmxToolFailure, jmxUrl, parseJmxToolGauges } from '../../../src/migration/jmx-gauges';

const fixture = (...p: string[]): string => readFileSync(join(__dirname, '../../fixtures/migration', ...p), 'utf8');
const gauges = (phase: string, controller: string) =>
  ['ZkMigrationState', 'ZkWriteBehindLag', 'MigratingZkBrokerCount', 'ActiveControllerCount'].map((g) => fixture(phase, `jmx-${controller}-${g}.txt`)).join('\n');

describe('JmxTool tsv output of the migration gauges (recorded on 3.9.2)', () => {
  it('reads the gauges in each phase: PRE_MIGRATION 2, MIGRATION 1, POST_MIGRATION 3 (no ZkWriteBehindLag any more) on the active controller', () => {
    expect(parseJmxToolGauges(gauges('1-controllers-provisioned', 'controller-53'))).toEqual({ zkMigrationState: 2, zkWriteBehindLag: 0, migratingZkBrokerCount: 0, activeControllerCount: 1 });
    expect(parseJmxToolGauges(gauges('2-brokers-in-migration-mode', 'controller-53'))).toEqual({ zkMigrationState: 1, zkWriteBehindLag: 0, migratingZkBrokerCount: 3, activeControllerCount: 1 });
    expect(parseJmxToolGauges(gauges('3-brokers-in-kraft-mode', 'controller-52'))).toEqual({ zkMigrationState: 1, zkWriteBehindLag: 0, migratingZkBrokerCount: 0, activeControllerCount: 1 });
    expect(parseJmxToolGauges(gauges('4-finalized', 'controller-51'))).toEqual({ zkMigrationState: 3, zkWriteBehindLag: null, migratingZkBrokerCount: 0, activeControllerCount: 1 });
  });

  it('a standby reports the state too, with ActiveControllerCount 0', () => {
    expect(parseJmxToolGauges(gauges('3-brokers-in-kraft-mode', 'controller-51'))).toMatchObject({ zkMigrationState: 1, activeControllerCount: 0 });
  });

  it('a gauge JmxTool did not print is null, never 0', () => {
    expect(parseJmxToolGauges(fixture('2-brokers-in-migration-mode', 'jmx-controller-53-ZkMigrationState.txt'))).toEqual({ zkMigrationState: 1, zkWriteBehindLag: null, migratingZkBrokerCount: null, activeControllerCount: null });
    expect(parseJmxToolGauges('')).toEqual({ zkMigrationState: null, zkWriteBehindLag: null, migratingZkBrokerCount: null, activeControllerCount: null });
  });

  it('refuses a value that is not a number', () => {
    expect(() => parseJmxToolGauges('kafka.controller:type=KafkaController,name=ZkWriteBehindLag:Value\tNaN')).toThrow(/non-numeric ZkWriteBehindLag/);
  });

  it('names the failures recorded on the lab: no JMX listener, an unknown MBean', () => {
    expect(jmxToolFailure(fixture('errors', 'jmx-no-jmx-listener.stderr.txt'))).toEqual({ kind: 'unreachable', message: expect.stringMatching(/^no JMX answer at service:jmx:rmi:\/\/\/jndi\/rmi:\/\/127\.0\.50\.1:9999\/jmxrmi/) });
    expect(jmxToolFailure(fixture('errors', 'jmx-unknown-mbean.stderr.txt'))).toMatchObject({ kind: 'no-such-gauge' });
    expect(jmxToolFailure(fixture('2-brokers-in-migration-mode', 'jmx-controller-53-ZkMigrationState.stderr.txt'))).toBeNull();
  });

  it('builds the invocation that worked on the lab', () => {
    expect(jmxToolArgs(jmxUrl('127.0.50.53', 9999), ['ZkMigrationState'])).toEqual([
      '--jmx-url',
      'service:jmx:rmi:///jndi/rmi://127.0.50.53:9999/jmxrmi',
      '--object-name',
      'kafka.controller:type=KafkaController,name=ZkMigrationState',
      '--one-time',
      'true',
      '--report-format',
      'tsv',
    ]);
  });
});
