import { z } from 'zod';
import { approversSchema, atMost, boundedString, clusterNameSchema, int32Id, LIMITS, wholeNumber } from '../limits';

const topicName = boundedString(LIMITS.maxTopicLength).min(1);
const brokerIds = z
  .array(int32Id('broker ids'))
  .min(1, 'must name at least one broker')
  .max(...atMost(LIMITS.maxHosts, 'brokers'));
const topics = z
  .array(topicName)
  .min(1)
  .max(...atMost(LIMITS.maxTopics, 'topics'))
  .optional();
const replicationFactor = wholeNumber(1, LIMITS.maxReplicationFactor);

export const reassignmentGoalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('addBrokers'), brokerIds, topics }).strict(),
  z.object({ kind: z.literal('removeBrokers'), brokerIds, topics }).strict(),
  z.object({ kind: z.literal('setReplicationFactor'), topic: topicName, replicationFactor }).strict(),
  z.object({ kind: z.literal('balanceLeaders') }).strict(),
  z
    .object({
      kind: z.literal('explicit'),
      partitions: z
        .array(
          z
            .object({
              topic: topicName,
              partition: int32Id('partition numbers'),
              replicas: z
                .array(int32Id('broker ids'))
                .min(1, 'must name at least one broker')
                .max(...atMost(LIMITS.maxReplicationFactor, 'replicas')),
            })
            .strict(),
        )
        .min(1, 'must name at least one partition')
        .max(...atMost(LIMITS.maxExplicitPartitions, 'partitions')),
    })
    .strict(),
]);

/** A runbook wait in minutes: more than 0, at most 7 days. */
export const timeoutMinutes = () =>
  z
    .number()
    .gt(0, 'must be more than 0 minutes')
    .max(LIMITS.maxTimeoutMinutes, `must be at most ${LIMITS.maxTimeoutMinutes} minutes`);

/** How a reassignment runs: shared by reassignPartitions and the runbooks built on it. */
export const reassignmentExecutionSchema = z
  .object({
    /** Replication throttle in bytes/s on every source and destination broker; null runs unthrottled. At most 10 GiB/s. */
    throttleBytesPerSec: wholeNumber(1, LIMITS.maxThrottleBytesPerSec, 'bytes/s')
      .nullable()
      .default(50 * 1024 * 1024),
    /** Concurrent partition moves per broker (as source leader or destination); Cruise Control uses 5. */
    maxMovesPerBroker: wholeNumber(1, LIMITS.maxMovesPerBroker).default(5),
    maxMovesPerCluster: wholeNumber(1, LIMITS.maxMovesPerCluster).default(1250),
    /** Copy one new replica per partition at a time (less load, slower RF increases). */
    oneNewReplicaAtATime: z.boolean().default(false),
    /** 'required': wait for a human to approve the plan; 'auto': execute at once. */
    approval: z.enum(['required', 'auto']).default('required'),
    approvers: approversSchema.optional(),
    /** How long one batch may take before the run stops and asks a human (at most 7 days). */
    batchTimeoutMinutes: timeoutMinutes().default(360),
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
  .object({ cluster: clusterNameSchema, goal: reassignmentGoalSchema })
  .merge(reassignmentExecutionSchema)
  .strict();

export type ReassignPartitionsInput = z.input<typeof reassignPartitionsInput>;
export type ReassignmentExecution = z.infer<typeof reassignmentExecutionSchema>;
