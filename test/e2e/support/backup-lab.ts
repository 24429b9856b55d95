import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LabCluster, type LabHost, addMirrorMakerHost, kafkaToolsDir, labDown, labRoot, labUp, sshPaths } from '../../../src/lab';
import { ensureClientKey } from '../../../src/lab/ssh';

/**
 * The backup/restore test bed, shared by the backup and restore e2e tests: a source cluster and a backup
 * cluster on their own subnets, MirrorMaker 2's host on the backup lab (MM2 stopped: the runbook starts it),
 * and a subnet for a fresh third cluster. One bring-up per test file: JVMs are the slow part.
 */
export const BACKUP_LAB = {
  source: { name: 'bk-source', subnet: 54 },
  backup: { name: 'bk-backup', subnet: 55 },
  /** A fresh cluster to restore into. */
  fresh: { name: 'bk-fresh', subnet: 56 },
} as const;

export interface BackupLabs {
  source: LabCluster;
  backup: LabCluster;
  mm2: LabHost;
  /** Every inventory file, for the worker's KAFKA_RUNBOOKS_INVENTORY. */
  inventoryPaths: string[];
}

export interface BackupLabOptions {
  /** 3 by default, so the restore tests can restart a broker under a copy. */
  sourceBrokers?: number;
  /** 1 by default: the backup holds one replica per partition (mirrorBackup's replicationFactor: 1). */
  backupBrokers?: number;
}

/** Brings up source and backup (leftovers of an interrupted run are taken down first) and the MM2 host. */
export async function backupLabsUp(opts: BackupLabOptions = {}): Promise<BackupLabs> {
  await backupLabsDown();
  // Once, before the two labs come up side by side: two first-time key generations would race on one file.
  await ensureClientKey(sshPaths(labRoot()));
  try {
    const [source, backup] = await Promise.all([
      labUp({ ...BACKUP_LAB.source, brokers: opts.sourceBrokers ?? 3 }),
      labUp({ ...BACKUP_LAB.backup, brokers: opts.backupBrokers ?? 1 }),
    ]);
    const mm2 = await addMirrorMakerHost(source.name, backup.name);
    return { source, backup, mm2, inventoryPaths: [source.inventoryPath, backup.inventoryPath] };
  } catch (err) {
    await backupLabsDown();
    throw err;
  }
}

/** Takes down the three labs of the test bed (MM2 goes with the backup lab); safe when none runs. */
export async function backupLabsDown(): Promise<void> {
  for (const lab of [BACKUP_LAB.fresh, BACKUP_LAB.backup, BACKUP_LAB.source]) await labDown(lab.name);
}

/** jest: the labs up before the enclosing describe's tests, down after them whatever happens. */
export function useBackupLabs(opts: BackupLabOptions = {}, upTimeoutMs = 300_000): () => BackupLabs {
  let labs: BackupLabs | undefined;
  beforeAll(async () => {
    labs = await backupLabsUp(opts);
  }, upTimeoutMs);
  afterAll(async () => {
    await backupLabsDown();
  }, 180_000);
  return () => {
    if (!labs) throw new Error('backup labs did not come up (see beforeAll)');
    return labs;
  };
}

/** The last lines of MirrorMaker 2's output on its host, for failure messages. */
export function mirrorMakerLogTail(labs: Pick<BackupLabs, 'mm2'>, lines = 40): string {
  const out = join(labs.mm2.paths.logDir, 'mirror-maker.out');
  if (!existsSync(out)) return '(no MirrorMaker 2 output yet)';
  return readFileSync(out, 'utf8').split('\n').slice(-lines).join('\n');
}

const execFileP = promisify(execFile);
/** Record n's timestamp is this + n: one base per test process, so timestamps say which record is which. */
export const TRAFFIC_TIMESTAMP_BASE = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const KAFKA_VERSION = '4.3.1';

/**
 * Produces records n in [from, from + count) with Kafka's Java producer (BackupTrafficProducer.java): null and
 * empty values, null keys, headers (one null-valued), CreateTime timestamps `timestampBase + n`, partition
 * n % partitions. The base must be recent, or the records fall to the topic's retention at once.
 */
export async function produceBackupTraffic(bootstrapServers: string[], topic: string, partitions: number, from: number, count: number, timestampBase = TRAFFIC_TIMESTAMP_BASE): Promise<number> {
  const libs = join(kafkaToolsDir(), KAFKA_VERSION, 'libs', '*');
  const { stdout } = await execFileP('java', ['-cp', libs, join(__dirname, 'BackupTrafficProducer.java'), bootstrapServers.join(','), topic, String(partitions), String(from), String(count), String(timestampBase)], {
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const acked = /ACKED (\d+)/.exec(stdout);
  if (!acked) throw new Error(`BackupTrafficProducer printed no ACKED line: ${stdout}`);
  return Number(acked[1]);
}

/** One record as kcat (librdkafka) reads it: null kept distinct from empty, headers in order, timestamp. */
export interface ReadRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: string;
  timestamp: number;
}

/**
 * Every record of a topic, per partition in offset order, read with kcat from the beginning to the end offsets
 * at the time of the call. Independent of both MM2 and our code.
 */
export async function readTopicWithKcat(bootstrapServers: string[], topic: string): Promise<ReadRecord[]> {
  // \x1f separates fields: keys and values are ASCII here. %K/%S are lengths, -1 for null.
  const { stdout } = await execFileP('kcat', ['-C', '-b', bootstrapServers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\x1f%o\x1f%K\x1f%k\x1f%S\x1f%s\x1f%h\x1f%T\x1e'], {
    timeout: 120_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout
    .split('\x1e')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [p, o, kl, k, vl, v, h, t] = l.replace(/^\n/, '').split('\x1f');
      return { partition: Number(p), offset: Number(o), key: kl === '-1' ? null : (k ?? ''), value: vl === '-1' ? null : (v ?? ''), headers: h ?? '', timestamp: Number(t) };
    })
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Consumes up to `max` records with Kafka's console consumer in `group`, which commits its offsets on exit. */
export async function consumeWithGroup(bootstrapServers: string[], topic: string, group: string, max: number): Promise<void> {
  const tool = join(kafkaToolsDir(), KAFKA_VERSION, 'bin', 'kafka-console-consumer.sh');
  await execFileP(tool, ['--bootstrap-server', bootstrapServers.join(','), '--topic', topic, '--group', group, '--from-beginning', '--max-messages', String(max), '--timeout-ms', '30000'], {
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, KAFKA_HEAP_OPTS: '-Xmx256m' },
  });
}
