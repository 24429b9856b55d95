import type { NodeId } from '../model/cluster';

/** Every problem the health rules can report. */
export const FindingCode = {
  MetadataUnavailable: 'METADATA_UNAVAILABLE',
  BrokerNotRegistered: 'BROKER_NOT_REGISTERED',
  UnexpectedBroker: 'UNEXPECTED_BROKER',
  OfflinePartition: 'OFFLINE_PARTITION',
  UnderReplicated: 'UNDER_REPLICATED',
  UnderMinIsr: 'UNDER_MIN_ISR',
  MinIsrUnsatisfiable: 'MIN_ISR_UNSATISFIABLE',
  ReassignmentInFlight: 'REASSIGNMENT_IN_FLIGHT',
  QuorumStateUnknown: 'QUORUM_STATE_UNKNOWN',
  NoQuorumLeader: 'NO_QUORUM_LEADER',
  QuorumVoterLagging: 'QUORUM_VOTER_LAGGING',
  QuorumMajorityLost: 'QUORUM_MAJORITY_LOST',
  NoController: 'NO_CONTROLLER',
  HostUnreachable: 'HOST_UNREACHABLE',
  ProcessNotRunning: 'PROCESS_NOT_RUNNING',
  VersionMismatch: 'VERSION_MISMATCH',
  DiskUsageHigh: 'DISK_USAGE_HIGH',
} as const;
export type FindingCode = (typeof FindingCode)[keyof typeof FindingCode];

export const Severity = {
  Critical: 'critical',
  Warning: 'warning',
  Info: 'info',
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** What a finding is about; fields that do not apply are left out. */
export interface FindingSubject {
  /** Broker id, or the controller node id for quorum findings. */
  brokerId?: NodeId;
  host?: string;
  topic?: string;
  partition?: number;
  /** Partitions of `topic` (or, with `brokerId`, of any topic as "topic-p") the finding covers, capped. */
  partitions?: string[];
  dataDir?: string;
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** One sentence an operator can act on, naming the broker, host or partitions. */
  message: string;
  subject: FindingSubject;
}

const severityRank: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

/** Critical first, then warnings, then info; the rules' own order within a severity. */
export function bySeverity(a: Finding, b: Finding): number {
  return severityRank[a.severity] - severityRank[b.severity];
}
