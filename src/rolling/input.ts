import { z } from 'zod';
import { approversSchema, atMost, boundedString, clusterNameSchema, int32Id, LIMITS } from '../limits';
import { hasControlCharacters } from './install-source';
import { migrationConfigEditSchema } from './migration-edit';

/**
 * Input of the `rollingRestart` runbook: a plain rolling restart, or a rolling upgrade when `targetVersion`
 * is given. Validated once, before anything on the cluster changes (see parseRunbookInput); every error
 * names its field.
 */

const VERSION = /^\d+\.\d+\.\d+$/;
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const HOST_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

/** A path on a host: `..` segments and control characters are refused outright (the worker checks the rest). */
const hostPath = (empty: string) =>
  boundedString(LIMITS.maxPathLength)
    .min(1, empty)
    .refine((p) => !hasControlCharacters(p), 'must not contain control characters')
    .refine((p) => !p.split('/').includes('..'), 'must not contain ".." segments');

/**
 * Where a host finds the install of the target version. The path must be under the host's installDir or one
 * of its stagingDirs (inventory); a relative path is under installDir. The worker checks this before
 * anything changes.
 * - `staged`: a directory already unpacked on the host;
 * - `archive`: a Kafka tarball on the host (e.g. /srv/staging/kafka_2.13-4.3.1.tgz), unpacked into installDir;
 *   with `sha256`, the host checks the tarball with sha256sum first and refuses a mismatch as unsafe.
 * Absent: the install must already be under installDir as `kafka_<scala>-<version>` or `kafka-<version>`.
 */
export const installSourceSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('staged'), path: hostPath('must name the unpacked install directory') }).strict(),
    z
      .object({
        kind: z.literal('archive'),
        path: hostPath('must name the tarball on the host'),
        sha256: z
          .string()
          .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits (sha256sum)')
          .optional(),
      })
      .strict(),
  ],
  { errorMap: (issue, ctx) => (issue.code === 'invalid_union_discriminator' ? { message: 'kind must be "staged" or "archive"' } : { message: ctx.defaultError }) },
);
export type InstallSource = z.infer<typeof installSourceSchema>;

export const restartOrders = ['auto', 'as-given'] as const;
export type RestartOrder = (typeof restartOrders)[number];

export const approvalPolicies = ['none', 'before-first-node', 'every-node', 'irreversible-only'] as const;
/**
 * When the runbook stops for a human:
 * - none: never, except before a forced kill (always gated, whatever the policy);
 * - before-first-node: once, before the first node goes down, and before irreversible steps;
 * - every-node: before every batch, and before irreversible steps;
 * - irreversible-only: only before irreversible steps (a protocol/metadata version bump) and a forced kill.
 */
export type ApprovalPolicy = (typeof approvalPolicies)[number];

export const rollbackPolicies = ['after-approval', 'automatic'] as const;
/** After a failed node: roll back (re-point `current`, restore the config) only once a human approves, or at once. */
export type RollbackPolicy = (typeof rollbackPolicies)[number];

export const DEFAULT_MAX_BATCH = 3;

export const parallelismSchema = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('one-at-a-time') }).strict(),
    /** Brokers sharing no partition restart together, at most maxBatch at a time. */
    z.object({ mode: z.literal('no-shared-partitions'), maxBatch: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100').default(DEFAULT_MAX_BATCH) }).strict(),
    /** A whole rack at once when every partition spans racks and min ISR holds; smaller batches otherwise. */
    z.object({ mode: z.literal('rack') }).strict(),
  ],
  {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union_discriminator' ? { message: 'mode must be "one-at-a-time", "no-shared-partitions" or "rack"' } : { message: ctx.defaultError },
  },
);
export type Parallelism = z.infer<typeof parallelismSchema>;

/** Defaults, in seconds. Generous: each is how long to wait before asking a human, not before failing. */
export const DEFAULT_TIMEOUTS = {
  /** Controlled shutdown until the process has exited (moves leadership away first; Kafka's own retries take ~30 s). */
  stopSeconds: 300,
  /** Start until the broker is registered (unfenced) again; log recovery after an unclean stop can take long. */
  registrationSeconds: 600,
  /** Registered until it is back in the ISR of every partition it holds. */
  catchUpSeconds: 1800,
  /** How long to wait for the restart guards (min ISR, quorum) to allow the next batch. */
  guardWaitSeconds: 1800,
} as const;

const seconds = (max: number) => z.number().int('must be a whole number of seconds').min(1, 'must be at least 1 second').max(max, `must be at most ${max} seconds`);
const hostName = boundedString(LIMITS.maxNameLength).regex(HOST_NAME, 'host names are letters, digits, ".", "_" or "-"');

export const timeoutsSchema = z
  .object({
    stopSeconds: seconds(86_400).default(DEFAULT_TIMEOUTS.stopSeconds),
    registrationSeconds: seconds(86_400).default(DEFAULT_TIMEOUTS.registrationSeconds),
    catchUpSeconds: seconds(LIMITS.maxTimeoutSeconds).default(DEFAULT_TIMEOUTS.catchUpSeconds),
    guardWaitSeconds: seconds(LIMITS.maxTimeoutSeconds).default(DEFAULT_TIMEOUTS.guardWaitSeconds),
  })
  .strict();
