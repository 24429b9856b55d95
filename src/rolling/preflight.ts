import { evaluateHealth, type Finding, FindingCode } from '../health';
import type { ClusterMetadata, ExpectedNode, HostObservation, MetadataMode, QuorumObservation } from '../model/cluster';
import type { RollingRestartInput } from './input';
import { planRollingRestart, type RollingPlan } from './plan';

/** Findings that make a rolling restart unsafe to start. */
export const BLOCKING_FINDINGS = new Set<string>([
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

/** Blocking findings kept in the preflight's answer; the rest are counted. */
const FINDINGS_SHOWN = 5;

export interface RollingPreflightState {
  mode: MetadataMode;
  expected: ExpectedNode[];
  metadata: ClusterMetadata;
  /** KRaft: the quorum read; null in ZooKeeper mode. */
  quorum: QuorumObservation | null;
  hosts: HostObservation[];
  checkedAt: string;
}

/** A plan as it travels to the workflow: each batch names its nodes by host (the nodes are listed once, in `nodes`). */
export interface CompactRollingPlan extends Omit<RollingPlan, 'batches'> {
  batches: { hosts: string[]; reason: string }[];
}

/** What a rolling restart's preflight tells the workflow: the plan (nodes and batches, not the metadata) and what blocks it. */
export interface RollingPreflight {
  plan: CompactRollingPlan;
  quorum: QuorumObservation | null;
  blocking: { count: number; first: Finding[] };
}

/**
 * The health evaluation and the plan, from one read of the cluster, on the worker: the metadata (every
 * partition) never reaches workflow history, only the nodes, their batches and the first blocking findings.
 */
export function rollingPreflight(input: RollingRestartInput, state: RollingPreflightState): RollingPreflight {
  const metadata = { ...state.metadata, quorum: state.quorum?.quorum ?? null };
  const report = evaluateHealth({ metadata, hosts: state.hosts, expected: state.expected, checkedAt: state.checkedAt });
  const blocking = report.findings.filter((f) => BLOCKING_FINDINGS.has(f.code));
  const plan = planRollingRestart(input, { expected: state.expected, metadata, hosts: state.hosts });
  const compact: CompactRollingPlan = { ...plan, batches: plan.batches.map((b) => ({ hosts: b.nodes.map((n) => n.host), reason: b.reason })) };
  return { plan: compact, quorum: state.quorum, blocking: { count: blocking.length, first: blocking.slice(0, FINDINGS_SHOWN) } };
}

/** The plan with each batch's nodes in full again. */
export function expandRollingPlan(plan: CompactRollingPlan): RollingPlan {
  const byHost = new Map(plan.nodes.map((n) => [n.host, n]));
  return {
    ...plan,
    batches: plan.batches.map((b) => ({
      reason: b.reason,
      nodes: b.hosts.map((h) => {
        const n = byHost.get(h);
        if (!n) throw new Error(`the plan's batch names ${h}, which is not among its nodes`);
        return n;
      }),
    })),
  };
}

/** A run of consecutive batches handed to one child workflow: batches [from, to). */
export interface BatchSlice {
  from: number;
  to: number;
  nodes: number;
}

/**
 * Consecutive batches in slices of at most `nodesPerSlice` nodes; a batch is never split, so a batch larger
 * than that is a slice of its own.
 */
export function sliceBatches(batches: { nodes: readonly unknown[] }[], nodesPerSlice: number): BatchSlice[] {
  const slices: BatchSlice[] = [];
  let current: BatchSlice | null = null;
  batches.forEach((b, i) => {
    if (current && current.nodes + b.nodes.length > nodesPerSlice) {
      slices.push(current);
      current = null;
    }
    current ??= { from: i, to: i, nodes: 0 };
    current.to = i + 1;
    current.nodes += b.nodes.length;
  });
  if (current) slices.push(current);
  return slices;
}
