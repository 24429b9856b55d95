import { canRestartBrokers, canRestartController, DEFAULT_QUORUM_FETCH_TIMEOUT_MS, type GuardDecision, listNames, partitionName } from '../health';
import type { ClusterMetadata, NodeId, NodeRole } from '../model/cluster';
import type { Parallelism } from './input';
import type { PlannedNode } from './order';

/** Nodes that go down together, and why they may. */
export interface RestartBatch {
  nodes: PlannedNode[];
  reason: string;
}

export interface BatchPlan {
  batches: RestartBatch[];
  /** Decisions that apply to the whole plan (fallbacks, partitions that cannot stay available). */
  notes: string[];
}

const phrase = (ids: readonly NodeId[]): string => (ids.length === 1 ? `broker ${ids[0]}` : `brokers ${ids.join(', ')}`);

/**
 * May these nodes go down together now? The broker side (every node with the broker role) must pass
 * canRestartBrokers; in KRaft mode every node with the controller role must pass canRestartController.
 * The workflow calls this again right before each batch: a plan made minutes earlier proves nothing.
 */
export function canRestartBatch(
  metadata: ClusterMetadata,
  nodes: readonly { nodeId: NodeId; roles: readonly NodeRole[] }[],
  quorumFetchTimeoutMs = DEFAULT_QUORUM_FETCH_TIMEOUT_MS,
): GuardDecision {
  const brokers = nodes.filter((n) => n.roles.includes('broker')).map((n) => n.nodeId);
  const decisions: GuardDecision[] = brokers.length > 0 ? [canRestartBrokers(metadata, brokers)] : [];
  if (metadata.mode === 'kraft') {
    for (const n of nodes.filter((x) => x.roles.includes('controller'))) decisions.push(canRestartController(metadata.quorum, n.nodeId, quorumFetchTimeoutMs));
  }
  return {
    safe: decisions.every((d) => d.safe),
    reasons: decisions.flatMap((d) => d.reasons),
    ignored: decisions.flatMap((d) => d.ignored),
  };
}

/**
 * Batch brokers the metadata does not list: down, or fenced, which includes a broker recovering its logs.
 * Only these need their state read on the host (a listed broker has finished its recovery).
 */
export function brokersToCheckForRecovery(metadata: Pick<ClusterMetadata, 'brokers'>, nodes: readonly { nodeId: NodeId; roles: readonly NodeRole[] }[]): NodeId[] {
  const registered = new Set(metadata.brokers.map((b) => b.id));
  return nodes.filter((n) => n.roles.includes('broker') && !registered.has(n.nodeId)).map((n) => n.nodeId);
}

/** The guard's last rule: never restart a broker in log recovery (RECOVERY); a restart would start the recovery over. */
export function refuseRecovering(decision: GuardDecision, recovering: readonly { nodeId: NodeId; host: string }[]): GuardDecision {
  if (recovering.length === 0) return decision;
  return {
    safe: false,
    reasons: [...decision.reasons, ...recovering.map((r) => `${r.host} (node ${r.nodeId}) is recovering its logs (broker state RECOVERY): a restart now would start the recovery over.`)],
    ignored: decision.ignored,
  };
}

/**
 * A quorum read is a JVM start on a host (about 1.2 s), so a fresh read is about that old when it arrives: a
 * guard may use an observation up to this old (the one the previous node's catch-up wait ended on) instead.
 */
export const RECENT_QUORUM_MAX_AGE_MS = 2000;

/** Whether a quorum observation made at `observedAtMs` may stand in for a fresh read at `nowMs`. */
export function isRecentQuorum(observedAtMs: number, nowMs: number, maxAgeMs = RECENT_QUORUM_MAX_AGE_MS): boolean {
  const age = nowMs - observedAtMs;
  return age >= 0 && age <= maxAgeMs;
}

/** Node id -> "topic-p" of every partition it holds a replica of (including replicas being added or removed). */
function replicaSets(metadata: ClusterMetadata): Map<NodeId, Set<string>> {
  const sets = new Map<NodeId, Set<string>>();
  for (const t of metadata.topics) {
    for (const p of t.partitions) {
      for (const id of p.replicas) {
        let s = sets.get(id);
        if (!s) sets.set(id, (s = new Set()));
        s.add(partitionName(p));
      }
    }
  }
  return sets;
}

