import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { kafkaToolsDir } from '../../../src/lab/paths';

/**
 * Producer traffic that runs while a runbook changes the cluster, and the check that matters to users: every
 * acknowledged record is in the log exactly once.
 *
 * Two independent clients, so the oracle shares neither one's blind spot:
 * - the writer is Kafka's own Java producer (TrafficProducer.java next to this file, run from the lab's Kafka
 *   jars): acks=all, idempotent, bursts of one numbered record per partition so each ProduceRequest carries
 *   many partitions; it reports every acknowledgement with its partition and offset;
 * - the reader is kcat (librdkafka), run once the producer has stopped: it reads every partition from the
 *   beginning to its end and reports where each number is.
 * An acknowledged number the reader does not find is lost; a number found at two offsets is a duplicate in the
 * log; one found only at another offset than its acknowledgement named is misplaced.
 */
export interface TrafficReport {
  acked: number;
  /** Sends that failed after the producer's retries (e.g. NOT_ENOUGH_REPLICAS past the delivery timeout). */
  failedSends: number;
  consumedDistinct: number;
  /** Acknowledged records the reader did not find, with where their acknowledgement said they were. */
  lost: LostRecord[];
  /** Numbers found at more than one offset. */
  duplicated: number[];
  /** Acknowledged numbers found, but not at the partition and offset their acknowledgement named. */
  misplaced: number[];
  /** The producer's own records-per-request average (its last minute): above 1, requests carried several partitions. */
  recordsPerRequest: number;
  /** Full reads of the log until every acknowledged record was found (a new leader's high watermark may lag). */
  reads: number;
}

export interface LostRecord {
  seq: number;
  partition: number;
  offset: number;
}

/** Where an acknowledgement said a record was written. */
export interface AckedAt {
  partition: number;
  offset: number;
}

export interface Traffic {
  /** Records acknowledged so far. */
  acked(): number;
  /** Stops the producer, reads the whole topic back, and compares. Safe to call twice. */
  stop(): Promise<TrafficReport>;
}

const JAVA_SOURCE = join(__dirname, 'TrafficProducer.java');
const READ_ATTEMPTS = 4;

