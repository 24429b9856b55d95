/**
 * MirrorMaker 2 (dedicated mode) config for a one-way backup flow `source->backup`. Pure: the same input always
 * renders the same text, so "is MM2 running with exactly this config" is a byte comparison with the host's file.
 *
 * What it guarantees by default:
 * - topic names kept (IdentityReplicationPolicy), configs synced, read_committed on the source;
 * - nothing written to the source: offset-syncs on the target, the reverse flow and its heartbeats off,
 *   ACL sync off (the backup point records the ACLs itself);
 * - MM2's own topics (`.internal`, `.replica`, `__*`) never mirrored, whatever excludes the input adds.
 */

export const REPLICATION_POLICIES = {
  identity: 'org.apache.kafka.connect.mirror.IdentityReplicationPolicy',
  default: 'org.apache.kafka.connect.mirror.DefaultReplicationPolicy',
} as const;
export type ReplicationPolicyName = keyof typeof REPLICATION_POLICIES;

/** MM2's own default topic excludes: kept under any excludes the input adds (an exclude list replaces them). */
export const ALWAYS_EXCLUDED_TOPICS = ['.*[\\-\\.]internal', '.*\\.replica', '__.*'] as const;
/** MM2's own default group excludes. */
export const ALWAYS_EXCLUDED_GROUPS = ['console-consumer-.*', 'connect-.*', '__.*'] as const;

export interface Mm2ClusterConnection {
  /** MM2's alias for the cluster (our inventory name). */
  alias: string;
  bootstrapServers: string[];
  /** PEM CA file on the MM2 host; TLS is off without it. */
  tlsCaFile?: string;
}

export interface Mm2BackupSettings {
  source: Mm2ClusterConnection;
  target: Mm2ClusterConnection;
  topics: { include: string[]; exclude: string[] };
  groups: { include: string[]; exclude: string[] };
  replicationPolicy: ReplicationPolicyName;
  tasksMax: number;
  /** Of the mirrored topics and MM2's own topics on the backup cluster. */
  replicationFactor: number;
  /** Lets MM2 keep its offset-syncs on the source (better offset translation) and send heartbeats there. */
  allowWritesToSource: boolean;
  checkpointIntervalSeconds: number;
  refreshIntervalSeconds: number;
  /** How often MM2 records its position in mm2-offsets: the catch-up check cannot see progress faster. */
  offsetFlushIntervalMs: number;
}

/** Problems with patterns MM2 would misread: it splits its lists on commas, so a comma inside a regex breaks it. */
export function patternProblems(field: string, patterns: string[]): string[] {
  const problems: string[] = [];
  patterns.forEach((p, i) => {
    if (p.trim() === '') problems.push(`${field}[${i}]: must not be empty`);
    if (p.includes(',')) problems.push(`${field}[${i}] "${p}": MirrorMaker 2 splits its lists on ",", so a pattern cannot contain one`);
    if (/[\n\r]/.test(p)) problems.push(`${field}[${i}]: must be one line`);
    try {
      new RegExp(`^(?:${p})$`);
    } catch (e) {
      problems.push(`${field}[${i}] "${p}": not a regular expression (${(e as Error).message})`);
    }
  });
  return problems;
}

/** Java regexes and JS ones agree on the patterns operators write; this is how the runbook previews the match. */
export function matchesPatterns(name: string, include: string[], exclude: string[]): boolean {
  const full = (p: string) => new RegExp(`^(?:${p})$`);
  return include.some((p) => full(p).test(name)) && !exclude.some((p) => full(p).test(name));
}

export function topicExcludes(settings: Pick<Mm2BackupSettings, 'topics'>): string[] {
  return [...new Set([...ALWAYS_EXCLUDED_TOPICS, ...settings.topics.exclude])];
}

export function groupExcludes(settings: Pick<Mm2BackupSettings, 'groups'>): string[] {
  return [...new Set([...ALWAYS_EXCLUDED_GROUPS, ...settings.groups.exclude])];
}

