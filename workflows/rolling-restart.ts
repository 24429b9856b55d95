import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { aborted, invalidInput, unsafeToProceed } from '../src/errors';
import { evaluateHealth, FindingCode } from '../src/health';
import { installSourceFor, NodeWaitFailure, planRollingRestart, renderRollingPlan, requiresApproval, type PlannedNode, type RestartBatch, type RollingRestartInput, rollingRestartInput, type RollingRestartInputRaw } from '../src/rolling';
import { clusterNamedIn, parseRunbookInput } from '../src/runbooks/input';
import { CHANGE_OPTIONS, LOCK_OPTIONS, READ_OPTIONS } from './activity-options';
import { describe, RunbookControls } from './controls';

const read = proxyActivities<Activities>(READ_OPTIONS);
const lock = proxyActivities<Activities>(LOCK_OPTIONS);
const host = proxyActivities<Activities>(CHANGE_OPTIONS);
/** Waits poll inside the activity (about once a second) and heartbeat; a timeout comes back to the workflow to ask a human. */
const waitFor = (timeoutSeconds: number) =>
  proxyActivities<Activities>({
    startToCloseTimeout: `${timeoutSeconds + 120} seconds`,
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3, nonRetryableErrorTypes: [...Object.values(NodeWaitFailure), 'InvalidInput', 'UnsafeToProceed', 'UnknownCluster'] },
  });

/** Findings that make a rolling restart unsafe to start. */
const BLOCKING = new Set<string>([
  FindingCode.BrokerNotRegistered,
  FindingCode.OfflinePartition,
  FindingCode.UnderMinIsr,
  FindingCode.ReassignmentInFlight,
  FindingCode.HostUnreachable,
  FindingCode.NoQuorumLeader,
  FindingCode.QuorumMajorityLost,
  FindingCode.NoController,
  FindingCode.MetadataUnavailable,
]);

export interface NodeReport {
  host: string;
  nodeId: number;
  oldVersion: string | null;
  newVersion: string | null;
  /** From the stop command to the node being caught up again. */
  downMs: number | null;
  /** Waiting for the guards before its batch. */
  guardWaitMs: number;
  outcome: 'restarted' | 'skipped' | 'rolled-back' | 'failed' | 'not-started';
  note: string | null;
}

export interface RollingRestartResult {
  targetVersion: string | null;
  batches: number;
  nodes: NodeReport[];
  finalized: { feature: string; before: string | null; after: string | null } | null;
  gates: { gate: string; outcome: string; approver: string; reason: string | null }[];
  wallMs: number;
}

/**
 * rollingRestart: restart, or upgrade when `targetVersion` is set, every node of a cluster, one batch at a time.
 * Guarantees:
 * - preflight refuses (before touching anything) a cluster with unregistered brokers, offline or under-min-ISR
 *   partitions, reassignments in flight or unreachable hosts;
 * - a batch goes down only when the restart guards allow it (min ISR per Strimzi's rule, KRaft quorum majority),
 *   re-checked right before it; if they do not within the guard timeout, a human chooses retry, skip or abort;
 * - controllers before brokers, the active controller last; a node is back (registered and in every ISR, or a
 *   caught-up voter) before the next batch starts;
 * - a node that does not come back is rolled back (upgrade) and the run stops at a gate: no further node is touched;
 * - a forced kill and the irreversible finalize happen only after explicit approval;
 * - a worker restart resumes the step it was in: no node is restarted twice, no wait is skipped.
 */
