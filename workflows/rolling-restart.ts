import { ActivityFailure, ApplicationFailure, executeChild, ParentClosePolicy, patched, workflowInfo } from '@temporalio/workflow';
import type { NodeConfigBackup, NodeVersion } from '../activities/nodes';
import type { MigrationConfigEdit } from '../src/migration/config';
import { aborted, invalidInput, unsafeToProceed } from '../src/errors';
import type { QuorumObservation } from '../src/model/cluster';
import { type GateDecision } from '../src/names';
import {
  type FinalizeReport,
  installSourceFor,
  type NodeReport,
  NodeWaitFailure,
  renderRollingPlan,
  renderRollingReport,
  requiresApproval,
  type PlannedNode,
  type RestartBatch,
  type RollingPlan,
  type RollingRestartInput,
  rollingRestartInput,
  type RollingRestartInputRaw,
  type RollingRestartResult,
  expandRollingPlan,
  sliceBatches,
} from '../src/rolling';
import { clusterNamedIn } from '../src/runbooks/input';
import { ActivityKind, proxyByKind, proxyOfKind, proxyWaits, parsedInput } from './activity-options';
import { type Actor, GateKind } from '../src/approvals/identity';
import { describe, RunbookControls, settleAll } from './controls';

export type { NodeReport, RollingRestartResult } from '../src/rolling';

const read = proxyOfKind(ActivityKind.Read);
const lock = proxyOfKind(ActivityKind.Lock);
const host = proxyByKind();
/** Waits poll inside the activity (about once a second) and heartbeat; a timeout comes back to the workflow to ask a human. */
const waitFor = (timeoutSeconds: number) => proxyWaits(timeoutSeconds * 1000);

/** What one pass over the nodes changes on each node while it is down. */
export interface Roll {
  /** Prefix of step and gate names; empty for the main roll. */
  label: string;
  /** Switch each node's binaries to this version (an upgrade). */
  targetVersion: string | null;
  /** ZooKeeper-mode finalize: set inter.broker.protocol.version to this release's major.minor. */
  protocolFor: string | null;
  /** A ZooKeeper-to-KRaft migration roll: this server.properties edit on each node while it is down (absent in runs before the migration existed). */
  migrationEdit?: MigrationConfigEdit | null;
}

/**
 * rollingRestart: restart, or upgrade when `targetVersion` is set, every node of a cluster, one batch at a time.
 * Guarantees:
 * - preflight refuses (before touching anything) a cluster with unregistered brokers, offline or under-min-ISR
 *   partitions, reassignments in flight or unreachable hosts;
 * - a batch goes down only when the restart guards allow it (min ISR per Strimzi's rule, KRaft quorum majority,
 *   no broker in log recovery), checked right before it; if they do not within the guard timeout, a human
 *   chooses retry, skip or abort;
 * - controllers before brokers, the active controller last; a node is back (registered and in every ISR, or a
 *   caught-up voter) and its preferred leaders elected before the next batch goes down;
 * - a node that does not come back is rolled back (upgrade) and the run stops at a gate: no further node is touched;
 * - a forced kill and the irreversible finalize happen only after explicit approval, and the finalize only once
 *   every node of the cluster runs the target version (ZooKeeper mode: with its second rolling restart);
 * - a worker restart resumes the step it was in: no node is restarted twice, no wait is skipped;
 * - history stays bounded: the cluster's metadata is read and the plan made on the worker, and a restart of
 *   more than `nodesPerSlice` nodes runs its batches in child workflows (`<run ID>/slice-<n>`) of about that
 *   many nodes each, one after another, each with its own undo; this run holds the cluster lock throughout.
 */
