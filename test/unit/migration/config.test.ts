import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  backToMigrationMode,
  enterKRaftMode,
  enterMigrationMode,
  finalizeController,
  leaveMigrationMode,
  type QuorumSpec,
  renderControllerConfig,
  STANDARD_AUTHORIZER,
} from '../../../src/migration';
import { propertyValue } from '../../../src/rolling/config';

// A ZooKeeper-mode 3.9 broker's server.properties as the lab writes it (recorded in the migration lab).
const ZK_BROKER = readFileSync(resolve(__dirname, '../../fixtures/migration/0-zookeeper/kafka-1.server.properties'), 'utf8');
const QUORUM: QuorumSpec = {
  controllers: [3000, 3001, 3002].map((nodeId, i) => ({ nodeId, address: `127.0.50.${11 + i}`, port: 9093 })),
  style: 'voters',
  listenerName: 'CONTROLLER',
  securityProtocol: 'PLAINTEXT',
};
const v = (text: string, key: string) => propertyValue(text, key);

describe('controller config', () => {
  const r = renderControllerConfig({ nodeId: 3001, address: '127.0.50.12', metadataDir: '/var/lib/kafka/metadata', quorum: QUORUM, brokerText: ZK_BROKER });
  it('is a migration-ready KRaft controller with the brokers’ ZooKeeper settings', () => {
    expect(r.problems).toEqual([]);
    expect(v(r.text, 'process.roles')).toBe('controller');
    expect(v(r.text, 'node.id')).toBe('3001');
    expect(v(r.text, 'controller.quorum.voters')).toBe('3000@127.0.50.11:9093,3001@127.0.50.12:9093,3002@127.0.50.13:9093');
    expect(v(r.text, 'controller.listener.names')).toBe('CONTROLLER');
    expect(v(r.text, 'listeners')).toBe('CONTROLLER://127.0.50.12:9093');
    expect(v(r.text, 'listener.security.protocol.map')).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT');
    expect(v(r.text, 'zookeeper.metadata.migration.enable')).toBe('true');
    expect(v(r.text, 'zookeeper.connect')).toBe('127.0.50.100:2181');
    expect(v(r.text, 'zookeeper.connection.timeout.ms')).toBe('18000');
    expect(v(r.text, 'inter.broker.listener.name')).toBe('PLAINTEXT');
  });
  it('carries the brokers’ topic defaults that the controller decides on in KRaft, and adds none they lack', () => {
    expect(['num.partitions', 'default.replication.factor', 'min.insync.replicas'].map((k) => v(r.text, k))).toEqual([v(ZK_BROKER, 'num.partitions'), v(ZK_BROKER, 'default.replication.factor'), '2']);
    expect(v(r.text, 'unclean.leader.election.enable')).toBeNull();
    const unclean = renderControllerConfig({ nodeId: 3000, address: 'a', metadataDir: '/m/d', quorum: QUORUM, brokerText: `${ZK_BROKER}unclean.leader.election.enable=true\n` });
    expect(v(unclean.text, 'unclean.leader.election.enable')).toBe('true');
  });
  it('uses bootstrap servers when asked (3.9)', () => {
    const b = renderControllerConfig({ nodeId: 3000, address: 'a', metadataDir: '/m/d', quorum: { ...QUORUM, style: 'bootstrap-servers' }, brokerText: ZK_BROKER });
    expect(v(b.text, 'controller.quorum.bootstrap.servers')).toBe('127.0.50.11:9093,127.0.50.12:9093,127.0.50.13:9093');
    expect(v(b.text, 'controller.quorum.voters')).toBeNull();
  });
  it('refuses a node id outside the quorum and a broker config without zookeeper.connect', () => {
    expect(renderControllerConfig({ nodeId: 9, address: 'a', metadataDir: '/m/d', quorum: QUORUM, brokerText: ZK_BROKER }).problems.join()).toContain('node.id 9 is not one of');
    expect(renderControllerConfig({ nodeId: 3000, address: 'a', metadataDir: '/m/d', quorum: QUORUM, brokerText: 'broker.id=1\n' }).problems.join()).toContain('no zookeeper.connect');
  });
  it('refuses a metadata dir (the inventory default included) whose newline, comma or space would add settings or dirs', () => {
    for (const dir of ['/var/lib/kafka/a\nprocess.roles=broker', '/var/lib/a,/var/lib/b', '/var/lib/my dir', 'var/lib/kafka']) {
      const bad = renderControllerConfig({ nodeId: 3000, address: 'a', metadataDir: dir, quorum: QUORUM, brokerText: ZK_BROKER });
      expect(bad.problems.join()).toContain('must be an absolute path of letters, digits');
      expect(bad.text).toBe('');
    }
  });
  it('finalize removes the flag and every zookeeper.* setting', () => {
    const f = finalizeController(r.text);
    expect(v(f.text, 'zookeeper.metadata.migration.enable')).toBeNull();
    expect(v(f.text, 'zookeeper.connect')).toBeNull();
    expect(v(f.text, 'zookeeper.connection.timeout.ms')).toBeNull();
    expect(v(f.text, 'controller.quorum.voters')).toBe(v(r.text, 'controller.quorum.voters'));
    expect(finalizeController(f.text).changed).toBe(false);
  });
});

