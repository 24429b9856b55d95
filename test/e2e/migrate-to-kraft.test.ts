import { readFileSync, writeFileSync } from 'node:fs';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } from 'kafkajs';
import { shellQuote } from '../../src/inventory/commands';
import { type Inventory } from '../../src/inventory/schema';
import { sshExec } from '../../src/lab';
import { type MigrationResult } from '../../src/migration';
import { type RollingRestartResult } from '../../src/rolling';
import { eventually, inventoryHost, loadLabInventory, registeredBrokers, runHostCommand, useLab } from './support/lab';
import { createTopic, kafkaPid, linkVersion, pollRun, runAtGate, runningVersion, runStatus, startRollingRestart, type StatusJson } from './support/rolling';
import { cli, stackEnv, startWorker, useDevServer, type WorkerProcess } from './support/stack';
import { startTraffic, type Traffic } from './support/traffic';

/**
 * The ZooKeeper-to-KRaft journey end to end on ONE ZooKeeper-mode lab that starts on Kafka 3.8.1 (ZooKeeper +
 * 3 brokers + 3 controller hosts), all through the real worker process and the CLI, with ONE traffic run
 * (Java idempotent producer, acks=all, read back by kcat) across every step:
 *   0. rollingRestart upgrades 3.8.1 -> 3.9.2 with the old protocol pinned, then, approved, puts 3.9 in force;
 *   1. a migration stopped at BrokersInMigrationMode (gate "brokers-into-kraft-mode", choice rollback) goes
 *      back to ZooKeeper and is healthy there, metadata unchanged;
 *   2. the migration again, with the worker SIGKILLed during the first broker roll and a new one started:
 *      the run resumes and ends Finalized, topics, assignments, topic configs and ACLs identical;
 *   3. the inventory changed as the report says (mode: kraft), rollingRestart upgrades the KRaft cluster to
 *      4.3.1 and finalizes metadata.version; then no acknowledged record is lost or duplicated.
 * Every metadata comparison uses Kafka's own tools over SSH (kafka-topics.sh, kafka-acls.sh), not the
 * runbook's snapshot.
 */

const temporal = useDevServer();
const NAME = 'e2e-mig';
const CONTROLLERS = ['controller-51', 'controller-52', 'controller-53'];