export async function rollingRestart(rawInput: RollingRestartInputRaw): Promise<RollingRestartResult> {
  const cluster = clusterNamedIn(rawInput);
  const { workflowId } = workflowInfo();
  const controls = new RunbookControls({
    runbook: 'rollingRestart',
    cluster,
    approvers: (rawInput as { approvers?: string[] } | null)?.approvers ?? null,
    input: rawInput,
    // A migration roll runs as a child of migrateToKRaft, which holds the cluster lock for the whole migration.
    lock: underMigration(rawInput)
      ? undefined
      : {
          acquire: () => lock.acquireClusterLock({ cluster, workflowId, runbook: 'rollingRestart' }),
          release: () => lock.releaseClusterLock({ cluster, workflowId }),
        },
  });
  const started = Date.now();
  const slices: Slices = { decisions: [], ids: [] };
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('rollingRestart', rollingRestartInput, rawInput));
    if (input.migrationEdit && !workflowInfo().parent) throw invalidInput('migrationEdit: set only by the migrateToKRaft runbook, which runs this restart as its child under its lock');
    const { plan, quorum } = await controls.step('preflight: the cluster is healthy and every host answers', () => preflight(input, true));
    controls.extraDetails = renderRollingPlan(plan, input);
    const reports = reportsFor(plan);
    const main: Roll = { label: '', targetVersion: input.targetVersion ?? null, protocolFor: null };
    if (input.migrationEdit) Object.assign(main, { label: 'migration roll: ', migrationEdit: input.migrationEdit });
    await rollInSlices(controls, slices, input, plan, reports, main, quorum);
    let finalized: FinalizeReport | null = null;
    let finalizeSkipped: string | null = null;
    if (input.targetVersion) {
      const outcome = await finalize(controls, slices, input, plan.mode);
      if (typeof outcome === 'string') finalizeSkipped = outcome;
      else finalized = outcome;
    }
    const nodes = [...reports.values()];
    controls.setDetail(`done: ${nodes.filter((r) => r.outcome === 'restarted').length} nodes restarted`);
    const result = {
      targetVersion: input.targetVersion ?? null,
      batches: plan.batches.length,
      nodes,
      finalized,
      finalizeSkipped,
      // Gates answered in the slices' child workflows, then this run's own, in the order they were decided.
      gates: [...slices.decisions, ...controls.decisions].sort((a, b) => a.at.localeCompare(b.at)).map((d) => ({ gate: d.gate, outcome: d.outcome, approver: d.approver, reason: d.reason })),
      controlRequests: controls.controlRequests,
      wallMs: Date.now() - started,
    };
    const markdown = renderRollingReport(result, input.cluster);
    controls.extraDetails = markdown;
    return { ...result, markdown };
  });
}

async function preflight(input: RollingRestartInput, checkTarget: boolean): Promise<{ plan: RollingPlan; quorum: QuorumObservation | null }> {
  // Health and plan on the worker: the metadata of every partition would not fit in history on a large cluster.
  const { plan: compact, quorum, blocking } = await host.planRollingRestartFor(input.cluster, input);
  if (blocking.count > 0) {
    const more = blocking.count > blocking.first.length ? ` (${blocking.count - blocking.first.length} more blocking findings)` : '';
    throw unsafeToProceed(`not starting: ${blocking.first.map((f) => f.message).join(' ')}${more}`, { findings: blocking.first, count: blocking.count });
  }
  const plan = expandRollingPlan(compact);
  if (plan.problems.length > 0) throw invalidInput(`cannot plan this restart: ${plan.problems.join(' ')}`);
  if (checkTarget && input.targetVersion) {
    const target = input.targetVersion;
    const checks = await Promise.all(plan.nodes.map((n) => host.checkTargetVersion(input.cluster, n.host, target, installSourceFor(input, n.host))));
    const missing = checks.filter((c) => !c.ok);
    if (missing.length > 0) throw unsafeToProceed(`Kafka ${target} is not available on every host: ${missing.map((m) => `${m.host}: ${m.detail}`).join('; ')}`);
  }
  return { plan, quorum };
}

