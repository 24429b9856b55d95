import { verifyAssignment } from '../../../src/reassignment-exec';

const target = [
  { topic: 'b', partition: 0, replicas: [1, 2, 3] },
  { topic: 'a', partition: 1, replicas: [2, 3, 1] },
  { topic: 'a', partition: 0, replicas: [3, 1, 2] },
];

describe('verifyAssignment', () => {
  test('exact match: ok, nothing to report', () => {
    const v = verifyAssignment(target, target.map((t) => ({ ...t, leader: t.replicas[0] as number })));
    expect(v).toEqual({ ok: true, partitionsChecked: 3, mismatched: [], missing: [], orderDiffers: [], leaderNotPreferred: [] });
  });

  test('same replica sets in another order are ok; the order and leader differences are reported apart', () => {
    const v = verifyAssignment(target, [
      { topic: 'a', partition: 0, replicas: [1, 3, 2], leader: 1 },
      { topic: 'a', partition: 1, replicas: [2, 1, 3], leader: 2 },
      { topic: 'b', partition: 0, replicas: [1, 2, 3] },
    ]);
    expect(v.ok).toBe(true);
    expect(v.orderDiffers).toEqual([
      { topic: 'a', partition: 0, expected: [3, 1, 2], actual: [1, 3, 2], preferredLeaderDiffers: true },
      { topic: 'a', partition: 1, expected: [2, 3, 1], actual: [2, 1, 3], preferredLeaderDiffers: false },
    ]);
    expect(v.leaderNotPreferred).toEqual([{ topic: 'a', partition: 0, preferred: 3, leader: 1 }]);
  });

  test('a different replica set or a missing partition fails the check, and is named', () => {
    const v = verifyAssignment(target, [
      { topic: 'a', partition: 0, replicas: [3] },
      { topic: 'a', partition: 1, replicas: [2, 3, 1, 4] },
      { topic: 'c', partition: 0, replicas: [1] },
    ]);
    expect(v.ok).toBe(false);
    expect(v.mismatched).toEqual([
      { topic: 'a', partition: 0, expected: [3, 1, 2], actual: [3] },
      { topic: 'a', partition: 1, expected: [2, 3, 1], actual: [2, 3, 1, 4] },
    ]);
    expect(v.missing).toEqual([{ topic: 'b', partition: 0 }]);
  });

  test('a leader of -1 (offline) is reported as not preferred', () => {
    const v = verifyAssignment([{ topic: 'a', partition: 0, replicas: [1, 2] }], [{ topic: 'a', partition: 0, replicas: [1, 2], leader: -1 }]);
    expect(v.ok).toBe(true);
    expect(v.leaderNotPreferred).toEqual([{ topic: 'a', partition: 0, preferred: 1, leader: -1 }]);
  });
});
