import { Kafka, logLevel } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify } from 'yaml';
import { createBrokerActivities } from '../../activities/brokers';
import { createClusterRegistry } from '../../activities/clusters';
import { createNodeActivities } from '../../activities/nodes';
import { createHostShell } from '../../activities/ssh';
import { parseInventory } from '../../src/inventory/load';
import { type Inventory } from '../../src/inventory/schema';
import { runOnHost } from '../../src/lab';
import { createTopicWithRetry, eventually, inventoryHost, loadLabInventory, useLab } from './support/lab';

// The activities that touch a broker's data or send partition lists, against a real lab reached only over SSH
// and Kafka. Inventory variants (a broken status template, foreign data dirs) are copies of the lab's inventory
// file, edited as an operator would edit it, and validated by the same schema.

const LAB = 'e2e-broker-data';
const ELECTION_PARTITIONS = 3000;

describe('broker data and long partition lists: 3-node KRaft lab, Kafka 4.3.1', () => {
  const lab = useLab({ name: LAB, subnet: 57, version: '4.3.1' });
  const shell = createHostShell();
  afterAll(async () => {
    await shell.close();
  });

  // Copies of the lab inventory under other cluster names, one edit each, so one registry holds them all.
  const variants = new Map<string, Inventory>();
  const activities = () => {
    const registry = createClusterRegistry(new Map([[LAB, loadLabInventory(lab())], ...variants]));
    return { brokers: createBrokerActivities({ clusters: registry, shell }), nodes: createNodeActivities({ clusters: registry, shell, pollIntervalMs: 500 }) };
  };
  /** A copy of the lab inventory named `name`, with kafka-3's `kafka` section edited. */
  function variant(name: string, edit: (kafka3: Record<string, unknown>) => void): string {
    const doc = parseYaml(readFileSync(lab().inventoryPath, 'utf8')) as { name: string; hosts: { name: string; kafka: Record<string, unknown> }[] };
    doc.name = name;
    const kafka3 = doc.hosts.find((h) => h.name === 'kafka-3');
    if (!kafka3) throw new Error('no kafka-3 in the lab inventory');
    edit(kafka3.kafka);
    variants.set(name, parseInventory(`${name}.yaml`, stringify(doc)));
    return name;
  }

  const dataDirOf = (host: string) => inventoryHost(loadLabInventory(lab()), host).kafka.dataDirs[0] as string;
  const onHost = async (host: string, command: string) => {
    const r = await runOnHost(LAB, host, command);
    if (r.code !== 0) throw new Error(`${host}: ${command}: exit ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const hasMeta = async (dir: string) => (await runOnHost(LAB, 'kafka-1', `test -f ${dir}/meta.properties`)).code === 0;

  test(`restorePreferredLeaders over ${ELECTION_PARTITIONS} named partitions: the list goes to a host file, not the command line`, async () => {
    // 3000 entries of this topic are ~170 KB of JSON: more than one command-line argument may hold (128 KiB).
    const topic = 'e2e-election-over-many-partitions';
    const t0 = Date.now();
    await createTopicWithRetry(lab().bootstrapServers, { topic, numPartitions: ELECTION_PARTITIONS, replicationFactor: 1 });
    const createdMs = Date.now() - t0;
    const partitions = Array.from({ length: ELECTION_PARTITIONS }, (_, partition) => ({ topic, partition }));
    const tempFiles = () => onHost('kafka-1', 'ls "${TMPDIR:-/tmp}" | grep -c "^kafka-runbooks\\." || true');
    const tempFilesBefore = await tempFiles();
    const t1 = Date.now();
    const r = await activities().nodes.restorePreferredLeaders(LAB, { partitions });
    const electionMs = Date.now() - t1;
    // RF 1: every partition is led by its only (preferred) replica already.
    expect(r.failed).toEqual([]);
    expect(r.elected.length + r.alreadyPreferred.length).toBe(ELECTION_PARTITIONS);
    expect(new Set([...r.elected, ...r.alreadyPreferred])).toEqual(new Set(partitions.map((p) => `${p.topic}-${p.partition}`)));
    // The temp file is gone.
    expect(r.host).toBe('kafka-1');
    expect(await tempFiles()).toBe(tempFilesBefore);
    // Its RF 1 partitions on kafka-3 would be leaderless once kafka-3 stops, and kafkajs fails every
    // DescribeCluster while any partition of the cluster has no leader.
    const admin = new Kafka({ brokers: lab().bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic], timeout: 60_000 });
      await eventually(`${topic} deleted`, () => admin.listTopics(), (ts) => !ts.includes(topic), 60_000);
    } finally {
      await admin.disconnect();
    }
    console.log(`[broker-data] ${ELECTION_PARTITIONS}-partition topic created in ${(createdMs / 1000).toFixed(1)} s; election over the list ${(electionMs / 1000).toFixed(1)} s`);
  }, 300_000);

  test('a wipe is refused unless the status template says stopped (LSB 1-3): exit 255, 127 or 0 wipe nothing', async () => {
    const dir = dataDirOf('kafka-3');
    const ssh255 = variant('status-255', (k) => (k.commands = { status: 'exit 255' }));
    const missing = variant('status-127', (k) => (k.commands = { status: '/nonexistent/kafka-status' }));
    const { brokers } = activities();
    await expect(brokers.wipeBrokerData(ssh255, 'kafka-3')).rejects.toThrow(/^status of Kafka on kafka-3 unknown: the status command exited 255/);
    await expect(brokers.wipeBrokerData(missing, 'kafka-3')).rejects.toThrow(/^status of Kafka on kafka-3 unknown: the status command exited 127: .*nonexistent/);
    await expect(brokers.wipeBrokerData(LAB, 'kafka-3')).rejects.toMatchObject({ type: 'UnsafeToProceed', message: 'kafka-3: Kafka is running; refusing to delete its data' });
    expect(await hasMeta(dir)).toBe(true);
  }, 120_000);

  test('a stopped node is wiped only when every data dir is provably its own: another node, another cluster or no meta.properties wipes nothing', async () => {
    const { nodes } = activities();
    const own = dataDirOf('kafka-3');
    const base = own.replace(/\/[^/]+$/, '');
    await nodes.stopNode(LAB, 'kafka-3');
    await nodes.waitForProcessExit(LAB, 'kafka-3', 120_000);
    await nodes.waitForBrokerDeregistered(LAB, 3, 60_000);
    const clusterId = lab().clusterId as string;
    expect(clusterId).toBeTruthy();
    await onHost('kafka-3', `mkdir -p ${base}/other-cluster ${base}/no-meta && printf 'node.id=3\\ncluster.id=AnotherClusterIdAAAAAw\\nversion=1\\n' > ${base}/other-cluster/meta.properties && touch ${base}/other-cluster/x ${base}/no-meta/00000000000000000000.log`);
    const ownFiles = await onHost('kafka-3', `ls -A ${own}`);
    expect(ownFiles).toContain('meta.properties');

    const otherNode = variant('other-node', (k) => (k.dataDirs = [own, dataDirOf('kafka-2')]));
    const otherCluster = variant('other-cluster', (k) => (k.dataDirs = [own, `${base}/other-cluster`]));
    const noMeta = variant('no-meta', (k) => (k.dataDirs = [`${base}/no-meta`, own]));
    const { brokers } = activities();
    await expect(brokers.wipeBrokerData(otherNode, 'kafka-3')).rejects.toMatchObject({
      type: 'UnsafeToProceed',
      message: `kafka-3: not deleting any data dir, since not every one is provably node 3's of cluster other-node: ${dataDirOf('kafka-2')}/meta.properties names node 2, not 3`,
    });
    await expect(brokers.wipeBrokerData(otherCluster, 'kafka-3')).rejects.toMatchObject({
      type: 'UnsafeToProceed',
      message: expect.stringContaining(`${base}/other-cluster/meta.properties names cluster AnotherClusterIdAAAAAw, not ${clusterId}`),
    });
    await expect(brokers.wipeBrokerData(noMeta, 'kafka-3')).rejects.toMatchObject({ type: 'UnsafeToProceed', message: expect.stringContaining(`${base}/no-meta has no meta.properties`) });
    // Nothing was deleted anywhere: kafka-3's own dir (checked and fine) included.
    expect(await onHost('kafka-3', `ls -A ${own}`)).toBe(ownFiles);
    expect(await hasMeta(dataDirOf('kafka-2'))).toBe(true);
    expect(await onHost('kafka-3', `ls -A ${base}/other-cluster`)).toBe('meta.properties\nx');
    expect(await onHost('kafka-3', `ls -A ${base}/no-meta`)).toBe('00000000000000000000.log');

    // Its own dirs only: wiped, dotfiles included; a retry finds them empty and succeeds.
    expect(await brokers.wipeBrokerData(LAB, 'kafka-3')).toEqual({ wiped: [own] });
    expect(await onHost('kafka-3', `ls -A ${own}`)).toBe('');
    expect(await brokers.wipeBrokerData(LAB, 'kafka-3')).toEqual({ wiped: [own] });
  }, 240_000);
});
