import { z } from 'zod';
import { boundedString, int32Id, LIMITS } from '../limits';

/**
 * A backup point: what one `mirrorBackup` run proved is on the backup cluster, written as JSON into a compacted
 * topic of ours on the backup cluster (key: `backupPointKey`). `restoreFromBackup` reads it back to plan a
 * restore. Pure (zod only): safe to import from workflows.
 *
 * Offsets are Kafka int64 offsets held as JS numbers (exact up to 2^53-1, far past any real log).
 * MM2 keeps partition numbers but not offsets, so both sides are recorded per partition.
 */

export const MANIFEST_VERSION = 1 as const;

/** Our compacted topic on the backup cluster holding one record per backup point. */
export const BACKUP_POINTS_TOPIC = 'kafka-runbooks.backup-points';

const offset = z
  .number()
  .int('offsets are whole numbers')
  .min(0, 'offsets are 0 or more')
  .max(Number.MAX_SAFE_INTEGER, `offsets are at most ${Number.MAX_SAFE_INTEGER}`);
const topicName = boundedString(LIMITS.maxTopicLength)
  .min(1, 'must not be empty')
  .regex(/^[a-zA-Z0-9._-]+$/, 'must be a Kafka topic name (letters, digits, ".", "_" or "-")');
const clusterName = boundedString(LIMITS.maxNameLength).min(1, 'must name a cluster');

export const backupPartitionSchema = z
  .object({
    partition: int32Id('partitions'),
    /** The source's log start offset when the run began (records below it were already deleted). */
    sourceStartOffset: offset,
    /** The source's end offset captured at the start of the run: the backup holds every record below it. */
    sourceEndOffset: offset,
    /** The source offset MM2 had replicated up to (its `mm2-offsets` position + 1) when the run checked: >= sourceEndOffset. */
    sourceOffsetReached: offset,
    /** The backup topic's log start and end offsets read after MM2 reached sourceEndOffset: a restore copies [start, end). */
    backupStartOffset: offset,
    backupEndOffset: offset,
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.sourceStartOffset > p.sourceEndOffset) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sourceStartOffset'], message: 'must not be above sourceEndOffset' });
    if (p.sourceOffsetReached < p.sourceEndOffset) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sourceOffsetReached'], message: 'must be at least sourceEndOffset (the backup point is only written once MM2 reached it)' });
    if (p.backupStartOffset > p.backupEndOffset) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backupStartOffset'], message: 'must not be above backupEndOffset' });
  });

export const backupTopicSchema = z
  .object({
    /** The topic's name on the source. */
    name: topicName,
    /** Its name on the backup cluster (the same under the identity replication policy, `<alias>.<name>` under the default one). */
    backupName: topicName,
    partitionCount: z.number().int().min(1, 'a topic has at least one partition').max(LIMITS.maxInt32),
    replicationFactor: z.number().int().min(1).max(LIMITS.maxReplicationFactor),
    /** Topic-level config overrides on the source (what a restore sets when it creates the topic); defaults are not listed. */
    configs: z.record(boundedString(255), z.string().max(65_536).nullable()),
    partitions: z.array(backupPartitionSchema),
    /** The backup topic's size on disk at the point (largest replica per partition, summed); absent when it could not be read. */
    backupBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Set<number>();
    t.partitions.forEach((p, i) => {
      if (seen.has(p.partition)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['partitions', i, 'partition'], message: `duplicate partition ${p.partition}` });
      if (p.partition >= t.partitionCount) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['partitions', i, 'partition'], message: `partition ${p.partition} is not below partitionCount ${t.partitionCount}` });
      seen.add(p.partition);
    });
    if (seen.size !== t.partitionCount) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['partitions'], message: `lists ${seen.size} partitions, but partitionCount is ${t.partitionCount}` });
  });

/** One ACL binding of the source, in kafkajs's words (enum names, not numbers). */
export const backupAclSchema = z
  .object({
    resourceType: boundedString(64),
    resourceName: boundedString(LIMITS.maxNameLength + 16),
    patternType: boundedString(64),
    principal: boundedString(LIMITS.maxNameLength + 16),
    host: boundedString(LIMITS.maxNameLength),
    operation: boundedString(64),
    permissionType: boundedString(64),
  })
  .strict();

