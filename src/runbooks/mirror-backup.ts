import { z } from 'zod';
import { patternProblems } from '../backup/mm2-config';
import { atMost, boundedString, clusterNameSchema, LIMITS, wholeNumber } from '../limits';

const patterns = (fallback: string[]) =>
  z
    .array(boundedString(LIMITS.maxTopicLength * 2))
    .max(...atMost(1000, 'patterns'))
    .default(fallback);

const patternSet = (include: string[]) =>
  z
    .object({
      /** Regexes over whole names (Java syntax, as MM2 reads them); no "," inside a pattern. */
      include: patterns(include),
      exclude: patterns([]),
    })
    .strict()
    .default({});

/** Input of mirrorBackup: the source cluster (its inventory names the backup cluster and the MM2 hosts). */
export const mirrorBackupInput = z
  .object({
    /** The source cluster, backed up to the cluster its inventory names under `backup`. */
    cluster: clusterNameSchema,
    topics: patternSet(['.*']),
    groups: patternSet(['.*']),
    /** identity keeps topic names on the backup; default renames them `<source>.<topic>`. */
    replicationPolicy: z.enum(['identity', 'default']).default('identity'),
    tasksMax: wholeNumber(1, 1000).default(4),
    /** Of the mirrored topics and MM2's own topics on the backup cluster: at most its broker count. */
    replicationFactor: wholeNumber(1, LIMITS.maxReplicationFactor).default(3),
    /** MM2 keeps its offset-syncs on the source (sharper group offset translation) and heartbeats there. Off: nothing is written to the source. */
    allowWritesToSource: z.boolean().default(false),
    checkpointIntervalSeconds: wholeNumber(1, 86_400, 'seconds').default(60),
    /** How often MM2 looks for new topics and groups. */
    refreshIntervalSeconds: wholeNumber(1, 86_400, 'seconds').default(60),
    /** How often MM2 records how far it got; the catch-up check sees progress no faster. */
    offsetFlushIntervalMs: wholeNumber(500, 600_000, 'ms').default(10_000),
    /** Give up waiting for MM2 to reach the captured end offsets after this long: the run fails. */
    catchUpTimeoutMinutes: wholeNumber(1, LIMITS.maxTimeoutMinutes, 'minutes').default(60),
  })
  .strict()
  .superRefine((i, ctx) => {
    const add = (path: string, problems: string[]) => {
      for (const message of problems) ctx.addIssue({ code: z.ZodIssueCode.custom, path: path.split('.'), message });
    };
    add('topics.include', patternProblems('topics.include', i.topics.include));
    add('topics.exclude', patternProblems('topics.exclude', i.topics.exclude));
    add('groups.include', patternProblems('groups.include', i.groups.include));
    add('groups.exclude', patternProblems('groups.exclude', i.groups.exclude));
    if (i.topics.include.length === 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['topics', 'include'], message: 'must list at least one pattern' });
  });

export type MirrorBackupInput = z.input<typeof mirrorBackupInput>;
export type MirrorBackupSettings = z.infer<typeof mirrorBackupInput>;