function reportsFor(plan: RollingPlan): Map<string, NodeReport> {
  return new Map(plan.nodes.map((n) => [n.host, newReport(n)]));
}

function newReport(n: PlannedNode): NodeReport {
  return { host: n.host, nodeId: n.nodeId, oldVersion: null, newVersion: null, downMs: null, guardWaitMs: 0, outcome: 'not-started', note: null };
}

/** The slices' child workflows of a run: their gate decisions and their IDs. */
interface Slices {
  decisions: GateDecision[];
  ids: string[];
}

/** One pass over the plan's batches: in this run, or in child workflows of `nodesPerSlice` nodes each when the plan is larger. */
async function rollInSlices(
  controls: RunbookControls,
  slices: Slices,
  input: RollingRestartInput,
  plan: RollingPlan,
  reports: Map<string, NodeReport>,
  change: Roll,
  preflightQuorum: QuorumObservation | null,
): Promise<void> {
  const total = plan.batches.length;
  const parts = sliceBatches(plan.batches, input.nodesPerSlice);
  if (parts.length <= 1) {
    await roll(controls, input, { batches: plan.batches, first: 0, total }, reports, change, preflightQuorum);
    return;
  }
  let recentQuorum = preflightQuorum;
  for (const [k, part] of parts.entries()) {
    const childId = `${workflowInfo().workflowId}/${gatePrefix(change)}slice-${k + 1}`;
    slices.ids.push(childId);
    controls.setDetail(`${change.label}batches ${part.from + 1} to ${part.to} of ${total} (${part.nodes} nodes) run in child workflow \`${childId}\`: its gates are answered there`);
    // An abort or Cancel here cancels the child, which finishes the step changing a node and runs its undo; the
    // child owns that undo (start a stopped node again), so a terminated parent must let it run (REQUEST_CANCEL).
    const done = await controls.child(`${change.label}batches ${part.from + 1}-${part.to} of ${total} (child workflow)`, childId, () =>
      executeChild(rollingRestartSlice, {
        workflowId: childId,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `rollingRestart on ${input.cluster}: ${change.label}batches ${part.from + 1}-${part.to} of ${total} (${part.nodes} nodes)`,
        args: [{ input, change, batches: plan.batches.slice(part.from, part.to), first: part.from, total, recentQuorum, ...controls.childIdentity }],
      }),
    );
    for (const r of done.reports) reports.set(r.host, r);
    slices.decisions.push(...done.decisions);
    recentQuorum = done.quorum;
  }
}

/** A slice of a rolling restart's batches, as its child workflow gets it. */
export interface RollingRestartSliceInput {
  input: RollingRestartInput;
  change: Roll;
  batches: RestartBatch[];
  /** Index of the first batch in the whole plan, and the plan's batch count (for names and approvals). */
  first: number;
  total: number;
  recentQuorum: QuorumObservation | null;
  /** Who started the parent run: the slice's gates hold separation of duties against them. */
  runStarter?: Actor;
}

export interface RollingRestartSliceResult {
  reports: NodeReport[];
  decisions: GateDecision[];
  /** The latest quorum read that showed the cluster healthy, for the next slice's first guard. */
  quorum: QuorumObservation | null;
}

/**
 * rollingRestartSlice: consecutive batches of a rolling restart, with the guards, gates and undo of the whole
 * (see rollingRestart). Started by rollingRestart, which holds the cluster lock; not for starting by hand.
 */
export async function rollingRestartSlice(args: RollingRestartSliceInput): Promise<RollingRestartSliceResult> {
  const { parent } = workflowInfo();
  const controls = new RunbookControls({ runbook: 'rollingRestart', cluster: clusterNamedIn(args?.input), approvers: args?.input?.approvers ?? null, input: args });
  return controls.run(async () => {
    if (!parent) throw invalidInput('rollingRestartSlice runs only as a child of rollingRestart, which checks the cluster, plans and holds the cluster lock');
    const reports = new Map(args.batches.flatMap((b) => b.nodes).map((n): [string, NodeReport] => [n.host, newReport(n)]));
    const quorum = await roll(controls, args.input, { batches: args.batches, first: args.first, total: args.total }, reports, args.change, args.recentQuorum);
    return { reports: [...reports.values()], decisions: controls.decisions, quorum };
  });
}

