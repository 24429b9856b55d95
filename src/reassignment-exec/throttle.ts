import { invalidInput } from '../errors';
import type { NodeId } from '../model/cluster';
import type { ReplicaMove } from '../reassignment';
import { sortedIds } from './partitions';
import {
  type BatchThrottle,
  type ConfigAlteration,
  type ConfigEntityType,
  type ConfigEntry,
  type EntityThrottleConfigs,
  ThrottleConfigName,
  type ThrottleRestore,
} from './types';

/**
 * Replication throttles for a batch of moves, merged with what the cluster already has, and their undo.
 *
 * What is throttled (as `kafka-reassign-partitions.sh --throttle` does):
 * - topic `leader.replication.throttled.replicas`: `partition:broker` for every current replica of a moved
 *   partition (any of them may lead while the copy runs);
 * - topic `follower.replication.throttled.replicas`: `partition:broker` for every new replica;
 * - broker `leader.replication.throttled.rate` and `follower.replication.throttled.rate`: on every broker that
 *   holds a current or a new replica of a moved partition (sources and destinations).
 * Moves that add no replica copy nothing and are not throttled.
 *
 * Merge rules (the originals come from `readThrottleConfigs`, read once before the first batch):
 * - replica lists: an original `*` already throttles every replica: left as is, nothing set; an original
 *   list keeps all its entries, in its order, and gets ours appended (no duplicates); nothing set when it
 *   already holds all of ours; no original: ours alone.
 * - rates: ours replaces an original rate for the run (the operator chose it for this reassignment); nothing
 *   set when the original already equals it.
 * - each batch is merged with the originals, not with the previous batch, so a finished batch's entries do
 *   not accumulate.
 * - a broker read as offline (not registered) gets no rate: it cannot be configured through itself and
 *   replicates nothing.
 *
 * Undo (`throttleRestore`): for exactly the configs the batches set, the original value is set again, or the
 * config is deleted when there was none. Configs nobody set are never touched.
 */

/** Entries of a throttled-replicas value: `partition:broker` items, or `*`. Whitespace around items is dropped. */
export function parseThrottledReplicas(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
}

/**
 * The value to set for a throttled-replicas config, or null when the existing value already covers ours
 * (it is `*`, or lists every entry of ours) or we have none.
 */
export function mergeThrottledReplicas(existing: string | null | undefined, ours: string[]): string | null {
  const have = parseThrottledReplicas(existing);
  if (ours.length === 0 || have.includes('*')) return null;
  const seen = new Set(have);
  const added = ours.filter((e) => {
    if (seen.has(e)) return false;
    seen.add(e);
    return true;
  });
  return added.length === 0 ? null : [...have, ...added].join(',');
}

/** `partition:broker` entries a set of moves throttles, per topic, sorted by partition then broker. */
export function throttledReplicas(moves: ReplicaMove[]): { topic: string; leader: string[]; follower: string[] }[] {
  const byTopic = new Map<string, { leader: [number, NodeId][]; follower: [number, NodeId][] }>();
  for (const m of moves) {
    const adding = m.to.filter((b) => !m.from.includes(b));
    if (adding.length === 0) continue;
    const t = byTopic.get(m.topic) ?? { leader: [], follower: [] };
    byTopic.set(m.topic, t);
    for (const b of m.from) t.leader.push([m.partition, b]);
    for (const b of adding) t.follower.push([m.partition, b]);
  }
  const render = (pairs: [number, NodeId][]): string[] => {
    const sorted = [...pairs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return [...new Set(sorted.map(([p, b]) => `${p}:${b}`))];
  };
  return [...byTopic]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([topic, t]) => ({ topic, leader: render(t.leader), follower: render(t.follower) }));
}

/** Brokers whose rates a set of moves needs: every current and new replica of a move that copies data. */
export function throttledBrokers(moves: ReplicaMove[]): NodeId[] {
  return sortedIds(moves.filter((m) => m.to.some((b) => !m.from.includes(b))).flatMap((m) => [...m.from, ...m.to]));
}

function originalFor(originals: EntityThrottleConfigs[], entityType: ConfigEntityType, entityName: string): EntityThrottleConfigs {
  const found = originals.find((o) => o.entityType === entityType && o.entityName === entityName);
  if (!found) {
    throw invalidInput(
      `no original throttle configs for ${entityType === 'topics' ? 'topic' : 'broker'} ${entityName}: read them with readThrottleConfigs before the first batch, so they can be restored`,
    );
  }
  return found;
}

const valueOf = (e: EntityThrottleConfigs, name: string): string | null => e.configs.find((c) => c.name === name)?.value ?? null;