function sharedPartition(sets: Map<NodeId, Set<string>>, a: NodeId, b: NodeId): string | null {
  const sa = sets.get(a);
  const sb = sets.get(b);
  if (!sa || !sb) return null;
  const [small, large] = sa.size <= sb.size ? [sa, sb] : [sb, sa];
  for (const name of small) if (large.has(name)) return name;
  return null;
}

/** Whether a node may share a batch at all: healthy broker-only nodes that are not the controller. */
function groupable(n: PlannedNode): boolean {
  return n.kind === 'broker' && n.unhealthy.length === 0 && !n.activeController;
}

function aloneReason(n: PlannedNode): string {
  if (n.unhealthy.length > 0) return `alone: already unhealthy (${n.unhealthy.join('; ')}); restarted on its own so its recovery can be seen`;
  if (n.activeController) return n.kind === 'broker' ? 'alone: the active controller' : 'alone: the active controller (quorum leader)';
  if (n.kind === 'controller') return 'alone: controllers restart one at a time so the quorum keeps its majority';
  return 'alone: combined broker+controller nodes restart one at a time so the quorum keeps its majority';
}

/**
 * Greedy grouping of healthy broker-only nodes that share no partition, in order, at most `maxBatch` each;
 * every batch also passes canRestartBrokers. A broker that is not safe to restart even alone gets its own
 * batch: the runbook will wait for its guard.
 */
function groupNoSharedPartitions(segment: PlannedNode[], metadata: ClusterMetadata, sets: Map<NodeId, Set<string>>, maxBatch: number, prefix = ''): RestartBatch[] {
  const batches: RestartBatch[] = [];
  const remaining = [...segment];
  while (remaining.length > 0) {
    const first = remaining.shift() as PlannedNode;
    const solo = canRestartBrokers(metadata, [first.nodeId]);
    if (!solo.safe) {
      batches.push({ nodes: [first], reason: `${prefix}alone: not safe to restart now (${solo.reasons[0] ?? 'guard refused'}); the runbook waits for its guard` });
      continue;
    }
    const batch = [first];
    let blockedBy: string | null = null;
    for (let i = 0; i < remaining.length && batch.length < maxBatch; ) {
      const cand = remaining[i] as PlannedNode;
      const shared = batch.map((b) => ({ b, p: sharedPartition(sets, b.nodeId, cand.nodeId) })).find((x) => x.p !== null);
      if (shared) {
        blockedBy ??= `shares ${shared.p} with broker ${cand.nodeId}`;
        i++;
        continue;
      }
      const together = canRestartBrokers(metadata, [...batch, cand].map((b) => b.nodeId));
      if (!together.safe) {
        blockedBy ??= `not with broker ${cand.nodeId}: ${together.reasons[0] ?? 'guard refused'}`;
        i++;
        continue;
      }
      batch.push(cand);
      remaining.splice(i, 1);
    }
    const ids = batch.map((b) => b.nodeId);
    let reason: string;
    if (batch.length > 1) reason = `${phrase(ids)} share no partition and min ISR holds with all of them down`;
    else if (maxBatch === 1) reason = 'alone: maxBatch is 1';
    else if (remaining.length === 0 && !blockedBy) reason = 'alone: no other broker left to pair it with';
    else reason = `alone: no remaining broker can join it (${blockedBy ?? `batch limit ${maxBatch}`})`;
    batches.push({ nodes: batch, reason: prefix + reason });
  }
  return batches;
}

/** The rack each broker is in: the metadata's broker.rack for registered brokers, else the inventory's. */
function rackMap(metadata: ClusterMetadata, nodes: readonly PlannedNode[]): Map<NodeId, string | null> {
  const racks = new Map<NodeId, string | null>();
  for (const n of nodes) racks.set(n.nodeId, n.rack);
  for (const b of metadata.brokers) racks.set(b.id, b.rack ?? racks.get(b.id) ?? null);
  return racks;
}

