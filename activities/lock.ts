import { type Client, WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { clusterBusy } from '../src/errors';
import { acquireLockUpdate, clusterLockWorkflowId, type LockHolder, lockHolderQuery, releaseLockUpdate, TASK_QUEUE } from '../src/names';

/** Lock activities: a disruptive runbook takes its cluster's lock first and releases it at the end, whatever happened. */
export function createLockActivities({ client, taskQueue = TASK_QUEUE }: { client: Client; taskQueue?: string }) {
  /** Takes the lock in one call that starts the lock workflow if needed: no window in which an idle lock ends between a start and an update. */
  const acquire = (cluster: string, holder: LockHolder) =>
    client.workflow.executeUpdateWithStart(acquireLockUpdate, {
      args: [holder],
      startWorkflowOperation: new WithStartWorkflowOperation('clusterLock', {
        workflowId: clusterLockWorkflowId(cluster),
        taskQueue,
        args: [null],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      }),
    });

  /** Whether the run holding the lock has ended. Only "no such workflow" means gone; any other error is no answer and is retried. */
  const holderEnded = async (workflowId: string): Promise<boolean> => {
    try {
      return (await client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return true;
      throw new Error(`cannot tell whether lock holder ${workflowId} still runs: ${(err as Error).message}`);
    }
  };

  return {
    async acquireClusterLock(req: { cluster: string; workflowId: string; runbook: string }): Promise<void> {
      const holder: LockHolder = { workflowId: req.workflowId, runbook: req.runbook, since: new Date().toISOString() };
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          await acquire(req.cluster, holder);
          return;
        } catch (err) {
          if (!(err instanceof WorkflowUpdateFailedError)) throw err;
          // A holder that ended without releasing (terminated, timed out) must not block the cluster forever.
          const current = await client.workflow.getHandle(clusterLockWorkflowId(req.cluster)).query(lockHolderQuery);
          if (current && attempt === 0 && (await holderEnded(current.workflowId))) {
            await client.workflow.getHandle(clusterLockWorkflowId(req.cluster)).executeUpdate(releaseLockUpdate, { args: [{ workflowId: current.workflowId }] });
            continue;
          }
          const why = err.cause instanceof Error ? err.cause.message : err.message;
          throw clusterBusy(`cluster "${req.cluster}": ${why}`);
        }
      }
      throw clusterBusy(`cluster "${req.cluster}": could not take the lock`);
    },

    async releaseClusterLock(req: { cluster: string; workflowId: string }): Promise<void> {
      const handle = client.workflow.getHandle(clusterLockWorkflowId(req.cluster));
      try {
        await handle.executeUpdate(releaseLockUpdate, { args: [{ workflowId: req.workflowId }] });
      } catch (err) {
        // A lock workflow that is gone holds nothing.
        if (err instanceof WorkflowNotFoundError) return;
        throw err;
      }
    },
  };
}
