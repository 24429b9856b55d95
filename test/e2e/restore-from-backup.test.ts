import { type WorkflowHandle } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createClusterRegistry } from '../../activities/clusters';
import { type CopyRangeResult, createRestoreActivities, type DigestResult } from '../../activities/restore';
import { createHostShell } from '../../activities/ssh';
import { addMirrorMakerHost, kafkaToolsDir, type LabCluster, labDown, type LabHost, labUp } from '../../src/lab';
import { type CopierKind } from '../../src/restore/plan';
import { approveUpdate, progressQuery } from '../../src/names';
import { gateOrEnd } from '../support/temporal';
import { type RestoreFromBackupResult } from '../../workflows/restore-from-backup';
import { produceBackupTraffic, readTopicWithKcat, type ReadRecord, TRAFFIC_TIMESTAMP_BASE } from './support/backup-lab';
import { eventually, inventoryHost, loadLabInventory, runHostCommand } from './support/lab';
import { cli, stackEnv, startWorker, useDevServer, type WorkerProcess } from './support/stack';

/**
 * restoreFromBackup on real clusters: a source (subnet 58, 3 brokers), its backup (subnet 59, 1 broker, MM2 on
 * its own host) and a fresh third cluster (subnet 60, 3 brokers). The backups are taken by mirrorBackup.
 * 1. Disaster: the source topic is deleted; the restore rebuilds it on the source, verification passes, and a
 *    consumer of the restored group resumes with no record lost (duplicates counted and reported).
 *    Kafka's Java client copies.
 * 2. Into the fresh cluster, up to a date-time in the middle of the traffic, while the worker is SIGKILLed
 *    during a copy and a target broker is restarted during another: the result is still exact. The wire
 *    copier copies (copier: auto: the lab's clusters are PLAINTEXT and its hosts have a compiler and the headers).
 * 3. Each copier (wire, librdkafka, Java), run by the copy activity over SSH, copies record batches in every
 *    form Kafka's Java producer writes them: gzip, snappy, lz4 and zstd; committed and aborted transactions;
 *    a LogAppendTime topic; ranges cut inside batches. The Java verifier's digests match the backup's.
 */
jest.setTimeout(900_000);

const TASK_QUEUE = 'e2e-restore';
const SOURCE = { name: 'rs-source', subnet: 58 };
const BACKUP = { name: 'rs-backup', subnet: 59 };
const FRESH = { name: 'rs-fresh', subnet: 60 };
const FAST = ['replicationFactor=1', 'tasksMax=2', 'checkpointIntervalSeconds=5', 'refreshIntervalSeconds=5', 'offsetFlushIntervalMs=2000', 'catchUpTimeoutMinutes=6'].flatMap((s) => ['--set', s]);
/** BackupTrafficProducer stamps record n with this + n ms (recent: older records would fall to retention). */
const FIRST_TS = TRAFFIC_TIMESTAMP_BASE;

const getEnv = useDevServer();
let source: LabCluster;
let backup: LabCluster;
let fresh: LabCluster;
let mm2: LabHost;
let env: NodeJS.ProcessEnv;
let worker: WorkerProcess | undefined;
const execFileP = promisify(execFile);

beforeAll(async () => {
  for (const l of [FRESH, BACKUP, SOURCE]) await labDown(l.name);
  [source, backup, fresh] = await Promise.all([labUp({ ...SOURCE, brokers: 3 }), labUp({ ...BACKUP, brokers: 1 }), labUp({ ...FRESH, brokers: 3 })]);
  mm2 = await addMirrorMakerHost(source.name, backup.name);
  env = stackEnv(getEnv(), [source.inventoryPath, backup.inventoryPath, fresh.inventoryPath], TASK_QUEUE);
  worker = await startWorker(env);
}, 420_000);

afterAll(async () => {
  await worker?.stop();
  for (const l of [FRESH, BACKUP, SOURCE]) await labDown(l.name);
}, 240_000);

const admin = (lab: LabCluster) => new Kafka({ clientId: 'e2e-restore', brokers: lab.bootstrapServers, logLevel: logLevel.NOTHING }).admin();
const content = (records: ReadRecord[]) => records.map(({ partition, key, value, headers, timestamp }) => ({ partition, key, value, headers, timestamp }));
const seqOf = (r: ReadRecord) => Number(/seq=(\d+)/.exec(r.headers)?.[1]);

async function backupNow(): Promise<void> {
  const r = await cli(env, ['start', 'mirror-backup', '-c', source.name, '--wait', '--json', ...FAST], 600_000);
  if (r.code !== 0) throw new Error(`mirror-backup failed: ${r.stdout} ${r.stderr}\n${worker?.output().slice(-3000)}`);
}

