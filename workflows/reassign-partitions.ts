import { defineQuery, executeChild, ParentClosePolicy, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PlanRef, ReassignmentPlanSummary } from '../activities/reassignment-plan';
import { invalidInput, unsafeToProceed } from '../src/errors';
import { formatBytes } from '../src/reassignment';
import { describeProgress, formatDuration } from '../src/reassignment-exec';
import { clusterNamedIn } from '../src/runbooks/input';
import { type ReassignmentExecution, reassignPartitionsInput, type ReassignPartitionsInput } from '../src/runbooks/reassignment';
import { ActivityKind, proxyByKind, proxyOfKind, proxyWaits, parsedInput } from './activity-options';
import { type Actor } from '../src/approvals/identity';
import { RunbookControls } from './controls';

const read = proxyOfKind(ActivityKind.Read);
const lock = proxyOfKind(ActivityKind.Lock);
const change = proxyByKind();
/** Planning reads the whole cluster and stores the plan on the hosts: minutes on a large cluster, no heartbeat. */
const planning = proxyOfKind(ActivityKind.Plan);
/** Waits poll inside the activity and heartbeat, so history does not grow with polls; a retry keeps the first attempt's deadline. */
const waits = (timeoutMinutes: number) => proxyWaits(timeoutMinutes * 60_000);

/** The plan being executed (or waiting for approval), summarised, for the UI and chatops; the whole plan is on the hosts. */
export const reassignmentPlanQuery = defineQuery<ReassignmentPlanSummary | null>('plan');

export interface BatchReport {
  index: number;
  partitions: number;
  durationMs: number;
}

export interface ReassignPartitionsResult {
  goal: string;
  replicasMoved: number;
  lowerBound: number;
  bytesMoved: number | null;
  batches: BatchReport[];
  leaderChanges: number;
  elected: number;
  /** Throttle configs found on touched topics and brokers after the run: always empty on success. */
  throttlesLeft: string[];
  approvedBy: string | null;
  /** The plan's fingerprint (its moves and leader changes). */
  plan: string;
  /** Child workflows that ran slices of the batches (none when the plan fits one run). */
  slices: string[];
}

/**
 * reassignPartitions: plan, show, approve, then execute a partition reassignment in throttled batches.
 * Guarantees:
 * - plans move the minimum for the goal (src/reassignment); a refused goal fails before anything changes;
 * - never starts while another reassignment is in flight;
 * - executes exactly the approved plan: the plan is stored on the cluster's hosts and read back before the
 *   approval; every batch is loaded from there and checked against the plan's fingerprint, and a stored plan
 *   that is missing or differs stops the run; if the cluster changed since approval, it re-plans and asks again;
 * - throttles are merged with the topics' existing ones, and restored after each batch and on failure or
 *   abort; the run ends by checking that no throttle is left on what it touched;
 * - abort cancels the moves in flight (back to the original replicas) and removes the throttles;
 * - a worker restart resumes the current wait without resubmitting;
 * - history stays bounded: the workflow holds counts and one batch reference at a time, and a plan of more
 *   than `batchesPerSlice` batches runs in child workflows of that many batches each.
 * Runs as a child of the broker runbooks (which hold the cluster lock) or on its own (then it takes it).
 */