const BROKERS = ['kafka-1', 'kafka-2', 'kafka-3'];
// What carries ACLs: an authorizer, in the brokers' config from their first start (the protocol version is the
// upgrade's to pin and bump).
const AUTHORIZER = { 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer', 'super.users': 'User:ANONYMOUS' };
const lab = useLab({ name: NAME, subnet: 52, mode: 'zookeeper', version: '3.8.1', migrationControllers: 3, brokerConfig: AUTHORIZER }, 300_000);
let inventory: Inventory;
let env: NodeJS.ProcessEnv;
let worker: WorkerProcess | null = null;
let traffic: Traffic | null = null;
let before = '';

/** Topics (assignment, configs) and ACLs as Kafka's tools print them, leaders and ISR cut, sorted. */
async function metadataByKafkaTools(): Promise<string> {
  const h = inventoryHost(inventory, 'kafka-1');
  const boot = inventory.bootstrapServers.join(',');
  const topics = await runHostCommand(h, 'tool', { tool: 'kafka-topics.sh' }, `--bootstrap-server ${shellQuote(boot)} --describe --exclude-internal`);
  const acls = await runHostCommand(h, 'tool', { tool: 'kafka-acls.sh' }, `--bootstrap-server ${shellQuote(boot)} --list`);
  if (topics.code !== 0 || acls.code !== 0) throw new Error(`kafka tools failed: ${topics.stderr} ${acls.stderr}`);
  const t = topics.stdout
    .split('\n')
    .filter((l) => l.trim() && !l.includes('Topic: orders')) // the traffic topic's leaders move; its assignment is checked by the oracle
    .map((l) => l.replace(/\tTopicId: \S+/, '').replace(/\tLeader: \S+/, '').replace(/\tIsr: \S+/, '').replace(/\tElr.*$/, '').trim())
    .sort();
  const a = acls.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
  return [...t, '---', ...a].join('\n');
}

async function onHost(name: string, command: string): Promise<string> {
  const h = inventoryHost(inventory, name);
  const r = await sshExec({ address: h.address, port: h.ssh.port, user: h.ssh.user, privateKeyFile: h.ssh.privateKeyFile ?? '', knownHostsFile: h.ssh.knownHostsFile }, command);
  if (r.code !== 0) throw new Error(`${name}: ${command} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function zkShell(args: string): Promise<string> {
  const zk = inventoryHost(inventory, 'zookeeper');
  const r = await runHostCommand(zk, 'tool', { tool: 'zookeeper-shell.sh' }, `${shellQuote(inventory.zookeeperConnect as string)} ${args}`);
  return `${r.stdout}\n${r.stderr}`;
}

async function startRun(): Promise<string> {
  const r = await cli(env, ['start', 'migrate-to-kraft', '-c', NAME, '--json', '-s', `controllers=${JSON.stringify(CONTROLLERS)}`, '-s', 'approval=every-phase', '-s', 'migrationSeconds=600'], 400_000);
  if (r.code !== 0) throw new Error(`start exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return (JSON.parse(r.stdout) as { workflowId: string }).workflowId;
}

/** Polled in process until the run waits at the gate; what the test reads of it comes from the CLI's status. */
async function atGate(id: string, gate: string, timeoutMs = 600_000): Promise<StatusJson> {
  return runAtGate(temporal().client, env, id, gate, timeoutMs, () => `\nworker: ${worker?.output().slice(-3000)}`);
}

async function approve(id: string, gate: string, choice?: string): Promise<void> {
  const r = await cli(env, ['approve', id, '--gate', gate, ...(choice ? ['--choice', choice] : []), '--as', 'e2e', '--reason', 'e2e test'], 400_000);
  if (r.code !== 0) throw new Error(`approve ${gate} exited ${r.code}: ${r.stderr}\n${r.stdout}`);
}

async function result<T = MigrationResult>(id: string): Promise<T> {
  const r = await cli(env, ['wait', id, '--json'], 1_500_000);
  if (r.code !== 0) {
    const st = await runStatus(env, id).catch(() => null);
    throw new Error(`wait exited ${r.code}: ${r.stderr}\n${r.stdout}\nsteps: ${JSON.stringify(st?.progress?.steps?.slice(-10))}\nworker:\n${worker?.output().slice(-4000)}`);
  }
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  inventory = loadLabInventory(lab());
  const brokers = inventory.hosts.filter((h) => h.roles.includes('broker'));
  for (const b of brokers) expect(readFileSync(b.kafka.configFile, 'utf8')).toMatch(/^authorizer\.class\.name=kafka\.security\.authorizer\.AclAuthorizer$/m);

  const admin = new Kafka({ clientId: 'e2e-mig', brokers: lab().bootstrapServers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: 'customers', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.insync.replicas', value: '2' }] },
        { topic: 'audit', replicaAssignment: [{ partition: 0, replicas: [1, 2] }, { partition: 1, replicas: [2, 3] }], configEntries: [{ name: 'retention.bytes', value: '1048576' }] },
      ],
    });
    const allow = { host: '*', permissionType: AclPermissionTypes.ALLOW };
    await admin.createAcls({
      acl: [
        { resourceType: AclResourceTypes.TOPIC, resourceName: 'customers', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', operation: AclOperationTypes.READ, ...allow },
        { resourceType: AclResourceTypes.TOPIC, resourceName: 'cust', resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:bob', operation: AclOperationTypes.WRITE, ...allow },
        { resourceType: AclResourceTypes.GROUP, resourceName: 'orders-app', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', operation: AclOperationTypes.READ, ...allow },
      ],
    });
  } finally {
    await admin.disconnect();
  }
  await createTopic(lab(), 'orders');
  before = await metadataByKafkaTools();
  expect(before).toContain('customers');
  expect(before).toContain('PREFIXED');

  env = stackEnv(temporal(), [lab().inventoryPath], 'e2e-mig');
  worker = await startWorker(env, 400_000);
  traffic = await startTraffic({ bootstrapServers: lab().bootstrapServers, topic: 'orders', messagesPerSecond: 20 });
}, 900_000);

afterAll(async () => {
  await traffic?.stop().catch(() => undefined);
  await worker?.stop('SIGKILL');
}, 180_000);

const ibp = (h: string): string[] => readFileSync(inventoryHost(inventory, h).kafka.configFile, 'utf8').match(/^inter\.broker\.protocol\.version=(.*)$/gm) ?? [];

test('the upgrade 3.8.1 -> 3.9.2 pins the old protocol; after approval a second roll puts 3.9 in force', async () => {
  expect(BROKERS.map((h) => runningVersion(lab(), h))).toEqual(['3.8.1', '3.8.1', '3.8.1']);
  const id = await startRollingRestart(env, NAME, { targetVersion: '3.9.2' });
  const st = await atGate(id, 'finalize', 1_200_000);
  expect(st.progress?.pendingGate?.prompt).toContain('set inter.broker.protocol.version=3.9 on kafka-1, kafka-2, kafka-3 (now 3.8)');
  // Between the rolls: every broker runs 3.9.2 and still speaks the 3.8 protocol.
  expect(BROKERS.map((h) => [runningVersion(lab(), h), ibp(h)])).toEqual(BROKERS.map(() => ['3.9.2', ['inter.broker.protocol.version=3.8']]));
  await approve(id, 'finalize');
  const r = await result<RollingRestartResult>(id);
  console.log(`upgrade to 3.9.2: ${JSON.stringify({ wallMs: r.wallMs, finalized: r.finalized?.after })}`);
  expect(r.nodes.every((n) => n.outcome === 'restarted' && n.oldVersion === '3.8.1' && n.newVersion === '3.9.2')).toBe(true);
  expect(r.finalized).toMatchObject({ feature: 'inter.broker.protocol.version', before: '3.8' });
  for (const h of BROKERS) expect([h, runningVersion(lab(), h), ibp(h)]).toEqual([h, '3.9.2', ['inter.broker.protocol.version=3.9']]);
  expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
  expect(await metadataByKafkaTools()).toEqual(before);
}, 1_800_000);

test('a migration stopped at BrokersInMigrationMode is rolled back to ZooKeeper and healthy there', async () => {
  const id = await startRun();
  await atGate(id, 'provision-controllers');
  await approve(id, 'provision-controllers', 'proceed');
  await atGate(id, 'brokers-into-migration-mode');
  await approve(id, 'brokers-into-migration-mode', 'proceed');
  const gate = await atGate(id, 'brokers-into-kraft-mode', 900_000);
  expect(gate.progress?.pendingGate?.choices).toEqual(['proceed', 'rollback']);
  expect(await zkShell('get /migration')).toMatch(/"kraft_metadata_offset":[1-9]/);
  await approve(id, 'brokers-into-kraft-mode', 'rollback');
  const r = await result(id);
  console.log(`rollback run: ${JSON.stringify({ start: r.startState, end: r.endState, phases: r.phases, wallMs: r.wallMs })}`);
  expect(r.endState).toBe('ZooKeeper');

  // ZooKeeper mode again: no controller runs, /migration gone, a ZooKeeper broker controls, no migration settings.
  for (const c of CONTROLLERS) expect((await runHostCommand(inventoryHost(inventory, c), 'status')).code).not.toBe(0);
  expect(await zkShell('get /migration')).toContain('Node does not exist: /migration');
  expect(await zkShell('get /controller')).toMatch(/"brokerid":[123],.*"kraftControllerEpoch":-1/);
  for (const b of ['kafka-1', 'kafka-2', 'kafka-3']) {
    const cfg = await onHost(b, `cat ${shellQuote(inventoryHost(inventory, b).kafka.configFile)}`);
    expect(cfg).toMatch(/^broker\.id=\d/m);
    expect(cfg).not.toMatch(/^(zookeeper\.metadata\.migration\.enable|controller\.quorum\.voters|process\.roles)=/m);
  }
  expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
  // The ZooKeeper controller came back above the KRaft epoch that dual-write stamped on the partition states.
  const zkEpoch = Number(/^(\d+)$/m.exec(await zkShell('get /controller_epoch'))?.[1]);
  const state = JSON.parse(/^\{.*\}$/m.exec(await zkShell('get /brokers/topics/customers/partitions/2/state'))?.[0] ?? '{}') as { controller_epoch?: number };
  expect(state.controller_epoch).toBeLessThanOrEqual(zkEpoch);
  const urp = await runHostCommand(inventoryHost(inventory, 'kafka-1'), 'tool', { tool: 'kafka-topics.sh' }, `--bootstrap-server ${shellQuote(inventory.bootstrapServers.join(','))} --describe --under-replicated-partitions`);
  expect(urp.stdout.trim()).toBe('');
  expect(await metadataByKafkaTools()).toEqual(before);
}, 1_800_000);

test('the migration with the worker SIGKILLed in the first broker roll resumes and ends in KRaft, metadata identical, no record lost', async () => {
  const t0 = Date.now();
  const id = await startRun();
  await atGate(id, 'provision-controllers');
  await approve(id, 'provision-controllers', 'proceed');
  await atGate(id, 'brokers-into-migration-mode');
  await approve(id, 'brokers-into-migration-mode', 'proceed');
  // Mid-phase: the first broker roll (a rollingRestart child) has restarted at least one broker.
  await pollRun(temporal().client, id, 'the broker roll under way', (s) => (s.progress?.currentStep ?? '').includes('enter-migration-mode (child workflow)'), 600_000);
  // A broker of the roll stopped and not back yet: the child is mid-restart when its worker dies.
  await eventually('a broker restarted by the roll', () => registeredBrokers(lab()), (ids) => ids.length < 3, 300_000);
  await (worker as WorkerProcess).stop('SIGKILL');
  console.log(`worker SIGKILLed ${Math.round((Date.now() - t0) / 1000)} s into the run`);
  worker = await startWorker(env, 400_000);
  await atGate(id, 'brokers-into-kraft-mode', 1_200_000);
  await approve(id, 'brokers-into-kraft-mode', 'proceed');
  const fin = await atGate(id, 'finalize', 1_200_000);
  expect(fin.progress?.pendingGate?.prompt).toContain('ZooKeeper rollback ends here');
  await approve(id, 'finalize', 'finalize');
  const r = await result(id);
  console.log(`migration run: ${JSON.stringify({ start: r.startState, end: r.endState, phases: r.phases, wallMs: r.wallMs, gates: r.gates.map((g) => `${g.gate}:${g.choice ?? g.outcome}`) })}`);
  expect(r.endState).toBe('Finalized');
  expect(r.metadataDiff?.same).toBe(true);
  expect(r.inventorySnippet).toContain('mode: kraft');

  // KRaft now: every broker runs process.roles=broker; the controllers report POST_MIGRATION (3) over JMX.
  const jmx = await runHostCommand(inventoryHost(inventory, 'controller-51'), 'tool', { tool: 'kafka-run-class.sh' },
    `org.apache.kafka.tools.JmxTool --jmx-url service:jmx:rmi:///jndi/rmi://127.0.52.51:9999/jmxrmi --object-name kafka.controller:type=KafkaController,name=ZkMigrationState --one-time true --report-format tsv`);
  expect(jmx.stdout).toMatch(/ZkMigrationState:Value\t3/);
  const quorum = await runHostCommand(inventoryHost(inventory, 'kafka-1'), 'tool', { tool: 'kafka-metadata-quorum.sh' }, `--bootstrap-server ${shellQuote(inventory.bootstrapServers.join(','))} describe --status`);
  expect(quorum.stdout).toMatch(/CurrentVoters:.*\b51\b.*\b52\b.*\b53\b/);
  expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
  expect(await metadataByKafkaTools()).toEqual(before);
  // A topic created without partitions or replication factor gets the brokers' defaults (3, 3), which the KRaft
  // controller now applies: the migration carried them into the controllers' config.
  const admin = new Kafka({ clientId: 'e2e-mig', brokers: lab().bootstrapServers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // No waitForLeaders: kafkajs gives up on the first broker that does not know the new topic yet.
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic: 'defaults-check' }] });
    const meta = await eventually(
      'defaults-check led in the metadata',
      () => admin.fetchTopicMetadata({ topics: ['defaults-check'] }).then((m) => m.topics[0], () => undefined),
      (t) => t !== undefined && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      60_000,
    );
    expect([meta?.partitions.length, meta?.partitions[0]?.replicas.length]).toEqual([3, 3]);
  } finally {
    await admin.deleteTopics({ topics: ['defaults-check'] }).catch(() => undefined);
    await admin.disconnect();
  }
}, 2_400_000);