/**
 * One pass over consecutive batches of the plan. A batch's leader elections and canary overlap the next
 * batch's guard and preparation; the next batch goes down only after both. Returns the latest healthy quorum read.
 */
async function roll(
  controls: RunbookControls,
  input: RollingRestartInput,
  part: { batches: RestartBatch[]; first: number; total: number },
  reports: Map<string, NodeReport>,
  change: Roll,
  preflightQuorum: QuorumObservation | null,
): Promise<QuorumObservation | null> {
  // The latest quorum read that showed the cluster healthy: the next guard may use it while fresh.
  let recentQuorum = preflightQuorum;
  let afterPrevious: Promise<void> = Promise.resolve();
  for (const [k, batch] of part.batches.entries()) {
    const i = part.first + k;
    controls.setDetail(`${change.label}batch ${i + 1} of ${part.total}: ${batch.nodes.map((n) => n.host).join(', ')}`);
    const [prepared]: [Map<string, PreparedNode> | 'skip', void] = await Promise.all([prepareBatch({ controls, input, change, batch, i, reports }, recentQuorum), afterPrevious]);
    if (prepared === 'skip') continue;
    // A node that fails must not start the undo steps while its batch mates are mid-step: every node ends first.
    const back: NodeBack[] = await settleAll(batch.nodes.map((n) => restartNode(controls, input, change, n, reports.get(n.host) as NodeReport, prepared.get(n.host) as PreparedNode)));
    recentQuorum = back.map((b) => b.quorum).find((q) => q !== null) ?? null;
    afterPrevious = settleBatch(controls, input, change, i, back);
  }
  await afterPrevious;
  return recentQuorum;
}

/** One batch of one roll, as the steps around it see it. */
interface BatchRun {
  controls: RunbookControls;
  input: RollingRestartInput;
  change: Roll;
  batch: RestartBatch;
  /** Its index in the plan. */
  i: number;
  reports: Map<string, NodeReport>;
}

interface PreparedNode {
  version: NodeVersion;
  backup: NodeConfigBackup;
}

/**
 * Before a batch goes down: its approval when the policy asks, then the guard wait and, alongside it, each
 * node's version and a config backup (read-only on the cluster; a skipped node just keeps an unused backup).
 */
async function prepareBatch(b: BatchRun, recentQuorum: QuorumObservation | null): Promise<Map<string, PreparedNode> | 'skip'> {
  const { controls, input, change, batch, i } = b;
  const c = input.cluster;
  if (requiresApproval(input, { kind: 'batch', index: i })) {
    const what = change.targetVersion ? ` on ${change.targetVersion}` : change.protocolFor ? ' with the new protocol version' : '';
    await controls.requireApproval(`${gatePrefix(change)}batch-${i + 1}`, `restart ${batch.nodes.map((n) => n.host).join(', ')}${what}?`);
  }
  const [go, ...prepared] = await settleAll([
    waitUntilSafe(b, recentQuorum),
    ...batch.nodes.map(async (n): Promise<[string, PreparedNode]> => {
      const [version, backup] = await Promise.all([
        controls.step(`${change.label}${n.host}: read its version`, () => host.readNodeVersion(c, n.host)),
        controls.step(`${change.label}${n.host}: back up the config`, () => host.backupNodeConfig(c, n.host)),
      ]);
      return [n.host, { version, backup }];
    }),
  ]);
  return go === 'skip' ? 'skip' : new Map(prepared);
}

