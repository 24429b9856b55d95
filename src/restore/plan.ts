import { type BackupPoint } from '../backup/manifest';
import { invalidInput } from '../errors';
import { NATIVE_COPIERS, type NativeCopierKind, type NativeProbe } from './commands';
import { type RestoreFromBackupParsed, selectedBy } from './input';

/**
 * The restore plan: what restoreFromBackup will create, copy and set, computed from the backup point and
 * what the target holds now. Pure: the activities gather the facts, this decides. Workflow-safe.
 */

/** A topic the target already has. */
export interface TargetTopic {
  name: string;
  partitionCount: number;
}

/** A consumer group on the target and its state (Stable, Empty, ...); absent groups are not listed. */
export interface TargetGroup {
  groupId: string;
  state: string;
}

export interface RestoreFacts {
  point: BackupPoint;
  /** Brokers the target has: created topics cannot have a higher replication factor. */
  targetBrokers: number;
  targetTopics: TargetTopic[];
  targetGroups: TargetGroup[];
  /**
   * With `at`: per backup topic and partition, the offset of the first record after `at` on the backup
   * (ListOffsets by timestamp at+1 ms), or null when no record is after it.
   */
  cutOffsets: Record<string, Record<number, number | null>> | null;
  /** The target host the copier will run on. */
  copyHost: string;
  /** The copier chosen for that host, and why. */
  copier: CopierChoice;
}

export type CopierKind = 'wire' | 'librdkafka' | 'java';

/** Which copier the restore runs, and why: what the copy host offered, as the plan shows it. */
export interface CopierChoice {
  kind: CopierKind;
  why: string;
}

/**
 * The copier a restore runs. Asked for by name: that one, or the plan is refused with what is missing. `auto`:
 * wire when neither cluster uses TLS or SASL (`secured` names those that do) and the host builds it, else
 * librdkafka when the host builds it, else Java; the reason travels with the choice. `probe` builds a C copier on
 * the copy host and runs it for its version.
 */
export async function chooseCopier(
  wanted: 'auto' | CopierKind,
  facts: { host: string; secured: string[]; probe: (kind: NativeCopierKind) => Promise<NativeProbe> },
): Promise<CopierChoice> {
  const { host, secured, probe } = facts;
  if (wanted === 'java') return { kind: 'java', why: 'copier: java' };
  const skipped: string[] = [];
  if (wanted === 'wire' || wanted === 'auto') {
    const uses = `${secured.join(' and ')} ${secured.length > 1 ? 'use' : 'uses'} TLS or SASL`;
    if (secured.length > 0) {
      if (wanted === 'wire') throw invalidInput(`copier: wire speaks PLAINTEXT only, and ${uses}; set copier to librdkafka, java or auto`);
      skipped.push(`wire: ${uses}`);
    } else {
      const found = await probe('wire');
      if (found.available) return { kind: 'wire', why: `wire copier v${found.version} on ${host}${wanted === 'auto' ? ', chosen by copier: auto' : ''}` };
      if (wanted === 'wire') throw invalidInput(`copier: wire cannot run on copy host ${host}: ${found.reason}. Install a C compiler and the compression libraries' headers there (Debian: ${NATIVE_COPIERS.wire.packages}), or set copier to librdkafka, java or auto`);
      skipped.push(`wire: ${found.reason}`);
    }
  }
  const found = await probe('librdkafka');
  if (found.available) return { kind: 'librdkafka', why: `librdkafka ${found.version} on ${host}${wanted === 'auto' ? `, chosen by copier: auto (not ${skipped.join('; ')})` : ''}` };
  if (wanted === 'librdkafka') throw invalidInput(`copier: librdkafka cannot run on copy host ${host}: ${found.reason}. Install a C compiler and librdkafka's headers there (Debian: ${NATIVE_COPIERS.librdkafka.packages}), or set copier to java or auto`);
  return { kind: 'java', why: `copier: auto, and neither C copier can run on ${host}: ${[...skipped, `librdkafka: ${found.reason}`].join('; ')}` };
}

/** The plan's copier; a plan from before there was a choice ran the Java copier. */
export function copierOf(plan: RestorePlan): CopierChoice {
  return plan.copier ?? { kind: 'java', why: 'planned before the copier could be chosen' };
}

