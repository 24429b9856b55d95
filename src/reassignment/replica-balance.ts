/**
 * Spreading replicas evenly over brokers with the fewest copies: used when brokers are added.
 *
 * 1. Each broker gets a balanced target (targets.ts); brokers above it are donors, below it receivers.
 *    The replicas that must leave donors are the lower bound; every move below takes exactly one of them.
 * 2. The receiver furthest below target takes a replica from the donor furthest above (same rack first),
 *    choosing among the donor's next few followers the one that keeps racks spread, best repairs a rack
 *    violation, and best evens out the topic. Leaders move only when a donor has no follower to give.
 * 3. When no donor can feed a receiver directly (it holds their partitions already, or racks forbid it), the
 *    rounding is shifted instead, at no extra copy: another broker below its ceiling takes the receiver's
 *    unit, or a broker above its floor gives to the receiver while a donor keeps one more.
 * 4. Failing that, another broker relays: donor -> relay and relay -> receiver. Relaying a replica the relay
 *    itself received in this plan just re-routes that copy; relaying one it held before costs one extra copy.
 */
import { TopicSpread, type WorkingCluster, type WorkingPartition, bump, countRacks, rackSpread, rackSpreadAfter } from './working';
import { type ReplicaBalanceTarget, balancedReplicaTargets } from './targets';

/** Followers of a donor examined per move; bigger finds better topic spread, costs time. */
const CANDIDATE_WINDOW = 16;

export interface ReplicaTargets extends ReplicaBalanceTarget {
  /** Replicas of partitions in scope per broker index now (0 for brokers not eligible). */
  current: number[];
  /** Broker indexes that may hold replicas after the plan. */
  eligible: number[];
}

/** Balanced targets for the partitions in scope over the eligible brokers. */
export function replicaTargets(w: WorkingCluster, inScope: Uint8Array, isEligible: readonly boolean[]): ReplicaTargets {
  const eligible = w.brokerIds.map((_, b) => b).filter((b) => isEligible[b]);
  const current = w.brokerIds.map(() => 0);
  const rackCount = countRacks(w, eligible);
  let partitionsInScope = 0;
  let rackCap = 0;
  w.partitions.forEach((p, i) => {
    if (inScope[i] !== 1) return;
    partitionsInScope++;
    const rf = p.replicas.length;
    // With RF <= racks a rack holds at most one replica of the partition; beyond that, the rest.
    rackCap += rf <= rackCount ? 1 : rf - rackCount + 1;
    for (const b of p.replicas) if (isEligible[b]) current[b] = (current[b] as number) + 1;
  });

  const denseRack = new Map<number, number>();
  for (const b of eligible) if (!denseRack.has(w.rack[b] as number)) denseRack.set(w.rack[b] as number, denseRack.size);
  const balance = balancedReplicaTargets({
    current: eligible.map((b) => current[b] as number),
    weight: eligible.map((b) => w.weight[b] as number),
    rackOf: eligible.map((b) => denseRack.get(w.rack[b] as number) as number),
    rackCount: denseRack.size,
    rackCap: w.racksSet ? rackCap : Number.POSITIVE_INFINITY,
    brokerCap: partitionsInScope,
  });

  const ideal = w.brokerIds.map(() => 0);
  const target = w.brokerIds.map(() => 0);
  eligible.forEach((b, j) => {
    ideal[b] = balance.ideal[j] as number;
    target[b] = balance.target[j] as number;
  });
  return { current, eligible, ideal, target, lowerBound: balance.lowerBound };
}

export interface ReplicaBalanceOutcome {
  /** Brokers left short of (or above) their target because placement rules allowed no further move. */
  unbalancedBrokers: number[];
}

