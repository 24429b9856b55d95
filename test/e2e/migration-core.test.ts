import { createHash } from 'node:crypto';
import { createClusterReadActivities } from '../../activities/cluster-reads';
import { createClusterRegistry } from '../../activities/clusters';
import { countDelegationTokens, createMigrationActivities, parseScramUsers } from '../../activities/migration';
import { createHostShell, type HostShell } from '../../activities/ssh';
import { type Inventory } from '../../src/inventory/schema';
import { rollingRestartInput } from '../../src/rolling/input';
import { describeLabCluster } from '../../src/lab';
import { Kafka, logLevel } from 'kafkajs';
import { createTopicWithRetry, eventually, inventoryHost, loadLabInventory, runHostCommand, useLab } from './support/lab';

// The migration's own reads on a real zookeeper-mode 3.9.2 lab with three hosts waiting to become controllers,
// reached only over SSH and the Kafka protocol: what preflight reads (SCRAM users, delegation tokens), the
// metadata fingerprint's topic-config filter, and the broker roll's preflight with controller hosts in a
// zookeeper-mode inventory.

describe('migration reads on a zookeeper-mode 3.9.2 lab with controller hosts (subnet 65)', () => {
  const lab = useLab({ name: 'mig-core', mode: 'zookeeper', brokers: 3, migrationControllers: 3, subnet: 65 });
  const cluster = 'mig-core';
  let inventory: Inventory;
  let shell: HostShell;
  let migration: ReturnType<typeof createMigrationActivities>;
  let reads: ReturnType<typeof createClusterReadActivities>;
  const controllers = () => inventory.hosts.filter((h) => h.roles.includes('controller')).map((h) => h.name);
  const brokers = () => inventory.hosts.filter((h) => h.roles.includes('broker')).map((h) => h.name);
  const admin = () => new Kafka({ clientId: 'mig-core-e2e', brokers: lab().bootstrapServers, logLevel: logLevel.NOTHING }).admin();

  beforeAll(() => {
    inventory = loadLabInventory(lab());
    shell = createHostShell();
    const deps = { clusters: createClusterRegistry(new Map([[inventory.name, inventory]])), shell };
    migration = createMigrationActivities(deps);
    reads = createClusterReadActivities(deps);
  });
  afterAll(async () => {
    await shell?.close();
  });

  it('preflight reads: versions, explicit broker ids, SCRAM users by name, no delegation tokens, healthy', async () => {
    const kafka1 = inventoryHost(inventory, 'kafka-1');
    const add = await runHostCommand(kafka1, 'tool', { tool: 'kafka-configs.sh' }, `--bootstrap-server ${lab().bootstrapServers[0]} --alter --add-config 'SCRAM-SHA-256=[iterations=4096,password=alice-secret]' --entity-type users --entity-name alice`);
    expect(add.code).toBe(0);
    const r = await migration.readMigrationPreflight(cluster, controllers());
    expect(r.scramUsers).toEqual(['alice']);
    expect(r.delegationTokens).toBe(0);
    expect(r.healthBlocking).toEqual([]);
    expect(r.reassignmentsInFlight).toBe(0);
    expect(r.brokers.map((b) => [b.host, b.kafkaVersion, b.config.brokerId])).toEqual(brokers().map((h, i) => [h, '3.9.2', i + 1]));
    expect(r.controllers.map((c) => c.host)).toEqual(controllers());
    expect(JSON.stringify(r)).not.toContain('alice-secret');
    // What kafka-configs.sh prints on this cluster, which the parser relies on.
    const users = await runHostCommand(kafka1, 'tool', { tool: 'kafka-configs.sh' }, `--bootstrap-server ${lab().bootstrapServers[0]} --describe --entity-type users`);
    expect(parseScramUsers(users.stdout)).toEqual(['alice']);
    // The lab's Kafka install has no kafka-delegation-tokens.sh: the 0 above came from ZooKeeper.
    const tokens = await runHostCommand(kafka1, 'tool', { tool: 'kafka-delegation-tokens.sh' }, `--bootstrap-server ${lab().bootstrapServers[0]} --describe`);
    expect(countDelegationTokens(tokens.code === 0 ? { out: tokens.stdout } : { error: tokens.stderr || tokens.stdout })).toBeNull();
  }, 180_000);

  it('the metadata fingerprint holds exactly the configs set on a topic, and changes when one does', async () => {
    const a = admin();
    await a.connect();
    try {
      await createTopicWithRetry(lab().bootstrapServers, { topic: 'orders', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] });
      await createTopicWithRetry(lab().bootstrapServers, { topic: 'plain', numPartitions: 1, replicationFactor: 3 });
      const md = await eventually('leaders of the new topics', () => a.fetchTopicMetadata({ topics: ['orders', 'plain'] }).catch(() => ({ topics: [] })), (m) => m.topics.length === 2 && m.topics.every((t) => t.partitions.every((p) => p.leader >= 0)), 60_000);
      const parts = (t: string) => [...(md.topics.find((x) => x.name === t)?.partitions ?? [])].sort((x, y) => x.partitionId - y.partitionId).map((p) => `${p.partitionId}:${p.replicas.join(',')}`);
      const sha = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);
      const before = await migration.snapshotMigrationMetadata(cluster);
      // Only the two set configs, not the broker defaults a describeConfigs also returns.
      expect(before.topics.orders).toBe(sha({ parts: parts('orders'), cfg: ['cleanup.policy=compact', 'retention.ms=3600000'] }));
      expect(before.topics.plain).toBe(sha({ parts: parts('plain'), cfg: [] }));
      expect(await migration.snapshotMigrationMetadata(cluster)).toEqual(before);
      await a.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'orders', configEntries: [{ name: 'retention.ms', value: '7200000' }, { name: 'cleanup.policy', value: 'compact' }] }] });
      const after = await migration.snapshotMigrationMetadata(cluster);
      expect(after.topics.plain).toBe(before.topics.plain);
      expect(after.topics.orders).not.toBe(before.topics.orders);
    } finally {
      await a.disconnect();
    }
  }, 180_000);

  it('the broker roll\'s preflight on this zookeeper-mode inventory with controller hosts: nothing blocks, only the brokers are planned', async () => {
    const input = rollingRestartInput.parse({ cluster, nodes: brokers(), approval: 'irreversible-only', migrationEdit: { kind: 'enter-kraft-mode' } });
    const p = await reads.planRollingRestartFor(cluster, input);
    expect(p.blocking).toEqual({ count: 0, first: [] });
    expect(p.plan.problems).toEqual([]);
    expect(p.plan.nodes.map((n) => n.host).sort()).toEqual(brokers().sort());
    expect((await describeLabCluster(lab().bootstrapServers)).brokers).toHaveLength(3);
  }, 180_000);

  it('observation reads the cluster as ZooKeeper, with the controller hosts not provisioned', async () => {
    const configs = await migration.readMigrationConfigs(cluster, controllers());
    expect(configs.brokers.map((b) => [b.host, b.brokerId, b.migrationFlag, b.zookeeperConnect])).toEqual(brokers().map((h, i) => [h, i + 1, false, true]));
    expect(configs.controllers.every((c) => !c.present || c.processRoles === null)).toBe(true);
  }, 120_000);
});
