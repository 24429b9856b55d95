import { z } from 'zod';
import { approversSchema, atMost, boundedString, clusterNameSchema, LIMITS, wholeNumber } from '../limits';

/** A regular expression over names, matched against the whole name (as MirrorMaker 2's topic and group lists are). */
const namePattern = boundedString(1000)
  .min(1, 'must not be empty')
  .refine((p) => {
    try {
      new RegExp(`^(?:${p})$`);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');

const patterns = (what: string) =>
  z
    .object({
      /** Names matching any of these (whole-name regular expressions). */
      include: z.array(namePattern).max(...atMost(100, `${what} patterns`)).default(['.*']),
      /** Left out even when included. */
      exclude: z.array(namePattern).max(...atMost(100, `${what} patterns`)).default([]),
    })
    .strict()
    .default({});

export const restoreFromBackupInput = z
  .object({
    /** The target: the cluster the data is restored into (the original after a disaster, or a new one). */
    cluster: clusterNameSchema,
    /** The cluster MirrorMaker 2 backed up into, holding the data and the backup points. */
    backupCluster: clusterNameSchema,
    /** Whose backup to restore: the source cluster the backup points were taken of. Defaults to `cluster`. */
    sourceCluster: clusterNameSchema.optional(),
    /** A backup point id (`backups list` shows them); absent: the latest, or the first one taken at or after `at`. */
    backupPoint: boundedString(200).min(1).optional(),
    /** Restore only records up to this time (ISO 8601): each partition stops at its first record after it. */
    at: z.string().datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-30T02:00:00Z' }).optional(),
    topics: patterns('topic'),
    groups: patterns('group'),
    /** A topic that already exists on the target is refused, unless `append` (records go after what it holds). */
    existing: z.enum(['refuse', 'append']).default('refuse'),
    /**
     * Where consumer group offsets come from: MirrorMaker 2's checkpoints translated to the target's offsets,
     * a reset to `at` (or the backup point's time) by timestamp, or none.
     */
    groupOffsets: z.enum(['checkpoints', 'datetime', 'none']).default('checkpoints'),
    /**
     * The copier: `wire` (activities/restore/wire-copier.c, built on the copy host: it speaks Kafka's protocol
     * itself and moves record bytes, the fastest; PLAINTEXT clusters only; needs a C compiler and zlib, lz4, zstd
     * and snappy headers there), `librdkafka` (restore-copier.c, built there too; needs librdkafka 2.0.2 or
     * newer and its headers; any security), `java` (Kafka's Java client, from the host's Kafka jars), or `auto`:
     * the first of these that the clusters' security and the copy host allow. The plan names the copier and why.
     * All write with acks=all and idempotence; the verification always reads with Kafka's Java client.
     */
    copier: z.enum(['auto', 'wire', 'librdkafka', 'java']).default('auto'),
    /** Partitions per copy activity (one copier process each, on the copy host). */
    partitionsPerCopy: wholeNumber(1, 1000).default(8),
    /** Copy activities at once. */
    parallelCopies: wholeNumber(1, 32).default(2),
    /** The target host the copier and the verifier run on; absent: the first broker host of the target. */
    copyHost: boundedString(LIMITS.maxNameLength).min(1).optional(),
    /** The longest one copy or verification activity may run, retries included. */
    copyTimeoutMinutes: wholeNumber(1, LIMITS.maxTimeoutMinutes, 'minutes').default(24 * 60),
    /** Replication factor of created topics; absent: the backup point's, capped at the target's broker count. */
    replicationFactor: wholeNumber(1, LIMITS.maxReplicationFactor).optional(),
    approvers: approversSchema.optional(),
  })
  .strict()
  .superRefine((i, ctx) => {
    if (i.cluster === i.backupCluster) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backupCluster'], message: 'must not be the target cluster itself' });
  });

export type RestoreFromBackupInput = z.input<typeof restoreFromBackupInput>;
export type RestoreFromBackupParsed = z.output<typeof restoreFromBackupInput>;

/** Whether a name is selected by include/exclude whole-name patterns. */
export function selectedBy(sel: { include: string[]; exclude: string[] }, name: string): boolean {
  const whole = (p: string) => new RegExp(`^(?:${p})$`).test(name);
  return sel.include.some(whole) && !sel.exclude.some(whole);
}
