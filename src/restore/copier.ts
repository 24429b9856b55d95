/**
 * The copier's command line and its output (activities/restore/RestoreCopier.java), and progress figures for
 * heartbeats and details. Pure: workflow-safe.
 */

/** Where one partition's copy stands: the next source (backup) offset and the next target offset of its acknowledged prefix. */
export interface CopyPosition {
  src: number;
  tgt: number;
}

export interface CopyPartitionArgs {
  partition: number;
  from: number;
  to: number;
  /** The target's end offset before the restore wrote anything into this partition. */
  base: number;
  /** A position an earlier attempt reported acknowledged: the retry skips from there instead of from `from`. */
  hint?: CopyPosition | null;
}

function offsetOk(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Arguments after the source file: `copy SOURCE_TOPIC TARGET_TOPIC P:FROM:TO:BASE[:HINTSRC:HINTTGT] ...`. */
export function copyArgs(backupTopic: string, targetTopic: string, partitions: CopyPartitionArgs[]): string[] {
  if (partitions.length === 0) throw new Error('a copy needs at least one partition');
  return [
    'copy',
    backupTopic,
    targetTopic,
    ...partitions.map((p) => {
      if (![p.partition, p.from, p.to, p.base].every(offsetOk) || p.to < p.from) throw new Error(`bad copy range for partition ${p.partition}: [${p.from}, ${p.to}) onto ${p.base}`);
      const hint = p.hint && offsetOk(p.hint.src) && offsetOk(p.hint.tgt) && p.hint.src >= p.from && p.hint.src <= p.to && p.hint.tgt >= p.base ? `:${p.hint.src}:${p.hint.tgt}` : '';
      return `${p.partition}:${p.from}:${p.to}:${p.base}${hint}`;
    }),
  ];
}

export interface DigestPartitionArgs {
  partition: number;
  from: number;
  /** null: to the partition's end as a read_committed reader sees it now. */
  to: number | null;
  /** Offsets whose count of records before them (from `from`) is wanted: group offset translation. */
  marks?: number[];
}

/** Arguments after the source file: `digest SIDE TOPIC P:FROM:TO[:MARK,MARK] ...`. */
export function digestArgs(side: 'source' | 'target', topic: string, partitions: DigestPartitionArgs[]): string[] {
  return [
    'digest',
    side,
    topic,
    ...partitions.map((p) => {
      if (!offsetOk(p.partition) || !offsetOk(p.from) || (p.to !== null && (!offsetOk(p.to) || p.to < p.from))) throw new Error(`bad digest range for partition ${p.partition}`);
      const marks = (p.marks ?? []).filter(offsetOk);
      const sorted = [...new Set(marks)].sort((a, b) => a - b);
      return `${p.partition}:${p.from}:${p.to ?? -1}${sorted.length > 0 ? `:${sorted.join(',')}` : ''}`;
    }),
  ];
}

export type CopierEvent =
  | { kind: 'start'; partition: number; from: number; to: number; skip: number }
  | { kind: 'progress' | 'done'; partition: number; src: number; tgt: number; copied: number; bytes: number }
  | { kind: 'failed'; partition: number | null; message: string }
  | { kind: 'summary'; copied: number; bytes: number; ms: number }
  | { kind: 'digest'; partition: number; count: number; sha256: string; first: number; last: number; end: number }
  | { kind: 'mark'; partition: number; offset: number; before: number };

function fields(parts: string[]): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const p of parts) {
    const m = /^([a-z0-9]+)=(-?\d+)$/.exec(p);
    if (!m?.[1] || m[2] === undefined) return null;
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** One line of the copier's stdout; null for anything else (a line cut by a dropped connection, noise). */
export function parseCopierLine(line: string): CopierEvent | null {
  const [kind, first, ...rest] = line.trim().split(' ');
  if (kind === 'FAILED') {
    const partition = first !== undefined && /^\d+$/.test(first) ? Number(first) : null;
    return { kind: 'failed', partition, message: (partition === null ? [first, ...rest] : rest).join(' ') };
  }
  if (kind === 'SUMMARY') {
    const f = fields([first ?? '', ...rest]);
    return f && f.copied !== undefined && f.bytes !== undefined && f.ms !== undefined ? { kind: 'summary', copied: f.copied, bytes: f.bytes, ms: f.ms } : null;
  }
  if (first === undefined || !/^\d+$/.test(first)) return null;
  const partition = Number(first);
  if (kind === 'DIGEST') {
    const sha = rest.find((r) => r.startsWith('sha256='))?.slice(7);
    const f = fields(rest.filter((r) => !r.startsWith('sha256=')));
    if (!sha || !/^[0-9a-f]{64}$/.test(sha) || !f || f.count === undefined || f.first === undefined || f.last === undefined || f.end === undefined) return null;
    return { kind: 'digest', partition, count: f.count, sha256: sha, first: f.first, last: f.last, end: f.end };
  }
  const f = fields(rest);
  if (!f) return null;
  if (kind === 'START' && f.from !== undefined && f.to !== undefined && f.skip !== undefined) return { kind: 'start', partition, from: f.from, to: f.to, skip: f.skip };
  if ((kind === 'PROGRESS' || kind === 'DONE') && f.src !== undefined && f.tgt !== undefined && f.copied !== undefined && f.bytes !== undefined) {
    return { kind: kind === 'DONE' ? 'done' : 'progress', partition, src: f.src, tgt: f.tgt, copied: f.copied, bytes: f.bytes };
  }
  if (kind === 'MARK' && f.offset !== undefined && f.before !== undefined) return { kind: 'mark', partition, offset: f.offset, before: f.before };
  return null;
}

/** Splits a stream of stdout chunks into whole lines; a trailing partial line waits for the next chunk. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) if (l.length > 0) onLine(l);
    },
    end() {
      if (rest.length > 0) onLine(rest);
      rest = '';
    },
  };
}

export interface CopyRateFigures {
  copied: number;
  total: number;
  percent: number;
  recordsPerSecond: number;
  bytesPerSecond: number;
  /** Seconds left at the current rate; null before there is a rate. */
  etaSeconds: number | null;
}

