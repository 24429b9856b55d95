import { executeChild, ParentClosePolicy, workflowInfo } from '@temporalio/workflow';
import { invalidInput, unsafeToProceed } from '../src/errors';
import { type NodeRole } from '../src/model/cluster';
import { describeGoal, type ReassignmentGoal } from '../src/reassignment';
import { DEFAULT_WAIT_MS } from '../src/rolling/failures';
import {
  addBrokersInput,
  type AddBrokersInput,
  changeReplicationFactorInput,
  type ChangeReplicationFactorInput,
  decommissionBrokerInput,
  type DecommissionBrokerInput,
  rebalanceLeadersInput,
  type RebalanceLeadersInput,
} from '../src/runbooks/brokers';
import { clusterNamedIn } from '../src/runbooks/input';
import { type ReassignmentExecution } from '../src/runbooks/reassignment';
import { ActivityKind, proxyByKind, proxyOfKind, proxyWaits, parsedInput } from './activity-options';
import { GateKind } from '../src/approvals/identity';
import { RunbookControls } from './controls';
import { reassignPartitions, type ReassignPartitionsResult } from './reassign-partitions';

const read = proxyOfKind(ActivityKind.Read);
const lock = proxyOfKind(ActivityKind.Lock);
const hostOps = proxyByKind();
/** Waits are allowed the user's timeout (ms): pass the same value to the activity. */
const waitFor = (timeoutMs: number) => proxyWaits(timeoutMs);

/** A disruptive runbook's controls: it holds the cluster lock for its whole run, its child reassignment included. */
function disruptive(runbook: string, rawInput: unknown): RunbookControls {
  const cluster = clusterNamedIn(rawInput);
  const { workflowId } = workflowInfo();
  return new RunbookControls({
    runbook,
    cluster,
    approvers: (rawInput as { approvers?: string[] } | null)?.approvers ?? null,
    input: rawInput,
    lock: {
      acquire: () => lock.acquireClusterLock({ cluster, workflowId, runbook }),
      release: () => lock.releaseClusterLock({ cluster, workflowId }),
    },
  });
}

/** Runs the reassignment as a child workflow; its plan is approved there (`<this workflow ID>/reassign`). */
async function reassign(controls: RunbookControls, cluster: string, goal: ReassignmentGoal, execution: ReassignmentExecution): Promise<ReassignPartitionsResult> {
  const childId = `${workflowInfo().workflowId}/reassign`;
  controls.setDetail(`reassignment runs in child workflow \`${childId}\`: its plan is approved there`);
  // An abort or Cancel here cancels the child, which cancels its moves and removes its throttles; so does a
  // terminated parent (REQUEST_CANCEL), instead of leaving the child running unowned.
  return controls.child('reassign partitions (child workflow)', childId, () =>
    executeChild(reassignPartitions, {
      workflowId: childId,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `reassignPartitions on ${cluster}: ${describeGoal(goal)} (for ${workflowInfo().workflowType})`,
      args: [
        {
          cluster,
          goal,
          throttleBytesPerSec: execution.throttleBytesPerSec,
          maxMovesPerBroker: execution.maxMovesPerBroker,
          maxMovesPerCluster: execution.maxMovesPerCluster,
          oneNewReplicaAtATime: execution.oneNewReplicaAtATime,
          approval: execution.approval,
          approvers: execution.approvers,
          batchTimeoutMinutes: execution.batchTimeoutMinutes,
          electLeaders: execution.electLeaders,
          batchesPerSlice: execution.batchesPerSlice,
          ...controls.childIdentity,
        },
      ],
    }),
  );
}

/** Maps inventory host names to broker ids (and their roles), refusing hosts that are not brokers of this cluster. */
async function brokerIdsOf(cluster: string, hosts: string[]): Promise<{ host: string; nodeId: number; roles: NodeRole[] }[]> {
  const inv = await read.describeInventory(cluster);
  return hosts.map((name) => {
    const h = inv.expected.find((e) => e.host === name);
    if (!h) throw invalidInput(`hosts: "${name}" is not in the inventory of cluster ${cluster} (known: ${inv.expected.map((e) => e.host).join(', ')})`);
    if (!h.roles.includes('broker') || h.nodeId === null) throw invalidInput(`hosts: "${name}" is not a broker host`);
    return { host: name, nodeId: h.nodeId, roles: h.roles };
  });
}

/**
 * addBrokers: bring new brokers in and move their share of replicas onto them.
 * Guarantees: new brokers are registered before anything moves; the reassignment moves the minimum for a
 * balanced cluster, behind approval, throttled, and with its throttles always removed (see reassignPartitions).
 */
export async function addBrokers(rawInput: AddBrokersInput): Promise<ReassignPartitionsResult> {
  const controls = disruptive('addBrokers', rawInput);
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('addBrokers', addBrokersInput, rawInput));
    const brokers = await controls.step('find the new brokers in the inventory', () => brokerIdsOf(input.cluster, input.hosts));
    const { mode } = await read.describeInventory(input.cluster);
    if (input.startBrokers) {
      for (const b of brokers) {
        if (mode === 'kraft') await controls.step(`format storage on ${b.host} with the cluster's ID`, () => hostOps.formatBrokerStorage(input.cluster, b.host));
        await controls.step(`start Kafka on ${b.host}`, () => hostOps.startNode(input.cluster, b.host));
      }
    }
    for (const b of brokers) {
      await controls.step(`wait for broker ${b.nodeId} to register`, () => waitFor(input.registrationTimeoutMinutes * 60_000).waitForBrokerRegistered(input.cluster, b.nodeId, input.registrationTimeoutMinutes * 60_000), {
        interruptible: true,
      });
    }
    return reassign(controls, input.cluster, { kind: 'addBrokers', brokerIds: brokers.map((b) => b.nodeId) }, input);
  });
}

