/**
 * The planner's internal model: brokers and partitions by array index, so the hot loops touch numbers only.
 * Built once per plan from sorted input, which is what makes the plan independent of input order.
 */
import type { NodeId } from '../model/cluster';
import { PlanRefusalReason, PlanRefused } from './errors';
import type { ReassignmentInput } from './types';

export interface WorkingPartition {
  topic: string;
  topicIndex: number;
  partition: number;
  /** Broker indexes in the current order. */
  readonly original: readonly number[];
  /** Broker indexes as planned so far (starts as a copy of `original`). */
  replicas: number[];
  /** Broker indexes in the ISR. */
  readonly isr: readonly number[];
  /** Broker index of the current leader: the given leader when it is a replica, else the first replica. */
  readonly leader: number;
  /** Replica size in bytes, null when unknown. */
  readonly bytes: number | null;
}

export interface WorkingCluster {
  /** Every broker that is registered or holds a replica, ascending; the array index is the broker index. */
  brokerIds: NodeId[];
  brokerIndex: Map<NodeId, number>;
  registered: boolean[];
  weight: number[];
  /** Rack index per broker; all 0 when no broker has a rack. Brokers without a rack share one rack. */
  rack: number[];
  rackNames: (string | null)[];
  /** True when at least one registered broker has a rack: placement is then rack-aware. */
  racksSet: boolean;
  /** Topic names ascending; the index is the topic index. */
  topics: string[];
  topicIndex: Map<string, number>;
  /** Sorted by topic, then partition. */
  partitions: WorkingPartition[];
  /** Partition indexes per topic index. */
  partitionsByTopic: number[][];
  partitionSizesGiven: boolean;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function partitionName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function refuseInput(field: string, message: string, reason: PlanRefusalReason = PlanRefusalReason.InvalidInput): never {
  throw new PlanRefused(reason, field, message);
}

/** Validates the current assignment and brokers (not the goal) and indexes them. */
export function buildWorkingCluster(input: ReassignmentInput): WorkingCluster {
  const registeredById = new Map<NodeId, { rack: string | null; weight: number }>();
  input.brokers.forEach((b, i) => {
    if (!Number.isInteger(b.id) || b.id < 0) refuseInput(`brokers[${i}].id`, `broker id ${String(b.id)} is not a non-negative integer`);
    if (registeredById.has(b.id)) refuseInput(`brokers[${i}].id`, `broker ${b.id} is listed twice in the brokers`, PlanRefusalReason.DuplicateBroker);
    const weight = b.capacityWeight ?? 1;
    if (!Number.isFinite(weight) || weight <= 0) {
      refuseInput(`brokers[${i}].capacityWeight`, `broker ${b.id} has capacity weight ${String(weight)}; it must be a positive number`);
    }
    registeredById.set(b.id, { rack: b.rack, weight });
  });

  const seenPartitions = new Set<string>();
  const allIds = new Set<NodeId>(registeredById.keys());
  input.partitions.forEach((p, i) => {
    const key = partitionKey(p.topic, p.partition);
    const name = partitionName(p.topic, p.partition);
    if (seenPartitions.has(key)) refuseInput(`partitions[${i}]`, `partition ${name} appears twice in the current assignment`, PlanRefusalReason.DuplicatePartition);
    seenPartitions.add(key);
    if (p.replicas.length === 0) refuseInput(`partitions[${i}].replicas`, `partition ${name} has no replicas`, PlanRefusalReason.EmptyReplicaList);
    if (new Set(p.replicas).size !== p.replicas.length) {
      refuseInput(`partitions[${i}].replicas`, `partition ${name} lists a broker twice: [${p.replicas.join(', ')}]`, PlanRefusalReason.DuplicateReplica);
    }
    for (const id of p.replicas) {
      if (!Number.isInteger(id) || id < 0) refuseInput(`partitions[${i}].replicas`, `partition ${name} has replica ${String(id)}, not a broker id`);
      allIds.add(id);
    }
  });

  const brokerIds = [...allIds].sort((a, b) => a - b);
  const brokerIndex = new Map(brokerIds.map((id, i) => [id, i] as const));
  const registered = brokerIds.map((id) => registeredById.has(id));
  const weight = brokerIds.map((id) => registeredById.get(id)?.weight ?? 1);
  const rackOfId = brokerIds.map((id) => registeredById.get(id)?.rack ?? null);
  const racksSet = input.brokers.some((b) => b.rack !== null);
  const rackNames: (string | null)[] = racksSet
    ? [...new Set(rackOfId)].sort((a, b) => (a === null ? -1 : b === null ? 1 : compareStrings(a, b)))
    : [null];
  const rackIndex = new Map(rackNames.map((r, i) => [r, i] as const));
  const rack = rackOfId.map((r) => (racksSet ? (rackIndex.get(r) ?? 0) : 0));

  const sizes = new Map<string, number>();
  (input.partitionSizes ?? []).forEach((s, i) => {
    if (!Number.isFinite(s.bytes) || s.bytes < 0) refuseInput(`partitionSizes[${i}].bytes`, `size of ${partitionName(s.topic, s.partition)} is ${String(s.bytes)} bytes`);
    sizes.set(partitionKey(s.topic, s.partition), s.bytes);
  });

  const sorted = [...input.partitions].sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition);
  const topics = [...new Set(sorted.map((p) => p.topic))];
  const topicIndex = new Map(topics.map((t, i) => [t, i] as const));
  const partitionsByTopic: number[][] = topics.map(() => []);
  const toIndex = (id: NodeId): number => brokerIndex.get(id) as number;

