import type { ClusterMetadata, ExpectedNode, HostObservation, MetadataMode, NodeId } from '../model/cluster';
import { type Finding, type FindingSubject, FindingCode, Severity, bySeverity } from './findings';
import { type BoundedList, boundedList, isOffline, listNames, partitionName, registeredBrokerIds } from './partitions';
import { DEFAULT_QUORUM_FETCH_TIMEOUT_MS, type VoterStatus, describeVoterLag, quorumMajority, quorumVoterStatus } from './quorum';

export const HealthStatus = {
  Healthy: 'healthy',
  Degraded: 'degraded',
  Critical: 'critical',
} as const;
/** critical: any critical finding; degraded: any warning; healthy otherwise (info findings do not count). */
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus];

export interface HealthInput {
  metadata: ClusterMetadata;
  /**
   * Why the metadata could not be read over the Kafka protocol. When set, `metadata` is not trusted: the
   * broker and partition rules are skipped (every broker would look unregistered) and one critical
   * METADATA_UNAVAILABLE finding says why.
   */
  kafkaError?: string | null;
  /** Why the KRaft quorum could not be read (then `metadata.quorum` is null). */
  quorumError?: string | null;
  hosts: HostObservation[];
  expected: ExpectedNode[];
  /** ISO timestamp the caller took the readings at (workflow time, so the report is deterministic). */
  checkedAt: string;
  /** Filesystem usage of a data dir at or above which it is a warning. Default 85. */
  diskWarnPercent?: number;
  /** ... and critical. Default 95. */
  diskCriticalPercent?: number;
  /** The cluster's `controller.quorum.fetch.timeout.ms`. Default 2000. */
  quorumFetchTimeoutMs?: number;
}

/** One broker of the inventory as the metadata and its host see it. */
export interface BrokerHealth {
  nodeId: NodeId;
  host: string;
  /** Null when the metadata could not be read. */
  registered: boolean | null;
  /** From the host observation; null when the host could not be inspected. */
  processRunning: boolean | null;
  version: string | null;
  leaderCount: number;
  replicaCount: number;
  offlineReplicaCount: number;
}

export interface UnderReplicatedPartition {
  partition: string;
  /** Replicas not in the ISR (replicas a reassignment is still adding are not counted). */
  missing: NodeId[];
}

export interface UnderMinIsrPartition {
  partition: string;
  isr: NodeId[];
  minIsr: number;
}

export interface PartitionSummary {
  total: number;
  /** No leader, or a leader that is not registered. Excluded from the two lists below. */
  offline: BoundedList<string>;
  /** Online, |ISR| < |replicas|; includes the under-min-ISR ones. */
  underReplicated: BoundedList<UnderReplicatedPartition>;
  /** Online, RF >= min.insync.replicas and |ISR| < min.insync.replicas: acks=all writes fail. */
  underMinIsr: BoundedList<UnderMinIsrPartition>;
}

export interface ReassignmentSummary {
  partition: string;
  adding: NodeId[];
  removing: NodeId[];
}

export interface QuorumSummary {
  leaderId: NodeId;
  leaderEpoch: number;
  highWatermark: number;
  voters: VoterStatus[];
  caughtUpVoters: number;
  /** Caught-up voters needed for the quorum to commit. */
  majority: number;
}

export interface ControllerSummary {
  mode: MetadataMode;
  /** ZooKeeper: the controller broker; KRaft: the quorum leader (from the quorum when it was read). */
  controllerId: NodeId | null;
  /** KRaft only, and only when the quorum state was read. */
  quorum: QuorumSummary | null;
}

/** The cluster's health at `checkedAt`. Bounded in size so it fits a Temporal payload for any cluster. */
export interface HealthReport {
  checkedAt: string;
  status: HealthStatus;
  /** Critical first, then warnings, then info. */
  findings: Finding[];
  findingsTruncated: number;
  brokers: BrokerHealth[];
  partitions: PartitionSummary;
  reassignments: BoundedList<ReassignmentSummary>;
  controller: ControllerSummary;
  hosts: HostObservation[];
}