describe('broker rolls', () => {
  const roll1 = enterMigrationMode(ZK_BROKER, QUORUM);
  const roll2 = enterKRaftMode(roll1.text);

  it('roll 1 adds the flag, the quorum, controller.listener.names and CONTROLLER in the protocol map, and nothing else changes', () => {
    expect(roll1.changed).toBe(true);
    expect(v(roll1.text, 'zookeeper.metadata.migration.enable')).toBe('true');
    expect(v(roll1.text, 'controller.quorum.voters')).toContain('3000@127.0.50.11:9093');
    expect(v(roll1.text, 'controller.listener.names')).toBe('CONTROLLER');
    expect(v(roll1.text, 'listener.security.protocol.map')).toBe('PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT');
    expect(roll1.text.startsWith(ZK_BROKER.replace('listener.security.protocol.map=PLAINTEXT:PLAINTEXT\n', 'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n'))).toBe(true);
    expect(enterMigrationMode(roll1.text, QUORUM).changed).toBe(false);
  });

  it('roll 2 makes a KRaft broker: node.id = broker.id, process.roles=broker, no IBP, no zookeeper.*, StandardAuthorizer', () => {
    expect(v(roll2.text, 'process.roles')).toBe('broker');
    expect(v(roll2.text, 'node.id')).toBe('1');
    for (const gone of ['broker.id', 'inter.broker.protocol.version', 'zookeeper.connect', 'zookeeper.connection.timeout.ms', 'zookeeper.metadata.migration.enable']) expect(v(roll2.text, gone)).toBeNull();
    expect(v(roll2.text, 'authorizer.class.name')).toBe(STANDARD_AUTHORIZER);
    expect(v(roll2.text, 'controller.quorum.voters')).toBe(v(roll1.text, 'controller.quorum.voters'));
    expect(enterKRaftMode(roll2.text).changed).toBe(false);
  });

  it('roll 2 removes control.plane.listener.name', () => {
    const withCp = enterMigrationMode(`${ZK_BROKER}control.plane.listener.name=PLAINTEXT\n`, QUORUM).text;
    expect(v(enterKRaftMode(withCp).text, 'control.plane.listener.name')).toBeNull();
  });

  it('the rollback rolls give back the exact ZooKeeper-mode file, the flag kept on the first', () => {
    const back1 = backToMigrationMode(roll2.text, null);
    expect(v(back1.text, 'process.roles')).toBeNull();
    expect(v(back1.text, 'zookeeper.metadata.migration.enable')).toBe('true');
    expect(back1.text).toBe(roll1.text);
    const back2 = leaveMigrationMode(back1.text, 'CONTROLLER');
    expect(back2.text).toBe(ZK_BROKER);
  });

  it('a broker moved to KRaft by hand goes back with broker.id from node.id and the inventory’s zookeeper.connect', () => {
    const byHand = 'process.roles=broker\nnode.id=7\ncontroller.quorum.voters=3000@a:9093\ncontroller.listener.names=CONTROLLER\n';
    const back = backToMigrationMode(byHand, 'zk:2181');
    expect(v(back.text, 'broker.id')).toBe('7');
    expect(v(back.text, 'zookeeper.connect')).toBe('zk:2181');
    expect(v(back.text, 'zookeeper.metadata.migration.enable')).toBe('true');
    expect(backToMigrationMode(byHand, null).problems.join()).toContain('no zookeeper.connect to restore');
  });

  it('refuses roll 1 without an explicit broker.id, roll 2 without the flag, the last rollback roll on a KRaft broker', () => {
    expect(enterMigrationMode(ZK_BROKER.replace('broker.id=1\n', ''), QUORUM).problems.join()).toContain('broker.id must be set explicitly');
    expect(enterKRaftMode(ZK_BROKER).problems.join()).toContain('must be in migration mode');
    expect(leaveMigrationMode(roll2.text, 'CONTROLLER').problems.join()).toContain('roll this broker back to ZooKeeper mode first');
  });
});