/** Progress figures: `copiedNow` counts every record on the target, `copiedAtStart` what was there when this attempt began. */
export function copyRate(opts: { copiedAtStart: number; copiedNow: number; bytesThisAttempt: number; total: number; elapsedMs: number }): CopyRateFigures {
  const { copiedAtStart, copiedNow, total, elapsedMs } = opts;
  const seconds = elapsedMs / 1000;
  const recordsPerSecond = seconds > 0 ? (copiedNow - copiedAtStart) / seconds : 0;
  const bytesPerSecond = seconds > 0 ? opts.bytesThisAttempt / seconds : 0;
  const left = Math.max(0, total - copiedNow);
  return {
    copied: copiedNow,
    total,
    percent: total > 0 ? Math.min(100, (100 * copiedNow) / total) : 100,
    recordsPerSecond,
    bytesPerSecond,
    etaSeconds: left === 0 ? 0 : recordsPerSecond > 0 ? Math.ceil(left / recordsPerSecond) : null,
  };
}

/** One line for heartbeat details and the run's details: "12,000/50,000 records (24%), 3,100 rec/s, 1.2 MB/s, ETA 13 s". */
export function describeCopyRate(f: CopyRateFigures): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const eta = f.etaSeconds === null ? 'ETA unknown' : `ETA ${formatSeconds(f.etaSeconds)}`;
  return `${n(f.copied)}/${n(f.total)} records (${Math.floor(f.percent)}%), ${n(f.recordsPerSecond)} rec/s, ${(f.bytesPerSecond / 1e6).toFixed(1)} MB/s, ${eta}`;
}

export function formatSeconds(s: number): string {
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
