import { Kafka, logLevel } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBackupPoints } from '../../activities/backup';
import { type MirrorBackupResult } from '../../workflows/mirror-backup';
import { consumeWithGroup, mirrorMakerLogTail, produceBackupTraffic, readTopicWithKcat, type ReadRecord, useBackupLabs } from './support/backup-lab';
import { cli, stackEnv, startWorker, useDevServer, type WorkerProcess } from './support/stack';

/**
 * The nightly backup on two real clusters (subnets 54 and 55) with MirrorMaker 2 on its own host: a Schedule
 * created and triggered through the CLI runs mirrorBackup; the backup holds every record as the source has it
 * (null values and keys, headers, timestamps, partitions); a second run leaves MM2 alone, a changed config
 * restarts it; the backup points are listed.
 */
jest.setTimeout(600_000);

const TASK_QUEUE = 'e2e-mirror-backup';
const TOPIC = 'orders';
const PARTITIONS = 6;
const getEnv = useDevServer();
const labs = useBackupLabs();
let worker: WorkerProcess | undefined;
let env: NodeJS.ProcessEnv;

/** Fast enough for a test: MM2 finds topics and groups within seconds and records its position every 2 s. */
const FAST = ['replicationFactor=1', 'tasksMax=2', 'checkpointIntervalSeconds=5', 'refreshIntervalSeconds=5', 'offsetFlushIntervalMs=2000', 'catchUpTimeoutMinutes=4'].flatMap((s) => ['--set', s]);

beforeAll(async () => {
  env = stackEnv(getEnv(), labs().inventoryPaths, TASK_QUEUE);
  worker = await startWorker(env);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
});

const admin = (bootstrap: string[]) => new Kafka({ clientId: 'e2e-backup', brokers: bootstrap, logLevel: logLevel.NOTHING }).admin();
const mm2Pid = (): string => readFileSync(labs().mm2.paths.pidFile, 'utf8').trim();

/** What a lossless copy keeps, per partition in order: not the offsets (MM2 does not keep them). */
const content = (records: ReadRecord[]) => records.map(({ partition, key, value, headers, timestamp }) => ({ partition, key, value, headers, timestamp }));

/** The run's activity results from its history, for a failure message. */
async function activityResults(workflowId: string): Promise<string> {
  const history = await getEnv().client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data)
    .filter((d): d is Uint8Array => !!d)
    .map((d) => Buffer.from(d).toString('utf8').slice(0, 1500))
    .join('\n');
}

