import type { NodeId } from '../model/cluster';
import type { PartitionAssignment } from '../reassignment';
import { comparePartitions, partitionKey, sameList, sameSet } from './partitions';
import type { AssignmentVerification } from './types';

/** A partition as read back from the cluster; `leader` (-1: none) only when known. */
export interface ObservedAssignment {
  topic: string;
  partition: number;
  replicas: NodeId[];
  leader?: NodeId;
}

/**
 * Checks the cluster against the plan's target. Replica sets are compared order-insensitively: `ok` means
 * every target partition exists with exactly its target's brokers. Order and leadership are reported apart,
 * because they are fixed without moving data (phase 2 reorder, then a preferred leader election).
 */
export function verifyAssignment(target: PartitionAssignment[], actual: ObservedAssignment[]): AssignmentVerification {
  const byKey = new Map(actual.map((a) => [partitionKey(a), a]));
  const result: AssignmentVerification = { ok: true, partitionsChecked: target.length, mismatched: [], missing: [], orderDiffers: [], leaderNotPreferred: [] };
  for (const t of [...target].sort(comparePartitions)) {
    const a = byKey.get(partitionKey(t));
    if (!a) {
      result.missing.push({ topic: t.topic, partition: t.partition });
      continue;
    }
    if (!sameSet(a.replicas, t.replicas)) {
      result.mismatched.push({ topic: t.topic, partition: t.partition, expected: [...t.replicas], actual: [...a.replicas] });
      continue;
    }
    if (!sameList(a.replicas, t.replicas)) {
      result.orderDiffers.push({ topic: t.topic, partition: t.partition, expected: [...t.replicas], actual: [...a.replicas], preferredLeaderDiffers: a.replicas[0] !== t.replicas[0] });
    }
    const preferred = t.replicas[0];
    if (a.leader !== undefined && preferred !== undefined && a.leader !== preferred) {
      result.leaderNotPreferred.push({ topic: t.topic, partition: t.partition, preferred, leader: a.leader });
    }
  }
  result.ok = result.mismatched.length === 0 && result.missing.length === 0;
  return result;
}
