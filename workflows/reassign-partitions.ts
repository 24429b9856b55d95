import { defineQuery, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PlanForApproval } from '../activities/reassignment-plan';
import { unsafeToProceed } from '../src/errors';
import { describeGoal, formatBytes, renderPlanSummary } from '../src/reassignment';
import { batchMoves, batchThrottle, describeProgress, formatDuration, leaderChangeBatches, type ReassignmentBatch, throttleRestore } from '../src/reassignment-exec';
import { type ReplicaMove } from '../src/reassignment/types';
import { clusterNamedIn, parseRunbookInput } from '../src/runbooks/input';
import { type ReassignmentExecution, reassignPartitionsInput, type ReassignPartitionsInput } from '../src/runbooks/reassignment';
import { ActivityKind, proxyByKind, proxyOfKind, proxyWaits } from './activity-options';
import { RunbookControls } from './controls';

const read = proxyOfKind(ActivityKind.Read);
const lock = proxyOfKind(ActivityKind.Lock);
const change = proxyByKind();
/** Waits poll inside the activity and heartbeat, so history does not grow with polls; a retry keeps the first attempt's deadline. */
const waits = (timeoutMinutes: number) => proxyWaits(timeoutMinutes * 60_000);

/** The plan being executed (or waiting for approval), for the UI and chatops. */
export const reassignmentPlanQuery = defineQuery<PlanForApproval | null>('plan');

export interface ReassignPartitionsResult {
  goal: string;
  replicasMoved: number;
  lowerBound: number;
  bytesMoved: number | null;
  batches: { index: number; partitions: number; durationMs: number }[];
  leaderChanges: number;
  elected: number;
  /** Throttle configs found on touched topics and brokers after the run: always empty on success. */
  throttlesLeft: string[];
  approvedBy: string | null;
}

/**
 * reassignPartitions: plan, show, approve, then execute a partition reassignment in throttled batches.
 * Guarantees:
 * - plans move the minimum for the goal (src/reassignment); a refused goal fails before anything changes;
 * - never starts while another reassignment is in flight;
 * - executes exactly the approved plan: if the cluster changed since approval, it re-plans and asks again;
 * - throttles are merged with the topics' existing ones, and restored after each batch and on failure or
 *   abort; the run ends by checking that no throttle is left on what it touched;
 * - abort cancels the moves in flight (back to the original replicas) and removes the throttles;
 * - a worker restart resumes the current wait without resubmitting.
 * Runs as a child of the broker runbooks (which hold the cluster lock) or on its own (then it takes it).
 */
