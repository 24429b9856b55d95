/**
 * Timeouts and retries of every activity, chosen by what the activity does (its kind, listed for each one in
 * ACTIVITY_KINDS), never by which workflow calls it:
 * - an activity that does not heartbeat gets no heartbeat timeout (one longer than its run is useless, one
 *   shorter kills it); its start-to-close bounds it, above its own command timeouts;
 * - a long changing activity heartbeats every 5 s all along, so a 20 s heartbeat timeout notices a dead worker
 *   in seconds and retries the (idempotent) activity elsewhere;
 * - a wait heartbeats after every poll and during slow ones; its attempt and its whole run are allowed the
 *   user's timeout plus a margin, and a retried attempt keeps its first attempt's deadline (heartbeat details);
 * - typed refusals and wait timeouts are never retried: retrying cannot change the answer, a human decides.
 * Every call also carries its summary for the Web UI ("stop kafka-2", activity-summaries.ts).
 * Workflow-safe.
 */
import { type ActivityInterfaceFor, type ActivityOptions, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import { type z } from 'zod';
import type { Activities } from '../activities';
import { FailureType } from '../src/errors';
import { NodeWaitFailure } from '../src/rolling/failures';
import { withSummaries } from './activity-summaries';

export const ActivityKind = {
  /** Reads the cluster or its hosts; no heartbeats. */
  Read: 'read',
  /** Reads the whole cluster and plans on the worker (and stores a plan on the hosts): minutes on a large cluster; no heartbeats. */
  Plan: 'plan',
  /** Takes or releases the cluster lock. */
  Lock: 'lock',
  /** Changes a host or the cluster in a few bounded commands (each with its own timeout); no heartbeats. */
  Change: 'change',
  /** Changes that may run for minutes (many tool runs, an archive unpacked): heartbeat every 5 s all along. */
  HeartbeatingChange: 'heartbeating-change',
  /** Polls until a condition holds or the user's timeout passes; heartbeats after every poll and during slow ones. */
  Wait: 'wait',
  /** Posts to webhooks, retrying each with back-off itself; never fails the run, so never retried by Temporal. */
  Notify: 'notify',
} as const;
export type ActivityKind = (typeof ActivityKind)[keyof typeof ActivityKind];

const { Read, Plan, Lock, Change, HeartbeatingChange, Wait, Notify } = ActivityKind;

/** Every activity the worker registers, by kind; the longest it may run, as its code bounds it, in the comment. */
export const ACTIVITY_KINDS = {
  describeInventory: Read, // in memory
  validateRunbookInput: Read, // a local activity: zod in memory
  readClusterMetadata: Read, // a few admin requests
  readQuorumState: Read, // kafka-metadata-quorum.sh, 60 s per host tried
  readBrokerConfig: Read, // one describeConfigs
  observeQuorum: Read, // as readQuorumState
  inspectHosts: Read, // one 30 s SSH command per host, in parallel
  readProtocolVersionPins: Read, // one 60 s SSH read per broker, in parallel
  checkTargetVersion: Read, // one 60 s SSH command
  readNodeVersion: Read, // one 30 s SSH command
  readBrokerState: Read, // one 30 s SSH command
  readThrottleConfigs: Read, // a few admin requests
  listThrottledEntities: Read, // a few admin requests
  checkStoredPlan: Read, // one sha256 read per host holding the plan
  describeStoredBatch: Read, // a few lines of the stored plan
  verifyReassignmentPlan: Read, // the metadata and the stored target
  throttlesLeftOfPlan: Read, // a few admin requests and the stored plan
  findReplicasOnBrokers: Read, // the metadata
  describeDataDirs: Read, // the inventory, in memory
  describeMigrationHosts: Read, // the inventory, in memory
  readMigrationConfigs: Read, // one 30 s test and one 60 s read per broker and controller, in parallel
  readMigrationPreflight: Read, // the metadata, every host, a config read per broker, two 60 s tool runs
  snapshotMigrationMetadata: Read, // listTopics, metadata, describeConfigs and describeAcls
  planMirrorBackup: Read, // the inventory and a render, in memory
  readMirrorMakerState: Read, // a 30 s cat and a 30 s status over SSH
  readMirrorMakerHealth: Read, // MM2's status topic read to its end (60 s at most)
  listBackupPoints: Read, // our backup points topic read to its end (60 s at most)
  readApprovalSettings: Read, // a local activity: the inventory, in memory
  readMigrationZnodes: Read, // one SSH command: four zookeeper-shell runs of at most 45 s each
  readMigrationGauges: Read, // one 60 s JmxTool run, or five when a gauge is missing
  verifyActorAttestation: Read, // a local activity: one HMAC

  notifyWebhooks: Notify, // each webhook in parallel: 3 attempts of 5 s, 1 s and 2 s apart
  readRestoreBases: Read, // one ListOffsets per restored topic
  readTargetGroupStates: Read, // one DescribeGroups
  targetOffsetsAtTime: Read, // two ListOffsets per topic

  planReassignmentFor: Plan, // the metadata, the planner in memory, the plan written to three hosts
  planRestoreFor: Plan, // our backup points topic read (60 s at most), ListOffsets by time per topic, target metadata and groups, the C copiers' builds and probes on the copy host (180 s at most each, two at most)
  captureSourceOffsets: Plan, // topic metadata and offsets of the source and the backup, one request per topic
  fingerprintReassignmentFor: Plan, // the metadata and the planner, nothing stored
  planRollingRestartFor: Plan, // the metadata, the quorum (60 s per host tried) and every host, then the plan

  acquireClusterLock: Lock, // two updates of the lock workflow at most
  releaseClusterLock: Lock, // one update

  backupNodeConfig: Change, // one 60 s SSH command
  restoreNodeConfig: Change, // one 60 s SSH command
  carryOverNodeConfig: Change, // a 60 s read and a 60 s write
  bumpNodeProtocolVersion: Change, // a 60 s read and a 60 s write
  stopNode: Change, // 30 s status, 120 s stop template; waitForProcessExit waits
  startNode: Change, // 30 s status, 120 s start template; waitForBrokerRegistered waits
  killNode: Change, // 30 s status, 60 s kill template
  formatBrokerStorage: Change, // the metadata, one 120 s kafka-storage.sh
  unregisterBroker: Change, // the metadata, one 60 s kafka-cluster.sh
  finalizeMetadataVersion: Change, // three 60 s kafka-features.sh runs
  canaryRoundTrip: Change, // produce and read back within 30 s
  wipeBrokerData: Change, // a status check and one rm
  deleteMigrationZnodes: Change, // a status check per controller, two zookeeper-shell sessions of at most 45 s per command
  formatControllerStorage: Change, // a config read, two listings, one 120 s kafka-storage.sh
  wipeControllerMetadata: Change, // a status check, a config read, a listing, one 120 s rm per dir
  electPreferredLeaders: Change, // one 120 s kafka-leader-election.sh
  electLeadersOfPlan: Change, // as electPreferredLeaders, for the stored plan's partitions
  discardReassignmentPlan: Change, // one rm per host holding the plan
  writeMigrationControllerConfig: Change, // a broker's config read, a 30 s mkdir, a 60 s read and a 60 s write
  editMigrationConfig: Change, // a 60 s read and a 60 s write
  retireMigrationControllerConfig: Change, // one 60 s mv
  writeMirrorMakerConfig: Change, // one 30 s SSH write
  createRestoreTopics: Change, // one CreateTopics waiting for leaders, one metadata read
  setRestoredGroupOffsets: Change, // one DescribeGroups, one OffsetCommit per group and topic
  writeBackupPoint: Change, // admin reads of both clusters, two small topics read to their end (60 s each), one produce

  switchVersion: HeartbeatingChange, // may unpack an archive: up to 10 min
  restoreVersionLink: HeartbeatingChange, // as switchVersion, without the unpack
  restorePreferredLeaders: HeartbeatingChange, // a 120 s kafka-leader-election.sh per host tried
  applyThrottles: HeartbeatingChange, // one kafka-configs.sh (a JVM, seconds) per topic and broker
  removeThrottles: HeartbeatingChange, // as applyThrottles
  submitReassignment: HeartbeatingChange, // admin requests, large for big batches
  cancelReassignment: HeartbeatingChange, // kafka-reassign-partitions.sh --cancel, then up to 60 s until none is listed
  setBatchThrottles: HeartbeatingChange, // the batch loaded, its originals stored on three hosts, then applyThrottles
  removeBatchThrottles: HeartbeatingChange, // the stored restore loaded, then removeThrottles
  submitReassignmentBatch: HeartbeatingChange, // the batch loaded, then submitReassignment
  cancelReassignmentBatch: HeartbeatingChange, // the batch loaded, then cancelReassignment
  stopMirrorMaker: HeartbeatingChange, // a 120 s stop command, then up to 120 s until its status says stopped
  startMirrorMaker: HeartbeatingChange, // a 120 s start command, up to 60 s until running, 5 s more to see it stay

  // The copy and its verification run as long as the data needs: scheduled with the user's copyTimeoutMinutes, heartbeating like a wait.
  copyRestoreRange: Wait,
  digestRestoreRange: Wait,
  waitForProcessExit: Wait,
  waitForBrokerDeregistered: Wait,
  waitForBrokerRegistered: Wait,
  waitForBrokerCaughtUp: Wait,
  waitForRestartAllowed: Wait,
  waitForQuorumCaughtUp: Wait,
  waitForReassignment: Wait,
  waitForReassignmentBatch: Wait,
  waitForControllerQuorum: Wait,
  waitForZkMigrationState: Wait,
  waitForMetadataMigrated: Wait,
  waitForMirrorCatchUp: Wait,
} as const satisfies Record<keyof Activities, ActivityKind>;

type NamesOfKind<K extends ActivityKind> = { [N in keyof Activities]: (typeof ACTIVITY_KINDS)[N] extends K ? N : never }[keyof Activities];
type NotWait = Exclude<ActivityKind, typeof Wait>;

/** A dead worker is noticed this long after its last heartbeat; heartbeating activities beat every 5 s. */
export const HEARTBEAT_TIMEOUT_MS = 20_000;

/** Refusals (bad input, unsafe, busy) and wait timeouts: retrying cannot change the answer, so never retried. */
export const NON_RETRYABLE = [FailureType.InvalidInput, FailureType.UnsafeToProceed, FailureType.UnknownCluster, FailureType.ClusterBusy, ...Object.values(NodeWaitFailure)];

/** Reads: a broker or host briefly unreachable is retried, a few times only. No heartbeat timeout: they do not heartbeat. */
export const READ_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Planning: the whole cluster read and planned on the worker; bounded by its reads' own timeouts, no heartbeats. */
export const PLAN_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Lock calls are short; retry transient server errors, never a "cluster busy" answer. */
export const LOCK_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '5s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Short changes: idempotent, so retried through brief SSH or broker trouble; bounded by their commands' own timeouts, no heartbeats. */
export const CHANGE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Long changes: they heartbeat all along, so a dead worker is noticed within the heartbeat timeout, not at start-to-close. */
export const HEARTBEATING_CHANGE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
};

