import { workflowInfo } from '@temporalio/workflow';
import type { CopyRangeResult, DigestResult, GroupOffsetsToSet } from '../activities/restore';
import { unsafeToProceed } from '../src/errors';
import { copierKeyFor } from '../src/restore/keys';
import { type RestoreFromBackupInput, restoreFromBackupInput } from '../src/restore/input';
import { type CopierChoice, copierOf, type CopyRange, renderRestorePlan, type RestorePlan, TopicAction } from '../src/restore/plan';
import { compareDigests, renderVerifyTable, translateToTarget, verifyReport, type VerifyRow, verifySummary, type VerifySummary } from '../src/restore/verify';
import { formatSeconds } from '../src/restore/copier';
import { clusterNamedIn } from '../src/runbooks/input';
import { ActivityKind, parsedInput, proxyOfKind, proxyWaits } from './activity-options';
import { RunbookControls, settleAll } from './controls';

const read = proxyOfKind(ActivityKind.Read);
const plan = proxyOfKind(ActivityKind.Plan);
const change = proxyOfKind(ActivityKind.Change);
const lock = proxyOfKind(ActivityKind.Lock);

export interface RestoreFromBackupResult {
  backupPoint: string;
  plan: { topicsCreated: string[]; topicsAppended: string[]; records: number };
  /** copier: the one the plan chose, and why. */
  copy: { records: number; skippedAsWritten: number; ms: number; copier: CopierChoice };
  verification: VerifySummary;
  groups: { set: string[]; offsets: GroupOffsetsToSet[] };
  markdown: string;
}

/**
 * restoreFromBackup: rebuilds topics and consumer group offsets on a cluster from a MirrorMaker 2 backup point.
 * 1. Plan: the backup point (named, the latest, or the first taken after `at`); topics to create with the
 *    backup's partition counts and configs; topics that exist, refused unless `existing: append`; records per
 *    partition (up to the backup point's offsets, or each partition's first record after `at`); groups to set.
 * 2. Gate "restore": nothing on the target changes before it is approved. A refusal stops the run here.
 * 3. Creates the topics, and records each partition's end offset on the target (the base: the restore's
 *    records go from there, in the backup's order).
 * 4. Copies, one heartbeating activity per partition range, with Kafka's Java client on a target host:
 *    read_committed, same partition, key, value, headers and CreateTime kept, idempotent producer, acks=all.
 *    A retried range stops its earlier copier and resumes from what the target holds: no duplicate, no gap.
 * 5. Verifies every partition next to the data: record counts and a SHA-256 over (key, value, headers,
 *    timestamp) on both sides. Any mismatch fails the run, naming the partitions.
 * 6. Gate "set group offsets" (only when groups are to be set), then sets them on verified data only: MM2's
 *    checkpoints translated to target offsets, or a reset to a date-time. Every group must be empty; an active
 *    group is named and refused, and nothing is set.
 * Guarantees: never writes to a topic it did not plan; never counts a record that was not acknowledged;
 * completes only when every restored partition matches the backup record for record.
 */