/** Moves replicas of in-scope partitions until every eligible broker holds its target; mutates `w.partitions[].replicas`. */
export function balanceReplicas(w: WorkingCluster, inScope: Uint8Array, targets: ReplicaTargets): ReplicaBalanceOutcome {
  const brokerCount = w.brokerIds.length;
  const { eligible } = targets;
  const rackCount = countRacks(w, eligible);
  const spread = TopicSpread.of(w, (i) => inScope[i] === 1);
  // Replicas above target (donors) or below it (receivers, negative).
  const surplus = new Int32Array(brokerCount);
  for (const b of eligible) surplus[b] = (targets.current[b] as number) - (targets.target[b] as number);
  // Each broker may end anywhere in [floor(ideal), ceil(ideal)]; `target` is one choice, shifted when stuck.
  const target = [...targets.target];
  const floor = w.brokerIds.map(() => 0);
  const ceil = w.brokerIds.map(() => 0);
  for (const b of eligible) {
    floor[b] = Math.min(target[b] as number, Math.floor((targets.ideal[b] as number) + 1e-9));
    ceil[b] = Math.max(target[b] as number, Math.ceil((targets.ideal[b] as number) - 1e-9));
  }
  const donors = eligible.filter((b) => (surplus[b] as number) > 0);
  const receivers = eligible.filter((b) => (surplus[b] as number) < 0);
  const load = (b: number): number => ((target[b] as number) + (surplus[b] as number)) / (w.weight[b] as number);

  const isEligible = new Uint8Array(brokerCount);
  for (const b of eligible) isEligible[b] = 1;
  const holdings: number[][] = w.brokerIds.map(() => []);
  w.partitions.forEach((p, i) => {
    if (inScope[i] !== 1) return;
    for (const b of p.replicas) if (isEligible[b] === 1) holdings[b]?.push(i);
  });
  const ordered = new Uint8Array(brokerCount);
  // Candidates before head[b] were given away; the live list is candidatesOf(b)[head[b]..].
  const head = new Int32Array(brokerCount);
  const candidatesOf = (b: number): number[] => {
    const list = holdings[b] as number[];
    if (ordered[b] === 0) {
      orderCandidates(w, b, list);
      ordered[b] = 1;
    }
    return list;
  };

  /** Rack spread gained by moving p's replica from `from` to `to` (capped at what is required), or -1 if it would shrink. */
  const rackGain = (replicas: readonly number[], from: number, to: number): number => {
    if (!w.racksSet) return 0;
    const required = Math.min(replicas.length, rackCount);
    const before = Math.min(rackSpread(w, replicas), required);
    const after = Math.min(rackSpreadAfter(w, replicas, from, to), required);
    return after < before ? -1 : after - before;
  };

  // Pairs [giver * brokerCount + taker] already found to have nothing movable between them.
  const exhausted = new Uint8Array(brokerCount * brokerCount);

  /**
   * Position in `from`'s candidates of the best partition to give `to`, or -1. `receivedOnly`: only partitions
   * `from` received in this plan, whose replica can go on to `to` at no extra copy.
   */
  const bestCandidate = (from: number, to: number, receivedOnly = false): number => {
    if (!receivedOnly && exhausted[from * brokerCount + to] === 1) return -1;
    const list = candidatesOf(from);
    let bestAt = -1;
    let bestIsLeader = true;
    let bestGain = -1;
    let bestTopicGap = Number.POSITIVE_INFINITY;
    let compatible = 0;
    for (let j = head[from] as number; j < list.length; j++) {
      const part = w.partitions[list[j] as number];
      if (!part || part.replicas.includes(to) || (receivedOnly && part.original.includes(from))) continue;
      const gain = rackGain(part.replicas, from, to);
      if (gain < 0) continue;
      const isLeader = part.leader === from;
      const topicGap = spread.get(to, part.topicIndex) - spread.get(from, part.topicIndex);
      const better =
        bestAt < 0 ||
        (bestIsLeader && !isLeader) ||
        (bestIsLeader === isLeader && (gain > bestGain || (gain === bestGain && topicGap < bestTopicGap)));
      if (better) {
        bestAt = j;
        bestIsLeader = isLeader;
        bestGain = gain;
        bestTopicGap = topicGap;
      }
      if (++compatible >= CANDIDATE_WINDOW && !bestIsLeader) break;
    }
    if (bestAt < 0 && !receivedOnly) exhausted[from * brokerCount + to] = 1;
    return bestAt;
  };

  /** Moves the replica at position `at` of `from`'s candidates to `to`. */
  const give = (from: number, at: number, to: number): void => {
    const list = candidatesOf(from);
    const p = list[at] as number;
    const part = w.partitions[p];
    if (!part) return;
    // Drop it by shifting the (short) live prefix right over it: scans never revisit given-away partitions.
    const first = head[from] as number;
    for (let i = at; i > first; i--) list[i] = list[i - 1] as number;
    head[from] = first + 1;
    part.replicas[part.replicas.indexOf(from)] = to;
    // The receiver may pass it on later (relay, shifted rounding): it goes to the back of its candidates.
    holdings[to]?.push(p);
    exhausted.fill(0, to * brokerCount, (to + 1) * brokerCount);
    bump(surplus, from, -1);
    bump(surplus, to, 1);
    spread.add(from, part.topicIndex, -1);
    spread.add(to, part.topicIndex, 1);
  };

  const stuck = new Uint8Array(brokerCount);
  /** The receiver furthest below target (ties: least loaded now). */
  const nextReceiver = (): number => {
    let best = -1;
    for (const b of receivers) {
      const need = surplus[b] as number;
      if (need >= 0 || stuck[b] === 1) continue;
      if (best < 0 || need < (surplus[best] as number) || (need === surplus[best] && load(b) < load(best))) best = b;
    }
    return best;
  };
  const sameRackFirst = (a: number, b: number, receiver: number): number =>
    Number(w.rack[b] === w.rack[receiver]) - Number(w.rack[a] === w.rack[receiver]);
  const donorOrder = (a: number, b: number, receiver: number): number =>
    sameRackFirst(a, b, receiver) || (surplus[b] as number) - (surplus[a] as number) || a - b;
  /** The donor a receiver takes from next: same rack first, then the one furthest above target. */
  const nextDonor = (receiver: number): number => {
    let best = -1;
    for (const b of donors) {
      if ((surplus[b] as number) <= 0 || exhausted[b * brokerCount + receiver] === 1) continue;
      if (best < 0 || donorOrder(b, best, receiver) < 0) best = b;
    }
    return best;
  };

  /**
   * No donor can feed the receiver directly: a broker not above target passes one on and takes one from a
   * donor. Passing on a replica it received in this plan re-routes that copy (no extra copy); passing on one
   * it held before costs one extra copy, so that is tried last.
   */
  const relay = (receiver: number): boolean => {
    for (const receivedOnly of [true, false]) {
      for (const via of eligible) {
        if (via === receiver || (surplus[via] as number) > 0) continue;
        const onward = bestCandidate(via, receiver, receivedOnly);
        if (onward < 0) continue;
        const feeders = donors.filter((d) => (surplus[d] as number) > 0).sort((a, b) => donorOrder(a, b, via));
        for (const donor of feeders) {
          const inward = bestCandidate(donor, via);
          if (inward < 0) continue;
          give(via, onward, receiver);
          give(donor, inward, via);
          return true;
        }
      }
    }
    return false;
  };

  const retarget = (b: number, delta: number): void => {
    bump(target, b, delta);
    bump(surplus, b, -delta);
  };
  const canBeFed = (receiver: number): boolean => donors.some((d) => (surplus[d] as number) > 0 && bestCandidate(d, receiver) >= 0);

  /** Shifts the rounding so the stuck receiver needs one less, without an extra copy. */
  const shiftRounding = (receiver: number): boolean => {
    if ((target[receiver] as number) > (floor[receiver] as number)) {
      const byLoad = [...eligible].sort((a, b) => load(a) - load(b) || a - b);
      for (const other of byLoad) {
        if (other === receiver || stuck[other] === 1 || (surplus[other] as number) > 0 || (target[other] as number) >= (ceil[other] as number)) continue;
        if (!canBeFed(other)) continue;
        retarget(receiver, -1);
        retarget(other, 1);
        if (!receivers.includes(other)) receivers.push(other);
        return true;
      }
    }
    const keeper = donors.find((d) => (surplus[d] as number) > 0 && (target[d] as number) < (ceil[d] as number));
    if (keeper === undefined) return false;
    for (const giver of eligible) {
      if (giver === receiver || surplus[giver] !== 0 || (target[giver] as number) <= (floor[giver] as number)) continue;
      const at = bestCandidate(giver, receiver);
      if (at < 0) continue;
      retarget(keeper, 1);
      retarget(giver, -1);
      give(giver, at, receiver);
      return true;
    }
    return false;
  };

  // A receiver stuck early may be unblocked by later moves (a relay needs partitions others received): retry
  // the stuck ones until a round moves nothing (bounded, as shifted rounding could otherwise go back and forth).
  for (let round = 0, progress = true; progress && round <= eligible.length; round++) {
    progress = false;
    stuck.fill(0);
    for (let receiver = nextReceiver(); receiver >= 0; receiver = nextReceiver()) {
      let moved = false;
      for (let donor = nextDonor(receiver); donor >= 0 && !moved; donor = nextDonor(receiver)) {
        const at = bestCandidate(donor, receiver);
        if (at >= 0) {
          give(donor, at, receiver);
          moved = true;
        }
      }
      moved = moved || shiftRounding(receiver) || relay(receiver);
      if (moved) progress = true;
      else stuck[receiver] = 1;
    }
    if (!eligible.some((b) => stuck[b] === 1)) break;
  }

  return { unbalancedBrokers: eligible.filter((b) => surplus[b] !== 0) };
}

