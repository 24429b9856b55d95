/**
 * What a KRaft controller's metadata dirs hold and whether the migration may format or wipe them. Pure;
 * the layout was recorded on a 3.9.2 lab (test/fixtures/migration/1-controllers-provisioned). Workflow-safe.
 */
import { normaliseDataDir } from '../inventory/schema';

/** The dirs a node's config gives Kafka: metadata.log.dir (if set) and every log.dirs / log.dir entry. */
export function configuredDirs(configText: string): string[] {
  const props = new Map<string, string>();
  for (const line of configText.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('!')) continue;
    const i = t.search(/[=:]/);
    if (i > 0) props.set(t.slice(0, i).trim(), t.slice(i + 1).trim());
  }
  const dirs = [props.get('metadata.log.dir'), ...(props.get('log.dirs') ?? props.get('log.dir') ?? '').split(',')].map((d) => d?.trim()).filter((d): d is string => !!d);
  return [...new Set(dirs)];
}

export function processRoles(configText: string): string | null {
  const m = /^\s*process\.roles\s*[=:]\s*(.*?)\s*$/m.exec(configText);
  return m ? (m[1] as string) : null;
}

/** meta.properties (`node.id`, `cluster.id`, `version`, `directory.id`). */
export function parseMetaProperties(text: string): { clusterId: string | null; nodeId: number | null } {
  const get = (k: string) => new RegExp(`^${k.replace('.', '\\.')}=(.*)$`, 'm').exec(text)?.[1]?.trim() ?? null;
  const node = get('node.id');
  return { clusterId: get('cluster.id'), nodeId: node !== null && /^\d+$/.test(node) ? Number(node) : null };
}

/** What a controller's metadata dir may hold; anything else (a topic's partition dir) means it is not one. */
export const CONTROLLER_DIR_ENTRIES = new Set([
  'meta.properties',
  'bootstrap.checkpoint',
  '__cluster_metadata-0',
  '.lock',
  '.kafka_cleanshutdown',
  'cleaner-offset-checkpoint',
  'log-start-offset-checkpoint',
  'recovery-point-offset-checkpoint',
  'replication-offset-checkpoint',
]);

export interface DirListing {
  dir: string;
  exists: boolean;
  entries: string[];
  /** meta.properties content; null when the dir has none. */
  meta: string | null;
}

/** Why this dir must not be wiped as the controller's metadata dir, or null when it may. */
export function wipeRefusal(listing: DirListing, nodeId: number): string | null {
  const checked = normaliseDataDir(listing.dir);
  if ('problem' in checked) return checked.problem;
  if (!listing.exists || listing.entries.length === 0) return null;
  const foreign = listing.entries.filter((e) => !CONTROLLER_DIR_ENTRIES.has(e));
  if (foreign.length > 0) return `${listing.dir} holds ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}: not a controller's metadata dir`;
  if (listing.meta === null) return `${listing.dir} has no meta.properties: not a formatted metadata dir`;
  const meta = parseMetaProperties(listing.meta);
  if (meta.nodeId !== nodeId) return `${listing.dir}/meta.properties names node ${meta.nodeId ?? 'none'}, not this controller's node ${nodeId}`;
  return null;
}

/** Whether formatting is needed, done already, or refused, for every dir of the controller. */
export function formatDecision(listings: DirListing[], clusterId: string, nodeId: number): { action: 'format' | 'formatted'; problems: string[] } {
  const problems: string[] = [];
  let unformatted = 0;
  for (const l of listings) {
    if (l.meta === null) {
      const foreign = l.entries.filter((e) => !CONTROLLER_DIR_ENTRIES.has(e));
      if (foreign.length > 0) problems.push(`${l.dir} is not empty (${foreign.slice(0, 3).join(', ')}) and has no meta.properties`);
      unformatted += 1;
      continue;
    }
    const meta = parseMetaProperties(l.meta);
    if (meta.clusterId !== clusterId) problems.push(`${l.dir} is formatted for cluster ${meta.clusterId ?? 'unknown'}, not ${clusterId}`);
    if (meta.nodeId !== nodeId) problems.push(`${l.dir} is formatted for node ${meta.nodeId ?? 'unknown'}, not ${nodeId}`);
  }
  return { action: unformatted > 0 ? 'format' : 'formatted', problems };
}

export const KAFKA_CLUSTER_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * The arguments of `kafka-storage.sh` that format a node's metadata dirs for an existing cluster (a new
 * controller, a new KRaft broker). The id goes as `--cluster-id=<id>`: ids are base64url and one in 64 starts
 * with `-`, which `-t <id>` hands to the tool's parser as an option ("expected one argument").
 */
export function storageFormatArgs(clusterId: string, configFile: string): string[] {
  return ['format', `--cluster-id=${clusterId}`, '-c', configFile, '--ignore-formatted'];
}
