import type { PartitionRef } from './types';

/** `topic-partition`, as Kafka's tools print it. Unambiguous: the partition is the part after the last `-`. */
export function partitionName(p: PartitionRef): string {
  return `${p.topic}-${p.partition}`;
}

/** Key for maps; `/` cannot occur in a topic name. */
export function partitionKey(p: PartitionRef): string {
  return `${p.topic}/${p.partition}`;
}

export function comparePartitions(a: PartitionRef, b: PartitionRef): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

export function sameSet(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return set.size === b.length && b.every((x) => set.has(x));
}

export function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export const sortedIds = (ids: Iterable<number>): number[] => [...new Set(ids)].sort((a, b) => a - b);
