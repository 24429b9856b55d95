import { catchUpStatus } from '../../../src/backup/catch-up';

const wanted = [
  { topic: 'orders', partition: 0, start: 0, end: 100 },
  { topic: 'orders', partition: 1, start: 40, end: 40 },
  { topic: 'orders', partition: 2, start: 10, end: 50 },
];

describe('has MirrorMaker 2 reached the captured end offsets', () => {
  test('reached when position (offset + 1) is at or past every end; empty partitions need nothing', () => {
    const s = catchUpStatus(wanted, new Map([['orders:0', 100], ['orders:2', 57]]));
    expect(s).toEqual({ partitions: 3, partitionsReached: 3, lagRecords: 0, reached: { 'orders:0': 100, 'orders:1': 40, 'orders:2': 57 }, behind: [] });
  });

  test('one record short is behind: lag counted from the position, or from the log start when MM2 recorded nothing', () => {
    const s = catchUpStatus(wanted, new Map([['orders:0', 99]]));
    expect(s.partitionsReached).toBe(1);
    expect(s.lagRecords).toBe(1 + 40);
    expect(s.behind).toEqual(['orders[0] at 99 of 100', 'orders[2] at 10 of 50']);
  });

  test('names at most the sample size of partitions behind', () => {
    const many = Array.from({ length: 20 }, (_, p) => ({ topic: 't', partition: p, start: 0, end: 1 }));
    expect(catchUpStatus(many, new Map(), 5).behind).toHaveLength(5);
    expect(catchUpStatus(many, new Map()).lagRecords).toBe(20);
  });
});