export type RestartTimeouts = z.infer<typeof timeoutsSchema>;

/** A node named by its id or by its inventory host name. */
const nodeRefSchema = z.union([int32Id('node ids'), hostName], {
  errorMap: (issue, ctx) => (issue.code === 'invalid_union' ? { message: 'must be a node id (number) or an inventory host name' } : { message: ctx.defaultError }),
});
export type NodeRef = z.infer<typeof nodeRefSchema>;

export const rollingRestartInput = z
  .object({
    /** The cluster's name in the worker's inventory. */
    cluster: clusterNameSchema,
    /** Upgrade (or downgrade) to this version; absent: a plain restart on the running version. */
    targetVersion: boundedString(32).regex(VERSION, 'must look like 3.9.2').optional(),
    /** Where every host finds the target version's install; absent: already under installDir. */
    source: installSourceSchema.optional(),
    /** Per-host overrides of `source`, by inventory host name. */
    sourceByHost: z
      .record(hostName, installSourceSchema)
      .refine((r) => Object.keys(r).length <= LIMITS.maxHosts, `must name at most ${LIMITS.maxHosts} hosts`)
      .optional(),
    /** Nodes to restart, by node id or host name; absent: every broker and controller of the inventory. */
    nodes: z
      .array(nodeRefSchema)
      .min(1, 'must list at least one node (leave it out for all nodes)')
      .max(...atMost(LIMITS.maxHosts, 'nodes'))
      .optional(),
    /** 'auto': unhealthy first, controllers before brokers, active controller last. 'as-given': the order of `nodes`. */
    order: z.enum(restartOrders, { errorMap: () => ({ message: 'must be "auto" or "as-given"' }) }).default('auto'),
    approval: z.enum(approvalPolicies, { errorMap: () => ({ message: `must be one of ${approvalPolicies.map((p) => `"${p}"`).join(', ')}` }) }).default('irreversible-only'),
    parallelism: parallelismSchema.default({ mode: 'one-at-a-time' }),
    timeouts: timeoutsSchema.default({}),
    /** After each node is back, elect it leader of the partitions it is preferred for (Kafka alone rebalances only every 300 s). */
    preferredLeaderElection: z.boolean().default(true),
    /** A topic to produce to and consume from after each batch, proving the cluster still serves clients. */
    canaryTopic: z.string().regex(TOPIC, 'must be a valid topic name (letters, digits, ".", "_", "-", up to 249)').optional(),
    rollbackPolicy: z.enum(rollbackPolicies, { errorMap: () => ({ message: 'must be "after-approval" or "automatic"' }) }).default('after-approval'),
    /** Who may answer this run's gates; absent: anyone. */
    approvers: approversSchema.optional(),
    /**
     * Nodes per child workflow. A restart of more nodes runs its batches in children of about this many nodes
     * each (`<run ID>/slice-<n>`), so no run's history nears Temporal's event limits (about 54 events a node).
     */
    nodesPerSlice: z.number().int().min(1).max(500).default(50),
    /** Set only by migrateToKRaft (its child runs): the migration's server.properties edit applied to each node while it is down. */
    migrationEdit: migrationConfigEditSchema.optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.targetVersion === undefined) {
      if (input.source) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['source'], message: 'only applies to an upgrade: set targetVersion too' });
      if (input.sourceByHost) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['sourceByHost'], message: 'only applies to an upgrade: set targetVersion too' });
    }
    if (input.nodes) {
      const seen = new Map<string, number>();
      input.nodes.forEach((n, i) => {
        const key = `${typeof n}:${n}`;
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['nodes', i], message: `${JSON.stringify(n)} is listed twice (also nodes[${first}])` });
        else seen.set(key, i);
      });
    }
    if (input.order === 'as-given' && !input.nodes) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['order'], message: '"as-given" needs the nodes listed in the order to restart them' });
    }
    if (input.migrationEdit && input.targetVersion !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['migrationEdit'], message: 'a migration roll does not change versions: leave targetVersion out' });
    if (input.approvers) {
      const dup = input.approvers.findIndex((a, i) => input.approvers?.indexOf(a) !== i);
      if (dup >= 0) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['approvers', dup], message: `"${input.approvers[dup]}" is listed twice` });
    }
  });

/** What callers (UI, CLI) send: defaults may be left out. */
export type RollingRestartInputRaw = z.input<typeof rollingRestartInput>;
/** After validation: every default filled in. */
export type RollingRestartInput = z.output<typeof rollingRestartInput>;

/** The install source for one host: its override, else the run's, else none (already under installDir). */
export function installSourceFor(input: Pick<RollingRestartInput, 'source' | 'sourceByHost'>, host: string): InstallSource | null {
  return input.sourceByHost?.[host] ?? input.source ?? null;
}