export async function startTraffic(opts: { bootstrapServers: string[]; topic: string; messagesPerSecond?: number }): Promise<Traffic> {
  const { classDir, libs, log4j } = await compiledProducer();
  const runId = randomBytes(6).toString('hex');
  const child = spawn(
    'java',
    ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dlog4j2.configurationFile=${log4j}`, '-cp', `${classDir}:${libs}/*`, 'TrafficProducer', opts.bootstrapServers.join(','), opts.topic, String(opts.messagesPerSecond ?? 50), runId],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  // A test that fails before stop() must not keep the runner alive: the producer stops when our stdin closes.
  holdsRunner(child, false);
  const acked = new Map<number, AckedAt>();
  let failedSends = 0;
  let summary: Record<string, string> | null = null;
  const stderr = tail(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ready: () => void = () => undefined;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const [kind, ...f] = line.split(' ');
    if (kind === 'ACK') acked.set(Number(f[0]), { partition: Number(f[1]), offset: Number(f[2]) });
    else if (kind === 'FAIL') failedSends++;
    else if (kind === 'READY') ready();
    else if (kind === 'SUMMARY') summary = Object.fromEntries(f.map((kv) => kv.split('=') as [string, string]));
  });

  const started = await Promise.race([isReady.then(() => 'ready' as const), exited.then(() => 'exited' as const), timeoutAfter(120_000)]);
  if (started !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`the traffic producer did not start (${started}): ${stderr()}`);
  }

  let stopped: Promise<TrafficReport> | null = null;
  async function stop(): Promise<TrafficReport> {
    holdsRunner(child, true);
    // Closing stdin tells the producer to stop sending and finish what it sent.
    child.stdin?.end();
    const code = await Promise.race([exited, timeoutAfter(200_000)]);
    if (code === 'timeout') child.kill('SIGKILL');
    const s = summary as Record<string, string> | null;
    if (code !== 0 || !s) throw new Error(`the traffic producer ended with ${String(code)} and no summary: ${stderr()}`);
    if (Number(s.acked) !== acked.size) throw new Error(`the traffic producer counted ${s.acked} acknowledgements, its ACK lines ${acked.size}`);
    let reads = 0;
    let verdict: Omit<TrafficReport, 'failedSends' | 'recordsPerRequest' | 'reads'>;
    for (;;) {
      reads++;
      verdict = trafficVerdict(acked, await readTopic(opts.bootstrapServers, opts.topic, runId));
      if (verdict.lost.length === 0 || reads >= READ_ATTEMPTS) break;
      await sleep(5_000);
    }
    return { ...verdict, failedSends, recordsPerRequest: Number(s.recordsPerRequest), reads };
  }

  return {
    acked: () => acked.size,
    stop: () => (stopped ??= stop()),
  };
}

/** Compares what was acknowledged, and where, with where each number was found in the log ("partition:offset"). */
export function trafficVerdict(acked: ReadonlyMap<number, AckedAt>, seenAt: ReadonlyMap<number, ReadonlySet<string>>): Omit<TrafficReport, 'failedSends' | 'recordsPerRequest' | 'reads'> {
  const bySeq = (a: number, b: number) => a - b;
  const lost = [...acked.entries()].filter(([n]) => !seenAt.has(n)).map(([seq, at]) => ({ seq, ...at })).sort((a, b) => a.seq - b.seq);
  const duplicated = [...seenAt.entries()].filter(([, at]) => at.size > 1).map(([n]) => n).sort(bySeq);
  const misplaced = [...acked.entries()].filter(([n, at]) => seenAt.has(n) && !seenAt.get(n)?.has(`${at.partition}:${at.offset}`)).map(([n]) => n).sort(bySeq);
  return { acked: acked.size, consumedDistinct: seenAt.size, lost, duplicated, misplaced };
}

/** Every record of this run in the topic, read with kcat from the beginning to the end of each partition. */
async function readTopic(bootstrapServers: string[], topic: string, runId: string): Promise<Map<number, Set<string>>> {
  const child = spawn('kcat', ['-C', '-b', bootstrapServers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = tail(child);
  const seenAt = new Map<number, Set<string>>();
  const prefix = `${runId}:`;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [partition, offset, value] = line.split(' ');
    // Records of other runs (an earlier traffic on the same topic) are not this oracle's business.
    if (!value?.startsWith(prefix)) return;
    const n = Number(value.slice(prefix.length));
    const at = seenAt.get(n) ?? new Set<string>();
    at.add(`${partition}:${offset}`);
    seenAt.set(n, at);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`kcat reading ${topic} exited ${String(code)}: ${stderr()}`);
  return seenAt;
}

/** Resolves 'timeout' after ms, without keeping the process alive for it (a pending timer would hold jest open). */
function timeoutAfter(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref());
}

function holdsRunner(child: ChildProcess, hold: boolean): void {
  for (const h of [child, child.stdin, child.stdout, child.stderr] as ({ ref(): unknown; unref(): unknown } | null)[]) {
    if (hold) h?.ref();
    else h?.unref();
  }
}

/** The last few KB of a child's stderr, for error messages. */
function tail(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-4000)));
  return () => text.trim();
}

/**
 * Compiles TrafficProducer.java against the newest Kafka jars in .tools once per source and Kafka version
 * (a JVM compiling the source at each start costs seconds on a busy 2-core machine).
 */
async function compiledProducer(): Promise<{ classDir: string; libs: string; log4j: string }> {
  const tools = kafkaToolsDir();
  const newest = readdirSync(tools)
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && existsSync(join(tools, v, 'libs')))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .pop();
  if (!newest) throw new Error(`no Kafka install with libs/ under ${tools} (scripts/fetch-kafka.sh fetches them)`);
  const libs = join(tools, newest, 'libs');
  const log4j = join(tools, newest, 'config', 'tools.log4j2.properties');
  const key = createHash('sha256').update(readFileSync(JAVA_SOURCE)).update(newest).digest('hex').slice(0, 16);
  const classDir = join(tmpdir(), `kafka-runbooks-traffic-${key}`);
  if (!existsSync(join(classDir, 'TrafficProducer.class'))) {
    const building = mkdtempSync(`${classDir}-build-`);
    try {
      await promisify(execFile)('javac', ['-nowarn', '-cp', `${libs}/*`, '-d', building, JAVA_SOURCE], { timeout: 120_000 });
      try {
        renameSync(building, classDir);
      } catch (err) {
        // Another test process finished first: its copy is the same.
        if (!existsSync(join(classDir, 'TrafficProducer.class'))) throw err;
      }
    } finally {
      rmSync(building, { recursive: true, force: true });
    }
  }
  return { classDir, libs, log4j };
}
