import { balancedReplicaTargets, closestBalancedCounts, waterFill } from '../../../src/reassignment/targets';

describe('waterFill', () => {
  test('proportional to weight when no cap binds', () => {
    expect(waterFill(12, [1, 1, 2], [100, 100, 100])).toEqual([3, 3, 6]);
  });
  test('a capped item keeps its cap and the rest share the remainder', () => {
    expect(waterFill(12, [1, 1, 1], [2, 100, 100])).toEqual([2, 5, 5]);
  });
});

describe('closestBalancedCounts', () => {
  test('within floor/ceil of the share, summing to the total, moving the least', () => {
    // Shares 2.67 each: broker 0 keeps the rounding up (it holds most), the empty broker 2 gets it too.
    expect(closestBalancedCounts([6, 2, 0], [8 / 3, 8 / 3, 8 / 3], 8)).toEqual([3, 2, 3]);
  });
  test('already balanced stays put', () => {
    expect(closestBalancedCounts([3, 4, 3], [10 / 3, 10 / 3, 10 / 3], 10)).toEqual([3, 4, 3]);
  });
});

describe('balancedReplicaTargets', () => {
  test('adding one broker to three: lower bound is what the new broker needs', () => {
    const t = balancedReplicaTargets({ current: [30, 30, 30, 0], weight: [1, 1, 1, 1], rackOf: [0, 0, 0, 0], rackCount: 1, rackCap: Infinity, brokerCap: 30 });
    expect(t.target.sort()).toEqual([22, 22, 23, 23]);
    expect(t.lowerBound).toBe(22);
  });
  test('rack caps: a rack cannot hold more than one replica per partition when RF = racks', () => {
    // 10 partitions RF 3 over racks {0: brokers 0,1,2} {1: broker 3} {2: broker 4}.
    const t = balancedReplicaTargets({ current: [4, 3, 3, 10, 10], weight: [1, 1, 1, 1, 1], rackOf: [0, 0, 0, 1, 2], rackCount: 3, rackCap: 10, brokerCap: 10 });
    expect(t.target).toEqual([4, 3, 3, 10, 10]);
    expect(t.lowerBound).toBe(0);
  });
});
