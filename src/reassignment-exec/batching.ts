import { invalidInput } from '../errors';
import type { NodeId } from '../model/cluster';
import type { PartitionAssignment, PreferredLeaderChange, ReplicaMove } from '../reassignment';
import { comparePartitions, partitionKey, partitionName } from './partitions';
import { type BatchLimits, DEFAULT_BATCH_LIMITS, type MoveStep, type PartitionLeader, type ReassignmentBatch } from './types';

/**
 * Splits a plan's moves into batches to submit one after another, each after the previous one completed.
 * Deterministic: the same moves (in any order) and limits give the same batches.
 *
 * - A move counts against its partition's current leader (the source of the copy) and every broker it adds a
 *   replica to, as Cruise Control's executor counts it; no broker takes more than `maxMovesPerBroker` and no
 *   batch more than `maxMovesPerCluster`. A move that adds nothing (replication factor decrease) still counts
 *   against its leader.
 * - A partition has at most one step in a batch; with `oneNewReplicaAtATime` a move adding k replicas becomes
 *   k steps in k successive batches (see `splitMove`).
 * - Batches are filled first-fit in topic/partition order: a move blocked by a busy broker does not hold
 *   back later moves on other brokers.
 *
 * @param leaders current leader per partition; a partition not listed is taken to be led by `from[0]`.
 * @throws ApplicationFailure InvalidInput for limits below 1 or the same partition moved twice.
 */
export function batchMoves(moves: ReplicaMove[], limits: Partial<BatchLimits> = {}, leaders: PartitionLeader[] = []): ReassignmentBatch[] {
  const l: BatchLimits = { ...DEFAULT_BATCH_LIMITS, ...limits };
  for (const name of ['maxMovesPerBroker', 'maxMovesPerCluster'] as const) {
    if (!Number.isInteger(l[name]) || l[name] < 1) throw invalidInput(`batch limit ${name} must be an integer of at least 1, got ${l[name]}`);
  }
  const leaderOf = new Map(leaders.map((p) => [partitionKey(p), p.leader]));
  const seen = new Set<string>();
  const queues: MoveStep[][] = [];
  for (const move of [...moves].sort(comparePartitions)) {
    const key = partitionKey(move);
    if (seen.has(key)) throw invalidInput(`partition ${partitionName(move)} is moved twice; a plan moves each partition once`);
    seen.add(key);
    if (move.to.length === 0 || new Set(move.to).size !== move.to.length) throw invalidInput(`partition ${partitionName(move)}: target replicas [${move.to.join(', ')}] must be non-empty and distinct`);
    queues.push(l.oneNewReplicaAtATime ? splitMove(move, leaderOf.get(key)) : [wholeMove(move, leaderOf.get(key))]);
  }

  const batches: ReassignmentBatch[] = [];
  const next = queues.map(() => 0);
  let remaining = queues.reduce((n, q) => n + q.length, 0);
  while (remaining > 0) {
    const load = new Map<NodeId, number>();
    const chosen: MoveStep[] = [];
    for (let i = 0; i < queues.length && chosen.length < l.maxMovesPerCluster; i++) {
      const step = queues[i]?.[next[i] ?? 0];
      if (!step) continue;
      const involved = brokersCounted(step);
      if (involved.some((b) => (load.get(b) ?? 0) >= l.maxMovesPerBroker)) continue;
      for (const b of involved) load.set(b, (load.get(b) ?? 0) + 1);
      chosen.push(step);
      next[i] = (next[i] ?? 0) + 1;
      remaining--;
    }
    const movesPerBroker: Record<NodeId, number> = {};
    for (const [b, n] of [...load].sort((a, b) => a[0] - b[0])) movesPerBroker[b] = n;
    batches.push({
      index: batches.length,
      moves: chosen,
      movesPerBroker,
      bytes: chosen.every((s) => s.bytes !== null) ? chosen.reduce((n, s) => n + (s.bytes ?? 0), 0) : null,
    });
  }
  return batches;
}

