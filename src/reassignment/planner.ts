import type { NodeId } from '../model/cluster';
import { changeReplicationFactor, drainBrokers } from './drain';
import { balanceLeaders } from './leader-balance';
import { balanceReplicas, replicaTargets } from './replica-balance';
import type {
  PartitionAssignment,
  PreferredLeaderChange,
  ReassignmentGoal,
  ReassignmentInput,
  ReassignmentPlan,
  ReassignmentStats,
  ReplicaMove,
} from './types';
import {
  listIds,
  refuseBrokersAlreadyPresent,
  resolveBrokersToAdd,
  resolveBrokersToRemove,
  resolveExplicitGoal,
  resolveReplicationFactorGoal,
  resolveTopicScope,
} from './validate-goal';
import { type WorkingCluster, buildWorkingCluster, bump, countRacks, partitionName, rackSpread } from './working';

/**
 * Plans a partition reassignment. Pure and deterministic: no I/O, no clock, no randomness; the same input
 * (in any order) gives the same plan, so it can run inside a Temporal workflow.
 *
 * Guarantees, for every goal:
 * - no partition has two replicas on one broker, and new replicas go to registered brokers only;
 * - when racks are set, every replica placed goes where it spreads its partition over the most racks: adding
 *   brokers never narrows a partition's spread, removing brokers and RF changes keep min(RF, racks) whenever
 *   the remaining brokers allow it (explicit plans are taken as written, with a note when they narrow it);
 * - `moves[].to` keeps the current leader first when it stays, so leadership does not move while data copies;
 *   a move changes the leader only when the leader's replica itself moves (its broker is removed, or, for
 *   addBrokers, as a last resort). Leader balancing is phase 2: `leaderChanges`, same replica sets reordered,
 *   to apply after every move completed, then a preferred leader election.
 *
 * Per goal, with `lowerBound` (copies no plan can avoid) defined as:
 * - addBrokers: every broker ends within one of its perfect share of the in-scope replicas
 *   (proportional to capacity weight; with racks, racks first get what rack-awareness lets them hold).
 *   lowerBound = sum over brokers of max(0, current - target), where target is the balanced count per broker
 *   (floor or ceil of the share) that needs the fewest moves. With equal weights and no racks:
 *   max(sum max(0, c_b - ceil(T/N)), sum max(0, floor(T/N) - c_b)). replicasMoved is normally equal to it.
 * - removeBrokers: moves exactly the in-scope replicas on the removed brokers; lowerBound = that number,
 *   so movesOverLowerBound is exactly 1. Destinations are the least loaded brokers that keep racks spread.
 * - setReplicationFactor: copies only the new replicas (lowerBound = sum of RF increases); a decrease copies
 *   nothing and drops the replica that keeps racks spread, is out of sync, or sits on the most loaded broker,
 *   never the leader.
 * - balanceLeaders: no data moves (lowerBound 0); preferred leaders within one of perfect where reordering
 *   can achieve it.
 * - explicit: the operator's lists as given; lowerBound = the copies they imply.
 * After add/remove, preferred leaders are balanced too (phase 2).
 *
 * @throws PlanRefused when the goal cannot or should not be planned; the message names the offending value.
 */
