import { type Client } from '@temporalio/client';
import { type ClusterRegistry } from './clusters';
import { createClusterReadActivities } from './cluster-reads';
import { createLockActivities } from './lock';
import { createReassignmentActivities } from './reassignment';
import { createReassignmentPlanActivities } from './reassignment-plan';
import { type HostShell } from './ssh';

export interface ActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
  client: Client;
  taskQueue?: string;
}

/** Every activity the worker registers, built from injected clients. Workflows import this type only. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createClusterReadActivities(deps),
    ...createLockActivities(deps),
    ...createReassignmentActivities(deps),
    ...createReassignmentPlanActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export { createClusterRegistry } from './clusters';
export { createHostShell } from './ssh';
