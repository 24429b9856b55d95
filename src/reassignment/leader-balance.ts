/**
 * Preferred-leader balancing by reordering replica lists only (no data moves).
 *
 * 1. Each partition's candidate leaders are its replicas on brokers that may lead (registered, not being
 *    removed) and that will be in sync: in the current ISR, or added by this plan (in sync once it completes).
 * 2. Each broker's target is its weight's share of the leaders, capped by how many partitions it could lead,
 *    rounded to floor/ceil (within one of perfect).
 * 3. Leadership flows from brokers above target to brokers below along shortest chains
 *    (a leads p1 where b is a replica, b leads p2 where c is a replica, ...), the augmenting paths of a
 *    max-flow, repeated until none is left.
 * 4. Where placement puts the targets out of reach, leadership still flows from a broker to any reachable
 *    broker that stays less loaded after taking it, until no such chain is left.
 * 5. The chosen leader is moved to the front of the list; the other replicas keep their order.
 */
import { closestBalancedCounts, waterFill } from './targets';
import { type WorkingCluster, bump } from './working';

export interface LeaderBalanceOutcome {
  /** Brokers whose preferred-leader count stays outside floor/ceil of their share. */
  unbalancedBrokers: number[];
}

export function balanceLeaders(w: WorkingCluster, inScope: Uint8Array, mayLead: readonly boolean[]): LeaderBalanceOutcome {
  const brokerCount = w.brokerIds.length;
  const leaders = w.brokerIds.map((_, b) => b).filter((b) => mayLead[b]);
  const leaderOf = new Int32Array(w.partitions.length).fill(-1);
  const candidates: number[][] = [];
  const count = new Array<number>(brokerCount).fill(0);
  const couldLead = new Array<number>(brokerCount).fill(0);
  // Partitions led by a where b could lead instead, keyed a * brokerCount + b. Lists are append-only; an entry
  // is live while a still leads it (checked on use), and movableCount holds the live size.
  const movable: (number[] | undefined)[] = new Array(brokerCount * brokerCount);
  const movableHead = new Int32Array(brokerCount * brokerCount);
  const movableCount = new Int32Array(brokerCount * brokerCount);
  const addMovable = (a: number, b: number, p: number): void => {
    const key = a * brokerCount + b;
    const list = movable[key];
    if (list) list.push(p);
    else movable[key] = [p];
    bump(movableCount, key, 1);
  };
  const firstMovable = (a: number, b: number): number => {
    const key = a * brokerCount + b;
    const list = movable[key] as number[];
    let at = movableHead[key] as number;
    while (leaderOf[list[at] as number] !== a) at++;
    movableHead[key] = at;
    return list[at] as number;
  };

  w.partitions.forEach((part, p) => {
    candidates.push([]);
    if (inScope[p] !== 1) return;
    const electable = part.replicas.filter((b) => mayLead[b] && (part.isr.includes(b) || !part.original.includes(b)));
    candidates[p] = electable;
    const first = part.replicas[0] as number;
    const leader = electable.includes(first) ? first : (electable[0] ?? -1);
    if (leader < 0) return;
    leaderOf[p] = leader;
    bump(count, leader, 1);
    for (const b of electable) {
      bump(couldLead, b, 1);
      if (b !== leader) addMovable(leader, b, p);
    }
  });

  const total = leaders.reduce((s, b) => s + (count[b] as number), 0);
  const share = waterFill(
    total,
    leaders.map((b) => w.weight[b] as number),
    leaders.map((b) => couldLead[b] as number),
  );
  const lo = new Array<number>(brokerCount).fill(0);
  const hi = new Array<number>(brokerCount).fill(0);
  const rounded = closestBalancedCounts(
    leaders.map((b) => count[b] as number),
    share,
    total,
  );
  leaders.forEach((b, j) => {
    const s = share[j] as number;
    lo[b] = Math.min(Math.floor(s + 1e-9), rounded[j] as number);
    hi[b] = Math.max(Math.ceil(s - 1e-9), rounded[j] as number);
  });

  const hasEdge = (a: number, b: number): boolean => (movableCount[a * brokerCount + b] as number) > 0;

  const handOver = (p: number, to: number): void => {
    const from = leaderOf[p] as number;
    for (const c of candidates[p] as number[]) if (c !== from) bump(movableCount, from * brokerCount + c, -1);
    for (const c of candidates[p] as number[]) if (c !== to) addMovable(to, c, p);
    leaderOf[p] = to;
  };

  /** Shifts one leadership along the chain; only the ends change count. */
  const applyChain = (chain: number[]): void => {
    for (let i = 0; i + 1 < chain.length; i++) {
      const a = chain[i] as number;
      const b = chain[i + 1] as number;
      const p = firstMovable(a, b);
      handOver(p, b);
    }
    const first = chain[0] as number;
    const last = chain[chain.length - 1] as number;
    bump(count, first, -1);
    bump(count, last, 1);
  };

  /**
   * Shortest chain from `start` to a broker satisfying `isEnd`, following edges forward (leadership flows
   * away from start) or backward (towards start). Among ends at the same depth, the least (forward) or most
   * (backward) loaded wins.
   */
  const findChain = (start: number, isEnd: (b: number) => boolean, forward: boolean): number[] | null => {
    const parent = new Int32Array(brokerCount).fill(-2);
    parent[start] = -1;
    let frontier = [start];
    while (frontier.length > 0) {
      const next: number[] = [];
      let end = -1;
      for (const a of frontier) {
        for (const b of leaders) {
          if (parent[b] !== -2 || !(forward ? hasEdge(a, b) : hasEdge(b, a))) continue;
          parent[b] = a;
          next.push(b);
          if (!isEnd(b)) continue;
          const ratio = (count[b] as number) / (w.weight[b] as number);
          const endRatio = end < 0 ? 0 : (count[end] as number) / (w.weight[end] as number);
          if (end < 0 || (forward ? ratio < endRatio : ratio > endRatio)) end = b;
        }
      }
      if (end >= 0) {
        const chain: number[] = [];
        for (let b = end; b !== -1; b = parent[b] as number) chain.push(b);
        return forward ? chain.reverse() : chain;
      }
      frontier = next;
    }
    return null;
  };

  const above = (b: number): number => (count[b] as number) - (hi[b] as number);
  const below = (b: number): number => (lo[b] as number) - (count[b] as number);
  // Repeated until a whole pass changes nothing: a later chain can open a path an earlier source lacked.
  for (let progress = true; progress; ) {
    progress = false;
    for (const source of [...leaders].sort((a, b) => above(b) - above(a) || a - b)) {
      while (above(source) > 0) {
        const chain = findChain(source, (b) => (count[b] as number) < (hi[b] as number), true);
        if (!chain) break;
        applyChain(chain);
        progress = true;
      }
    }
    for (const sink of [...leaders].sort((a, b) => below(b) - below(a) || a - b)) {
      while (below(sink) > 0) {
        const chain = findChain(sink, (b) => (count[b] as number) > (lo[b] as number), false);
        if (!chain) break;
        applyChain(chain);
        progress = true;
      }
    }
  }

  // Where the targets are out of reach (placement splits brokers into groups), still even out what can be:
  // shift leadership from a broker to any reachable one that stays less loaded after taking it.
  const ratio = (b: number, extra = 0): number => ((count[b] as number) + extra) / (w.weight[b] as number);
  for (let improved = true; improved; ) {
    improved = false;
    for (const source of [...leaders].sort((a, b) => ratio(b) - ratio(a) || a - b)) {
      const chain = findChain(source, (b) => ratio(b, 1) < ratio(source) - 1e-9, true);
      if (chain) {
        applyChain(chain);
        improved = true;
        break;
      }
    }
  }

  w.partitions.forEach((part, p) => {
    const leader = leaderOf[p] as number;
    if (leader < 0 || part.replicas[0] === leader) return;
    part.replicas = [leader, ...part.replicas.filter((b) => b !== leader)];
  });

  return { unbalancedBrokers: leaders.filter((b) => (count[b] as number) < (lo[b] as number) || (count[b] as number) > (hi[b] as number)) };
}
