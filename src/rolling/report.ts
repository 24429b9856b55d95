/** The closing report of a rolling restart or upgrade: what the CLI prints and the UI shows at the end. */
import { type ControlRecord } from '../names';

export type NodeOutcome = 'restarted' | 'skipped' | 'rolled-back' | 'failed' | 'not-started';

export interface NodeReport {
  host: string;
  nodeId: number;
  oldVersion: string | null;
  newVersion: string | null;
  /** From the stop command to the node being caught up again. */
  downMs: number | null;
  /** Waiting for the guards before its batch. */
  guardWaitMs: number;
  outcome: NodeOutcome;
  note: string | null;
}

export interface FinalizeReport {
  feature: 'metadata.version' | 'inter.broker.protocol.version';
  before: string | null;
  after: string | null;
  /** ZooKeeper mode: the second rolling restart that put the new protocol version in force. */
  roll: NodeReport[] | null;
}

export interface GateReport {
  gate: string;
  outcome: string;
  approver: string;
  reason: string | null;
}

export interface RollingRestartResult {
  targetVersion: string | null;
  batches: number;
  nodes: NodeReport[];
  finalized: FinalizeReport | null;
  /** Why the finalize did not run, when it did not (the run can still have completed). */
  finalizeSkipped: string | null;
  gates: GateReport[];
  /** Pause and resume requests the run took (an abort ends it: the failure names who asked); absent on older runs. */
  controlRequests?: ControlRecord[];
  wallMs: number;
  /** The same, as markdown: printed by the CLI, shown by the UI. */
  markdown: string;
}

const seconds = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
const cell = (s: string | null): string => (s ?? '-').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function nodeTable(nodes: NodeReport[]): string[] {
  return [
    '| node | host | outcome | version before | version after | down | guard wait | note |',
    '|---|---|---|---|---|---|---|---|',
    ...nodes.map((n) => `| ${n.nodeId} | ${cell(n.host)} | ${n.outcome} | ${cell(n.oldVersion)} | ${cell(n.newVersion)} | ${seconds(n.downMs)} | ${seconds(n.guardWaitMs)} | ${cell(n.note)} |`),
  ];
}

export function renderRollingReport(r: Omit<RollingRestartResult, 'markdown'>, cluster: string): string {
  const restarted = r.nodes.filter((n) => n.outcome === 'restarted').length;
  const title = r.targetVersion ? `Rolling upgrade of ${cluster} to ${r.targetVersion}` : `Rolling restart of ${cluster}`;
  const lines = [`### ${cell(title)}: ${restarted} of ${r.nodes.length} nodes restarted in ${r.batches} batches, ${seconds(r.wallMs)}`, '', ...nodeTable(r.nodes)];
  if (r.finalized) {
    lines.push('', `**Finalized** ${r.finalized.feature}: ${cell(r.finalized.before)} → ${cell(r.finalized.after)} (irreversible).`);
    if (r.finalized.roll) lines.push('', 'Second rolling restart, for the protocol version:', '', ...nodeTable(r.finalized.roll));
  } else if (r.finalizeSkipped) {
    lines.push('', `**Not finalized:** ${cell(r.finalizeSkipped)}`);
  }
  lines.push('', r.gates.length === 0 ? 'No gates were needed.' : 'Gates:', '');
  for (const g of r.gates) lines.push(`- ${cell(g.gate)}: ${g.outcome} by ${cell(g.approver)}${g.reason ? ` (${cell(g.reason)})` : ''}`);
  const requests = r.controlRequests ?? [];
  if (requests.length > 0) lines.push('', 'Pause, resume and abort requests:', '');
  for (const c of requests) lines.push(`- ${c.action} by ${cell(c.by)}${c.authenticated ? '' : ' (unauthenticated)'}${c.reason ? ` (${cell(c.reason)})` : ''}`);
  return lines.join('\n').trimEnd();
}
