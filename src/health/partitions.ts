import type { ClusterMetadata, NodeId, PartitionState, TopicState } from '../model/cluster';

/** A list cut to a size that fits in a Temporal payload, saying how much was left out. */
export interface BoundedList<T> {
  /** How many there are in total. */
  count: number;
  /** The first `limit` of them. */
  items: T[];
  /** `count - items.length`. */
  truncated: number;
}

export function boundedList<T>(all: readonly T[], limit: number): BoundedList<T> {
  const items = all.slice(0, Math.max(0, limit));
  return { count: all.length, items, truncated: all.length - items.length };
}

/** "topic-partition", the name Kafka's tools print. */
export function partitionName(p: { topic: string; partition: number }): string {
  return `${p.topic}-${p.partition}`;
}

/** "a, b, c" for the first `limit` names, then "and N more". */
export function listNames(names: readonly string[], limit = 10): string {
  if (names.length <= limit) return names.join(', ');
  return `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}

export function registeredBrokerIds(metadata: ClusterMetadata): Set<NodeId> {
  return new Set(metadata.brokers.map((b) => b.id));
}

/**
 * No leader, or a leader that is not a registered broker (metadata may name a leader that has just died):
 * either way nobody can read or write the partition.
 */
export function isOffline(p: PartitionState, registered: ReadonlySet<NodeId>): boolean {
  return p.leader < 0 || !registered.has(p.leader);
}

export function* allPartitions(metadata: ClusterMetadata): Generator<{ topic: TopicState; partition: PartitionState }> {
  for (const topic of metadata.topics) {
    for (const partition of topic.partitions) yield { topic, partition };
  }
}

/** Every partition with a replica on the broker, in or out of the ISR. */
export function partitionsOnBroker(metadata: ClusterMetadata, brokerId: NodeId): PartitionState[] {
  const out: PartitionState[] = [];
  for (const { partition } of allPartitions(metadata)) {
    if (partition.replicas.includes(brokerId)) out.push(partition);
  }
  return out;
}

/** Every partition the broker currently leads. */
export function partitionsLedBy(metadata: ClusterMetadata, brokerId: NodeId): PartitionState[] {
  const out: PartitionState[] = [];
  for (const { partition } of allPartitions(metadata)) {
    if (partition.leader === brokerId) out.push(partition);
  }
  return out;
}

/** Every partition with no usable leader. */
export function offlinePartitions(metadata: ClusterMetadata): PartitionState[] {
  const registered = registeredBrokerIds(metadata);
  const out: PartitionState[] = [];
  for (const { partition } of allPartitions(metadata)) {
    if (isOffline(partition, registered)) out.push(partition);
  }
  return out;
}