/** After a batch is back: its nodes' leader elections (started as each broker came back), then the canary. */
async function settleBatch(controls: RunbookControls, input: RollingRestartInput, change: Roll, i: number, back: NodeBack[]): Promise<void> {
  await Promise.all(back.map((b) => b.elected));
  if (input.canaryTopic) {
    const topic = input.canaryTopic;
    await controls.step(`${change.label}batch ${i + 1}: canary produce and consume on ${topic}`, () => host.canaryRoundTrip(input.cluster, topic));
  }
}

/**
 * Waits for the guards to allow the batch (a broker in log recovery counts as not allowed); past the guard
 * timeout a human decides. Never proceeds unguarded.
 */
async function waitUntilSafe(b: BatchRun, recentQuorum: QuorumObservation | null): Promise<'go' | 'skip'> {
  const { controls, input, change, batch, i, reports } = b;
  const nodes = batch.nodes.map((n) => ({ nodeId: n.nodeId, roles: n.roles }));
  const timeoutMs = input.timeouts.guardWaitSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    const t0 = Date.now();
    try {
      // A retry after a human looked reads the quorum afresh.
      const recent = attempt === 1 ? recentQuorum : null;
      await controls.step(`${change.label}batch ${i + 1}: wait until it is safe to restart`, () => waitFor(input.timeouts.guardWaitSeconds).waitForRestartAllowed(input.cluster, nodes, timeoutMs, { recentQuorum: recent }), {
        interruptible: true,
      });
      for (const n of batch.nodes) (reports.get(n.host) as NodeReport).guardWaitMs += Date.now() - t0;
      return 'go';
    } catch (err) {
      if (!isWaitTimeout(err, NodeWaitFailure.GuardWaitTimeout)) throw err;
      for (const n of batch.nodes) (reports.get(n.host) as NodeReport).guardWaitMs += Date.now() - t0;
      const d = await controls.gate(`${gatePrefix(change)}guard-batch-${i + 1}-${attempt}`, `${batch.nodes.map((n) => n.host).join(', ')} still not safe to restart: ${describe(err)}`, {
        choices: ['retry', 'skip', 'abort'],
      });
      if (d.outcome === 'rejected' || d.choice === 'abort') throw aborted(`stopped at the guard of ${change.label}batch ${i + 1} by ${d.approver}`);
      if (d.choice === 'skip') {
        for (const n of batch.nodes) Object.assign(reports.get(n.host) as NodeReport, { outcome: 'skipped', note: `skipped by ${d.approver}` });
        return 'skip';
      }
    }
  }
}

/** Migration rolls with a KRaft controller active no longer wait for the stopped broker to leave the metadata. */
const FENCED_BROKER_STAYS_PATCH = 'migration-roll-fenced-broker-stays';
/** ZooKeeper mode: the finalize waits for the brokers only (controller hosts there are the migration's, not yet running). */
const ZK_FINALIZE_BROKERS_PATCH = 'zk-finalize-waits-for-brokers-only';

interface NodeBack {
  /** The quorum read that showed a controller caught up (null for a broker-only node). */
  quorum: QuorumObservation | null;
  /** Its preferred leader election, started once the broker was back in every ISR. */
  elected: Promise<void>;
}