export interface DecommissionResult {
  reassignment: ReassignPartitionsResult;
  stopped: string[];
  unregistered: number[];
  wiped: string[];
}

/**
 * decommissionBroker: empty brokers, then (after approval) stop them, unregister them (KRaft), and optionally
 * wipe their data (after a second approval, whose prompt lists every data dir per host).
 * Guarantees: refuses before anything moves when a host is also a KRaft controller (its removal from the quorum
 * is a controller membership change this runbook does not make) or when the remaining brokers cannot hold every
 * topic's replication factor; moves exactly the replicas on the brokers; stops nothing that still holds a replica;
 * wipes only dirs whose meta.properties names the node and the cluster (see wipeBrokerData).
 */
export async function decommissionBroker(rawInput: DecommissionBrokerInput): Promise<DecommissionResult> {
  const controls = disruptive('decommissionBroker', rawInput);
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('decommissionBroker', decommissionBrokerInput, rawInput));
    const brokers = await controls.step('find the brokers in the inventory', () => brokerIdsOf(input.cluster, input.hosts));
    // Stopping a voter for good without removing it from the quorum leaves the quorum counting a dead voter.
    const controllers = brokers.filter((b) => b.roles.includes('controller'));
    if (controllers.length > 0) {
      throw unsafeToProceed(
        `hosts: ${controllers.map((c) => `${c.host} (node ${c.nodeId})`).join(', ')} ${controllers.length === 1 ? 'is a KRaft controller' : 'are KRaft controllers'} as well as broker${controllers.length === 1 ? '' : 's'}: ` +
          'decommissioning would take voters out of the controller quorum, which needs a controller membership change ' +
          '(kafka-metadata-quorum.sh remove-controller) that this runbook does not make. Remove the controller from the quorum ' +
          'and its controller role from the inventory first, or decommission broker-only hosts.',
      );
    }
    const ids = brokers.map((b) => b.nodeId);
    const reassignment = await reassign(controls, input.cluster, { kind: 'removeBrokers', brokerIds: ids }, input);
    // Counted on the worker: the whole metadata would not fit in history on a large cluster.
    const left = await controls.step('verify the brokers hold no replica', () => read.findReplicasOnBrokers(input.cluster, ids));
    if (left.partitions > 0) throw unsafeToProceed(`brokers ${ids.join(', ')} still hold replicas of ${left.partitions} partitions (${left.first.join(', ')}): not stopping them`);
    const result: DecommissionResult = { reassignment, stopped: [], unregistered: [], wiped: [] };
    if (!input.stopBrokers) return result;
    await controls.requireApproval('stop-brokers', `brokers ${ids.join(', ')} (${input.hosts.join(', ')}) are empty. Stop them${input.unregister ? ' and unregister them' : ''}?`);
    for (const b of brokers) {
      await controls.step(`stop Kafka on ${b.host}`, () => hostOps.stopNode(input.cluster, b.host));
      await controls.step(`wait for ${b.host} to exit`, () => waitFor(DEFAULT_WAIT_MS.processExit).waitForProcessExit(input.cluster, b.host, DEFAULT_WAIT_MS.processExit), { interruptible: true });
      result.stopped.push(b.host);
    }
    const { mode } = await read.describeInventory(input.cluster);
    if (input.unregister && mode === 'kraft') {
      for (const b of brokers) {
        await controls.step(`wait for broker ${b.nodeId} to leave the metadata`, () => waitFor(DEFAULT_WAIT_MS.deregistration).waitForBrokerDeregistered(input.cluster, b.nodeId, DEFAULT_WAIT_MS.deregistration), { interruptible: true });
        await controls.step(`unregister broker ${b.nodeId}`, () => hostOps.unregisterBroker(input.cluster, b.nodeId));
        result.unregistered.push(b.nodeId);
      }
    }
    if (input.wipeData) {
      const dirs = await controls.step('read the data dirs to wipe', () => read.describeDataDirs(input.cluster, input.hosts));
      const listed = dirs.map((d) => `${d.host}: ${d.dataDirs.join(', ')}`).join('; ');
      await controls.requireApproval('wipe-data', `delete everything in these data dirs (${listed})? This cannot be undone.`, { kind: GateKind.Irreversible });
      for (const b of brokers) result.wiped.push(...(await controls.step(`wipe the data of ${b.host}`, () => hostOps.wipeBrokerData(input.cluster, b.host))).wiped);
    }
    return result;
  });
}

/**
 * changeReplicationFactor: raise or lower one topic's replication factor.
 * Guarantees: an increase copies only the new replicas; a decrease copies nothing; refused when the cluster
 * has too few brokers.
 */
export async function changeReplicationFactor(rawInput: ChangeReplicationFactorInput): Promise<ReassignPartitionsResult> {
  const controls = disruptive('changeReplicationFactor', rawInput);
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('changeReplicationFactor', changeReplicationFactorInput, rawInput));
    return reassign(controls, input.cluster, { kind: 'setReplicationFactor', topic: input.topic, replicationFactor: input.replicationFactor }, input);
  });
}

/**
 * rebalanceLeaders: spread preferred leaders evenly by reordering replica lists (no data moves), then elect.
 */
export async function rebalanceLeaders(rawInput: RebalanceLeadersInput): Promise<ReassignPartitionsResult> {
  const controls = disruptive('rebalanceLeaders', rawInput);
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('rebalanceLeaders', rebalanceLeadersInput, rawInput));
    return reassign(controls, input.cluster, { kind: 'balanceLeaders' }, input);
  });
}
