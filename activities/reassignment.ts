import { parseLeaderElection } from '../src/rolling/tool-output';
import { type Admin, ConfigResourceTypes, type ITopicMetadata } from 'kafkajs';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { clusterBusy, invalidInput, unsafeToProceed } from '../src/errors';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { scrub } from '../src/redact';
import { type NodeId } from '../src/model/cluster';
import { type PartitionAssignment, type ReplicaMove } from '../src/reassignment';
import {
  BROKER_THROTTLE_CONFIGS,
  type BatchThrottle,
  type ConfigAlteration,
  type ConfigEntry,
  type EntityThrottleConfigs,
  type PartitionObservation,
  type PartitionRef,
  type ReassignmentProgress,
  type ReassignmentSnapshot,
  TOPIC_THROTTLE_CONFIGS,
  type ThrottleRestore,
  comparePartitions,
  describeProgress,
  partitionKey,
  partitionName,
  reassignmentProgress,
  sameList,
  sameSet,
} from '../src/reassignment-exec';
import { type ClusterRegistry, kafkaClient } from './clusters';
import { activityContext, earlierAttemptDetails, keepHeartbeating } from './heartbeat';
import { withHostFile } from './host-files';
import { type HostShell } from './ssh';

export interface ReassignmentActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
}

/** What `applyThrottles` / `removeThrottles` did: entities changed, and the throttle configs read back afterwards. */
export interface ThrottleChangeResult {
  /** `topics:name` / `brokers:id` of the entities kafka-configs.sh was run for (already-right ones are skipped). */
  changed: string[];
  /**
   * `brokers:id` of brokers left unchanged because they are not registered (a broker's configs go through
   * the broker itself). Not empty after removeThrottles: a throttle stays behind until it is back; tell a human.
   */
  offline: string[];
  /** The throttle configs of every entity named in the request, read back after the change. */
  after: EntityThrottleConfigs[];
}

export interface SubmitResult {
  /** Sent with alterPartitionReassignments now. */
  submitted: PartitionRef[];
  /** Already reassigning to exactly this target (an earlier attempt of this activity submitted it). */
  alreadyInFlight: PartitionRef[];
  /** Already on the target, in the target order: nothing to do. */
  alreadyDone: PartitionRef[];
}

export interface WaitOptions {
  /** Give up (outcome `timedOut`) this long after the first attempt started; the start is kept across retries via heartbeats. */
  timeoutMs: number;
  /** Default 1000. */
  pollIntervalMs?: number;
  /** The throttle rate in force, for the ETA; null when unthrottled. */
  throttleRateBytesPerSec?: number | null;
}

/** Heartbeat details of `waitForReassignment`: a retried attempt (worker restart) resumes from them. */
export interface WaitHeartbeat {
  startedAtMs: number;
  baseline: { atMs: number; bytesCopied: number | null } | null;
  polls: number;
  progress: ReassignmentProgress | null;
  summary: string;
}

export interface WaitResult {
  /**
   * done: every partition done. stuck: some partition diverged (cancelled, or reassigned by someone else) or
   * vanished, for 5 polls in a row. timedOut: past `timeoutMs`.
   */
  outcome: 'done' | 'stuck' | 'timedOut';
  progress: ReassignmentProgress;
  /** Since the first attempt started. */
  elapsedMs: number;
  /** This attempt continued from an earlier attempt's heartbeat. */
  resumed: boolean;
  polls: number;
}

export interface CancelResult {
  /** Were reassigning and were cancelled. */
  cancelled: PartitionRef[];
  /** Were not reassigning any more (finished, or cancelled before): nothing to do. */
  notInFlight: PartitionRef[];
  /**
   * Partitions the tool left reassigning (kafka-reassign-partitions.sh 3.5-4.0 ignores those that only add
   * replicas), reverted by reassigning them to their original replicas instead.
   */
  revertedDirectly: PartitionRef[];
  /** Replica lists read back after the cancel: the originals for the cancelled partitions. */
  replicasAfter: PartitionAssignment[];
  /** From sending the cancel to no partition listed as reassigning. */
  latencyMs: number;
}

export interface ElectionResult {
  elected: PartitionRef[];
  /** Already led by their preferred replica. */
  notNeeded: PartitionRef[];
}

const ConfigSource = { DynamicTopic: 1, DynamicBroker: 2, DynamicDefaultBroker: 3 } as const;

/** Consecutive polls a partition must look diverged or missing before waitForReassignment reports `stuck`. */
const STUCK_POLLS = 5;

