import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LabCluster, type LabHost, addMirrorMakerHost, labDown, labUp } from '../../../src/lab';

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
