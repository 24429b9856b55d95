/**
 * Fakes of the backup activities, typed like the real ones, over simulated MirrorMaker 2 hosts: each host has a
 * config file and a running flag, and every side effect is recorded in order. No jest here (also used by the
 * every-activity fake, which runs in a worker process).
 */
import { ApplicationFailure } from '@temporalio/common';
import { type createBackupActivities, MIRROR_BACKUP_TIMED_OUT, type SourceCapture } from '../../activities/backup';

export type BackupActivities = ReturnType<typeof createBackupActivities>;

export interface FakeMirrorMakerHost {
  running: boolean;
  config: string | null;
}

export class FakeBackupWorld {
  /** What the run renders; a host whose config differs gets it written. */
  renderedConfig = 'clusters=src,bak\n';
  hosts = new Map<string, FakeMirrorMakerHost>([['mm2-1', { running: false, config: null }]]);
  /** MM2 never reaches the captured offsets: the wait times out as the real one does. */
  catchUp: 'reaches' | 'never' = 'reaches';
  failedTasks = 0;
  /** Side effects in order, e.g. `stop mm2-1`, `write mm2-1`, `start mm2-1`, `backup point`. */
  events: string[] = [];
  points: string[] = [];

  private host(name: string): FakeMirrorMakerHost {
    const h = this.hosts.get(name);
    if (!h) throw ApplicationFailure.create({ type: 'UnknownCluster', message: `no MM2 host ${name}`, nonRetryable: true });
    return h;
  }

  activities(): BackupActivities {
    const capture: SourceCapture = {
      time: '2026-11-30T02:00:00.000Z',
      topics: [{ name: 'orders', backupName: 'orders', partitionCount: 2, replicationFactor: 3, partitions: [{ partition: 0, start: 0, end: 10 }, { partition: 1, start: 0, end: 5 }] }],
      partitions: 2,
      records: 15,
    };
    return {
      planMirrorBackup: async (input) => ({ source: input.cluster, backup: `${input.cluster}-backup`, mm2Hosts: [...this.hosts.keys()], configFingerprint: `fp:${this.renderedConfig}`, replicationPolicy: input.replicationPolicy }),
      readMirrorMakerState: async (_i, name) => {
        const h = this.host(name);
        return { host: name, running: h.running, configMatches: h.config === this.renderedConfig };
      },
      writeMirrorMakerConfig: async (_i, name, fingerprint) => {
        if (fingerprint !== `fp:${this.renderedConfig}`) throw new Error('fingerprint mismatch');
        this.events.push(`write ${name}`);
        this.host(name).config = this.renderedConfig;
      },
      stopMirrorMaker: async (_i, name) => {
        this.events.push(`stop ${name}`);
        this.host(name).running = false;
      },
      startMirrorMaker: async (_i, name) => {
        const h = this.host(name);
        if (h.config !== this.renderedConfig) throw new Error(`started ${name} with a stale config`);
        this.events.push(`start ${name}`);
        h.running = true;
      },
      captureSourceOffsets: async () => {
        this.events.push('capture');
        return capture;
      },
      waitForMirrorCatchUp: async (_i, c, timeoutMs) => {
        this.events.push('wait');
        if (this.catchUp === 'never' || ![...this.hosts.values()].every((h) => h.running)) {
          throw ApplicationFailure.create({ type: MIRROR_BACKUP_TIMED_OUT, nonRetryable: true, message: `MirrorMaker 2 did not reach the source's end offsets within ${timeoutMs / 60_000} min: 2 of 2 partitions behind` });
        }
        return { reached: Object.fromEntries(c.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}:${p.partition}`, p.end]))), lagRecords: 0, waitedMs: 1200 };
      },
      readMirrorMakerHealth: async () => {
        const statuses = [
          { connector: 'MirrorSourceConnector', task: null, state: 'RUNNING', trace: null, workerId: 'w' },
          ...Array.from({ length: 2 }, (_, i) => ({ connector: 'MirrorSourceConnector', task: i, state: i < this.failedTasks ? 'FAILED' : 'RUNNING', trace: i < this.failedTasks ? 'org.apache.kafka.common.errors.TimeoutException' : null, workerId: 'w' })),
        ];
        return { statuses, failed: statuses.filter((s) => s.state === 'FAILED') };
      },
      writeBackupPoint: async (input, c, _catchUp, id) => {
        this.events.push('backup point');
        this.points.push(id);
        return { id, time: c.time, sourceCluster: input.cluster, backupCluster: `${input.cluster}-backup`, topics: 1, partitions: 2, records: 15, recordsThisRun: 6, bytes: 1500, bytesThisRun: 600, lagRecords: 0, groups: 1, aclsCaptured: false };
      },
      listBackupPoints: async () => ({ backupCluster: 'bak', points: [], unreadable: [] }),
    };
  }
}