export interface RestorePartitionPlan {
  partition: number;
  /** Backup offsets [from, to) are copied. */
  from: number;
  to: number;
  /** At most this many records (fewer if the backup topic was compacted). */
  records: number;
}

export const TopicAction = { Create: 'create', Append: 'append', Refused: 'refused' } as const;
export type TopicAction = (typeof TopicAction)[keyof typeof TopicAction];

export interface RestoreTopicPlan {
  /** Name on the target (and on the source the backup was taken of). */
  name: string;
  /** Name on the backup cluster. */
  backupName: string;
  action: TopicAction;
  /** Why a topic is refused. */
  reason: string | null;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
  partitions: RestorePartitionPlan[];
  records: number;
}

export interface RestoreGroupOffset {
  topic: string;
  partition: number;
  /** MM2's checkpoint: the group's offset on the backup topic; null when MM2 had emitted none. */
  backupOffset: number | null;
}

export interface RestoreGroupPlan {
  groupId: string;
  /** The group's state on the target now; null when it does not exist there. */
  targetState: string | null;
  /** Why it cannot be set: an active group. */
  refused: string | null;
  offsets: RestoreGroupOffset[];
}

/** One copy activity's work: some partitions of one topic. */
export interface CopyRange {
  id: string;
  topic: string;
  backupTopic: string;
  partitions: RestorePartitionPlan[];
}

export interface RestorePlan {
  backupPointId: string;
  backupPointTime: string;
  /** The point-in-time cut, if any. */
  at: string | null;
  copyHost: string;
  /** Absent from plans made before there was a choice (in the history of runs started then): see copierOf. */
  copier?: CopierChoice;
  topics: RestoreTopicPlan[];
  groups: RestoreGroupPlan[];
  groupOffsets: RestoreFromBackupParsed['groupOffsets'];
  ranges: CopyRange[];
  totalRecords: number;
  /** What stops the restore before anything changes. */
  refusals: string[];
  /** What the operator should know before approving. */
  warnings: string[];
}

/** Group states in which offsets may be set: nobody is consuming. */
export const SETTABLE_GROUP_STATES = ['Empty', 'Dead'];

