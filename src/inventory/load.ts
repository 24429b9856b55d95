import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { type ZodIssue } from 'zod';
import { type Inventory, type InventoryFile, inventorySchema } from './schema';

/** Thrown when an inventory cannot be used. The message names the file, every bad field and why. */
export class InventoryError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid inventory ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InventoryError';
  }
}

function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

function describeIssue(issue: ZodIssue): string {
  const where = formatPath(issue.path) || '(top level)';
  if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${where}: is required`;
  return `${where}: ${issue.message}`;
}

/** Parses and validates one inventory's text. Pure apart from nothing: the caller reads the file. */
export function parseInventory(source: string, text: string): Inventory {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new InventoryError(source, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) throw new InventoryError(source, parsed.error.issues.map(describeIssue));
  return resolveDefaults(parsed.data, source);
}

function resolveDefaults(file: InventoryFile, source: string): Inventory {
  const mm2 = file.backup?.mirrorMaker;
  return {
    ...(file.backup && mm2
      ? {
          backup: {
            cluster: file.backup.cluster,
            mirrorMaker: {
              // MM2 hosts reuse the host shape so SSH and command templates work on them as on brokers.
              hosts: mm2.hosts.map((h) => ({
                name: h.name,
                address: h.address,
                nodeId: null,
                roles: [],
                rack: null,
                ssh: { ...file.defaults.ssh, ...stripUndefined(h.ssh ?? {}) },
                kafka: {
                  ...file.defaults.kafka,
                  currentLink: mm2.kafkaHome,
                  configFile: mm2.configFile,
                  logDir: mm2.logDir,
                  pidFile: mm2.pidFile,
                  commands: { ...file.defaults.kafka.commands, ...mm2.commands },
                },
              })),
            },
          },
        }
      : {}),
    name: file.name,
    mode: file.mode,
    bootstrapServers: file.bootstrapServers,
    zookeeperConnect: file.zookeeperConnect ?? null,
    client: file.client,
    ...(file.approvals ? { approvals: file.approvals } : {}),
    ...(file.notifications ? { notifications: file.notifications } : {}),
    source,
    hosts: file.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      nodeId: h.nodeId ?? null,
      roles: h.roles,
      rack: h.rack ?? null,
      ssh: { ...file.defaults.ssh, ...stripUndefined(h.ssh ?? {}) },
      kafka: {
        ...file.defaults.kafka,
        ...stripUndefined({ ...(h.kafka ?? {}), commands: undefined }),
        commands: { ...file.defaults.kafka.commands, ...stripUndefined(h.kafka?.commands ?? {}) },
      },
    })),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Loads every *.yaml / *.yml inventory from the given files or directories. Cluster names must be unique. */
export function loadInventories(paths: string[]): Map<string, Inventory> {
  const files: string[] = [];
  for (const p of paths) {
    const abs = resolve(expandHome(p));
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      throw new InventoryError(abs, ['file or directory does not exist']);
    }
    if (isDir) {
      for (const f of readdirSync(abs).sort()) if (/\.ya?ml$/.test(f)) files.push(join(abs, f));
    } else files.push(abs);
  }
  const byName = new Map<string, Inventory>();
  for (const file of files) {
    const inv = parseInventory(file, readFileSync(file, 'utf8'));
    const other = byName.get(inv.name);
    if (other) throw new InventoryError(file, [`name: cluster "${inv.name}" is already defined in ${other.source}`]);
    byName.set(inv.name, inv);
  }
  for (const inv of byName.values()) {
    if (inv.backup && !byName.has(inv.backup.cluster)) throw new InventoryError(inv.source, [`backup.cluster: "${inv.backup.cluster}" is not a cluster of the inventory (${[...byName.keys()].join(', ')})`]);
  }
  return byName;
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}