export async function rollingRestart(rawInput: RollingRestartInputRaw): Promise<RollingRestartResult> {
  const cluster = clusterNamedIn(rawInput);
  const { workflowId } = workflowInfo();
  const controls = new RunbookControls({
    runbook: 'rollingRestart',
    cluster,
    approvers: (rawInput as { approvers?: string[] } | null)?.approvers ?? null,
    lock: {
      acquire: () => lock.acquireClusterLock({ cluster, workflowId, runbook: 'rollingRestart' }),
      release: () => lock.releaseClusterLock({ cluster, workflowId }),
    },
  });
  const started = Date.now();
  return controls.run(async () => {
    const input = await controls.step('validate the input', async () => parseRunbookInput('rollingRestart', rollingRestartInput, rawInput));
    const plan = await controls.step('preflight: the cluster is healthy and every host answers', () => preflight(input));
    controls.extraDetails = renderRollingPlan(plan, input);
    const reports = new Map<string, NodeReport>(
      plan.nodes.map((n) => [n.host, { host: n.host, nodeId: n.nodeId, oldVersion: null, newVersion: null, downMs: null, guardWaitMs: 0, outcome: 'not-started', note: null }]),
    );
    const result: RollingRestartResult = { targetVersion: input.targetVersion ?? null, batches: plan.batches.length, nodes: [...reports.values()], finalized: null, gates: [], wallMs: 0 };
    const finish = () => {
      result.gates = controls.decisions.map((d) => ({ gate: d.gate, outcome: d.outcome, approver: d.approver, reason: d.reason }));
      result.wallMs = Date.now() - started;
      return result;
    };
    for (const [i, batch] of plan.batches.entries()) {
      const names = batch.nodes.map((n) => n.host).join(', ');
      controls.setDetail(`batch ${i + 1} of ${plan.batches.length}: ${names}`);
      if (requiresApproval(input, { kind: 'batch', index: i })) await controls.requireApproval(`batch-${i + 1}`, `restart ${names}${input.targetVersion ? ` on ${input.targetVersion}` : ''}?`);
      const go = await waitUntilSafe(controls, input, batch, i, reports);
      if (go === 'skip') continue;
      await Promise.all(batch.nodes.map((n) => restartNode(controls, input, n, reports.get(n.host) as NodeReport)));
      if (input.preferredLeaderElection && batch.nodes.some((n) => n.roles.includes('broker'))) {
        await controls.step(`batch ${i + 1}: elect preferred leaders`, () => host.restorePreferredLeaders(input.cluster, {}));
      }
      if (input.canaryTopic) {
        const topic = input.canaryTopic;
        await controls.step(`batch ${i + 1}: canary produce and consume on ${topic}`, () => host.canaryRoundTrip(input.cluster, topic));
      }
    }
    if (input.targetVersion) result.finalized = await finalize(controls, input, plan.mode);
    controls.setDetail(`done: ${[...reports.values()].filter((r) => r.outcome === 'restarted').length} nodes restarted`);
    return finish();
  });
}

async function preflight(input: RollingRestartInput) {
  const inventory = await read.describeInventory(input.cluster);
  const metadata = await read.readClusterMetadata(input.cluster);
  const quorum = inventory.mode === 'kraft' ? await read.readQuorumState(input.cluster) : null;
  const hosts = await read.inspectHosts(input.cluster);
  const withQuorum = { ...metadata, quorum };
  const report = evaluateHealth({ metadata: withQuorum, hosts, expected: inventory.expected, checkedAt: new Date().toISOString() });
  const blocking = report.findings.filter((f) => BLOCKING.has(f.code));
  if (blocking.length > 0) throw unsafeToProceed(`not starting: ${blocking.slice(0, 5).map((f) => f.message).join(' ')}`, { findings: blocking });
  const plan = planRollingRestart(input, { expected: inventory.expected, metadata: withQuorum, hosts });
  if (plan.problems.length > 0) throw invalidInput(`cannot plan this restart: ${plan.problems.join(' ')}`);
  if (input.targetVersion) {
    const target = input.targetVersion;
    const checks = await Promise.all(plan.nodes.map((n) => host.checkTargetVersion(input.cluster, n.host, target, installSourceFor(input, n.host))));
    const missing = checks.filter((c) => !c.ok);
    if (missing.length > 0) throw unsafeToProceed(`Kafka ${target} is not available on every host: ${missing.map((m) => `${m.host}: ${m.detail}`).join('; ')}`);
  }
  return plan;
}

