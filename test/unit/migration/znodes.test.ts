import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  controllerEpochForRollback,
  heldByKRaftController,
  parseControllerEpochZnode,
  parseClusterIdZnode,
  parseControllerZnode,
  parseMigrationZnode,
  parseMigrationZnodeSession,
  parseZkGet,
  parseZkLs,
  ZkShellOutputError,
} from '../../../src/migration/znodes';

const fixture = (...p: string[]): string => readFileSync(join(__dirname, '../../fixtures/migration', ...p), 'utf8');
const data = (phase: string, file: string, path: string): string => {
  const r = parseZkGet(fixture(phase, file), path);
  if (!r.exists) throw new Error(`${phase}/${file}: ${path} missing`);
  return r.data;
};

describe('zookeeper-shell get -s output (recorded on 3.9.2)', () => {
  it('reads the data line and the stat of /cluster/id', () => {
    const r = parseZkGet(fixture('0-zookeeper', 'zk-cluster-id.txt'), '/cluster/id');
    expect(r).toMatchObject({ exists: true, data: '{"version":"1","id":"06XJcO7-SiGgOAOR3GOo6w"}', stat: { dataLength: '45', numChildren: '0', ephemeralOwner: '0x0' } });
    expect(parseClusterIdZnode((r as { data: string }).data)).toBe('06XJcO7-SiGgOAOR3GOo6w');
  });

  it('reports a missing /migration as missing, and refuses an answer about another path', () => {
    expect(parseZkGet(fixture('0-zookeeper', 'zk-migration.txt'), '/migration')).toEqual({ exists: false });
    expect(() => parseZkGet(fixture('0-zookeeper', 'zk-migration.txt'), '/controller')).toThrow(/answered for \/migration, not \/controller/);
  });

  it('refuses output with no data and stat (ZooKeeper unreachable)', () => {
    expect(() => parseZkGet(fixture('errors', 'zk-unreachable.stdout.txt'), '/controller')).toThrow(ZkShellOutputError);
  });

  it('/migration through the phases: -1 while waiting for brokers, the KRaft controller and offset once copied', () => {
    expect(parseMigrationZnode(data('1-controllers-provisioned', 'zk-migration.txt', '/migration'))).toMatchObject({
      kraftControllerId: -1,
      kraftControllerEpoch: -1,
      kraftMetadataOffset: -1,
      kraftMetadataEpoch: -1,
    });
    expect(parseMigrationZnode(data('2-brokers-in-migration-mode', 'zk-migration.txt', '/migration'))).toEqual({
      raw: '{"version":0,"kraft_metadata_offset":256,"kraft_controller_id":53,"kraft_metadata_epoch":2,"kraft_controller_epoch":2}',
      kraftControllerId: 53,
      kraftControllerEpoch: 2,
      kraftMetadataOffset: 256,
      kraftMetadataEpoch: 2,
    });
    expect(parseMigrationZnode(data('4-finalized', 'zk-migration.txt', '/migration')).kraftMetadataOffset).toBe(1640);
  });

  it('/controller: a ZooKeeper broker before the migration, the KRaft controller during it, a ZooKeeper broker again after the rollback', () => {
    const zk = parseControllerZnode(data('1-controllers-provisioned', 'zk-controller.txt', '/controller'));
    expect(zk).toMatchObject({ brokerid: 1, kraftControllerEpoch: -1 });
    expect(heldByKRaftController(zk)).toBe(false);
    const kraft = parseControllerZnode(data('2-brokers-in-migration-mode', 'zk-controller.txt', '/controller'));
    expect(kraft).toMatchObject({ brokerid: 53, kraftControllerEpoch: 2 });
    expect(heldByKRaftController(kraft)).toBe(true);
    expect(parseControllerZnode(data('rollback-from-brokers-in-migration-mode', 'zk-controller-after-delete.txt', '/controller'))).toMatchObject({ brokerid: 3, kraftControllerEpoch: -1 });
  });

  it('refuses znode data that is not what Kafka writes', () => {
    expect(() => parseControllerZnode('{"version":2}')).toThrow(/names no brokerid/);
    expect(() => parseMigrationZnode('not json')).toThrow(/does not hold JSON/);
    expect(() => parseClusterIdZnode('{"id":"short"}')).toThrow(/no Kafka cluster id/);
  });

  it('ls /brokers/ids: the ZooKeeper brokers, none once every broker runs in KRaft mode', () => {
    expect(parseZkLs(fixture('0-zookeeper', 'zk-brokers-ids.txt'), '/brokers/ids')).toEqual(['1', '2', '3']);
    expect(parseZkLs(fixture('3-brokers-in-kraft-mode', 'zk-brokers-ids.txt'), '/brokers/ids')).toEqual([]);
  });
});

