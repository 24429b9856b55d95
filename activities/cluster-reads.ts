import { Context } from '@temporalio/activity';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { scrub } from '../src/redact';
import { type ClusterMetadata, type ExpectedNode, type HostObservation, type QuorumObservation, type QuorumState, type TopicState } from '../src/model/cluster';
import { parseQuorumReplication, versionFromInstallPath } from '../src/kafka-tools/parse';
import { type RollingPreflight, rollingPreflight, type RollingRestartInput } from '../src/rolling';
import { type ClusterRegistry, expectedNodes, kafkaClient } from './clusters';
import { type HostShell } from './ssh';

export interface ClusterReadDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
}

export interface InventorySummary {
  cluster: string;
  mode: 'kraft' | 'zookeeper';
  expected: ExpectedNode[];
}

/** Read-only activities: what the cluster and its hosts look like now. */
export function createClusterReadActivities({ clusters, shell }: ClusterReadDeps) {
  /** KRaft quorum state via kafka-metadata-quorum.sh on the first host that answers (kafkajs lacks DescribeQuorum). */
  async function readQuorumState(cluster: string): Promise<QuorumState> {
    const inv = clusters.get(cluster);
    const candidates = inv.hosts.filter((h) => h.roles.includes('broker') || h.roles.includes('controller'));
    const errors: string[] = [];
    for (const host of candidates) {
      try {
        const out = await runKafkaTool(shell, host, inv.bootstrapServers, inv.client.toolCommandConfig, 'kafka-metadata-quorum.sh', ['describe', '--replication']);
        return parseQuorumReplication(out);
      } catch (err) {
        errors.push(`${host.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    throw new Error(`could not read the KRaft quorum from any host: ${errors.join('; ')}`);
  }

  return {
    /** The inventory's expectations, without secrets or host paths. */
    async describeInventory(cluster: string): Promise<InventorySummary> {
      const inv = clusters.get(cluster);
      return { cluster: inv.name, mode: inv.mode, expected: expectedNodes(inv) };
    },

    /** Brokers, topics with ISR and effective min ISR, and reassignments in flight, over the Kafka protocol. */
    async readClusterMetadata(cluster: string): Promise<ClusterMetadata> {
      return readMetadata(clusters.get(cluster));
    },

    readQuorumState,

    /** One static broker config as each registered broker reports it (describeConfigs; read-only). */
    async readBrokerConfig(cluster: string, configName: string): Promise<{ nodeId: number; value: string | null }[]> {
      const admin = kafkaClient(clusters.get(cluster)).admin();
      await admin.connect();
      try {
        const { brokers } = await admin.describeCluster();
        const described = await admin.describeConfigs({ includeSynonyms: false, resources: brokers.map((b) => ({ type: 4 /* BROKER */, name: String(b.nodeId), configNames: [configName] })) });
        return described.resources
          .map((r) => ({ nodeId: Number(r.resourceName), value: r.configEntries.find((e) => e.configName === configName)?.configValue ?? null }))
          .sort((a, b) => a.nodeId - b.nodeId);
      } finally {
        await admin.disconnect();
      }
    },

    /**
     * Partitions that still have a replica on any of these brokers: how many, and the first few by name.
     * The whole metadata stays on the worker.
     */
    async findReplicasOnBrokers(cluster: string, brokerIds: number[]): Promise<{ partitions: number; first: string[] }> {
      return replicasOnBrokers(await readMetadata(clusters.get(cluster)), brokerIds);
    },

    /** readQuorumState with the worker's clock at the answer, for a later guard to judge its age. */
    async observeQuorum(cluster: string): Promise<QuorumObservation> {
      const quorum = await readQuorumState(cluster);
      return { quorum, observedAtMs: Date.now() };
    },

    /**
     * A rolling restart's preflight on the worker: metadata, quorum and hosts read at once, the health
     * evaluated and the restart planned here. Returns the plan and the blocking findings, never the metadata.
     */
    async planRollingRestartFor(cluster: string, input: RollingRestartInput): Promise<RollingPreflight> {
      const inv = clusters.get(cluster);
      const [metadata, quorum, hosts] = await Promise.all([
        readMetadata(inv),
        inv.mode === 'kraft' ? readQuorumState(cluster).then((q): QuorumObservation => ({ quorum: q, observedAtMs: Date.now() })) : null,
        Promise.all(inv.hosts.map((h) => inspectHost(shell, h))),
      ]);
      return rollingPreflight(input, { mode: inv.mode, expected: expectedNodes(inv), metadata, quorum, hosts, checkedAt: new Date().toISOString() });
    },

    /** Per host over SSH: process running, version from the `current` link, disk use of the data dirs. */
    async inspectHosts(cluster: string): Promise<HostObservation[]> {
      const inv = clusters.get(cluster);
      return Promise.all(inv.hosts.map((h) => inspectHost(shell, h)));
    },
  };
}

/** Partitions with a replica on any of `brokerIds`: the count and the first five names. */
export function replicasOnBrokers(metadata: ClusterMetadata, brokerIds: number[]): { partitions: number; first: string[] } {
  const left = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.replicas.some((r) => brokerIds.includes(r))).map((p) => `${t.name}-${p.partition}`));
  return { partitions: left.length, first: left.slice(0, 5) };
}

/** Runs one of Kafka's CLI tools on a host, the way operators do. Throws with the end of the tool's output, scrubbed, on failure. */
export async function runKafkaTool(
  shell: HostShell,
  host: InventoryHost,
  bootstrapServers: string[],
  commandConfig: string | undefined,
  tool: string,
  args: string[],
  opts: { timeoutMs?: number; bootstrapFlag?: '--bootstrap-server' | '--bootstrap-controller' | null } = {},
): Promise<string> {
  const flag = opts.bootstrapFlag === undefined ? '--bootstrap-server' : opts.bootstrapFlag;
  const parts = [renderCommand(host.kafka.commands.tool, host, { tool })];
  if (flag) parts.push(flag, shellQuote(bootstrapServers.join(',')));
  if (commandConfig) parts.push('--command-config', shellQuote(commandConfig));
  parts.push(...args.map(shellQuote));
  const r = await shell.exec(host, parts.join(' '), { timeoutMs: opts.timeoutMs ?? 60_000 });
  if (r.code !== 0) throw new Error(`${tool} on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout)}`);
  return r.stdout;
}

async function inspectHost(shell: HostShell, host: InventoryHost): Promise<HostObservation> {
  const base: HostObservation = {
    host: host.name,
    nodeId: host.nodeId,
    roles: host.roles,
    reachable: false,
    error: null,
    processRunning: null,
    kafkaVersion: null,
    dataDirs: [],
  };
  const dirs = host.roles.some((r) => r === 'broker' || r === 'controller') ? host.kafka.dataDirs : [];
  const script = [
    `(${renderCommand(host.kafka.commands.status, host)}) >/dev/null 2>&1; echo "STATUS $?"`,
    `echo "CURRENT $(readlink -f ${shellQuote(host.kafka.currentLink)} 2>/dev/null)"`,
    ...dirs.map((d) => `echo "DU $(du -sb ${shellQuote(d)} 2>/dev/null | cut -f1) $(df -P ${shellQuote(d)} 2>/dev/null | awk 'NR==2{print $5}')"`),
  ].join('; ');
  try {
    Context.current().heartbeat(host.name);
  } catch {
    // outside an activity (tests calling directly): nothing to heartbeat
  }
  try {
    const r = await shell.exec(host, script, { timeoutMs: 30_000 });
    const lines = r.stdout.split('\n');
    const value = (tag: string) => lines.find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1).trim() ?? '';
    const du = lines.filter((l) => l.startsWith('DU '));
    return {
      ...base,
      reachable: true,
      processRunning: value('STATUS') === '0',
      kafkaVersion: versionFromInstallPath(value('CURRENT')),
      dataDirs: dirs.map((path, i) => {
        const [used, pct] = (du[i] ?? '').slice(3).trim().split(/\s+/);
        const usedBytes = used ? Number(used) : NaN;
        const percent = pct ? Number(pct.replace('%', '')) : NaN;
        return { path, usedBytes: Number.isFinite(usedBytes) ? usedBytes : null, filesystemUsedPercent: Number.isFinite(percent) ? percent : null };
      }),
    };
  } catch (err) {
    return { ...base, error: (err as Error).message };
  }
}

/** One read of the cluster's metadata over the Kafka protocol (kafkajs), as the runbooks' model. */
export async function readMetadata(inv: Inventory): Promise<ClusterMetadata> {
  const admin = kafkaClient(inv).admin();
  await admin.connect();
  try {
    const described = await admin.describeCluster();
    const names = await admin.listTopics();
    const meta = names.length > 0 ? await admin.fetchTopicMetadata({ topics: names }) : { topics: [] };
    const minIsr = new Map<string, number>();
    const rack = new Map<number, string | null>();
    const resources = [
      ...names.map((name) => ({ type: 2 /* TOPIC */, name, configNames: ['min.insync.replicas'] })),
      ...described.brokers.map((b) => ({ type: 4 /* BROKER */, name: String(b.nodeId), configNames: ['broker.rack'] })),
    ];
    if (resources.length > 0) {
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources });
      for (const r of configs.resources) {
        for (const e of r.configEntries) {
          if (r.resourceType === 2 && e.configName === 'min.insync.replicas') minIsr.set(r.resourceName, Number(e.configValue));
          if (r.resourceType === 4 && e.configName === 'broker.rack') rack.set(Number(r.resourceName), e.configValue || null);
        }
      }
    }
    const reassigning = await admin.listPartitionReassignments({});
    const topics: TopicState[] = meta.topics
      .map((t) => ({
        name: t.name,
        internal: t.name.startsWith('__'),
        minInsyncReplicas: minIsr.get(t.name) ?? 1,
        partitions: t.partitions
          .map((p) => ({
            topic: t.name,
            partition: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas ?? [],
          }))
          .sort((a, b) => a.partition - b.partition),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return {
      clusterId: described.clusterId ?? null,
      mode: inv.mode,
      // kafkajs reports a random broker as controller in KRaft: only trust it in ZooKeeper mode.
      controllerId: inv.mode === 'zookeeper' ? described.controller : null,
      brokers: described.brokers
        .map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: rack.get(b.nodeId) ?? null }))
        .sort((a, b) => a.id - b.id),
      topics,
      // kafkajs 2.2.4's types say {topic, partitionIndex}; at runtime it returns {name, partition}.
      reassignments: reassigning.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.topic ?? (t as unknown as { name: string }).name,
          partition: p.partitionIndex ?? (p as unknown as { partition: number }).partition,
          replicas: p.replicas,
          addingReplicas: p.addingReplicas ?? [],
          removingReplicas: p.removingReplicas ?? [],
        })),
      ),
      quorum: null,
    };
  } finally {
    await admin.disconnect();
  }
}
