/**
 * writeMigrationControllerConfig, over a fake SSH shell: where the controller's metadata log goes when the input
 * names no controllerMetadataDir (each controller's first inventory data dir), and that an inventory dir which
 * would add settings to server.properties is refused before anything is written.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { createClusterRegistry } from '../../../activities/clusters';
import { createMigrationActivities } from '../../../activities/migration';
import { type HostShell } from '../../../activities/ssh';
import { parseInventory } from '../../../src/inventory/load';
import { type QuorumSpec } from '../../../src/migration';

const ZK_BROKER = readFileSync(resolve(__dirname, '../../fixtures/migration/0-zookeeper/kafka-1.server.properties'), 'utf8');
const QUORUM: QuorumSpec = { controllers: [52, 53].map((nodeId) => ({ nodeId, address: `127.0.50.${nodeId}`, port: 9093 })), style: 'voters', listenerName: 'CONTROLLER', securityProtocol: 'PLAINTEXT' };
const quiet = { logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined } };

function setUp(dataDirs52: string[]) {
  const inventory = parseInventory(
    'c1.yaml',
    stringify({
      name: 'c1',
      mode: 'zookeeper',
      zookeeperConnect: '127.0.50.100:2181',
      bootstrapServers: ['127.0.50.1:9092'],
      defaults: { ssh: { user: 'kafka', privateKeyFile: '~/.ssh/id_ed25519' } },
      hosts: [
        { name: 'kafka-1', address: '127.0.50.1', nodeId: 1, roles: ['broker'] },
        { name: 'controller-52', address: '127.0.50.52', nodeId: 52, roles: ['controller'], kafka: { dataDirs: dataDirs52 } },
        { name: 'controller-53', address: '127.0.50.53', nodeId: 53, roles: ['controller'], kafka: { dataDirs: ['/data/other-layout/kraft'] } },
      ],
    }),
  );
  const written = new Map<string, string>();
  // Reads serve the broker's recorded config (controllers have an empty one); writes arrive on stdin.
  const shell: HostShell = {
    exec: async (host, command, opts) => {
      if (command.startsWith('base64 -w0')) return { code: 0, stdout: Buffer.from(host.name === 'kafka-1' ? ZK_BROKER : (written.get(host.name) ?? '')).toString('base64'), stderr: '' };
      if (opts?.stdin !== undefined) written.set(host.name, opts.stdin);
      return { code: 0, stdout: '', stderr: '' };
    },
    close: async () => undefined,
  };
  const acts = createMigrationActivities({ clusters: createClusterRegistry(new Map([['c1', inventory]])), shell, readMigrationGauges: async () => ({ zkMigrationState: null, zkWriteBehindLag: null, migratingZkBrokerCount: null }) });
  const write = (host: string, dir?: string | null) => new MockActivityEnvironment({}, quiet).run(() => acts.writeMigrationControllerConfig('c1', host, QUORUM, dir));
  const logDirs = (host: string) => /^log\.dirs=(.*)$/m.exec(written.get(host) ?? '')?.[1];
  return { write, written, logDirs };
}

test("without controllerMetadataDir, each controller's metadata log goes in its own first inventory data dir", async () => {
  const w = setUp(['/data/a/kraft', '/data/b/kraft']);
  await w.write('controller-52', null);
  await w.write('controller-53');
  expect(w.logDirs('controller-52')).toBe('/data/a/kraft');
  expect(w.logDirs('controller-53')).toBe('/data/other-layout/kraft');
});

test('controllerMetadataDir, when given, wins over the inventory', async () => {
  const w = setUp(['/data/a/kraft']);
  await w.write('controller-52', '/var/lib/kafka/metadata');
  expect(w.logDirs('controller-52')).toBe('/var/lib/kafka/metadata');
});

test('an inventory data dir with a space (it would be two dirs or a broken line) is refused, nothing written', async () => {
  const w = setUp(['/data/my kraft']);
  await expect(w.write('controller-52', null)).rejects.toThrow(/must be an absolute path of letters, digits/);
  expect(w.written.size).toBe(0);
});
