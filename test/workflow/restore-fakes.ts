/**
 * Fakes of the restore activities, typed like the real ones, over a simulated backup cluster and target: each
 * partition is a list of record strings, and the fake copy resumes as the real copier does (what the target
 * holds past the base was already copied, in order). No jest here (also used by the every-activity fake).
 */
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { type createRestoreActivities } from '../../activities/restore';
import { type BackupPoint } from '../../src/backup/manifest';
import { SETTABLE_GROUP_STATES, planRestore } from '../../src/restore/plan';

export type RestoreActivities = ReturnType<typeof createRestoreActivities>;

const digestOf = (records: string[]) => createHash('sha256').update(JSON.stringify(records)).digest('hex');

export class FakeRestoreWorld {
  /** Backup topic partitions: records by partition. */
  backup = new Map<string, string[][]>([['orders', [Array.from({ length: 10 }, (_, i) => `r0-${i}`), Array.from({ length: 6 }, (_, i) => `r1-${i}`)]]]);
  /** Target topics; absent: not created. */
  target = new Map<string, string[][]>();
  /** Group states on the target. */
  groups = new Map<string, string>();
  /** The first copy attempt writes this many records of each partition, then its "worker" dies. */
  failFirstCopyAfter: number | null = null;
  /** A record the target holds differently (a copier bug or a second writer). */
  corruptTarget: { topic: string; partition: number } | null = null;
  events: string[] = [];
  copyAttempts = 0;
  /** The copier each copy attempt was given. */
  copiers: string[] = [];
  committed = new Map<string, Record<string, number>>();

  point(): BackupPoint {
    return {
      version: 1,
      id: '2026-11-30T02:00:00Z',
      time: '2026-11-30T02:00:00.000Z',
      sourceCluster: 'prod',
      backupCluster: 'bak',
      mm2: { sourceAlias: 'prod', targetAlias: 'bak', replicationPolicy: 'identity' },
      topics: [...this.backup].map(([name, parts]) => ({
        name,
        backupName: name,
        partitionCount: parts.length,
        replicationFactor: 3,
        configs: { 'cleanup.policy': 'delete' },
        partitions: parts.map((p, i) => ({ partition: i, sourceStartOffset: 0, sourceEndOffset: p.length, sourceOffsetReached: p.length, backupStartOffset: 0, backupEndOffset: p.length })),
      })),
      acls: { captured: false, bindings: [] },
      consumerGroups: [{ groupId: 'billing', state: 'Stable', offsets: [{ topic: 'orders', partition: 0, committedOffset: 7, translatedOffset: 7 }, { topic: 'orders', partition: 1, committedOffset: 2, translatedOffset: null }] }],
    };
  }