async function startRestore(workflowId: string, input: Record<string, unknown>): Promise<WorkflowHandle> {
  return getEnv().client.workflow.start('restoreFromBackup', { taskQueue: TASK_QUEUE, workflowId, args: [input] });
}

/** Approves each gate when the run reaches it (the run may end first, e.g. without groups to set). */
async function approveAlong(handle: WorkflowHandle, gates: string[]): Promise<RestoreFromBackupResult> {
  const result = handle.result() as Promise<RestoreFromBackupResult>;
  for (const gate of gates) {
    if (!(await gateOrEnd(handle, gate, result, 500))) break;
    await handle.executeUpdate(approveUpdate, { args: [{ gate, approver: 'e2e-test', reason: 'restore test' }] });
  }
  return result;
}

/** Stops MirrorMaker 2 on its lab host (SIGTERM to the pid it recorded) and waits until it is gone. */
async function stopMirrorMaker(host: LabHost): Promise<void> {
  const pid = Number(readFileSync(host.paths.pidFile, 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  await eventually('MirrorMaker 2 stopped', async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, (gone) => gone, 60_000);
}

/** Reads a topic with a consumer group (kcat, librdkafka), committing as it goes, until the end of every partition. */
async function consumeGroup(lab: LabCluster, topic: string, group: string): Promise<number[]> {
  const { stdout } = await execFileP('kcat', ['-b', lab.bootstrapServers.join(','), '-G', group, '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%h\n', topic], { timeout: 120_000, maxBuffer: 64 << 20 });
  return stdout
    .split('\n')
    .map((l) => Number(/seq=(\d+)/.exec(l)?.[1]))
    .filter((n) => Number.isFinite(n));
}

/** Sets (or removes, with null) a producer byte-rate quota for the copiers' client id on every broker of a lab. */
async function copierQuota(lab: LabCluster, bytesPerSecond: number | null): Promise<void> {
  const change = bytesPerSecond === null ? ['--delete-config', 'producer_byte_rate'] : ['--add-config', `producer_byte_rate=${bytesPerSecond}`];
  await execFileP(join(kafkaToolsDir(), '4.3.1', 'bin', 'kafka-configs.sh'), ['--bootstrap-server', lab.bootstrapServers.join(','), '--alter', '--entity-type', 'clients', '--entity-name', 'kafka-runbooks-restore-copier', ...change], { timeout: 120_000 });
}

/** Waits until a partition of the target holds some, not all, of its records: a copy is under way. */
async function partlyCopied(lab: LabCluster, topic: string, partition: number, records: number): Promise<void> {
  const a = admin(lab);
  await a.connect();
  try {
    await eventually(`${topic}/${partition} partly copied`, async () => Number((await a.fetchTopicOffsets(topic)).find((o) => o.partition === partition)?.high ?? 0), (n) => n > 0 && n < records, 120_000);
  } finally {
    await a.disconnect();
  }
}

test('disaster: the source topic is deleted; the restore rebuilds it, verified, and the group resumes with no record lost', async () => {
  const a = admin(source);
  await a.connect();
  await a.createTopics({ waitForLeaders: true, topics: [{ topic: 'orders', numPartitions: 4, replicationFactor: 3, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
  expect(await produceBackupTraffic(source.bootstrapServers, 'orders', 4, 0, 2000)).toBe(2000);
  // The group reads part of the topic and commits: these records are done for it.
  const before = await execFileP('kcat', ['-b', source.bootstrapServers.join(','), '-G', 'billing', '-X', 'auto.offset.reset=earliest', '-c', '900', '-q', '-f', '%h\n', 'orders'], { timeout: 120_000 });
  const consumedBefore = before.stdout.split('\n').filter((l) => l.includes('seq=')).length;
  // The backup point reads the group's translated offsets from MM2's checkpoints. MM2 is stopped until the backup
  // runbook starts it, so no checkpoint can be written before backupNow: waiting here would add nothing.
  await backupNow();
  const original = await readTopicWithKcat(source.bootstrapServers, 'orders');
  const committed = await a.fetchOffsets({ groupId: 'billing', topics: ['orders'] });

  // Restoring into the source: the backup stops first, or MM2 would recreate the deleted topic (its consumer
  // asks for it, and the brokers create topics on demand) and mirror the restored records back.
  await stopMirrorMaker(mm2);

  // The disaster.
  await a.deleteTopics({ topics: ['orders'] });
  await eventually('orders deleted', async () => (await a.listTopics()).includes('orders'), (present) => !present);
  await a.disconnect();

  // Kafka's Java client copies here; the other scenario runs the librdkafka copier (copier: auto on a host that builds it).
  const handle = await startRestore(`restore-disaster-${Date.now()}`, { cluster: source.name, backupCluster: backup.name, topics: { include: ['orders'] }, groups: { include: ['billing'] }, copier: 'java' });
  const r = await approveAlong(handle, ['restore', 'set group offsets']);
  expect(r.copy.copier).toEqual({ kind: 'java', why: 'copier: java' });
  expect(r.verification.mismatches).toEqual([]);
  expect(r.verification).toMatchObject({ partitions: 4, records: 2000 });
  expect(r.plan.topicsCreated).toEqual(['orders']);
  expect(content(await readTopicWithKcat(source.bootstrapServers, 'orders'))).toEqual(content(original));
  expect(r.groups.set).toEqual(['billing']);

  // The group resumes: every record it had not consumed is read now; what it reads again is counted.
  const done = new Set<number>();
  const committedBySeq = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  for (const rec of original) if (rec.offset < (committedBySeq.get(rec.partition) ?? 0)) done.add(seqOf(rec));
  const after = await consumeGroup(source, 'orders', 'billing');
  const lost = original.map(seqOf).filter((n) => !done.has(n) && !after.includes(n));
  const duplicates = after.filter((n) => done.has(n)).length;
  console.log(`restore e2e (disaster): consumed before ${consumedBefore}, committed ${JSON.stringify([...committedBySeq])}, read after restore ${after.length}, re-read (duplicates) ${duplicates}, lost ${lost.length}`);
  expect(lost).toEqual([]);
  expect(after.length).toBe(2000 - done.size + duplicates);
  expect(r.markdown).toContain('| orders | 0 |');
});

test('into a fresh cluster up to a date-time in the middle, with the worker SIGKILLed and a target broker restarted during the copy: exact', async () => {
  const a = admin(source);
  await a.connect();
  await a.createTopics({ waitForLeaders: true, topics: [{ topic: 'events', numPartitions: 6, replicationFactor: 3, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
  await a.disconnect();
  const total = 240_000;
  expect(await produceBackupTraffic(source.bootstrapServers, 'events', 6, 0, total)).toBe(total);
  await backupNow();
  // The records' CreateTime is an hour back, before either backup point: name the newest, which holds `events`.
  const listed = await cli(env, ['backups', 'list', '-c', source.name, '--json']);
  const newest = (JSON.parse(listed.stdout) as { points: { id: string }[] }).points[0]?.id;
  expect(newest).toBeDefined();
  // The cut: every record stamped at or before it (records 0..cut-1) and none after.
  const cut = 150_000;
  const at = new Date(FIRST_TS + cut - 1).toISOString();

  const handle = await startRestore(`restore-fresh-${Date.now()}`, { cluster: fresh.name, backupCluster: backup.name, sourceCluster: source.name, backupPoint: newest, at, topics: { include: ['events'] }, groupOffsets: 'none', partitionsPerCopy: 1, parallelCopies: 1 });
  const running = (step: string) => eventually(`step ${step}`, () => handle.query(progressQuery), (p) => p.currentStep === step, 300_000);
  const result = approveAlong(handle, ['restore']);

  // A producer quota on the fresh cluster slows the copier until the broker restart, so that the worker kill
  // and the restart land inside a range's copy, whichever copier it is. A range is about 2 MB, sent in batches
  // of up to 1 MB; the broker averages a client's rate over 11 s and, past the quota, holds its next request
  // back (up to 11 s): a range then takes two requests and a pause between them.
  await copierQuota(fresh, 20_000);
  const perPartition = cut / 6;

  // The worker dies in the middle of the second range; another worker takes over.
  await running('copy events[1]');
  await partlyCopied(fresh, 'events', 1, perPartition);
  await worker?.stop('SIGKILL');
  worker = await startWorker(env);

  // A broker of the target restarts under the fourth range.
  await running('copy events[3]');
  await partlyCopied(fresh, 'events', 3, perPartition);
  const inv = loadLabInventory(fresh);
  const broker = inventoryHost(inv, inv.hosts[1]!.name);
  expect((await runHostCommand(broker, 'stop')).code).toBe(0);
  await eventually(`${broker.name} stopped`, () => runHostCommand(broker, 'status'), (s) => s.code !== 0, 90_000);
  await new Promise((r) => setTimeout(r, 3_000));
  expect((await runHostCommand(broker, 'start')).code).toBe(0);
  await copierQuota(fresh, null);

  const r = await result;
  expect(r.copy.copier.kind).toBe('wire');
  expect(r.copy.copier.why).toMatch(/^wire copier v\d+ on kafka-1, chosen by copier: auto$/);
  expect(r.verification.mismatches).toEqual([]);
  expect(r.copy.records).toBe(cut);
  // The retry after the kill found the killed attempt's records on the target and went on after them.
  expect(r.copy.skippedAsWritten).toBeGreaterThan(0);
  const restored = await readTopicWithKcat(fresh.bootstrapServers, 'events');
  const backedUp = (await readTopicWithKcat(backup.bootstrapServers, 'events')).filter((x) => x.timestamp <= FIRST_TS + cut - 1);
  expect(restored).toHaveLength(cut);
  expect(content(restored)).toEqual(content(backedUp));
  console.log(`restore e2e (fresh, at ${at}): ${r.copy.records} records, ${r.copy.skippedAsWritten} found already written after the worker kill`);
});

test('every copier, run by the copy activity over SSH, copies every batch form exactly: four codecs, committed and aborted transactions, LogAppendTime, ranges cut inside batches', async () => {
  const a = admin(backup);
  await a.connect();
  const topics = { formats: [] as { name: string; value: string }[], 'formats-lat': [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] };
  await a.createTopics({ waitForLeaders: true, topics: Object.entries(topics).map(([topic, extra]) => ({ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }, ...extra] })) });
  for (const topic of Object.keys(topics)) {
    const { stderr } = await execFileP('java', ['-cp', join(kafkaToolsDir(), '4.3.1', 'libs', '*'), join(__dirname, 'support', 'RecordFormats.java'), backup.bootstrapServers.join(','), topic, '2'], { timeout: 300_000 });
    // Per round and partition: 40 plain, 4 x 60 compressed, 25 + 15 committed in transactions, 10 plain during the aborted one; 30 aborted.
    expect(stderr).toContain('DONE committed=1980 aborted=180');
  }
  const ends = Object.fromEntries(await Promise.all(Object.keys(topics).map(async (t) => [t, Object.fromEntries((await a.fetchTopicOffsets(t)).map((o) => [o.partition, Number(o.high)]))] as const)));
  await a.disconnect();

  const shell = createHostShell();
  const acts = createRestoreActivities({ clusters: createClusterRegistry(new Map([[backup.name, loadLabInventory(backup)], [fresh.name, loadLabInventory(fresh)]])), shell });
  const copyHost = loadLabInventory(fresh).hosts[0]!.name;
  // Copier keys unique to this run, as a restore's are: a pid file left by an earlier run would make the copy wait for the target to settle.
  const run = Date.now().toString(36);
  const f = admin(fresh);
  await f.connect();
  try {
    for (const kind of ['wire', 'librdkafka', 'java'] as CopierKind[]) {
      for (const backupTopic of Object.keys(topics)) {
        const topic = `${backupTopic}-${kind}`;
        await f.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
        const end = ends[backupTopic]!;
        // Partition 1 starts inside the first batch and ends inside the second round's transactions.
        const partitions = [{ partition: 0, from: 0, to: end[0]! }, { partition: 1, from: 7, to: end[1]! - 50 }, { partition: 2, from: 0, to: end[2]! }].map((p) => ({ ...p, records: p.to - p.from }));
        const job = { backupCluster: backup.name, cluster: fresh.name, copyHost, key: `formats-${kind}-${backupTopic}-${run}`, timeoutMs: 300_000 };
        const copied: CopyRangeResult = await new MockActivityEnvironment().run(acts.copyRestoreRange, { ...job, copier: kind, range: { id: topic, topic, backupTopic, partitions }, bases: { 0: 0, 1: 0, 2: 0 } });
        const d: DigestResult = await new MockActivityEnvironment().run(acts.digestRestoreRange, { ...job, topic, backupTopic, partitions: partitions.map((p) => ({ ...p, base: 0, marks: [] })) });
        const summary = (xs: { partition: number; count: number; sha256: string }[]) => xs.map(({ partition, count, sha256 }) => ({ partition, count, sha256 })).sort((x, y) => x.partition - y.partition);
        expect({ kind, topic, digests: summary(d.target) }).toEqual({ kind, topic, digests: summary(d.backup) });
        // Every committed record of the whole partitions, and no aborted one.
        expect(summary(d.backup).filter((x) => x.partition !== 1).map((x) => x.count)).toEqual([660, 660]);
        expect(copied.copied).toBe(summary(d.backup).reduce((n, x) => n + x.count, 0));
      }
    }
  } finally {
    await f.disconnect();
    await shell.close();
  }
});