export async function restoreFromBackup(rawInput: RestoreFromBackupInput): Promise<RestoreFromBackupResult> {
  const cluster = clusterNamedIn(rawInput);
  const { workflowId } = workflowInfo();
  const controls = new RunbookControls({
    runbook: 'restoreFromBackup',
    cluster,
    approvers: (rawInput as { approvers?: string[] } | null)?.approvers ?? null,
    input: rawInput,
    lock: {
      acquire: () => lock.acquireClusterLock({ cluster, workflowId, runbook: 'restoreFromBackup' }),
      release: () => lock.releaseClusterLock({ cluster, workflowId }),
    },
  });
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('restoreFromBackup', restoreFromBackupInput, rawInput));
    const timeoutMs = input.copyTimeoutMinutes * 60_000;
    const copies = proxyWaits(timeoutMs);
    const restorePlan = await controls.step('plan the restore from the backup point', () => plan.planRestoreFor(input));
    controls.extraDetails = renderRestorePlan(restorePlan, input.cluster);
    if (restorePlan.refusals.length > 0) throw unsafeToProceed(`restore refused: ${restorePlan.refusals.join('; ')}`, { refusals: restorePlan.refusals });
    for (const w of restorePlan.warnings) controls.warn(w);
    await controls.requireApproval('restore', `restore ${restorePlan.totalRecords} records of backup point ${restorePlan.backupPointId} into ${input.cluster}: ${topicLine(restorePlan)}`);

    const toCreate = restorePlan.topics.filter((t) => t.action === TopicAction.Create);
    await controls.step('create the topics', () => change.createRestoreTopics(input.cluster, toCreate.map((t) => ({ name: t.name, partitionCount: t.partitionCount, replicationFactor: t.replicationFactor, configs: t.configs }))));
    const bases = await controls.step('record where the restored records start on the target', () =>
      read.readRestoreBases(input.cluster, restoredTopics(restorePlan).map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => p.partition) }))),
    );

    const copied = await copyEveryRange(controls, restorePlan, (range) =>
      copies.copyRestoreRange({ backupCluster: input.backupCluster, cluster: input.cluster, copyHost: restorePlan.copyHost, copier: copierOf(restorePlan).kind, key: copierKeyFor(workflowId, range.id), range, bases: bases[range.topic] ?? {}, timeoutMs }),
      input.parallelCopies,
    );

    const digests = await controls.step('verify every partition on both sides', () => verifyAll(restorePlan, bases, (job) => copies.digestRestoreRange({ ...job, backupCluster: input.backupCluster, cluster: input.cluster, copyHost: restorePlan.copyHost, key: copierKeyFor(workflowId, `verify:${job.topic}`), timeoutMs })));
    const verification = verifyReport(digests.rows);
    const report = renderVerifyTable(verification);
    controls.extraDetails = `${renderRestorePlan(restorePlan, input.cluster)}\n\n### Verification\n\n${report}`;
    if (verification.mismatches.length > 0) throw unsafeToProceed(`verification failed: ${verification.mismatches.join(', ')} differ between the backup and ${input.cluster}`, { mismatches: verification.mismatches });

    let offsets: GroupOffsetsToSet[] = [];
    let set: string[] = [];
    if (restorePlan.groups.length > 0) {
      offsets = await controls.step('compute the groups\' offsets on the target', () => groupOffsetsOnTarget(restorePlan, bases, digests.byTopic, copied, input.cluster));
      await controls.requireApproval('set group offsets', `set the committed offsets of ${offsets.length} consumer group(s) on ${input.cluster}: ${offsets.map((g) => g.groupId).join(', ')}`);
      set = (await controls.step('set the consumer groups\' offsets', () => change.setRestoredGroupOffsets(input.cluster, offsets))).set;
    }

    const records = copied.reduce((n, r) => n + r.copied, 0);
    const markdown = [controls.extraDetails, '', `Copied ${records} records (${copied.reduce((n, r) => n + r.skippedAsWritten, 0)} found already written by an earlier attempt and not copied again); groups set: ${set.join(', ') || 'none'}.`].join('\n');
    controls.extraDetails = markdown;
    controls.setDetail(`restored ${records} records, verified; ${set.length} group(s) set`);
    return {
      backupPoint: restorePlan.backupPointId,
      plan: { topicsCreated: toCreate.map((t) => t.name), topicsAppended: restorePlan.topics.filter((t) => t.action === TopicAction.Append).map((t) => t.name), records: restorePlan.totalRecords },
      copy: { records, skippedAsWritten: copied.reduce((n, r) => n + r.skippedAsWritten, 0), ms: copied.reduce((n, r) => n + r.ms, 0), copier: copierOf(restorePlan) },
      verification: verifySummary(verification),
      groups: { set, offsets },
      markdown,
    };
  });
}

function restoredTopics(p: RestorePlan) {
  return p.topics.filter((t) => t.action !== TopicAction.Refused);
}

function topicLine(p: RestorePlan): string {
  return p.topics.map((t) => `${t.name} (${t.action}, ${t.partitionCount} partitions, ${t.records} records)`).join(', ');
}