/** Every listed throttle config of the cluster-wide broker default is reported under this broker entity name (kafka-configs.sh `--entity-default`). */
export const BROKER_DEFAULT_ENTITY = '';

/**
 * Partition reassignment side effects. Kafka's own tools over SSH for what kafkajs lacks or gets wrong:
 * kafka-configs.sh for incremental config changes (kafkajs alterConfigs would replace every dynamic config of
 * the resource), kafka-reassign-partitions.sh --cancel, kafka-leader-election.sh. Every activity is safe to
 * retry.
 */
export function createReassignmentActivities({ clusters, shell }: ReassignmentActivityDeps) {
  const withAdmin = async <T>(cluster: string, fn: (admin: Admin, inv: Inventory) => Promise<T>): Promise<T> => {
    const inv = clusters.get(cluster);
    const admin = kafkaClient(inv, 'kafka-runbooks-reassignment').admin();
    await admin.connect();
    try {
      return await fn(admin, inv);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };

  const alterConfigs = async (cluster: string, requested: ConfigAlteration[]): Promise<ThrottleChangeResult> => {
    if (requested.length === 0) return { changed: [], offline: [], after: [] };
    const inv = clusters.get(cluster);
    // Read first: skip what is already right, and never delete what is not set (kafka-configs.sh 3.x fails on that).
    const { before, registered } = await withAdmin(cluster, async (admin) => {
      const ids = new Set((await admin.describeCluster()).brokers.map((b) => b.nodeId));
      const reachable = requested.filter((a) => isReachable(a, ids));
      return { before: await describeThrottleConfigs(admin, reachable), registered: ids };
    });
    // A broker's configs are read and changed through the broker itself: an unregistered one must wait.
    const offline = requested.filter((a) => !isReachable(a, registered)).map((a) => `brokers:${a.entityName}`);
    const alterations = requested.filter((a) => isReachable(a, registered));
    const host = await toolHost(shell, inv);
    const changed: string[] = [];
    for (const a of alterations) {
      const current = before.find((e) => e.entityType === a.entityType && e.entityName === a.entityName)?.configs ?? [];
      const valueNow = (name: string) => current.find((c) => c.name === name)?.value;
      const set = a.set.filter((s) => valueNow(s.name) !== s.value);
      const del = a.delete.filter((d) => valueNow(d) !== undefined);
      if (set.length === 0 && del.length === 0) continue;
      heartbeat(`kafka-configs.sh ${a.entityType} ${a.entityName}`);
      await runTool(shell, host, inv, 'kafka-configs.sh', kafkaConfigsAlterArgs({ ...a, set, delete: del }));
      changed.push(`${a.entityType}:${a.entityName || '<default>'}`);
    }
    // Read back until every change shows. A broker describes its own configs and learns of a change from the
    // metadata log (KRaft), so the broker last changed can lag the tool's "Completed" by a moment.
    const after = await withAdmin(cluster, async (admin) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const now = await describeThrottleConfigs(admin, alterations);
        const wrong = alterations.flatMap((a) => {
          const configs = now.find((e) => e.entityType === a.entityType && e.entityName === a.entityName)?.configs ?? [];
          return [
            ...a.set.filter((x) => configs.find((c) => c.name === x.name)?.value !== x.value).map((x) => `${a.entityType} ${a.entityName}: ${x.name} should be ${x.value}`),
            ...a.delete.filter((d) => configs.some((c) => c.name === d)).map((d) => `${a.entityType} ${a.entityName}: ${d} should be unset`),
          ];
        });
        if (wrong.length === 0) return now;
        if (Date.now() > deadline) throw new Error(`after kafka-configs.sh, still ${wrong.join('; ')}`);
        await sleepMs(250);
      }
    });
    if (offline.length > 0) log('warn', 'throttle configs of unregistered brokers left unchanged', { cluster, offline });
    return { changed, offline, after };
  };

  return {
    /**
     * The throttle configs set on these topics and brokers now (dynamic, at the entity itself), one entry per
     * topic and broker asked for, also when nothing is set: what `batchThrottle` merges with and
     * `throttleRestore` puts back. A broker that is not registered comes back `offline`.
     */
    async readThrottleConfigs(cluster: string, topics: string[], brokers: NodeId[]): Promise<EntityThrottleConfigs[]> {
      return withAdmin(cluster, async (admin) => {
        const existing = new Set(await admin.listTopics());
        const unknown = topics.filter((t) => !existing.has(t));
        if (unknown.length > 0) throw invalidInput(`cluster "${cluster}" has no topic ${unknown.map((t) => `"${t}"`).join(', ')}`);
        const registered = new Set((await admin.describeCluster()).brokers.map((b) => b.nodeId));
        const wanted: ConfigAlteration[] = [
          ...[...new Set(topics)].sort().map((t) => ({ entityType: 'topics' as const, entityName: t, set: [], delete: [] })),
          ...[...new Set(brokers)].sort((a, b) => a - b).map((b) => ({ entityType: 'brokers' as const, entityName: String(b), set: [], delete: [] })),
        ];
        const read = await describeThrottleConfigs(admin, wanted.filter((w) => isReachable(w, registered)));
        return wanted.map(
          (w) =>
            read.find((r) => r.entityType === w.entityType && r.entityName === w.entityName) ?? { entityType: w.entityType, entityName: w.entityName, configs: [], offline: true },
        );
      });
    },

    /** Sets a batch's throttles with kafka-configs.sh --add-config; values already in place are skipped. Idempotent. */
    async applyThrottles(cluster: string, throttle: BatchThrottle): Promise<ThrottleChangeResult> {
      if (throttle.alterations.some((a) => a.delete.length > 0)) throw invalidInput('applyThrottles only sets configs; use removeThrottles to delete');
      // One kafka-configs.sh JVM per entity: heartbeat all along, so a dead worker is noticed in seconds.
      return keepHeartbeating(() => 'setting throttle configs', () => alterConfigs(cluster, throttle.alterations));
    },

    /**
     * Puts throttle configs back (originals set again, the rest deleted). Succeeds when already done: a config
     * already unset is not deleted again, an original already in place not set again.
     */
    async removeThrottles(cluster: string, restore: ThrottleRestore): Promise<ThrottleChangeResult> {
      return keepHeartbeating(() => 'restoring throttle configs', () => alterConfigs(cluster, restore.alterations));
    },

    /**
     * Submits moves with alterPartitionReassignments. Refuses (ClusterBusy) while any partition it was not
     * asked to move is reassigning, unless listed in `allowInFlight`; refuses (UnsafeToProceed) a partition
     * whose replicas are neither the move's `from` nor its `to` (the plan is stale). Idempotent: a partition
     * already reassigning to this target, or already on it, is not submitted again.
     */
    async submitReassignment(cluster: string, moves: ReplicaMove[], opts: { allowInFlight?: PartitionRef[] } = {}): Promise<SubmitResult> {
      return keepHeartbeating(() => `submitting ${moves.length} moves`, () => withAdmin(cluster, async (admin) => {
        const inFlight = await listReassigning(admin);
        const ours = new Set(moves.map(partitionKey));
        const allowed = new Set((opts.allowInFlight ?? []).map(partitionKey));
        const foreign = inFlight.filter((r) => !ours.has(partitionKey(r)) && !allowed.has(partitionKey(r)));
        if (foreign.length > 0) {
          throw clusterBusy(
            `cluster "${cluster}": another reassignment is in flight (${foreign.slice(0, 10).map(partitionName).join(', ')}${foreign.length > 10 ? `, and ${foreign.length - 10} more` : ''}); wait for it or cancel it first`,
          );
        }
        const metadata = await topicMetadata(admin, [...new Set(moves.map((m) => m.topic))]);
        const result: SubmitResult = { submitted: [], alreadyInFlight: [], alreadyDone: [] };
        const toSubmit: ReplicaMove[] = [];
        const stale: string[] = [];
        for (const m of [...moves].sort(comparePartitions)) {
          const ref = { topic: m.topic, partition: m.partition };
          const listed = inFlight.find((r) => r.topic === m.topic && r.partition === m.partition);
          if (listed) {
            const target = listed.replicas.filter((b) => !listed.removingReplicas.includes(b));
            if (sameSet(target, m.to)) result.alreadyInFlight.push(ref);
            else stale.push(`${partitionName(m)} is reassigning to [${target.join(', ')}], not [${m.to.join(', ')}]`);
            continue;
          }
          const current = metadata.get(partitionKey(m))?.replicas;
          if (!current) stale.push(`${partitionName(m)} does not exist`);
          else if (sameList(current, m.to)) result.alreadyDone.push(ref);
          else if (sameSet(current, m.from) || sameSet(current, m.to)) toSubmit.push(m);
          else stale.push(`${partitionName(m)} has replicas [${current.join(', ')}], the plan expected [${m.from.join(', ')}]`);
        }
        if (stale.length > 0) throw unsafeToProceed(`cluster "${cluster}" changed since the plan was made; re-plan: ${stale.join('; ')}`, { stale });
        if (toSubmit.length === 0) return result;
        const byTopic = new Map<string, { partition: number; replicas: number[] }[]>();
        for (const m of toSubmit) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), { partition: m.partition, replicas: [...m.to] }]);
        try {
          await admin.alterPartitionReassignments({ topics: [...byTopic].map(([topic, partitionAssignment]) => ({ topic, partitionAssignment })) });
        } catch (err) {
          const errors = (err as { errors?: { type?: string; topic?: string; partition?: number; retriable?: boolean }[] }).errors;
          if (errors && errors.length > 0 && errors.every((e) => e.retriable === false)) {
            const named = errors.map((e) => `${e.topic}-${e.partition}: ${e.type}`).join(', ');
            // Others of the batch may have been accepted: the workflow's undo cancels the batch.
            throw unsafeToProceed(`cluster "${cluster}" refused the reassignment of ${named}`, { refused: errors.map((e) => ({ topic: e.topic, partition: e.partition, error: e.type })) });
          }
          throw err;
        }
        result.submitted = toSubmit.map((m) => ({ topic: m.topic, partition: m.partition }));
        log('info', 'reassignment submitted', { cluster, partitions: result.submitted.length, alreadyInFlight: result.alreadyInFlight.length, alreadyDone: result.alreadyDone.length });
        return result;
      }));
    },

    /**
     * Polls listPartitionReassignments and the ISR every second until every move is done (not reassigning,
     * target replicas all in the ISR), some partition is stuck (cancelled, changed by someone else, deleted),
     * or `timeoutMs` passed. Heartbeats carry the progress; a retried attempt resumes from them (same start
     * time and deadline) and never resubmits anything. Run it with a heartbeatTimeout of ~10-30 s.
     */
    async waitForReassignment(cluster: string, moves: ReplicaMove[], opts: WaitOptions): Promise<WaitResult> {
      const ctx = activityContext();
      const previous = earlierAttemptDetails() as WaitHeartbeat | undefined;
      const startedAtMs = previous?.startedAtMs ?? Date.now();
      let baseline = previous?.baseline ?? null;
      let polls = previous?.polls ?? 0;
      let last: ReassignmentProgress | null = previous?.progress ?? null;
      const pollIntervalMs = opts.pollIntervalMs ?? 1000;
      if (previous) log('info', 'resuming the wait from the last heartbeat', { cluster, polls, startedAtMs });
      // Sent every 5 s too, so a slow poll (a broker restarting) never looks like a dead worker; a retry resumes from it.
      let latest: WaitHeartbeat = { startedAtMs, baseline, polls, progress: last, summary: previous?.summary ?? 'first poll' };
      return keepHeartbeating(() => latest, () => withAdmin(cluster, async (admin) => {
        let failures = 0;
        let stuckPolls = 0;
        for (;;) {
          let progress: ReassignmentProgress | null = null;
          try {
            const snapshot = await observe(admin, moves);
            failures = 0;
            progress = reassignmentProgress(moves, snapshot, { throttleRateBytesPerSec: opts.throttleRateBytesPerSec ?? null, baseline });
            baseline ??= { atMs: progress.atMs, bytesCopied: progress.bytesCopied };
            last = progress;
          } catch (err) {
            // A broker restarting, a controller election: keep polling for a while before failing the attempt.
            if (++failures >= 30) throw err;
            log('warn', 'reassignment poll failed', { cluster, error: (err as Error).message });
          }
          polls++;
          // The reassignment list comes from the controller, replicas and ISR from any broker, which can lag a
          // moment behind: a partition must look stuck for several polls in a row before the wait gives up.
          stuckPolls = progress?.stuck ? stuckPolls + 1 : 0;
          const elapsedMs = Date.now() - startedAtMs;
          latest = { startedAtMs, baseline, polls, progress: last, summary: progress ? describeProgress(progress) : 'poll failed' };
          ctx?.heartbeat(latest);
          const resumed = previous !== undefined;
          if (progress?.done) return { outcome: 'done', progress, elapsedMs, resumed, polls };
          if (progress && stuckPolls >= STUCK_POLLS) return { outcome: 'stuck', progress, elapsedMs, resumed, polls };
          if (progress && elapsedMs >= opts.timeoutMs) return { outcome: 'timedOut', progress, elapsedMs, resumed, polls };
          if (ctx) await ctx.sleep(pollIntervalMs);
          else await sleepMs(pollIntervalMs);
        }
      }));
    },

    /**
     * Cancels reassignments in flight (back to the original replicas) with kafka-reassign-partitions.sh
     * --cancel --preserve-throttles (kafkajs cannot cancel; without --preserve-throttles the tool would delete
     * every throttle, other people's too), then waits until none is listed. Partitions the tool leaves
     * reassigning (its 3.5-4.0 bug) are reassigned to their original replicas, which reverts them the same way. Refuses (UnsafeToProceed) when an
     * original replica's broker is not registered or none is in the ISR: the partition would go offline
     * (KAFKA-14424). Partitions not reassigning are skipped, so a retry or a late cancel succeeds.
     */
    async cancelReassignment(cluster: string, partitions: PartitionRef[], opts: { timeoutMs?: number } = {}): Promise<CancelResult> {
      const inv = clusters.get(cluster);
      return keepHeartbeating(() => `cancelling ${partitions.length} partition reassignments`, () => withAdmin(cluster, async (admin) => {
        const wanted = new Set(partitions.map(partitionKey));
        const inFlight = (await listReassigning(admin)).filter((r) => wanted.has(partitionKey(r)));
        const inFlightKeys = new Set(inFlight.map(partitionKey));
        const notInFlight = [...partitions].sort(comparePartitions).filter((p) => !inFlightKeys.has(partitionKey(p)));
        if (inFlight.length === 0) return { cancelled: [], notInFlight, revertedDirectly: [], replicasAfter: [], latencyMs: 0 };

        const registered = new Set((await admin.describeCluster()).brokers.map((b) => b.nodeId));
        const metadata = await topicMetadata(admin, [...new Set(inFlight.map((r) => r.topic))]);
        const unsafe: string[] = [];
        const originals = inFlight.map((r) => {
          const original = r.replicas.filter((b) => !r.addingReplicas.includes(b));
          const isr = metadata.get(partitionKey(r))?.isr ?? [];
          const down = original.filter((b) => !registered.has(b));
          if (down.length > 0) unsafe.push(`${partitionName(r)}: original replicas on brokers ${down.join(', ')} that are not registered`);
          else if (!original.some((b) => isr.includes(b))) unsafe.push(`${partitionName(r)}: no original replica [${original.join(', ')}] is in the ISR [${isr.join(', ')}]`);
          return { topic: r.topic, partition: r.partition, replicas: original };
        });
        if (unsafe.length > 0) throw unsafeToProceed(`cannot cancel on cluster "${cluster}" without taking partitions offline (KAFKA-14424): ${unsafe.join('; ')}`, { unsafe });

        const host = await toolHost(shell, inv);
        const json = JSON.stringify({ version: 1, partitions: originals });
        const t0 = Date.now();
        await withHostFile(shell, host, json, (file) =>
          runTool(shell, host, inv, 'kafka-reassign-partitions.sh', ['--reassignment-json-file', file, '--cancel', '--preserve-throttles']),
        );
        const stillListed = async () => (await listReassigning(admin)).filter((r) => inFlightKeys.has(partitionKey(r)));
        // kafka-reassign-partitions.sh 3.5 to 4.0 skips partitions that only add replicas (a lost `!` in the Java
        // rewrite, apache/kafka#20003) and exits 0. Reassigning to the original replicas is the same revert.
        let revertedDirectly: PartitionRef[] = [];
        let still = await stillListed();
        for (let i = 0; i < 8 && still.length > 0; i++) {
          await sleepMs(250);
          still = await stillListed();
        }
        if (still.length > 0) {
          const revert = originals.filter((o) => still.some((r) => r.topic === o.topic && r.partition === o.partition));
          const byTopic = new Map<string, { partition: number; replicas: number[] }[]>();
          for (const o of revert) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, replicas: o.replicas }]);
          await admin.alterPartitionReassignments({ topics: [...byTopic].map(([topic, partitionAssignment]) => ({ topic, partitionAssignment })) });
          revertedDirectly = revert.map((o) => ({ topic: o.topic, partition: o.partition }));
          log('warn', 'kafka-reassign-partitions.sh --cancel left partitions reassigning; reassigned them to their original replicas', { cluster, partitions: revert.map(partitionName) });
        }
        const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
        for (;;) {
          still = await stillListed();
          if (still.length === 0) break;
          if (Date.now() > deadline) throw new Error(`cancel sent, but still reassigning after ${opts.timeoutMs ?? 60_000} ms: ${still.map(partitionName).join(', ')}`);
          heartbeat(`waiting for ${still.length} cancelled partitions`);
          await sleepMs(250);
        }
        const latencyMs = Date.now() - t0;
        // Metadata comes from any broker, which may not have heard yet (ZooKeeper mode especially): give it a moment.
        let after = await topicMetadata(admin, [...new Set(inFlight.map((r) => r.topic))]);
        for (let i = 0; i < 40 && !originals.every((o) => sameSet(after.get(partitionKey(o))?.replicas ?? [], o.replicas)); i++) {
          await sleepMs(250);
          after = await topicMetadata(admin, [...new Set(inFlight.map((r) => r.topic))]);
        }
        const cancelled = inFlight.map((r) => ({ topic: r.topic, partition: r.partition })).sort(comparePartitions);
        log('info', 'reassignment cancelled', { cluster, partitions: cancelled.length, latencyMs });
        return {
          cancelled,
          notInFlight,
          revertedDirectly,
          replicasAfter: cancelled.map((p) => ({ ...p, replicas: after.get(partitionKey(p))?.replicas ?? [] })),
          latencyMs,
        };
      }));
    },

    /**
     * Preferred leader election for these partitions with kafka-leader-election.sh (kafkajs has no
     * ElectLeaders). "Valid replica already elected" counts as success. A partition that does not exist fails
     * non-retryably; any other failure (e.g. the preferred replica not in the ISR yet) fails the attempt, and a
     * retry elects again (idempotent).
     */
    async electPreferredLeaders(cluster: string, partitions: PartitionRef[]): Promise<ElectionResult> {
      if (partitions.length === 0) return { elected: [], notNeeded: [] };
      const inv = clusters.get(cluster);
      const host = await toolHost(shell, inv);
      const json = JSON.stringify({ partitions: [...partitions].sort(comparePartitions).map((p) => ({ topic: p.topic, partition: p.partition })) });
      const r = await withHostFile(shell, host, json, (file) =>
        execTool(shell, host, inv, 'kafka-leader-election.sh', ['--election-type', 'PREFERRED', '--path-to-json-file', file], { timeoutMs: 120_000 }),
      );
      const parsed = parseLeaderElectionOutput(r.stdout);
      if (r.code !== 0 || parsed.failed.length > 0) {
        const message = `kafka-leader-election.sh on ${host.name} exited ${r.code}: ${
          scrub(parsed.failed.map((f) => `${partitionName(f)}: ${f.error}`).join('; ') || r.stderr || r.stdout)
        }`;
        if (parsed.failed.length > 0 && parsed.failed.every((f) => /UnknownTopicOrPartition|InvalidTopic/.test(f.error))) throw invalidInput(message, parsed);
        throw new Error(message);
      }
      return { elected: parsed.elected, notNeeded: parsed.notNeeded };
    },

    /**
     * Every topic and broker that still has a throttle config, and the cluster-wide broker default
     * (entityName ''), for the "no throttle left anywhere" check.
     */
    async listThrottledEntities(cluster: string): Promise<EntityThrottleConfigs[]> {
      return withAdmin(cluster, async (admin) => {
        const topics = (await admin.listTopics()).sort();
        const brokers = (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort((a, b) => a - b);
        const all: Pick<ConfigAlteration, 'entityType' | 'entityName'>[] = [
          ...topics.map((t) => ({ entityType: 'topics' as const, entityName: t })),
          ...brokers.map((b) => ({ entityType: 'brokers' as const, entityName: String(b) })),
          { entityType: 'brokers', entityName: BROKER_DEFAULT_ENTITY },
        ];
        return (await describeThrottleConfigs(admin, all)).filter((e) => e.configs.length > 0);
      });
    },
  };
}