/** Beyond the user's timeout, for an attempt: its last poll (a quorum read over SSH can take a minute per host). */
const WAIT_ATTEMPT_MARGIN_MS = 5 * 60_000;
/** Beyond the user's timeout, for all attempts: a worker restart and a few retries, which resume the same deadline. */
const WAIT_OVERALL_MARGIN_MS = 30 * 60_000;

/**
 * A wait given `timeoutMs` (the same value the workflow passes to the activity): each attempt and the whole
 * run allowed that plus a margin, so the wait's own deadline (a typed, non-retryable failure) always comes first.
 */
export function waitOptions(timeoutMs: number): ActivityOptions {
  return {
    startToCloseTimeout: timeoutMs + WAIT_ATTEMPT_MARGIN_MS,
    scheduleToCloseTimeout: timeoutMs + WAIT_OVERALL_MARGIN_MS,
    heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
    retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  };
}

/** Notices: one attempt (the activity retries each webhook itself; a Temporal retry would post twice to those that took it). */
export const NOTIFY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 1 },
};

const OPTIONS_BY_KIND: Record<NotWait, ActivityOptions> = {
  [Read]: READ_OPTIONS,
  [Plan]: PLAN_OPTIONS,
  [Lock]: LOCK_OPTIONS,
  [Change]: CHANGE_OPTIONS,
  [HeartbeatingChange]: HEARTBEATING_CHANGE_OPTIONS,
  [Notify]: NOTIFY_OPTIONS,
};