/** Waits for the guards to allow the batch; past the guard timeout a human decides. Never proceeds unguarded. */
async function waitUntilSafe(controls: RunbookControls, input: RollingRestartInput, batch: RestartBatch, i: number, reports: Map<string, NodeReport>): Promise<'go' | 'skip'> {
  const nodes = batch.nodes.map((n) => ({ nodeId: n.nodeId, roles: n.roles }));
  for (let attempt = 1; ; attempt++) {
    const t0 = Date.now();
    try {
      await controls.step(`batch ${i + 1}: wait until it is safe to restart`, () => waitFor(input.timeouts.guardWaitSeconds).waitForRestartAllowed(input.cluster, nodes, input.timeouts.guardWaitSeconds * 1000), {
        interruptible: true,
      });
      for (const n of batch.nodes) (reports.get(n.host) as NodeReport).guardWaitMs += Date.now() - t0;
      // A node still recovering its logs must not be restarted again: recovery would start over.
      for (const n of batch.nodes.filter((x) => x.roles.includes('broker'))) {
        const state = await controls.step(`check ${n.host} is not recovering logs`, () => host.readBrokerState(input.cluster, n.host));
        if (state.state === 'RECOVERY') throw ApplicationFailure.create({ type: NodeWaitFailure.GuardWaitTimeout, message: `${n.host} is in RECOVERY (log recovery)` });
      }
      return 'go';
    } catch (err) {
      if (!isWaitTimeout(err, NodeWaitFailure.GuardWaitTimeout)) throw err;
      for (const n of batch.nodes) (reports.get(n.host) as NodeReport).guardWaitMs += Date.now() - t0;
      const d = await controls.gate(`guard-batch-${i + 1}-${attempt}`, `${batch.nodes.map((n) => n.host).join(', ')} still not safe to restart: ${describe(err)}`, {
        choices: ['retry', 'skip', 'abort'],
      });
      if (d.outcome === 'rejected' || d.choice === 'abort') throw aborted(`stopped at the guard of batch ${i + 1} by ${d.approver}`);
      if (d.choice === 'skip') {
        for (const n of batch.nodes) Object.assign(reports.get(n.host) as NodeReport, { outcome: 'skipped', note: `skipped by ${d.approver}` });
        return 'skip';
      }
    }
  }
}

/** Stop, (switch version), start, and wait until the node is back; on failure roll back and halt. */
async function restartNode(controls: RunbookControls, input: RollingRestartInput, node: PlannedNode, report: NodeReport): Promise<void> {
  const c = input.cluster;
  const h = node.host;
  const t = input.timeouts;
  const version = await controls.step(`${h}: read its version`, () => host.readNodeVersion(c, h));
  report.oldVersion = version.runningVersion ?? version.linkVersion;
  const backup = await controls.step(`${h}: back up the config`, () => host.backupNodeConfig(c, h));
  const down = Date.now();
  // From here until it has started again, an abort or failure must not leave this node down.
  const undoStart = `start ${h} again`;
  controls.onUndo(undoStart, async () => void (await host.startNode(c, h)));
  await controls.step(`${h}: stop (controlled shutdown)`, () => host.stopNode(c, h));
  try {
    await controls.step(`${h}: wait for the process to exit`, () => waitFor(t.stopSeconds).waitForProcessExit(c, h, t.stopSeconds * 1000), { interruptible: true });
  } catch (err) {
    if (!isWaitTimeout(err, NodeWaitFailure.StopTimeout)) throw err;
    if (requiresApproval(input, { kind: 'force-kill', host: h })) {
      await controls.requireApproval(`force-kill-${h}`, `${h} did not stop within ${t.stopSeconds} s. Kill it (SIGKILL)? It will recover its logs on start.`);
    }
    await controls.step(`${h}: kill`, () => host.killNode(c, h));
    await controls.step(`${h}: wait for the process to exit after the kill`, () => waitFor(60).waitForProcessExit(c, h, 60_000));
  }
  if (node.roles.includes('broker')) await controls.step(`${h}: wait until it left the cluster metadata`, () => waitFor(t.registrationSeconds).waitForBrokerDeregistered(c, node.nodeId, t.registrationSeconds * 1000));
  let switched: { previousTarget: string | null } | null = null;
  if (input.targetVersion) {
    const target = input.targetVersion;
    const undoSwitch = `put ${h} back on its previous version`;
    controls.onUndo(undoSwitch, async () => {
      if (switched?.previousTarget) await host.restoreVersionLink(c, h, switched.previousTarget);
      await host.restoreNodeConfig(c, h, backup.path);
    });
    switched = await controls.step(`${h}: switch to ${target}`, () => host.switchVersion(c, h, target, installSourceFor(input, h)));
    await controls.step(`${h}: carry the config over`, () => host.carryOverNodeConfig(c, h, { runningVersion: report.oldVersion ?? target, targetVersion: target }));
  }
  try {
    await controls.step(`${h}: start`, () => host.startNode(c, h));
    // Started: it runs a definite version now; an abort from here on leaves it as it is.
    controls.forgetUndo(`put ${h} back on its previous version`);
    controls.forgetUndo(undoStart);
    await waitUntilBack(controls, input, node);
    report.downMs = Date.now() - down;
    report.newVersion = input.targetVersion ?? report.oldVersion;
    report.outcome = 'restarted';
  } catch (err) {
    if (controls.abortRequested || !(err instanceof ActivityFailure)) throw err;
    report.outcome = 'failed';
    report.note = describe(err);
    if (switched) {
      const previous = switched.previousTarget;
      if (requiresApproval(input, { kind: 'rollback', host: h })) {
        await controls.requireApproval(`rollback-${h}`, `${h} did not come back on ${input.targetVersion}: ${describe(err)}. Roll it back to ${report.oldVersion}?`);
      }
      await controls.step(`${h}: stop for the rollback`, () => host.stopNode(c, h));
      await controls.step(`${h}: wait for exit`, () => waitFor(t.stopSeconds).waitForProcessExit(c, h, t.stopSeconds * 1000));
      if (previous) await controls.step(`${h}: restore the previous version link`, () => host.restoreVersionLink(c, h, previous));
      await controls.step(`${h}: restore the config backup`, () => host.restoreNodeConfig(c, h, backup.path));
      await controls.step(`${h}: start the previous version`, () => host.startNode(c, h));
      await waitUntilBack(controls, input, node);
      report.outcome = 'rolled-back';
      report.newVersion = report.oldVersion;
    }
    // Whatever happened to this node, no further node is touched until a human has looked.
    await controls.gate(`halted-at-${h}`, `${h} failed to come back healthy${switched ? ` and was rolled back to ${report.oldVersion}` : ''}: ${describe(err)}. The run stops here; no other node was touched.`, {
      choices: ['abort'],
    });
    throw unsafeToProceed(`${h} failed to come back healthy: ${report.note}`);
  }
}

