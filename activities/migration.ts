import { createHash } from 'node:crypto';
import { type Admin } from 'kafkajs';
import { invalidInput, unsafeToProceed } from '../src/errors';
import { quorumVoterStatus } from '../src/health/quorum';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { parseZkLs } from '../src/migration/znodes';
import { parseQuorumReplication } from '../src/kafka-tools/parse';
import {
  applyMigrationEdit,
  type ControllerEndpoint,
  type MetadataSnapshot,
  type MigrationConfigEdit,
  type MigrationGauges,
  type MigrationPreflightReadings,
  type NodeConfigSummary,
  type QuorumSpec,
  renderControllerConfig,
  SNAPSHOT_BUCKETS,
  SNAPSHOT_LIST_BUDGET_BYTES,
  summariseNodeConfig,
  ZkMigrationGauge,
  gaugeName,
} from '../src/migration';
import { type QuorumState } from '../src/model/cluster';
import { NodeWaitFailure } from '../src/rolling/failures';
import { scrub } from '../src/redact';
import { createClusterReadActivities, runKafkaTool } from './cluster-reads';
import { kafkaClient } from './clusters';
import { type ConfigCarryOverResult, editServerProperties, readServerProperties } from './node-config';
import { type NodeActivityDeps, nodeHosts, stamp } from './node-hosts';
import { pollUntil, waitTimedOut } from './poll';

/** The migration's hosts as the workflow sees them: names, ids and addresses, no paths or secrets. */
export interface MigrationHosts {
  brokers: { host: string; nodeId: number }[];
  controllers: (ControllerEndpoint & { host: string })[];
  zookeeperConnect: string | null;
}

export interface MigrationActivityDeps extends NodeActivityDeps {
  /** Reads the migration gauges of the active controller among these hosts (activities/jmx.ts). */
  readMigrationGauges?: (cluster: string, hostName: string) => Promise<MigrationGauges>;
}

/** What the active controller logs once it has copied the metadata (KRaftMigrationDriver, Kafka 3.4 to 3.9). */
export const MIGRATION_COMPLETED_LINE = 'Completed migration of metadata from ZooKeeper to KRaft';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