/** Stop, (switch version or bump the protocol), start, and wait until the node is back; on failure roll back and halt. */
async function restartNode(controls: RunbookControls, input: RollingRestartInput, change: Roll, node: PlannedNode, report: NodeReport, prepared: PreparedNode): Promise<NodeBack> {
  const c = input.cluster;
  const h = node.host;
  const t = input.timeouts;
  const step = <T>(name: string, fn: () => Promise<T>, opts?: { interruptible?: boolean }) => controls.step(`${change.label}${h}: ${name}`, fn, opts);
  const { version, backup } = prepared;
  report.oldVersion = version.runningVersion ?? version.linkVersion;
  const down = Date.now();
  // From here until it has started again, an abort or failure must not leave this node down.
  const undoStart = `start ${h} again`;
  controls.onUndo(undoStart, async () => void (await host.startNode(c, h)));
  await step('stop (controlled shutdown)', () => host.stopNode(c, h));
  try {
    await step('wait for the process to exit', () => waitFor(t.stopSeconds).waitForProcessExit(c, h, t.stopSeconds * 1000), { interruptible: true });
  } catch (err) {
    if (!isWaitTimeout(err, NodeWaitFailure.StopTimeout)) throw err;
    if (requiresApproval(input, { kind: 'force-kill', host: h })) {
      await controls.requireApproval(`${gatePrefix(change)}force-kill-${h}`, `${h} did not stop within ${t.stopSeconds} s. Kill it (SIGKILL)? It will recover its logs on start.`, { kind: GateKind.ForceKill });
    }
    await step('kill', () => host.killNode(c, h));
    await step('wait for the process to exit after the kill', () => waitFor(60).waitForProcessExit(c, h, 60_000));
  }
  // With a KRaft controller active (dual-write), a stopped broker stays registered (fenced) and the ZooKeeper-mode
  // brokers keep listing it: it never leaves the metadata (seen on the lab), so the catch-up after the start guards.
  // patched(): migration rolls recorded before this change waited here (test/workflow/histories).
  const controllerKeepsIt = (change.migrationEdit?.kind === 'enter-kraft-mode' || change.migrationEdit?.kind === 'back-to-migration-mode') && patched(FENCED_BROKER_STAYS_PATCH);
  if (node.roles.includes('broker') && !controllerKeepsIt) await step('wait until it left the cluster metadata', () => waitFor(t.registrationSeconds).waitForBrokerDeregistered(c, node.nodeId, t.registrationSeconds * 1000));
  // Rolled back to the link read before the stop: a retried switch reports the new link as its "previous" one.
  const linkBefore = change.targetVersion ? version.linkTarget : null;
  const undoChange = `put ${h} back as it was`;
  if (change.targetVersion || change.protocolFor || change.migrationEdit) {
    controls.onUndo(undoChange, async () => {
      if (linkBefore) await host.restoreVersionLink(c, h, linkBefore);
      await host.restoreNodeConfig(c, h, backup.path);
    });
  }
  if (change.targetVersion) {
    const target = change.targetVersion;
    await step(`switch to ${target}`, () => host.switchVersion(c, h, target, installSourceFor(input, h)));
    await step('carry the config over', () => host.carryOverNodeConfig(c, h, { runningVersion: report.oldVersion ?? target, targetVersion: target }));
  }
  if (change.protocolFor) {
    const release = change.protocolFor;
    await step(`set inter.broker.protocol.version for ${release}`, () => host.bumpNodeProtocolVersion(c, h, release));
  }
  if (change.migrationEdit) {
    const edit = change.migrationEdit;
    await step(`migration config: ${edit.kind}`, () => host.editMigrationConfig(c, h, edit));
  }
  try {
    await step('start', () => host.startNode(c, h));
    // Started: it runs a definite version and config now; an abort from here on leaves it as it is.
    controls.forgetUndo(undoChange);
    controls.forgetUndo(undoStart);
    await waitUntilBrokerBack(controls, input, change, node);
    // The election needs only the broker side back: it runs while the controller side catches up and the next batch is checked.
    const elected = node.roles.includes('broker') && input.preferredLeaderElection ? handledLater(step('elect its preferred leaders', () => host.restorePreferredLeaders(c, { preferredLeader: node.nodeId }))) : Promise.resolve();
    const quorum = await waitUntilControllerBack(controls, input, change, node);
    report.downMs = Date.now() - down;
    report.newVersion = change.targetVersion ?? report.oldVersion;
    report.outcome = 'restarted';
    return { quorum, elected: elected.then(() => undefined) };
  } catch (err) {
    if (controls.abortRequested || !(err instanceof ActivityFailure)) throw err;
    report.outcome = 'failed';
    report.note = describe(err);
    const changed = change.targetVersion !== null || change.protocolFor !== null || Boolean(change.migrationEdit);
    if (changed) {
      const what = change.targetVersion ? `on ${change.targetVersion}` : change.migrationEdit ? `with the migration config (${change.migrationEdit.kind})` : 'with the new inter.broker.protocol.version';
      if (requiresApproval(input, { kind: 'rollback', host: h })) {
        await controls.requireApproval(`${gatePrefix(change)}rollback-${h}`, `${h} did not come back ${what}: ${describe(err)}. Roll it back to ${report.oldVersion} and its previous config?`);
      }
      await step('stop for the rollback', () => host.stopNode(c, h));
      await step('wait for exit', () => waitFor(t.stopSeconds).waitForProcessExit(c, h, t.stopSeconds * 1000));
      if (linkBefore) await step('restore the previous version link', () => host.restoreVersionLink(c, h, linkBefore));
      await step('restore the config backup', () => host.restoreNodeConfig(c, h, backup.path));
      await step('start the previous version', () => host.startNode(c, h));
      await waitUntilBrokerBack(controls, input, change, node);
      await waitUntilControllerBack(controls, input, change, node);
      report.outcome = 'rolled-back';
      report.newVersion = report.oldVersion;
    }
    // Whatever happened to this node, no further node is touched until a human has looked.
    await controls.gate(`${gatePrefix(change)}halted-at-${h}`, `${h} failed to come back healthy${changed ? ` and was rolled back to ${report.oldVersion}` : ''}: ${describe(err)}. The run stops here; no other node was touched.`, {
      choices: ['abort'],
    });
    throw unsafeToProceed(`${h} failed to come back healthy: ${report.note}`);
  }
}