/** Copies every range, `parallel` at a time, each as its own step; the details show ranges done, records and an ETA. */
async function copyEveryRange(controls: RunbookControls, p: RestorePlan, copy: (range: CopyRange) => Promise<CopyRangeResult>, parallel: number): Promise<CopyRangeResult[]> {
  const results: CopyRangeResult[] = [];
  const started = Date.now();
  const queue = [...p.ranges];
  const show = () => {
    const done = results.reduce((n, r) => n + r.copied, 0);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? formatSeconds(Math.ceil((p.totalRecords - done) / rate)) : 'unknown';
    controls.setDetail(`copied ${results.length}/${p.ranges.length} ranges, ${done}/${p.totalRecords} records; ETA ${eta} (live progress: each copy activity's heartbeat)`);
  };
  show();
  const worker = async () => {
    for (let range = queue.shift(); range; range = queue.shift()) {
      const r = range;
      results.push(await controls.step(`copy ${r.id}`, () => copy(r)));
      show();
    }
  };
  // Each worker's steps run one after another; failures of one are reported after the others settle.
  await settleAll(Array.from({ length: Math.min(parallel, p.ranges.length) }, () => worker()));
  return results;
}

interface Verified {
  rows: VerifyRow[];
  byTopic: Record<string, DigestResult>;
}

async function verifyAll(
  p: RestorePlan,
  bases: Record<string, Record<number, number>>,
  digest: (job: { topic: string; backupTopic: string; partitions: { partition: number; from: number; to: number; base: number; marks: number[] }[] }) => Promise<DigestResult>,
): Promise<Verified> {
  const rows: VerifyRow[] = [];
  const byTopic: Record<string, DigestResult> = {};
  for (const t of restoredTopics(p)) {
    const marks = (partition: number) =>
      p.groups.flatMap((g) => g.offsets.filter((o) => o.topic === t.name && o.partition === partition && o.backupOffset !== null).map((o) => o.backupOffset as number));
    const result = await digest({
      topic: t.name,
      backupTopic: t.backupName,
      partitions: t.partitions.map((x) => ({ partition: x.partition, from: x.from, to: x.to, base: bases[t.name]?.[x.partition] ?? 0, marks: marks(x.partition) })),
    });
    byTopic[t.name] = result;
    rows.push(...compareDigests(t.name, result.backup, result.target));
  }
  return { rows, byTopic };
}

async function groupOffsetsOnTarget(p: RestorePlan, bases: Record<string, Record<number, number>>, digests: Record<string, DigestResult>, _copied: CopyRangeResult[], cluster: string): Promise<GroupOffsetsToSet[]> {
  const active = p.groups.filter((g) => g.refused);
  if (active.length > 0) throw unsafeToProceed(`active consumer group(s) on ${cluster}: ${active.map((g) => g.refused).join('; ')}`);
  if (p.groupOffsets === 'datetime') {
    const timeMs = new Date(p.at ?? p.backupPointTime).getTime();
    const topics = [...new Set(p.groups.flatMap((g) => g.offsets.map((o) => o.topic)))];
    const at = await read.targetOffsetsAtTime(cluster, topics, timeMs);
    return p.groups.map((g) => ({ groupId: g.groupId, offsets: g.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: at[o.topic]?.[o.partition] ?? 0 })) }));
  }
  return p.groups.map((g) => ({
    groupId: g.groupId,
    offsets: g.offsets.map((o) => {
      const t = p.topics.find((x) => x.name === o.topic);
      const part = t?.partitions.find((x) => x.partition === o.partition);
      const base = bases[o.topic]?.[o.partition] ?? 0;
      const d = digests[o.topic];
      const count = d?.backup.find((x) => x.partition === o.partition)?.count ?? 0;
      if (!part) return { topic: o.topic, partition: o.partition, offset: base };
      // No checkpoint: start at the restored data's beginning (re-read, never skipped).
      if (o.backupOffset === null) return { topic: o.topic, partition: o.partition, offset: base };
      const before = d?.marks[o.partition]?.[o.backupOffset];
      return { topic: o.topic, partition: o.partition, offset: translateToTarget(o.backupOffset, { from: part.from, to: part.to, base, copied: count }, before) };
    }),
  }));
}