function groupRacks(segment: PlannedNode[], metadata: ClusterMetadata, sets: Map<NodeId, Set<string>>, allNodes: readonly PlannedNode[], notes: string[]): RestartBatch[] {
  const racks = rackMap(metadata, allNodes);
  const byRack = new Map<string, PlannedNode[]>();
  const batches: RestartBatch[] = [];
  const rackless: PlannedNode[] = [];
  for (const n of segment) {
    const rack = racks.get(n.nodeId) ?? null;
    if (rack === null) {
      rackless.push(n);
      continue;
    }
    const list = byRack.get(rack) ?? [];
    list.push(n);
    byRack.set(rack, list);
  }
  for (const [rack, members] of byRack) {
    const ids = members.map((m) => m.nodeId);
    const idSet = new Set(ids);
    // A partition whose every replica sits in this rack would go offline with the rack: RF >= 2 partitions
    // only (an RF 1 partition is offline during any restart of its broker, one at a time or not).
    const confined: string[] = [];
    for (const t of metadata.topics) {
      for (const p of t.partitions) {
        if (p.replicas.length < 2 || !p.replicas.some((r) => idSet.has(r))) continue;
        if (p.replicas.every((r) => racks.get(r) === rack)) confined.push(partitionName(p));
      }
    }
    let fallback: string | null = null;
    if (confined.length > 0) {
      fallback = `rack ${rack} cannot restart at once: ${confined.length} partition${confined.length === 1 ? ' has' : 's have'} every replica in it (${listNames(confined, 5)})`;
    } else {
      const guard = canRestartBrokers(metadata, ids);
      if (!guard.safe) fallback = `rack ${rack} cannot restart at once: ${guard.reasons[0] ?? 'guard refused'}`;
    }
    if (fallback === null) {
      batches.push({
        nodes: members,
        reason:
          members.length === 1
            ? `rack ${rack}: the only broker of the rack in this run`
            : `whole rack ${rack} (${phrase(ids)}): every partition on it has a replica in another rack and min ISR holds with the rack down`,
      });
      continue;
    }
    notes.push(`${fallback}; its brokers restart in smaller batches of brokers that share no partition.`);
    batches.push(...groupNoSharedPartitions(members, metadata, sets, members.length, `${fallback}; `));
  }
  for (const n of rackless) batches.push({ nodes: [n], reason: 'alone: no rack known for it (broker.rack unset)' });
  if (rackless.length > 0) notes.push(`${phrase(rackless.map((n) => n.nodeId))} ha${rackless.length === 1 ? 's' : 've'} no rack: restarted one at a time.`);
  return batches;
}

/**
 * Cuts the ordered nodes into batches that go down together.
 *
 * - Controllers, combined nodes, the active controller and unhealthy nodes always go alone, in order.
 * - one-at-a-time: every node alone.
 * - no-shared-partitions: within each run of consecutive healthy broker-only nodes, greedily groups brokers
 *   (in order) that share no partition, up to maxBatch, each batch passing canRestartBrokers.
 * - rack: within such a run, a rack's brokers go together when no partition (RF >= 2) has all its replicas
 *   in the rack and canRestartBrokers holds for them all; otherwise the rack falls back to
 *   no-shared-partitions batches, and a note says why. Brokers with no rack go alone.
 *
 * Grouping may pull a later broker forward within its run, never across a controller or an unhealthy node.
 */
export function planBatches(order: readonly PlannedNode[], metadata: ClusterMetadata, parallelism: Parallelism): BatchPlan {
  const notes: string[] = [];
  const batches: RestartBatch[] = [];
  if (parallelism.mode === 'one-at-a-time') {
    for (const n of order) batches.push({ nodes: [n], reason: groupable(n) ? 'one at a time' : `one at a time; ${aloneReason(n).replace(/^alone: /, '')}` });
    return { batches, notes };
  }
  const sets = replicaSets(metadata);
  let segment: PlannedNode[] = [];
  const flush = () => {
    if (segment.length === 0) return;
    batches.push(...(parallelism.mode === 'rack' ? groupRacks(segment, metadata, sets, order, notes) : groupNoSharedPartitions(segment, metadata, sets, parallelism.maxBatch)));
    segment = [];
  };
  for (const n of order) {
    if (groupable(n)) {
      segment.push(n);
      continue;
    }
    flush();
    batches.push({ nodes: [n], reason: aloneReason(n) });
  }
  flush();
  return { batches, notes };
}