export type ReassignmentActivities = ReturnType<typeof createReassignmentActivities>;

function heartbeat(details: unknown): void {
  activityContext()?.heartbeat(details);
}

function log(level: 'info' | 'warn', message: string, attrs: Record<string, unknown>): void {
  activityContext()?.log[level](message, attrs);
}

const isReachable = (a: Pick<ConfigAlteration, 'entityType' | 'entityName'>, registered: Set<number>): boolean =>
  a.entityType === 'topics' || a.entityName === BROKER_DEFAULT_ENTITY || registered.has(Number(a.entityName));

interface Reassigning extends PartitionRef {
  replicas: NodeId[];
  addingReplicas: NodeId[];
  removingReplicas: NodeId[];
}

/**
 * listPartitionReassignments, normalised. kafkajs 2.2.4's types promise `{ topic, partitions: [{ partitionIndex }] }`
 * but at runtime it returns `{ name, partitions: [{ partition }] }` (seen against Kafka 4.3.1): read both.
 */
async function listReassigning(admin: Admin, topics?: { topic: string; partitions: number[] }[]): Promise<Reassigning[]> {
  const response = await admin.listPartitionReassignments(topics ? { topics } : {});
  const out: Reassigning[] = [];
  for (const t of response.topics as unknown as { topic?: string; name?: string; partitions: Record<string, unknown>[] }[]) {
    const topic = t.topic ?? t.name ?? '';
    for (const p of t.partitions) {
      const partition = (p.partitionIndex ?? p.partition) as number;
      out.push({
        topic,
        partition,
        replicas: (p.replicas as number[] | undefined) ?? [],
        addingReplicas: (p.addingReplicas as number[] | undefined) ?? [],
        removingReplicas: (p.removingReplicas as number[] | undefined) ?? [],
      });
    }
  }
  return out.sort(comparePartitions);
}

