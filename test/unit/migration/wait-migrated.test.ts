/**
 * waitForMetadataMigrated needs both of Kafka's signs: ZkMigrationState MIGRATION and the controller log line.
 * The log is the one recorded on a 3.9.2 lab (test/fixtures/migration), served by a fake SSH shell.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { createClusterRegistry } from '../../../activities/clusters';
import { createMigrationActivities, MIGRATION_COMPLETED_LINE } from '../../../activities/migration';
import { type HostShell } from '../../../activities/ssh';
import { parseInventory } from '../../../src/inventory/load';
import { type MigrationGauges } from '../../../src/migration';
import { NodeWaitFailure } from '../../../src/rolling';

const LOG = readFileSync(resolve(__dirname, '../../fixtures/migration/2-brokers-in-migration-mode/controller-53.migration-log.txt'), 'utf8');
const inventory = parseInventory(
  'c1.yaml',
  stringify({
    name: 'c1',
    mode: 'zookeeper',
    zookeeperConnect: '127.0.50.100:2181',
    bootstrapServers: ['127.0.50.1:9092'],
    defaults: { ssh: { user: 'kafka', privateKeyFile: '~/.ssh/id_ed25519' }, kafka: { logDir: "/var/log/kafka it's" } },
    hosts: [
      { name: 'kafka-1', address: '127.0.50.1', nodeId: 1, roles: ['broker'] },
      { name: 'controller-52', address: '127.0.50.52', nodeId: 52, roles: ['controller'] },
      { name: 'controller-53', address: '127.0.50.53', nodeId: 53, roles: ['controller'] },
    ],
  }),
);
const quiet = { logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined } };

let logged = false;
const commands: string[] = [];
/** Only controller-53 (the migration's leader) has the line, once `logged`; grep -F of the fixed string, as the host would. */
const shell: HostShell = {
  exec: async (host, command) => {
    commands.push(command);
    const wanted = command.includes(`grep -h -F '${MIGRATION_COMPLETED_LINE}'`);
    const lines = host.name === 'controller-53' && logged && wanted ? LOG.split('\n').filter((l) => l.includes(MIGRATION_COMPLETED_LINE)) : [];
    return { code: 0, stdout: lines.join('\n'), stderr: '' };
  },
  close: async () => undefined,
};
let state = 2;
const gauges = async (): Promise<MigrationGauges> => ({ zkMigrationState: state, zkWriteBehindLag: 0, migratingZkBrokerCount: 0 });
const acts = createMigrationActivities({ clusters: createClusterRegistry(new Map([['c1', inventory]])), shell, pollIntervalMs: 10, readMigrationGauges: gauges });
const wait = (timeoutMs: number) => new MockActivityEnvironment({}, quiet).run(() => acts.waitForMetadataMigrated('c1', ['controller-52', 'controller-53'], timeoutMs));

beforeEach(() => {
  logged = false;
  state = 2;
  commands.length = 0;
});

test('returns the recorded log line once the gauge says MIGRATION and a controller logged the completion', async () => {
  state = 1;
  logged = true;
  const r = await wait(5_000);
  expect(r.zkMigrationState).toBe(1);
  expect(r.logLine).toContain('Completed migration of metadata from ZooKeeper to KRaft. 23 records were generated');
  // The log dir reaches the shell quoted.
  expect(commands.some((c) => c.includes(`'/var/log/kafka it'\\''s'/server.log*`))).toBe(true);
});

test('MIGRATION without the log line is not done: the timeout says which sign is missing', async () => {
  state = 1;
  const err = await wait(200).then(
    () => null,
    (e: unknown) => e as { type?: string; message: string },
  );
  expect(err?.type).toBe(NodeWaitFailure.QuorumCatchUpTimeout);
  expect(err?.message).toContain(`ZkMigrationState is MIGRATION (1), but no controller log has "${MIGRATION_COMPLETED_LINE}"`);
});

test('the log line alone is not done while the gauge says PRE_MIGRATION', async () => {
  logged = true;
  const err = await wait(200).then(
    () => null,
    (e: unknown) => e as { message: string },
  );
  expect(err?.message).toContain('ZkMigrationState is PRE_MIGRATION (2)');
});