async function waitUntilBrokerBack(controls: RunbookControls, input: RollingRestartInput, change: Roll, node: PlannedNode): Promise<void> {
  const c = input.cluster;
  const t = input.timeouts;
  if (!node.roles.includes('broker')) return;
  await controls.step(`${change.label}${node.host}: wait until registered`, () => waitFor(t.registrationSeconds).waitForBrokerRegistered(c, node.nodeId, t.registrationSeconds * 1000), { interruptible: true });
  await controls.step(`${change.label}${node.host}: wait until back in every ISR`, () => waitFor(t.catchUpSeconds).waitForBrokerCaughtUp(c, node.nodeId, t.catchUpSeconds * 1000), { interruptible: true });
}

async function waitUntilControllerBack(controls: RunbookControls, input: RollingRestartInput, change: Roll, node: PlannedNode): Promise<QuorumObservation | null> {
  const t = input.timeouts;
  if (!node.roles.includes('controller')) return null;
  const r = await controls.step(`${change.label}${node.host}: wait until the quorum has caught up`, () => waitFor(t.catchUpSeconds).waitForQuorumCaughtUp(input.cluster, node.nodeId, t.catchUpSeconds * 1000), {
    interruptible: true,
  });
  return r.observation;
}

/**
 * The irreversible step, only once every node of the cluster runs the target and after an approval that says
 * it cannot be undone. KRaft: metadata.version. ZooKeeper mode: inter.broker.protocol.version, which takes a
 * second rolling restart. Returns why it did not run when it did not need to or could not.
 */