export async function reassignPartitions(rawInput: ReassignPartitionsInput): Promise<ReassignPartitionsResult> {
  const { workflowId, parent } = workflowInfo();
  const cluster = clusterNamedIn(rawInput);
  let approvedPlan: PlanForApproval | null = null;
  setHandler(reassignmentPlanQuery, () => approvedPlan);
  const controls = new RunbookControls({
    runbook: 'reassignPartitions',
    cluster,
    approvers: (rawInput as { approvers?: string[] }).approvers ?? null,
    // A parent runbook already holds the cluster lock.
    lock: parent
      ? undefined
      : {
          acquire: () => lock.acquireClusterLock({ cluster, workflowId, runbook: 'reassignPartitions' }),
          release: () => lock.releaseClusterLock({ cluster, workflowId }),
        },
  });
  return controls.run(async () => {
    const input = await controls.step('validate the input', async () => parseRunbookInput('reassignPartitions', reassignPartitionsInput, rawInput));
    const { plan: planned, approval } = await planAndApprove(controls, input, (p) => (approvedPlan = p));
    const { plan } = planned;
    const moves = plan.moves;
    const result: ReassignPartitionsResult = {
      goal: describeGoal(plan.goal),
      replicasMoved: plan.stats.replicasMoved,
      lowerBound: plan.stats.lowerBound,
      bytesMoved: plan.stats.bytesMoved,
      batches: [],
      leaderChanges: plan.leaderChanges.length,
      elected: 0,
      throttlesLeft: [],
      approvedBy: approval,
    };
    const batches = batchMoves(moves, { maxMovesPerBroker: input.maxMovesPerBroker, maxMovesPerCluster: input.maxMovesPerCluster, oneNewReplicaAtATime: input.oneNewReplicaAtATime }, planned.leaders);
    for (const batch of batches) result.batches.push(await executeBatch(controls, input, batch, batches.length));
    for (const [i, reorder] of leaderChangeBatches(plan.leaderChanges).entries()) {
      const asMoves: ReplicaMove[] = reorder.map((r) => {
        const c = plan.leaderChanges.find((l) => l.topic === r.topic && l.partition === r.partition);
        return { topic: r.topic, partition: r.partition, from: c?.from ?? r.replicas, to: r.replicas, addingReplicas: [], removingReplicas: [], bytes: 0 };
      });
      await controls.step(`reorder replicas for leader balance (${i + 1})`, () => change.submitReassignment(input.cluster, asMoves));
      await controls.step(`wait for the reorder (${i + 1})`, () => waits(input.batchTimeoutMinutes).waitForReassignment(input.cluster, asMoves, { timeoutMs: input.batchTimeoutMinutes * 60_000 }), {
        interruptible: true,
      });
    }
    const verification = await controls.step('verify the assignment equals the plan', () => read.verifyAssignmentFor(input.cluster, plan.target));
    if (!verification.ok) {
      throw unsafeToProceed(
        `the cluster does not match the plan: ${verification.mismatched.length} partitions differ, ${verification.missing.length} missing ` +
          `(first: ${verification.mismatched.slice(0, 3).map((m) => `${m.topic}-${m.partition} is [${m.actual.join(',')}], planned [${m.expected.join(',')}]`).join('; ')})`,
        verification,
      );
    }
    const changedPartitions = plan.target.map((t) => ({ topic: t.topic, partition: t.partition }));
    if (input.electLeaders && changedPartitions.length > 0) {
      const elected = await controls.step('elect preferred leaders', () => change.electPreferredLeaders(input.cluster, changedPartitions));
      result.elected = elected.elected.length;
    }
    result.throttlesLeft = await controls.step('confirm no throttle is left', () => throttlesLeftOn(input.cluster, moves));
    if (result.throttlesLeft.length > 0) {
      throw unsafeToProceed(`replication throttles are still set on ${result.throttlesLeft.join(', ')}: they slow all replication there; remove them with kafka-configs.sh`);
    }
    controls.setDetail(`done: ${plan.stats.replicasMoved} replicas moved in ${batches.length} batches`);
    return result;
  });
}

/** Plans, shows the plan, waits for approval, and re-plans until the approved plan is still the plan. */
async function planAndApprove(
  controls: RunbookControls,
  input: ReassignmentExecution & { cluster: string; goal: Parameters<Activities['planReassignmentFor']>[1] },
  publish: (p: PlanForApproval) => void,
): Promise<{ plan: PlanForApproval; approval: string | null }> {
  const MAX_REPLANS = 3;
  for (let attempt = 1; ; attempt++) {
    const planned = await controls.step(attempt === 1 ? 'plan the reassignment' : `re-plan (attempt ${attempt})`, () => read.planReassignmentFor(input.cluster, input.goal));
    if (planned.inFlight.length > 0) {
      throw unsafeToProceed(
        `${planned.inFlight.length} partition reassignments are already in flight (${planned.inFlight
          .slice(0, 5)
          .map((r) => `${r.topic}-${r.partition}`)
          .join(', ')}): wait for them to finish or cancel them first`,
      );
    }
    publish(planned);
    const p = planned.plan;
    controls.extraDetails = renderPlanSummary(p);
    const summary =
      `${describeGoal(p.goal)}: move ${p.stats.replicasMoved} replicas` +
      (p.stats.bytesMoved !== null ? ` (${formatBytes(p.stats.bytesMoved)})` : '') +
      `, lower bound ${p.stats.lowerBound}; ${p.leaderChanges.length} leader changes` +
      (input.throttleBytesPerSec ? `; throttle ${formatBytes(input.throttleBytesPerSec)}/s` : '; unthrottled');
    controls.setDetail(summary);
    if (p.moves.length === 0 && p.leaderChanges.length === 0) return { plan: planned, approval: null };
    let approver: string | null = null;
    if (input.approval === 'required') {
      const decision = await controls.requireApproval('approve-plan', `${summary}. Plan ${planned.fingerprint}; see the details for every move.`);
      approver = decision.approver;
    }
    // The cluster may have changed while the plan waited for approval: execute only the plan that was shown.
    const now = await controls.step('check the cluster has not changed under the plan', () => read.planReassignmentFor(input.cluster, input.goal));
    if (now.fingerprint === planned.fingerprint && now.inFlight.length === 0) return { plan: planned, approval: approver };
    controls.note(`the cluster changed since plan ${planned.fingerprint} was made (now ${now.fingerprint}); planning again`);
    if (attempt >= MAX_REPLANS) throw unsafeToProceed(`the cluster kept changing under the plan (${MAX_REPLANS} plans made); stopping so a human can look`);
  }
}

