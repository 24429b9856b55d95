import { invalidInput, unsafeToProceed } from '../src/errors';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { configuredDirs, type DirListing, formatDecision, KAFKA_CLUSTER_ID, processRoles, storageFormatArgs, wipeRefusal } from '../src/migration/controller-storage';
import { scrub } from '../src/redact';
import { type ClusterRegistry } from './clusters';
import { readServerProperties } from './node-config';
import { logInfo } from './node-hosts';
import { isKafkaRunning } from './node-status';
import { type HostShell } from './ssh';

export interface ControllerActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
}

export interface ControllerStorageResult {
  host: string;
  dirs: string[];
  /** False when every dir already held this cluster's and node's meta.properties: nothing was run. */
  formatted: boolean;
  output: string;
}

export interface ControllerWipeResult {
  host: string;
  /** Per dir, the entries removed (none when it was empty or absent). */
  wiped: { dir: string; removed: string[] }[];
}

const LIST_MARK = '=== DIR ';

/**
 * A KRaft controller's storage for the migration: format its metadata dirs with the ZooKeeper cluster's id,
 * and (rollback) wipe them. Both refuse anything that is not this controller's own metadata dir.
 */
export function createControllerActivities({ clusters, shell }: ControllerActivityDeps) {
  const controllerHost = (cluster: string, hostName: string): InventoryHost & { nodeId: number } => {
    const host = clusters.host(cluster, hostName);
    if (!host.roles.includes('controller') || host.roles.includes('broker')) {
      throw invalidInput(`host "${hostName}" of cluster "${cluster}" is not a controller-only host (roles: ${host.roles.join(', ')}): the migration formats and wipes only dedicated controllers`);
    }
    if (host.nodeId === null) throw invalidInput(`host "${hostName}" of cluster "${cluster}" has no nodeId in the inventory`);
    return host as InventoryHost & { nodeId: number };
  };

  /** The config's text, or null when the host has no config file yet. */
  const readConfig = async (host: InventoryHost): Promise<string | null> => {
    const exists = await shell.exec(host, `test -f ${shellQuote(host.kafka.configFile)}`, { timeoutMs: 30_000 });
    if (exists.code === 1) return null;
    if (exists.code !== 0) throw new Error(`cannot check ${host.kafka.configFile} on ${host.name}: ${scrub(exists.stderr, 300)}`);
    return (await readServerProperties(shell, host)).text;
  };

  /** Each dir: whether it exists, its entries and its meta.properties, in one SSH command. */
  const listDirs = async (host: InventoryHost, dirs: string[]): Promise<DirListing[]> => {
    const script = dirs
      .map((d) => {
        const q = shellQuote(d);
        return `echo ${shellQuote(`${LIST_MARK}${d}`)}; if [ -d ${q} ]; then echo EXISTS; ls -1A ${q} | sed 's/^/ENTRY /'; if [ -f ${q}/meta.properties ]; then sed 's/^/META /' ${q}/meta.properties; fi; fi`;
      })
      .join('\n');
    const r = await shell.exec(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`cannot list the metadata dirs on ${host.name} (exit ${r.code}): ${scrub(r.stderr, 300)}`);
    return r.stdout
      .split(LIST_MARK)
      .slice(1)
      .map((block) => {
        const [dir, ...lines] = block.split('\n');
        const meta = lines.filter((l) => l.startsWith('META ')).map((l) => l.slice(5));
        return {
          dir: dir as string,
          exists: lines.includes('EXISTS'),
          entries: lines.filter((l) => l.startsWith('ENTRY ')).map((l) => l.slice(6)),
          meta: meta.length > 0 ? meta.join('\n') : null,
        };
      });
  };

  return {
    /**
     * Formats the controller's metadata dirs (those its server.properties names) with `clusterId`, the id read
     * from ZooKeeper's /cluster/id, never a new one: `kafka-storage.sh format --cluster-id=<id> -c <config>`.
     * Idempotent: dirs already formatted for this cluster and node are left as they are. Refuses (unsafe)
     * dirs formatted for another cluster or node, a non-empty unformatted dir, a running node, a config that
     * is not a controller's.
     */
    async formatControllerStorage(cluster: string, hostName: string, clusterId: string): Promise<ControllerStorageResult> {
      if (!KAFKA_CLUSTER_ID.test(clusterId)) throw invalidInput(`clusterId "${clusterId.slice(0, 40)}" is not a Kafka cluster id (22 URL-safe base64 characters)`);
      const host = controllerHost(cluster, hostName);
      const config = await readConfig(host);
      if (config === null) throw invalidInput(`${host.name} has no ${host.kafka.configFile}: write the controller's config before formatting`);
      if (processRoles(config) !== 'controller') throw unsafeToProceed(`${host.kafka.configFile} on ${host.name} has process.roles=${processRoles(config) ?? '(none)'}, not controller: not formatting`);
      const dirs = configuredDirs(config);
      if (dirs.length === 0) throw invalidInput(`${host.kafka.configFile} on ${host.name} names no log.dirs or metadata.log.dir`);
      const decision = formatDecision(await listDirs(host, dirs), clusterId, host.nodeId);
      if (decision.problems.length > 0) throw unsafeToProceed(`not formatting ${host.name}: ${decision.problems.join('; ')}`, { problems: decision.problems });
      if (decision.action === 'formatted') return { host: host.name, dirs, formatted: false, output: '' };
      if (await isKafkaRunning(shell, host)) throw unsafeToProceed(`not formatting ${host.name}: Kafka runs there with unformatted metadata dirs`);
      // --ignore-formatted: a dir formatted by an earlier attempt (checked above to be ours) is skipped.
      const args = storageFormatArgs(clusterId, host.kafka.configFile);
      const r = await shell.exec(host, `${renderCommand(host.kafka.commands.tool, host, { tool: 'kafka-storage.sh' })} ${args.map(shellQuote).join(' ')}`, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`kafka-storage.sh format on ${host.name} failed (exit ${r.code}): ${scrub((r.stderr || r.stdout).trim().split('\n').slice(-3).join(' '), 300)}`);
      const after = formatDecision(await listDirs(host, dirs), clusterId, host.nodeId);
      if (after.action !== 'formatted' || after.problems.length > 0) throw new Error(`kafka-storage.sh format on ${host.name} left dirs unformatted: ${after.problems.join('; ') || dirs.join(', ')}`);
      logInfo('controller storage formatted', { host: host.name, clusterId, dirs });
      return { host: host.name, dirs, formatted: true, output: scrub(r.stdout.trim(), 500) };
    },

    /**
     * Rollback: empties a stopped controller's metadata dirs (those its config names, else the inventory's
     * dataDirs). Refuses a running node, and any dir that holds something other than a controller's metadata
     * (a topic partition, another node's meta.properties, no meta.properties). Idempotent.
     */
    async wipeControllerMetadata(cluster: string, hostName: string): Promise<ControllerWipeResult> {
      const host = controllerHost(cluster, hostName);
      if (await isKafkaRunning(shell, host)) throw unsafeToProceed(`not wiping ${host.name}: Kafka still runs there; stop it first`);
      const config = await readConfig(host);
      if (config !== null && processRoles(config) !== 'controller') throw unsafeToProceed(`not wiping ${host.name}: its config has process.roles=${processRoles(config) ?? '(none)'}, not controller`);
      const dirs = config === null ? host.kafka.dataDirs : configuredDirs(config);
      const listings = await listDirs(host, dirs);
      const refusals = listings.map((l) => wipeRefusal(l, host.nodeId)).filter((p): p is string => p !== null);
      if (refusals.length > 0) throw unsafeToProceed(`not wiping ${host.name}: ${refusals.join('; ')}`, { refusals });
      const wiped: ControllerWipeResult['wiped'] = [];
      for (const l of listings) {
        if (l.entries.length === 0) {
          wiped.push({ dir: l.dir, removed: [] });
          continue;
        }
        // Only the entries just checked; the status is checked again right before, on the host.
        const script = [
          `if ( ${renderCommand(host.kafka.commands.status, host)} ) >/dev/null 2>&1; then echo "ERROR Kafka started on ${host.name} meanwhile" >&2; exit 4; fi`,
          `cd ${shellQuote(l.dir)}`,
          `rm -rf -- ${l.entries.map(shellQuote).join(' ')}`,
        ].join('\n');
        const r = await shell.exec(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, { timeoutMs: 120_000 });
        if (r.code === 4) throw unsafeToProceed(`not wiping ${host.name}: ${scrub(r.stderr, 300).replace(/^ERROR /, '')}`);
        if (r.code !== 0) throw new Error(`wiping ${l.dir} on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr, 300)}`);
        wiped.push({ dir: l.dir, removed: l.entries });
      }
      logInfo('controller metadata wiped', { host: host.name, dirs: wiped.map((w) => w.dir) });
      return { host: host.name, wiped };
    },
  };
}

export type ControllerActivities = ReturnType<typeof createControllerActivities>;
