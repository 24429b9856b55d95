import { createElectionActivities } from './elections';
import { createNodeConfigActivities } from './node-config';
import { type NodeActivityDeps } from './node-hosts';
import { createNodeProcessActivities } from './node-process';
import { createNodeVersionActivities } from './node-versions';
import { createNodeWaitActivities } from './node-waits';

export type { QuorumObservation } from '../src/model/cluster';
export type { LeaderElectionResult, TopicPartitionRef } from './elections';
export type { ConfigCarryOverResult, NodeConfigBackup } from './node-config';
export type { NodeActivityDeps } from './node-hosts';
export type { StartResult, StopResult } from './node-process';
export type { NodeVersion, VersionSwitch } from './node-versions';
export { DEFAULT_WAIT_MS, type CatchUpResult, type GuardOptions, type GuardResult, type QuorumCatchUpResult, type WaitResult } from './node-waits';

/**
 * Node activities for rolling restarts and upgrades, one concern per file: config edits (node-config),
 * process lifecycle (node-process), installed versions (node-versions), the waits between steps
 * (node-waits) and preferred leader elections (elections). Every mutating activity is idempotent (a retry
 * finds the work done and says so). Outside an activity (tests, scripts) they run without heartbeats.
 */
export function createNodeActivities(deps: NodeActivityDeps) {
  return {
    ...createNodeConfigActivities(deps),
    ...createNodeProcessActivities(deps),
    ...createNodeVersionActivities(deps),
    ...createNodeWaitActivities(deps),
    ...createElectionActivities(deps),
  };
}

export type NodeActivities = ReturnType<typeof createNodeActivities>;
