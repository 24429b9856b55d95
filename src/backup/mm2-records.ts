/**
 * Parsers for MirrorMaker 2's own records on the backup cluster, from their raw bytes. Pure (no Node built-ins:
 * Uint8Array in, plain objects out), so a fixture of real bytes tests them exactly.
 */

/** MM2's position in one source partition: it has replicated every record below `offset + 1`. */
export interface Mm2SourcePosition {
  sourceCluster: string;
  topic: string;
  partition: number;
  /** The source offset of the last record MM2 replicated (the value MM2 stores). */
  offset: number;
}

export type Mm2OffsetRecord = { kind: 'position'; position: Mm2SourcePosition } | { kind: 'other'; connector: string } | { kind: 'tombstone' } | { kind: 'unreadable'; problem: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One record of `mm2-offsets.<src>.internal` (Kafka Connect's offset store): key
 * `["MirrorSourceConnector",{"cluster":..,"partition":..,"topic":..}]`, value `{"offset":N}`. Records of MM2's
 * other connectors are `other`; a null value (a reset) is a `tombstone`.
 */
export function parseMm2OffsetRecord(key: Uint8Array | null, value: Uint8Array | null): Mm2OffsetRecord {
  if (key === null) return { kind: 'unreadable', problem: 'record has no key' };
  let k: unknown;
  try {
    k = JSON.parse(utf8.decode(key));
  } catch (e) {
    return { kind: 'unreadable', problem: `key is not JSON: ${(e as Error).message}` };
  }
  if (!Array.isArray(k) || k.length !== 2 || typeof k[0] !== 'string' || !isRecord(k[1])) return { kind: 'unreadable', problem: 'key is not [connector, {source partition}]' };
  const [connector, partitionKey] = k as [string, Record<string, unknown>];
  if (connector !== 'MirrorSourceConnector') return { kind: 'other', connector };
  const { cluster, topic, partition } = partitionKey;
  if (typeof cluster !== 'string' || typeof topic !== 'string' || typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0) {
    return { kind: 'unreadable', problem: 'MirrorSourceConnector key lacks cluster, topic or partition' };
  }
  if (value === null) return { kind: 'tombstone' };
  let v: unknown;
  try {
    v = JSON.parse(utf8.decode(value));
  } catch (e) {
    return { kind: 'unreadable', problem: `value is not JSON: ${(e as Error).message}` };
  }
  if (!isRecord(v) || typeof v.offset !== 'number' || !Number.isSafeInteger(v.offset) || v.offset < 0) return { kind: 'unreadable', problem: 'value has no offset' };
  return { kind: 'position', position: { sourceCluster: cluster, topic, partition, offset: v.offset } };
}

/** Latest position per source partition of one source cluster: the last record per key wins, a tombstone forgets. */
export function latestPositions(records: { key: Uint8Array | null; value: Uint8Array | null }[], sourceCluster: string): Map<string, Mm2SourcePosition> {
  const latest = new Map<string, Mm2SourcePosition>();
  for (const r of records) {
    const parsed = parseMm2OffsetRecord(r.key, r.value);
    if (parsed.kind === 'position' && parsed.position.sourceCluster === sourceCluster) latest.set(partitionKey(parsed.position.topic, parsed.position.partition), parsed.position);
    if (parsed.kind === 'tombstone' && r.key) {
      const k = JSON.parse(utf8.decode(r.key)) as [string, { topic: string; partition: number }];
      latest.delete(partitionKey(k[1].topic, k[1].partition));
    }
  }
  return latest;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** One MM2 checkpoint: a consumer group's source offset and where that lands on the backup topic. */
export interface Mm2Checkpoint {
  group: string;
  topic: string;
  partition: number;
  upstreamOffset: number;
  downstreamOffset: number;
  metadata: string;
}

export type ParsedCheckpoint = { ok: true; checkpoint: Mm2Checkpoint } | { ok: false; problem: string };

class Reader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.byteLength) throw new Error(`truncated at byte ${this.pos}: ${what} needs ${n} bytes`);
  }
  int16(what: string): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  int32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  int64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`${what} ${v} is beyond 2^53`);
    return Number(v);
  }
  string(what: string): string {
    const len = this.int16(`${what} length`);
    if (len < 0) throw new Error(`${what} length ${len} is negative`);
    this.need(len, what);
    const s = utf8.decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
  done(what: string): void {
    if (this.pos !== this.bytes.byteLength) throw new Error(`${this.bytes.byteLength - this.pos} bytes left after the ${what}`);
  }
}

