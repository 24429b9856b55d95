/**
 * Seeded cluster generator for planner tests and the benchmark. Same spec and seed, same cluster.
 */
import type { PartitionPlacement, PartitionSize, PlannerBroker } from '../../../src/reassignment';

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ClusterSpec {
  seed: number;
  /** Brokers holding the current replicas, ids 1..brokers. */
  brokers: number;
  /** Extra registered brokers with no replicas (ids brokers+1..), as after provisioning new ones. */
  emptyBrokers?: number;
  partitions: number;
  topics?: number;
  replicationFactor: number;
  /** Number of racks (brokers assigned round-robin: rack-a, rack-b, ...); 0 or absent: no racks. */
  racks?: number;
  /** Place replicas at random (still one per broker, still rack-aware) instead of evenly. */
  uneven?: boolean;
  /** Give brokers random capacity weights 1..3. */
  weighted?: boolean;
  /** Drop some followers out of the ISR. */
  laggingFollowers?: boolean;
}

export interface GeneratedCluster {
  brokers: PlannerBroker[];
  partitions: PartitionPlacement[];
  partitionSizes: PartitionSize[];
  /** Ids of the empty brokers. */
  newBrokerIds: number[];
}

export function rackName(i: number): string {
  return `rack-${String.fromCharCode(97 + i)}`;
}

export function generateCluster(spec: ClusterSpec): GeneratedCluster {
  const random = seededRandom(spec.seed);
  const int = (n: number): number => Math.floor(random() * n);
  const racks = spec.racks ?? 0;
  const total = spec.brokers + (spec.emptyBrokers ?? 0);
  const brokers: PlannerBroker[] = [];
  for (let id = 1; id <= total; id++) {
    const broker: PlannerBroker = { id, rack: racks > 0 ? rackName((id - 1) % racks) : null };
    if (spec.weighted) broker.capacityWeight = 1 + int(3);
    brokers.push(broker);
  }
  const holding = brokers.slice(0, spec.brokers);
  const load = new Map(holding.map((b) => [b.id, 0]));
  const topicCount = Math.max(1, Math.min(spec.topics ?? 1, spec.partitions));
  const partitions: PartitionPlacement[] = [];
  const partitionSizes: PartitionSize[] = [];
  let leaderTurn = int(holding.length);

  for (let i = 0; i < spec.partitions; i++) {
    const topic = `topic-${String(i % topicCount).padStart(3, '0')}`;
    const partition = Math.floor(i / topicCount);
    const replicas: number[] = [];
    const usedRacks = new Set<string | null>();
    for (let j = 0; j < spec.replicationFactor; j++) {
      const free = holding.filter((b) => !replicas.includes(b.id));
      const rackFree = free.filter((b) => !usedRacks.has(b.rack));
      const pool = rackFree.length > 0 ? rackFree : free;
      let chosen: PlannerBroker;
      if (spec.uneven) {
        chosen = pool[int(pool.length)] as PlannerBroker;
      } else if (j === 0) {
        chosen = holding[leaderTurn++ % holding.length] as PlannerBroker;
      } else {
        // Least loaded, ties at random: an evenly spread cluster like Kafka's own assignment.
        const least = Math.min(...pool.map((b) => load.get(b.id) as number));
        const ties = pool.filter((b) => load.get(b.id) === least);
        chosen = ties[int(ties.length)] as PlannerBroker;
      }
      replicas.push(chosen.id);
      usedRacks.add(chosen.rack);
      load.set(chosen.id, (load.get(chosen.id) as number) + 1);
    }
    const isr = spec.laggingFollowers ? replicas.filter((_, j) => j === 0 || random() > 0.2) : [...replicas];
    partitions.push({ topic, partition, replicas, isr });
    partitionSizes.push({ topic, partition, bytes: 1_000_000 * (1 + int(100)) });
  }
  return { brokers, partitions, partitionSizes, newBrokerIds: brokers.slice(spec.brokers).map((b) => b.id) };
}