export const DEFAULT_DISK_WARN_PERCENT = 85;
export const DEFAULT_DISK_CRITICAL_PERCENT = 95;
/** Caps that keep a report of a 100k-partition cluster well under Temporal's payload limits. */
export const MAX_LISTED_PARTITIONS = 200;
export const MAX_FINDINGS = 200;
/** Partitions named inside one finding's message and subject. */
const NAMES_PER_FINDING = 10;
const SUBJECT_PARTITIONS = 50;

/**
 * Applies every health rule to one reading of the cluster. Pure: same input, same report.
 * Throws RangeError on thresholds that make no sense (callers validate input before workflow code runs).
 */
export function evaluateHealth(input: HealthInput): HealthReport {
  const diskWarn = input.diskWarnPercent ?? DEFAULT_DISK_WARN_PERCENT;
  const diskCritical = input.diskCriticalPercent ?? DEFAULT_DISK_CRITICAL_PERCENT;
  const fetchTimeoutMs = input.quorumFetchTimeoutMs ?? DEFAULT_QUORUM_FETCH_TIMEOUT_MS;
  if (!(diskWarn >= 0 && diskWarn <= diskCritical && diskCritical <= 100)) {
    throw new RangeError(`disk thresholds must satisfy 0 <= warn (${diskWarn}) <= critical (${diskCritical}) <= 100`);
  }
  if (!(fetchTimeoutMs > 0 && Number.isFinite(fetchTimeoutMs))) {
    throw new RangeError(`quorumFetchTimeoutMs must be a positive number, got ${fetchTimeoutMs}`);
  }

  const findings: Finding[] = [];
  const add = (code: FindingCode, severity: Severity, message: string, subject: FindingSubject): void => {
    findings.push({ code, severity, message, subject });
  };

  const kafkaError = input.kafkaError ?? null;
  if (kafkaError !== null) {
    add(FindingCode.MetadataUnavailable, Severity.Critical, `Cluster metadata could not be read over the Kafka protocol: ${kafkaError}.`, {});
  }
  const metadataKnown = kafkaError === null;
  const brokers = checkBrokers(input, metadataKnown, add);
  const partitions = metadataKnown ? checkPartitions(input.metadata, add) : emptyPartitionSummary();
  const reassignments = metadataKnown ? checkReassignments(input.metadata, add) : boundedList<ReassignmentSummary>([], 0);
  const controller = checkController(input.metadata, metadataKnown, input.quorumError ?? null, fetchTimeoutMs, add);
  checkHosts(input.hosts, diskWarn, diskCritical, add);

  findings.sort(bySeverity);
  const status: HealthStatus = findings.some((f) => f.severity === Severity.Critical)
    ? HealthStatus.Critical
    : findings.some((f) => f.severity === Severity.Warning)
      ? HealthStatus.Degraded
      : HealthStatus.Healthy;
  const kept = findings.slice(0, MAX_FINDINGS);
  return {
    checkedAt: input.checkedAt,
    status,
    findings: kept,
    findingsTruncated: findings.length - kept.length,
    brokers,
    partitions,
    reassignments,
    controller,
    hosts: input.hosts,
  };
}

type Add = (code: FindingCode, severity: Severity, message: string, subject: FindingSubject) => void;

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function emptyPartitionSummary(): PartitionSummary {
  return { total: 0, offline: boundedList([], 0), underReplicated: boundedList([], 0), underMinIsr: boundedList([], 0) };
}

