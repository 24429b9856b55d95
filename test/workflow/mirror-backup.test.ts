import { type Client } from '@temporalio/client';
import { MIRROR_BACKUP_TIMED_OUT } from '../../activities/backup';
import { type MirrorBackupResult } from '../../workflows/mirror-backup';
import { delegatingActivities, runFailure, startWorkflowTestBed, type WorkflowTestBed } from '../support/temporal';
import { type BackupActivities, FakeBackupWorld } from './backup-fakes';

const TASK_QUEUE = 'mirror-backup-test';
let bed: WorkflowTestBed;
let client: Client;
let world: FakeBackupWorld;

beforeAll(async () => {
  const names = Object.keys(new FakeBackupWorld().activities()) as (keyof BackupActivities)[];
  bed = await startWorkflowTestBed(TASK_QUEUE, delegatingActivities(names, () => world.activities()));
  client = bed.client;
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

beforeEach(() => {
  world = new FakeBackupWorld();
});

let seq = 0;
const run = (input: Record<string, unknown> = {}) =>
  client.workflow.execute('mirrorBackup', { taskQueue: TASK_QUEUE, workflowId: `mirror-backup-${Date.now()}-${seq++}`, args: [{ cluster: 'src', ...input }], workflowExecutionTimeout: '1 minute' }) as Promise<MirrorBackupResult>;

describe('mirrorBackup on fakes', () => {
  test('MM2 stopped with no config: the config is written, MM2 started, then the wait and the backup point', async () => {
    const r = await run();
    expect(world.events).toEqual(['write mm2-1', 'start mm2-1', 'capture', 'wait', 'backup point']);
    expect(r.mirrorMaker).toEqual([{ host: 'mm2-1', action: 'start' }]);
    expect(r.backupPoint.id).toBe('2026-11-30T02:00:00Z');
    expect(r.markdown).toContain('| 1 | 2 | 15 | 6 | 1500 | 600 | 0 | 1 |');
  });

  test('running with exactly this config: left alone, and a second run changes nothing either', async () => {
    world.hosts.set('mm2-1', { running: true, config: world.renderedConfig });
    const first = await run();
    const second = await run();
    expect(world.events).toEqual(['capture', 'wait', 'backup point', 'capture', 'wait', 'backup point']);
    expect([first.mirrorMaker, second.mirrorMaker]).toEqual([[{ host: 'mm2-1', action: 'leave-alone' }], [{ host: 'mm2-1', action: 'leave-alone' }]]);
  });

  test('running with another config: stopped, rewritten, started, in that order; stopped with the right config: only started', async () => {
    world.hosts.set('mm2-1', { running: true, config: 'tasks.max=1\n' });
    world.hosts.set('mm2-2', { running: false, config: world.renderedConfig });
    const r = await run();
    expect(world.events.slice(0, 4)).toEqual(['stop mm2-1', 'write mm2-1', 'start mm2-1', 'start mm2-2']);
    expect(r.mirrorMaker).toEqual([
      { host: 'mm2-1', action: 'restart' },
      { host: 'mm2-2', action: 'start' },
    ]);
  });

  test('MM2 never catches up: the run fails with the timeout, and no backup point is written', async () => {
    world.catchUp = 'never';
    const failure = await runFailure(run({ catchUpTimeoutMinutes: 2 }));
    const cause = (failure as { cause?: { type?: string; message: string } }).cause;
    expect(cause?.type ?? failure.type).toBe(MIRROR_BACKUP_TIMED_OUT);
    expect(JSON.stringify(failure)).toContain('within 2 min');
    expect(world.events).not.toContain('backup point');
    expect(world.points).toEqual([]);
  });

  test('a failed MM2 task fails the run before the backup point', async () => {
    world.failedTasks = 1;
    const failure = await runFailure(run());
    expect(JSON.stringify(failure)).toContain('MirrorMaker 2 has failed work: MirrorSourceConnector task 0');
    expect(world.points).toEqual([]);
  });

  test('bad patterns are refused before anything runs', async () => {
    const failure = await runFailure(run({ topics: { include: ['a{1,3}'] } }));
    expect(JSON.stringify(failure)).toContain('topics.include');
    expect(world.events).toEqual([]);
  });
});