/**
 * One record of `<src>.checkpoints.internal`. Key: group, topic (INT16 length + UTF-8 each), partition INT32.
 * Value: version INT16 (0), upstream offset INT64, downstream offset INT64, metadata (INT16 length + UTF-8).
 */
export function parseCheckpointRecord(key: Uint8Array | null, value: Uint8Array | null): ParsedCheckpoint {
  if (key === null || value === null) return { ok: false, problem: `checkpoint record has no ${key === null ? 'key' : 'value'}` };
  try {
    const k = new Reader(key);
    const group = k.string('group');
    const topic = k.string('topic');
    const partition = k.int32('partition');
    k.done('key');
    const v = new Reader(value);
    const version = v.int16('version');
    if (version !== 0) return { ok: false, problem: `checkpoint version ${version} is not 0, the one this build reads` };
    const upstreamOffset = v.int64('upstream offset');
    const downstreamOffset = v.int64('downstream offset');
    const metadata = v.string('metadata');
    v.done('value');
    if (partition < 0 || upstreamOffset < 0 || downstreamOffset < 0) return { ok: false, problem: 'negative partition or offset' };
    return { ok: true, checkpoint: { group, topic, partition, upstreamOffset, downstreamOffset, metadata } };
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
}

/** Latest checkpoint per (group, topic, partition): the last record per key wins. */
export function latestCheckpoints(records: { key: Uint8Array | null; value: Uint8Array | null }[]): Map<string, Mm2Checkpoint> {
  const latest = new Map<string, Mm2Checkpoint>();
  for (const r of records) {
    const parsed = parseCheckpointRecord(r.key, r.value);
    if (parsed.ok) latest.set(checkpointKey(parsed.checkpoint.group, parsed.checkpoint.topic, parsed.checkpoint.partition), parsed.checkpoint);
  }
  return latest;
}

export const checkpointKey = (group: string, topic: string, partition: number): string => JSON.stringify([group, topic, partition]);

/** A connector's or task's state as MM2's Connect runtime records it in `mm2-status.<src>.internal`. */
export interface Mm2WorkStatus {
  connector: string;
  /** null for the connector itself. */
  task: number | null;
  state: string;
  /** The failure's stack trace, first line only. */
  trace: string | null;
  workerId: string | null;
}

/**
 * One record of `mm2-status.<src>.internal`: key `status-connector-<name>` or `status-task-<name>-<n>`, value
 * JSON `{"state":..,"trace":..,"worker_id":..,"generation":..}`. Topic status records and tombstones are null.
 */
export function parseMm2StatusRecord(key: Uint8Array | null, value: Uint8Array | null): Mm2WorkStatus | null {
  if (key === null || value === null) return null;
  let k: string;
  let v: unknown;
  try {
    k = utf8.decode(key);
    v = JSON.parse(utf8.decode(value));
  } catch {
    return null;
  }
  if (!isRecord(v) || typeof v.state !== 'string') return null;
  const trace = typeof v.trace === 'string' ? (v.trace.split('\n')[0] ?? null) : null;
  const workerId = typeof v.worker_id === 'string' ? v.worker_id : null;
  const task = /^status-task-(.+)-(\d+)$/.exec(k);
  if (task) return { connector: task[1] as string, task: Number(task[2]), state: v.state, trace, workerId };
  const connector = /^status-connector-(.+)$/.exec(k);
  if (connector) return { connector: connector[1] as string, task: null, state: v.state, trace, workerId };
  return null;
}

/** Latest status per connector and task (the last record per key wins; a tombstone removes it), sorted. */
export function latestWorkStatus(records: { key: Uint8Array | null; value: Uint8Array | null }[]): Mm2WorkStatus[] {
  const latest = new Map<string, Mm2WorkStatus>();
  for (const r of records) {
    if (r.key === null) continue;
    const key = utf8.decode(r.key);
    if (r.value === null) {
      latest.delete(key);
      continue;
    }
    const s = parseMm2StatusRecord(r.key, r.value);
    if (s) latest.set(key, s);
  }
  return [...latest.values()].sort((a, b) => a.connector.localeCompare(b.connector) || (a.task ?? -1) - (b.task ?? -1));
}
