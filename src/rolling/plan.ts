import type { ClusterMetadata, ExpectedNode, HostObservation, MetadataMode } from '../model/cluster';
import { type BatchPlan, planBatches, type RestartBatch } from './batches';
import type { Parallelism, RestartTimeouts, RollingRestartInput } from './input';
import { type NodeKind, orderNodes, type PlannedNode, selectNodes } from './order';

/**
 * How long each step of one batch usually takes on a production broker with a few thousand partitions, in
 * seconds. Only for the estimate shown before approval; the runbook waits on events, never on these.
 * (On the 3-node lab: stop ~1 s, start to registered ~5 s, caught up ~1 s later.)
 */
export const TYPICAL_STEP_SECONDS = {
  /** Controlled shutdown: leadership moves away, then the process exits. */
  stop: 30,
  /** Re-pointing `current` (and unpacking an archive), only in an upgrade. */
  switchVersion: 5,
  /** Start until registered and unfenced. */
  registration: 60,
  /** Registered until back in every ISR. */
  catchUp: 30,
  /** Preferred leader election, when enabled. */
  leaderElection: 10,
} as const;

export interface DurationEstimate {
  /** With every step taking its typical time. */
  typicalSeconds: number;
  /** With every wait running to its timeout (guard wait included): when a human would be asked at the latest. */
  worstCaseSeconds: number;
}

export function estimateDuration(batches: number, timeouts: RestartTimeouts, opts: { upgrade: boolean; preferredLeaderElection: boolean }): DurationEstimate {
  const t = TYPICAL_STEP_SECONDS;
  const typical = t.stop + (opts.upgrade ? t.switchVersion : 0) + t.registration + t.catchUp + (opts.preferredLeaderElection ? t.leaderElection : 0);
  const worst = timeouts.guardWaitSeconds + timeouts.stopSeconds + (opts.upgrade ? t.switchVersion : 0) + timeouts.registrationSeconds + timeouts.catchUpSeconds + (opts.preferredLeaderElection ? t.leaderElection : 0);
  return { typicalSeconds: batches * typical, worstCaseSeconds: batches * worst };
}

export interface RollingPlanState {
  /** The inventory's expected nodes (describeInventory). */
  expected: ExpectedNode[];
  /** Cluster metadata with `quorum` filled in for KRaft. */
  metadata: ClusterMetadata;
  /** inspectHosts; used for unhealthy nodes and the versions they run. */
  hosts?: HostObservation[];
  quorumFetchTimeoutMs?: number;
}

export interface RollingPlan {
  cluster: string;
  mode: MetadataMode;
  /** Null for a plain restart. */
  targetVersion: string | null;
  nodes: PlannedNode[];
  batches: RestartBatch[];
  parallelism: Parallelism;
  estimate: DurationEstimate;
  /** About the order and the batches; the run may go on. */
  warnings: string[];
  notes: string[];
  /** The run must not start: bad node references, a 4.x upgrade of a ZooKeeper cluster. */
  problems: string[];
}

/**
 * The whole plan from one read of the cluster: which nodes, in what order, in which batches, and how long
 * it should take. The workflow re-checks each batch with canRestartBatch right before it, and re-plans the
 * remaining nodes when the controller moved.
 */
export function planRollingRestart(input: RollingRestartInput, state: RollingPlanState): RollingPlan {
  const selection = selectNodes(state.expected, input.nodes, input.sourceByHost, state.metadata.mode);
  const problems = [...selection.problems];
  const warnings: string[] = [];
  const notes: string[] = [];
  const target = input.targetVersion ?? null;
  if (target !== null) {
    if (state.metadata.mode === 'zookeeper' && Number(target.split('.')[0]) >= 4) {
      problems.push(`targetVersion ${target}: Kafka 4.x runs only in KRaft mode; migrate this ZooKeeper-mode cluster to KRaft on 3.9 first.`);
    }
    const versions = new Map<string, string[]>();
    for (const n of selection.nodes) {
      const v = state.hosts?.find((h) => h.host === n.host)?.kafkaVersion ?? 'unknown';
      versions.set(v, [...(versions.get(v) ?? []), n.host]);
    }
    const already = versions.get(target);
    if (already) notes.push(`${already.join(', ')} already point${already.length === 1 ? 's' : ''} at ${target}: restarted anyway, so the process surely runs it.`);
    if ([...versions.keys()].filter((v) => v !== target).length > 1) {
      warnings.push(`The nodes run different versions now: ${[...versions].map(([v, hosts]) => `${v} (${hosts.join(', ')})`).join('; ')}.`);
    }
  }
  const order = orderNodes(selection.nodes, { metadata: state.metadata, hosts: state.hosts, quorumFetchTimeoutMs: state.quorumFetchTimeoutMs }, input.order);
  warnings.push(...order.warnings);
  const batchPlan: BatchPlan = planBatches(order.nodes, state.metadata, input.parallelism);
  notes.push(...batchPlan.notes);
  return {
    cluster: input.cluster,
    mode: state.metadata.mode,
    targetVersion: target,
    nodes: order.nodes,
    batches: batchPlan.batches,
    parallelism: input.parallelism,
    estimate: estimateDuration(batchPlan.batches.length, input.timeouts, { upgrade: target !== null, preferredLeaderElection: input.preferredLeaderElection }),
    warnings,
    notes,
    problems,
  };
}