/**
 * Orders a broker's partitions for giving away: followers before leaders; within each, round-robin over
 * topics (one partition of each topic before a second of any), starting at a broker-specific topic so that
 * different donors do not all hand over the same topics first.
 */
function orderCandidates(w: WorkingCluster, broker: number, list: number[]): void {
  const topicCount = Math.max(1, w.topics.length);
  const partitionCount = w.partitions.length;
  const offset = (broker * 37) % topicCount;
  const rankInTopic = new Int32Array(topicCount);
  const keys = new Float64Array(list.length);
  list.forEach((p, i) => {
    const part = w.partitions[p] as WorkingPartition;
    const rank = rankInTopic[part.topicIndex] as number;
    rankInTopic[part.topicIndex] = rank + 1;
    const rotatedTopic = (part.topicIndex - offset + topicCount) % topicCount;
    const leaderLast = part.leader === broker ? 1 : 0;
    keys[i] = (leaderLast * (list.length + 1) + rank) * topicCount + rotatedTopic;
  });
  if (2 * (list.length + 1) * topicCount * partitionCount < Number.MAX_SAFE_INTEGER) {
    // Key and partition index packed in one number, so a native numeric sort does the work.
    const packed = keys.map((key, i) => key * partitionCount + (list[i] as number));
    packed.sort();
    packed.forEach((v, i) => {
      list[i] = v % partitionCount;
    });
  } else {
    const order = list.map((_, i) => i).sort((a, b) => (keys[a] as number) - (keys[b] as number));
    const sorted = order.map((i) => list[i] as number);
    sorted.forEach((p, i) => {
      list[i] = p;
    });
  }
}