/** Expected brokers against registered ones, with per-broker counts from one pass over the partitions. */
function checkBrokers(input: HealthInput, metadataKnown: boolean, add: Add): BrokerHealth[] {
  const { metadata, hosts, expected } = input;
  const registered = registeredBrokerIds(metadata);
  const counts = new Map<NodeId, { leaders: number; replicas: number; offline: number }>();
  const countsFor = (id: NodeId) => {
    let c = counts.get(id);
    if (!c) counts.set(id, (c = { leaders: 0, replicas: 0, offline: 0 }));
    return c;
  };
  for (const topic of metadata.topics) {
    for (const p of topic.partitions) {
      if (p.leader >= 0) countsFor(p.leader).leaders++;
      for (const r of p.replicas) countsFor(r).replicas++;
      for (const r of p.offlineReplicas) countsFor(r).offline++;
    }
  }

  const expectedBrokers = expected.filter(
    (n): n is ExpectedNode & { nodeId: NodeId } => n.roles.includes('broker') && n.nodeId !== null,
  );
  const result = expectedBrokers.map((node): BrokerHealth => {
    const seen = hosts.find((h) => h.nodeId === node.nodeId) ?? hosts.find((h) => h.host === node.host);
    const c = counts.get(node.nodeId);
    const isRegistered = metadataKnown ? registered.has(node.nodeId) : null;
    if (isRegistered === false) {
      const replicas = c?.replicas ?? 0;
      add(
        FindingCode.BrokerNotRegistered,
        Severity.Critical,
        `Broker ${node.nodeId} (${node.host}) is not registered with the cluster` +
          (replicas > 0 ? `; it holds replicas of ${plural(replicas, 'partition')}.` : '.'),
        { brokerId: node.nodeId, host: node.host },
      );
    }
    return {
      nodeId: node.nodeId,
      host: node.host,
      registered: isRegistered,
      processRunning: seen?.reachable ? seen.processRunning : null,
      version: seen?.kafkaVersion ?? null,
      leaderCount: c?.leaders ?? 0,
      replicaCount: c?.replicas ?? 0,
      offlineReplicaCount: c?.offline ?? 0,
    };
  });

  const inventory = new Set(expectedBrokers.map((n) => n.nodeId));
  for (const b of metadataKnown ? metadata.brokers : []) {
    if (inventory.has(b.id)) continue;
    add(
      FindingCode.UnexpectedBroker,
      Severity.Warning,
      `Broker ${b.id} (${b.host}:${b.port}) is registered with the cluster but is not in the inventory.`,
      { brokerId: b.id, host: b.host },
    );
  }
  return result;
}

