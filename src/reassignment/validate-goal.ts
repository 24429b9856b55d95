/** Goal checks that refuse a plan before anything is computed; every message names the offending value. */
import type { NodeId } from '../model/cluster';
import { PlanRefusalReason, PlanRefused } from './errors';
import type { AddBrokersGoal, ExplicitGoal, RemoveBrokersGoal, SetReplicationFactorGoal } from './types';
import { type WorkingCluster, partitionKey, partitionName } from './working';

const LISTED_IDS = 20;

export function listIds(ids: readonly NodeId[]): string {
  const shown = ids.slice(0, LISTED_IDS).join(', ');
  return ids.length > LISTED_IDS ? `${shown}, ... (${ids.length} in all)` : shown;
}

function registeredIds(w: WorkingCluster): NodeId[] {
  return w.brokerIds.filter((_, b) => w.registered[b]);
}

/** Broker indexes for the ids given, refusing an empty list, repeats and ids `isKnown` rejects. */
function resolveBrokerIds(
  w: WorkingCluster,
  ids: readonly NodeId[],
  field: string,
  isKnown: (b: number | undefined) => boolean,
  unknownMessage: (id: NodeId) => string,
): number[] {
  if (ids.length === 0) throw new PlanRefused(PlanRefusalReason.NoBrokersGiven, field, 'no broker ids given');
  const seen = new Set<NodeId>();
  return ids.map((id) => {
    if (seen.has(id)) throw new PlanRefused(PlanRefusalReason.DuplicateBroker, field, `broker ${id} is listed twice`);
    seen.add(id);
    const b = w.brokerIndex.get(id);
    if (!isKnown(b)) throw new PlanRefused(PlanRefusalReason.UnknownBroker, field, unknownMessage(id));
    return b as number;
  });
}

/** Partitions that may move: all, or those of the listed topics. */
export function resolveTopicScope(w: WorkingCluster, topics: readonly string[] | undefined): Uint8Array {
  const scope = new Uint8Array(w.partitions.length);
  if (topics === undefined) return scope.fill(1);
  if (topics.length === 0) throw new PlanRefused(PlanRefusalReason.InvalidInput, 'goal.topics', 'the topics filter is empty: omit it to include every topic');
  for (const topic of topics) {
    const t = w.topicIndex.get(topic);
    if (t === undefined) throw new PlanRefused(PlanRefusalReason.UnknownTopic, 'goal.topics', `unknown topic "${topic}" in the topics filter`);
    for (const p of w.partitionsByTopic[t] ?? []) scope[p] = 1;
  }
  return scope;
}

export function resolveBrokersToAdd(w: WorkingCluster, goal: AddBrokersGoal): number[] {
  return resolveBrokerIds(
    w,
    goal.brokerIds,
    'goal.brokerIds',
    (b) => b !== undefined && w.registered[b] === true,
    (id) =>
      w.brokerIndex.has(id)
        ? `cannot add broker ${id}: it holds replicas but is not registered (registered brokers: ${listIds(registeredIds(w))})`
        : `cannot add broker ${id}: it is not registered (registered brokers: ${listIds(registeredIds(w))})`,
  );
}

/** Refuses a broker to add that already holds its balanced share: it is not new (likely a typo). */
export function refuseBrokersAlreadyPresent(w: WorkingCluster, adding: readonly number[], current: readonly number[], target: readonly number[]): void {
  for (const b of adding) {
    const holds = current[b] as number;
    if (holds > 0 && holds >= (target[b] as number)) {
      throw new PlanRefused(
        PlanRefusalReason.BrokerAlreadyPresent,
        'goal.brokerIds',
        `cannot add broker ${w.brokerIds[b]}: it already holds ${holds} replicas, at or above its balanced share of ${target[b]}; it is not a new broker`,
      );
    }
  }
}