async function finalize(controls: RunbookControls, slices: Slices, input: RollingRestartInput, mode: 'kraft' | 'zookeeper'): Promise<FinalizeReport | string> {
  const target = input.targetVersion as string;
  const hosts = await controls.step('finalize: check every node runs the target version', () => read.inspectHosts(input.cluster));
  const counts = (h: { roles: string[] }) => h.roles.includes('broker') || (h.roles.includes('controller') && !(mode === 'zookeeper' && patched(ZK_FINALIZE_BROKERS_PATCH)));
  const behind = hosts.filter((h) => counts(h) && (h.kafkaVersion !== target || h.processRunning !== true));
  if (behind.length > 0) {
    const why = `not every node runs ${target} yet (${behind.map((h) => `${h.host}: ${h.kafkaVersion ?? 'unknown'}${h.processRunning === true ? '' : ', not running'}`).join('; ')}); finalize once they all do.`;
    controls.note(`finalize skipped: ${why}`);
    return why;
  }
  if (mode === 'zookeeper') return finalizeProtocolVersion(controls, slices, input, target);
  await controls.requireApproval(
    'finalize',
    `Every node runs ${target}. Finalize: upgrade metadata.version to ${target}? IRREVERSIBLE: after this the cluster cannot be downgraded to the previous version.`,
    { kind: GateKind.Irreversible },
  );
  const r = await controls.step(`finalize: upgrade metadata.version to ${target}`, () => host.finalizeMetadataVersion(input.cluster, target));
  return { feature: 'metadata.version', before: r.before, after: r.after, roll: null };
}

async function finalizeProtocolVersion(controls: RunbookControls, slices: Slices, input: RollingRestartInput, target: string): Promise<FinalizeReport | string> {
  const pins = await controls.step('finalize: read inter.broker.protocol.version on every broker', () => host.readProtocolVersionPins(input.cluster, target));
  const refused = pins.filter((p) => p.problems.length > 0);
  if (refused.length > 0) throw unsafeToProceed(`cannot finalize: ${refused.map((p) => `${p.host}: ${p.problems.join(' ')}`).join('; ')}`);
  const toBump = pins.filter((p) => p.needsBump);
  const release = target.split('.').slice(0, 2).join('.');
  if (toBump.length === 0) return `no broker pins inter.broker.protocol.version below ${release}: the brokers already speak ${target}'s protocol.`;
  await controls.requireApproval(
    'finalize',
    `Every broker runs ${target}. Finalize: set inter.broker.protocol.version=${release} on ${toBump.map((p) => p.host).join(', ')} (now ${[...new Set(toBump.map((p) => p.pinned))].join(', ')}) ` +
      `and restart them one by one? IRREVERSIBLE: once they speak the new protocol the cluster cannot be downgraded to the previous version.`,
    { kind: GateKind.Irreversible },
  );
  // A second pass, planned afresh: the controller may have moved during the first.
  const bumpInput: RollingRestartInput = { ...input, targetVersion: undefined, nodes: toBump.map((p) => p.host) };
  const { plan } = await controls.step('finalize: preflight for the protocol roll', () => preflight(bumpInput, false));
  const reports = reportsFor(plan);
  await rollInSlices(controls, slices, bumpInput, plan, reports, { label: 'protocol roll: ', targetVersion: null, protocolFor: target }, null);
  const after = await controls.step('finalize: check every broker speaks the new protocol', () => read.readBrokerConfig(input.cluster, 'inter.broker.protocol.version'));
  const lagging = after.filter((b) => !(b.value ?? '').startsWith(release));
  if (lagging.length > 0) throw unsafeToProceed(`after the protocol roll, brokers still report an older inter.broker.protocol.version: ${lagging.map((b) => `${b.nodeId}: ${b.value ?? 'unknown'}`).join('; ')}`);
  return { feature: 'inter.broker.protocol.version', before: toBump[0]?.pinned ?? null, after: after[0]?.value ?? null, roll: [...reports.values()] };
}

/** Started by migrateToKRaft with a migration edit: runs under the parent's cluster lock (the field is refused without a parent). */
function underMigration(raw: unknown): boolean {
  return workflowInfo().parent !== undefined && typeof raw === 'object' && raw !== null && (raw as { migrationEdit?: unknown }).migrationEdit !== undefined;
}

function gatePrefix(change: Roll): string {
  return change.protocolFor ? 'protocol-' : '';
}

/** Started now, awaited later: marks a rejection as handled until then, so it is not reported as unhandled. */
function handledLater<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function isWaitTimeout(err: unknown, type: string): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === type;
}