async function scheduledRun(scheduleId: string): Promise<MirrorBackupResult> {
  const client = getEnv().client;
  let workflowId: string | undefined;
  for (let i = 0; i < 60 && !workflowId; i++) {
    workflowId = (await client.schedule.getHandle(scheduleId).describe()).info.recentActions[0]?.action.workflow.workflowId;
    if (!workflowId) await new Promise((r) => setTimeout(r, 500));
  }
  if (!workflowId) throw new Error(`schedule ${scheduleId} started nothing`);
  try {
    return (await client.workflow.getHandle(workflowId).result()) as MirrorBackupResult;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await activityResults(workflowId)}\n${mirrorMakerLogTail(labs())}`);
  }
}

test('a Schedule created and triggered through the CLI backs the source up losslessly; MM2 left alone when unchanged, restarted when its config changed; points listed', async () => {
  const { source, backup } = labs();
  const a = admin(source.bootstrapServers);
  await a.connect();
  await a.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, configEntries: [{ name: 'retention.ms', value: '604800000' }] }] });
  await a.disconnect();
  expect(await produceBackupTraffic(source.bootstrapServers, TOPIC, PARTITIONS, 0, 600)).toBe(600);
  await consumeWithGroup(source.bootstrapServers, TOPIC, 'billing', 250);

  const created = await cli(env, ['schedule', 'create', 'mirror-backup', '-c', source.name, '--id', 'e2e-nightly-backup', '--cron', '0 2 * * *', '--timezone', 'Europe/Paris', '--note', 'nightly backup', ...FAST]);
  expect(created.code).toBe(0);
  expect(created.stderr).not.toContain('warning');
  const described = await cli(env, ['schedule', 'describe', 'e2e-nightly-backup', '--json']);
  expect(JSON.parse(described.stdout)).toMatchObject({ workflowType: 'mirrorBackup', when: 'cron 0 2 * * *', timezone: 'Europe/Paris', overlap: 'SKIP', note: 'nightly backup', paused: false });
  expect((await cli(env, ['schedule', 'trigger', 'e2e-nightly-backup'])).code).toBe(0);

  const first = await scheduledRun('e2e-nightly-backup');
  expect(first.mirrorMaker).toEqual([{ host: labs().mm2.name, action: 'start' }]);
  expect(first.backupPoint).toMatchObject({ topics: 1, partitions: PARTITIONS, records: 600, recordsThisRun: 600, lagRecords: 0, groups: 1 });
  expect(first.health.failed).toEqual([]);
  expect(first.health.statuses.some((s) => s.connector === 'MirrorSourceConnector' && s.task !== null && s.state === 'RUNNING')).toBe(true);
  const sourceRecords = await readTopicWithKcat(source.bootstrapServers, TOPIC);
  const backupRecords = await readTopicWithKcat(backup.bootstrapServers, TOPIC);
  expect(sourceRecords).toHaveLength(600);
  expect(sourceRecords.filter((r) => r.value === null).length).toBeGreaterThan(0);
  expect(sourceRecords.filter((r) => r.value === '').length).toBeGreaterThan(0);
  expect(content(backupRecords)).toEqual(content(sourceRecords));

  // Nothing changed: MM2 keeps running, and the second run only waits for the new records.
  const pid = mm2Pid();
  expect(await produceBackupTraffic(source.bootstrapServers, TOPIC, PARTITIONS, 600, 60)).toBe(60);
  const second = await cli(env, ['start', 'mirror-backup', '-c', source.name, '--wait', '--json', ...FAST]);
  expect(second.code).toBe(0);
  const secondResult = JSON.parse(second.stdout.slice(second.stdout.indexOf('{'))) as MirrorBackupResult;
  expect(secondResult.mirrorMaker).toEqual([{ host: labs().mm2.name, action: 'leave-alone' }]);
  expect(secondResult.backupPoint).toMatchObject({ records: 660, recordsThisRun: 60, lagRecords: 0 });
  // Sizes from kafka-log-dirs.sh on the backup broker: the 60 new records grew the backup.
  expect(first.backupPoint.bytes).toBeGreaterThan(0);
  expect(first.backupPoint.bytesThisRun).toBe(first.backupPoint.bytes);
  expect(secondResult.backupPoint.bytesThisRun).toBeGreaterThan(0);
  expect(secondResult.backupPoint.bytes).toBeGreaterThan(first.backupPoint.bytes ?? 0);
  expect(mm2Pid()).toBe(pid);

  // Another tasks.max is another config: MM2 restarts with it.
  const third = await cli(env, ['start', 'mirror-backup', '-c', source.name, '--wait', '--json', ...FAST, '--set', 'tasksMax=3']);
  expect(third.code).toBe(0);
  expect((JSON.parse(third.stdout.slice(third.stdout.indexOf('{'))) as MirrorBackupResult).mirrorMaker).toEqual([{ host: labs().mm2.name, action: 'restart' }]);
  expect(mm2Pid()).not.toBe(pid);
  expect(readFileSync(join(labs().mm2.paths.configFile), 'utf8')).toContain('tasks.max=3');

  const listed = await cli(env, ['backups', 'list', '-c', source.name, '--json']);
  expect(listed.code).toBe(0);
  const points = (JSON.parse(listed.stdout) as { points: { id: string; records: number }[] }).points;
  expect(points.map((p) => p.records)).toEqual([660, 660, 600]);
  const table = await cli(env, ['backups', 'list', '-c', source.name]);
  expect(table.stdout).toContain(first.backupPoint.id);

  // The manifest: configs, the group's committed offsets, both sides' offsets.
  const stored = (await readBackupPoints(new Kafka({ clientId: 'e2e-backup', brokers: backup.bootstrapServers, logLevel: logLevel.NOTHING }), source.name)).points;
  const newest = stored[0];
  expect(newest?.topics[0]).toMatchObject({ name: TOPIC, backupName: TOPIC, partitionCount: PARTITIONS, replicationFactor: 3, configs: { 'retention.ms': '604800000' } });
  expect(newest?.topics[0]?.partitions.reduce((n, p) => n + p.sourceEndOffset - p.sourceStartOffset, 0)).toBe(660);
  const billing = newest?.consumerGroups.find((g) => g.groupId === 'billing');
  expect(billing?.offsets.reduce((n, o) => n + o.committedOffset, 0)).toBe(250);
  console.log(`backup e2e: first run waited ${first.markdown.match(/in ([\d.]+) s/)?.[1]} s, ${first.backupPoint.bytes} bytes; second run ${secondResult.backupPoint.bytesThisRun} bytes; billing translated offsets ${JSON.stringify(billing?.offsets.map((o) => o.translatedOffset))}`);

  expect((await cli(env, ['schedule', 'delete', 'e2e-nightly-backup'])).code).toBe(0);
});
