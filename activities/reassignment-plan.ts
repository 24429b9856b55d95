import { createHash } from 'node:crypto';
import { invalidInput, unsafeToProceed } from '../src/errors';
import { type ClusterMetadata, type ReassignmentInFlight } from '../src/model/cluster';
import { describeGoal, PlanRefused, planReassignment, reassignmentInputFromCluster, renderPlanSummary, type ReassignmentGoal, type ReassignmentPlan } from '../src/reassignment';
import { type PartitionAssignment, type ReassignmentStats, type ReplicaMove } from '../src/reassignment/types';
import {
  type AssignmentVerification,
  batchMoves,
  batchThrottle,
  type BatchLimits,
  DEFAULT_BATCH_LIMITS,
  type EntityThrottleConfigs,
  leaderChangeBatches,
  type MoveStep,
  type PartitionLeader,
  type PartitionRef,
  throttleRestore,
  type ThrottleRestore,
  verifyAssignment,
} from '../src/reassignment-exec';
import { type ClusterRegistry } from './clusters';
import { readMetadata } from './cluster-reads';
import { keepHeartbeating } from './heartbeat';
import { createHostPlanStore, type PlanStore, sha256 } from './plan-store';
import { createReassignmentActivities, type ReassignmentActivities, type WaitOptions, type WaitResult } from './reassignment';
import { type HostShell } from './ssh';

/** A whole plan, as the planner made it on the worker. Never sent to a workflow: see ReassignmentPlanSummary. */
export interface PlanForApproval {
  plan: ReassignmentPlan;
  /** Identifies the plan's moves and leader changes: a re-plan with the same fingerprint is the same plan. */
  fingerprint: string;
  /** Reassignments in flight when planning: the executor refuses to start over them. */
  inFlight: ReassignmentInFlight[];
  /** Current leaders of the moved partitions, for batching by source broker. */
  leaders: PartitionLeader[];
  brokers: number[];
}

/** Where the stored plan is and how to tell it is the one approved. Small: it goes through history. */
export interface PlanRef {
  fingerprint: string;
  /** sha256 (16 hex) of the stored plan's header, which holds the sha256 of every other line. */
  id: string;
  /** Hosts holding a copy that was read back and matched. */
  hosts: string[];
}

/** One batch of a stored plan: data moves (`moves`) or, after them, replica reorders for leader balance (`reorder`). */
export interface BatchSelector {
  kind: 'moves' | 'reorder';
  index: number;
}

/** What the workflow sees of a plan: counts, the first moves, and the reference to the stored whole. */
export interface ReassignmentPlanSummary {
  fingerprint: string;
  ref: PlanRef;
  goal: string;
  stats: ReassignmentStats;
  moves: number;
  leaderChanges: number;
  /** Batches of data moves, then batches of reorders, under the run's batch limits. */
  batches: number;
  reorders: number;
  limits: BatchLimits;
  /** The first moves in plan order, for the UI and chatops. */
  firstMoves: ReplicaMove[];
  inFlight: { count: number; first: ReassignmentInFlight[] };
  /** The plan as markdown (summary table, per-broker counts, the first moves). */
  markdown: string;
}

export interface StoredBatch {
  kind: BatchSelector['kind'];
  index: number;
  partitions: number;
  bytes: number | null;
}

export interface VerificationSummary {
  ok: boolean;
  partitionsChecked: number;
  mismatched: number;
  missing: number;
  orderDiffers: number;
  leaderNotPreferred: number;
  /** The first few differences, for the message. */
  firstMismatched: AssignmentVerification['mismatched'];
  firstMissing: AssignmentVerification['missing'];
}

/** The first moves shown in the summary; the whole plan is on the hosts. */
const MOVES_SHOWN = 20;
/** Target partitions per stored line: keeps one line (and one activity's reading) small. */
const TARGET_PER_LINE = 2000;
/** Pending partitions kept in a wait's result: the rest are counted, not listed. */
const PENDING_SHOWN = 10;
const FORMAT = 'kafka-runbooks/reassignment-plan/1';

