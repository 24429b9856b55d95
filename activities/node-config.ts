import { createHash } from 'node:crypto';
import { invalidInput, unsafeToProceed } from '../src/errors';
import { shellQuote } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { scrub } from '../src/redact';
import { bumpProtocolVersion, carryOverServerProperties, type ConfigCarryOver, propertyValue } from '../src/rolling/config';
import { logInfo, type NodeActivityDeps, nodeHosts, stamp, tagged } from './node-hosts';
import { type HostShell } from './ssh';

export interface NodeConfigBackup {
  /** The copy on the host: `<configFile>.bak-<UTC stamp>`. */
  path: string;
  /** An identical backup was already there (a retry, or a config unchanged since the last run): no new copy. */
  reused: boolean;
}

export interface ConfigCarryOverResult {
  changed: boolean;
  changes: string[];
  warnings: string[];
}

const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The file's text, and the sha256 of its bytes to compare against before writing. */
export async function readServerProperties(shell: HostShell, host: InventoryHost): Promise<{ text: string; sha256: string }> {
  const r = await shell.exec(host, `base64 -w0 ${shellQuote(host.kafka.configFile)}`, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`cannot read ${host.kafka.configFile} on ${host.name}: ${scrub(r.stderr)}`);
  const bytes = Buffer.from(r.stdout.trim(), 'base64');
  return { text: bytes.toString('utf8'), sha256: sha256Hex(bytes) };
}

/**
 * Rewrites server.properties through a pure edit: refused (UnsafeToProceed) when the edit names problems;
 * written atomically, and only if the file did not change since it was read. The new contents travel on
 * the command's standard input, never on its command line (the file holds passwords; a command line shows
 * in `ps` on the host and in errors): the command carries only the two files' sha256.
 */
export async function editServerProperties(shell: HostShell, host: InventoryHost, edit: (text: string) => ConfigCarryOver, what: string): Promise<ConfigCarryOverResult> {
  const old = await readServerProperties(shell, host);
  const result = edit(old.text);
  if (result.problems.length > 0) throw unsafeToProceed(`config of ${host.name}: ${result.problems.join(' ')}`, { problems: result.problems });
  if (!result.changed) return { changed: false, changes: [], warnings: result.warnings };
  const script = [
    `cfg=${shellQuote(host.kafka.configFile)}`,
    'sum() { sha256sum < "$1" | cut -d" " -f1; }',
    `[ "$(sum "$cfg")" = ${old.sha256} ] || { echo "ERROR $cfg changed while it was being edited" >&2; exit 4; }`,
    'tmp="$cfg.tmp-$$"',
    'trap \'rm -f "$tmp"\' EXIT',
    'cat > "$tmp"',
    `[ "$(sum "$tmp")" = ${sha256Hex(Buffer.from(result.text, 'utf8'))} ] || { echo "ERROR the new $cfg arrived incomplete" >&2; exit 5; }`,
    'chmod --reference="$cfg" "$tmp"',
    'mv -f "$tmp" "$cfg"',
  ].join('\n');
  const w = await shell.exec(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, { timeoutMs: 60_000, stdin: result.text });
  if (w.code === 4) throw unsafeToProceed(`config of ${host.name}: ${scrub(w.stderr).replace(/^ERROR /, '')}`);
  if (w.code !== 0) throw new Error(`cannot write ${host.kafka.configFile} on ${host.name} (exit ${w.code}): ${scrub(w.stderr)}`);
  logInfo(what, { host: host.name, changes: result.changes });
  return { changed: true, changes: result.changes, warnings: result.warnings };
}