/** Metadata per `topic/partition` for the topics that exist (a deleted topic is simply absent). */
async function topicMetadata(admin: Admin, topics: string[]): Promise<Map<string, { leader: number; replicas: number[]; isr: number[] }>> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  const out = new Map<string, { leader: number; replicas: number[]; isr: number[] }>();
  if (present.length === 0) return out;
  const meta: { topics: ITopicMetadata[] } = await admin.fetchTopicMetadata({ topics: present });
  for (const t of meta.topics) for (const p of t.partitions) out.set(partitionKey({ topic: t.name, partition: p.partitionId }), { leader: p.leader, replicas: p.replicas, isr: p.isr });
  return out;
}

async function observe(admin: Admin, moves: ReplicaMove[]): Promise<ReassignmentSnapshot> {
  const topics = [...new Set(moves.map((m) => m.topic))];
  const metadata = await topicMetadata(admin, topics);
  const existing = topics.filter((t) => moves.some((m) => m.topic === t && metadata.has(partitionKey(m))));
  const listed =
    existing.length === 0
      ? []
      : await listReassigning(
          admin,
          existing.map((t) => ({ topic: t, partitions: moves.filter((m) => m.topic === t && metadata.has(partitionKey(m))).map((m) => m.partition) })),
        );
  const listedByKey = new Map(listed.map((r) => [partitionKey(r), r]));
  const partitions: PartitionObservation[] = [];
  for (const m of moves) {
    const md = metadata.get(partitionKey(m));
    if (!md) continue;
    const r = listedByKey.get(partitionKey(m));
    partitions.push({
      topic: m.topic,
      partition: m.partition,
      leader: md.leader,
      replicas: md.replicas,
      isr: md.isr,
      // kafkajs lists a partition with empty adding/removing lists when it is not reassigning.
      reassigning: r !== undefined && (r.addingReplicas.length > 0 || r.removingReplicas.length > 0),
      addingReplicas: r?.addingReplicas ?? [],
      removingReplicas: r?.removingReplicas ?? [],
    });
  }
  return { atMs: Date.now(), partitions };
}

