import type { NodeId, QuorumState } from '../model/cluster';

/** Kafka's default `controller.quorum.fetch.timeout.ms`. */
export const DEFAULT_QUORUM_FETCH_TIMEOUT_MS = 2000;

export interface VoterStatus {
  nodeId: NodeId;
  leader: boolean;
  /** The leader itself, or last caught up less than the fetch timeout before the leader. */
  caughtUp: boolean;
  /** Leader's log end offset minus this voter's (0 for the leader, never negative). */
  lagOffsets: number;
  /** Leader's lastCaughtUpTimestamp minus this voter's; null when the leader has never heard from it. */
  lagMs: number | null;
}

/** A strict majority of `voters`: floor(voters / 2) + 1. */
export function quorumMajority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * The leader's own lastCaughtUpTimestamp, which `describe --replication` reports as the leader's clock;
 * the time the state was read when the leader is missing from the voter list.
 */
function leaderTimestamp(quorum: QuorumState): number {
  const leader = quorum.voters.find((v) => v.nodeId === quorum.leaderId);
  return leader?.lastCaughtUpTimestamp ?? quorum.readAtMs;
}

/**
 * Each voter's standing against the leader, as Strimzi's KafkaQuorumCheck judges it: caught up when it is
 * the leader or its lastCaughtUpTimestamp is less than `fetchTimeoutMs` behind the leader's.
 * With no leader (leaderId < 0) nobody is caught up.
 */
export function quorumVoterStatus(quorum: QuorumState, fetchTimeoutMs = DEFAULT_QUORUM_FETCH_TIMEOUT_MS): VoterStatus[] {
  const hasLeader = quorum.leaderId >= 0;
  const leaderTs = leaderTimestamp(quorum);
  const leaderLeo = quorum.voters.find((v) => v.nodeId === quorum.leaderId)?.logEndOffset ?? quorum.highWatermark;
  return quorum.voters.map((v) => {
    const leader = hasLeader && v.nodeId === quorum.leaderId;
    const lagMs = !hasLeader || v.lastCaughtUpTimestamp === null ? null : Math.max(0, leaderTs - v.lastCaughtUpTimestamp);
    const caughtUp = leader || (lagMs !== null && lagMs < fetchTimeoutMs);
    return { nodeId: v.nodeId, leader, caughtUp, lagOffsets: leader ? 0 : Math.max(0, leaderLeo - v.logEndOffset), lagMs: leader ? 0 : lagMs };
  });
}

export function describeVoterLag(v: VoterStatus, leaderId: NodeId, fetchTimeoutMs: number): string {
  const behind =
    v.lagMs === null
      ? `the leader ${leaderId} has never seen it caught up`
      : `last caught up ${v.lagMs} ms before the leader ${leaderId} (fetch timeout ${fetchTimeoutMs} ms)`;
  return `${behind}, ${v.lagOffsets} offsets behind`;
}