  activities(): RestoreActivities {
    return {
      planRestoreFor: async (input) => {
        this.events.push('plan');
        return planRestore(input, {
          point: this.point(),
          targetBrokers: 3,
          targetTopics: [...this.target].map(([name, parts]) => ({ name, partitionCount: parts.length })),
          targetGroups: [...this.groups].map(([groupId, state]) => ({ groupId, state })),
          cutOffsets: null,
          copyHost: 'kafka-1',
          copier: input.copier === 'java' ? { kind: 'java', why: 'copier: java' } : input.copier === 'librdkafka' ? { kind: 'librdkafka', why: 'librdkafka 2.0.2 on kafka-1' } : { kind: 'wire', why: 'wire copier v1 on kafka-1, chosen by copier: auto' },
        });
      },
      createRestoreTopics: async (_c, topics) => {
        for (const t of topics) if (!this.target.has(t.name)) this.target.set(t.name, Array.from({ length: t.partitionCount }, () => []));
        this.events.push(`create ${topics.map((t) => t.name).join(',')}`);
        return { created: topics.map((t) => t.name) };
      },
      readRestoreBases: async (_c, topics) => {
        this.events.push('bases');
        return Object.fromEntries(topics.map((t) => [t.topic, Object.fromEntries(t.partitions.map((p) => [p, this.target.get(t.topic)?.[p]?.length ?? 0]))]));
      },
      copyRestoreRange: async (job) => {
        this.copyAttempts++;
        this.copiers.push(job.copier ?? 'unset');
        this.events.push(`copy ${job.range.id}`);
        const dies = this.failFirstCopyAfter !== null && this.copyAttempts === 1;
        let skipped = 0;
        let copied = 0;
        for (const p of job.range.partitions) {
          const src = this.backup.get(job.range.backupTopic)?.[p.partition] ?? [];
          const dst = this.target.get(job.range.topic)?.[p.partition];
          const base = job.bases[p.partition];
          if (!dst || base === undefined) throw new Error(`no target partition ${p.partition}`);
          // The copier's rule: records past the base are copies of the range's first ones, in order.
          const already = dst.length - base;
          skipped += already;
          for (let i = p.from + already; i < p.to; i++) {
            if (dies && i - p.from >= (this.failFirstCopyAfter ?? 0)) break;
            dst.push(src[i] ?? '?');
            copied++;
          }
        }
        if (dies) throw new Error('the worker died mid-copy');
        return { rangeId: job.range.id, copied: skipped + copied, copiedThisAttempt: copied, bytesThisAttempt: copied, ms: 1, skippedAsWritten: skipped, partitions: job.range.partitions.map((p) => ({ partition: p.partition, copied: (this.target.get(job.range.topic)?.[p.partition]?.length ?? 0) - (job.bases[p.partition] ?? 0), targetEnd: this.target.get(job.range.topic)?.[p.partition]?.length ?? 0 })) };
      },
      digestRestoreRange: async (job) => {
        this.events.push(`verify ${job.topic}`);
        if (this.corruptTarget?.topic === job.topic) {
          const part = this.target.get(job.topic)?.[this.corruptTarget.partition];
          if (part && part.length > 0) part[0] = 'changed';
        }
        const backup = job.partitions.map((p) => {
          const recs = (this.backup.get(job.backupTopic)?.[p.partition] ?? []).slice(p.from, p.to);
          return { partition: p.partition, count: recs.length, sha256: digestOf(recs), end: p.to };
        });
        const target = job.partitions.map((p) => {
          const all = this.target.get(job.topic)?.[p.partition] ?? [];
          const recs = all.slice(p.base);
          return { partition: p.partition, count: recs.length, sha256: digestOf(recs), end: all.length };
        });
        const marks = Object.fromEntries(job.partitions.map((p) => [p.partition, Object.fromEntries(p.marks.map((m) => [m, Math.max(0, Math.min(m, p.to) - p.from)]))]));
        return { backup, target, marks };
      },
      readTargetGroupStates: async (_c, ids) => ids.filter((id) => this.groups.has(id)).map((groupId) => ({ groupId, state: this.groups.get(groupId) ?? 'Empty' })),
      targetOffsetsAtTime: async (_c, topics) => Object.fromEntries(topics.map((t) => [t, { 0: 0, 1: 0 }])),
      setRestoredGroupOffsets: async (cluster, groups) => {
        const active = groups.filter((g) => this.groups.has(g.groupId) && !SETTABLE_GROUP_STATES.includes(this.groups.get(g.groupId) ?? ''));
        if (active.length > 0) throw ApplicationFailure.create({ type: 'UnsafeToProceed', nonRetryable: true, message: `consumer group(s) ${active.map((g) => g.groupId).join(', ')} on ${cluster} are active` });
        for (const g of groups) this.committed.set(g.groupId, Object.fromEntries(g.offsets.map((o) => [`${o.topic}/${o.partition}`, o.offset])));
        this.events.push(`set groups ${groups.map((g) => g.groupId).join(',')}`);
        return { set: groups.map((g) => g.groupId) };
      },
    };
  }
}
