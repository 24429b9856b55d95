import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { shellQuote } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { type ClusterRegistry } from './clusters';
import { type HostShell } from './ssh';

/**
 * Where big plans live while a run executes them: files of JSON lines on a few of the cluster's own hosts,
 * written over SSH. Any worker with the inventory finds them (a restarted worker, or a second one), and no
 * workflow history carries them. The store moves bytes only; what a line means and whether it is the plan
 * the run approved is checked by the caller (activities/reassignment-plan.ts).
 */
export interface PlanStore {
  /**
   * Writes `lines` as the file `key` on up to `copies` hosts, hosts of the nodes in `avoidNodeIds` last, only `onlyHosts` when given, and reads each
   * copy's sha256 back on its host. Returns the hosts that hold a verified copy; throws when none does.
   */
  save(cluster: string, key: string, lines: string[], opts?: { copies?: number; avoidNodeIds?: number[]; onlyHosts?: string[] }): Promise<string[]>;
  /**
   * Lines of the file `key` on one host (0-based line numbers), in the order asked; null when the host has
   * no such file. Throws when the host does not answer. A line past the end comes back as null.
   */
  readLines(cluster: string, host: string, key: string, lineNumbers: number[]): Promise<(string | null)[] | null>;
  /** Removes the file `key` and the files `key-*` from these hosts; a host that does not answer keeps them (harmless there). */
  remove(cluster: string, hosts: string[], key: string): Promise<void>;
}

const DEFAULT_COPIES = 3;
const KEY = /^[a-z0-9][a-z0-9._-]*$/;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The plans directory of a host: beside its server.properties, where config backups already go (a directory the runbooks may write to). */
export function planDirOf(host: InventoryHost): string {
  return posix.join(posix.dirname(host.kafka.configFile), 'kafka-runbooks-plans');
}

/** A PlanStore on the cluster's broker hosts (then controller hosts), over SSH. */
export function createHostPlanStore({ clusters, shell }: { clusters: ClusterRegistry; shell: HostShell }): PlanStore {
  const hostOf = (cluster: string, name: string): InventoryHost => {
    const h = clusters.get(cluster).hosts.find((x) => x.name === name);
    if (!h) throw new Error(`cluster "${cluster}" has no host "${name}" in the inventory`);
    return h;
  };
  const fileOf = (host: InventoryHost, key: string): string => {
    if (!KEY.test(key)) throw new Error(`bad plan key "${key}"`);
    return posix.join(planDirOf(host), `${key}.jsonl`);
  };
  return {
    async save(cluster, key, lines, opts = {}) {
      const inv = clusters.get(cluster);
      const avoided = (h: InventoryHost) => h.nodeId !== undefined && h.nodeId !== null && (opts.avoidNodeIds ?? []).includes(h.nodeId);
      const kafkaHosts = [...inv.hosts.filter((h) => h.roles.includes('broker')), ...inv.hosts.filter((h) => !h.roles.includes('broker') && h.roles.includes('controller'))];
      const allowed = opts.onlyHosts ? kafkaHosts.filter((h) => opts.onlyHosts?.includes(h.name)) : kafkaHosts;
      const candidates = [...allowed.filter((h) => !avoided(h)), ...allowed.filter(avoided)];
      const content = `${lines.join('\n')}\n`;
      const expected = sha256(content);
      const saved: string[] = [];
      const errors: string[] = [];
      for (const host of candidates) {
        if (saved.length >= (opts.copies ?? DEFAULT_COPIES)) break;
        const file = fileOf(host, key);
        const script = [
          `f=${shellQuote(file)}`,
          'umask 077',
          'mkdir -p "$(dirname "$f")"',
          'cat > "$f.tmp-$$"',
          'mv -f "$f.tmp-$$" "$f"',
          'sha256sum "$f" | cut -d" " -f1',
        ].join('\n');
        try {
          const r = await shell.exec(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, { timeoutMs: 120_000, stdin: content });
          const got = r.stdout.trim();
          if (r.code === 0 && got === expected) saved.push(host.name);
          else errors.push(`${host.name}: ${r.code === 0 ? `read back sha256 ${got.slice(0, 12)}, wrote ${expected.slice(0, 12)}` : `exit ${r.code}: ${r.stderr.trim().slice(-200)}`}`);
        } catch (err) {
          errors.push(`${host.name}: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      if (saved.length === 0) throw new Error(`could not store plan ${key} on any host of cluster "${cluster}": ${errors.join('; ')}`);
      return saved;
    },

    async readLines(cluster, hostName, key, lineNumbers) {
      const host = hostOf(cluster, hostName);
      const file = fileOf(host, key);
      const wanted = [...new Set(lineNumbers)].sort((a, b) => a - b);
      // One tagged line out per line asked, so a missing line is told apart from an empty one.
      const awk = `awk ${shellQuote(`BEGIN{split("${wanted.map((n) => n + 1).join(' ')}",w," "); for(i in w) want[w[i]]=1} (NR in want){print NR-1 "\\t" $0}`)} "$f"`;
      const script = [`f=${shellQuote(file)}`, '[ -f "$f" ] || { echo MISSING; exit 0; }', awk].join('\n');
      const r = await shell.exec(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`reading plan ${key} on ${host.name} failed (exit ${r.code}): ${r.stderr.trim().slice(-200)}`);
      if (r.stdout.trim() === 'MISSING') return null;
      const found = new Map<number, string>();
      for (const line of r.stdout.split('\n')) {
        const tab = line.indexOf('\t');
        if (tab > 0) found.set(Number(line.slice(0, tab)), line.slice(tab + 1));
      }
      return lineNumbers.map((n) => found.get(n) ?? null);
    },

    async remove(cluster, hosts, key) {
      for (const name of hosts) {
        const host = hostOf(cluster, name);
        const file = fileOf(host, key);
        await shell.exec(host, `rm -f ${shellQuote(file)} ${shellQuote(file.replace(/\.jsonl$/, ''))}-*.jsonl`, { timeoutMs: 30_000 }).catch(() => undefined);
      }
    },
  };
}