/** Table cells and inline text: a `|` would split the cell, a newline would end the table. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** 75 -> "1 min 15 s", 7200 -> "2 h". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return rest > 0 ? `${m} min ${rest} s` : `${m} min`;
}

const kindLabel: Record<NodeKind, string> = { controller: 'controller', combined: 'broker+controller', broker: 'broker' };

function describeParallelism(p: Parallelism): string {
  switch (p.mode) {
    case 'one-at-a-time':
      return 'one node at a time';
    case 'no-shared-partitions':
      return `brokers sharing no partition together, at most ${p.maxBatch} at a time`;
    case 'rack':
      return 'a rack at a time where every partition spans racks';
  }
}

function finalizeStep(plan: RollingPlan): string {
  return plan.mode === 'kraft' ? 'metadata.version raised with kafka-features.sh' : 'inter.broker.protocol.version raised, with a second rolling restart of the brokers that pin an older one';
}

/** The plan as markdown for the Temporal Web UI and the approval prompt. */
export function renderRollingPlan(plan: RollingPlan, input: Pick<RollingRestartInput, 'approval' | 'preferredLeaderElection' | 'rollbackPolicy' | 'canaryTopic'>): string {
  const title = plan.targetVersion ? `Rolling upgrade of ${plan.cluster} to Kafka ${plan.targetVersion}` : `Rolling restart of ${plan.cluster}`;
  const lines: string[] = [
    `### ${cell(title)}`,
    '',
    '| | |',
    '|---|---|',
    `| Nodes | ${plan.nodes.length} in ${plan.batches.length} batch${plan.batches.length === 1 ? '' : 'es'} (${plan.mode}) |`,
    `| Parallelism | ${describeParallelism(plan.parallelism)} |`,
    `| Approval | ${input.approval}; rollback ${input.rollbackPolicy === 'automatic' ? 'automatic' : 'after approval'} |`,
    `| Preferred leader election | ${input.preferredLeaderElection ? 'after each node, for the partitions it is the preferred leader of' : 'off'} |`,
    `| Canary topic | ${input.canaryTopic ? cell(input.canaryTopic) : '-'} |`,
    ...(plan.targetVersion ? [`| Finalize (irreversible, after approval, once every node runs ${cell(plan.targetVersion)}) | ${finalizeStep(plan)} |`] : []),
    `| Estimated time | about ${formatDuration(plan.estimate.typicalSeconds)}; a human is asked after at most ${formatDuration(plan.estimate.worstCaseSeconds)} of waiting |`,
    '',
    '| Batch | Node | Host | Kind | Why here | Batch reason |',
    '|---:|---:|---|---|---|---|',
  ];
  plan.batches.forEach((b, i) => {
    b.nodes.forEach((n, j) => {
      const role = `${kindLabel[n.kind]}${n.activeController ? ' (active controller)' : ''}`;
      lines.push(`| ${j === 0 ? i + 1 : ''} | ${n.nodeId} | ${cell(n.host)} | ${role} | ${cell(n.why)} | ${j === 0 ? cell(b.reason) : ''} |`);
    });
  });
  const section = (heading: string, items: string[]) => {
    if (items.length > 0) lines.push('', `**${heading}**`, '', ...items.map((t) => `- ${cell(t)}`));
  };
  section('Problems (the run will not start)', plan.problems);
  section('Warnings', plan.warnings);
  section('Notes', plan.notes);
  return lines.join('\n');
}
