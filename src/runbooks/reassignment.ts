import { z } from 'zod';

const brokerIds = z.array(z.number().int().min(0)).min(1, 'must name at least one broker');
const topics = z.array(z.string().min(1)).min(1).optional();

export const reassignmentGoalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('addBrokers'), brokerIds, topics }).strict(),
  z.object({ kind: z.literal('removeBrokers'), brokerIds, topics }).strict(),
  z.object({ kind: z.literal('setReplicationFactor'), topic: z.string().min(1), replicationFactor: z.number().int().min(1) }).strict(),
  z.object({ kind: z.literal('balanceLeaders') }).strict(),
  z
    .object({
      kind: z.literal('explicit'),
      partitions: z
        .array(z.object({ topic: z.string().min(1), partition: z.number().int().min(0), replicas: brokerIds }).strict())
        .min(1, 'must name at least one partition'),
    })
    .strict(),
]);

/** How a reassignment runs: shared by reassignPartitions and the runbooks built on it. */
export const reassignmentExecutionSchema = z
  .object({
    /** Replication throttle in bytes/s on every source and destination broker; null runs unthrottled. */
    throttleBytesPerSec: z.number().int().positive().nullable().default(50 * 1024 * 1024),
    /** Concurrent partition moves per broker (as source leader or destination); Cruise Control uses 5. */
    maxMovesPerBroker: z.number().int().min(1).default(5),
    maxMovesPerCluster: z.number().int().min(1).default(1250),
    /** Copy one new replica per partition at a time (less load, slower RF increases). */
    oneNewReplicaAtATime: z.boolean().default(false),
    /** 'required': wait for a human to approve the plan; 'auto': execute at once. */
    approval: z.enum(['required', 'auto']).default('required'),
    approvers: z.array(z.string().min(1)).min(1).optional(),
    /** How long one batch may take before the run stops and asks a human. */
    batchTimeoutMinutes: z.number().positive().default(360),
    /** Run a preferred leader election for the moved partitions at the end. */
    electLeaders: z.boolean().default(true),
    /**
     * Batches per child workflow. A plan with more batches runs them in children of this many each
     * (`<run ID>/batches-<first>-<last>`), so no run's history nears Temporal's event limits.
     */
    batchesPerSlice: z.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const reassignPartitionsInput = z
  .object({ cluster: z.string().min(1, 'must name a cluster from the inventory'), goal: reassignmentGoalSchema })
  .merge(reassignmentExecutionSchema)
  .strict();

export type ReassignPartitionsInput = z.input<typeof reassignPartitionsInput>;
export type ReassignmentExecution = z.infer<typeof reassignmentExecutionSchema>;