type PlanLine =
  | { kind: 'moves'; index: number; moves: MoveStep[]; bytes: number | null }
  | { kind: 'reorder'; index: number; moves: ReplicaMove[] }
  | { kind: 'target'; index: number; target: PartitionAssignment[] }
  | { kind: 'throttle-restore'; index: number; originals: EntityThrottleConfigs[]; restore: ThrottleRestore };

interface Header {
  format: string;
  cluster: string;
  fingerprint: string;
  counts: { batches: number; reorders: number; targetChunks: number };
  /** sha256 of lines 1..n. */
  lines: string[];
}

/** What the plan activities need from the worker: the cluster's metadata, a store, and the reassignment side effects. */
export interface ReassignmentPlanParts {
  readMetadata(cluster: string): Promise<ClusterMetadata>;
  store: PlanStore;
  ops: Pick<
    ReassignmentActivities,
    'readThrottleConfigs' | 'applyThrottles' | 'removeThrottles' | 'submitReassignment' | 'waitForReassignment' | 'cancelReassignment' | 'electPreferredLeaders' | 'listThrottledEntities'
  >;
}

/** Plans on the worker, where the whole metadata is; the pure planner is in src/reassignment. */
export function createReassignmentPlanActivities({ clusters, shell }: { clusters: ClusterRegistry; shell: HostShell }) {
  return reassignmentPlanActivities({
    readMetadata: (cluster) => readMetadata(clusters.get(cluster)),
    store: createHostPlanStore({ clusters, shell }),
    ops: createReassignmentActivities({ clusters, shell }),
  });
}

/**
 * The plan-and-execute activities of a reassignment that keep the plan out of workflow history. The planning
 * activity stores the whole plan (its batches under the run's limits, the leader reorders and the target) on
 * the hosts and returns a summary and a PlanRef; every later activity takes the PlanRef and a batch index,
 * loads what it needs, and checks it is the plan approved. A stored plan that is missing or does not match
 * stops the run (UnsafeToProceed): a human looks, and a new run plans afresh.
 */
