import { ApplicationFailure } from '@temporalio/common';
import { createClusterRegistry } from '../../activities/clusters';
import { createControllerActivities } from '../../activities/controllers';
import { createJmxActivities } from '../../activities/jmx';
import { createHostShell, type HostShell } from '../../activities/ssh';
import { createZooKeeperActivities } from '../../activities/zookeeper';
import { FailureType } from '../../src/errors';
import { shellQuote } from '../../src/inventory/commands';
import { type Inventory } from '../../src/inventory/schema';
import { eventually, inventoryHost, loadLabInventory, runHostCommand, useLab } from './support/lab';

// The migration's ZooKeeper, JMX and controller-storage activities on a real zookeeper-mode lab with one
// controller host waiting for the migration, reached only over SSH (as the worker does).

const failureType = (err: unknown): string | undefined => (err instanceof ApplicationFailure ? err.type ?? undefined : undefined);
async function refusal(p: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    return { type: failureType(err), message: (err as Error).message };
  }
  throw new Error('expected a refusal, the activity succeeded');
}

describe('migration activities on a zookeeper-mode 3.9.2 lab (subnet 51)', () => {
  const lab = useLab({ name: 'mig-activities', mode: 'zookeeper', brokers: 1, migrationControllers: 1, subnet: 51 });
  let inventory: Inventory;
  let shell: HostShell;
  let zk: ReturnType<typeof createZooKeeperActivities>;
  let jmx: ReturnType<typeof createJmxActivities>;
  let controllers: ReturnType<typeof createControllerActivities>;
  const cluster = 'mig-activities';
  const ctl = 'controller-51';

  beforeAll(() => {
    inventory = loadLabInventory(lab());
    shell = createHostShell();
    const deps = { clusters: createClusterRegistry(new Map([[inventory.name, inventory]])), shell };
    zk = createZooKeeperActivities(deps);
    jmx = createJmxActivities(deps);
    controllers = createControllerActivities(deps);
  });
  afterAll(async () => {
    await shell?.close();
  });

  const writeControllerConfig = async () => {
    const host = inventoryHost(inventory, ctl);
    const config = [
      'process.roles=controller',
      'node.id=51',
      `controller.quorum.voters=51@${host.address}:9093`,
      'controller.listener.names=CONTROLLER',
      `listeners=CONTROLLER://${host.address}:9093`,
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${host.kafka.dataDirs[0]}`,
      'zookeeper.metadata.migration.enable=true',
      `zookeeper.connect=${inventory.zookeeperConnect}`,
      '',
    ].join('\n');
    const r = await shell.exec(host, `cat > ${shellQuote(host.kafka.configFile)}`, { stdin: config });
    expect(r.code).toBe(0);
  };

  it('reads the cluster id, /controller and the brokers of a cluster that never migrated', async () => {
    const z = await zk.readMigrationZnodes(cluster);
    expect(z).toEqual({ clusterId: lab().clusterId, migration: null, controller: expect.objectContaining({ brokerid: 1, kraftControllerEpoch: -1 }), brokerIds: [1] });
  }, 120_000);

  it('formats the controller with the ZooKeeper cluster id, once; refuses another id, a broker host, a missing config', async () => {
    const clusterId = lab().clusterId as string;
    expect(await refusal(controllers.formatControllerStorage(cluster, ctl, clusterId))).toMatchObject({ type: FailureType.InvalidInput, message: expect.stringMatching(/has no .*server\.properties/) });
    await writeControllerConfig();
    expect(await controllers.formatControllerStorage(cluster, ctl, clusterId)).toMatchObject({ formatted: true, output: expect.stringMatching(/Formatting metadata directory/) });
    expect(await controllers.formatControllerStorage(cluster, ctl, clusterId)).toMatchObject({ formatted: false });
    expect(await refusal(controllers.formatControllerStorage(cluster, ctl, 'AAAAAAAAAAAAAAAAAAAAAQ'))).toMatchObject({ type: FailureType.UnsafeToProceed, message: expect.stringContaining(`formatted for cluster ${clusterId}, not AAAAAAAAAAAAAAAAAAAAAQ`) });
    expect(await refusal(controllers.formatControllerStorage(cluster, 'kafka-1', clusterId))).toMatchObject({ type: FailureType.InvalidInput });
  }, 120_000);

  it('reads the gauges over JMX once the controller runs: PRE_MIGRATION, active, no lag; /migration created', async () => {
    const host = inventoryHost(inventory, ctl);
    expect((await runHostCommand(host, 'start')).code).toBe(0);
    const gauges = await eventually('ZkMigrationState over JMX', () => jmx.readMigrationGauges(cluster, ctl), (g) => g.zkMigrationState === 2 && g.activeControllerCount === 1, 90_000);
    expect(gauges).toEqual({ zkMigrationState: 2, zkWriteBehindLag: 0, migratingZkBrokerCount: 0, activeControllerCount: 1 });
    const z = await eventually('/migration', () => zk.readMigrationZnodes(cluster), (r) => r.migration !== null, 60_000);
    expect(z.migration).toMatchObject({ kraftControllerId: -1, kraftMetadataOffset: -1 });
    expect(await refusal(jmx.readMigrationGauges(cluster, 'kafka-1'))).toMatchObject({ type: FailureType.InvalidInput, message: expect.stringContaining('not a KRaft controller') });
  }, 180_000);

  it('refuses to delete the znodes or wipe the metadata while the controller runs', async () => {
    expect(await refusal(zk.deleteMigrationZnodes(cluster))).toMatchObject({ type: FailureType.UnsafeToProceed, message: expect.stringContaining('controller-51 (node 51) still run') });
    expect(await refusal(controllers.wipeControllerMetadata(cluster, ctl))).toMatchObject({ type: FailureType.UnsafeToProceed, message: expect.stringContaining('still runs') });
    expect((await zk.readMigrationZnodes(cluster)).migration).not.toBeNull();
  }, 120_000);

  it('once stopped: no JMX answer is an error; /migration deleted, /controller of a ZooKeeper broker kept; both idempotent', async () => {
    const host = inventoryHost(inventory, ctl);
    expect((await runHostCommand(host, 'stop')).code).toBe(0);
    await eventually('controller stopped', async () => (await runHostCommand(host, 'status')).code, (c) => c !== 0, 60_000);
    await expect(jmx.readMigrationGauges(cluster, ctl)).rejects.toThrow(/no JMX answer at service:jmx:rmi:\/\/\/jndi\/rmi:\/\/127\.0\.51\.51:9999/);
    const first = await zk.deleteMigrationZnodes(cluster);
    expect(first).toMatchObject({ controller: 'kept: held by a ZooKeeper-mode broker', migration: 'deleted', before: { migration: expect.stringContaining('"kraft_controller_id":-1') }, controllerEpochSetTo: null });
    expect(await zk.deleteMigrationZnodes(cluster)).toMatchObject({ controller: 'kept: held by a ZooKeeper-mode broker', migration: 'absent' });
    expect((await zk.readMigrationZnodes(cluster)).migration).toBeNull();
  }, 120_000);

  it('wipes only a controller metadata dir: refuses one holding a partition dir, then wipes its own, idempotently', async () => {
    const host = inventoryHost(inventory, ctl);
    const dir = host.kafka.dataDirs[0] as string;
    expect((await shell.exec(host, `mkdir ${shellQuote(`${dir}/orders-0`)}`)).code).toBe(0);
    expect(await refusal(controllers.wipeControllerMetadata(cluster, ctl))).toMatchObject({ type: FailureType.UnsafeToProceed, message: expect.stringContaining('holds orders-0: not a controller') });
    expect((await shell.exec(host, `test -f ${shellQuote(`${dir}/meta.properties`)}`)).code).toBe(0);
    expect((await shell.exec(host, `rmdir ${shellQuote(`${dir}/orders-0`)}`)).code).toBe(0);
    const wiped = await controllers.wipeControllerMetadata(cluster, ctl);
    expect(wiped.wiped).toEqual([{ dir, removed: expect.arrayContaining(['meta.properties', '__cluster_metadata-0', 'bootstrap.checkpoint']) }]);
    expect((await shell.exec(host, `ls -A ${shellQuote(dir)} | wc -l`)).stdout.trim()).toBe('0');
    expect(await controllers.wipeControllerMetadata(cluster, ctl)).toEqual({ host: ctl, wiped: [{ dir, removed: [] }] });
    expect(await refusal(controllers.wipeControllerMetadata(cluster, 'kafka-1'))).toMatchObject({ type: FailureType.InvalidInput });
  }, 120_000);
});
