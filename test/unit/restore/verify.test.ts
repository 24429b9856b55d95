import { compareDigests, renderVerifyTable, translateToTarget, verifyReport, verifySummary } from '../../../src/restore/verify';

const d = (partition: number, count: number, c: string) => ({ partition, count, sha256: c.repeat(64), end: count });

describe('verification', () => {
  test('equal counts and digests pass; a count or digest mismatch names the partition', () => {
    const rows = compareDigests('orders', [d(1, 5, 'b'), d(0, 5, 'a'), d(2, 3, 'c')], [d(0, 5, 'a'), d(1, 5, 'f'), d(2, 4, 'c')]);
    const report = verifyReport(rows);
    expect(report.mismatches).toEqual(['orders/1', 'orders/2']);
    expect(rows.map((r) => [r.partition, r.countsMatch, r.digestsMatch])).toEqual([
      [0, true, true],
      [1, true, false],
      [2, false, true],
    ]);
    const table = renderVerifyTable(report);
    expect(table).toContain('| orders | 0 | 5 | 5 | aaaaaaaaaaaa | ok |');
    expect(table).toContain('| orders | 1 | 5 | 5 | bbbbbbbbbbbb ≠ ffffffffffff | DIGEST MISMATCH |');
    expect(table).toContain('| orders | 2 | 3 | 4 | cccccccccccc | COUNT MISMATCH |');
  });

  test('a partition the target side did not report is a mismatch', () => {
    expect(verifyReport(compareDigests('t', [d(0, 1, 'a')], [])).mismatches).toEqual(['t/0']);
  });

  test('group offsets: backup offset to target offset through the records before it', () => {
    const range = { from: 10, to: 40, base: 100, copied: 28 };
    expect(translateToTarget(5, range, undefined)).toBe(100);
    expect(translateToTarget(10, range, undefined)).toBe(100);
    // Two records below 30 were compacted away on the backup: 18 records before it, not 20.
    expect(translateToTarget(30, range, 18)).toBe(118);
    expect(translateToTarget(40, range, undefined)).toBe(128);
    expect(translateToTarget(55, range, undefined)).toBe(128);
    expect(() => translateToTarget(20, range, undefined)).toThrow('no record count');
  });
});

describe('the report of a large restore', () => {
  test('mismatches come first; the table stops at maxRows; the summary keeps totals and mismatches only', () => {
    const backup = Array.from({ length: 300 }, (_, i) => d(i, 10, 'a'));
    const target = backup.map((x) => (x.partition === 250 ? d(250, 10, 'b') : x));
    const report = verifyReport(compareDigests('big', backup, target));
    const table = renderVerifyTable(report, 5).split('\n');
    expect(table[2]).toContain('| big | 250 |');
    expect(table).toHaveLength(2 + 5 + 1);
    expect(table[7]).toContain('… 295 more partitions, all matching');
    expect(verifySummary(report)).toEqual({ partitions: 300, records: 3000, mismatches: ['big/250'] });
  });
});