/** Activities of the ZooKeeper-to-KRaft migration that are not ZooKeeper's, JMX's or a controller's lifecycle. */
export function createMigrationActivities(deps: MigrationActivityDeps) {
  const { clusters, shell } = deps;
  const { kafkaHost } = nodeHosts(deps);
  const reads = createClusterReadActivities(deps);

  const controllerHosts = (cluster: string, refs: (string | number)[]): InventoryHost[] => {
    const inv = clusters.get(cluster);
    return refs.map((ref) => {
      const h = inv.hosts.find((x) => (typeof ref === 'number' ? x.nodeId === ref : x.name === ref));
      if (!h) throw invalidInput(`controllers: cluster "${cluster}" has no host ${typeof ref === 'number' ? `with node id ${ref}` : `"${ref}"`} in its inventory`);
      if (!h.roles.includes('controller')) throw invalidInput(`controllers: host "${h.name}" does not have the controller role in the inventory`);
      if (h.nodeId === undefined) throw invalidInput(`controllers: host "${h.name}" has no nodeId in the inventory`);
      return h;
    });
  };

  const readSummary = async (host: InventoryHost): Promise<NodeConfigSummary> => {
    const exists = await shell.exec(host, `test -f ${shellQuote(host.kafka.configFile)}`, { timeoutMs: 30_000 });
    if (exists.code === 1) return summariseNodeConfig(host.name, null);
    if (exists.code !== 0) throw new Error(`cannot check ${host.kafka.configFile} on ${host.name}: ${scrub(exists.stderr)}`);
    return summariseNodeConfig(host.name, (await readServerProperties(shell, host)).text);
  };

  async function describeQuorum(cluster: string, endpoints: string[], port: number): Promise<QuorumState> {
    const inv = clusters.get(cluster);
    const errors: string[] = [];
    for (const ref of endpoints) {
      const host = kafkaHost(cluster, ref);
      try {
        const out = await runKafkaTool(shell, host, [], inv.client.toolCommandConfig, 'kafka-metadata-quorum.sh', ['--bootstrap-controller', bootstrapOf(inv.hosts, endpoints, port), 'describe', '--replication'], { bootstrapFlag: null });
        return parseQuorumReplication(out);
      } catch (err) {
        errors.push(`${host.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    throw new Error(`no controller answered: ${errors.join('; ')}`);
  }
  const bootstrapOf = (hosts: InventoryHost[], names: string[], port: number) =>
    names
      .map((n) => hosts.find((h) => h.name === n))
      .filter((h): h is InventoryHost => h !== undefined)
      .map((h) => `${h.address}:${port}`)
      .join(',');

  /** The controller log's "Completed migration of metadata" line on this host (newest file first), or null. */
  const migrationCompletedLine = async (cluster: string, hostName: string): Promise<string | null> => {
    const host = kafkaHost(cluster, hostName);
    const r = await shell.exec(host, `for f in $(ls -1t ${shellQuote(host.kafka.logDir)}/server.log* 2>/dev/null | head -n 30); do grep -h -F ${shellQuote(MIGRATION_COMPLETED_LINE)} "$f" 2>/dev/null | tail -n 1 && break; done; true`, { timeoutMs: 60_000 });
    const line = r.stdout.split('\n').find((l) => l.includes(MIGRATION_COMPLETED_LINE));
    return line ? scrub(line).slice(0, 400) : null;
  };

  /** Children of /delegation_token/tokens (zookeeper-shell.sh over SSH); 0 when it does not exist; null when unreadable. */
  const tokensInZooKeeper = async (inv: Inventory): Promise<number | null> => {
    const host = inv.hosts.find((h) => h.roles.includes('zookeeper')) ?? inv.hosts.find((h) => h.roles.includes('broker'));
    if (!inv.zookeeperConnect || !host) return null;
    const zkShell = renderCommand(host.kafka.commands.tool, host, { tool: 'zookeeper-shell.sh' });
    // A ZooKeeper that does not answer makes the shell retry forever: bounded.
    const r = await shell.exec(host, `timeout 45 ${zkShell} ${shellQuote(inv.zookeeperConnect)} ls ${DELEGATION_TOKENS_ZNODE} 2>&1 </dev/null`, { timeoutMs: 60_000 }).catch(() => null);
    return r === null ? null : delegationTokensInZkLs(r.stdout);
  };

  return {
    /** The brokers of the inventory and the named controllers with their addresses; refuses a name that is not a controller. */
    async describeMigrationHosts(cluster: string, controllers: (string | number)[], port: number): Promise<MigrationHosts> {
      const inv = clusters.get(cluster);
      const ctl = controllerHosts(cluster, controllers);
      const brokers = inv.hosts.filter((h) => h.roles.includes('broker'));
      const missing = brokers.filter((b) => b.nodeId === undefined);
      if (missing.length > 0) throw invalidInput(`brokers ${missing.map((b) => b.name).join(', ')} have no nodeId in the inventory`);
      return {
        brokers: brokers.map((b) => ({ host: b.name, nodeId: b.nodeId as number })),
        controllers: ctl.map((c) => ({ host: c.name, nodeId: c.nodeId as number, address: c.address, port })),
        zookeeperConnect: inv.zookeeperConnect ?? null,
      };
    },

    /** What every broker's and controller's server.properties says, summarised on the worker (no values that could be secrets). */
    async readMigrationConfigs(cluster: string, controllers: string[]): Promise<{ brokers: NodeConfigSummary[]; controllers: NodeConfigSummary[] }> {
      const inv = clusters.get(cluster);
      const brokers = inv.hosts.filter((h) => h.roles.includes('broker'));
      return {
        brokers: await Promise.all(brokers.map(readSummary)),
        controllers: await Promise.all(controllers.map((c) => readSummary(kafkaHost(cluster, c)))),
      };
    },

    /** The readings preflight checks: versions, configs, health, assignments, SCRAM users and delegation tokens. */
    async readMigrationPreflight(cluster: string, controllers: string[]): Promise<MigrationPreflightReadings> {
      const inv = clusters.get(cluster);
      const brokerHosts = inv.hosts.filter((h) => h.roles.includes('broker'));
      const [metadata, observed, summaries] = await Promise.all([reads.readClusterMetadata(cluster), reads.inspectHosts(cluster), Promise.all(brokerHosts.map(readSummary))]);
      const registered = new Set(metadata.brokers.map((b) => b.id));
      const healthBlocking: string[] = [];
      const unregistered = brokerHosts.filter((b) => b.nodeId !== undefined && !registered.has(b.nodeId as number));
      if (unregistered.length > 0) healthBlocking.push(`brokers ${unregistered.map((b) => b.name).join(', ')} are not registered`);
      const offline = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.leader === null || p.leader < 0).map((p) => `${t.name}-${p.partition}`));
      if (offline.length > 0) healthBlocking.push(`${offline.length} partition(s) offline (${offline.slice(0, 5).join(', ')})`);
      const underMin = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.isr.length < t.minInsyncReplicas).map((p) => `${t.name}-${p.partition}`));
      if (underMin.length > 0) healthBlocking.push(`${underMin.length} partition(s) under min ISR (${underMin.slice(0, 5).join(', ')})`);
      /** The tool's output from the first broker that runs it, else the last failure (scrubbed). */
      const tool = async (name: string, args: string[]): Promise<{ out: string } | { error: string }> => {
        let error = 'no broker host';
        for (const host of brokerHosts) {
          try {
            return { out: await runKafkaTool(shell, host, inv.bootstrapServers, inv.client.toolCommandConfig, name, args) };
          } catch (err) {
            error = (err as Error).message;
          }
        }
        return { error };
      };
      const users = await tool('kafka-configs.sh', ['--describe', '--entity-type', 'users']);
      const scramUsers = 'out' in users ? parseScramUsers(users.out) : null;
      // ZooKeeper holds every token whoever owns it, and answers on any listener; the tool (over the Kafka
      // protocol) only as the fallback: it refuses PLAINTEXT connections and shows only its principal's tokens.
      // Its output holds each token's HMAC (its secret): only the count leaves this function.
      const delegationTokens = (await tokensInZooKeeper(inv)) ?? countDelegationTokens(await tool('kafka-delegation-tokens.sh', ['--describe']));
      return {
        brokers: brokerHosts.map((h, i) => ({ host: h.name, nodeId: h.nodeId as number, kafkaVersion: observed.find((o) => o.host === h.name)?.kafkaVersion ?? null, config: summaries[i] as NodeConfigSummary })),
        controllers: controllerHosts(cluster, controllers).map((c) => ({ host: c.name, nodeId: c.nodeId as number })),
        healthBlocking,
        reassignmentsInFlight: metadata.reassignments.length,
        assignedBrokerIds: [...new Set(metadata.topics.flatMap((t) => t.partitions.flatMap((p) => p.replicas)))],
        scramUsers,
        delegationTokens,
      };
    },

    /**
     * Writes a new controller's server.properties for the migration, rendered on the worker from the quorum and
     * a broker's config (its zookeeper.* settings, which may hold secrets, never leave the worker). Idempotent.
     */
    async writeMigrationControllerConfig(cluster: string, hostName: string, quorum: QuorumSpec, metadataDir?: string | null): Promise<ConfigCarryOverResult> {
      const inv = clusters.get(cluster);
      const host = kafkaHost(cluster, hostName);
      const broker = inv.hosts.find((h) => h.roles.includes('broker'));
      if (!broker) throw invalidInput(`cluster "${cluster}" has no broker to copy the ZooKeeper settings from`);
      const brokerText = (await readServerProperties(shell, broker)).text;
      // Absent from the input: this host's first inventory data dir (hosts may lay out their dirs differently).
      const rendered = renderControllerConfig({ nodeId: host.nodeId as number, address: host.address, metadataDir: metadataDir ?? (host.kafka.dataDirs[0] as string), quorum, brokerText });
      if (rendered.problems.length > 0) throw unsafeToProceed(`controller config for ${hostName}: ${rendered.problems.join(' ')}`);
      await shell.exec(host, `mkdir -p "$(dirname ${shellQuote(host.kafka.configFile)})" && touch ${shellQuote(host.kafka.configFile)}`, { timeoutMs: 30_000 });
      return editServerProperties(shell, host, (old) => ({ ...rendered, changed: old !== rendered.text, text: rendered.text }), 'migration controller config written');
    },

    /**
     * Rollback: a deprovisioned controller's server.properties moved aside to `<configFile>.bak-<stamp>` (a
     * backup restoreNodeConfig accepts), so the host no longer reads as a provisioned controller. Idempotent.
     */
    async retireMigrationControllerConfig(cluster: string, hostName: string): Promise<{ movedTo: string | null }> {
      const host = kafkaHost(cluster, hostName);
      const cfg = shellQuote(host.kafka.configFile);
      const dst = `${host.kafka.configFile}.bak-${stamp(new Date())}-retired`;
      const r = await shell.exec(host, `bash -c ${shellQuote(`set -eu\ncfg=${cfg}\n[ -f "$cfg" ] || { echo ABSENT; exit 0; }\nmv -f "$cfg" ${shellQuote(dst)}\necho MOVED`)}`, { timeoutMs: 60_000 });
      if (r.code !== 0) throw new Error(`cannot move ${host.kafka.configFile} aside on ${host.name}: ${scrub(r.stderr)}`);
      return { movedTo: r.stdout.includes('MOVED') ? dst : null };
    },

    /** One phase's server.properties edit on a node (src/migration/config.ts); idempotent, refused when the edit names problems. */
    async editMigrationConfig(cluster: string, hostName: string, edit: MigrationConfigEdit): Promise<ConfigCarryOverResult> {
      const zk = clusters.get(cluster).zookeeperConnect ?? null;
      return editServerProperties(shell, kafkaHost(cluster, hostName), (text) => applyMigrationEdit(text, edit, zk), `migration config: ${edit.kind}`);
    },

    /**
     * A fingerprint of the metadata the migration must carry over: per topic its partitions, replica
     * assignments and non-default configs; per ACL binding its fields. The metadata itself stays on the worker.
     */
    async snapshotMigrationMetadata(cluster: string, ignoreTopics: string[] = []): Promise<MetadataSnapshot & { topicCount: number; aclCount: number }> {
      const admin = kafkaClient(clusters.get(cluster)).admin();
      await admin.connect();
      try {
        return foldIfLarge(await snapshot(admin, ignoreTopics), SNAPSHOT_LIST_BUDGET_BYTES);
      } finally {
        await admin.disconnect();
      }
    },

    /** Waits until the KRaft quorum of these controllers has a leader and every voter is caught up (kafka-metadata-quorum.sh --bootstrap-controller). */
    async waitForControllerQuorum(cluster: string, controllers: string[], port: number, timeoutMs: number): Promise<{ leaderId: number; elapsedMs: number }> {
      const { value, elapsedMs } = await pollUntil<QuorumState | null>(
        { waitingFor: 'controller quorum', controllers },
        timeoutMs,
        deps.pollIntervalMs ?? 1000,
        async () => {
          const q = await describeQuorum(cluster, controllers, port);
          const voters = quorumVoterStatus(q);
          return { done: q.leaderId >= 0 && voters.length === controllers.length && voters.every((v) => v.caughtUp), value: q };
        },
        (last, err, ms) =>
          waitTimedOut(
            NodeWaitFailure.QuorumCatchUpTimeout,
            `the controller quorum is not ready after ${Math.round(ms / 1000)} s: ${last ? (last.leaderId < 0 ? 'no leader' : `voters not caught up: ${quorumVoterStatus(last).filter((v) => !v.caughtUp).map((v) => v.nodeId).join(', ') || 'some voters missing'}`) : (err ?? 'no answer')}`,
            { elapsedMs: ms },
          ),
      );
      return { leaderId: (value as QuorumState).leaderId, elapsedMs };
    },

    /**
     * Waits until the metadata migration has completed by both of Kafka's signs: a controller reports
     * ZkMigrationState MIGRATION, and a controller's log has "Completed migration of metadata from ZooKeeper to
     * KRaft" (returned, for the report).
     */
    async waitForMetadataMigrated(cluster: string, controllers: string[], timeoutMs: number): Promise<MigrationGauges & { logLine: string; elapsedMs: number }> {
      const read = deps.readMigrationGauges;
      if (!read) throw new Error('this worker cannot read the migration gauges (no JMX reader configured)');
      type Seen = { gauges: MigrationGauges | null; logLine: string | null };
      const { value, elapsedMs } = await pollUntil<Seen>(
        { waitingFor: 'metadata migration', controllers },
        timeoutMs,
        deps.pollIntervalMs ?? 1000,
        async () => {
          let gauges: MigrationGauges | null = null;
          for (const c of controllers) {
            gauges = await read(cluster, c).catch(() => null);
            if (gauges && gauges.zkMigrationState !== null) break;
          }
          let logLine: string | null = null;
          if (gauges?.zkMigrationState === ZkMigrationGauge.MIGRATION) {
            for (const c of controllers) if ((logLine = await migrationCompletedLine(cluster, c).catch(() => null)) !== null) break;
          }
          return { done: logLine !== null, value: { gauges, logLine }, progress: { zkMigrationState: gauges?.zkMigrationState ?? null, logLine: logLine !== null } };
        },
        (last, err, ms) =>
          waitTimedOut(
            NodeWaitFailure.QuorumCatchUpTimeout,
            `the metadata migration has not completed after ${Math.round(ms / 1000)} s: ZkMigrationState is ${gaugeName(last?.gauges?.zkMigrationState ?? null)}` +
              `${last?.gauges?.zkMigrationState === ZkMigrationGauge.MIGRATION ? `, but no controller log has "${MIGRATION_COMPLETED_LINE}"` : ''}${err ? ` (${err})` : ''}`,
            { elapsedMs: ms },
          ),
      );
      return { ...(value.gauges as MigrationGauges), logLine: value.logLine as string, elapsedMs };
    },

    /** Waits until the active controller reports ZkMigrationState `wanted` (1 MIGRATION once the metadata is copied; 3 POST_MIGRATION after the finalize). */
    async waitForZkMigrationState(cluster: string, controllers: string[], wanted: number, timeoutMs: number): Promise<MigrationGauges & { elapsedMs: number }> {
      const read = deps.readMigrationGauges;
      if (!read) throw new Error('this worker cannot read the migration gauges (no JMX reader configured)');
      const { value, elapsedMs } = await pollUntil<MigrationGauges | null>(
        { waitingFor: 'ZkMigrationState', wanted },
        timeoutMs,
        deps.pollIntervalMs ?? 1000,
        async () => {
          for (const c of controllers) {
            const g = await read(cluster, c).catch(() => null);
            if (g && g.zkMigrationState !== null) return { done: g.zkMigrationState === wanted, value: g, progress: { zkMigrationState: g.zkMigrationState } };
          }
          return { done: false, value: null };
        },
        (last, err, ms) => waitTimedOut(NodeWaitFailure.QuorumCatchUpTimeout, `ZkMigrationState is ${gaugeName(last?.zkMigrationState ?? null)} after ${Math.round(ms / 1000)} s, waiting for ${gaugeName(wanted)}${err ? ` (${err})` : ''}`, { elapsedMs: ms }),
      );
      return { ...(value as MigrationGauges), elapsedMs };
    },
  };
}

/**
 * A snapshot whose lists would weigh more than `budget` bytes in workflow history, folded: each topic's
 * fingerprint into one of SNAPSHOT_BUCKETS buckets by its name's hash, the ACLs into one hash.
 */
export function foldIfLarge<T extends MetadataSnapshot>(s: T, budget: number): T {
  const size = Object.entries(s.topics).reduce((n, [k, v]) => n + k.length + v.length + 6, 0) + s.acls.reduce((n, a) => n + a.length + 3, 0);
  if (size <= budget) return s;
  const lines: string[][] = Array.from({ length: SNAPSHOT_BUCKETS }, () => []);
  for (const [name, fp] of Object.entries(s.topics)) lines[parseInt(sha(name).slice(0, 4), 16) % SNAPSHOT_BUCKETS]?.push(`${name}=${fp}`);
  return { ...s, topics: {}, acls: [], buckets: { topics: lines.map((l) => sha(l.sort().join('\n'))), acls: sha([...s.acls].sort().join('\n')) } };
}

async function snapshot(admin: Admin, ignoreTopics: string[]): Promise<MetadataSnapshot & { topicCount: number; aclCount: number }> {
  const skip = new Set(ignoreTopics);
  const names = (await admin.listTopics()).filter((t) => !t.startsWith('__') && !skip.has(t)).sort();
  const md = await admin.fetchTopicMetadata({ topics: names });
  const configs =
    names.length === 0
      ? { resources: [] }
      : await admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: 2 /* TOPIC */, name })) });
  const topics: Record<string, string> = {};
  for (const t of md.topics) {
    const parts = [...t.partitions].sort((a, b) => a.partitionId - b.partitionId).map((p) => `${p.partitionId}:${p.replicas.join(',')}`);
    const cfg = configs.resources.find((r) => r.resourceName === t.name)?.configEntries.filter((e) => !e.isDefault && (e as { configSource?: number }).configSource === 1).map((e) => `${e.configName}=${e.configValue}`).sort() ?? [];
    topics[t.name] = sha(JSON.stringify({ parts, cfg }));
  }
  let acls: string[] = [];
  let aclsUnavailable: string | null = null;
  try {
    const r = await admin.describeAcls({ resourceType: 1 /* ANY */, resourcePatternType: 1 /* ANY */, operation: 1 /* ANY */, permissionType: 1 /* ANY */ });
    acls = r.resources.flatMap((res) => res.acls.map((a) => sha(JSON.stringify([res.resourceType, res.resourceName, res.resourcePatternType, a.principal, a.host, a.operation, a.permissionType])))).sort();
  } catch (err) {
    aclsUnavailable = scrub((err as Error).message.split('\n')[0] ?? 'unreadable', 200);
  }
  return { topics, acls, aclsUnavailable, topicCount: names.length, aclCount: acls.length };
}

/** Users with SCRAM credentials in `kafka-configs.sh --describe --entity-type users` output (first 10). */
export function parseScramUsers(out: string): string[] {
  return [...new Set([...out.matchAll(/^SCRAM credential configs for user-principal '([^']+)'/gm)].map((m) => m[1] as string))].slice(0, 10);
}

export const DELEGATION_TOKENS_ZNODE = '/delegation_token/tokens';

/** Tokens in `zookeeper-shell.sh ls /delegation_token/tokens` output: 0 when the znode does not exist, null when unreadable. */
export function delegationTokensInZkLs(out: string): number | null {
  if (new RegExp(`^Node does not exist: ${DELEGATION_TOKENS_ZNODE}\\s*$`, 'm').test(out)) return 0;
  try {
    return parseZkLs(out, DELEGATION_TOKENS_ZNODE).length;
  } catch {
    return null;
  }
}

/**
 * Delegation tokens in `kafka-delegation-tokens.sh --describe` output ("Total number of tokens : N"); 0 when the
 * brokers answer that the feature is disabled (then none can exist); null when the tool could not tell.
 */
export function countDelegationTokens(r: { out: string } | { error: string }): number | null {
  if ('error' in r) return /DelegationTokenDisabledException|Delegation Token feature is not enabled|delegation token (?:feature|support) is (?:disabled|not enabled)/i.test(r.error) ? 0 : null;
  const total = /Total number of tokens\s*:\s*(\d+)/i.exec(r.out);
  return total ? Number(total[1]) : null;
}

export type MigrationActivities = ReturnType<typeof createMigrationActivities>;
export { ZkMigrationGauge };