/**
 * Throttle configs set at each entity (topic: DYNAMIC_TOPIC_CONFIG; broker: DYNAMIC_BROKER_CONFIG), via the
 * read-only DescribeConfigs; one entry per entity asked for. The cluster-wide broker default (entity '') is
 * read as what a broker inherits from it (DYNAMIC_DEFAULT_BROKER_CONFIG).
 */
async function describeThrottleConfigs(admin: Admin, entities: Pick<ConfigAlteration, 'entityType' | 'entityName'>[]): Promise<EntityThrottleConfigs[]> {
  const isDefault = (e: Pick<ConfigAlteration, 'entityType' | 'entityName'>) => e.entityType === 'brokers' && e.entityName === BROKER_DEFAULT_ENTITY;
  const wantDefault = entities.some(isDefault);
  const named = entities.filter((e) => !isDefault(e));
  const resources = named.map((e) =>
    e.entityType === 'topics'
      ? { type: ConfigResourceTypes.TOPIC, name: e.entityName, configNames: [...TOPIC_THROTTLE_CONFIGS] }
      : { type: ConfigResourceTypes.BROKER, name: e.entityName, configNames: [...BROKER_THROTTLE_CONFIGS] },
  );
  if (wantDefault && !named.some((e) => e.entityType === 'brokers')) {
    const any = (await admin.describeCluster()).brokers[0];
    if (any) resources.push({ type: ConfigResourceTypes.BROKER, name: String(any.nodeId), configNames: [...BROKER_THROTTLE_CONFIGS] });
  }
  if (resources.length === 0) return [];
  const described = await admin.describeConfigs({ includeSynonyms: false, resources });
  const read = new Map<string, ConfigEntry[]>();
  const brokerDefault = new Map<string, string>();
  for (const r of described.resources) {
    if (r.errorCode) throw new Error(`describeConfigs ${r.resourceName}: error ${r.errorCode} ${r.errorMessage ?? ''}`);
    const topic = r.resourceType === ConfigResourceTypes.TOPIC;
    const own = topic ? ConfigSource.DynamicTopic : ConfigSource.DynamicBroker;
    const configs: ConfigEntry[] = [];
    for (const e of r.configEntries) {
      if (e.configSource === own) configs.push({ name: e.configName, value: e.configValue });
      if (!topic && e.configSource === ConfigSource.DynamicDefaultBroker) brokerDefault.set(e.configName, e.configValue);
    }
    read.set(`${topic ? 'topics' : 'brokers'}:${r.resourceName}`, configs.sort((a, b) => a.name.localeCompare(b.name)));
  }
  return entities.map((e) => ({
    entityType: e.entityType,
    entityName: e.entityName,
    configs: isDefault(e) ? [...brokerDefault].sort().map(([name, value]) => ({ name, value })) : (read.get(`${e.entityType}:${e.entityName}`) ?? []),
  }));
}

