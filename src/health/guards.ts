import type { ClusterMetadata, NodeId, QuorumState } from '../model/cluster';
import { type BoundedList, boundedList, isOffline, listNames, offlinePartitions, partitionName, registeredBrokerIds } from './partitions';
import { DEFAULT_QUORUM_FETCH_TIMEOUT_MS, describeVoterLag, quorumMajority, quorumVoterStatus } from './quorum';

/** Whether a node may be taken down now, and if not, why. */
export interface GuardDecision {
  safe: boolean;
  /** Why it is not safe; empty when safe. Capped, with a last line saying how many more. */
  reasons: string[];
  /** What was deliberately not checked, so an operator can see it was skipped rather than missed. */
  ignored: string[];
}

/** Keeps a decision small enough for workflow history on clusters with 100k partitions. */
const MAX_REASONS = 50;
const MAX_CATCHING_UP = 200;

function brokersPhrase(ids: readonly NodeId[]): string {
  return ids.length === 1 ? `broker ${ids[0]}` : `brokers ${ids.join(', ')}`;
}

function capReasons(reasons: string[]): string[] {
  if (reasons.length <= MAX_REASONS) return reasons;
  return [...reasons.slice(0, MAX_REASONS), `...and ${reasons.length - MAX_REASONS} more`];
}

/**
 * May this broker be restarted now without taking any partition below min.insync.replicas?
 * See {@link canRestartBrokers}.
 */
export function canRestartBroker(metadata: ClusterMetadata, brokerId: NodeId): GuardDecision {
  return canRestartBrokers(metadata, [brokerId]);
}

/**
 * May these brokers be taken down together now? Strimzi's KafkaAvailability.canRoll, for a set:
 *
 * 1. Brokers that are not registered are already down: restarting them takes nothing away (Strimzi, too,
 *    restarts unready pods without the availability check), so they are listed in `ignored`.
 * 2. Any offline partition in the cluster blocks: the cluster is already losing data availability and a human
 *    should look before more capacity goes.
 * 3. Any in-flight reassignment whose replicas, adding or removing replicas include one of the brokers blocks.
 * 4. For every other partition with a replica on one of the brokers, with RF > min.insync.replicas
 *    (RF <= minISR partitions can never survive a restart and would block forever, strimzi#2964: `ignored`):
 *    block when its ISR is already below minISR, or when the ISR left after removing the brokers would be.
 *    ISR members that are not registered brokers are not counted: metadata can lag a broker's death.
 */
export function canRestartBrokers(metadata: ClusterMetadata, brokerIds: readonly NodeId[]): GuardDecision {
  const registered = registeredBrokerIds(metadata);
  const requested = [...new Set(brokerIds)];
  const goingDown = new Set(requested.filter((id) => registered.has(id)));
  const ignored = requested
    .filter((id) => !goingDown.has(id))
    .map((id) => `Broker ${id} is not registered: it is already down, so restarting it takes nothing more away.`);
  if (goingDown.size === 0) return { safe: true, reasons: [], ignored };

  const reasons: string[] = [];
  const offline = offlinePartitions(metadata).map(partitionName);
  if (offline.length > 0) {
    reasons.push(
      `${offline.length} partition${offline.length === 1 ? ' is' : 's are'} offline (${listNames(offline)}): ` +
        `bring ${offline.length === 1 ? 'it' : 'them'} back before taking more brokers down.`,
    );
  }

  for (const r of metadata.reassignments) {
    const involved = [...new Set([...r.replicas, ...r.addingReplicas, ...r.removingReplicas])].filter((id) => goingDown.has(id));
    if (involved.length === 0) continue;
    reasons.push(
      `Reassignment of ${partitionName(r)} is in flight and involves ${brokersPhrase(involved)} ` +
        `(adding [${r.addingReplicas.join(', ')}], removing [${r.removingReplicas.join(', ')}]).`,
    );
  }

  // topic -> RF -> partitions, so RF <= minISR skips read as one line per topic.
  const skipped = new Map<string, { rf: number; minIsr: number; names: string[] }>();
  for (const topic of metadata.topics) {
    const minIsr = topic.minInsyncReplicas;
    for (const p of topic.partitions) {
      const onSet = p.replicas.filter((id) => goingDown.has(id));
      if (onSet.length === 0 || isOffline(p, registered)) continue;
      const rf = p.replicas.length;
      if (rf <= minIsr) {
        const key = `${topic.name}\u0000${rf}`;
        const entry = skipped.get(key) ?? { rf, minIsr, names: [] };
        entry.names.push(partitionName(p));
        skipped.set(key, entry);
        continue;
      }
      const liveIsr = p.isr.filter((id) => registered.has(id));
      const remaining = liveIsr.filter((id) => !goingDown.has(id));
      if (liveIsr.length < minIsr) {
        reasons.push(
          `${partitionName(p)} is already below min.insync.replicas=${minIsr} (ISR [${liveIsr.join(', ')}]) ` +
            `and ${brokersPhrase(onSet)} ${onSet.length === 1 ? 'holds a replica' : 'hold replicas'}.`,
        );
      } else if (remaining.length < minIsr) {
        reasons.push(
          `Taking down ${brokersPhrase(requested.filter((id) => goingDown.has(id)))} would leave ${partitionName(p)} ` +
            `with ISR [${remaining.join(', ')}], below min.insync.replicas=${minIsr}.`,
        );
      }
    }
  }
  for (const [key, { rf, minIsr, names }] of skipped) {
    const topic = key.slice(0, key.indexOf('\u0000'));
    ignored.push(
      `Topic ${topic}: ${names.length} partition${names.length === 1 ? '' : 's'} (${listNames(names, 5)}) not checked: ` +
        `replication factor ${rf} <= min.insync.replicas ${minIsr}, so no restart can keep ${names.length === 1 ? 'it' : 'them'} writable.`,
    );
  }

  return { safe: reasons.length === 0, reasons: capReasons(reasons), ignored: capReasons(ignored) };
}