async function waitUntilBack(controls: RunbookControls, input: RollingRestartInput, node: PlannedNode): Promise<void> {
  const c = input.cluster;
  const t = input.timeouts;
  if (node.roles.includes('broker')) {
    await controls.step(`${node.host}: wait until registered`, () => waitFor(t.registrationSeconds).waitForBrokerRegistered(c, node.nodeId, t.registrationSeconds * 1000), { interruptible: true });
    await controls.step(`${node.host}: wait until back in every ISR`, () => waitFor(t.catchUpSeconds).waitForBrokerCaughtUp(c, node.nodeId, t.catchUpSeconds * 1000), { interruptible: true });
  }
  if (node.roles.includes('controller')) {
    await controls.step(`${node.host}: wait until the quorum has caught up`, () => waitFor(t.catchUpSeconds).waitForQuorumCaughtUp(c, node.nodeId, t.catchUpSeconds * 1000), { interruptible: true });
  }
}

/** KRaft: bump metadata.version to the new release after an approval that says it is irreversible. */
async function finalize(controls: RunbookControls, input: RollingRestartInput, mode: 'kraft' | 'zookeeper'): Promise<RollingRestartResult['finalized']> {
  const target = input.targetVersion as string;
  if (mode === 'zookeeper') {
    // The IBP bump needs a second rolling restart with an edited config: not automated yet, so say so plainly.
    controls.note(`ZooKeeper mode: inter.broker.protocol.version stays pinned; bump it to ${target} and roll again by hand (not automated yet).`);
    return null;
  }
  await controls.requireApproval(
    'finalize',
    `Every node runs ${target}. Finalize: upgrade metadata.version to ${target}? IRREVERSIBLE: after this the cluster cannot be downgraded to the previous version.`,
  );
  const r = await controls.step(`finalize: upgrade metadata.version to ${target}`, () => host.finalizeMetadataVersion(input.cluster, target));
  return { feature: 'metadata.version', before: r.before, after: r.after };
}

function isWaitTimeout(err: unknown, type: string): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === type;
}
