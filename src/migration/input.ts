import { z } from 'zod';
import { approversSchema, boundedString, clusterNameSchema, int32Id, LIMITS } from '../limits';
import { installSourceSchema, parallelismSchema, timeoutsSchema } from '../rolling/input';

/**
 * Input of the `migrateToKRaft` runbook: one JSON object, as the Web UI's Start Workflow form takes it.
 * Validated once, before anything changes; every error names its field. Where the cluster stands is never
 * read from here: each run observes it (src/migration/observe.ts).
 */

const HOST_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;
const LISTENER = /^[A-Z][A-Z0-9_]*$/;
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;
const hostName = boundedString(LIMITS.maxNameLength).regex(HOST_NAME, 'host names are letters, digits, ".", "_" or "-"');

/** A controller named by its inventory host name or its node id (the host must have the controller role and a nodeId). */
const controllerRef = z.union([int32Id('node ids'), hostName], {
  errorMap: (issue, ctx) => (issue.code === 'invalid_union' ? { message: 'must be a controller node id (number) or an inventory host name' } : { message: ctx.defaultError }),
});

export const migrationGoals = ['kraft', 'rollback'] as const;
export const migrationApprovals = ['every-phase', 'finalize-only'] as const;

export const migrateToKRaftInput = z
  .object({
    cluster: clusterNameSchema,
    /** The KRaft controllers: inventory hosts with the controller role, by name or node id. */
    controllers: z
      .array(controllerRef)
      .min(1, 'must name at least one controller (3 recommended)')
      .max(9, 'must name at most 9 controllers'),
    /** Where each controller's Kafka install comes from (the brokers' version); absent: already installed under installDir. */
    controllerSource: installSourceSchema.optional(),
    controllerSourceByHost: z.record(hostName, installSourceSchema).optional(),
    /** The controller listener every node uses to reach the quorum. */
    controllerListener: z
      .object({
        name: z.string().regex(LISTENER, 'must be upper-case letters, digits or "_" (e.g. CONTROLLER)').default('CONTROLLER'),
        port: z.number().int().min(1).max(65535, 'must be a port from 1 to 65535').default(9093),
        securityProtocol: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
      })
      .strict()
      .default({}),
    /** How nodes find the quorum: static voters (3.4 to 3.9) or bootstrap servers (3.9, dynamic quorum). */
    quorumConfig: z.enum(['voters', 'bootstrap-servers'], { errorMap: () => ({ message: 'must be "voters" or "bootstrap-servers"' }) }).default('voters'),
    /** Where each controller keeps its metadata log (wiped on a rollback); absent: each controller's first inventory dataDirs entry. */
    controllerMetadataDir: boundedString(LIMITS.maxPathLength)
      // It becomes a line of server.properties: a newline, comma or space would add settings or dirs.
      .regex(/^[A-Za-z0-9._/-]+$/, 'must be a path of letters, digits, ".", "_", "-" and "/" only')
      .refine((p) => p.startsWith('/') && !p.split('/').includes('..') && p.split('/').filter(Boolean).length >= 2, 'must be an absolute path at least two levels deep, without ".."')
      .optional(),
    /** 'kraft': migrate (and finalize once approved). 'rollback': take the cluster back to ZooKeeper from where it is. */
    goal: z.enum(migrationGoals, { errorMap: () => ({ message: 'must be "kraft" or "rollback"' }) }).default('kraft'),
    /** 'every-phase': a gate before each phase; 'finalize-only': only the finalize gate, which is never skipped. */
    approval: z.enum(migrationApprovals, { errorMap: () => ({ message: 'must be "every-phase" or "finalize-only"' }) }).default('every-phase'),
    parallelism: parallelismSchema.default({ mode: 'one-at-a-time' }),
    /** The broker rolls' waits (see rolling-restart). */
    timeouts: timeoutsSchema.default({}),
    /** How long to wait for the controllers' quorum and for the metadata migration to complete. */
    quorumSeconds: z.number().int().min(10).max(86_400).default(600),
    migrationSeconds: z.number().int().min(10).max(LIMITS.maxTimeoutSeconds).default(1800),
    canaryTopic: z.string().regex(TOPIC, 'must be a valid topic name').optional(),
    approvers: approversSchema.optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    const seen = new Map<string, number>();
    input.controllers.forEach((c, i) => {
      const key = `${typeof c}:${c}`;
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['controllers', i], message: `${JSON.stringify(c)} is listed twice (also controllers[${first}])` });
      else seen.set(key, i);
    });
  });

export type MigrateToKRaftInputRaw = z.input<typeof migrateToKRaftInput>;
export type MigrateToKRaftInput = z.output<typeof migrateToKRaftInput>;
