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
export function useLab(opts: LabUpOptions & { name: string; subnet: number }): () => LabCluster {
  let cluster: LabCluster | undefined;
  beforeAll(async () => {
    await labDown(opts.name); // a lab left over from an interrupted run
    cluster = await labUp(opts);
  }, LAB_UP_TIMEOUT_MS);
  afterAll(async () => {
    await labDown(opts.name);
  }, 60_000);
  return () => {
    if (!cluster) throw new Error(`lab ${opts.name} did not come up (see beforeAll)`);
    return cluster;
  };
}

/** Runs fn against a fresh lab cluster and takes it down afterwards, whatever happens. */
export async function withLab<T>(opts: LabUpOptions & { name: string; subnet: number }, fn: (lab: LabCluster) => Promise<T>): Promise<T> {
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
