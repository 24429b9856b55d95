/**
 * Balanced counts per broker, and the fewest moves that reach them.
 *
 * "Balanced" means each broker ends within one of its ideal share: floor(ideal) <= count <= ceil(ideal).
 * The ideal is proportional to capacity weight, capped where racks make more impossible (a rack can hold at
 * most one replica of a partition when RF <= racks), with the excess spread over the other racks.
 */

const EPSILON = 1e-9;

/** Real shares of `total` proportional to `weights`, none above its cap; what a capped item cannot take goes to the rest. */
export function waterFill(total: number, weights: readonly number[], caps: readonly number[]): number[] {
  const share = weights.map(() => 0);
  let open = weights.map((_, i) => i);
  let remaining = total;
  while (open.length > 0 && remaining > EPSILON) {
    const openWeight = open.reduce((sum, i) => sum + (weights[i] as number), 0);
    const level = remaining / openWeight;
    const saturated = open.filter((i) => level * (weights[i] as number) >= (caps[i] as number) - EPSILON);
    if (saturated.length === 0) {
      for (const i of open) share[i] = level * (weights[i] as number);
      break;
    }
    for (const i of saturated) {
      share[i] = caps[i] as number;
      remaining -= caps[i] as number;
    }
    open = open.filter((i) => !saturated.includes(i));
  }
  return share;
}

/**
 * Integer counts summing to `total`, each within [floor(share), ceil(share)], that differ least from
 * `current`: the number of units that must leave over-target items, sum(max(0, current - count)), is minimal.
 * Which items take the rounding up is decided by who holds more now, so nobody is drained just to refill.
 */
export function closestBalancedCounts(current: readonly number[], share: readonly number[], total: number): number[] {
  const lo = share.map((s) => Math.floor(s + EPSILON));
  const hi = share.map((s, i) => Math.max(lo[i] as number, Math.ceil(s - EPSILON)));
  const count = current.map((c, i) => Math.min(hi[i] as number, Math.max(lo[i] as number, c)));
  let excess = count.reduce((a, b) => a + b, 0) - total;
  const indexes = current.map((_, i) => i);
  // Each pass moves every eligible item by one; a second pass only runs if shares and total disagree (rounding).
  for (let pass = 0; excess !== 0 && pass < 64; pass++) {
    const relaxed = pass > 0;
    if (excess > 0) {
      const order = indexes
        .filter((i) => (count[i] as number) > (relaxed ? 0 : (lo[i] as number)))
        .sort((a, b) => (current[b] as number) - (share[b] as number) - ((current[a] as number) - (share[a] as number)) || a - b);
      for (const i of order) {
        if (excess === 0) break;
        count[i] = (count[i] as number) - 1;
        excess--;
      }
    } else {
      const order = indexes
        .filter((i) => relaxed || (count[i] as number) < (hi[i] as number))
        .sort((a, b) => (share[b] as number) - (current[b] as number) - ((share[a] as number) - (current[a] as number)) || a - b);
      for (const i of order) {
        if (excess === 0) break;
        count[i] = (count[i] as number) + 1;
        excess++;
      }
    }
  }
  return count;
}

/** Units that must leave items above their target: the least number of moves from `current` to `target`. */
export function movesToReach(current: readonly number[], target: readonly number[]): number {
  return current.reduce((sum, c, i) => sum + Math.max(0, c - (target[i] as number)), 0);
}

export interface ReplicaBalanceInput {
  /** Replicas in scope per broker now. */
  current: readonly number[];
  weight: readonly number[];
  /** Dense rack index per broker, 0..rackCount-1. */
  rackOf: readonly number[];
  rackCount: number;
  /** Most replicas one rack can hold (the same for every rack); Infinity when placement is not rack-aware. */
  rackCap: number;
  /** Most replicas one broker can hold: the number of partitions in scope. */
  brokerCap: number;
}

export interface ReplicaBalanceTarget {
  /** Real-valued perfect share per broker. */
  ideal: number[];
  /** Integer target per broker, within one of ideal. */
  target: number[];
  /** sum(max(0, current - target)): replicas that must move to reach the target. */
  lowerBound: number;
}

/** Balanced replica targets per broker: racks get their share first, then brokers within each rack. */
export function balancedReplicaTargets(input: ReplicaBalanceInput): ReplicaBalanceTarget {
  const { current, weight, rackOf, rackCount } = input;
  const total = current.reduce((a, b) => a + b, 0);
  const members: number[][] = Array.from({ length: rackCount }, () => []);
  rackOf.forEach((r, b) => members[r]?.push(b));

  const rackWeight = members.map((m) => m.reduce((s, b) => s + (weight[b] as number), 0));
  const rackCapacity = members.map((m) => Math.min(input.rackCap, m.length * input.brokerCap));
  const rackCurrent = members.map((m) => m.reduce((s, b) => s + (current[b] as number), 0));
  const rackShare = waterFill(total, rackWeight, rackCapacity);
  const rackTarget = closestBalancedCounts(rackCurrent, rackShare, total);

  const ideal = current.map(() => 0);
  const target = current.map(() => 0);
  members.forEach((m, r) => {
    const rackTotal = rackTarget[r] as number;
    const share = waterFill(
      rackTotal,
      m.map((b) => weight[b] as number),
      m.map(() => input.brokerCap),
    );
    const counts = closestBalancedCounts(
      m.map((b) => current[b] as number),
      share,
      rackTotal,
    );
    m.forEach((b, j) => {
      ideal[b] = share[j] as number;
      target[b] = counts[j] as number;
    });
  });
  return { ideal, target, lowerBound: movesToReach(current, target) };
}