export function planReassignment(input: ReassignmentInput): ReassignmentPlan {
  const w = buildWorkingCluster(input);
  const goal = input.goal;
  const notes: string[] = [];
  const registered = indexesWhere(w, (b) => w.registered[b] === true);
  let removed = w.brokerIds.map(() => false);
  let lowerBound = 0;

  switch (goal.kind) {
    case 'addBrokers': {
      const adding = resolveBrokersToAdd(w, goal);
      const scope = resolveTopicScope(w, goal.topics);
      const isEligible = w.brokerIds.map((_, b) => w.registered[b] === true);
      const targets = replicaTargets(w, scope, isEligible);
      refuseBrokersAlreadyPresent(w, adding, targets.current, targets.target);
      lowerBound = targets.lowerBound;
      const outcome = balanceReplicas(w, scope, targets);
      if (outcome.unbalancedBrokers.length > 0) {
        notes.push(`Replica counts on brokers ${brokerList(w, outcome.unbalancedBrokers)} cannot reach their balanced target: rack spread and one replica per broker allow no further move.`);
      }
      noteUnregisteredHolders(w, removed, notes);
      balancePreferredLeaders(w, scope, isEligible, notes);
      break;
    }
    case 'removeBrokers': {
      const scope = resolveTopicScope(w, goal.topics);
      const removing = resolveBrokersToRemove(w, goal, scope);
      removed = w.brokerIds.map((_, b) => removing.includes(b));
      const isEligible = w.brokerIds.map((_, b) => w.registered[b] === true && !removed[b]);
      lowerBound = drainBrokers(
        w,
        scope,
        removed,
        registered.filter((b) => !removed[b]),
      );
      const left = w.partitions.reduce((n, p) => n + p.replicas.filter((b) => removed[b]).length, 0);
      if (left > 0) notes.push(`${count(left, 'replica')} of topics outside the filter stay on brokers ${brokerList(w, removing)}; they are not empty yet.`);
      noteUnregisteredHolders(w, removed, notes);
      balancePreferredLeaders(w, scope, isEligible, notes);
      break;
    }
    case 'setReplicationFactor': {
      const topic = resolveReplicationFactorGoal(w, goal);
      const current = new Set((w.partitionsByTopic[topic] ?? []).map((p) => w.partitions[p]?.replicas.length));
      if (current.size === 1 && current.has(goal.replicationFactor)) notes.push(`Topic "${goal.topic}" already has replication factor ${goal.replicationFactor}; nothing to do.`);
      lowerBound = changeReplicationFactor(w, topic, goal.replicationFactor, registered);
      break;
    }
    case 'balanceLeaders': {
      balancePreferredLeaders(w, new Uint8Array(w.partitions.length).fill(1), w.registered, notes);
      break;
    }
    case 'explicit': {
      for (const [p, replicas] of resolveExplicitGoal(w, goal)) {
        const part = w.partitions[p];
        if (!part) continue;
        part.replicas = replicas;
        lowerBound += replicas.filter((b) => !part.original.includes(b)).length;
      }
      noteRackSpreadLost(w, registered, notes);
      break;
    }
  }

  return assemblePlan(w, goal, lowerBound, removed, notes);
}

