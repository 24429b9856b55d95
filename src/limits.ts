import { z } from 'zod';

/**
 * Upper bounds on every number, list and string a runbook input or an inventory takes. A value past them is a
 * typo or an attack, never a real cluster: each is refused by the schemas, naming the field and the limit,
 * before anything starts. Workflow-safe (zod only).
 */
export const LIMITS = {
  /** Kafka node and broker ids, partition numbers: Kafka's int32. */
  maxInt32: 2 ** 31 - 1,
  /** Any runbook wait: 7 days (a human may take a weekend; also under Node's 24.8-day timer limit). */
  maxTimeoutSeconds: 7 * 86_400,
  maxTimeoutMinutes: 7 * 24 * 60,
  /** Client and SSH connect/request timeouts: 10 minutes. */
  maxClientTimeoutMs: 600_000,
  /** Replication throttle: 10 GiB/s, above any NIC a broker has. */
  maxThrottleBytesPerSec: 10 * 1024 ** 3,
  /** Hosts, nodes, brokers and bootstrap servers in one cluster or one input. */
  maxHosts: 10_000,
  /** Topics named in one input. */
  maxTopics: 10_000,
  /** Partitions listed in one explicit reassignment (the input itself travels through workflow history). */
  maxExplicitPartitions: 20_000,
  /** Replication factor: Kafka allows 32,767; no cluster runs more than a handful. */
  maxReplicationFactor: 100,
  /** Concurrent partition moves per broker / per cluster. */
  maxMovesPerBroker: 1_000,
  maxMovesPerCluster: 100_000,
  /** People allowed to answer a run's gates. */
  maxApprovers: 100,
  /** Cluster, host, rack and user names (a DNS name's length). */
  maxNameLength: 253,
  /** Kafka's own topic name limit. */
  maxTopicLength: 249,
  /** A path on a host (Linux PATH_MAX). */
  maxPathLength: 4096,
  /** A command template. */
  maxTemplateLength: 8192,
} as const;

/** A whole number in [min, max]; NaN, Infinity and fractions refused. */
export const wholeNumber = (min: number, max: number, unit = '') =>
  z
    .number()
    .int(`must be a whole number${unit ? ` of ${unit}` : ''}`)
    .min(min, `must be at least ${min}${unit ? ` ${unit}` : ''}`)
    .max(max, `must be at most ${max}${unit ? ` ${unit}` : ''}`);

/** A Kafka node/broker id or a partition number: 0 to 2^31-1. */
export const int32Id = (what: string) => z.number().int(`${what} are whole numbers`).min(0, `${what} are 0 or more`).max(LIMITS.maxInt32, `${what} are at most ${LIMITS.maxInt32}`);

/** A string of at most `max` characters. */
export const boundedString = (max: number) => z.string().max(max, `must be at most ${max} characters`);

/** At most `max` items; `noun` names them in the message. */
export const atMost = (max: number, noun: string) => [max, `must list at most ${max} ${noun}`] as const;

/** The cluster's name in the worker's inventory. */
export const clusterNameSchema = boundedString(LIMITS.maxNameLength).min(1, 'must name a cluster from the inventory');

/** Who may answer a run's gates; absent: anyone. */
export const approversSchema = z
  .array(boundedString(LIMITS.maxNameLength).min(1, 'must not be empty'))
  .min(1, 'must list at least one approver (leave it out to let anyone approve)')
  .max(...atMost(LIMITS.maxApprovers, 'approvers'));