async function executeBatch(
  controls: RunbookControls,
  input: ReassignmentExecution & { cluster: string },
  batch: ReassignmentBatch,
  of: number,
): Promise<{ index: number; partitions: number; durationMs: number }> {
  const label = `batch ${batch.index + 1}/${of}`;
  const started = Date.now();
  const moves = batch.moves;
  const partitions = moves.map((m) => ({ topic: m.topic, partition: m.partition }));
  const undoThrottle = `remove the throttles of ${label}`;
  const undoMoves = `cancel the moves of ${label}`;
  let restore: ReturnType<typeof throttleRestore> | null = null;
  if (input.throttleBytesPerSec !== null) {
    const rate = input.throttleBytesPerSec;
    restore = await controls.step(`${label}: set replication throttles`, async () => {
      const topics = [...new Set(moves.map((m) => m.topic))];
      const brokers = [...new Set(moves.flatMap((m) => [...m.from, ...m.to]))].sort((a, b) => a - b);
      const originals = await change.readThrottleConfigs(input.cluster, topics, brokers);
      const throttle = batchThrottle(moves, originals, rate);
      const r = throttleRestore(originals, [throttle]);
      // Registered before applying: a half-applied throttle is undone too.
      controls.onUndo(undoThrottle, async () => void (await change.removeThrottles(input.cluster, r)));
      await change.applyThrottles(input.cluster, throttle);
      return r;
    });
  }
  controls.onUndo(undoMoves, async () => void (await change.cancelReassignment(input.cluster, partitions)));
  await controls.step(`${label}: submit ${moves.length} moves`, () => change.submitReassignment(input.cluster, moves));
  controls.setDetail(`${label}: copying ${moves.length} partitions`);
  const wait = await controls.step(
    `${label}: wait for the new replicas to join the ISR`,
    () => waits(input.batchTimeoutMinutes).waitForReassignment(input.cluster, moves, { timeoutMs: input.batchTimeoutMinutes * 60_000, throttleRateBytesPerSec: input.throttleBytesPerSec }),
    { interruptible: true },
  );
  if (wait.outcome !== 'done') {
    // Stuck or too slow: stop (the undo steps cancel the moves and remove the throttles) and let a human look.
    throw unsafeToProceed(`${label} did not finish (${wait.outcome} after ${formatDuration(wait.elapsedMs)}): ${describeProgress(wait.progress)}`);
  }
  controls.forgetUndo(undoMoves);
  if (restore) {
    const r = restore;
    await controls.step(`${label}: remove replication throttles`, () => change.removeThrottles(input.cluster, r));
    controls.forgetUndo(undoThrottle);
  }
  return { index: batch.index, partitions: moves.length, durationMs: Date.now() - started };
}

async function throttlesLeftOn(cluster: string, moves: ReplicaMove[]): Promise<string[]> {
  const topics = new Set(moves.map((m) => m.topic));
  const brokers = new Set(moves.flatMap((m) => [...m.from, ...m.to]).map(String));
  const left = await read.listThrottledEntities(cluster);
  return left
    .filter((e) => (e.entityType === 'topics' ? topics.has(e.entityName) : brokers.has(e.entityName)))
    .map((e) => `${e.entityType === 'topics' ? 'topic' : 'broker'} ${e.entityName} (${e.configs.map((c) => c.name).join(', ')})`);
}