/**
 * May this KRaft controller be restarted now? Leaving it out, count the voters that are the leader or last
 * caught up less than `fetchTimeoutMs` before the leader; require floor((voters + 2) / 2) of them
 * (a majority of all voters), as Strimzi's KafkaQuorumCheck does.
 */
export function canRestartController(
  quorum: QuorumState | null,
  nodeId: NodeId,
  fetchTimeoutMs = DEFAULT_QUORUM_FETCH_TIMEOUT_MS,
): GuardDecision {
  if (quorum === null) {
    return { safe: false, reasons: [`The KRaft quorum state is unknown: cannot tell whether the quorum survives losing controller ${nodeId}.`], ignored: [] };
  }
  if (quorum.leaderId < 0) {
    return { safe: false, reasons: [`The KRaft quorum has no leader: restarting controller ${nodeId} could keep it leaderless.`], ignored: [] };
  }
  const voters = quorumVoterStatus(quorum, fetchTimeoutMs);
  const needed = Math.floor((voters.length + 2) / 2);
  const others = voters.filter((v) => v.nodeId !== nodeId);
  const caughtUp = others.filter((v) => v.caughtUp).length;
  if (caughtUp >= needed) return { safe: true, reasons: [], ignored: [] };
  const lagging = others.filter((v) => !v.caughtUp).map((v) => `${v.nodeId}: ${describeVoterLag(v, quorum.leaderId, fetchTimeoutMs)}`);
  return {
    safe: false,
    reasons: [
      `Without controller ${nodeId}, only ${caughtUp} of ${voters.length} voters would be caught up; ${needed} are needed ` +
        `(majority ${quorumMajority(voters.length)}).` +
        (lagging.length > 0 ? ` Lagging voters: ${lagging.join('; ')}.` : ''),
    ],
    ignored: [],
  };
}

/** Whether a restarted broker is back in the ISR of everything it hosts. */
export interface CatchUpStatus {
  brokerId: NodeId;
  registered: boolean;
  /** Registered and in the ISR of every partition it is a replica of. */
  caughtUp: boolean;
  /** Partitions with a replica on the broker that were checked. */
  partitionsChecked: number;
  /** "topic-p" of the partitions whose ISR does not include the broker yet. */
  catchingUp: BoundedList<string>;
}

/**
 * The "may the next node go" check after a restart: the broker is registered and in the ISR of every
 * partition it holds a replica of. Replicas a reassignment is still adding are left out: they join the ISR
 * only when the copy finishes, which has nothing to do with the restart.
 */
export function isBrokerCaughtUp(metadata: ClusterMetadata, brokerId: NodeId): CatchUpStatus {
  const registered = registeredBrokerIds(metadata).has(brokerId);
  const beingAdded = new Set(
    metadata.reassignments.filter((r) => r.addingReplicas.includes(brokerId)).map((r) => partitionName(r)),
  );
  let checked = 0;
  const catchingUp: string[] = [];
  for (const topic of metadata.topics) {
    for (const p of topic.partitions) {
      if (!p.replicas.includes(brokerId) || beingAdded.has(partitionName(p))) continue;
      checked++;
      if (!p.isr.includes(brokerId)) catchingUp.push(partitionName(p));
    }
  }
  return {
    brokerId,
    registered,
    caughtUp: registered && catchingUp.length === 0,
    partitionsChecked: checked,
    catchingUp: boundedList(catchingUp, MAX_CATCHING_UP),
  };
}
