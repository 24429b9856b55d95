import type { NodeId } from '../model/cluster';
import { formatBytes, type ReplicaMove } from '../reassignment';
import { comparePartitions, partitionKey, sameSet } from './partitions';
import { type PartitionProgress, PartitionMoveState, type ReassignmentProgress, type ReassignmentSnapshot } from './types';

export interface ProgressOptions {
  /** Throttle rate in force (bytes/s, leader and follower), for the ETA; null or absent when unthrottled. */
  throttleRateBytesPerSec?: number | null;
  /** An earlier progress of the same wait (e.g. the first one), to measure the copy speed against. */
  baseline?: Pick<ReassignmentProgress, 'atMs' | 'bytesCopied'> | null;
  /** Bytes already on a new replica's broker (e.g. from kafka-log-dirs.sh), to count copies in flight. */
  replicaBytes?: { topic: string; partition: number; broker: NodeId; bytes: number }[];
  /** Pending partitions listed in the result; the rest are only counted. Default 50 (heartbeats stay small). */
  maxPendingListed?: number;
}

/**
 * Where a batch of moves stands, from one snapshot of metadata plus `listPartitionReassignments`.
 *
 * A partition is done when it is no longer listed as reassigning, its replica set is the target and every
 * target replica is in the ISR. A new replica counts as copied once it is in the ISR. Bytes are known when
 * every move's `bytes` is (size of one replica x replicas added).
 *
 * ETA, only when sizes are known: with a throttle, the busiest broker bounds it (bytes it still has to send
 * as leader, or to receive as a new replica, over the rate); with a baseline, the speed measured since then
 * gives another estimate; the ETA is the larger of those available.
 */
export function reassignmentProgress(moves: ReplicaMove[], snapshot: ReassignmentSnapshot, opts: ProgressOptions = {}): ReassignmentProgress {
  const observed = new Map(snapshot.partitions.map((p) => [partitionKey(p), p]));
  const partial = new Map((opts.replicaBytes ?? []).map((r) => [`${partitionKey(r)}/${r.broker}`, r.bytes]));
  const sizesKnown = moves.every((m) => m.bytes !== null);
  const inbound = new Map<NodeId, number>();
  const outbound = new Map<NodeId, number>();
  const add = (map: Map<NodeId, number>, b: NodeId, n: number) => map.set(b, (map.get(b) ?? 0) + n);
  const pending: PartitionProgress[] = [];
  let done = 0;
  let stuck = false;
  let replicasToCopy = 0;
  let replicasCopied = 0;
  let bytesTotal = 0;
  let bytesCopied = 0;

  for (const m of [...moves].sort(comparePartitions)) {
    const obs = observed.get(partitionKey(m));
    const adding = m.to.filter((b) => !m.from.includes(b));
    const replicaSize = m.bytes === null || adding.length === 0 ? 0 : m.bytes / adding.length;
    const isr = new Set(obs?.isr ?? []);
    replicasToCopy += adding.length;
    bytesTotal += replicaSize * adding.length;
    const source = obs && obs.leader >= 0 ? obs.leader : (m.from[0] ?? -1);
    for (const b of adding) {
      if (isr.has(b)) {
        replicasCopied++;
        bytesCopied += replicaSize;
        continue;
      }
      const already = Math.min(partial.get(`${partitionKey(m)}/${b}`) ?? 0, replicaSize);
      bytesCopied += already;
      add(inbound, b, replicaSize - already);
      add(outbound, source, replicaSize - already);
    }

    const waitingFor = obs ? m.to.filter((b) => !isr.has(b)) : [...m.to];
    const state: PartitionMoveState = !obs
      ? PartitionMoveState.Missing
      : obs.reassigning
        ? PartitionMoveState.Copying
        : !sameSet(obs.replicas, m.to)
          ? PartitionMoveState.Diverged
          : waitingFor.length > 0
            ? PartitionMoveState.CatchingUp
            : PartitionMoveState.Done;
    if (state === PartitionMoveState.Done) {
      done++;
      continue;
    }
    if (state === PartitionMoveState.Diverged || state === PartitionMoveState.Missing) stuck = true;
    pending.push({ topic: m.topic, partition: m.partition, state, target: [...m.to], waitingFor });
  }

  const allDone = done === moves.length;
  const remainingBytes = bytesTotal - bytesCopied;
  let etaMs: number | null = null;
  if (allDone) etaMs = 0;
  else if (sizesKnown) {
    const estimates: number[] = [];
    const rate = opts.throttleRateBytesPerSec;
    if (rate && rate > 0) {
      const busiest = Math.max(0, ...inbound.values(), ...outbound.values());
      estimates.push((busiest / rate) * 1000);
    }
    const base = opts.baseline;
    if (base && base.bytesCopied !== null && bytesCopied > base.bytesCopied && snapshot.atMs > base.atMs) {
      const bytesPerMs = (bytesCopied - base.bytesCopied) / (snapshot.atMs - base.atMs);
      estimates.push(remainingBytes / bytesPerMs);
    }
    if (estimates.length > 0) etaMs = Math.round(Math.max(...estimates));
  }

  return {
    atMs: snapshot.atMs,
    partitionsTotal: moves.length,
    partitionsDone: done,
    partitionsRemaining: moves.length - done,
    replicasToCopy,
    replicasCopied,
    bytesTotal: sizesKnown ? Math.round(bytesTotal) : null,
    bytesCopied: sizesKnown ? Math.round(bytesCopied) : null,
    etaMs,
    done: allDone,
    stuck,
    pending: pending.slice(0, opts.maxPendingListed ?? 50),
  };
}

/** "1:05:03", "4m 05s", "12s". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** One line for logs, heartbeats and the workflow's current details. */
export function describeProgress(p: ReassignmentProgress): string {
  const parts = [`${p.partitionsDone}/${p.partitionsTotal} partitions done`, `${p.replicasCopied}/${p.replicasToCopy} new replicas in sync`];
  if (p.bytesTotal !== null && p.bytesCopied !== null) parts.push(`${formatBytes(p.bytesCopied)} of ${formatBytes(p.bytesTotal)} copied`);
  if (!p.done && p.etaMs !== null) parts.push(`ETA ${formatDuration(p.etaMs)}`);
  if (p.stuck) {
    const stuck = p.pending.filter((x) => x.state === PartitionMoveState.Diverged || x.state === PartitionMoveState.Missing);
    parts.push(`stuck: ${stuck.map((x) => `${x.topic}-${x.partition} ${x.state}`).join(', ')}`);
  }
  return parts.join(', ');
}
