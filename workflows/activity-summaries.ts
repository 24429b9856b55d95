/**
 * What each activity does, in the operator's words, built from its arguments: the Web UI shows it on the
 * activity's events ("stop kafka-2.lab", "wait for broker 2 caught up"), so a history reads like the procedure.
 * Every activity has one (the type requires it); the proxies in activity-options.ts attach it to every call.
 * Summaries are history, unencrypted by the UI's view: names and numbers only, never a secret, path or URL.
 * Workflow-safe.
 */
import { type ActivityInterfaceFor, type ActivityOptions, type LocalActivityInterfaceFor, type LocalActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { describeGoal, formatBytes } from '../src/reassignment';

type Summaries = { [N in keyof Activities]: (...args: Parameters<Activities[N]>) => string };

const list = (items: readonly (string | number)[], max = 5): string =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const batch = (sel: { kind: 'moves' | 'reorder'; index: number }): string => `${sel.kind === 'moves' ? 'reassignment' : 'leader reorder'} batch ${sel.index + 1}`;

export const ACTIVITY_SUMMARIES: Summaries = {
  describeInventory: (cluster) => `read the inventory of ${cluster}`,
  validateRunbookInput: (workflowType) => `check the input of ${workflowType}`,
  readClusterMetadata: () => 'read the cluster metadata',
  readQuorumState: () => 'read the KRaft quorum state',
  readBrokerConfig: (_c, configName) => `read ${configName} on every broker`,
  observeQuorum: () => 'observe the KRaft quorum',
  inspectHosts: (cluster) => `inspect every host of ${cluster}`,
  readProtocolVersionPins: () => 'read inter.broker.protocol.version on every broker',
  checkTargetVersion: (_c, host, version) => `check Kafka ${version} is available on ${host}`,
  readNodeVersion: (_c, host) => `read the Kafka version of ${host}`,
  readBrokerState: (_c, host) => `read the broker state of ${host}`,
  readThrottleConfigs: (_c, topics, brokers) => `read the throttles of ${count(topics.length, 'topic')} and brokers ${list(brokers)}`,
  listThrottledEntities: () => 'list throttled topics and brokers',
  checkStoredPlan: (_c, ref) => `check the stored plan ${ref.id} on ${list(ref.hosts)}`,
  describeStoredBatch: (_c, _ref, sel) => `read ${batch(sel)} of the stored plan`,
  verifyReassignmentPlan: () => 'check the cluster now matches the plan',
  throttlesLeftOfPlan: () => 'look for throttles the plan left behind',
  findReplicasOnBrokers: (_c, ids) => `find the replicas on brokers ${list(ids)}`,
  describeDataDirs: (_c, hosts) => `list the data dirs of ${list(hosts)}`,
  readApprovalSettings: (cluster) => `read the approval policy and webhooks of ${cluster}`,
  verifyActorAttestation: (check) =>
    `verify the attestation of ${check.attestation.principal}${check.attestation.via ? ` via ${check.attestation.via}` : ''} to ${check.action}${check.gate ? ` at gate ${check.gate}` : ''}`,

  notifyWebhooks: (_c, notice) => `notify webhooks: ${notice.event}${notice.gate ? ` at gate ${notice.gate.name}` : ''}`,

  planReassignmentFor: (_c, goal) => `plan the reassignment: ${describeGoal(goal)}`,
  fingerprintReassignmentFor: (_c, goal) => `fingerprint the plan: ${describeGoal(goal)}`,
  planRollingRestartFor: (cluster, input) => `check health and plan the rolling ${input.targetVersion ? `upgrade to ${input.targetVersion}` : 'restart'} of ${cluster}`,

  acquireClusterLock: (req) => `take the lock of cluster ${req.cluster}`,
  releaseClusterLock: (req) => `release the lock of cluster ${req.cluster}`,

  backupNodeConfig: (_c, host) => `back up the config of ${host}`,
  restoreNodeConfig: (_c, host) => `restore the config backup of ${host}`,
  carryOverNodeConfig: (_c, host, v) => `carry the config of ${host} over from ${v.runningVersion} to ${v.targetVersion}`,
  bumpNodeProtocolVersion: (_c, host, target) => `set inter.broker.protocol.version on ${host} for ${target}`,
  stopNode: (_c, host) => `stop ${host}`,
  startNode: (_c, host) => `start ${host}`,
  killNode: (_c, host) => `kill ${host} (SIGKILL)`,
  formatBrokerStorage: (_c, host) => `format the storage of ${host}`,
  unregisterBroker: (_c, nodeId) => `unregister broker ${nodeId}`,
  finalizeMetadataVersion: (_c, version) => `upgrade metadata.version to ${version} (irreversible)`,
  canaryRoundTrip: (_c, topic) => `canary produce and consume on ${topic}`,
  wipeBrokerData: (_c, host) => `wipe the data dirs of ${host}`,
  electPreferredLeaders: (_c, partitions) => `elect the preferred leaders of ${count(partitions.length, 'partition')}`,
  electLeadersOfPlan: () => "elect the preferred leaders of the plan's partitions",
  discardReassignmentPlan: (_c, ref) => `discard the stored plan ${ref.id}`,

  switchVersion: (_c, host, version) => `switch ${host} to Kafka ${version}`,
  restoreVersionLink: (_c, host) => `restore the previous Kafka version link of ${host}`,
  restorePreferredLeaders: (_c, scope) =>
    scope?.preferredLeader !== undefined
      ? `elect broker ${scope.preferredLeader}'s preferred leaders`
      : scope?.partitions
        ? `elect the preferred leaders of ${count(scope.partitions.length, 'partition')}`
        : 'elect the preferred leaders of every partition',
  applyThrottles: (_c, t) => `throttle brokers ${list(t.brokers)} to ${formatBytes(t.rateBytesPerSec)}/s`,
  removeThrottles: (_c, r) => `remove ${count(r.alterations.length, 'throttle setting')}`,
  submitReassignment: (_c, moves) => `submit ${count(moves.length, 'partition move')}`,
  cancelReassignment: (_c, partitions) => `cancel the reassignment of ${count(partitions.length, 'partition')}`,
  setBatchThrottles: (_c, _ref, index, rate) => `throttle reassignment batch ${index + 1} to ${formatBytes(rate)}/s`,
  removeBatchThrottles: (_c, _ref, index) => `remove the throttles of reassignment batch ${index + 1}`,
  submitReassignmentBatch: (_c, _ref, sel) => `submit ${batch(sel)}`,
  cancelReassignmentBatch: (_c, _ref, sel) => `cancel ${batch(sel)}`,

  waitForProcessExit: (_c, host) => `wait for the Kafka process of ${host} to exit`,
  waitForBrokerDeregistered: (_c, nodeId) => `wait for broker ${nodeId} to leave the cluster metadata`,
  waitForBrokerRegistered: (_c, nodeId) => `wait for broker ${nodeId} registered`,
  waitForBrokerCaughtUp: (_c, nodeId) => `wait for broker ${nodeId} caught up (back in every ISR)`,
  waitForRestartAllowed: (_c, nodes) => `wait until node${nodes.length === 1 ? '' : 's'} ${list(nodes.map((n) => n.nodeId))} may restart (min ISR, quorum)`,
  waitForQuorumCaughtUp: (_c, nodeId) => `wait for controller ${nodeId} caught up with the quorum`,
  waitForReassignment: (_c, moves) => `wait for ${count(moves.length, 'partition move')} to complete`,
  waitForReassignmentBatch: (_c, _ref, sel) => `wait for ${batch(sel)} to complete`,
  // MirrorMaker 2 backup
  planMirrorBackup: (input) => `plan the MirrorMaker 2 backup of ${input.cluster}`,
  readMirrorMakerState: (_i, host) => `read the MirrorMaker 2 process and config on ${host}`,
  writeMirrorMakerConfig: (_i, host) => `write the MirrorMaker 2 config on ${host}`,
  stopMirrorMaker: (_i, host) => `stop MirrorMaker 2 on ${host}`,
  startMirrorMaker: (_i, host) => `start MirrorMaker 2 on ${host}`,
  captureSourceOffsets: (input) => `capture the end offsets of ${input.cluster}`,
  waitForMirrorCatchUp: (_i, capture) => `wait for MirrorMaker 2 to reach the offsets of ${count(capture.partitions, 'partition')}`,
  readMirrorMakerHealth: () => 'read the MirrorMaker 2 connector and task states',
  writeBackupPoint: (_i, _c, _u, id) => `write backup point ${id}`,
  listBackupPoints: (cluster) => `list the backup points of ${cluster}`,
  // Restore from a backup point
  planRestoreFor: (input) => `plan the restore into ${input.cluster}`,
  createRestoreTopics: (cluster, topics) => `create ${count(topics.length, 'topic')} on ${cluster}`,
  readRestoreBases: (cluster, topics) => `read the end offsets of ${count(topics.length, 'restored topic')} on ${cluster}`,
  copyRestoreRange: (job) => `copy ${job.range.topic} partitions ${list(job.range.partitions.map((p) => p.partition))} on ${job.copyHost}`,
  digestRestoreRange: (job) => `verify ${job.topic} partitions ${list(job.partitions.map((p) => p.partition))} on both sides`,
  readTargetGroupStates: (cluster, groups) => `read the state of ${count(groups.length, 'consumer group')} on ${cluster}`,
  targetOffsetsAtTime: (cluster, topics) => `find the offsets at a time in ${count(topics.length, 'topic')} of ${cluster}`,
  setRestoredGroupOffsets: (cluster, groups) => `set the offsets of ${count(groups.length, 'consumer group')} on ${cluster}`,
  // The ZooKeeper-to-KRaft migration.
  describeMigrationHosts: (cluster, controllers) => `resolve the brokers and controllers ${list(controllers)} of ${cluster}`,
  readMigrationConfigs: (_c, controllers) => `read the configs of every broker and of ${list(controllers)}`,
  readMigrationPreflight: () => 'read versions, configs, health, assignments, SCRAM users and delegation tokens',
  snapshotMigrationMetadata: () => 'read topics, assignments, topic configs and ACLs',
  readMigrationZnodes: () => 'read /cluster/id, /controller, /migration and /brokers/ids in ZooKeeper',
  deleteMigrationZnodes: (_c, opts) => `delete ${[opts?.controller !== false ? '/controller' : null, opts?.migration !== false ? '/migration' : null].filter(Boolean).join(' and ')} in ZooKeeper`,
  readMigrationGauges: (_c, host) => `read ZkMigrationState and ZkWriteBehindLag on ${host}`,
  writeMigrationControllerConfig: (_c, host) => `write the controller config of ${host}`,
  formatControllerStorage: (_c, host) => `format the metadata dir of ${host} with the ZooKeeper cluster id`,
  wipeControllerMetadata: (_c, host) => `wipe the metadata dir of ${host}`,
  retireMigrationControllerConfig: (_c, host) => `move the controller config of ${host} aside`,
  editMigrationConfig: (_c, host, edit) => `${edit.kind} config edit on ${host}`,
  waitForControllerQuorum: (_c, controllers) => `wait for a quorum of ${list(controllers)}: a leader, every voter caught up`,
  waitForMetadataMigrated: () => 'wait for the metadata migration to complete (ZkMigrationState MIGRATION)',
  waitForZkMigrationState: (_c, _ctl, wanted) => `wait for ZkMigrationState ${wanted}`,
};

/** The UI shows one line; a summary longer than this is cut. */
export const SUMMARY_LIMIT = 200;

/** The summary of one call; a summary that cannot be built never stops the call, it just has none. */
export function summaryOf(activity: string, args: readonly unknown[]): string | undefined {
  const summarize = (ACTIVITY_SUMMARIES as Record<string, ((...a: unknown[]) => string) | undefined>)[activity];
  if (!summarize) return undefined;
  try {
    const line = summarize(...args).replace(/\s+/g, ' ');
    return line.length > SUMMARY_LIMIT ? `${line.slice(0, SUMMARY_LIMIT - 1)}…` : line;
  } catch {
    return undefined;
  }
}

type CallableWithOptions = ((...args: unknown[]) => Promise<unknown>) & { executeWithOptions(o: ActivityOptions | LocalActivityOptions, args: unknown[]): Promise<unknown> };

/**
 * The same activities, each call scheduled with its summary (per call: `executeWithOptions`, SDK 1.24). A caller's
 * own `executeWithOptions` keeps the summary unless it sets one.
 */
export function withSummaries<P extends ActivityInterfaceFor<object> | LocalActivityInterfaceFor<object>>(proxy: P): P {
  return new Proxy(proxy, {
    get(target, name, receiver) {
      const fn = Reflect.get(target, name, receiver) as CallableWithOptions | undefined;
      if (typeof name !== 'string' || typeof fn !== 'function' || !(name in ACTIVITY_SUMMARIES)) return fn;
      const withSummary = (args: unknown[]) => {
        const summary = summaryOf(name, args);
        return summary === undefined ? {} : { summary };
      };
      const call = (...args: unknown[]) => fn.executeWithOptions(withSummary(args), args);
      call.executeWithOptions = (options: ActivityOptions | LocalActivityOptions, args: unknown[]) => fn.executeWithOptions({ ...withSummary(args), ...options }, args);
      return call;
    },
  });
}