export async function reassignPartitions(rawInput: ReassignPartitionsInput): Promise<ReassignPartitionsResult> {
  const { workflowId, parent } = workflowInfo();
  const cluster = clusterNamedIn(rawInput);
  let shownPlan: ReassignmentPlanSummary | null = null;
  setHandler(reassignmentPlanQuery, () => shownPlan);
  const controls = new RunbookControls({
    runbook: 'reassignPartitions',
    cluster,
    approvers: (rawInput as { approvers?: string[] }).approvers ?? null,
    input: rawInput,
    // A parent runbook already holds the cluster lock.
    lock: parent
      ? undefined
      : {
          acquire: () => lock.acquireClusterLock({ cluster, workflowId, runbook: 'reassignPartitions' }),
          release: () => lock.releaseClusterLock({ cluster, workflowId }),
        },
  });
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('reassignPartitions', reassignPartitionsInput, rawInput));
    const { plan, approval } = await planAndApprove(controls, input, (p) => (shownPlan = p));
    const ref = plan.ref;
    const result: ReassignPartitionsResult = {
      goal: plan.goal,
      replicasMoved: plan.stats.replicasMoved,
      lowerBound: plan.stats.lowerBound,
      bytesMoved: plan.stats.bytesMoved,
      batches: [],
      leaderChanges: plan.leaderChanges,
      elected: 0,
      throttlesLeft: [],
      approvedBy: approval,
      plan: plan.fingerprint,
      slices: [],
    };
    const exec: BatchExecution = { cluster: input.cluster, ref, of: plan.batches, throttleBytesPerSec: input.throttleBytesPerSec, batchTimeoutMinutes: input.batchTimeoutMinutes };
    if (plan.batches <= input.batchesPerSlice) {
      for (let i = 0; i < plan.batches; i++) result.batches.push(await executeBatch(controls, exec, i));
    } else {
      for (let from = 0; from < plan.batches; from += input.batchesPerSlice) {
        const to = Math.min(plan.batches, from + input.batchesPerSlice);
        const childId = `${workflowId}/batches-${from + 1}-${to}`;
        result.slices.push(childId);
        controls.setDetail(`batches ${from + 1} to ${to} of ${plan.batches} run in child workflow \`${childId}\``);
        // An abort or Cancel here cancels the child, which cancels its moves and removes its throttles; a
        // terminated parent lets it do so too (REQUEST_CANCEL): the child owns the undo of its batches.
        const done = await controls.child(`batches ${from + 1}-${to} of ${plan.batches} (child workflow)`, childId, () =>
          executeChild(reassignmentSlice, {
            workflowId: childId,
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            staticSummary: `reassignPartitions on ${input.cluster}: batches ${from + 1}-${to} of ${plan.batches}`,
            args: [{ ...exec, from, to, approvers: input.approvers ?? null, ...controls.childIdentity }],
          }),
        );
        result.batches.push(...done);
      }
    }
    for (let j = 0; j < plan.reorders; j++) {
      const sel = { kind: 'reorder' as const, index: j };
      await controls.step(`reorder replicas for leader balance (${j + 1})`, () => change.submitReassignmentBatch(input.cluster, ref, sel));
      await controls.step(`wait for the reorder (${j + 1})`, () => waits(input.batchTimeoutMinutes).waitForReassignmentBatch(input.cluster, ref, sel, { timeoutMs: input.batchTimeoutMinutes * 60_000 }), {
        interruptible: true,
      });
    }
    const verification = await controls.step('verify the assignment equals the plan', () => read.verifyReassignmentPlan(input.cluster, ref));
    if (!verification.ok) {
      throw unsafeToProceed(
        `the cluster does not match the plan: ${verification.mismatched} partitions differ, ${verification.missing} missing ` +
          `(first: ${verification.firstMismatched.map((m) => `${m.topic}-${m.partition} is [${m.actual.join(',')}], planned [${m.expected.join(',')}]`).join('; ')})`,
        verification,
      );
    }
    if (input.electLeaders && verification.partitionsChecked > 0) {
      const elected = await controls.step('elect preferred leaders', () => change.electLeadersOfPlan(input.cluster, ref));
      result.elected = elected.elected;
    }
    result.throttlesLeft = await controls.step('confirm no throttle is left', () => read.throttlesLeftOfPlan(input.cluster, ref));
    if (result.throttlesLeft.length > 0) {
      throw unsafeToProceed(`replication throttles are still set on ${result.throttlesLeft.join(', ')}: they slow all replication there; remove them with kafka-configs.sh`);
    }
    await controls.step('remove the stored plan from the hosts', () => change.discardReassignmentPlan(input.cluster, ref));
    controls.setDetail(`done: ${plan.stats.replicasMoved} replicas moved in ${plan.batches} batches`);
    return result;
  });
}

/** What a slice of batches needs: small, so it can be a child workflow's input. */
interface BatchExecution {
  cluster: string;
  ref: PlanRef;
  /** How many batches the plan has. */
  of: number;
  throttleBytesPerSec: number | null;
  batchTimeoutMinutes: number;
}

export interface ReassignmentSliceInput extends BatchExecution {
  /** Batches [from, to) of the stored plan. */
  from: number;
  to: number;
  approvers: string[] | null;
  /** Who started the parent run: separation of duties holds against them. */
  runStarter?: Actor;
}

/**
 * reassignmentSlice: batches [from, to) of a stored, approved plan, each throttled, submitted, waited for and
 * unthrottled, with its own undo (cancel the moves, remove the throttles). Started by reassignPartitions,
 * which holds the cluster lock; not for starting by hand.
 */
export async function reassignmentSlice(args: ReassignmentSliceInput): Promise<BatchReport[]> {
  const { parent } = workflowInfo();
  const controls = new RunbookControls({ runbook: 'reassignPartitions', cluster: clusterNamedIn(args), approvers: args?.approvers ?? null, input: args });
  return controls.run(async () => {
    if (!parent) throw invalidInput('reassignmentSlice runs only as a child of reassignPartitions, which plans, approves and holds the cluster lock');
    const out: BatchReport[] = [];
    for (let i = args.from; i < args.to; i++) out.push(await executeBatch(controls, args, i));
    return out;
  });
}