/** The brokers a step is counted against: its source leader, then each broker it adds a replica to. */
export function brokersCounted(step: Pick<MoveStep, 'sourceLeader' | 'addingReplicas'>): NodeId[] {
  return [...new Set([step.sourceLeader, ...step.addingReplicas])];
}

function leaderAmong(replicas: NodeId[], leader: NodeId | undefined): NodeId {
  return leader !== undefined && leader >= 0 && replicas.includes(leader) ? leader : (replicas[0] ?? -1);
}

function wholeMove(move: ReplicaMove, leader: NodeId | undefined): MoveStep {
  return { ...copyMove(move), step: 1, steps: 1, sourceLeader: leaderAmong(move.from, leader) };
}

/** A copy with adding/removing recomputed from `from` and `to`, so a hand-written move cannot disagree with itself. */
function copyMove(m: ReplicaMove): ReplicaMove {
  return {
    topic: m.topic,
    partition: m.partition,
    from: [...m.from],
    to: [...m.to],
    addingReplicas: m.to.filter((b) => !m.from.includes(b)),
    removingReplicas: m.from.filter((b) => !m.to.includes(b)),
    bytes: m.bytes,
  };
}

/**
 * One step per added replica. Step i adds the i-th new replica and removes one old follower, paired, so the
 * replica count never drops below the move's start or end; the final step removes whatever is left, the
 * current leader included, so leadership moves at most once, at the end. Intermediate lists keep the
 * remaining old replicas in their order with new ones appended; the final step's list is the move's `to`,
 * exactly. A move adding at most one replica is a single step.
 */
export function splitMove(given: ReplicaMove, leader?: NodeId): MoveStep[] {
  const move = copyMove(given);
  const sourceLeader = leaderAmong(move.from, leader);
  if (move.addingReplicas.length <= 1) return [wholeMove(move, leader)];
  const followersRemoved = move.removingReplicas.filter((b) => b !== sourceLeader);
  const perReplicaBytes = move.bytes === null ? null : move.bytes / move.addingReplicas.length;
  const steps: MoveStep[] = [];
  let current = [...move.from];
  const count = move.addingReplicas.length;
  move.addingReplicas.forEach((added, i) => {
    const last = i === count - 1;
    const removed = last ? move.removingReplicas.filter((b) => current.includes(b)) : followersRemoved.slice(i, i + 1);
    const to = last ? [...move.to] : [...current.filter((b) => !removed.includes(b)), added];
    steps.push({
      topic: move.topic,
      partition: move.partition,
      from: current,
      to,
      addingReplicas: [added],
      removingReplicas: removed,
      bytes: perReplicaBytes,
      step: i + 1,
      steps: count,
      sourceLeader,
    });
    current = to;
  });
  return steps;
}

/** The assignments a batch submits, in the shape `alterPartitionReassignments` takes. */
export function batchAssignments(batch: Pick<ReassignmentBatch, 'moves'>): PartitionAssignment[] {
  return batch.moves.map((m) => ({ topic: m.topic, partition: m.partition, replicas: [...m.to] }));
}

/**
 * Phase 2 of a plan (same replica sets reordered; no data moves) in chunks of at most `maxPerBatch`
 * partitions (Cruise Control moves at most 1000 leaders at once). Sorted by topic then partition.
 */
export function leaderChangeBatches(changes: PreferredLeaderChange[], maxPerBatch = 1000): PartitionAssignment[][] {
  if (!Number.isInteger(maxPerBatch) || maxPerBatch < 1) throw invalidInput(`maxPerBatch must be an integer of at least 1, got ${maxPerBatch}`);
  const sorted = [...changes].sort(comparePartitions).map((c) => ({ topic: c.topic, partition: c.partition, replicas: [...c.to] }));
  const out: PartitionAssignment[][] = [];
  for (let i = 0; i < sorted.length; i += maxPerBatch) out.push(sorted.slice(i, i + maxPerBatch));
  return out;
}