/** "1 replica", "3 replicas". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function indexesWhere(w: WorkingCluster, predicate: (b: number) => boolean): number[] {
  return w.brokerIds.map((_, b) => b).filter(predicate);
}

function brokerList(w: WorkingCluster, brokers: readonly number[]): string {
  return listIds(brokers.map((b) => w.brokerIds[b] as NodeId));
}

function balancePreferredLeaders(w: WorkingCluster, scope: Uint8Array, mayLead: readonly boolean[], notes: string[]): void {
  const outcome = balanceLeaders(w, scope, mayLead);
  if (outcome.unbalancedBrokers.length > 0) {
    notes.push(`Preferred leaders on brokers ${brokerList(w, outcome.unbalancedBrokers)} cannot reach their balanced share by reordering alone: the replica placement allows no better.`);
  }
}

function noteUnregisteredHolders(w: WorkingCluster, removed: readonly boolean[], notes: string[]): void {
  const holders = indexesWhere(w, (b) => !w.registered[b] && !removed[b]);
  if (holders.length > 0) {
    notes.push(`Brokers ${brokerList(w, holders)} hold replicas but are not registered; their replicas were left in place (plan removeBrokers for them).`);
  }
}

function noteRackSpreadLost(w: WorkingCluster, registered: number[], notes: string[]): void {
  if (!w.racksSet) return;
  const racks = countRacks(w, registered);
  const lost = w.partitions.filter((p) => {
    const required = Math.min(p.replicas.length, racks);
    return rackSpread(w, p.replicas) < required && rackSpread(w, p.replicas) < rackSpread(w, p.original);
  });
  if (lost.length > 0) {
    const names = lost.slice(0, 10).map((p) => partitionName(p.topic, p.partition));
    notes.push(`The explicit plan spreads ${count(lost.length, 'partition')} over fewer racks than before and than possible: ${names.join(', ')}${lost.length > 10 ? ', ...' : ''}.`);
  }
}

function idsOf(w: WorkingCluster, brokers: readonly number[]): NodeId[] {
  return brokers.map((b) => w.brokerIds[b] as NodeId);
}

/** The replicas in `final` order, with the current leader moved first if it stays (phase 1 list). */
function withLeaderFirst(final: readonly number[], leader: number): number[] {
  return final.includes(leader) ? [leader, ...final.filter((b) => b !== leader)] : [...final];
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function assemblePlan(w: WorkingCluster, goal: ReassignmentGoal, lowerBound: number, removed: readonly boolean[], notes: string[]): ReassignmentPlan {
  const target: PartitionAssignment[] = [];
  const moves: ReplicaMove[] = [];
  const leaderChanges: PreferredLeaderChange[] = [];
  let replicasMoved = 0;
  let replicasRemoved = 0;
  let bytesMoved: number | null = w.partitionSizesGiven ? 0 : null;
  let sizesMissing = 0;
  let preferredLeaderChanges = 0;

  const brokerCount = w.brokerIds.length;
  const replicasBefore = new Int32Array(brokerCount);
  const replicasAfter = new Int32Array(brokerCount);
  const leadersBefore = new Int32Array(brokerCount);
  const leadersAfter = new Int32Array(brokerCount);

  for (const part of w.partitions) {
    const final = part.replicas;
    for (const b of part.original) bump(replicasBefore, b, 1);
    for (const b of final) bump(replicasAfter, b, 1);
    bump(leadersBefore, part.original[0] as number, 1);
    bump(leadersAfter, final[0] as number, 1);
    target.push({ topic: part.topic, partition: part.partition, replicas: idsOf(w, final) });
    if (sameList(part.original, final)) continue;
    if (part.original[0] !== final[0]) preferredLeaderChanges++;
    const adding = final.filter((b) => !part.original.includes(b));
    const removing = part.original.filter((b) => !final.includes(b));
    let phase2From = part.original;
    if (adding.length > 0 || removing.length > 0) {
      const to = withLeaderFirst(final, part.leader);
      const bytes = part.bytes === null ? null : part.bytes * adding.length;
      if (bytes === null && adding.length > 0) sizesMissing++;
      moves.push({
        topic: part.topic,
        partition: part.partition,
        from: idsOf(w, part.original),
        to: idsOf(w, to),
        addingReplicas: idsOf(w, adding),
        removingReplicas: idsOf(w, removing),
        bytes,
      });
      replicasMoved += adding.length;
      replicasRemoved += removing.length;
      if (bytesMoved !== null) bytesMoved = bytes === null ? bytesMoved : bytesMoved + bytes;
      phase2From = to;
    }
    if (!sameList(phase2From, final)) {
      leaderChanges.push({
        topic: part.topic,
        partition: part.partition,
        from: idsOf(w, phase2From),
        to: idsOf(w, final),
        leaderBefore: w.brokerIds[phase2From[0] as number] as NodeId,
        leaderAfter: w.brokerIds[final[0] as number] as NodeId,
      });
    }
  }
  if (w.partitionSizesGiven && sizesMissing > 0) {
    bytesMoved = null;
    notes.push(`Sizes are missing for ${count(sizesMissing, 'moved partition')}, so the bytes to copy are unknown.`);
  }

  const registered = indexesWhere(w, (b) => w.registered[b] === true);
  const stats: ReassignmentStats = {
    partitions: w.partitions.length,
    partitionsMoved: moves.length,
    replicasMoved,
    replicasRemoved,
    bytesMoved,
    lowerBound,
    movesOverLowerBound: lowerBound === 0 ? (replicasMoved === 0 ? 1 : Number.POSITIVE_INFINITY) : replicasMoved / lowerBound,
    preferredLeaderChanges,
    replicasPerBroker: { before: byBrokerId(w, replicasBefore), after: byBrokerId(w, replicasAfter) },
    leadersPerBroker: { before: byBrokerId(w, leadersBefore), after: byBrokerId(w, leadersAfter) },
    rackViolations: {
      before: rackViolations(w, registered, (p) => p.original),
      after: rackViolations(
        w,
        registered.filter((b) => !removed[b]),
        (p) => p.replicas,
      ),
    },
  };
  return { goal, target, moves, leaderChanges, stats, notes };
}

function byBrokerId(w: WorkingCluster, counts: Int32Array): Record<NodeId, number> {
  const record: Record<NodeId, number> = {};
  w.brokerIds.forEach((id, b) => {
    record[id] = counts[b] as number;
  });
  return record;
}

function rackViolations(w: WorkingCluster, brokers: number[], replicasOf: (p: WorkingCluster['partitions'][number]) => readonly number[]): number {
  if (!w.racksSet) return 0;
  const racks = countRacks(w, brokers);
  return w.partitions.filter((p) => {
    const replicas = replicasOf(p);
    return rackSpread(w, replicas) < Math.min(replicas.length, racks);
  }).length;
}
