import { type z } from 'zod';
import { addBrokersInput, changeReplicationFactorInput, decommissionBrokerInput, rebalanceLeadersInput } from './brokers';
import { migrateToKRaftInput } from '../migration/input';
import { rollingRestartInput } from '../rolling/input';
import { clusterHealthInput } from './cluster-health';
import { mirrorBackupInput } from './mirror-backup';
import { restoreFromBackupInput } from '../restore/input';
import { reassignPartitionsInput } from './reassignment';

export interface RunbookEntry {
  /** The workflow type the worker registers. */
  workflowType: string;
  schema: z.ZodTypeAny;
  /** Disruptive runbooks take the cluster lock: one at a time per cluster. */
  disruptive: boolean;
  summary: string;
  doc: string;
}

/** Every runbook the CLI can start, by the name operators type. */
export const RUNBOOKS: Record<string, RunbookEntry> = {
  'cluster-health': {
    workflowType: 'clusterHealth',
    schema: clusterHealthInput,
    disruptive: false,
    summary: 'read-only health check of a cluster against its inventory',
    doc: 'runbooks/cluster-health.md',
  },
  'rolling-restart': {
    workflowType: 'rollingRestart',
    schema: rollingRestartInput,
    disruptive: true,
    summary: 'restart or upgrade nodes batch by batch, guarded by min ISR and quorum, with rollback and an approved finalize',
    doc: 'runbooks/rolling-restart.md',
  },
  'migrate-to-kraft': {
    workflowType: 'migrateToKRaft',
    schema: migrateToKRaftInput,
    disruptive: true,
    summary: 'ZooKeeper to KRaft: controllers, two guarded broker rolls, an approved finalize; rollback to ZooKeeper until then',
    doc: 'runbooks/zk-to-kraft.md',
  },
  'add-brokers': {
    workflowType: 'addBrokers',
    schema: addBrokersInput,
    disruptive: true,
    summary: 'start new brokers and move their share of replicas onto them',
    doc: 'runbooks/reassignment.md',
  },
  'decommission-broker': {
    workflowType: 'decommissionBroker',
    schema: decommissionBrokerInput,
    disruptive: true,
    summary: 'empty brokers, then stop and unregister them',
    doc: 'runbooks/reassignment.md',
  },
  'change-replication-factor': {
    workflowType: 'changeReplicationFactor',
    schema: changeReplicationFactorInput,
    disruptive: true,
    summary: "raise or lower a topic's replication factor",
    doc: 'runbooks/reassignment.md',
  },
  'rebalance-leaders': {
    workflowType: 'rebalanceLeaders',
    schema: rebalanceLeadersInput,
    disruptive: true,
    summary: 'spread preferred leaders evenly (no data moves) and elect',
    doc: 'runbooks/reassignment.md',
  },
  'reassign-partitions': {
    workflowType: 'reassignPartitions',
    schema: reassignPartitionsInput,
    disruptive: true,
    summary: 'any reassignment goal (add/remove brokers, RF, leaders, explicit), planned, approved and throttled',
    doc: 'runbooks/reassignment.md',
  },
  'mirror-backup': {
    workflowType: 'mirrorBackup',
    schema: mirrorBackupInput,
    disruptive: false,
    summary: 'back a cluster up into its backup cluster with MirrorMaker 2 and record a backup point',
    doc: 'runbooks/backup-restore.md',
  },
  'restore-from-backup': {
    workflowType: 'restoreFromBackup',
    schema: restoreFromBackupInput,
    disruptive: true,
    summary: 'restore topics and consumer group offsets from a MirrorMaker 2 backup point: planned, approved, copied losslessly, verified',
    doc: 'runbooks/backup-restore.md',
  },
};

export function findRunbook(name: string): RunbookEntry | undefined {
  return RUNBOOKS[name] ?? Object.values(RUNBOOKS).find((r) => r.workflowType === name);
}
