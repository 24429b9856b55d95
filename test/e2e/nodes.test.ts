import { ApplicationFailure, CancelledFailure, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { dirname } from 'node:path';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { createClusterRegistry } from '../../activities/clusters';
import { runKafkaTool } from '../../activities/cluster-reads';
import { createNodeActivities, type NodeActivities } from '../../activities/nodes';
import { createHostShell, type HostShell } from '../../activities/ssh';
import { isBrokerCaughtUp } from '../../src/health';
import { type Inventory } from '../../src/inventory/schema';
import { type LabCluster, runOnHost } from '../../src/lab';
import { type ClusterMetadata, type NodeRole } from '../../src/model/cluster';
import { type InstallSource, NodeWaitFailure } from '../../src/rolling';
import { inventoryHost, loadLabInventory, useLab } from './support/lab';

// The node activities against real brokers: each called as Temporal would call it (inside a mocked activity
// context, so heartbeats and cancellation are real), on lab hosts reached only over SSH and Kafka.

const quiet: Logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

interface Harness {
  inventory: Inventory;
  shell: HostShell;
  nodes: NodeActivities;
  /** Runs one activity in a fresh mocked activity context; collects its heartbeats. */
  call<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R>;
  heartbeats: unknown[];
  /** The environment of the activity running now, to cancel it. */
  current: MockActivityEnvironment | null;
}

/**
 * The activities against the describe's lab, built once the lab is up (filled in place, so the describe can
 * hold it from the start); with `topic`, an RF 3 topic to watch. The SSH shell is closed after the describe.
 */
function useHarness(lab: () => LabCluster, topic?: string, adjust: (inventory: Inventory) => Inventory = (i) => i): Harness {
  const h = {} as Harness;
  beforeAll(async () => {
    fillHarness(h, adjust(loadLabInventory(lab())));
    if (topic) await createTopic(h, topic);
  }, 120_000);
  afterAll(async () => {
    await h.shell?.close();
  });
  return h;
}

function fillHarness(h: Harness, inventory: Inventory): void {
  const shell = createHostShell();
  const nodes = createNodeActivities({ clusters: createClusterRegistry(new Map([[inventory.name, inventory]])), shell });
  Object.assign(h, {
    inventory,
    shell,
    nodes,
    heartbeats: [],
    current: null,
    call: async <A extends unknown[], R>(fn: (...a: A) => Promise<R>, ...args: A): Promise<R> => {
      const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 600_000 }, { logger: quiet });
      env.on('heartbeat', (d: unknown) => h.heartbeats.push(d));
      h.current = env;
      try {
        return await env.run(fn, ...args);
      } finally {
        h.current = null;
      }
    },
  });
}

function admin(inventory: Inventory): Admin {
  return new Kafka({ clientId: 'e2e-nodes', brokers: inventory.bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 2 } }).admin();
}

async function createTopic(h: Harness, topic: string): Promise<void> {
  const host = inventoryHost(h.inventory, 'kafka-1');
  await runKafkaTool(h.shell, host, h.inventory.bootstrapServers, undefined, 'kafka-topics.sh', [
    '--create', '--if-not-exists', '--topic', topic, '--partitions', '6', '--replication-factor', '3', '--config', 'min.insync.replicas=2',
  ]);
}

async function configs(h: Harness, args: string[]): Promise<void> {
  await runKafkaTool(h.shell, inventoryHost(h.inventory, 'kafka-1'), h.inventory.bootstrapServers, undefined, 'kafka-configs.sh', args);
}

/** Metadata as an independent observer sees it (its own client, polled much faster than the activity). */
async function observe(a: Admin): Promise<ClusterMetadata> {
  const c = await a.describeCluster();
  const meta = await a.fetchTopicMetadata({ topics: [] });
  return {
    clusterId: c.clusterId,
    mode: 'kraft',
    controllerId: null,
    brokers: c.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: null })),
    topics: meta.topics.map((t) => ({
      name: t.name,
      internal: false,
      minInsyncReplicas: 2,
      partitions: t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, offlineReplicas: [] })),
    })),
    reassignments: [],
    quorum: null,
  };
}

