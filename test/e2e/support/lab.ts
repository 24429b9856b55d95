import { setTimeout as sleep } from 'node:timers/promises';
import { renderCommand } from '../../../src/inventory/commands';
import { loadInventories } from '../../../src/inventory/load';
import { type Inventory, type InventoryHost } from '../../../src/inventory/schema';
import { type CommandResult, type LabCluster, type LabUpOptions, describeLabCluster, labDown, labUp, processesMentioning, sshExec } from '../../../src/lab';

/** Jest helpers for end-to-end tests on the lab. */

/** Time a test may give one `labUp` on a 2-core machine (first JVM starts are the slow part). */
export const LAB_UP_TIMEOUT_MS = 180_000;

/**
 * Brings a lab cluster up before the tests of the enclosing describe and always takes it down after them.
 * Returns a getter, because the cluster exists only once beforeAll has run.
 */
export function useLab(opts: LabUpOptions & { name: string; subnet: number }, upTimeoutMs = LAB_UP_TIMEOUT_MS): () => LabCluster {
  let cluster: LabCluster | undefined;
  beforeAll(async () => {
    await labDown(opts.name); // a lab left over from an interrupted run
    cluster = await labUp(opts);
  }, upTimeoutMs);
  afterAll(async () => {
    await labDown(opts.name);
  }, 120_000);
  return () => {
    if (!cluster) throw new Error(`lab ${opts.name} did not come up (see beforeAll)`);
    return cluster;
  };
}

/** Runs fn against a fresh lab cluster (one left over from an interrupted run is taken down first) and takes it down afterwards, whatever happens. */
export async function withLab<T>(opts: LabUpOptions & { name: string; subnet: number }, fn: (lab: LabCluster) => Promise<T>): Promise<T> {
  await labDown(opts.name);
  const lab = await labUp(opts);
  try {
    return await fn(lab);
  } finally {
    await labDown(opts.name);
  }
}

export function loadLabInventory(lab: LabCluster): Inventory {
  const inventory = loadInventories([lab.inventoryPath]).get(lab.name);
  if (!inventory) throw new Error(`inventory ${lab.inventoryPath} does not define cluster ${lab.name}`);
  return inventory;
}

export function inventoryHost(inventory: Inventory, name: string): InventoryHost {
  const host = inventory.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no host ${name} in ${inventory.source}`);
  return host;
}

/** Renders one of the host's inventory command templates and runs it over SSH, as the runbook engine does. */
export function runHostCommand(host: InventoryHost, which: 'start' | 'stop' | 'status' | 'kill' | 'tool', extra: Record<string, string> = {}, args = ''): Promise<CommandResult> {
  const command = renderCommand(host.kafka.commands[which], host, extra) + (args ? ` ${args}` : '');
  return sshExec({ address: host.address, port: host.ssh.port, user: host.ssh.user, privateKeyFile: host.ssh.privateKeyFile ?? '', knownHostsFile: host.ssh.knownHostsFile }, command);
}

/** Broker ids in Metadata responses (what the Kafka protocol calls registered), sorted. */
export async function registeredBrokers(lab: Pick<LabCluster, 'bootstrapServers'>): Promise<number[]> {
  const c = await describeLabCluster(lab.bootstrapServers);
  return c.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
}

/** Polls until probe returns true; fails with the last value seen. */
export async function eventually<T>(what: string, probe: () => Promise<T>, accept: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | Error | undefined;
  for (;;) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (err) {
      last = err as Error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await sleep(250);
  }
}

/** Processes whose command line names the lab's directory (sshds, JVMs, tools started there). */
export const processesOfLab = (lab: Pick<LabCluster, 'labDir'>): { pid: number; cmdline: string }[] => processesMentioning(`${lab.labDir}/`);

/**
 * Creates a topic and waits until every partition has a leader and its replicas are in sync (up to 2), retrying
 * while a just-started cluster still settles its metadata (UNKNOWN_TOPIC_OR_PARTITION, seen under heavy load).
 */
export async function createTopicWithRetry(
  bootstrapServers: string[],
  topic: { topic: string; numPartitions: number; replicationFactor: number; configEntries?: { name: string; value: string }[] },
): Promise<void> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: bootstrapServers, logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ topics: [topic], waitForLeaders: false });
        break;
      } catch (err) {
        if ((err as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') break;
        if (attempt >= 5) throw err;
        await sleep(3000);
      }
    }
    const inSync = Math.min(2, topic.replicationFactor);
    await eventually(
      `topic ${topic.topic}: every partition led and in sync`,
      async () => (await admin.fetchTopicMetadata({ topics: [topic.topic] })).topics[0]?.partitions ?? [],
      (ps) => ps.length === topic.numPartitions && ps.every((p) => p.leader >= 0 && p.isr.length >= inSync),
      180_000,
    );
  } finally {
    await admin.disconnect();
  }
}
