import type { HealthReport } from './evaluate';

const MAX_FINDINGS_SHOWN = 30;

/** Table cells and inline text: a `|` would split the cell, a newline would end the table. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function yesNo(value: boolean | null): string {
  return value === null ? '?' : value ? 'yes' : '**no**';
}

/** A short markdown summary of a health report for the Temporal Web UI. */
export function renderHealthMarkdown(report: HealthReport, clusterName: string): string {
  const counts = { critical: 0, warning: 0, info: 0 };
  for (const f of report.findings) counts[f.severity]++;
  const { partitions: p } = report;
  const lines: string[] = [];

  lines.push(
    `### ${cell(clusterName)}: ${report.status.toUpperCase()}`,
    '',
    `Checked ${report.checkedAt}. ${counts.critical} critical, ${counts.warning} warning, ${counts.info} info` +
      (report.findingsTruncated > 0 ? ` (+${report.findingsTruncated} not shown)` : '') +
      `. Partitions: ${p.total} total, ${p.offline.count} offline, ${p.underReplicated.count} under-replicated, ` +
      `${p.underMinIsr.count} under min ISR; ${report.reassignments.count} reassignments in flight.`,
    '',
    '**Brokers**',
    '',
  );
  // A list, not a table: the Web UI renders tables without cell padding, which runs the columns together.
  for (const b of report.brokers) {
    const offline = b.offlineReplicaCount > 0 ? ` (${b.offlineReplicaCount} offline)` : '';
    lines.push(
      `- broker ${b.nodeId} on ${cell(b.host)}: registered ${yesNo(b.registered)}, running ${yesNo(b.processRunning)}, ` +
        `version ${cell(b.version ?? '?')}, ${b.leaderCount} leaders, ${b.replicaCount} replicas${offline}`,
    );
  }

  const { controller } = report;
  lines.push('');
  if (controller.quorum) {
    const q = controller.quorum;
    const voters = q.voters
      .map((v) => `${v.nodeId}${v.leader ? ' (leader)' : v.caughtUp ? '' : ` lagging ${v.lagMs === null ? 'never caught up' : `${v.lagMs} ms`}, ${v.lagOffsets} offsets`}`)
      .join(', ');
    lines.push(
      `**Quorum** (KRaft): leader ${q.leaderId < 0 ? '**none**' : q.leaderId}${q.leaderEpoch >= 0 ? `, epoch ${q.leaderEpoch}` : ''}; ` +
        `${q.caughtUpVoters}/${q.voters.length} voters caught up (majority ${q.majority}): ${voters}.`,
    );
  } else if (controller.mode === 'kraft') {
    lines.push('**Quorum** (KRaft): state unknown.');
  } else {
    lines.push(`**Controller** (ZooKeeper mode): ${controller.controllerId === null ? '**none**' : `broker ${controller.controllerId}`}.`);
  }

  if (report.findings.length > 0) {
    lines.push('', '**Findings**', '');
    for (const f of report.findings.slice(0, MAX_FINDINGS_SHOWN)) {
      lines.push(`- ${f.severity === 'info' ? 'info' : `**${f.severity}**`} \`${f.code}\`: ${cell(f.message)}`);
    }
    const hidden = Math.max(0, report.findings.length - MAX_FINDINGS_SHOWN) + report.findingsTruncated;
    if (hidden > 0) lines.push(`- ...and ${hidden} more`);
  } else {
    lines.push('', 'No findings.');
  }
  return lines.join('\n') + '\n';
}
