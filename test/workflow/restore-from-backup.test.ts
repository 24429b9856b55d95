import { type Client, type WorkflowHandle } from '@temporalio/client';
import { approveUpdate } from '../../src/names';
import { type RestoreFromBackupResult } from '../../workflows/restore-from-backup';
import { delegatingActivities, gateOrEnd, runFailure, startWorkflowTestBed, waitingAtGate, type WorkflowTestBed } from '../support/temporal';
import { FakeRestoreWorld, type RestoreActivities } from './restore-fakes';

const TASK_QUEUE = 'restore-from-backup-test';
let bed: WorkflowTestBed;
let client: Client;
let world: FakeRestoreWorld;

beforeAll(async () => {
  const names = Object.keys(new FakeRestoreWorld().activities()) as (keyof RestoreActivities)[];
  const lock = { acquireClusterLock: async () => undefined, releaseClusterLock: async () => undefined };
  bed = await startWorkflowTestBed(TASK_QUEUE, { ...lock, ...delegatingActivities(names, () => world.activities()) });
  client = bed.client;
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

beforeEach(() => {
  world = new FakeRestoreWorld();
});

let seq = 0;
const start = (input: Record<string, unknown> = {}) =>
  client.workflow.start('restoreFromBackup', { taskQueue: TASK_QUEUE, workflowId: `restore-${Date.now()}-${seq++}`, args: [{ cluster: 'prod', backupCluster: 'bak', ...input }], workflowExecutionTimeout: '2 minutes' });
const approve = (h: WorkflowHandle, gate: string) => h.executeUpdate(approveUpdate, { args: [{ gate, approver: 'sre-on-call', reason: 'test' }] });

async function runApproved(input: Record<string, unknown> = {}, gates = ['restore', 'set group offsets']): Promise<{ handle: WorkflowHandle; result: Promise<RestoreFromBackupResult> }> {
  const handle = await start(input);
  const result = handle.result() as Promise<RestoreFromBackupResult>;
  result.catch(() => undefined);
  for (const g of gates) {
    if (!(await gateOrEnd(handle, g, result))) break;
    await approve(handle, g);
  }
  return { handle, result };
}

describe('restoreFromBackup on fakes', () => {
  test('plan, gate, create, copy, verify, then the groups behind their own gate: the target equals the backup', async () => {
    const { result } = await runApproved();
    const r = await result;
    expect(world.events).toEqual(['plan', 'create orders', 'bases', 'copy orders[0,1]', 'verify orders', 'set groups billing']);
    expect(world.target.get('orders')).toEqual(world.backup.get('orders'));
    expect(r.verification.mismatches).toEqual([]);
    expect(r.markdown).toContain('| orders | 1 | 6 | 6 |');
    // Checkpoint 7 on partition 0 maps to target offset 7; no checkpoint on partition 1: from the start, never skipped.
    expect(world.committed.get('billing')).toEqual({ 'orders/0': 7, 'orders/1': 0 });
    // Every copy runs the copier the plan chose (shown at the gate).
    expect(world.copiers).toEqual(['wire']);
  });

  test('copier: java in the input reaches every copy attempt, retries included', async () => {
    world.failFirstCopyAfter = 3;
    const { result } = await runApproved({ copier: 'java' });
    await result;
    expect(world.copiers).toEqual(['java', 'java']);
  });

  test('nothing changes on the target before the restore gate is approved', async () => {
    const handle = await start();
    await waitingAtGate(handle, 'restore');
    expect(world.events).toEqual(['plan']);
    await handle.terminate('test over');
  });

  test('a copy attempt that dies midway is retried and resumes: no duplicate, no gap', async () => {
    world.failFirstCopyAfter = 4;
    const { result } = await runApproved();
    const r = await result;
    expect(world.copyAttempts).toBe(2);
    expect(world.target.get('orders')).toEqual(world.backup.get('orders'));
    expect(r.copy.records).toBe(16);
    expect(r.copy.skippedAsWritten).toBe(8);
  });

  test('an existing topic is refused (without existing: append) before anything changes', async () => {
    world.target.set('orders', [[], []]);
    const failure = await runFailure((await start()).result());
    expect(failure.message).toContain('topic orders: exists on prod');
    expect(world.events).toEqual(['plan']);
  });

  test('existing: append writes after what the target holds, and verifies only the restored records', async () => {
    world.target.set('orders', [['old-0'], []]);
    const { result } = await runApproved({ existing: 'append', groupOffsets: 'none' }, ['restore']);
    const r = await result;
    expect(world.target.get('orders')?.[0]).toEqual(['old-0', ...(world.backup.get('orders')?.[0] ?? [])]);
    expect(r.verification.mismatches).toEqual([]);
  });

  test('an active group on the target is named and refused: no offsets are set', async () => {
    world.groups.set('billing', 'Stable');
    const { result } = await runApproved();
    const failure = await runFailure(result);
    expect(failure.message).toContain('billing is Stable on prod');
    expect(world.committed.size).toBe(0);
    // The data was restored and verified before the groups step refused.
    expect(world.events).toContain('verify orders');
  });

  test('a verification mismatch fails the run naming the partition, and no group is set', async () => {
    world.corruptTarget = { topic: 'orders', partition: 1 };
    const { result } = await runApproved();
    const failure = await runFailure(result);
    expect(failure.message).toContain('verification failed: orders/1 differ');
    expect(failure.message).not.toContain('orders/0');
    expect(world.committed.size).toBe(0);
  });
});