export const backupGroupOffsetSchema = z
  .object({
    topic: topicName,
    partition: int32Id('partitions'),
    /** The group's committed offset on the source when the run captured it. */
    committedOffset: offset,
    /** MM2's checkpoint for it: the offset translated to the backup topic (`null` when MM2 emitted none yet). */
    translatedOffset: offset.nullable(),
  })
  .strict();

export const backupGroupSchema = z
  .object({
    groupId: boundedString(LIMITS.maxNameLength * 4).min(1),
    /** The group's state on the source when captured (Stable, Empty, ...). */
    state: boundedString(64),
    offsets: z.array(backupGroupOffsetSchema),
  })
  .strict();

export const backupPointSchema = z
  .object({
    version: z.literal(MANIFEST_VERSION),
    /** Unique per source cluster; also the record key's tail. */
    id: boundedString(200).regex(/^[A-Za-z0-9._:-]+$/, 'must be letters, digits, ".", "_", ":" or "-"'),
    /** When the backup point was taken (the source end offsets captured), ISO 8601 UTC. */
    time: z.string().datetime({ message: 'must be an ISO 8601 UTC date-time' }),
    sourceCluster: clusterName,
    backupCluster: clusterName,
    /** MM2's cluster aliases: checkpoints are in `<sourceAlias>.checkpoints.internal` on the backup. */
    mm2: z
      .object({
        sourceAlias: boundedString(LIMITS.maxNameLength).min(1),
        targetAlias: boundedString(LIMITS.maxNameLength).min(1),
        replicationPolicy: z.enum(['identity', 'default']),
      })
      .strict(),
    /** The run that wrote it. */
    workflowId: boundedString(1000).optional(),
    topics: z.array(backupTopicSchema),
    acls: z
      .object({
        /** False when the source has no authorizer (or denied DescribeAcls); reason says which. */
        captured: z.boolean(),
        reason: boundedString(1000).optional(),
        bindings: z.array(backupAclSchema),
      })
      .strict(),
    consumerGroups: z.array(backupGroupSchema),
  })
  .strict()
  .superRefine((b, ctx) => {
    const names = new Set<string>();
    b.topics.forEach((t, i) => {
      if (names.has(t.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['topics', i, 'name'], message: `duplicate topic "${t.name}"` });
      names.add(t.name);
    });
  });

export type BackupPoint = z.infer<typeof backupPointSchema>;
export type BackupTopic = z.infer<typeof backupTopicSchema>;
export type BackupPartition = z.infer<typeof backupPartitionSchema>;
export type BackupAcl = z.infer<typeof backupAclSchema>;
export type BackupGroup = z.infer<typeof backupGroupSchema>;
export type BackupGroupOffset = z.infer<typeof backupGroupOffsetSchema>;

/** The record key of a backup point in BACKUP_POINTS_TOPIC: one backup cluster may hold points of several sources. */
export function backupPointKey(point: Pick<BackupPoint, 'sourceCluster' | 'id'>): string {
  return `${point.sourceCluster}/${point.id}`;
}

/** A backup point id from its time: sortable, unique per second per source. */
export function backupPointId(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export type ParsedBackupPoint = { ok: true; point: BackupPoint } | { ok: false; problem: string };

/** Parses a stored manifest (JSON text); a problem names the first bad fields. Newer versions are refused by name. */
export function parseBackupPoint(json: string): ParsedBackupPoint {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return { ok: false, problem: `not JSON: ${(e as Error).message}` };
  }
  if (typeof raw === 'object' && raw !== null && 'version' in raw && raw.version !== MANIFEST_VERSION) {
    return { ok: false, problem: `manifest version ${String(raw.version)} is not ${MANIFEST_VERSION}, the one this build reads` };
  }
  const parsed = backupPointSchema.safeParse(raw);
  if (parsed.success) return { ok: true, point: parsed.data };
  const problem = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, problem };
}

/** Records the backup holds for a topic: the sum of [backupStartOffset, backupEndOffset) over its partitions. */
export function backupRecordCount(topic: BackupTopic): number {
  return topic.partitions.reduce((n, p) => n + (p.backupEndOffset - p.backupStartOffset), 0);
}