export function reassignmentPlanActivities({ readMetadata: read, store, ops }: ReassignmentPlanParts) {
  const keyOf = (cluster: string, ref: Pick<PlanRef, 'id'>) => `${cluster}-${ref.id}`;
  const restoreKey = (cluster: string, ref: PlanRef, index: number) => `${keyOf(cluster, ref)}-throttles-${index}`;

  /** Saves a document (header + records) and returns its id (sha256 of the header) and the hosts holding it. */
  const saveDocument = async (cluster: string, fingerprint: string, records: PlanLine[], counts: Header['counts'], key: (id: string) => string, opts: Parameters<PlanStore['save']>[3]) => {
    const lines = records.map((r) => JSON.stringify(r));
    const header: Header = { format: FORMAT, cluster, fingerprint, counts, lines: lines.map(sha256) };
    const headerLine = JSON.stringify(header);
    const id = sha256(headerLine).slice(0, 16);
    const hosts = await store.save(cluster, key(id), [headerLine, ...lines], opts);
    return { id, hosts };
  };

  /**
   * Records (1-based line numbers of the document) from the first host holding a copy that matches: the
   * header's sha256 is the id the workflow holds, and each line's sha256 is listed in the header.
   * Nothing matching where every host answered: UnsafeToProceed. A host not answering: retried.
   */
  const loadDocument = async (cluster: string, key: string, ref: Pick<PlanRef, 'fingerprint' | 'hosts'>, id: string | null, lineNumbers: number[]): Promise<{ header: Header; records: PlanLine[] } | null> => {
    const problems: string[] = [];
    let unreachable = 0;
    let missingEverywhere = true;
    for (const host of ref.hosts) {
      let got: (string | null)[] | null;
      try {
        got = await store.readLines(cluster, host, key, [0, ...lineNumbers]);
      } catch (err) {
        unreachable++;
        problems.push(`${host}: ${(err as Error).message.split('\n')[0]}`);
        continue;
      }
      if (got === null) {
        problems.push(`${host}: missing`);
        continue;
      }
      missingEverywhere = false;
      const [headerLine, ...lines] = got;
      const header = parseHeader(headerLine ?? null);
      if (!header || (id !== null && sha256(headerLine as string).slice(0, 16) !== id) || header.fingerprint !== ref.fingerprint || header.cluster !== cluster) {
        problems.push(`${host}: a different plan (header does not match plan ${ref.fingerprint})`);
        continue;
      }
      const bad = lineNumbers.find((n, i) => lines[i] === null || lines[i] === undefined || sha256(lines[i] as string) !== header.lines[n - 1]);
      if (bad !== undefined) {
        problems.push(`${host}: line ${bad} does not match the plan's header`);
        continue;
      }
      return { header, records: lines.map((l) => JSON.parse(l as string) as PlanLine) };
    }
    if (unreachable > 0) throw new Error(`stored plan ${ref.fingerprint} not readable yet: ${problems.join('; ')}`);
    if (id === null && missingEverywhere) return null;
    throw unsafeToProceed(
      `the stored plan ${ref.fingerprint} is missing or does not match on every host that held it (${problems.join('; ')}): stopping so a human can look; run the runbook again to plan afresh`,
      { fingerprint: ref.fingerprint, problems },
    );
  };

  const loadPlan = async (cluster: string, ref: PlanRef, lineNumbers: number[]) => (await loadDocument(cluster, keyOf(cluster, ref), ref, ref.id, lineNumbers)) as { header: Header; records: PlanLine[] };
  const planHeader = async (cluster: string, ref: PlanRef) => (await loadPlan(cluster, ref, [])).header;
  const lineOf = (h: Header, sel: BatchSelector): number => {
    const count = sel.kind === 'moves' ? h.counts.batches : h.counts.reorders;
    if (!Number.isInteger(sel.index) || sel.index < 0 || sel.index >= count) throw invalidInput(`batch ${sel.kind} ${sel.index}: the plan has ${count}`);
    return 1 + (sel.kind === 'moves' ? sel.index : h.counts.batches + sel.index);
  };
  const loadBatch = async (cluster: string, ref: PlanRef, sel: BatchSelector): Promise<ReplicaMove[]> => {
    const line = lineOf(await planHeader(cluster, ref), sel);
    const [r] = (await loadPlan(cluster, ref, [line])).records;
    if (!r || (r.kind !== 'moves' && r.kind !== 'reorder') || r.index !== sel.index) throw unsafeToProceed(`stored plan ${ref.fingerprint}: line ${line} is not ${sel.kind} batch ${sel.index}`);
    return r.moves;
  };
  const loadAll = async (cluster: string, ref: PlanRef, kind: 'moves' | 'target'): Promise<PlanLine[]> => {
    const h = await planHeader(cluster, ref);
    const first = kind === 'moves' ? 1 : 1 + h.counts.batches + h.counts.reorders;
    const count = kind === 'moves' ? h.counts.batches : h.counts.targetChunks;
    return (await loadPlan(cluster, ref, Array.from({ length: count }, (_, i) => first + i))).records;
  };
  const targetOf = async (cluster: string, ref: PlanRef) => (await loadAll(cluster, ref, 'target')).flatMap((r) => (r.kind === 'target' ? r.target : []));
  /** The restore of a batch's throttles saved before they were applied; null when none was saved (nothing applied). */
  const loadRestore = async (cluster: string, ref: PlanRef, index: number) => {
    const doc = await loadDocument(cluster, restoreKey(cluster, ref, index), ref, null, [1]);
    const r = doc?.records[0];
    return r?.kind === 'throttle-restore' && r.index === index ? r : null;
  };

  return {
    /**
     * Plans on the worker, batches the moves under `limits`, stores the whole on the hosts (each copy read back)
     * and returns a summary with the reference. Refused goals fail as InvalidInput.
     */
    async planReassignmentFor(cluster: string, goal: ReassignmentGoal, limits: Partial<BatchLimits> = {}): Promise<ReassignmentPlanSummary> {
      const planned = planFromMetadata(await read(cluster), goal);
      const l: BatchLimits = { ...DEFAULT_BATCH_LIMITS, ...limits };
      const { plan } = planned;
      const batches = batchMoves(plan.moves, l, planned.leaders);
      const changeOf = new Map(plan.leaderChanges.map((c) => [`${c.topic}/${c.partition}`, c]));
      const reorders = leaderChangeBatches(plan.leaderChanges).map((chunk) =>
        chunk.map((r): ReplicaMove => {
          const c = changeOf.get(`${r.topic}/${r.partition}`);
          return { topic: r.topic, partition: r.partition, from: c?.from ?? r.replicas, to: r.replicas, addingReplicas: [], removingReplicas: [], bytes: 0 };
        }),
      );
      const targetChunks: PartitionAssignment[][] = [];
      for (let i = 0; i < plan.target.length; i += TARGET_PER_LINE) targetChunks.push(plan.target.slice(i, i + TARGET_PER_LINE));
      const records: PlanLine[] = [
        ...batches.map((b): PlanLine => ({ kind: 'moves', index: b.index, moves: b.moves, bytes: b.bytes })),
        ...reorders.map((moves, index): PlanLine => ({ kind: 'reorder', index, moves })),
        ...targetChunks.map((target, index): PlanLine => ({ kind: 'target', index, target })),
      ];
      const { id, hosts } = await saveDocument(
        cluster,
        planned.fingerprint,
        records,
        { batches: batches.length, reorders: reorders.length, targetChunks: targetChunks.length },
        (id) => `${cluster}-${id}`,
        // Copies away from brokers being removed: they may be stopped and wiped once empty.
        { avoidNodeIds: goal.kind === 'removeBrokers' ? goal.brokerIds : [] },
      );
      return {
        fingerprint: planned.fingerprint,
        ref: { fingerprint: planned.fingerprint, id, hosts },
        goal: describeGoal(goal),
        stats: plan.stats,
        moves: plan.moves.length,
        leaderChanges: plan.leaderChanges.length,
        batches: batches.length,
        reorders: reorders.length,
        limits: l,
        firstMoves: plan.moves.slice(0, MOVES_SHOWN),
        inFlight: { count: planned.inFlight.length, first: planned.inFlight.slice(0, 5) },
        markdown: `${renderPlanSummary(plan, { movesShown: MOVES_SHOWN })}\n\nStored as plan \`${planned.fingerprint}\` on ${hosts.join(', ')}; executed in ${batches.length} batches.`,
      };
    },

    /** Plans again without storing: the fingerprint tells whether the cluster changed under the approved plan. */
    async fingerprintReassignmentFor(cluster: string, goal: ReassignmentGoal): Promise<{ fingerprint: string; inFlight: number }> {
      const planned = planFromMetadata(await read(cluster), goal);
      return { fingerprint: planned.fingerprint, inFlight: planned.inFlight.length };
    },

    /**
     * Reads back the whole stored plan from each host holding it (every line against the header): run before
     * the approval gate, so what is approved is what is stored.
     */
    async checkStoredPlan(cluster: string, ref: PlanRef): Promise<{ hosts: string[]; lines: number }> {
      const good: string[] = [];
      let lines = 0;
      for (const host of ref.hosts) {
        const h = await planHeader(cluster, { ...ref, hosts: [host] });
        const n = h.counts.batches + h.counts.reorders + h.counts.targetChunks;
        await loadPlan(cluster, { ...ref, hosts: [host] }, Array.from({ length: n }, (_, i) => i + 1));
        good.push(host);
        lines = n;
      }
      return { hosts: good, lines };
    },

    /** The size of one stored batch, without its moves. */
    async describeStoredBatch(cluster: string, ref: PlanRef, sel: BatchSelector): Promise<StoredBatch> {
      const moves = await loadBatch(cluster, ref, sel);
      const bytes = moves.every((m) => m.bytes !== null) ? moves.reduce((n, m) => n + (m.bytes ?? 0), 0) : null;
      return { kind: sel.kind, index: sel.index, partitions: moves.length, bytes };
    },

    /**
     * Sets a batch's replication throttles, merged with the configs there now. The originals and their restore
     * are stored before anything is applied, and a retry reuses them, so the undo puts back what was there
     * before the run, never the run's own throttle.
     */
    async setBatchThrottles(cluster: string, ref: PlanRef, index: number, rateBytesPerSec: number): Promise<{ topics: number; brokers: number; changed: number; offline: string[] }> {
      // Loading the batch from the hosts comes first: heartbeat from the start, not only once the tool runs.
      return keepHeartbeating(() => 'setting the batch throttles', async () => {
        const moves = await loadBatch(cluster, ref, { kind: 'moves', index });
        let saved = await loadRestore(cluster, ref, index);
        if (!saved) {
          const topics = [...new Set(moves.map((m) => m.topic))];
          const brokers = [...new Set(moves.flatMap((m) => [...m.from, ...m.to]))].sort((a, b) => a - b);
          const originals = await ops.readThrottleConfigs(cluster, topics, brokers);
          const restore = throttleRestore(originals, [batchThrottle(moves, originals, rateBytesPerSec)]);
          saved = { kind: 'throttle-restore', index, originals, restore };
          // Only where the plan is: the undo looks there, and finds no restore only when nothing was applied.
          await saveDocument(cluster, ref.fingerprint, [saved], { batches: 0, reorders: 0, targetChunks: 0 }, () => restoreKey(cluster, ref, index), { onlyHosts: ref.hosts });
        }
        const throttle = batchThrottle(moves, saved.originals, rateBytesPerSec);
        const r = await ops.applyThrottles(cluster, throttle);
        return { topics: throttle.topics.length, brokers: throttle.brokers.length, changed: r.changed.length, offline: r.offline };
      });
    },

    /** Puts back the configs a batch's throttles replaced; nothing to do when setBatchThrottles never stored a restore. */
    async removeBatchThrottles(cluster: string, ref: PlanRef, index: number): Promise<{ changed: number; offline: string[] }> {
      // Loading the batch from the hosts comes first: heartbeat from the start, not only once the tool runs.
      return keepHeartbeating(() => 'removing the batch throttles', async () => {
        const saved = await loadRestore(cluster, ref, index);
        if (!saved) return { changed: 0, offline: [] };
        const r = await ops.removeThrottles(cluster, saved.restore);
        return { changed: r.changed.length, offline: r.offline };
      });
    },

    /** submitReassignment for one stored batch. */
    async submitReassignmentBatch(cluster: string, ref: PlanRef, sel: BatchSelector): Promise<{ submitted: number; alreadyInFlight: number; alreadyDone: number }> {
      // Loading the batch from the hosts comes first: heartbeat from the start, not only once the tool runs.
      return keepHeartbeating(() => 'submitting a batch', async () => {
        const r = await ops.submitReassignment(cluster, await loadBatch(cluster, ref, sel));
        return { submitted: r.submitted.length, alreadyInFlight: r.alreadyInFlight.length, alreadyDone: r.alreadyDone.length };
      });
    },

    /** waitForReassignment for one stored batch; the result lists only the first pending partitions. */
    async waitForReassignmentBatch(cluster: string, ref: PlanRef, sel: BatchSelector, opts: WaitOptions): Promise<WaitResult> {
      const r = await ops.waitForReassignment(cluster, await loadBatch(cluster, ref, sel), opts);
      return { ...r, progress: { ...r.progress, pending: r.progress.pending.slice(0, PENDING_SHOWN) } };
    },

    /** cancelReassignment for one stored batch's partitions. */
    async cancelReassignmentBatch(cluster: string, ref: PlanRef, sel: BatchSelector): Promise<{ cancelled: number; notInFlight: number; revertedDirectly: number }> {
      // Loading the batch from the hosts comes first: heartbeat from the start, not only once the tool runs.
      return keepHeartbeating(() => 'cancelling a batch', async () => {
        const partitions: PartitionRef[] = (await loadBatch(cluster, ref, sel)).map((m) => ({ topic: m.topic, partition: m.partition }));
        const r = await ops.cancelReassignment(cluster, partitions);
        return { cancelled: r.cancelled.length, notInFlight: r.notInFlight.length, revertedDirectly: r.revertedDirectly.length };
      });
    },

    /** Compares the cluster with the stored plan's target for the partitions the plan changed. */
    async verifyReassignmentPlan(cluster: string, ref: PlanRef): Promise<VerificationSummary> {
      const target = await targetOf(cluster, ref);
      const v = verifyAssignment(target, observedAssignments(await read(cluster), target));
      return {
        ok: v.ok,
        partitionsChecked: v.partitionsChecked,
        mismatched: v.mismatched.length,
        missing: v.missing.length,
        orderDiffers: v.orderDiffers.length,
        leaderNotPreferred: v.leaderNotPreferred.length,
        firstMismatched: v.mismatched.slice(0, 3),
        firstMissing: v.missing.slice(0, 3),
      };
    },

    /** Preferred leader election for every partition the stored plan changed. */
    async electLeadersOfPlan(cluster: string, ref: PlanRef): Promise<{ elected: number; notNeeded: number }> {
      const partitions = (await targetOf(cluster, ref)).map((t) => ({ topic: t.topic, partition: t.partition }));
      if (partitions.length === 0) return { elected: 0, notNeeded: 0 };
      const r = await ops.electPreferredLeaders(cluster, partitions);
      return { elected: r.elected.length, notNeeded: r.notNeeded.length };
    },

    /** Throttle configs still set on the topics and brokers the stored plan's moves touched (at most 50 named, then a count). */
    async throttlesLeftOfPlan(cluster: string, ref: PlanRef): Promise<string[]> {
      const moves = (await loadAll(cluster, ref, 'moves')).flatMap((r) => (r.kind === 'moves' ? r.moves : []));
      const topics = new Set(moves.map((m) => m.topic));
      const brokers = new Set(moves.flatMap((m) => [...m.from, ...m.to]).map(String));
      const left = (await ops.listThrottledEntities(cluster))
        .filter((e) => (e.entityType === 'topics' ? topics.has(e.entityName) : brokers.has(e.entityName)))
        .map((e) => `${e.entityType === 'topics' ? 'topic' : 'broker'} ${e.entityName} (${e.configs.map((c) => c.name).join(', ')})`);
      return left.length > 50 ? [...left.slice(0, 50), `and ${left.length - 50} more`] : left;
    },

    /** Removes the stored plan and its throttle restores once the run no longer needs them. */
    async discardReassignmentPlan(cluster: string, ref: PlanRef): Promise<void> {
      await store.remove(cluster, ref.hosts, keyOf(cluster, ref));
    },
  };
}