/** Backups, restores and edits of a node's server.properties, over SSH; the file's content stays on the worker. */
export function createNodeConfigActivities({ clusters, shell }: NodeActivityDeps) {
  const { kafkaHost, run } = nodeHosts({ clusters, shell });
  return {
    /** Copies the node's server.properties to `<configFile>.bak-<UTC stamp>` beside it, keeping mode and owner. */
    async backupNodeConfig(cluster: string, hostName: string): Promise<NodeConfigBackup> {
      const host = kafkaHost(cluster, hostName);
      const cfg = shellQuote(host.kafka.configFile);
      const script = [
        `cfg=${cfg}`,
        `[ -f "$cfg" ] || { echo "ERROR no config file $cfg" >&2; exit 3; }`,
        `latest="$(ls -1 "$cfg".bak-* 2>/dev/null | sort | tail -n 1 || true)"`,
        `if [ -n "$latest" ] && cmp -s "$cfg" "$latest"; then echo "REUSED $latest"; exit 0; fi`,
        `dst="$cfg.bak-${stamp(new Date())}"`,
        `if [ -e "$dst" ]; then dst="$dst-$$"; fi`,
        `cp -p "$cfg" "$dst.tmp"`,
        `mv -f "$dst.tmp" "$dst"`,
        `echo "BACKUP $dst"`,
      ].join('\n');
      const r = await run(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`);
      if (r.code === 3) throw invalidInput(`backup on ${host.name}: ${scrub(r.stderr)}`);
      if (r.code !== 0) throw new Error(`backup of ${host.kafka.configFile} on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr || r.stdout)}`);
      const reused = tagged(r.stdout, 'REUSED');
      const path = reused ?? tagged(r.stdout, 'BACKUP');
      if (!path) throw new Error(`backup on ${host.name} printed no path: ${scrub(r.stdout)}`);
      return { path, reused: reused !== null };
    },

    /** Puts a backup made by backupNodeConfig back in place (atomically). Only `<configFile>.bak-*` paths are accepted. */
    async restoreNodeConfig(cluster: string, hostName: string, backupPath: string): Promise<{ changed: boolean }> {
      const host = kafkaHost(cluster, hostName);
      if (!backupPath.startsWith(`${host.kafka.configFile}.bak-`) || backupPath.includes('/../')) {
        throw invalidInput(`${backupPath} is not a backup of ${host.kafka.configFile} made by backupNodeConfig`);
      }
      const script = [
        `cfg=${shellQuote(host.kafka.configFile)}`,
        `bak=${shellQuote(backupPath)}`,
        `[ -f "$bak" ] || { echo "ERROR no backup $bak" >&2; exit 3; }`,
        `if cmp -s "$bak" "$cfg"; then echo UNCHANGED; exit 0; fi`,
        `cp -p "$bak" "$cfg.tmp-$$"`,
        `mv -f "$cfg.tmp-$$" "$cfg"`,
        'echo RESTORED',
      ].join('\n');
      const r = await run(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`);
      if (r.code === 3) throw invalidInput(`restore on ${host.name}: ${scrub(r.stderr)}`);
      if (r.code !== 0) throw new Error(`restore of ${host.kafka.configFile} on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr || r.stdout)}`);
      return { changed: r.stdout.includes('RESTORED') };
    },

    /**
     * Applies carryOverServerProperties (src/rolling/config.ts) to the node's server.properties on the host.
     * The file's content never leaves the worker (it may hold passwords); only the list of changes does.
     * Idempotent: a second run finds the pin in place and changes nothing. Refuses (non-retryable) when the
     * rules say the version change must not happen, and when the file changed while it was being edited.
     */
    async carryOverNodeConfig(cluster: string, hostName: string, versions: { runningVersion: string; targetVersion: string }): Promise<ConfigCarryOverResult> {
      const inv = clusters.get(cluster);
      return editServerProperties(shell, kafkaHost(cluster, hostName), (text) => carryOverServerProperties(text, { mode: inv.mode, ...versions }), 'server.properties carried over');
    },

    /**
     * ZooKeeper-mode finalize on one broker: inter.broker.protocol.version set to the target's major.minor
     * (bumpProtocolVersion). Takes effect at the broker's next start. Idempotent.
     */
    async bumpNodeProtocolVersion(cluster: string, hostName: string, targetVersion: string): Promise<ConfigCarryOverResult> {
      if (clusters.get(cluster).mode !== 'zookeeper') throw invalidInput(`cluster ${cluster} is in KRaft mode: inter.broker.protocol.version is a ZooKeeper-mode setting`);
      return editServerProperties(shell, kafkaHost(cluster, hostName), (text) => bumpProtocolVersion(text, targetVersion), 'inter.broker.protocol.version bumped');
    },

    /** Per broker host, the inter.broker.protocol.version its server.properties sets (null: none) and whether the bump to `targetVersion` would change it. */
    async readProtocolVersionPins(cluster: string, targetVersion: string): Promise<{ host: string; pinned: string | null; needsBump: boolean; problems: string[] }[]> {
      const brokers = clusters.get(cluster).hosts.filter((h) => h.roles.includes('broker'));
      return Promise.all(
        brokers.map(async (host) => {
          const { text } = await readServerProperties(shell, host);
          const bump = bumpProtocolVersion(text, targetVersion);
          return { host: host.name, pinned: propertyValue(text, 'inter.broker.protocol.version'), needsBump: bump.changed, problems: bump.problems };
        }),
      );
    },
  };
}