/** Plans, shows the plan, waits for approval, and re-plans until the approved plan is still the plan. */
async function planAndApprove(
  controls: RunbookControls,
  input: ReassignmentExecution & { cluster: string; goal: Parameters<Activities['planReassignmentFor']>[1] },
  publish: (p: ReassignmentPlanSummary) => void,
): Promise<{ plan: ReassignmentPlanSummary; approval: string | null }> {
  const MAX_REPLANS = 3;
  const limits = { maxMovesPerBroker: input.maxMovesPerBroker, maxMovesPerCluster: input.maxMovesPerCluster, oneNewReplicaAtATime: input.oneNewReplicaAtATime };
  for (let attempt = 1; ; attempt++) {
    const planned = await controls.step(attempt === 1 ? 'plan the reassignment' : `re-plan (attempt ${attempt})`, () => planning.planReassignmentFor(input.cluster, input.goal, limits));
    if (planned.inFlight.count > 0) {
      throw unsafeToProceed(
        `${planned.inFlight.count} partition reassignments are already in flight (${planned.inFlight.first
          .map((r) => `${r.topic}-${r.partition}`)
          .join(', ')}${planned.inFlight.count > planned.inFlight.first.length ? ', ...' : ''}): wait for them to finish or cancel them first`,
      );
    }
    // What is approved is what any worker will load: every stored copy is read back first.
    await controls.step('read the stored plan back from the hosts', () => read.checkStoredPlan(input.cluster, planned.ref));
    publish(planned);
    controls.extraDetails = planned.markdown;
    const summary =
      `${planned.goal}: move ${planned.stats.replicasMoved} replicas` +
      (planned.stats.bytesMoved !== null ? ` (${formatBytes(planned.stats.bytesMoved)})` : '') +
      `, lower bound ${planned.stats.lowerBound}; ${planned.leaderChanges} leader changes; ${planned.batches} batches` +
      (input.throttleBytesPerSec ? `; throttle ${formatBytes(input.throttleBytesPerSec)}/s` : '; unthrottled');
    controls.setDetail(summary);
    if (planned.moves === 0 && planned.leaderChanges === 0) return { plan: planned, approval: null };
    let approver: string | null = null;
    if (input.approval === 'required') {
      const decision = await controls.requireApproval('approve-plan', `${summary}. Plan ${planned.fingerprint}; see the details for the summary and the first moves.`);
      approver = decision.approver;
    }
    // The cluster may have changed while the plan waited for approval: execute only the plan that was shown.
    const now = await controls.step('check the cluster has not changed under the plan', () => planning.fingerprintReassignmentFor(input.cluster, input.goal));
    if (now.fingerprint === planned.fingerprint && now.inFlight === 0) return { plan: planned, approval: approver };
    controls.note(`the cluster changed since plan ${planned.fingerprint} was made (now ${now.fingerprint}); planning again`);
    await controls.step(`remove the superseded plan ${planned.fingerprint} from the hosts`, () => change.discardReassignmentPlan(input.cluster, planned.ref));
    if (attempt >= MAX_REPLANS) throw unsafeToProceed(`the cluster kept changing under the plan (${MAX_REPLANS} plans made); stopping so a human can look`);
  }
}

/** One batch of the stored plan: throttle, submit, wait, unthrottle; its undo cancels the moves and removes the throttles. */
async function executeBatch(controls: RunbookControls, exec: BatchExecution, index: number): Promise<BatchReport> {
  const { cluster, ref } = exec;
  const label = `batch ${index + 1}/${exec.of}`;
  const sel = { kind: 'moves' as const, index };
  const started = Date.now();
  const undoThrottle = `remove the throttles of ${label}`;
  const undoMoves = `cancel the moves of ${label}`;
  const rate = exec.throttleBytesPerSec;
  if (rate !== null) {
    // Registered before applying: a half-applied throttle is undone too (the restore is stored before anything is set).
    controls.onUndo(undoThrottle, async () => void (await change.removeBatchThrottles(cluster, ref, index)));
    await controls.step(`${label}: set replication throttles`, () => change.setBatchThrottles(cluster, ref, index, rate));
  }
  controls.onUndo(undoMoves, async () => void (await change.cancelReassignmentBatch(cluster, ref, sel)));
  const submitted = await controls.step(`${label}: submit its moves`, () => change.submitReassignmentBatch(cluster, ref, sel));
  const partitions = submitted.submitted + submitted.alreadyInFlight + submitted.alreadyDone;
  controls.setDetail(`${label}: copying ${partitions} partitions`);
  const wait = await controls.step(
    `${label}: wait for the new replicas to join the ISR`,
    () => waits(exec.batchTimeoutMinutes).waitForReassignmentBatch(cluster, ref, sel, { timeoutMs: exec.batchTimeoutMinutes * 60_000, throttleRateBytesPerSec: rate }),
    { interruptible: true },
  );
  if (wait.outcome !== 'done') {
    // Stuck or too slow: stop (the undo steps cancel the moves and remove the throttles) and let a human look.
    throw unsafeToProceed(`${label} did not finish (${wait.outcome} after ${formatDuration(wait.elapsedMs)}): ${describeProgress(wait.progress)}`);
  }
  controls.forgetUndo(undoMoves);
  if (rate !== null) {
    await controls.step(`${label}: remove replication throttles`, () => change.removeBatchThrottles(cluster, ref, index));
    controls.forgetUndo(undoThrottle);
  }
  return { index, partitions, durationMs: Date.now() - started };
}