async function produce(inventory: Inventory, topic: string, count: number): Promise<void> {
  const producer = new Kafka({ clientId: 'e2e-nodes-producer', brokers: inventory.bootstrapServers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    const value = 'x'.repeat(1024);
    for (let i = 0; i < count; i += 500) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ key: String(i + j), value })) });
    }
  } finally {
    await producer.disconnect();
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Stop and wait for exit, then for the broker to leave the metadata: what a rolling restart does first. */
async function stopAndWait(h: Harness, hostName: string, nodeId: number): Promise<{ stopMs: number; exitMs: number; deregisteredMs: number }> {
  const t0 = Date.now();
  const stop = await h.call(h.nodes.stopNode, h.inventory.name, hostName);
  expect(stop.wasRunning).toBe(true);
  const exit = await h.call(h.nodes.waitForProcessExit, h.inventory.name, hostName, 120_000);
  const stopMs = Date.now() - t0;
  const dereg = await h.call(h.nodes.waitForBrokerDeregistered, h.inventory.name, nodeId, 60_000);
  return { stopMs, exitMs: exit.elapsedMs, deregisteredMs: dereg.elapsedMs };
}

async function startAndWait(h: Harness, hostName: string, nodeId: number): Promise<{ registeredMs: number; caughtUpMs: number }> {
  const t0 = Date.now();
  expect((await h.call(h.nodes.startNode, h.inventory.name, hostName)).alreadyRunning).toBe(false);
  await h.call(h.nodes.waitForBrokerRegistered, h.inventory.name, nodeId, 240_000);
  const registeredMs = Date.now() - t0;
  const caught = await h.call(h.nodes.waitForBrokerCaughtUp, h.inventory.name, nodeId, 240_000);
  expect(caught.status.caughtUp).toBe(true);
  return { registeredMs, caughtUpMs: caught.elapsedMs };
}

describe('node activities: 3-node KRaft lab, Kafka 4.3.1', () => {
  const lab = useLab({ name: 'rr-nodes-kraft', subnet: 31 });
  const h = useHarness(lab, 'orders');

  test('backupNodeConfig copies server.properties beside it, once per content', async () => {
    const host = inventoryHost(h.inventory, 'kafka-2');
    const first = await h.call(h.nodes.backupNodeConfig, h.inventory.name, 'kafka-2');
    expect(first.path).toMatch(new RegExp(`^${host.kafka.configFile.replace(/[.]/g, '\\.')}\\.bak-\\d{8}T\\d{6}Z$`));
    expect(first.reused).toBe(false);
    expect((await runOnHost(lab().name, 'kafka-2', `cmp ${host.kafka.configFile} ${first.path} && stat -c %a ${host.kafka.configFile} ${first.path}`)).code).toBe(0);
    expect(await h.call(h.nodes.backupNodeConfig, h.inventory.name, 'kafka-2')).toEqual({ path: first.path, reused: true });
  }, 60_000);

  test('a broker restart: controlled stop, exit, deregistered, start, registered, caught up within ~1 s of its ISR, preferred leaders back', async () => {
    const a = admin(h.inventory);
    await a.connect();
    try {
      const { stopMs, exitMs, deregisteredMs } = await stopAndWait(h, 'kafka-2', 2);
      // Controlled shutdown moved every leadership away and the broker left the metadata.
      const down = await observe(a);
      expect(down.brokers.map((b) => b.id)).toEqual([1, 3]);
      expect(down.topics.flatMap((t) => t.partitions).filter((p) => p.leader === 2)).toEqual([]);

      // ~8 MB the restarted broker must fetch to rejoin the ISRs, throttled to 512 KiB/s so the catch-up takes a
      // good ten seconds and the wait has a real transition to detect (in-sync replicas are never throttled).
      await produce(h.inventory, 'orders', 8000);
      await configs(h, ['--entity-type', 'brokers', '--entity-default', '--alter', '--add-config', 'follower.replication.throttled.rate=524288']);
      await configs(h, ['--entity-type', 'topics', '--entity-name', 'orders', '--alter', '--add-config', 'follower.replication.throttled.replicas=*']);

      // An independent observer polls every 100 ms for the moment broker 2 is back in every ISR. It may ask
      // another broker than the activity does, and brokers' metadata caches differ by some milliseconds: it
      // keeps going until it sees the ISR complete itself (at most 10 s after the activity returned).
      let isrCompleteAt: number | null = null;
      let observeUntil = Number.POSITIVE_INFINITY;
      const observer = (async () => {
        while (isrCompleteAt === null && Date.now() < observeUntil) {
          try {
            if (isrCompleteAt === null && isBrokerCaughtUp(await observe(a), 2).caughtUp) isrCompleteAt = Date.now();
          } catch {
            // metadata briefly unavailable while the broker joins
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const heartbeatsBefore = h.heartbeats.length;
      const t0 = Date.now();
      let caughtUpWaitStartedAt = 0;
      expect((await h.call(h.nodes.startNode, h.inventory.name, 'kafka-2')).alreadyRunning).toBe(false);
      const registered = await h.call(h.nodes.waitForBrokerRegistered, h.inventory.name, 2, 240_000);
      const startToRegisteredMs = Date.now() - t0;
      caughtUpWaitStartedAt = Date.now();
      const caught = await h.call(h.nodes.waitForBrokerCaughtUp, h.inventory.name, 2, 240_000);
      const returnedAt = Date.now();
      observeUntil = returnedAt + 10_000;
      await observer;
      await configs(h, ['--entity-type', 'topics', '--entity-name', 'orders', '--alter', '--delete-config', 'follower.replication.throttled.replicas']);
      await configs(h, ['--entity-type', 'brokers', '--entity-default', '--alter', '--delete-config', 'follower.replication.throttled.rate']);

      expect(caught.status).toMatchObject({ brokerId: 2, registered: true, caughtUp: true, partitionsChecked: 6 });
      expect(isrCompleteAt).not.toBeNull();
      const isrAt = isrCompleteAt as unknown as number;
      expect(isrAt).toBeGreaterThan(caughtUpWaitStartedAt); // the wait saw the broker catch up, not a done deal
      // Negative when the activity's broker knew before the observer's did.
      const readinessDelayMs = returnedAt - isrAt;
      expect(readinessDelayMs).toBeLessThan(2500);
      expect(h.heartbeats.length).toBeGreaterThan(heartbeatsBefore);
      expect(h.heartbeats[h.heartbeats.length - 1]).toMatchObject({ waitingFor: expect.any(String), elapsedMs: expect.any(Number) });

      // Leadership: broker 2 leads nothing until the preferred leaders are elected again.
      const before = await observe(a);
      const preferredOn2 = before.topics.flatMap((t) => t.partitions).filter((p) => p.replicas[0] === 2);
      expect(preferredOn2.length).toBeGreaterThan(0);
      expect(preferredOn2.filter((p) => p.leader === 2)).toEqual([]);
      const election = await h.call(h.nodes.restorePreferredLeaders, h.inventory.name, {});
      expect(election.failed).toEqual([]);
      expect(election.elected.sort()).toEqual(preferredOn2.map((p) => `${p.topic}-${p.partition}`).sort());
      const after = await observe(a);
      expect(after.topics.flatMap((t) => t.partitions).every((p) => p.leader === p.replicas[0])).toBe(true);
      // Nothing left to elect: success, with nothing elected.
      expect(await h.call(h.nodes.restorePreferredLeaders, h.inventory.name, { partitions: [{ topic: 'orders', partition: 0 }] })).toMatchObject({ elected: [], failed: [] });

      console.log(
        `[rr-nodes] kafka-2 (4.3.1): stop sent + process exit ${seconds(stopMs)} (exit wait ${seconds(exitMs)}), deregistered +${seconds(deregisteredMs)}; ` +
          `start to registered ${seconds(startToRegisteredMs)} (wait ${seconds(registered.elapsedMs)}), registered to caught up ${seconds(caught.elapsedMs)} (8 MB at 512 KiB/s); ` +
          `readiness delay after ISR complete ${readinessDelayMs} ms`,
      );
    } finally {
      await a.disconnect();
    }
  }, 420_000);

  test('waits end in a typed retryable failure, and cancellation stops them at once', async () => {
    const timeout = h.call(h.nodes.waitForProcessExit, h.inventory.name, 'kafka-3', 1500);
    await expect(timeout).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(timeout).rejects.toMatchObject({ type: NodeWaitFailure.StopTimeout, nonRetryable: false, message: expect.stringMatching(/^Kafka on kafka-3 is still running \d+ s after the stop/) });

    await stopAndWait(h, 'kafka-3', 3);
    const waiting = h.call(h.nodes.waitForBrokerRegistered, h.inventory.name, 3, 300_000);
    const env = h.current as MockActivityEnvironment;
    await new Promise((r) => setTimeout(r, 1500));
    const cancelledAt = Date.now();
    env.cancel();
    await expect(waiting).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - cancelledAt).toBeLessThan(1500);

    // Not started yet, so the wait times out typed, with its last observation.
    await expect(h.call(h.nodes.waitForBrokerRegistered, h.inventory.name, 3, 1000)).rejects.toMatchObject({ type: NodeWaitFailure.RegistrationTimeout });
    // With broker 3 down, broker 2 must not go: min ISR and the quorum majority both say so.
    const kafka2 = [{ nodeId: 2, roles: ['broker', 'controller'] as NodeRole[] }];
    await expect(h.call(h.nodes.waitForRestartAllowed, h.inventory.name, kafka2, 3000)).rejects.toMatchObject({
      type: NodeWaitFailure.GuardWaitTimeout,
      message: expect.stringMatching(/^node 2 still not safe to restart after \d+ s: Taking down broker 2 would leave orders-\d with ISR \[1\], below min.insync.replicas=2\./),
    });
    await startAndWait(h, 'kafka-3', 3);
    const allowed = await h.call(h.nodes.waitForRestartAllowed, h.inventory.name, kafka2, 120_000);
    expect(allowed.decision).toEqual({ safe: true, reasons: [], ignored: [] });
  }, 300_000);

  test('a killed broker recovers: readBrokerState follows it from NOT_RUNNING to RUNNING', async () => {
    expect(await h.call(h.nodes.readBrokerState, h.inventory.name, 'kafka-1')).toMatchObject({ state: 'RUNNING', evidence: expect.stringContaining('Transitioning from RECOVERY to RUNNING') });
    expect((await h.call(h.nodes.killNode, h.inventory.name, 'kafka-1')).wasRunning).toBe(true);
    await h.call(h.nodes.waitForProcessExit, h.inventory.name, 'kafka-1', 30_000);
    expect((await h.call(h.nodes.readBrokerState, h.inventory.name, 'kafka-1')).state).toBe('NOT_RUNNING');
    expect(await h.call(h.nodes.killNode, h.inventory.name, 'kafka-1')).toEqual({ wasRunning: false, output: '' });
    await h.call(h.nodes.waitForBrokerDeregistered, h.inventory.name, 1, 60_000);
    await startAndWait(h, 'kafka-1', 1);
    expect((await h.call(h.nodes.readBrokerState, h.inventory.name, 'kafka-1')).state).toBe('RUNNING');
    await h.call(h.nodes.waitForQuorumCaughtUp, h.inventory.name, 1, 120_000);
    expect(await h.call(h.nodes.startNode, h.inventory.name, 'kafka-1')).toEqual({ alreadyRunning: true, output: '' });
  }, 300_000);
});

describe('switchVersion: 3-node KRaft lab formatted by Kafka 3.9.2', () => {
  const lab = useLab({ name: 'rr-nodes-upgrade', subnet: 33, version: '3.9.2' });
  // Upgrade sources may also be in <host>/opt/staging, beside installDir.
  const stagingDir = (installDir: string) => `${dirname(installDir)}/staging`;
  const h = useHarness(lab, 'orders', (inv) => ({ ...inv, hosts: inv.hosts.map((x) => ({ ...x, kafka: { ...x.kafka, stagingDirs: [stagingDir(x.kafka.installDir)] } })) }));

  /** The version the broker logged at its last start, read independently of the activities. */
  const loggedVersion = async (hostName: string): Promise<string> => {
    const host = inventoryHost(h.inventory, hostName);
    const r = await runOnHost(lab().name, hostName, `grep -h 'Kafka version: ' ${host.kafka.logDir}/server.log | tail -n 1`);
    return /Kafka version: (\S+)/.exec(r.stdout)?.[1] ?? '';
  };

  test('checkTargetVersion finds an installed version and names what is missing, without changing anything', async () => {
    const c = h.inventory.name;
    expect(await h.call(h.nodes.checkTargetVersion, c, 'kafka-2', '4.3.1', null)).toMatchObject({ host: 'kafka-2', ok: true, detail: expect.stringMatching(/^installed at .*kafka_2\.13-4\.3\.1$/) });
    expect(await h.call(h.nodes.checkTargetVersion, c, 'kafka-2', '9.9.9', null)).toMatchObject({ ok: false, detail: expect.stringContaining('no install of Kafka 9.9.9 under') });
    const installDir = inventoryHost(h.inventory, 'kafka-2').kafka.installDir;
    expect(await h.call(h.nodes.checkTargetVersion, c, 'kafka-2', '4.3.1', { kind: 'archive', path: 'nonexistent.tgz' })).toMatchObject({ ok: false, detail: `no archive ${installDir}/nonexistent.tgz` });
    expect((await h.call(h.nodes.readNodeVersion, c, 'kafka-2')).linkVersion).toBe('3.9.2');
  }, 60_000);

  test('a source outside installDir and the staging dirs is refused before anything runs', async () => {
    const c = h.inventory.name;
    const installDir = inventoryHost(h.inventory, 'kafka-2').kafka.installDir;
    const outside: InstallSource[] = [
      { kind: 'staged', path: '/etc' },
      { kind: 'staged', path: '../../x' },
      { kind: 'staged', path: `${installDir}/../kafka_2.13-4.3.1` },
      { kind: 'archive', path: '/nonexistent/kafka.tgz' },
      { kind: 'archive', path: `${installDir}/../kafka.tgz` },
    ];
    for (const source of outside) {
      for (const attempt of [() => h.call(h.nodes.checkTargetVersion, c, 'kafka-2', '4.3.1', source), () => h.call(h.nodes.switchVersion, c, 'kafka-2', '4.3.1', source)]) {
        const refusal = attempt();
        await expect(refusal).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: expect.stringMatching(/^source\.path for kafka-2: "/) });
        await expect(refusal).rejects.toMatchObject({ message: expect.stringContaining(`is outside the install dir ${installDir} and the staging dirs ${stagingDir(installDir)}: `) });
      }
    }
    expect(await h.call(h.nodes.readNodeVersion, c, 'kafka-2')).toMatchObject({ linkTarget: 'kafka_2.13-3.9.2', processRunning: true });
  }, 60_000);

  test('refuses to switch a running node', async () => {
    await expect(h.call(h.nodes.switchVersion, h.inventory.name, 'kafka-1', '4.3.1', null)).rejects.toMatchObject({
      type: 'UnsafeToProceed',
      nonRetryable: true,
      message: 'switch to Kafka 4.3.1 on kafka-1: Kafka is running on kafka-1: stop it before switching versions',
    });
    expect(await h.call(h.nodes.readNodeVersion, h.inventory.name, 'kafka-1')).toEqual({
      linkTarget: 'kafka_2.13-3.9.2',
      linkVersion: '3.9.2',
      processRunning: true,
      runningVersion: '3.9.2',
      runningVersionFrom: 'process',
    });
  }, 60_000);

  test('3.9.2 -> 4.3.1 -> 3.9.2 on one node, the broker running each version in turn', async () => {
    await stopAndWait(h, 'kafka-1', 1);
    const up = await h.call(h.nodes.switchVersion, h.inventory.name, 'kafka-1', '4.3.1', null);
    expect(up).toEqual({ previousTarget: 'kafka_2.13-3.9.2', previousVersion: '3.9.2', target: 'kafka_2.13-4.3.1', version: '4.3.1', changed: true, unpacked: false });
    expect(await h.call(h.nodes.switchVersion, h.inventory.name, 'kafka-1', '4.3.1', null)).toMatchObject({ changed: false, version: '4.3.1' });
    const t = await startAndWait(h, 'kafka-1', 1);
    await h.call(h.nodes.waitForQuorumCaughtUp, h.inventory.name, 1, 120_000);
    expect(await h.call(h.nodes.readNodeVersion, h.inventory.name, 'kafka-1')).toMatchObject({ linkVersion: '4.3.1', runningVersion: '4.3.1', runningVersionFrom: 'process' });
    expect(await loggedVersion('kafka-1')).toBe('4.3.1');
    console.log(`[rr-nodes] kafka-1 on 4.3.1 (3.9.2-formatted cluster): start to registered ${seconds(t.registeredMs)}, caught up +${seconds(t.caughtUpMs)}`);

    await stopAndWait(h, 'kafka-1', 1);
    const back = await h.call(h.nodes.restoreVersionLink, h.inventory.name, 'kafka-1', up.previousTarget as string);
    expect(back).toMatchObject({ previousVersion: '4.3.1', target: 'kafka_2.13-3.9.2', version: '3.9.2', changed: true });
    await startAndWait(h, 'kafka-1', 1);
    expect(await h.call(h.nodes.readNodeVersion, h.inventory.name, 'kafka-1')).toMatchObject({ linkTarget: 'kafka_2.13-3.9.2', runningVersion: '3.9.2' });
    expect(await loggedVersion('kafka-1')).toBe('3.9.2');
  }, 480_000);

  test('an archive in a staging dir is checked against its sha256, unpacked into installDir once and switched to', async () => {
    const host = inventoryHost(h.inventory, 'kafka-2');
    const c = h.inventory.name;
    // A tarball laid out as Apache ships it, under a directory name no install has yet. The lab links each
    // install's libs/ to shared jars: -h packs the jars themselves, as in Apache's tarball.
    const archive = `${stagingDir(host.kafka.installDir)}/kafka_2.12-4.3.1.tgz`;
    const made = await runOnHost(
      lab().name,
      'kafka-2',
      `mkdir -p ${dirname(archive)} && tar -h -C ${host.kafka.installDir} -czf ${archive} --transform 's,^kafka_2.13-4.3.1,kafka_2.12-4.3.1,' kafka_2.13-4.3.1 && sha256sum ${archive}`,
    );
    expect(made.code).toBe(0);
    const sha256 = made.stdout.split(' ')[0] as string;
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);

    // A tarball that is not the one meant: refused as unsafe by the preflight and by the switch, before unpacking.
    const wrong = `${sha256.slice(0, 63)}${sha256.endsWith('0') ? '1' : '0'}`;
    expect(await h.call(h.nodes.checkTargetVersion, c, 'kafka-2', '4.3.1', { kind: 'archive', path: archive, sha256: wrong })).toEqual({
      host: 'kafka-2',
      ok: false,
      detail: `archive ${archive}: sha256 ${sha256} is not the expected ${wrong}`,
    });
    await stopAndWait(h, 'kafka-2', 2);
    await expect(h.call(h.nodes.switchVersion, c, 'kafka-2', '4.3.1', { kind: 'archive', path: archive, sha256: wrong })).rejects.toMatchObject({
      type: 'UnsafeToProceed',
      nonRetryable: true,
      message: `switch to Kafka 4.3.1 on kafka-2: ${archive} has sha256 ${sha256}, not the expected ${wrong}: refusing to unpack it`,
    });
    const unpackedDir = await runOnHost(lab().name, 'kafka-2', `ls -A ${host.kafka.installDir}`);
    expect(unpackedDir.stdout.split('\n').filter((f) => f.startsWith('kafka_2.12') || f.startsWith('.staging'))).toEqual([]);
    expect(await h.call(h.nodes.readNodeVersion, c, 'kafka-2')).toMatchObject({ linkTarget: 'kafka_2.13-3.9.2' });
    expect(await h.call(h.nodes.checkTargetVersion, c, 'kafka-2', '4.3.1', { kind: 'archive', path: archive, sha256: sha256.toUpperCase() })).toMatchObject({ ok: true });

    await expect(h.call(h.nodes.switchVersion, c, 'kafka-2', '4.3.2', { kind: 'archive', path: archive, sha256 })).rejects.toMatchObject({
      type: 'InvalidInput',
      message: expect.stringContaining('is not Kafka 4.3.2 (libs/ has kafka-clients-4.3.1.jar)'),
    });
    const up = await h.call(h.nodes.switchVersion, c, 'kafka-2', '4.3.1', { kind: 'archive', path: archive, sha256 });
    expect(up).toMatchObject({ previousVersion: '3.9.2', target: 'kafka_2.12-4.3.1', version: '4.3.1', changed: true, unpacked: true });
    await startAndWait(h, 'kafka-2', 2);
    expect(await h.call(h.nodes.readNodeVersion, h.inventory.name, 'kafka-2')).toMatchObject({ linkTarget: 'kafka_2.12-4.3.1', runningVersion: '4.3.1' });
    expect(await loggedVersion('kafka-2')).toBe('4.3.1');
    // The KRaft config needs nothing carried over.
    expect(await h.call(h.nodes.carryOverNodeConfig, h.inventory.name, 'kafka-2', { runningVersion: '3.9.2', targetVersion: '4.3.1' })).toEqual({ changed: false, changes: [], warnings: [] });

    await stopAndWait(h, 'kafka-2', 2);
    await h.call(h.nodes.restoreVersionLink, h.inventory.name, 'kafka-2', up.previousTarget as string);
    await startAndWait(h, 'kafka-2', 2);
    expect(await loggedVersion('kafka-2')).toBe('3.9.2');
    const election = await h.call(h.nodes.restorePreferredLeaders, h.inventory.name, {});
    expect(election.failed).toEqual([]);
  }, 480_000);
});

describe('config carry-over: ZooKeeper-mode lab, Kafka 3.9.2', () => {
  const lab = useLab({ name: 'rr-nodes-zk', mode: 'zookeeper', subnet: 34 });
  const h = useHarness(lab);

  test('pins the protocol version on the host, the broker starts with it, and the backup restores the file byte for byte', async () => {
    const host = inventoryHost(h.inventory, 'kafka-1');
    const original = (await runOnHost(lab().name, 'kafka-1', `base64 -w0 ${host.kafka.configFile}`)).stdout;
    const backup = await h.call(h.nodes.backupNodeConfig, h.inventory.name, 'kafka-1');
    // As if the brokers ran 3.8.1 and were going to 3.9.2: 3.9.2 speaks protocol 3.8 just as well.
    const carried = await h.call(h.nodes.carryOverNodeConfig, h.inventory.name, 'kafka-1', { runningVersion: '3.8.1', targetVersion: '3.9.2' });
    expect(carried).toEqual({ changed: true, changes: ['pinned inter.broker.protocol.version=3.8 (the running version 3.8.1)'], warnings: [] });
    expect((await h.call(h.nodes.carryOverNodeConfig, h.inventory.name, 'kafka-1', { runningVersion: '3.8.1', targetVersion: '3.9.2' })).changed).toBe(false);
    const now = await runOnHost(lab().name, 'kafka-1', `cat ${host.kafka.configFile}`);
    expect(now.stdout.startsWith(Buffer.from(original, 'base64').toString('utf8'))).toBe(true);
    expect(now.stdout.trimEnd().split('\n').pop()).toBe('inter.broker.protocol.version=3.8');

    await stopAndWait(h, 'kafka-1', 1);
    await startAndWait(h, 'kafka-1', 1);
    const logged = await runOnHost(lab().name, 'kafka-1', `grep -h 'inter.broker.protocol.version = ' ${host.kafka.logDir}/server.log | tail -n 1`);
    expect(logged.stdout).toContain('inter.broker.protocol.version = 3.8');
    expect(await h.call(h.nodes.readBrokerState, h.inventory.name, 'kafka-1')).toMatchObject({ state: 'RUNNING' });

    await expect(h.call(h.nodes.carryOverNodeConfig, h.inventory.name, 'kafka-1', { runningVersion: '3.9.2', targetVersion: '4.3.1' })).rejects.toMatchObject({ type: 'UnsafeToProceed' });
    expect(await h.call(h.nodes.restoreNodeConfig, h.inventory.name, 'kafka-1', backup.path)).toEqual({ changed: true });
    expect((await runOnHost(lab().name, 'kafka-1', `base64 -w0 ${host.kafka.configFile}`)).stdout).toBe(original);
    await expect(h.call(h.nodes.restoreNodeConfig, h.inventory.name, 'kafka-1', '/etc/passwd')).rejects.toMatchObject({ type: 'InvalidInput' });
  }, 480_000);
});