export function resolveBrokersToRemove(w: WorkingCluster, goal: RemoveBrokersGoal, scope: Uint8Array): number[] {
  const removing = resolveBrokerIds(
    w,
    goal.brokerIds,
    'goal.brokerIds',
    (b) => b !== undefined,
    (id) => `cannot remove broker ${id}: no such broker (registered brokers: ${listIds(registeredIds(w))})`,
  );
  const names = listIds(removing.map((b) => w.brokerIds[b] as NodeId));
  const remaining = w.brokerIds.filter((_, b) => w.registered[b] && !removing.includes(b)).length;
  if (remaining === 0) {
    throw new PlanRefused(PlanRefusalReason.RemovingAllBrokers, 'goal.brokerIds', `cannot remove brokers ${names}: no registered broker would remain`);
  }
  const highestRf = new Map<string, number>();
  w.partitions.forEach((p, i) => {
    if (scope[i] === 1) highestRf.set(p.topic, Math.max(highestRf.get(p.topic) ?? 0, p.replicas.length));
  });
  for (const [topic, rf] of highestRf) {
    if (rf > remaining) {
      throw new PlanRefused(
        PlanRefusalReason.TooFewBrokers,
        'goal.brokerIds',
        `cannot remove brokers ${names}: topic "${topic}" has replication factor ${rf} but only ${remaining} broker${remaining === 1 ? '' : 's'} would remain`,
      );
    }
  }
  return removing;
}

export function resolveReplicationFactorGoal(w: WorkingCluster, goal: SetReplicationFactorGoal): number {
  const t = w.topicIndex.get(goal.topic);
  if (t === undefined) throw new PlanRefused(PlanRefusalReason.UnknownTopic, 'goal.topic', `unknown topic "${goal.topic}"`);
  const rf = goal.replicationFactor;
  if (!Number.isInteger(rf) || rf < 1) {
    throw new PlanRefused(PlanRefusalReason.ReplicationFactorTooSmall, 'goal.replicationFactor', `replication factor must be a whole number of at least 1, got ${rf}`);
  }
  const registered = registeredIds(w).length;
  if (rf > registered) {
    throw new PlanRefused(
      PlanRefusalReason.ReplicationFactorTooLarge,
      'goal.replicationFactor',
      `replication factor ${rf} for topic "${goal.topic}" needs ${rf} brokers but only ${registered} ${registered === 1 ? 'is' : 'are'} registered`,
    );
  }
  return t;
}

/** The explicit plan as partition index -> broker indexes, after checking every entry. */
export function resolveExplicitGoal(w: WorkingCluster, goal: ExplicitGoal): Map<number, number[]> {
  if (goal.partitions.length === 0) throw new PlanRefused(PlanRefusalReason.InvalidInput, 'goal.partitions', 'the explicit plan names no partitions');
  const byKey = new Map<string, number>();
  w.partitions.forEach((p, i) => byKey.set(partitionKey(p.topic, p.partition), i));
  const resolved = new Map<number, number[]>();
  goal.partitions.forEach((entry, i) => {
    const field = `goal.partitions[${i}]`;
    const name = partitionName(entry.topic, entry.partition);
    const t = w.topicIndex.get(entry.topic);
    if (t === undefined) throw new PlanRefused(PlanRefusalReason.UnknownTopic, `${field}.topic`, `${field}: topic "${entry.topic}" does not exist`);
    const p = byKey.get(partitionKey(entry.topic, entry.partition));
    if (p === undefined) {
      const count = w.partitionsByTopic[t]?.length ?? 0;
      throw new PlanRefused(
        PlanRefusalReason.UnknownPartition,
        `${field}.partition`,
        `${field}: partition ${name} does not exist (topic "${entry.topic}" has ${count} partition${count === 1 ? '' : 's'})`,
      );
    }
    if (resolved.has(p)) throw new PlanRefused(PlanRefusalReason.DuplicatePartition, field, `${field}: partition ${name} is listed twice`);
    if (entry.replicas.length === 0) throw new PlanRefused(PlanRefusalReason.EmptyReplicaList, `${field}.replicas`, `${field}: partition ${name} needs at least one replica`);
    const seen = new Set<NodeId>();
    resolved.set(
      p,
      entry.replicas.map((id) => {
        if (seen.has(id)) {
          throw new PlanRefused(PlanRefusalReason.DuplicateReplica, `${field}.replicas`, `${field}: replicas [${entry.replicas.join(', ')}] of ${name} list broker ${id} twice`);
        }
        seen.add(id);
        const b = w.brokerIndex.get(id);
        if (b === undefined || !w.registered[b]) {
          throw new PlanRefused(PlanRefusalReason.UnknownBroker, `${field}.replicas`, `${field}: broker ${id} for ${name} is not registered`);
        }
        return b;
      }),
    );
  });
  return resolved;
}
