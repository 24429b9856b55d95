import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { clusterBusy } from '../src/errors';
import { acquireLockUpdate, clusterLockWorkflowId, lockHolderQuery, releaseLockUpdate, TASK_QUEUE } from '../src/names';

/** Lock activities: a disruptive runbook takes its cluster's lock first and releases it at the end, whatever happened. */
export function createLockActivities({ client, taskQueue = TASK_QUEUE }: { client: Client; taskQueue?: string }) {
  const lockHandle = async (cluster: string) =>
    client.workflow.start('clusterLock', {
      workflowId: clusterLockWorkflowId(cluster),
      taskQueue,
      args: [null],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });

  return {
    async acquireClusterLock(req: { cluster: string; workflowId: string; runbook: string }): Promise<void> {
      const holder = { workflowId: req.workflowId, runbook: req.runbook, since: new Date().toISOString() };
      for (let attempt = 0; attempt < 2; attempt++) {
        const handle = await lockHandle(req.cluster);
        try {
          await handle.executeUpdate(acquireLockUpdate, { args: [holder] });
          return;
        } catch (err) {
          if (!(err instanceof WorkflowUpdateFailedError)) throw err;
          // A holder that ended without releasing (terminated, timed out) must not block the cluster forever.
          const current = await handle.query(lockHolderQuery);
          if (current && attempt === 0) {
            const status = await client.workflow
              .getHandle(current.workflowId)
              .describe()
              .then((d) => d.status.name)
              .catch(() => 'NOT_FOUND');
            if (status !== 'RUNNING') {
              await handle.executeUpdate(releaseLockUpdate, { args: [{ workflowId: current.workflowId }] });
              continue;
            }
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
        if ((err as Error).name === 'WorkflowNotFoundError') return;
        throw err;
      }
    },
  };
}