/** The topic that tells the catch-up check how far MM2 got: on the backup cluster. */
export const mm2OffsetsTopic = (sourceAlias: string): string => `mm2-offsets.${sourceAlias}.internal`;
/** MM2's checkpoints (translated consumer group offsets) on the backup cluster. */
export const mm2CheckpointsTopic = (sourceAlias: string): string => `${sourceAlias}.checkpoints.internal`;

function clusterLines(c: Mm2ClusterConnection): [string, string][] {
  const lines: [string, string][] = [[`${c.alias}.bootstrap.servers`, c.bootstrapServers.join(',')]];
  if (c.tlsCaFile) {
    lines.push([`${c.alias}.security.protocol`, 'SSL'], [`${c.alias}.ssl.truststore.type`, 'PEM'], [`${c.alias}.ssl.truststore.location`, c.tlsCaFile]);
  }
  return lines;
}

/** Escapes a value for a Java properties file (backslashes are escapes there, and regexes are full of them). */
export function propertiesValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function renderMm2Config(s: Mm2BackupSettings): string {
  const src = s.source.alias;
  const dst = s.target.alias;
  const flow = `${src}->${dst}`;
  const reverse = `${dst}->${src}`;
  const rf = String(s.replicationFactor);
  const entries: [string, string][] = [
    ['clusters', `${src},${dst}`],
    ...clusterLines(s.source),
    ...clusterLines(s.target),
    [`${flow}.enabled`, 'true'],
    [`${flow}.topics`, s.topics.include.join(',')],
    [`${flow}.topics.exclude`, topicExcludes(s).join(',')],
    [`${flow}.groups`, s.groups.include.join(',')],
    [`${flow}.groups.exclude`, groupExcludes(s).join(',')],
    [`${flow}.consumer.isolation.level`, 'read_committed'],
    [`${flow}.emit.heartbeats.enabled`, 'true'],
    [`${flow}.emit.checkpoints.enabled`, 'true'],
    [`${flow}.emit.checkpoints.interval.seconds`, String(s.checkpointIntervalSeconds)],
    [`${flow}.sync.group.offsets.enabled`, 'false'],
    [`${flow}.offset-syncs.topic.location`, s.allowWritesToSource ? 'source' : 'target'],
    [`${reverse}.enabled`, 'false'],
    [`${reverse}.emit.heartbeats.enabled`, s.allowWritesToSource ? 'true' : 'false'],
    ['replication.policy.class', REPLICATION_POLICIES[s.replicationPolicy]],
    ['tasks.max', String(s.tasksMax)],
    ['sync.topic.configs.enabled', 'true'],
    ['sync.topic.acls.enabled', 'false'],
    ['refresh.topics.interval.seconds', String(s.refreshIntervalSeconds)],
    ['refresh.groups.interval.seconds', String(s.refreshIntervalSeconds)],
    // A worker setting reaches the herder writing to the backup only under the target cluster's prefix: MM2
    // ignores it top-level and under the flow's prefix (both seen as 60000 in the lab's MM2 log, 4.3.1).
    [`${dst}.offset.flush.interval.ms`, String(s.offsetFlushIntervalMs)],
    ['replication.factor', rf],
    ['offset-syncs.topic.replication.factor', rf],
    ['checkpoints.topic.replication.factor', rf],
    ['heartbeats.topic.replication.factor', rf],
    ['config.storage.replication.factor', rf],
    ['offset.storage.replication.factor', rf],
    ['status.storage.replication.factor', rf],
  ];
  return [
    `# MirrorMaker 2 backup of ${src} into ${dst}; rendered by kafka-runbooks mirrorBackup. Edits here are replaced on the next run.`,
    ...entries.map(([k, v]) => `${k}=${propertiesValue(v)}`),
    '',
  ].join('\n');
}