test('with the inventory changed as the report says, the KRaft cluster is upgraded to 4.3.1; no acknowledged record lost across the journey', async () => {
  // The runbook never edits the inventory: the operator pastes mode: kraft (the roles already match).
  const path = lab().inventoryPath;
  writeFileSync(path, readFileSync(path, 'utf8').replace(/^mode: zookeeper$/m, 'mode: kraft'));
  await (worker as WorkerProcess).stop();
  worker = await startWorker(env, 400_000);
  const nodes = [...CONTROLLERS, ...BROKERS];
  const pids = new Map(nodes.map((h) => [h, kafkaPid(lab(), h)]));
  const id = await startRollingRestart(env, NAME, { targetVersion: '4.3.1' });
  await atGate(id, 'finalize', 1_200_000);
  expect(nodes.map((h) => [h, linkVersion(lab(), h), runningVersion(lab(), h)])).toEqual(nodes.map((h) => [h, '4.3.1', '4.3.1']));
  await approve(id, 'finalize');
  const r = await result<RollingRestartResult>(id);
  console.log(`upgrade to 4.3.1: ${JSON.stringify({ wallMs: r.wallMs, finalized: r.finalized, nodes: r.nodes.map((n) => `${n.host}:${n.outcome}`) })}`);
  expect(r.nodes.map((n) => [n.host, n.outcome, n.newVersion]).sort()).toEqual(nodes.map((h) => [h, 'restarted', '4.3.1']).sort());
  expect(r.finalized?.feature).toBe('metadata.version');
  expect(r.finalized?.after).toMatch(/^4\.3/);
  for (const h of nodes) expect(kafkaPid(lab(), h)).not.toBe(pids.get(h));
  expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
  expect(await metadataByKafkaTools()).toEqual(before);

  const t = await (traffic as Traffic).stop();
  traffic = null;
  console.log(`traffic: ${JSON.stringify({ ...t, lost: t.lost.length, duplicated: t.duplicated.length })}`);
  expect(t.acked).toBeGreaterThan(0);
  expect(t.lost).toEqual([]);
  expect(t.duplicated).toEqual([]);
}, 2_400_000);
