// The single bundle entry for the worker: every workflow type it serves.
export { clusterHealth } from './cluster-health';
export { clusterLock } from './cluster-lock';
export { reassignmentSlice, reassignPartitions } from './reassign-partitions';
export { addBrokers, changeReplicationFactor, decommissionBroker, rebalanceLeaders } from './broker-runbooks';
export { rollingRestart, rollingRestartSlice } from './rolling-restart';
export { migrateToKRaft } from './migrate-to-kraft';
export { listBackups, mirrorBackup } from './mirror-backup';
export { restoreFromBackup } from './restore-from-backup';