export type ReassignmentPlanActivities = ReturnType<typeof reassignmentPlanActivities>;

function parseHeader(line: string | null): Header | null {
  if (!line) return null;
  try {
    const h = JSON.parse(line) as Header;
    return h.format === FORMAT && Array.isArray(h.lines) ? h : null;
  } catch {
    return null;
  }
}

function observedAssignments(m: ClusterMetadata, target: PartitionAssignment[]) {
  const wanted = new Set(target.map((t) => `${t.topic}/${t.partition}`));
  return m.topics.flatMap((t) =>
    t.partitions.filter((p) => wanted.has(`${t.name}/${p.partition}`)).map((p) => ({ topic: t.name, partition: p.partition, replicas: p.replicas, leader: p.leader })),
  );
}

/** The whole plan from one metadata read, with its fingerprint; the target only for partitions that change. */
export function planFromMetadata(metadata: ClusterMetadata, goal: ReassignmentGoal): PlanForApproval {
  let plan: ReassignmentPlan;
  try {
    plan = planReassignment(reassignmentInputFromCluster(metadata, goal));
  } catch (err) {
    // A refused goal is bad input: nothing was changed, and retrying cannot help.
    if (err instanceof PlanRefused) throw invalidInput(`the plan was refused: ${err.message}`, { field: err.field, reason: err.reason });
    throw err;
  }
  const changed = new Set([...plan.moves, ...plan.leaderChanges].map((m) => `${m.topic}/${m.partition}`));
  const leaders = new Map(metadata.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partition}`, p.leader] as const)));
  const trimmed: ReassignmentPlan = { ...plan, target: plan.target.filter((t) => changed.has(`${t.topic}/${t.partition}`)) };
  return {
    plan: trimmed,
    fingerprint: createHash('sha256')
      .update(JSON.stringify([plan.moves.map((m) => [m.topic, m.partition, m.to]), plan.leaderChanges.map((c) => [c.topic, c.partition, c.to])]))
      .digest('hex')
      .slice(0, 16),
    inFlight: metadata.reassignments,
    leaders: plan.moves.map((m) => ({ topic: m.topic, partition: m.partition, leader: leaders.get(`${m.topic}/${m.partition}`) ?? -1 })),
    brokers: metadata.brokers.map((b) => b.id),
  };
}
