import { invalidInput, unsafeToProceed } from '../src/errors';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { scrub } from '../src/redact';
import { type Inventory, type InventoryHost, normaliseDataDir } from '../src/inventory/schema';
import { type ClusterRegistry, kafkaClient } from './clusters';
import { readMetadata, runKafkaTool } from './cluster-reads';
import { isKafkaRunning } from './node-status';
import { type HostShell } from './ssh';
import { storageFormatArgs } from '../src/migration/controller-storage';

/** Provisioning and retiring broker hosts: the steps around a reassignment when brokers come and go. */
export function createBrokerActivities({ clusters, shell }: { clusters: ClusterRegistry; shell: HostShell }) {
  return {
    /**
     * KRaft: formats a new broker's storage with the running cluster's ID, as `kafka-storage.sh format` does
     * by hand. Idempotent (--ignore-formatted). Refuses a host whose data dir belongs to another cluster.
     */
    async formatBrokerStorage(cluster: string, hostName: string): Promise<{ clusterId: string; output: string }> {
      const inv = clusters.get(cluster);
      if (inv.mode !== 'kraft') throw invalidInput(`cluster ${cluster} is in ZooKeeper mode: brokers need no storage format`);
      const host = clusters.host(cluster, hostName);
      const { clusterId } = await readMetadata(inv);
      if (!clusterId) throw unsafeToProceed(`cluster ${cluster} did not report its cluster ID; cannot format ${hostName}`);
      const tool = renderCommand(host.kafka.commands.tool, host, { tool: 'kafka-storage.sh' });
      const r = await shell.exec(host, `${tool} ${storageFormatArgs(clusterId, host.kafka.configFile).map(shellQuote).join(' ')}`, { timeoutMs: 120_000 });
      if (r.code !== 0) {
        const out = scrub(r.stderr || r.stdout);
        // A dir formatted for another cluster must never be reused by accident.
        if (/cluster.?id/i.test(out) && /mismatch|does not match|different/i.test(out)) throw unsafeToProceed(`${hostName}: data dir belongs to another cluster: ${out}`);
        throw new Error(`kafka-storage.sh format on ${hostName} exited ${r.code}: ${out.slice(-500)}`);
      }
      return { clusterId, output: scrub(r.stdout) };
    },

    /** KRaft: removes a stopped broker's registration (`kafka-cluster.sh unregister`), run on a live broker host. */
    async unregisterBroker(cluster: string, nodeId: number): Promise<{ unregistered: boolean }> {
      const inv = clusters.get(cluster);
      const m = await readMetadata(inv);
      if (m.brokers.some((b) => b.id === nodeId)) throw unsafeToProceed(`broker ${nodeId} is still registered and running: stop it before unregistering`);
      const live = inv.hosts.filter((h) => h.nodeId !== nodeId && h.roles.includes('broker') && m.brokers.some((b) => b.id === h.nodeId));
      const host = live[0];
      if (!host) throw unsafeToProceed(`no live broker host in cluster ${cluster} to run kafka-cluster.sh from`);
      try {
        // kafka-cluster.sh takes its connection flags after the subcommand, not before.
        await runKafkaTool(shell, host, inv.bootstrapServers, undefined, 'kafka-cluster.sh', [
          'unregister',
          '--bootstrap-server',
          inv.bootstrapServers.join(','),
          ...(inv.client.toolCommandConfig ? ['--command-config', inv.client.toolCommandConfig] : []),
          '--id',
          String(nodeId),
        ], { bootstrapFlag: null });
      } catch (err) {
        // Already gone is the outcome we want.
        if (/BrokerIdNotRegistered|not registered|does not exist/i.test((err as Error).message)) return { unregistered: false };
        throw err;
      }
      return { unregistered: true };
    },

    /**
     * KRaft: upgrades metadata.version to `version`'s release (kafka-features.sh: `--release-version` on 4.x,
     * `--metadata` before). Irreversible: the workflow runs it only after an approval that says so.
     */
    async finalizeMetadataVersion(cluster: string, version: string): Promise<{ before: string | null; after: string | null }> {
      const inv = clusters.get(cluster);
      if (inv.mode !== 'kraft') throw invalidInput(`cluster ${cluster} is in ZooKeeper mode: metadata.version is a KRaft feature`);
      const release = version.split('.').slice(0, 2).join('.');
      const hostsToTry = inv.hosts.filter((h) => h.roles.includes('broker'));
      let lastErr: Error | null = null;
      for (const h of hostsToTry) {
        try {
          const tool = (args: string[]) => runKafkaTool(shell, h, inv.bootstrapServers, inv.client.toolCommandConfig, 'kafka-features.sh', args);
          const before = finalizedLevel(await tool(['describe']), 'metadata.version');
          await tool(['upgrade', Number(version.split('.')[0]) >= 4 ? '--release-version' : '--metadata', release]);
          const after = finalizedLevel(await tool(['describe']), 'metadata.version');
          return { before, after };
        } catch (err) {
          lastErr = err as Error;
        }
      }
      throw lastErr ?? new Error(`no broker host in cluster ${cluster} to run kafka-features.sh from`);
    },

    /**
     * Canary: produces one record with acks=all to `topic` and reads that same record back, proving the
     * cluster still serves clients. The read-back is Kafka's own console consumer on a broker host, at the
     * partition and offset the acknowledgement named: a second client, so an acknowledgement kafkajs gives for
     * a record that was never written fails the canary. Throws (retryable) when the round trip does not finish
     * in time.
     */
    async canaryRoundTrip(cluster: string, topic: string, timeoutMs = 30_000): Promise<{ partition: number; offset: string; roundTripMs: number }> {
      const inv = clusters.get(cluster);
      const kafka = kafkaClient(inv, 'kafka-runbooks-canary');
      const started = Date.now();
      const value = `kafka-runbooks canary ${new Date().toISOString()} ${Math.random().toString(36).slice(2)}`;
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      let partition: number;
      let offset: string;
      try {
        const [meta] = await producer.send({ topic, acks: -1, timeout: timeoutMs, messages: [{ key: 'kafka-runbooks-canary', value }] });
        if (!meta) throw new Error(`canary: no produce result for ${topic}`);
        partition = meta.partition;
        offset = meta.baseOffset ?? meta.offset ?? '0';
      } finally {
        await producer.disconnect();
      }
      const read = await readRecordAt(shell, inv, topic, partition, offset, timeoutMs);
      if (read !== value) throw new Error(`canary: ${topic}-${partition}@${offset} was acknowledged, but Kafka's console consumer found ${read === null ? 'no record there' : 'another record there'}`);
      return { partition, offset, roundTripMs: Date.now() - started };
    },

    /** The data dirs of these hosts as the inventory lists them: what the `wipe-data` gate shows before anything is deleted. */
    async describeDataDirs(cluster: string, hostNames: string[]): Promise<{ host: string; dataDirs: string[] }[]> {
      return hostNames.map((name) => ({ host: name, dataDirs: clusters.host(cluster, name).kafka.dataDirs }));
    },

    /**
     * Deletes a stopped, empty broker's data. Only behind its own approval gate. Refuses (UnsafeToProceed) unless
     * the status template says Kafka is stopped (LSB 1-3; any other exit is no answer and throws), and unless
     * every data dir's meta.properties names this node and this cluster. Every dir is checked before any is
     * touched: one wrong dir and nothing is deleted. A dir already empty counts as wiped (a retry finds it so);
     * meta.properties goes last, so an interrupted wipe is still recognised as this node's.
     */
    async wipeBrokerData(cluster: string, hostName: string): Promise<{ wiped: string[] }> {
      const inv = clusters.get(cluster);
      const host = clusters.host(cluster, hostName);
      if (host.nodeId === null) throw invalidInput(`${hostName} has no node id in the inventory of cluster ${cluster}`);
      const dirs = host.kafka.dataDirs.map((d) => {
        const checked = normaliseDataDir(d); // the inventory schema refuses these already; a wipe checks again
        if ('problem' in checked) throw invalidInput(`${hostName}: data dir ${checked.problem}`);
        return checked.path;
      });
      if (await isKafkaRunning(shell, host)) throw unsafeToProceed(`${hostName}: Kafka is running; refusing to delete its data`);
      const { clusterId, brokerIds } = await describeClusterIds(inv);
      // A second opinion beside the status template: a broker the cluster still lists is running.
      if (brokerIds.includes(host.nodeId)) throw unsafeToProceed(`${hostName}: broker ${host.nodeId} is still registered in cluster ${cluster}; refusing to delete its data`);
      if (!clusterId) throw unsafeToProceed(`cluster ${cluster} did not report its cluster ID; cannot prove the data dirs of ${hostName} are its own`);
      const refusals: string[] = [];
      const toWipe: string[] = [];
      for (const dir of dirs) {
        const owner = await readDataDirOwner(shell, host, dir);
        if (owner === 'empty') continue;
        if (owner === 'no meta.properties') refusals.push(`${dir} has no meta.properties`);
        else if (owner.nodeId !== String(host.nodeId)) refusals.push(`${dir}/meta.properties names node ${owner.nodeId ?? '(none)'}, not ${host.nodeId}`);
        else if (owner.clusterId !== clusterId) refusals.push(`${dir}/meta.properties names cluster ${owner.clusterId ?? '(none)'}, not ${clusterId}`);
        else toWipe.push(dir);
      }
      if (refusals.length > 0) {
        throw unsafeToProceed(`${hostName}: not deleting any data dir, since not every one is provably node ${host.nodeId}'s of cluster ${cluster}: ${refusals.join('; ')}`, { refusals });
      }
      if (toWipe.length > 0) {
        const wipe = toWipe.map((d) => `find ${shellQuote(d)} -mindepth 1 -maxdepth 1 ! -name meta.properties -exec rm -rf -- {} + && rm -f -- ${shellQuote(`${d}/meta.properties`)}`);
        const r = await shell.exec(host, wipe.join(' && '));
        if (r.code !== 0) throw new Error(`wiping ${hostName} failed: ${scrub(r.stderr)}`);
      }
      return { wiped: dirs };
    },
  };
}