  const partitions = sorted.map((p, i): WorkingPartition => {
    const ti = topicIndex.get(p.topic) as number;
    partitionsByTopic[ti]?.push(i);
    const original = p.replicas.map(toIndex);
    const isr = p.isr.filter((id) => brokerIndex.has(id)).map(toIndex);
    const givenLeader = p.leader !== undefined && p.leader >= 0 ? brokerIndex.get(p.leader) : undefined;
    const leader = givenLeader !== undefined && original.includes(givenLeader) ? givenLeader : (original[0] as number);
    return {
      topic: p.topic,
      topicIndex: ti,
      partition: p.partition,
      original,
      replicas: [...original],
      isr,
      leader,
      bytes: sizes.get(partitionKey(p.topic, p.partition)) ?? null,
    };
  });

  return {
    brokerIds,
    brokerIndex,
    registered,
    weight,
    rack,
    rackNames,
    racksSet,
    topics,
    topicIndex,
    partitions,
    partitionsByTopic,
    partitionSizesGiven: input.partitionSizes !== undefined,
  };
}

/** counts[i] += delta (spelled out once because noUncheckedIndexedAccess makes `counts[i]++` a type error). */
export function bump(counts: Int32Array | number[], i: number, delta: number): void {
  counts[i] = (counts[i] as number) + delta;
}

/** Distinct racks the given brokers span. */
export function rackSpread(w: WorkingCluster, brokers: readonly number[]): number {
  let seen = 0;
  const racks: number[] = [];
  for (const b of brokers) {
    const r = w.rack[b] as number;
    if (!racks.includes(r)) {
      racks.push(r);
      seen++;
    }
  }
  return seen;
}

/** Distinct racks the partition would span with `from` replaced by `to` (from = -1: `to` added; to = -1: `from` dropped). */
export function rackSpreadAfter(w: WorkingCluster, replicas: readonly number[], from: number, to: number): number {
  const racks: number[] = [];
  for (const b of replicas) {
    if (b === from) continue;
    const r = w.rack[b] as number;
    if (!racks.includes(r)) racks.push(r);
  }
  if (to >= 0) {
    const r = w.rack[to] as number;
    if (!racks.includes(r)) racks.push(r);
  }
  return racks.length;
}

/** Number of distinct racks among the given brokers. */
export function countRacks(w: WorkingCluster, brokers: readonly number[]): number {
  return new Set(brokers.map((b) => w.rack[b] as number)).size;
}

/**
 * Per-broker, per-topic replica counts, used to spread each topic's replicas over brokers. A flat array
 * when it fits, a map otherwise (clusters with very many topics).
 */
export class TopicSpread {
  private readonly flat: Int32Array | null;
  private readonly sparse = new Map<number, number>();

  constructor(
    private readonly brokerCount: number,
    topicCount: number,
  ) {
    this.flat = brokerCount * topicCount <= 8_000_000 ? new Int32Array(brokerCount * topicCount) : null;
  }

  get(broker: number, topic: number): number {
    const k = topic * this.brokerCount + broker;
    return this.flat ? (this.flat[k] as number) : (this.sparse.get(k) ?? 0);
  }

  add(broker: number, topic: number, delta: number): void {
    const k = topic * this.brokerCount + broker;
    if (this.flat) this.flat[k] = (this.flat[k] as number) + delta;
    else this.sparse.set(k, (this.sparse.get(k) ?? 0) + delta);
  }

  static of(w: WorkingCluster, inScope: (p: number) => boolean): TopicSpread {
    const s = new TopicSpread(w.brokerIds.length, w.topics.length);
    w.partitions.forEach((p, i) => {
      if (!inScope(i)) return;
      for (const b of p.replicas) s.add(b, p.topicIndex, 1);
    });
    return s;
  }
}