describe('/controller_epoch before a rollback deletes /controller', () => {
  it('reads the bare epoch, and refuses anything else', () => {
    expect(parseControllerEpochZnode(data('errors/rollback-controller-epoch', 'zk-controller-epoch.txt', '/controller_epoch'))).toBe(6);
    expect(() => parseControllerEpochZnode('{"epoch":6}')).toThrow(/holds no epoch/);
  });

  it('the recorded failure: partition states at KRaft epoch 8, the ZooKeeper controller came back at 6; raising to 8 first puts it at 9', () => {
    const partitionState = JSON.parse(data('errors/rollback-controller-epoch', 'zk-customers-2-state.txt', '/brokers/topics/customers/partitions/2/state')) as { controller_epoch: number };
    expect(partitionState.controller_epoch).toBe(8);
    // /controller_epoch held 5 before the ZooKeeper broker took 6; /controller and /migration named KRaft epoch 8.
    const raised = controllerEpochForRollback(5, [8, 8]);
    expect(raised).toBe(8);
    // Kafka's ZooKeeper controller aborts an election when the state's epoch is above its own (raised + 1).
    expect((raised as number) + 1).toBeGreaterThan(partitionState.controller_epoch);
  });

  it('leaves /controller_epoch alone when it is already at or above every KRaft epoch, or none is known', () => {
    expect(controllerEpochForRollback(8, [8, 2])).toBeNull();
    expect(controllerEpochForRollback(3, [undefined, undefined])).toBeNull();
    expect(controllerEpochForRollback(3, [-1, undefined])).toBeNull();
    expect(controllerEpochForRollback(3, [undefined, 4])).toBe(4);
  });
});

describe('one framed zookeeper-shell session (what readMigrationZnodes runs)', () => {
  const frame = (name: string, file: string, code: number) => `=== BEGIN ${name}\n${fixture(...file.split('/'))}\n=== END ${name} ${code}\n`;
  it('reads every znode of the dual-write phase', () => {
    const out = [
      frame('cluster-id', '2-brokers-in-migration-mode/zk-cluster-id.txt', 0),
      frame('controller', '2-brokers-in-migration-mode/zk-controller.txt', 0),
      frame('migration', '2-brokers-in-migration-mode/zk-migration.txt', 0),
      frame('broker-ids', '2-brokers-in-migration-mode/zk-brokers-ids.txt', 0),
    ].join('');
    expect(parseMigrationZnodeSession(out)).toMatchObject({ clusterId: '06XJcO7-SiGgOAOR3GOo6w', controller: { brokerid: 53 }, migration: { kraftControllerId: 53 }, brokerIds: [1, 2, 3] });
  });

  it('reads a cluster that never started a migration (no /migration: exit 1)', () => {
    const out = [
      frame('cluster-id', '0-zookeeper/zk-cluster-id.txt', 0),
      frame('controller', '0-zookeeper/zk-controller.txt', 0),
      frame('migration', '0-zookeeper/zk-migration.txt', 1),
      frame('broker-ids', '0-zookeeper/zk-brokers-ids.txt', 0),
    ].join('');
    expect(parseMigrationZnodeSession(out)).toMatchObject({ migration: null, controller: { brokerid: 1, kraftControllerEpoch: -1 } });
  });

  it('says ZooKeeper did not answer when a command hit its time limit', () => {
    const out = [frame('cluster-id', 'errors/zk-unreachable.stdout.txt', 124)].join('');
    expect(() => parseMigrationZnodeSession(out)).toThrow(/did not answer for cluster-id in time/);
  });
});
