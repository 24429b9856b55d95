import { type ApplicationFailure } from '@temporalio/common';
import { type Admin } from 'kafkajs';
import { type CatchUpStatus, DEFAULT_QUORUM_FETCH_TIMEOUT_MS, type GuardDecision, isBrokerCaughtUp, quorumVoterStatus } from '../src/health';
import { type Inventory } from '../src/inventory/schema';
import { type ClusterMetadata, type NodeId, type NodeRole, type QuorumObservation, type QuorumState, type ReassignmentInFlight } from '../src/model/cluster';
import { brokersToCheckForRecovery, canRestartBatch, isRecentQuorum, refuseRecovering } from '../src/rolling/batches';
import { DEFAULT_WAIT_MS, NodeWaitFailure } from '../src/rolling/failures';
import { kafkaClient } from './clusters';
import { createClusterReadActivities } from './cluster-reads';
import { type NodeActivityDeps, nodeHosts } from './node-hosts';
import { readBrokerStateOn } from './node-process';
import { pollUntil, waitTimedOut } from './poll';

export { DEFAULT_WAIT_MS };

export interface WaitResult {
  elapsedMs: number;
}

export interface CatchUpResult extends WaitResult {
  status: CatchUpStatus;
}

export interface GuardResult extends WaitResult {
  /** The decision that allowed the batch, with what it did not check. */
  decision: GuardDecision;
  /** How old the quorum observation behind the decision was (ms); null when no quorum was needed. */
  quorumAgeMs: number | null;
}

export interface GuardOptions {
  quorumFetchTimeoutMs?: number;
  /** The latest quorum observation the caller has; the first poll uses it while isRecentQuorum says so. */
  recentQuorum?: QuorumObservation | null;
}

export interface QuorumCatchUpResult extends WaitResult {
  leaderId: NodeId;
  /** The read that showed the node caught up, for the next batch's guard. */
  observation: QuorumObservation;
}

/**
 * One kafkajs admin kept for the length of a wait: Metadata requests are answered fresh on every call
 * (kafkajs does not cache them for admin calls), and reconnecting every second would cost more than the poll.
 * Dropped and rebuilt after an error, since the broker it talks to may be the one restarting.
 */
class MetadataPoller {
  private admin: Admin | null = null;
  private reassignments: ReassignmentInFlight[] = [];
  private polls = 0;

  constructor(private readonly inv: Inventory) {}

  private async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    const admin = kafkaClient(this.inv, 'kafka-runbooks-nodes').admin();
    try {
      await admin.connect();
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
    this.admin = admin;
    return admin;
  }

  private async guard<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.connected());
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Broker ids in Metadata responses: registered and unfenced. */
  registered(): Promise<Set<NodeId>> {
    return this.guard(async (admin) => new Set((await admin.describeCluster()).brokers.map((b) => b.nodeId)));
  }

  /**
   * Brokers, every topic's replicas and ISR, and reassignments in flight (re-read every 10th poll: they
   * cannot start during a restart the guards allowed). min.insync.replicas is not read: the catch-up check
   * does not use it.
   */
  snapshot(): Promise<ClusterMetadata> {
    return this.guard(async (admin) => {
      if (this.polls++ % 10 === 0) {
        const r = await admin.listPartitionReassignments({});
        this.reassignments = r.topics.flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.topic, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas ?? [], removingReplicas: p.removingReplicas ?? [] })),
        );
      }
      const described = await admin.describeCluster();
      const meta = await admin.fetchTopicMetadata({ topics: [] }); // empty list: every topic
      return {
        clusterId: described.clusterId ?? null,
        mode: this.inv.mode,
        controllerId: null,
        brokers: described.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: null })),
        topics: meta.topics.map((t) => ({
          name: t.name,
          internal: t.name.startsWith('__'),
          minInsyncReplicas: 1,
          partitions: t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, offlineReplicas: p.offlineReplicas ?? [] })),
        })),
        reassignments: this.reassignments,
        quorum: null,
      };
    });
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.disconnect().catch(() => undefined);
  }
}

/**
 * The waits between a rolling restart's steps: a process gone, a broker deregistered, registered, caught up,
 * a controller caught up, and the guard before each batch. Every wait polls about once a second, heartbeats
 * after each poll, stops at once when cancelled, keeps its first attempt's deadline when retried, and times
 * out with a retryable failure typed by NodeWaitFailure.
 */
