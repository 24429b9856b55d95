import type { NodeId } from '../model/cluster';
import type { ReassignmentGoal, ReassignmentPlan } from './types';

const DEFAULT_MOVES_SHOWN = 20;

/** Table cells and inline text: a `|` would split the cell, a newline would end the table. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function describeGoal(goal: ReassignmentGoal): string {
  const topics = (list: string[] | undefined): string => (list ? ` (topics ${list.map((t) => `"${t}"`).join(', ')})` : '');
  switch (goal.kind) {
    case 'addBrokers':
      return `add broker${goal.brokerIds.length === 1 ? '' : 's'} ${goal.brokerIds.join(', ')}${topics(goal.topics)}`;
    case 'removeBrokers':
      return `remove broker${goal.brokerIds.length === 1 ? '' : 's'} ${goal.brokerIds.join(', ')}${topics(goal.topics)}`;
    case 'setReplicationFactor':
      return `set replication factor of "${goal.topic}" to ${goal.replicationFactor}`;
    case 'balanceLeaders':
      return 'balance preferred leaders';
    case 'explicit':
      return `explicit assignment of ${goal.partitions.length} partition${goal.partitions.length === 1 ? '' : 's'}`;
  }
}

/** Bytes for people: 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function spreadOf(counts: Record<NodeId, number>, brokers: string[]): string {
  const values = brokers.map((b) => counts[Number(b)] ?? 0);
  return values.length === 0 ? '-' : `${Math.min(...values)}..${Math.max(...values)}`;
}

/**
 * A markdown proposal for an operator to approve (Temporal Web UI, CLI): what moves, how much data, balance
 * before and after, and anything the planner could not do.
 */
export function renderPlanSummary(plan: ReassignmentPlan, options: { movesShown?: number } = {}): string {
  const s = plan.stats;
  const movesShown = options.movesShown ?? DEFAULT_MOVES_SHOWN;
  const brokers = Object.keys(s.replicasPerBroker.before).sort((a, b) => Number(a) - Number(b));
  const activeAfter = brokers.filter((b) => (s.replicasPerBroker.after[Number(b)] ?? 0) > 0);
  const ratio = Number.isFinite(s.movesOverLowerBound) ? s.movesOverLowerBound.toFixed(2) : 'n/a';
  const lines: string[] = [
    `### Reassignment plan: ${cell(describeGoal(plan.goal))}`,
    '',
    '| | |',
    '|---|---|',
    `| Partitions moving | ${s.partitionsMoved} of ${s.partitions} |`,
    `| Replica copies | ${s.replicasMoved} (lower bound ${s.lowerBound}, ratio ${ratio}) |`,
    `| Replicas deleted | ${s.replicasRemoved} |`,
    `| Data to copy | ${s.bytesMoved === null ? 'unknown (no partition sizes)' : formatBytes(s.bytesMoved)} |`,
    `| Preferred-leader changes | ${s.preferredLeaderChanges} (${plan.leaderChanges.length} reorders after the moves) |`,
    `| Replicas per broker (min..max, brokers holding any) | ${spreadOf(s.replicasPerBroker.before, brokers)} before, ${spreadOf(s.replicasPerBroker.after, activeAfter)} after |`,
    `| Leaders per broker (min..max) | ${spreadOf(s.leadersPerBroker.before, brokers)} before, ${spreadOf(s.leadersPerBroker.after, activeAfter)} after |`,
    `| Rack violations | ${s.rackViolations.before} before, ${s.rackViolations.after} after |`,
    '',
    '| Broker | Replicas before | Replicas after | Leaders before | Leaders after |',
    '|---:|---:|---:|---:|---:|',
  ];
  for (const b of brokers) {
    const id = Number(b);
    lines.push(`| ${b} | ${s.replicasPerBroker.before[id] ?? 0} | ${s.replicasPerBroker.after[id] ?? 0} | ${s.leadersPerBroker.before[id] ?? 0} | ${s.leadersPerBroker.after[id] ?? 0} |`);
  }
  if (plan.moves.length > 0) {
    const shown = Math.min(movesShown, plan.moves.length);
    lines.push('', `**Moves** (${shown} of ${plan.moves.length})`, '', '| Partition | From | To | Copies to |', '|---|---|---|---|');
    for (const m of plan.moves.slice(0, shown)) {
      lines.push(`| ${cell(`${m.topic}-${m.partition}`)} | ${m.from.join(', ')} | ${m.to.join(', ')} | ${m.addingReplicas.join(', ') || '-'} |`);
    }
  }
  if (plan.notes.length > 0) {
    lines.push('', '**Notes**', '');
    for (const note of plan.notes) lines.push(`- ${cell(note)}`);
  }
  return lines.join('\n');
}
