import { z } from 'zod';
import { atMost, boundedString, clusterNameSchema as cluster, LIMITS, wholeNumber } from '../limits';
import { reassignmentExecutionSchema, timeoutMinutes } from './reassignment';

const hosts = z
  .array(boundedString(LIMITS.maxNameLength).min(1))
  .min(1, 'must name at least one host from the inventory')
  .max(...atMost(LIMITS.maxHosts, 'hosts'));

export const addBrokersInput = z
  .object({
    cluster,
    /** Inventory hosts of the new brokers. */
    hosts,
    /** Format (KRaft) and start them over SSH first; false when they already run and are registered. */
    startBrokers: z.boolean().default(true),
    /** How long each new broker may take to register (at most 7 days). */
    registrationTimeoutMinutes: timeoutMinutes().default(5),
  })
  .merge(reassignmentExecutionSchema)
  .strict();

export const decommissionBrokerInput = z
  .object({
    cluster,
    hosts,
    /** After the brokers are empty, stop them over SSH (behind an approval gate). */
    stopBrokers: z.boolean().default(true),
    /** KRaft: unregister them after stopping (`kafka-cluster.sh unregister`). */
    unregister: z.boolean().default(true),
    /** Delete their data dirs after stopping, behind its own approval gate. Off unless asked for. */
    wipeData: z.boolean().default(false),
  })
  .merge(reassignmentExecutionSchema)
  .strict()
  .refine((i) => !i.wipeData || i.stopBrokers, { message: 'needs stopBrokers: data is only wiped from stopped brokers', path: ['wipeData'] })
  .refine((i) => !i.unregister || i.stopBrokers, { message: 'needs stopBrokers: only stopped brokers can be unregistered', path: ['unregister'] });

export const changeReplicationFactorInput = z
  .object({ cluster, topic: boundedString(LIMITS.maxTopicLength).min(1), replicationFactor: wholeNumber(1, LIMITS.maxReplicationFactor) })
  .merge(reassignmentExecutionSchema)
  .strict();

export const rebalanceLeadersInput = z.object({ cluster }).merge(reassignmentExecutionSchema).strict();

export type AddBrokersInput = z.input<typeof addBrokersInput>;
export type DecommissionBrokerInput = z.input<typeof decommissionBrokerInput>;
export type ChangeReplicationFactorInput = z.input<typeof changeReplicationFactorInput>;
export type RebalanceLeadersInput = z.input<typeof rebalanceLeadersInput>;
