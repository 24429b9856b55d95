import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { acquireLockUpdate, type LockHolder, lockHolderQuery, releaseLockUpdate } from '../src/names';

/**
 * The per-cluster lock: one disruptive runbook per cluster at a time. One instance per cluster
 * (ID `cluster-lock/<cluster>`). An acquire by another holder is refused by the update validator,
 * naming the runbook that holds the cluster. Ends after 5 idle minutes; continues as new when history grows.
 */
export async function clusterLock(initial: LockHolder | null = null): Promise<void> {
  let holder: LockHolder | null = initial;
  setHandler(
    acquireLockUpdate,
    (req) => {
      holder = req;
      return req;
    },
    {
      validator: (req) => {
        if (!req || typeof req.workflowId !== 'string' || typeof req.runbook !== 'string') throw new Error('malformed lock request');
        if (holder && holder.workflowId !== req.workflowId) {
          throw new Error(`cluster is busy: runbook ${holder.runbook} (workflow ${holder.workflowId}) has held it since ${holder.since}`);
        }
      },
    },
  );
  setHandler(releaseLockUpdate, ({ workflowId }) => {
    if (holder?.workflowId !== workflowId) return false;
    holder = null;
    return true;
  });
  setHandler(lockHolderQuery, () => holder);

  for (;;) {
    if (holder) await condition(() => holder === null || workflowInfo().continueAsNewSuggested);
    else if (!(await condition(() => holder !== null || workflowInfo().continueAsNewSuggested, '5 minutes', { summary: 'free: end unless a runbook takes the lock within 5 minutes' }))) break;
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof clusterLock>(holder);
    }
  }
  await condition(allHandlersFinished);
}
