import { type MigrationObservation } from './observe';
import { gaugeName, MIGRATION_ORDER, MIGRATION_TRANSITIONS, type MigrationState, rollbackFrom, rollbackRefusal } from './states';

/** Markdown for the UI details and the report. Workflow-safe. */

/** A fingerprint per topic (partitions, assignments, non-default configs) and per ACL binding; computed on the worker. */
export interface MetadataSnapshot {
  topics: Record<string, string>;
  acls: string[];
  /** Set when ACLs could not be listed (no authorizer): compared as such. */
  aclsUnavailable: string | null;
}

export interface MetadataDiff {
  same: boolean;
  topicsMissing: string[];
  topicsAdded: string[];
  topicsChanged: string[];
  aclsMissing: number;
  aclsAdded: number;
  note: string | null;
}

const FIRST = 50;

/** Before vs after. Topics the runbook's own canary may create are not the cluster's metadata changing. */
export function diffMetadata(before: MetadataSnapshot, after: MetadataSnapshot, ignoreTopics: string[] = []): MetadataDiff {
  const skip = new Set(ignoreTopics);
  const names = (s: MetadataSnapshot) => Object.keys(s.topics).filter((t) => !skip.has(t));
  const a = new Set(names(after));
  const b = new Set(names(before));
  const topicsMissing = [...b].filter((t) => !a.has(t)).sort();
  const topicsAdded = [...a].filter((t) => !b.has(t)).sort();
  const topicsChanged = [...b].filter((t) => a.has(t) && before.topics[t] !== after.topics[t]).sort();
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const ab = count(before.acls);
  const aa = count(after.acls);
  let aclsMissing = 0;
  let aclsAdded = 0;
  for (const [k, n] of ab) aclsMissing += Math.max(0, n - (aa.get(k) ?? 0));
  for (const [k, n] of aa) aclsAdded += Math.max(0, n - (ab.get(k) ?? 0));
  const note = before.aclsUnavailable !== after.aclsUnavailable ? `ACLs readable before: ${before.aclsUnavailable ?? 'yes'}; after: ${after.aclsUnavailable ?? 'yes'}` : null;
  const same = topicsMissing.length + topicsAdded.length + topicsChanged.length + aclsMissing + aclsAdded === 0 && note === null;
  return { same, topicsMissing: topicsMissing.slice(0, FIRST), topicsAdded: topicsAdded.slice(0, FIRST), topicsChanged: topicsChanged.slice(0, FIRST), aclsMissing, aclsAdded, note };
}

export function renderMetadataDiff(d: MetadataDiff, counts: { topics: number; acls: number }): string {
  if (d.same) return `**Metadata diff**: identical before and after (${counts.topics} topics with their partitions, assignments and configs; ${counts.acls} ACL bindings).`;
  const lines = ['**Metadata diff**: DIFFERENT'];
  if (d.topicsMissing.length > 0) lines.push(`- topics missing after: ${d.topicsMissing.join(', ')}`);
  if (d.topicsAdded.length > 0) lines.push(`- topics added: ${d.topicsAdded.join(', ')}`);
  if (d.topicsChanged.length > 0) lines.push(`- topics whose partitions, assignments or configs changed: ${d.topicsChanged.join(', ')}`);
  if (d.aclsMissing > 0) lines.push(`- ACL bindings missing after: ${d.aclsMissing}`);
  if (d.aclsAdded > 0) lines.push(`- ACL bindings added: ${d.aclsAdded}`);
  if (d.note) lines.push(`- ${d.note}`);
  return lines.join('\n');
}

/**
 * The state diagram with the current state marked, and what can be done from here: the next step forward
 * and the rollback still possible (or why none is).
 */
