/**
 * Restore copy throughput: the restore's copiers against `kcat -C | kcat -P` (one pipe per partition, all at
 * once), on the same data set and the same machine:
 *   - wire-copier (activities/restore/wire-copier.c, Kafka's protocol spoken by the copier itself), built as the
 *     restore builds it on a host: what `copier: auto` picks for PLAINTEXT clusters;
 *   - restore-copier (activities/restore/restore-copier.c, librdkafka), likewise built: the pick for TLS/SASL;
 *   - RestoreCopier (activities/restore/RestoreCopier.java, Kafka's Java client), the fallback.
 * Run: flock /tmp/kafka-runbooks-e2e.lock npx tsx bench/restore-copy.ts   (BENCH_RECORDS, BENCH_VALUE_BYTES, BENCH_ROUNDS)
 *
 * Data: BENCH_RECORDS records (default 1,400,000) over 8 partitions, keys (some null), 2-3 headers, every 10th
 * value null and every 13th empty, the rest BENCH_VALUE_BYTES (default 1000) bytes: over 1 GB of keys and values.
 * Every copy reads the same source topic into a fresh topic. The wire copier, kcat and the librdkafka copier run
 * in turns, BENCH_ROUNDS times (default 5): the medians and the median of the per-round ratios are printed, the
 * ratio taken within a round so that a machine getting busier or quieter moves both sides alike. The Java
 * copier runs once. Times are wall times of the whole process (the JVM's start and source compile included for Java).
 * MB = 10^6 bytes of keys and values. kcat loses headers, timestamps, null values (written as empty) and null
 * keys; the copiers keep them, which the digests of every copy against the source's show.
 * Lab: restore-bench (subnet 67), taken down at the end.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaToolsDir, labDown, labUp } from '../src/lab';
import { NATIVE_COPIERS, type NativeCopierKind } from '../src/restore/commands';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_400_000);
const VALUE_BYTES = Number(process.env.BENCH_VALUE_BYTES ?? 1000);
const PARTITIONS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LAB = { name: 'restore-bench', subnet: 67 };
const libs = join(kafkaToolsDir(), '4.3.1', 'libs', '*');
const execFileP = promisify(execFile);

function run(cmd: string, args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function main(): Promise<void> {
  await labDown(LAB.name);
  const lab = await labUp({ ...LAB, brokers: 1 });
  const tmp = mkdtempSync(join(tmpdir(), 'restore-bench-'));
  try {
    const bootstrap = lab.bootstrapServers.join(',');
    const admin = new Kafka({ brokers: lab.bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    // Retention off: the data's timestamps are hours old by the time kcat runs.
    const configEntries = [{ name: 'retention.ms', value: '-1' }];
    const rounds = Array.from({ length: ROUNDS }, (_, i) => i + 1);
    const topics = ['src', 'dst-java', ...rounds.flatMap((i) => [`dst-wire-${i}`, `dst-rdkafka-${i}`, `dst-kcat-${i}`])];
    await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries })) });

    const t0 = Date.now();
    const gen = await execFileP('java', ['-Xmx1g', '-cp', libs, join(__dirname, 'RestoreData.java'), bootstrap, 'src', String(RECORDS), String(VALUE_BYTES), String(Date.now() - 3_600_000), '1'], { maxBuffer: 1 << 20, timeout: 1_800_000 });
    const bytes = Number(/bytes=(\d+)/.exec(gen.stdout)?.[1]);
    console.log(`data: ${RECORDS} records, ${(bytes / 1e6).toFixed(0)} MB of keys and values, written in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const ends = await admin.fetchTopicOffsets('src');

    const props = `source.bootstrap.servers=${bootstrap}\ntarget.bootstrap.servers=${bootstrap}\n`;
    const ranges = ends.map((o) => `${o.partition}:0:${o.high}:0`);
    const copyWith = async (name: string, cmd: string, args: string[]) => {
      const c0 = Date.now();
      const r = await run(cmd, [...args, 'copy', 'src', name, ...ranges], props);
      const ms = Date.now() - c0;
      if (r.code !== 0) throw new Error(`${name} failed: ${r.stdout.split('\n').filter((l) => l.startsWith('FAILED')).join('; ')} ${r.stderr}`);
      // The copier's own clock: from its first client call to its last acknowledgement (no process start, no compile).
      return { ms, copied: Number(/SUMMARY copied=(\d+)/.exec(r.stdout)?.[1]), copyPhaseMs: Number(/SUMMARY .* ms=(\d+)/.exec(r.stdout)?.[1]) };
    };
    // The C copiers are built as the restore builds them on a copy host; the builds are not timed.
    const build = async (kind: NativeCopierKind, source: string) => {
      const out = join(tmp, NATIVE_COPIERS[kind].binary);
      await execFileP('cc', ['-O2', '-pthread', '-o', out, join(__dirname, '..', 'activities', 'restore', source), ...NATIVE_COPIERS[kind].libs.split(' ')]);
      return out;
    };
    const binary = await build('librdkafka', 'restore-copier.c');
    const wireBinary = await build('wire', 'wire-copier.c');
    const kcatCopy = async (topic: string) => {
      const k0 = Date.now();
      const pipes = ends.map((o) => run('bash', ['-c', `set -o pipefail; kcat -C -b ${bootstrap} -t src -p ${o.partition} -o beginning -e -q -K '\\t' | kcat -P -b ${bootstrap} -t ${topic} -p ${o.partition} -K '\\t'`]));
      const kcat = await Promise.all(pipes);
      const ms = Date.now() - k0;
      if (kcat.some((k) => k.code !== 0)) throw new Error(`kcat pipe failed: ${kcat.map((k) => k.stderr).join(' ')}`);
      return { ms, copied: (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.high), 0) };
    };
    const wire: { ms: number; copied: number; copyPhaseMs: number }[] = [];
    const rdkafka: { ms: number; copied: number; copyPhaseMs: number }[] = [];
    const kcat: { ms: number; copied: number }[] = [];
    for (const i of rounds) {
      wire.push(await copyWith(`dst-wire-${i}`, wireBinary, []));
      kcat.push(await kcatCopy(`dst-kcat-${i}`));
      rdkafka.push(await copyWith(`dst-rdkafka-${i}`, binary, []));
      console.log(`round ${i}: wire copier ${(wire[i - 1]!.ms / 1000).toFixed(2)} s, kcat ${(kcat[i - 1]!.ms / 1000).toFixed(2)} s, librdkafka copier ${(rdkafka[i - 1]!.ms / 1000).toFixed(2)} s`);
    }
    const java = await copyWith('dst-java', 'java', ['-Xmx1g', '-XX:+UseParallelGC', '-cp', libs, join(__dirname, '..', 'activities', 'restore', 'RestoreCopier.java')]);

    // Lossless check of every copy: digests over (key, value, headers, timestamp), per partition, against the source's.
    const digest = async (topic: string) => {
      const r = await run('java', ['-cp', libs, join(__dirname, '..', 'activities', 'restore', 'RestoreCopier.java'), 'digest', 'source', topic, ...ends.map((o) => `${o.partition}:0:${o.high}`)], props);
      return r.stdout.split('\n').filter((l) => l.startsWith('DIGEST')).map((l) => l.replace(/ first=.*/, '')).sort().join('\n');
    };
    const src = await digest('src');
    const wireSame = (await Promise.all(rounds.map((i) => digest(`dst-wire-${i}`)))).every((d) => d === src);
    const rdkafkaSame = (await Promise.all(rounds.map((i) => digest(`dst-rdkafka-${i}`)))).every((d) => d === src);
    const javaSame = (await digest('dst-java')) === src;
    const kcatSame = (await digest('dst-kcat-1')) === src;
    await admin.disconnect();

    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const row = (name: string, records: number, ms: number, same: boolean) =>
      console.log(`| ${name} | ${records.toLocaleString('en-US')} | ${(ms / 1000).toFixed(1)} s | ${Math.round(records / (ms / 1000)).toLocaleString('en-US')} | ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} | ${same ? 'yes' : 'no'} |`);
    console.log('\n| copier | records | time | records/s | MB/s | identical to the source (key, value, headers, timestamp) |');
    console.log('|---|---:|---:|---:|---:|---|');
    row(`wire-copier (Kafka's protocol, 2 workers), median of ${ROUNDS}, process start included`, wire[0]!.copied, median(wire.map((r) => r.ms)), wireSame);
    row(`wire-copier, copy phase only, median of ${ROUNDS}`, wire[0]!.copied, median(wire.map((r) => r.copyPhaseMs)), wireSame);
    row(`restore-copier (librdkafka, 4 workers), median of ${ROUNDS}, process start included`, rdkafka[0]!.copied, median(rdkafka.map((r) => r.ms)), rdkafkaSame);
    row(`restore-copier (librdkafka), copy phase only, median of ${ROUNDS}`, rdkafka[0]!.copied, median(rdkafka.map((r) => r.copyPhaseMs)), rdkafkaSame);
    row('RestoreCopier (Kafka Java client, 4 workers in 1 JVM), JVM start and source compile included', java.copied, java.ms, javaSame);
    row('RestoreCopier (Java), copy phase only', java.copied, java.copyPhaseMs, javaSame);
    row(`kcat -C | kcat -P (8 pipes), median of ${ROUNDS}`, kcat[0]!.copied, median(kcat.map((k) => k.ms)), kcatSame);
    const wireRatios = rounds.map((i) => kcat[i - 1]!.ms / wire[i - 1]!.ms);
    console.log(`\nwire copier / kcat throughput, per round: ${wireRatios.map((r) => r.toFixed(2)).join(', ')}; median ${median(wireRatios).toFixed(2)}x`);
    const ratios = rounds.map((i) => kcat[i - 1]!.ms / rdkafka[i - 1]!.ms);
    console.log(`librdkafka copier / kcat throughput, per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}x`);
    console.log(`Java copier / kcat throughput: ${(median(kcat.map((k) => k.ms)) / java.ms).toFixed(2)}x (${(median(kcat.map((k) => k.ms)) / java.copyPhaseMs).toFixed(2)}x copy phase only)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await labDown(LAB.name);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
