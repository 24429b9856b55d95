/**
 * Verification of a restore: per partition, the records counted and digested on the backup (its copied range)
 * and on the target (from the restore's base offset to its end), compared. And the translation of a group's
 * backup offset to the target. Pure: workflow-safe.
 */

export interface PartitionDigest {
  partition: number;
  count: number;
  sha256: string;
  /** Where the digest's range ended (the target's end offset when read "to the end"). */
  end: number;
}

export interface VerifyRow {
  topic: string;
  partition: number;
  backupRecords: number;
  targetRecords: number;
  countsMatch: boolean;
  digestsMatch: boolean;
  backupDigest: string;
  targetDigest: string;
}

export interface VerifyReport {
  rows: VerifyRow[];
  /** "topic/partition" of every row that does not match. */
  mismatches: string[];
}

export function compareDigests(topic: string, backup: PartitionDigest[], target: PartitionDigest[]): VerifyRow[] {
  const onTarget = new Map(target.map((d) => [d.partition, d]));
  return [...backup]
    .sort((a, b) => a.partition - b.partition)
    .map((b) => {
      const t = onTarget.get(b.partition);
      return {
        topic,
        partition: b.partition,
        backupRecords: b.count,
        targetRecords: t?.count ?? -1,
        countsMatch: t !== undefined && t.count === b.count,
        digestsMatch: t !== undefined && t.sha256 === b.sha256,
        backupDigest: b.sha256,
        targetDigest: t?.sha256 ?? '(not read)',
      };
    });
}

export function verifyReport(rows: VerifyRow[]): VerifyReport {
  return { rows, mismatches: rows.filter((r) => !r.countsMatch || !r.digestsMatch).map((r) => `${r.topic}/${r.partition}`) };
}

/** What a run returns: totals and the mismatches, not every row (a large restore's rows would not fit a payload). */
export interface VerifySummary {
  partitions: number;
  records: number;
  mismatches: string[];
}

export function verifySummary(report: VerifyReport): VerifySummary {
  return { partitions: report.rows.length, records: report.rows.reduce((n, r) => n + Math.max(0, r.targetRecords), 0), mismatches: report.mismatches };
}

/** The report table: one row per partition (mismatches first, at most maxRows), digests shortened. */
export function renderVerifyTable(report: VerifyReport, maxRows = 200): string {
  const lines = ['| topic | partition | backup records | target records | digest (SHA-256, first 12) | result |', '|---|---:|---:|---:|---|---|'];
  const bad = (r: VerifyRow) => !r.countsMatch || !r.digestsMatch;
  const ordered = [...report.rows.filter(bad), ...report.rows.filter((r) => !bad(r))];
  for (const r of ordered.slice(0, maxRows)) {
    const digest = r.digestsMatch ? r.backupDigest.slice(0, 12) : `${r.backupDigest.slice(0, 12)} ≠ ${r.targetDigest.slice(0, 12)}`;
    const result = r.countsMatch && r.digestsMatch ? 'ok' : !r.countsMatch ? 'COUNT MISMATCH' : 'DIGEST MISMATCH';
    lines.push(`| ${r.topic} | ${r.partition} | ${r.backupRecords} | ${r.targetRecords} | ${digest} | ${result} |`);
  }
  if (ordered.length > maxRows) lines.push(`| … ${ordered.length - maxRows} more partitions, all matching | | | | | |`);
  return lines.join('\n');
}

/**
 * A group's offset on the backup topic, as an offset on the target: the restore wrote the backup's records of
 * [from, to) in order from `base`, so the record at backup offset x is at base + (records in [from, x)).
 * `before` is that count as the verifier read it (MARK lines); below the range a group starts at its start,
 * past the cut of a point-in-time restore it starts after the last restored record.
 */
export function translateToTarget(backupOffset: number, range: { from: number; to: number; base: number; copied: number }, before: number | undefined): number {
  if (backupOffset <= range.from) return range.base;
  if (backupOffset >= range.to) return range.base + range.copied;
  if (before === undefined) throw new Error(`no record count before backup offset ${backupOffset}`);
  return range.base + before;
}
