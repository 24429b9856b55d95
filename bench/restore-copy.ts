/**
 * Restore copy throughput: our copier (activities/restore/RestoreCopier.java, Kafka's Java client) against
 * `kcat -C | kcat -P` (one pipe per partition, all at once), on the same data set and the same machine.
 * Run: flock /tmp/kafka-runbooks-e2e.lock npx tsx bench/restore-copy.ts   (BENCH_RECORDS, BENCH_VALUE_BYTES)
 *
 * Data: BENCH_RECORDS records (default 1,400,000) over 8 partitions, keys (some null), 2-3 headers, every 10th
 * value null and every 13th empty, the rest BENCH_VALUE_BYTES (default 1000) bytes: over 1 GB of keys and values.
 * Both copies read from the same source topic into a fresh topic each. MB = 10^6 bytes of keys and values.
 * kcat loses headers, timestamps, null values (written as empty) and null keys; the copier keeps them, which the
 * digest run after the copy shows. Lab: restore-bench (subnet 59), taken down at the end.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaToolsDir, labDown, labUp } from '../src/lab';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_400_000);
const VALUE_BYTES = Number(process.env.BENCH_VALUE_BYTES ?? 1000);
const PARTITIONS = 8;
const LAB = { name: 'restore-bench', subnet: 59 };
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
  try {
    const bootstrap = lab.bootstrapServers.join(',');
    const admin = new Kafka({ brokers: lab.bootstrapServers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    // Retention off: the data's timestamps are hours old by the time kcat runs.
    const configEntries = [{ name: 'retention.ms', value: '-1' }];
    await admin.createTopics({ waitForLeaders: true, topics: ['src', 'dst-copier', 'dst-kcat'].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1, configEntries })) });

    const t0 = Date.now();
    const gen = await execFileP('java', ['-Xmx1g', '-cp', libs, join(__dirname, 'RestoreData.java'), bootstrap, 'src', String(RECORDS), String(VALUE_BYTES), String(Date.now() - 3_600_000), '1'], { maxBuffer: 1 << 20, timeout: 1_800_000 });
    const bytes = Number(/bytes=(\d+)/.exec(gen.stdout)?.[1]);
    console.log(`data: ${RECORDS} records, ${(bytes / 1e6).toFixed(0)} MB of keys and values, written in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const ends = await admin.fetchTopicOffsets('src');

    const props = `source.bootstrap.servers=${bootstrap}\ntarget.bootstrap.servers=${bootstrap}\n`;
    const ranges = ends.map((o) => `${o.partition}:0:${o.high}:0`);
    const c0 = Date.now();
    const copier = await run('java', ['-Xmx1g', '-XX:+UseParallelGC', '-cp', libs, join(__dirname, '..', 'activities', 'restore', 'RestoreCopier.java'), 'copy', 'src', 'dst-copier', ...ranges], props);
    const copierMs = Date.now() - c0;
    if (copier.code !== 0) throw new Error(`copier failed: ${copier.stdout.split('\n').filter((l) => l.startsWith('FAILED')).join('; ')} ${copier.stderr}`);
    const copied = Number(/SUMMARY copied=(\d+)/.exec(copier.stdout)?.[1]);
    // The copier's own clock: from its first client call to its last acknowledgement (no JVM start, no compile).
    const copyPhaseMs = Number(/SUMMARY .* ms=(\d+)/.exec(copier.stdout)?.[1]);

    const k0 = Date.now();
    const pipes = ends.map((o) => run('bash', ['-c', `set -o pipefail; kcat -C -b ${bootstrap} -t src -p ${o.partition} -o beginning -e -q -K '\\t' | kcat -P -b ${bootstrap} -t dst-kcat -p ${o.partition} -K '\\t'`]));
    const kcat = await Promise.all(pipes);
    const kcatMs = Date.now() - k0;
    if (kcat.some((k) => k.code !== 0)) throw new Error(`kcat pipe failed: ${kcat.map((k) => k.stderr).join(' ')}`);
    const kcatRecords = (await admin.fetchTopicOffsets('dst-kcat')).reduce((n, o) => n + Number(o.high), 0);

    // Lossless check of the copier's output: digests of both topics over (key, value, headers, timestamp).
    const digest = async (topic: string) => {
      const r = await run('java', ['-cp', libs, join(__dirname, '..', 'activities', 'restore', 'RestoreCopier.java'), 'digest', 'source', topic, ...ends.map((o) => `${o.partition}:0:${o.high}`)], props);
      return r.stdout.split('\n').filter((l) => l.startsWith('DIGEST')).map((l) => l.replace(/ first=.*/, '')).sort().join('\n');
    };
    const [src, dstCopier, dstKcat] = [await digest('src'), await digest('dst-copier'), await digest('dst-kcat')];
    await admin.disconnect();

    const row = (name: string, records: number, ms: number, same: boolean) =>
      console.log(`| ${name} | ${records} | ${(ms / 1000).toFixed(1)} s | ${Math.round(records / (ms / 1000)).toLocaleString('en-US')} | ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} | ${same ? 'yes' : 'no'} |`);
    console.log('\n| copier | records | time | records/s | MB/s | identical to the source (key, value, headers, timestamp) |');
    console.log('|---|---:|---:|---:|---:|---|');
    row('RestoreCopier (Kafka Java client, 1 JVM, 8 partitions), wall: JVM start and source compile included', copied, copierMs, src === dstCopier);
    row('RestoreCopier, copy phase only', copied, copyPhaseMs, src === dstCopier);
    row('kcat -C | kcat -P (8 pipes)', kcatRecords, kcatMs, src === dstKcat);
    console.log(`\ncopier / kcat throughput: ${(kcatMs / copierMs).toFixed(2)}x wall, ${(kcatMs / copyPhaseMs).toFixed(2)}x copy phase`);
  } finally {
    await labDown(LAB.name);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