/** Offline, under-min-ISR and under-replicated partitions: findings grouped by topic or missing broker. */
function checkPartitions(metadata: ClusterMetadata, add: Add): PartitionSummary {
  const registered = registeredBrokerIds(metadata);
  let total = 0;
  const offline: string[] = [];
  const underReplicated: UnderReplicatedPartition[] = [];
  const underMinIsr: UnderMinIsrPartition[] = [];
  const missingFromIsr = new Map<NodeId, string[]>();
  // Mid-move, replicas = target + removing; like Kafka's URP metric, judge against the original assignment.
  const beingAdded = new Map(metadata.reassignments.map((r) => [partitionName(r), r.addingReplicas]));

  for (const topic of metadata.topics) {
    const minIsr = topic.minInsyncReplicas;
    const topicOffline: string[] = [];
    const topicUnderMin: UnderMinIsrPartition[] = [];
    const unsatisfiable: string[] = [];
    for (const p of topic.partitions) {
      total++;
      const name = partitionName(p);
      const adding = beingAdded.get(name) ?? [];
      const assigned = adding.length === 0 ? p.replicas : p.replicas.filter((r) => !adding.includes(r));
      if (assigned.length < minIsr) unsatisfiable.push(name);
      if (isOffline(p, registered)) {
        topicOffline.push(name);
        continue;
      }
      const missing = assigned.filter((r) => !p.isr.includes(r));
      if (missing.length > 0) {
        underReplicated.push({ partition: name, missing });
        for (const m of missing) {
          const list = missingFromIsr.get(m) ?? [];
          list.push(name);
          missingFromIsr.set(m, list);
        }
      }
      if (assigned.length >= minIsr && p.isr.length < minIsr) topicUnderMin.push({ partition: name, isr: p.isr, minIsr });
    }

    if (topicOffline.length > 0) {
      add(
        FindingCode.OfflinePartition,
        Severity.Critical,
        `Topic ${topic.name} has ${plural(topicOffline.length, 'offline partition')} (no leader): ` +
          `${listNames(topicOffline, NAMES_PER_FINDING)}.`,
        { topic: topic.name, partitions: topicOffline.slice(0, SUBJECT_PARTITIONS) },
      );
      offline.push(...topicOffline);
    }
    if (topicUnderMin.length > 0) {
      const described = topicUnderMin.map((u) => `${u.partition} (ISR [${u.isr.join(', ')}])`);
      add(
        FindingCode.UnderMinIsr,
        Severity.Critical,
        `Topic ${topic.name} has ${plural(topicUnderMin.length, 'partition')} below min.insync.replicas=${minIsr}, ` +
          `so acks=all writes to ${topicUnderMin.length === 1 ? 'it' : 'them'} fail: ${listNames(described, NAMES_PER_FINDING)}.`,
        { topic: topic.name, partitions: topicUnderMin.slice(0, SUBJECT_PARTITIONS).map((u) => u.partition) },
      );
      underMinIsr.push(...topicUnderMin);
    }
    if (unsatisfiable.length > 0) {
      add(
        FindingCode.MinIsrUnsatisfiable,
        Severity.Info,
        `Topic ${topic.name} has ${plural(unsatisfiable.length, 'partition')} with fewer replicas than ` +
          `min.insync.replicas=${minIsr}: acks=all producers can never write to ${listNames(unsatisfiable, NAMES_PER_FINDING)}.`,
        { topic: topic.name, partitions: unsatisfiable.slice(0, SUBJECT_PARTITIONS) },
      );
    }
  }

  for (const [brokerId, names] of [...missingFromIsr].sort(([a], [b]) => a - b)) {
    add(
      FindingCode.UnderReplicated,
      Severity.Warning,
      `Broker ${brokerId} is missing from the ISR of ${plural(names.length, 'partition')}: ${listNames(names, NAMES_PER_FINDING)}.`,
      { brokerId, partitions: names.slice(0, SUBJECT_PARTITIONS) },
    );
  }

  return {
    total,
    offline: boundedList(offline, MAX_LISTED_PARTITIONS),
    underReplicated: boundedList(underReplicated, MAX_LISTED_PARTITIONS),
    underMinIsr: boundedList(underMinIsr, MAX_LISTED_PARTITIONS),
  };
}

function checkReassignments(metadata: ClusterMetadata, add: Add): BoundedList<ReassignmentSummary> {
  const all = metadata.reassignments.map((r) => ({
    partition: partitionName(r),
    adding: r.addingReplicas,
    removing: r.removingReplicas,
  }));
  if (all.length > 0) {
    const described = all.map((r) => `${r.partition} (adding [${r.adding.join(', ')}], removing [${r.removing.join(', ')}])`);
    add(
      FindingCode.ReassignmentInFlight,
      Severity.Warning,
      `${plural(all.length, 'partition reassignment')} in flight: ${listNames(described, NAMES_PER_FINDING)}.`,
      { partitions: all.slice(0, SUBJECT_PARTITIONS).map((r) => r.partition) },
    );
  }
  return boundedList(all, MAX_LISTED_PARTITIONS);
}

