/** The mirrorBackup report as markdown, for the run's result and the Web UI. Pure. */

export interface BackupReportInput {
  source: string;
  backup: string;
  point: { id: string; topics: number; partitions: number; records: number; recordsThisRun: number; bytes: number | null; bytesThisRun: number | null; lagRecords: number; groups: number; aclsCaptured: boolean };
  mirrorMaker: { host: string; action: string }[];
  tasks: { connector: string; task: number | null; state: string; trace: string | null }[];
  waitedMs: number;
}

export function renderBackupReport(r: BackupReportInput): string {
  const lines = [
    `## Backup point ${r.point.id}: ${r.source} → ${r.backup}`,
    '',
    `| topics | partitions | records in the backup | records this run | bytes in the backup | bytes this run | lag at end | consumer groups | ACLs |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|---|`,
    `| ${r.point.topics} | ${r.point.partitions} | ${r.point.records} | ${r.point.recordsThisRun} | ${r.point.bytes ?? 'unknown'} | ${r.point.bytesThisRun ?? 'unknown'} | ${r.point.lagRecords} | ${r.point.groups} | ${r.point.aclsCaptured ? 'captured' : 'none (no authorizer)'} |`,
    '',
    `MirrorMaker 2 reached the source's end offsets in ${(r.waitedMs / 1000).toFixed(1)} s.`,
    '',
    '| MirrorMaker 2 host | action |',
    '|---|---|',
    ...r.mirrorMaker.map((m) => `| ${m.host} | ${m.action} |`),
    '',
    '| connector | task | state |',
    '|---|---:|---|',
    ...r.tasks.map((t) => `| ${t.connector} | ${t.task ?? '-'} | ${t.state}${t.trace ? `: ${t.trace}` : ''} |`),
  ];
  return lines.join('\n');
}