export function createNodeWaitActivities({ clusters, shell, pollIntervalMs = 1000 }: NodeActivityDeps) {
  const reads = createClusterReadActivities({ clusters, shell });
  const { brokerNode, controllerNode, kafkaHost, isRunning } = nodeHosts({ clusters, shell });

  /** Polls the metadata until the broker is listed (`listed`) or no longer listed; one admin kept for the wait. */
  const waitForListed = async (cluster: string, nodeId: NodeId, listed: boolean, timeoutMs: number, onTimeout: (lastError: string | null, elapsedMs: number) => ApplicationFailure): Promise<WaitResult> => {
    brokerNode(cluster, nodeId);
    const poller = new MetadataPoller(clusters.get(cluster));
    try {
      const { elapsedMs } = await pollUntil(
        { waitingFor: listed ? 'broker registered' : 'broker deregistered', nodeId },
        timeoutMs,
        pollIntervalMs,
        async () => {
          const registered = (await poller.registered()).has(nodeId);
          return { done: registered === listed, value: registered };
        },
        (_l, err, ms) => onTimeout(err, ms),
      );
      return { elapsedMs };
    } finally {
      await poller.close();
    }
  };

  return {
    /** Polls the status template until the process is gone. Times out with a retryable NodeStopTimeout. */
    async waitForProcessExit(cluster: string, hostName: string, timeoutMs: number = DEFAULT_WAIT_MS.processExit): Promise<WaitResult> {
      const host = kafkaHost(cluster, hostName);
      const { elapsedMs } = await pollUntil(
        { waitingFor: 'process exit', host: host.name },
        timeoutMs,
        pollIntervalMs,
        async () => {
          const running = await isRunning(host);
          return { done: !running, value: running };
        },
        (_last, err, ms) =>
          waitTimedOut(NodeWaitFailure.StopTimeout, `Kafka on ${host.name} is still running ${Math.round(ms / 1000)} s after the stop${err ? ` (last check: ${err})` : ''}`, { host: host.name, elapsedMs: ms }),
      );
      return { elapsedMs };
    },

    /** Polls the cluster metadata until the broker is no longer listed (fenced or gone). */
    async waitForBrokerDeregistered(cluster: string, nodeId: NodeId, timeoutMs: number = DEFAULT_WAIT_MS.deregistration): Promise<WaitResult> {
      return waitForListed(cluster, nodeId, false, timeoutMs, (err, ms) =>
        waitTimedOut(NodeWaitFailure.DeregistrationTimeout, `broker ${nodeId} is still registered ${Math.round(ms / 1000)} s after its process exited${err ? ` (last check: ${err})` : ''}`, {
          nodeId,
          elapsedMs: ms,
        }),
      );
    },

    /** Polls the metadata until the broker is listed (registered and unfenced). Retryable NodeRegistrationTimeout. */
    async waitForBrokerRegistered(cluster: string, nodeId: NodeId, timeoutMs: number = DEFAULT_WAIT_MS.registration): Promise<WaitResult> {
      return waitForListed(cluster, nodeId, true, timeoutMs, (err, ms) =>
        waitTimedOut(
          NodeWaitFailure.RegistrationTimeout,
          `broker ${nodeId} has not registered ${Math.round(ms / 1000)} s after its start (log recovery, or it failed to start: see its server.log)${err ? `; last check: ${err}` : ''}`,
          { nodeId, elapsedMs: ms },
        ),
      );
    },

    /**
     * Polls the metadata (every pollIntervalMs) until isBrokerCaughtUp holds: the broker is registered and in
     * the ISR of every partition it holds. Heartbeats with how many partitions are still catching up.
     * Retryable NodeCatchUpTimeout, whose details carry the last status.
     */
    async waitForBrokerCaughtUp(cluster: string, nodeId: NodeId, timeoutMs: number = DEFAULT_WAIT_MS.catchUp): Promise<CatchUpResult> {
      brokerNode(cluster, nodeId);
      const poller = new MetadataPoller(clusters.get(cluster));
      try {
        const { value, elapsedMs } = await pollUntil(
          { waitingFor: 'broker caught up', nodeId },
          timeoutMs,
          pollIntervalMs,
          async () => {
            const status = isBrokerCaughtUp(await poller.snapshot(), nodeId);
            return { done: status.caughtUp, value: status, progress: { registered: status.registered, catchingUp: status.catchingUp.count, of: status.partitionsChecked } };
          },
          (last, err, ms) =>
            waitTimedOut(
              NodeWaitFailure.CatchUpTimeout,
              last
                ? `broker ${nodeId} is ${last.registered ? `still out of the ISR of ${last.catchingUp.count} of ${last.partitionsChecked} partitions` : 'not registered'} after ${Math.round(ms / 1000)} s`
                : `could not read the metadata for ${Math.round(ms / 1000)} s: ${err ?? 'no answer'}`,
              { nodeId, elapsedMs: ms, status: last },
            ),
        );
        return { status: value, elapsedMs };
      } finally {
        await poller.close();
      }
    },

    /**
     * The guard wait before a batch: reads the cluster (readClusterMetadata; the KRaft quorum too when the
     * batch holds a controller) every max(pollIntervalMs, 2 s) until canRestartBatch allows the batch, and
     * returns that decision (its `ignored` list says what was not checked, e.g. RF <= min ISR topics).
     * A batch broker missing from the metadata is read over SSH: while it recovers its logs (RECOVERY) it is
     * fenced, and restarting it would start the recovery over, so the guard waits for it like any refusal.
     * Retryable GuardWaitTimeout with the last refusal in its details.
     */
    async waitForRestartAllowed(
      cluster: string,
      batch: { nodeId: NodeId; roles: NodeRole[] }[],
      timeoutMs: number = DEFAULT_WAIT_MS.guard,
      { quorumFetchTimeoutMs = DEFAULT_QUORUM_FETCH_TIMEOUT_MS, recentQuorum = null }: GuardOptions = {},
    ): Promise<GuardResult> {
      const inv = clusters.get(cluster);
      const needsQuorum = inv.mode === 'kraft' && batch.some((n) => n.roles.includes('controller'));
      let offered = recentQuorum;
      let quorumAgeMs: number | null = null;
      const readQuorum = async (): Promise<QuorumState> => {
        const recent = offered;
        offered = null; // only the first poll may use it; a refusal is re-checked on a fresh read
        if (recent && isRecentQuorum(recent.observedAtMs, Date.now())) {
          quorumAgeMs = Date.now() - recent.observedAtMs;
          return recent.quorum;
        }
        const quorum = await reads.readQuorumState(cluster);
        quorumAgeMs = 0;
        return quorum;
      };
      const { value, elapsedMs } = await pollUntil<GuardDecision>(
        { waitingFor: 'restart guard', nodes: batch.map((n) => n.nodeId) },
        timeoutMs,
        Math.max(pollIntervalMs, 2000),
        async () => {
          const metadata = await reads.readClusterMetadata(cluster);
          const quorum = needsQuorum ? await readQuorum() : null;
          const recovering: { nodeId: NodeId; host: string }[] = [];
          for (const nodeId of brokersToCheckForRecovery(metadata, batch)) {
            const host = brokerNode(cluster, nodeId);
            if ((await readBrokerStateOn(shell, host)).state === 'RECOVERY') recovering.push({ nodeId, host: host.name });
          }
          const decision = refuseRecovering(canRestartBatch({ ...metadata, quorum }, batch, quorumFetchTimeoutMs), recovering);
          return { done: decision.safe, value: decision, progress: { reasons: decision.reasons.slice(0, 3) } };
        },
        (last, err, ms) =>
          waitTimedOut(
            NodeWaitFailure.GuardWaitTimeout,
            `node${batch.length === 1 ? '' : 's'} ${batch.map((n) => n.nodeId).join(', ')} still not safe to restart after ${Math.round(ms / 1000)} s: ` +
              (last ? last.reasons.slice(0, 3).join(' ') : `the cluster could not be read (${err ?? 'no answer'})`),
            { nodes: batch.map((n) => n.nodeId), elapsedMs: ms, decision: last },
          ),
      );
      return { decision: value, elapsedMs, quorumAgeMs: needsQuorum ? quorumAgeMs : null };
    },

    /**
     * Polls the KRaft quorum (kafka-metadata-quorum.sh over SSH, ~1-3 s per read) until the quorum has a leader
     * and the controller is a caught-up voter, as canRestartController judges voters. Retryable QuorumCatchUpTimeout.
     */
    async waitForQuorumCaughtUp(
      cluster: string,
      nodeId: NodeId,
      timeoutMs: number = DEFAULT_WAIT_MS.quorumCatchUp,
      fetchTimeoutMs: number = DEFAULT_QUORUM_FETCH_TIMEOUT_MS,
    ): Promise<QuorumCatchUpResult> {
      controllerNode(cluster, nodeId);
      const { value, elapsedMs } = await pollUntil<QuorumObservation>(
        { waitingFor: 'controller caught up', nodeId },
        timeoutMs,
        pollIntervalMs,
        async () => {
          const quorum = await reads.readQuorumState(cluster);
          const voter = quorumVoterStatus(quorum, fetchTimeoutMs).find((v) => v.nodeId === nodeId);
          return { done: quorum.leaderId >= 0 && voter?.caughtUp === true, value: { quorum, observedAtMs: Date.now() } };
        },
        (lastObservation, err, ms) => {
          const last = lastObservation?.quorum ?? null;
          const voter = last ? quorumVoterStatus(last, fetchTimeoutMs).find((v) => v.nodeId === nodeId) : undefined;
          const why = !last
            ? `the quorum could not be read (${err ?? 'no answer'})`
            : last.leaderId < 0
              ? 'the quorum has no leader'
              : !voter
                ? 'it is not a voter'
                : `it is ${voter.lagMs === null ? 'never caught up' : `${voter.lagMs} ms`} behind the leader ${last.leaderId}`;
          return waitTimedOut(NodeWaitFailure.QuorumCatchUpTimeout, `controller ${nodeId} is not caught up after ${Math.round(ms / 1000)} s: ${why}`, { nodeId, elapsedMs: ms });
        },
      );
      return { leaderId: value.quorum.leaderId, elapsedMs, observation: value };
    },
  };
}