function checkController(
  metadata: ClusterMetadata,
  metadataKnown: boolean,
  quorumError: string | null,
  fetchTimeoutMs: number,
  add: Add,
): ControllerSummary {
  if (metadata.mode === 'zookeeper') {
    const controllerId = metadata.controllerId !== null && metadata.controllerId >= 0 ? metadata.controllerId : null;
    // Without metadata the controller is unknown, not missing: METADATA_UNAVAILABLE already says so.
    if (controllerId === null && metadataKnown) {
      add(FindingCode.NoController, Severity.Critical, 'The cluster has no active controller: no broker holds the ZooKeeper controller role.', {});
    }
    return { mode: metadata.mode, controllerId, quorum: null };
  }

  const quorum = metadata.quorum;
  if (quorum === null) {
    add(
      FindingCode.QuorumStateUnknown,
      Severity.Warning,
      `The KRaft controller quorum state could not be read${quorumError ? ` (${quorumError})` : ''}, so controller health is unknown.`,
      {},
    );
    return { mode: metadata.mode, controllerId: metadata.controllerId, quorum: null };
  }
  const voters = quorumVoterStatus(quorum, fetchTimeoutMs);
  const caughtUpVoters = voters.filter((v) => v.caughtUp).length;
  const majority = quorumMajority(voters.length);
  const hasLeader = quorum.leaderId >= 0;
  if (!hasLeader) {
    add(
      FindingCode.NoQuorumLeader,
      Severity.Critical,
      `The KRaft controller quorum has no leader (voters ${voters.map((v) => v.nodeId).join(', ')}): metadata cannot change.`,
      {},
    );
  } else {
    for (const v of voters) {
      if (v.caughtUp) continue;
      add(
        FindingCode.QuorumVoterLagging,
        Severity.Warning,
        `Controller ${v.nodeId} is not caught up with the quorum: ${describeVoterLag(v, quorum.leaderId, fetchTimeoutMs)}.`,
        { brokerId: v.nodeId },
      );
    }
    if (caughtUpVoters < majority) {
      add(
        FindingCode.QuorumMajorityLost,
        Severity.Critical,
        `Only ${caughtUpVoters} of ${voters.length} quorum voters are caught up; ${majority} are needed to commit metadata.`,
        {},
      );
    }
  }
  return {
    mode: metadata.mode,
    controllerId: hasLeader ? quorum.leaderId : null,
    quorum: { leaderId: quorum.leaderId, leaderEpoch: quorum.leaderEpoch, highWatermark: quorum.highWatermark, voters, caughtUpVoters, majority },
  };
}

function checkHosts(hosts: HostObservation[], diskWarn: number, diskCritical: number, add: Add): void {
  const describe = (h: HostObservation) => (h.nodeId === null ? h.host : `${h.host} (node ${h.nodeId})`);
  for (const h of hosts) {
    const subject: FindingSubject = h.nodeId === null ? { host: h.host } : { host: h.host, brokerId: h.nodeId };
    if (!h.reachable) {
      add(
        FindingCode.HostUnreachable,
        Severity.Critical,
        `Host ${describe(h)} is unreachable${h.error ? `: ${h.error}` : ''}.`,
        subject,
      );
      continue;
    }
    if (h.processRunning === false) {
      add(FindingCode.ProcessNotRunning, Severity.Critical, `The ${h.roles.join('+') || 'Kafka'} process is not running on ${describe(h)}.`, subject);
    }
    for (const dir of h.dataDirs) {
      const used = dir.filesystemUsedPercent;
      if (used === null || used < diskWarn) continue;
      const critical = used >= diskCritical;
      add(
        FindingCode.DiskUsageHigh,
        critical ? Severity.Critical : Severity.Warning,
        `Data dir ${dir.path} on ${describe(h)} is ${Math.round(used)}% full ` +
          `(${critical ? `critical at ${diskCritical}%` : `warning at ${diskWarn}%`}).`,
        { ...subject, dataDir: dir.path },
      );
    }
  }

  // ZooKeeper ensembles have versions of their own; compare only the Kafka nodes.
  const byVersion = new Map<string, string[]>();
  for (const h of hosts) {
    if (!h.reachable || h.kafkaVersion === null || !h.roles.some((r) => r === 'broker' || r === 'controller')) continue;
    const list = byVersion.get(h.kafkaVersion) ?? [];
    list.push(h.host);
    byVersion.set(h.kafkaVersion, list);
  }
  if (byVersion.size > 1) {
    const described = [...byVersion].map(([version, on]) => `${version} on ${listNames(on, 5)}`);
    add(FindingCode.VersionMismatch, Severity.Warning, `Kafka versions differ across hosts: ${described.join('; ')}.`, {});
  }
}
