import { type Client } from '@temporalio/client';
import { createApprovalActivities } from './approvals';
import { type ClusterRegistry } from './clusters';
import { createClusterReadActivities } from './cluster-reads';
import { createControllerActivities } from './controllers';
import { createBackupActivities } from './backup';
import { createRestoreActivities } from './restore';
import { createBrokerActivities } from './brokers';
import { createInputActivities } from './inputs';
import { createJmxActivities } from './jmx';
import { createLockActivities } from './lock';
import { createMigrationActivities } from './migration';
import { createNodeActivities } from './nodes';
import { createReassignmentActivities } from './reassignment';
import { createReassignmentPlanActivities } from './reassignment-plan';
import { type HostShell } from './ssh';
import { createZooKeeperActivities } from './zookeeper';

export interface ActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
  client: Client;
  taskQueue?: string;
  /** The key `kafka-runbooks serve` signs attestations with; absent: every answer is unauthenticated. */
  attestationKey?: () => Buffer | null;
  /** The Temporal namespace, for the Web UI links in notices. */
  namespace?: string;
}

/** Every activity the worker registers, built from injected clients. Workflows import this type only. */
export function createActivities(deps: ActivityDeps) {
  const jmx = createJmxActivities(deps);
  return {
    ...createInputActivities(),
    ...createClusterReadActivities(deps),
    ...createLockActivities(deps),
    ...createNodeActivities(deps),
    ...createReassignmentActivities(deps),
    ...createReassignmentPlanActivities(deps),
    ...createBrokerActivities(deps),
    // The migration's waits read the controllers' gauges with the same JmxTool reader.
    ...createMigrationActivities({ ...deps, readMigrationGauges: jmx.readMigrationGauges }),
    ...createApprovalActivities(deps),
    ...createZooKeeperActivities(deps),
    ...jmx,
    ...createControllerActivities(deps),
    ...createBackupActivities(deps),
    ...createRestoreActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export { createClusterRegistry } from './clusters';
export { createHostShell } from './ssh';