/**
 * kafka-configs.sh arguments for one entity. A value containing commas goes in brackets (`k=[a,b]`): the
 * tool splits --add-config on commas otherwise (3.9 and 4.x alike).
 */
export function kafkaConfigsAlterArgs(a: ConfigAlteration): string[] {
  const entity = a.entityType === 'brokers' && a.entityName === BROKER_DEFAULT_ENTITY ? ['--entity-default'] : ['--entity-name', a.entityName];
  const args = ['--entity-type', a.entityType, ...entity, '--alter'];
  if (a.set.length > 0) args.push('--add-config', a.set.map((s) => `${s.name}=${s.value.includes(',') ? `[${s.value}]` : s.value}`).join(','));
  if (a.delete.length > 0) args.push('--delete-config', a.delete.join(','));
  return args;
}

/** Parses kafka-leader-election.sh output (3.9 and 4.x print the same lines). */
/** kafka-leader-election.sh output as partition refs (the one parser is src/rolling's parseLeaderElection). */
export function parseLeaderElectionOutput(stdout: string): { elected: PartitionRef[]; notNeeded: PartitionRef[]; failed: (PartitionRef & { error: string })[] } {
  const parsed = parseLeaderElection(stdout);
  const refs = (names: string[]) => names.map(parsePartitionName).sort(comparePartitions);
  return {
    elected: refs(parsed.elected),
    notNeeded: refs(parsed.alreadyPreferred),
    failed: parsed.failed.map((f) => ({ ...parsePartitionName(f.partition), error: f.error })),
  };
}