/** The cluster ID and the registered broker ids (DescribeCluster), without reading the rest of the metadata. */
async function describeClusterIds(inv: Inventory): Promise<{ clusterId: string | null; brokerIds: number[] }> {
  const admin = kafkaClient(inv).admin();
  await admin.connect();
  try {
    const described = await admin.describeCluster();
    return { clusterId: described.clusterId || null, brokerIds: described.brokers.map((b) => b.nodeId) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

type DataDirOwner = 'empty' | 'no meta.properties' | { nodeId: string | null; clusterId: string | null };

/** Whose data a dir holds, by its meta.properties (`node.id` in KRaft, `broker.id` in ZooKeeper mode). */
async function readDataDirOwner(shell: HostShell, host: InventoryHost, dir: string): Promise<DataDirOwner> {
  const d = shellQuote(dir);
  const meta = shellQuote(`${dir}/meta.properties`);
  const r = await shell.exec(host, `if [ ! -e ${d} ]; then echo EMPTY; else e="$(ls -A -- ${d})" || exit 2; if [ -z "$e" ]; then echo EMPTY; elif [ -f ${meta} ]; then echo META && cat -- ${meta}; else echo NOMETA; fi; fi`, { timeoutMs: 30_000 });
  const [tag, ...lines] = r.stdout.split('\n');
  if (r.code !== 0 || !tag) throw new Error(`cannot read ${dir}/meta.properties on ${host.name}: exit ${r.code}: ${scrub(r.stderr, 300)}`);
  if (tag === 'EMPTY') return 'empty';
  if (tag === 'NOMETA') return 'no meta.properties';
  const props = new Map(lines.filter((l) => !l.startsWith('#') && l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()]));
  return { nodeId: props.get('node.id') ?? props.get('broker.id') ?? null, clusterId: props.get('cluster.id') ?? null };
}

/**
 * The value of the record at topic-partition@offset, read with `kafka-console-consumer.sh` on the first broker
 * host that answers; null when the tool read nothing there within timeoutMs.
 */
async function readRecordAt(shell: HostShell, inv: Inventory, topic: string, partition: number, offset: string, timeoutMs: number): Promise<string | null> {
  const errors: string[] = [];
  // Bounded, so trying the next host never outlasts the activity.
  const deadline = Date.now() + timeoutMs + 90_000;
  for (const host of inv.hosts.filter((h) => h.roles.includes('broker'))) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const out = await runKafkaTool(
        shell,
        host,
        inv.bootstrapServers,
        undefined,
        'kafka-console-consumer.sh',
        // --consumer.config: the flag 3.x knows; 4.x still takes it.
        ['--topic', topic, '--partition', String(partition), '--offset', offset, '--max-messages', '1', '--timeout-ms', String(timeoutMs), ...(inv.client.toolCommandConfig ? ['--consumer.config', inv.client.toolCommandConfig] : [])],
        { timeoutMs: Math.min(left, timeoutMs + 60_000) },
      );
      const line = out.split('\n').find((l) => l.length > 0);
      return line ?? null;
    } catch (err) {
      errors.push(`${host.name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`canary: could not read ${topic}-${partition}@${offset} back from any broker host: ${errors.join('; ')}`);
}

/** `kafka-features.sh describe` → the finalized level of one feature, e.g. "3.9-IV0" or "27". */
export function finalizedLevel(describeOutput: string, feature: string): string | null {
  const line = describeOutput.split('\n').find((l) => new RegExp(`Feature:\\s*${feature.replace('.', '\\.')}\\b`).test(l));
  return line ? (/FinalizedVersionLevel:\s*(\S+)/.exec(line)?.[1] ?? null) : null;
}