export function renderStateDiagram(obs: MigrationObservation): string {
  if (!obs.ok) return ['**Migration state**: cannot tell; the readings disagree:', ...obs.disagreements.map((d) => `- ${d}`)].join('\n');
  const row = (s: MigrationState) => {
    const here = s === obs.state;
    const label = here ? `**▶ ${s}**${obs.phase ? ` (${obs.phase})` : ''}` : s;
    return `${here ? '' : '  '}${label}`;
  };
  const lines = ['**Migration state**', '```', MIGRATION_ORDER.map((s) => (s === obs.state ? `[${s}]` : s)).join(' → '), '```', MIGRATION_ORDER.map(row).join(' → ')];
  if (obs.inProgress) lines.push(`\nRoll toward ${obs.inProgress.toward} part-way: done on ${obs.inProgress.done.join(', ')}; not yet on ${obs.inProgress.pending.join(', ')}.`);
  if (obs.gauges) lines.push(`\nZkMigrationState ${gaugeName(obs.gauges.zkMigrationState)}, ZkWriteBehindLag ${obs.gauges.zkWriteBehindLag ?? 'unknown'}.`);
  const next = MIGRATION_TRANSITIONS[obs.state].find((t) => t.kind === 'forward');
  lines.push(`\nNext: ${next ? `${next.to}: ${next.note}` : 'nothing, the migration is done'}.`);
  const back = rollbackFrom(obs.state);
  const refusal = rollbackRefusal(obs);
  if (back && refusal === null) lines.push(`Rollback possible: to ${back.to}: ${back.note}.`);
  else lines.push(`Rollback: not now (${refusal ?? 'none'}).`);
  for (const n of obs.notes) lines.push(`- ${n}`);
  return lines.join('\n');
}

export interface PhaseTiming {
  phase: string;
  startedAt: string;
  ms: number;
}

export interface MigrationGateReport {
  gate: string;
  outcome: string;
  choice: string | null;
  approver: string;
  reason: string | null;
}

export interface MigrationResult {
  startState: MigrationState;
  endState: MigrationState;
  goal: 'kraft' | 'rollback';
  phases: PhaseTiming[];
  metadataDiff: MetadataDiff | null;
  /** The controller's "Completed migration of metadata from ZooKeeper to KRaft" line, when this run waited for it. */
  migrationLogLine: string | null;
  gates: MigrationGateReport[];
  inventorySnippet: string | null;
  wallMs: number;
}

/**
 * What to change in the inventory once the migration is finalized: the runbook never edits it. The mode
 * becomes kraft; brokers keep their roles; controllers keep theirs (their nodeId is their node.id).
 */
export function inventorySnippet(cluster: string, brokers: { host: string; nodeId: number }[], controllers: { host: string; nodeId: number }[]): string {
  return [
    `# ${cluster}: after the ZooKeeper-to-KRaft migration (paste over the matching fields)`,
    'mode: kraft',
    '# zookeeperConnect: remove it once ZooKeeper is decommissioned',
    'hosts:',
    ...brokers.map((b) => `  - name: ${b.host}\n    nodeId: ${b.nodeId}\n    roles: [broker]`),
    ...controllers.map((c) => `  - name: ${c.host}\n    nodeId: ${c.nodeId}\n    roles: [controller]`),
  ].join('\n');
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function renderMigrationReport(r: MigrationResult, cluster: string): string {
  const lines = [`## Migration report: ${cluster}`, `From **${r.startState}** to **${r.endState}** (goal ${r.goal}) in ${secs(r.wallMs)}.`, '', '| phase | started | took |', '|---|---|---|'];
  for (const p of r.phases) lines.push(`| ${p.phase} | ${p.startedAt} | ${secs(p.ms)} |`);
  if (r.migrationLogLine) lines.push('', `Controller log: \`${r.migrationLogLine.replace(/`/g, "'")}\``);
  if (r.metadataDiff) lines.push('', renderMetadataDiff(r.metadataDiff, { topics: 0, acls: 0 }).replace(/ \(0 topics.*\)\./, '.'));
  lines.push('', '**Gates**:');
  if (r.gates.length === 0) lines.push('- none');
  for (const g of r.gates) lines.push(`- \`${g.gate}\`: ${g.outcome}${g.choice ? ` (${g.choice})` : ''} by ${g.approver}${g.reason ? `: ${g.reason}` : ''}`);
  if (r.inventorySnippet) lines.push('', 'Inventory: the runbook does not edit it. Change these fields:', '```yaml', r.inventorySnippet, '```');
  return lines.join('\n');
}