/** Input validation runs as a local activity: its result, the input with defaults, is recorded in history. */
const inputs = withSummaries(proxyLocalActivities<Pick<Activities, 'validateRunbookInput'>>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 1 } }));

/**
 * The run's input parsed with its defaults by the worker when the run started. Replay reads the recorded
 * result: changing a default or a schema never changes the input of a run in flight.
 */
export async function parsedInput<S extends z.ZodTypeAny>(workflowType: string, _schema: S, raw: unknown): Promise<z.infer<S>> {
  return (await inputs.validateRunbookInput(workflowType, raw)) as z.infer<S>;
}

/** The activities of one kind (not waits), with that kind's options; the type allows no other activity. */
export function proxyOfKind<K extends NotWait>(kind: K): ActivityInterfaceFor<Pick<Activities, NamesOfKind<K>>> {
  return withSummaries(proxyActivities<Pick<Activities, NamesOfKind<K>>>(OPTIONS_BY_KIND[kind]));
}

/** Every activity but the waits, each scheduled with the options of its own kind, whatever else the caller does. */
export function proxyByKind(): ActivityInterfaceFor<Omit<Activities, NamesOfKind<typeof Wait>>> {
  const byKind = new Map<NotWait, ActivityInterfaceFor<Activities>>();
  return new Proxy({} as ActivityInterfaceFor<Omit<Activities, NamesOfKind<typeof Wait>>>, {
    get(_target, name) {
      const kind: ActivityKind | undefined = typeof name === 'string' ? (ACTIVITY_KINDS as Record<string, ActivityKind>)[name] : undefined;
      if (kind === undefined) return undefined;
      if (kind === Wait) throw new TypeError(`${String(name)} is a wait: schedule it with proxyWaits(the user's timeout)`);
      let proxy = byKind.get(kind);
      if (!proxy) byKind.set(kind, (proxy = withSummaries(proxyActivities<Activities>(OPTIONS_BY_KIND[kind]))));
      return proxy[name as keyof Activities];
    },
  });
}

/** The waits, allowed `timeoutMs`: pass the same value to the activity as its timeout. */
export function proxyWaits(timeoutMs: number): ActivityInterfaceFor<Pick<Activities, NamesOfKind<typeof Wait>>> {
  return withSummaries(proxyActivities<Pick<Activities, NamesOfKind<typeof Wait>>>(waitOptions(timeoutMs)));
}
