/**
 * Emptying brokers (decommission) and changing a topic's replication factor: placement one replica at a time.
 *
 * Drain moves exactly the in-scope replicas on the brokers being removed, nothing else, so its copies equal
 * the lower bound. Each replica is replaced in place (same position in the list) by the broker that keeps the
 * partition spread over the most racks, then holds the fewest replicas for its weight, then the fewest of the
 * topic. Partitions are visited round-robin over topics so that every topic's replicas spread out.
 */
import { TopicSpread, type WorkingCluster, countRacks, rackSpreadAfter } from './working';

export interface PlacementContext {
  /** Brokers that may receive replicas. */
  destinations: number[];
  /** Replicas per broker, all topics: what "least loaded" compares (divided by weight). */
  load: number[];
  spread: TopicSpread;
  rackCount: number;
}

export function placementContext(w: WorkingCluster, destinations: number[]): PlacementContext {
  const load = w.brokerIds.map(() => 0);
  for (const p of w.partitions) for (const b of p.replicas) load[b] = (load[b] as number) + 1;
  return { destinations, load, spread: TopicSpread.of(w, () => true), rackCount: countRacks(w, destinations) };
}

/**
 * The best broker to hold a replica of partition `p` in place of `leaving` (-1: an extra replica), or -1 if
 * every destination already holds the partition.
 */
export function chooseDestination(w: WorkingCluster, ctx: PlacementContext, p: number, leaving: number): number {
  const part = w.partitions[p];
  if (!part) return -1;
  const finalReplicas = leaving >= 0 ? part.replicas.length : part.replicas.length + 1;
  const required = Math.min(finalReplicas, ctx.rackCount);
  let best = -1;
  let bestSpread = -1;
  let bestLoad = Number.POSITIVE_INFINITY;
  let bestTopic = Number.POSITIVE_INFINITY;
  for (const b of ctx.destinations) {
    if (part.replicas.includes(b)) continue;
    const spread = w.racksSet ? Math.min(required, rackSpreadAfter(w, part.replicas, leaving, b)) : 0;
    const load = ((ctx.load[b] as number) + 1) / (w.weight[b] as number);
    const topic = ctx.spread.get(b, part.topicIndex);
    if (spread > bestSpread || (spread === bestSpread && (load < bestLoad || (load === bestLoad && topic < bestTopic)))) {
      best = b;
      bestSpread = spread;
      bestLoad = load;
      bestTopic = topic;
    }
  }
  return best;
}

/** Records that replica `from` of partition p became `to` (either may be -1 for an added or dropped replica). */
export function recordPlacement(w: WorkingCluster, ctx: PlacementContext, p: number, from: number, to: number): void {
  const part = w.partitions[p];
  if (!part) return;
  if (from >= 0) {
    ctx.load[from] = (ctx.load[from] as number) - 1;
    ctx.spread.add(from, part.topicIndex, -1);
  }
  if (to >= 0) {
    ctx.load[to] = (ctx.load[to] as number) + 1;
    ctx.spread.add(to, part.topicIndex, 1);
  }
}

/** Partition indexes round-robin over topics: partition 0 of every topic, then partition 1, ... */
export function roundRobinOverTopics(w: WorkingCluster, include: (p: number) => boolean): number[] {
  const order: number[] = [];
  const lists = w.partitionsByTopic.map((list) => list.filter(include));
  const longest = lists.reduce((m, l) => Math.max(m, l.length), 0);
  for (let rank = 0; rank < longest; rank++) {
    for (const list of lists) {
      const p = list[rank];
      if (p !== undefined) order.push(p);
    }
  }
  return order;
}

/** Replaces every in-scope replica on a removed broker. Returns the number of replicas moved. */
export function drainBrokers(w: WorkingCluster, inScope: Uint8Array, removed: readonly boolean[], destinations: number[]): number {
  const ctx = placementContext(w, destinations);
  let moved = 0;
  for (const p of roundRobinOverTopics(w, (i) => inScope[i] === 1)) {
    const replicas = w.partitions[p]?.replicas as number[];
    for (let pos = 0; pos < replicas.length; pos++) {
      const leaving = replicas[pos] as number;
      if (!removed[leaving]) continue;
      const to = chooseDestination(w, ctx, p, leaving);
      // Cannot happen once the goal is validated (enough brokers remain for every RF in scope).
      if (to < 0) throw new Error(`no broker can take ${w.partitions[p]?.topic}-${w.partitions[p]?.partition}`);
      replicas[pos] = to;
      recordPlacement(w, ctx, p, leaving, to);
      moved++;
    }
  }
  return moved;
}

/** Adds or drops replicas of one topic's partitions until each has `replicationFactor`. Returns copies made. */
export function changeReplicationFactor(w: WorkingCluster, topicIndex: number, replicationFactor: number, destinations: number[]): number {
  const ctx = placementContext(w, destinations);
  let copies = 0;
  for (const p of w.partitionsByTopic[topicIndex] ?? []) {
    const part = w.partitions[p];
    if (!part) continue;
    while (part.replicas.length < replicationFactor) {
      const to = chooseDestination(w, ctx, p, -1);
      if (to < 0) throw new Error(`no broker can take another replica of ${part.topic}-${part.partition}`);
      part.replicas.push(to);
      recordPlacement(w, ctx, p, -1, to);
      copies++;
    }
    while (part.replicas.length > replicationFactor) {
      const drop = chooseReplicaToDrop(w, ctx, p, replicationFactor);
      part.replicas.splice(part.replicas.indexOf(drop), 1);
      recordPlacement(w, ctx, p, drop, -1);
    }
  }
  return copies;
}

/**
 * The replica to drop when lowering RF: never the leader; keep racks spread; then prefer a replica that is
 * out of sync or on an unregistered broker (it adds no redundancy now); then the most loaded broker.
 */
function chooseReplicaToDrop(w: WorkingCluster, ctx: PlacementContext, p: number, replicationFactor: number): number {
  const part = w.partitions[p];
  if (!part) return -1;
  const required = Math.min(replicationFactor, ctx.rackCount);
  let best = -1;
  let bestSpread = -1;
  let bestUseless = -1;
  let bestLoad = Number.NEGATIVE_INFINITY;
  for (const b of part.replicas) {
    if (b === part.leader) continue;
    const spread = w.racksSet ? Math.min(required, rackSpreadAfter(w, part.replicas, b, -1)) : 0;
    const useless = !w.registered[b] || !part.isr.includes(b) ? 1 : 0;
    const load = (ctx.load[b] as number) / (w.weight[b] as number);
    const better =
      spread > bestSpread ||
      (spread === bestSpread && (useless > bestUseless || (useless === bestUseless && (load > bestLoad || (load === bestLoad && b > best)))));
    if (better) {
      best = b;
      bestSpread = spread;
      bestUseless = useless;
      bestLoad = load;
    }
  }
  return best;
}