/**
 * What to set for one batch: topic replica lists merged with the originals (topics first, sorted), then the
 * rate on every source and destination broker (sorted by id). `originals` must list every topic and broker the batch touches (what
 * `readThrottleConfigs` returns for them, also when nothing is set).
 *
 * @throws ApplicationFailure InvalidInput for a rate that is not a positive integer or a missing original.
 */
export function batchThrottle(moves: ReplicaMove[], originals: EntityThrottleConfigs[], rateBytesPerSec: number): BatchThrottle {
  if (!Number.isSafeInteger(rateBytesPerSec) || rateBytesPerSec < 1) throw invalidInput(`throttle rate must be a positive integer of bytes/s, got ${rateBytesPerSec}`);
  const alterations: ConfigAlteration[] = [];
  const replicas = throttledReplicas(moves);
  const brokers = throttledBrokers(moves).filter((b) => !originalFor(originals, 'brokers', String(b)).offline);
  for (const t of replicas) {
    const original = originalFor(originals, 'topics', t.topic);
    const set: ConfigEntry[] = [];
    const leader = mergeThrottledReplicas(valueOf(original, ThrottleConfigName.LeaderReplicas), t.leader);
    if (leader !== null) set.push({ name: ThrottleConfigName.LeaderReplicas, value: leader });
    const follower = mergeThrottledReplicas(valueOf(original, ThrottleConfigName.FollowerReplicas), t.follower);
    if (follower !== null) set.push({ name: ThrottleConfigName.FollowerReplicas, value: follower });
    if (set.length > 0) alterations.push({ entityType: 'topics', entityName: t.topic, set, delete: [] });
  }
  for (const b of brokers) {
    const original = originalFor(originals, 'brokers', String(b));
    const set: ConfigEntry[] = [ThrottleConfigName.LeaderRate, ThrottleConfigName.FollowerRate]
      .filter((name) => valueOf(original, name) !== String(rateBytesPerSec))
      .map((name) => ({ name, value: String(rateBytesPerSec) }));
    if (set.length > 0) alterations.push({ entityType: 'brokers', entityName: String(b), set, delete: [] });
  }
  return { rateBytesPerSec, brokers, topics: replicas.map((t) => t.topic), alterations };
}

const entityKey = (type: ConfigEntityType, name: string): string => `${type}\u0000${name}`;

function compareEntities(a: Pick<ConfigAlteration, 'entityType' | 'entityName'>, b: Pick<ConfigAlteration, 'entityType' | 'entityName'>): number {
  if (a.entityType !== b.entityType) return a.entityType === 'topics' ? -1 : 1;
  if (a.entityType === 'brokers') return Number(a.entityName) - Number(b.entityName);
  return a.entityName < b.entityName ? -1 : a.entityName > b.entityName ? 1 : 0;
}

/**
 * The undo of `applied` batches: every config they set goes back to its original value, or is deleted when
 * it had none. Topics first, then brokers (a replica list without a rate throttles nothing).
 *
 * @param keep a batch about to be (or already) applied whose configs must stay: pass the next batch to clean
 *   up only what the previous one set and the next one does not.
 */
export function throttleRestore(originals: EntityThrottleConfigs[], applied: BatchThrottle[], keep?: BatchThrottle): ThrottleRestore {
  const kept = new Set((keep?.alterations ?? []).flatMap((a) => a.set.map((s) => `${entityKey(a.entityType, a.entityName)}\u0000${s.name}`)));
  const touched = new Map<string, { entityType: ConfigEntityType; entityName: string; names: Set<string> }>();
  for (const a of applied.flatMap((b) => b.alterations)) {
    const key = entityKey(a.entityType, a.entityName);
    const entry = touched.get(key) ?? { entityType: a.entityType, entityName: a.entityName, names: new Set<string>() };
    touched.set(key, entry);
    for (const s of a.set) if (!kept.has(`${key}\u0000${s.name}`)) entry.names.add(s.name);
  }
  const alterations: ConfigAlteration[] = [];
  for (const t of touched.values()) {
    if (t.names.size === 0) continue;
    const original = originalFor(originals, t.entityType, t.entityName);
    const names = [...t.names].sort();
    const set = names.flatMap((name) => {
      const value = valueOf(original, name);
      return value === null ? [] : [{ name, value }];
    });
    alterations.push({ entityType: t.entityType, entityName: t.entityName, set, delete: names.filter((n) => valueOf(original, n) === null) });
  }
  return { alterations: alterations.sort(compareEntities) };
}