function parsePartitionName(name: string): PartitionRef {
  const i = name.lastIndexOf('-');
  return { topic: name.slice(0, i), partition: Number(name.slice(i + 1)) };
}

/** The first broker host (then controller host) that answers over SSH: where Kafka's tools run. */
async function toolHost(shell: HostShell, inv: Inventory): Promise<InventoryHost> {
  const candidates = [...inv.hosts.filter((h) => h.roles.includes('broker')), ...inv.hosts.filter((h) => !h.roles.includes('broker') && h.roles.includes('controller'))];
  const errors: string[] = [];
  for (const host of candidates) {
    try {
      const r = await shell.exec(host, 'true', { timeoutMs: 15_000 });
      if (r.code === 0) return host;
      errors.push(`${host.name}: exit ${r.code}`);
    } catch (err) {
      errors.push(`${host.name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no host of cluster "${inv.name}" answers over SSH to run Kafka's tools: ${errors.join('; ')}`);
}

/** Like runKafkaTool, without throwing on a non-zero exit: some tools report per-partition results that way. */
async function execTool(shell: HostShell, host: InventoryHost, inv: Inventory, tool: string, args: string[], opts: { timeoutMs?: number } = {}) {
  const parts = [renderCommand(host.kafka.commands.tool, host, { tool }), '--bootstrap-server', shellQuote(inv.bootstrapServers.join(','))];
  if (inv.client.toolCommandConfig) parts.push('--command-config', shellQuote(inv.client.toolCommandConfig));
  parts.push(...args.map(shellQuote));
  return shell.exec(host, parts.join(' '), { timeoutMs: opts.timeoutMs ?? 60_000 });
}

async function runTool(shell: HostShell, host: InventoryHost, inv: Inventory, tool: string, args: string[]): Promise<string> {
  const r = await execTool(shell, host, inv, tool, args);
  if (r.code !== 0) throw new Error(`${tool} on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout)}`);
  return r.stdout;
}