export function planRestore(input: RestoreFromBackupParsed, facts: RestoreFacts): RestorePlan {
  const { point } = facts;
  const existing = new Map(facts.targetTopics.map((t) => [t.name, t]));
  const refusals: string[] = [];
  const warnings: string[] = [];
  const topics: RestoreTopicPlan[] = [];
  const at = input.at ? new Date(input.at).toISOString() : null;
  if (at && at > point.time) warnings.push(`at ${at} is after backup point ${point.id} (${point.time}): records up to the backup point are restored, none after it`);

  for (const t of point.topics) {
    if (!selectedBy(input.topics, t.name)) continue;
    const cuts = facts.cutOffsets?.[t.backupName] ?? null;
    const partitions = [...t.partitions]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => {
        const cut = cuts?.[p.partition];
        const to = cut === undefined || cut === null ? p.backupEndOffset : Math.max(p.backupStartOffset, Math.min(cut, p.backupEndOffset));
        return { partition: p.partition, from: p.backupStartOffset, to, records: to - p.backupStartOffset };
      });
    const records = partitions.reduce((n, p) => n + p.records, 0);
    const configs = Object.fromEntries(Object.entries(t.configs).filter((e): e is [string, string] => e[1] !== null));
    const replicationFactor = Math.min(input.replicationFactor ?? t.replicationFactor, Math.max(1, facts.targetBrokers));
    const there = existing.get(t.name);
    let action: TopicAction = TopicAction.Create;
    let reason: string | null = null;
    if (there && input.existing !== 'append') {
      action = TopicAction.Refused;
      reason = `exists on ${input.cluster}; restore into it only with existing: append`;
    } else if (there && there.partitionCount < t.partitionCount) {
      action = TopicAction.Refused;
      reason = `exists on ${input.cluster} with ${there.partitionCount} partitions, fewer than the backup's ${t.partitionCount}: records must keep their partition`;
    } else if (there) {
      action = TopicAction.Append;
    }
    if (reason) refusals.push(`topic ${t.name}: ${reason}`);
    if (configs['message.timestamp.type'] === 'LogAppendTime') warnings.push(`topic ${t.name} has message.timestamp.type=LogAppendTime: the target stamps records with the restore's time, not the original ones`);
    if (replicationFactor < t.replicationFactor && action === TopicAction.Create) warnings.push(`topic ${t.name} is created with replication factor ${replicationFactor}, not the backup's ${t.replicationFactor}`);
    topics.push({ name: t.name, backupName: t.backupName, action, reason, partitionCount: t.partitionCount, replicationFactor, configs, partitions, records });
  }
  if (topics.length === 0) refusals.push(`no topic of backup point ${point.id} matches the topic patterns`);

  const restored = new Set(topics.filter((t) => t.action !== TopicAction.Refused).map((t) => t.name));
  const targetGroups = new Map(facts.targetGroups.map((g) => [g.groupId, g.state]));
  const groups: RestoreGroupPlan[] = [];
  if (input.groupOffsets !== 'none') {
    for (const g of point.consumerGroups) {
      if (!selectedBy(input.groups, g.groupId)) continue;
      const offsets = g.offsets.filter((o) => restored.has(o.topic)).map((o) => ({ topic: o.topic, partition: o.partition, backupOffset: o.translatedOffset }));
      if (offsets.length === 0) continue;
      const targetState = targetGroups.get(g.groupId) ?? null;
      const refused = targetState !== null && !SETTABLE_GROUP_STATES.includes(targetState) ? `group ${g.groupId} is ${targetState} on ${input.cluster}: its members must stop first` : null;
      if (input.groupOffsets === 'checkpoints') {
        const missing = offsets.filter((o) => o.backupOffset === null).length;
        if (missing > 0) warnings.push(`group ${g.groupId}: ${missing} partition(s) have no MM2 checkpoint; they start at the beginning of the restored data (re-read, never skipped)`);
      }
      groups.push({ groupId: g.groupId, targetState, refused, offsets });
    }
  }

  const ranges: CopyRange[] = [];
  for (const t of topics) {
    if (t.action === TopicAction.Refused) continue;
    const withData = t.partitions.filter((p) => p.records > 0);
    for (let i = 0; i < withData.length; i += input.partitionsPerCopy) {
      const chunk = withData.slice(i, i + input.partitionsPerCopy);
      ranges.push({ id: `${t.name}[${chunk.map((p) => p.partition).join(',')}]`, topic: t.name, backupTopic: t.backupName, partitions: chunk });
    }
  }
  const totalRecords = topics.filter((t) => t.action !== TopicAction.Refused).reduce((n, t) => n + t.records, 0);
  return {
    backupPointId: point.id,
    backupPointTime: point.time,
    at,
    copyHost: facts.copyHost,
    copier: facts.copier,
    topics,
    groups,
    groupOffsets: input.groupOffsets,
    ranges,
    totalRecords,
    refusals,
    warnings,
  };
}

/** The plan as the gate shows it: topics to create or append to, refused ones, records per partition, groups to set. */
export function renderRestorePlan(plan: RestorePlan, target: string): string {
  const lines = [
    `### Restore plan: backup point ${plan.backupPointId} (${plan.backupPointTime})${plan.at ? `, up to ${plan.at}` : ''} into ${target}`,
    '',
    `${plan.totalRecords} records in ${plan.ranges.length} copy range(s), copied from host ${plan.copyHost} with the ${copierOf(plan).kind} copier (${copierOf(plan).why}).`,
    '',
    '| topic | action | partitions | RF | records per partition | configs |',
    '|---|---|---:|---:|---|---|',
  ];
  for (const t of plan.topics) {
    const per = t.partitions.map((p) => `${p.partition}:${p.records}`).join(' ');
    const configs = Object.entries(t.configs).map(([k, v]) => `${k}=${v}`).join(', ');
    lines.push(`| ${t.name} | ${t.action}${t.reason ? ` (${t.reason})` : ''} | ${t.partitionCount} | ${t.replicationFactor} | ${per.length > 400 ? `${per.slice(0, 400)}…` : per} | ${configs} |`);
  }
  if (plan.groups.length > 0) {
    lines.push('', `Consumer groups to set (${plan.groupOffsets}):`, '');
    for (const g of plan.groups) lines.push(`- ${g.groupId}: ${g.offsets.length} partition(s)${g.refused ? ` — REFUSED: ${g.refused}` : g.targetState ? ` (${g.targetState} on the target)` : ''}`);
  }
  for (const w of plan.warnings) lines.push('', `warning: ${w}`);
  for (const r of plan.refusals) lines.push('', `refused: ${r}`);
  return lines.join('\n');
}
