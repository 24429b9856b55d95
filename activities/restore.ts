import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Admin } from 'kafkajs';
import { type BackupPoint } from '../src/backup/manifest';
import { invalidInput, unsafeToProceed } from '../src/errors';
import { expandHome } from '../src/inventory/load';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { scrub } from '../src/redact';
import { clientProperties, librdkafkaClientProperties, type ResolvedClient } from '../src/restore/client-properties';
import { copierCommand, type NativeCopierKind, nativeCopierProbeCommand, parseNativeProbe, withCommonHeader } from '../src/restore/commands';
import { type CopierEvent, type CopyPosition, copyArgs, copyRate, describeCopyRate, digestArgs, type DigestPartitionArgs, lineSplitter, parseCopierLine } from '../src/restore/copier';
import { type RestoreFromBackupParsed, selectedBy } from '../src/restore/input';
import { chooseCopier, type CopierKind, type CopyRange, planRestore, type RestorePlan, SETTABLE_GROUP_STATES, type TargetGroup } from '../src/restore/plan';
import { type PartitionDigest } from '../src/restore/verify';
import { readBackupPoints } from './backup';
import { type ClusterRegistry, kafkaClient } from './clusters';
import { earlierAttemptDetails, keepHeartbeating } from './heartbeat';
import { withHostFile } from './host-files';
import { readSecret, type HostShell } from './ssh';

export interface RestoreActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
}

/** The copiers' sources travel to the copy host on stdin (withHostFile). The Java one runs from the host's Kafka jars (and verifies every copy); the C ones are built there. */
const SOURCES = { java: join(__dirname, 'restore', 'RestoreCopier.java'), librdkafka: join(__dirname, 'restore', 'restore-copier.c'), wire: join(__dirname, 'restore', 'wire-copier.c') };
const COMMON_HEADER = join(__dirname, 'restore', 'copier-common.h');
const sourceText = (kind: CopierKind) => (kind === 'java' ? readFileSync(SOURCES[kind], 'utf8') : withCommonHeader(readFileSync(SOURCES[kind], 'utf8'), readFileSync(COMMON_HEADER, 'utf8')));
/** A C copier's build on a host is named by its source: a new version is built anew. */
const nativeBuildId = (kind: CopierKind) => createHash('sha256').update(sourceText(kind)).digest('hex').slice(0, 16);

/** A topic to create on the target, as the plan decided. */
export interface TopicToCreate {
  name: string;
  partitionCount: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** One copy activity's job: a range of the plan, with each partition's base offset on the target. */
export interface CopyJob {
  backupCluster: string;
  cluster: string;
  copyHost: string;
  /** Names the copier process on the host, so a retry finds and stops an earlier attempt's copier. */
  key: string;
  /** The copier the plan chose; absent (a run planned before there was a choice): java. */
  copier?: CopierKind;
  range: CopyRange;
  /** Target end offset per partition before the restore wrote anything. */
  bases: Record<number, number>;
  timeoutMs: number;
}

export interface CopyPartitionResult {
  partition: number;
  /** Records of this restore on the target: its end minus its base. */
  copied: number;
  /** The target's end offset after the copy. */
  targetEnd: number;
}

export interface CopyRangeResult {
  rangeId: string;
  /** Records on the target for this range (resumed attempts included). */
  copied: number;
  /** Records this attempt wrote, and their key + value bytes. */
  copiedThisAttempt: number;
  bytesThisAttempt: number;
  ms: number;
  /** Records a retried attempt found already written and skipped. */
  skippedAsWritten: number;
  partitions: CopyPartitionResult[];
}

/** What a copy heartbeats: positions a retry resumes from, and the progress line shown in the UI's pending activity. */
export interface CopyHeartbeat {
  positions: Record<number, CopyPosition>;
  progress: string;
}

export interface DigestJob {
  backupCluster: string;
  cluster: string;
  copyHost: string;
  /** As CopyJob's: names the verifier processes on the host. */
  key: string;
  topic: string;
  backupTopic: string;
  partitions: { partition: number; from: number; to: number; base: number; marks: number[] }[];
  timeoutMs: number;
}

export interface DigestResult {
  backup: PartitionDigest[];
  target: PartitionDigest[];
  /** Per partition, records on the backup before each marked offset (for group offset translation). */
  marks: Record<number, Record<number, number>>;
}

export interface GroupOffsetsToSet {
  groupId: string;
  offsets: { topic: string; partition: number; offset: number }[];
}

function resolvedClient(inv: Inventory): ResolvedClient {
  const c = inv.client;
  const file = (p?: string) => (p ? readFileSync(expandHome(p), 'utf8') : undefined);
  return {
    bootstrapServers: inv.bootstrapServers,
    ...(c.tls ? { tls: { caPem: file(c.tls.caFile), certPem: file(c.tls.certFile), keyPem: file(c.tls.keyFile), keyPassword: c.tls.keyPassword ? readSecret(c.tls.keyPassword) : undefined } } : {}),
    ...(c.sasl ? { sasl: { mechanism: c.sasl.mechanism, username: c.sasl.username, password: readSecret(c.sasl.password) } } : {}),
  };
}

async function withAdmin<T>(inv: Inventory, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaClient(inv, 'kafka-runbooks-restore').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The backup point a restore uses: the one named, else the oldest taken at or after `at`, else the latest. `points` newest first. */
export function chooseBackupPoint(points: BackupPoint[], input: RestoreFromBackupParsed): BackupPoint {
  if (input.backupPoint) {
    const p = points.find((x) => x.id === input.backupPoint);
    if (!p) throw invalidInput(`backupPoint: no backup point "${input.backupPoint}" on ${input.backupCluster} (it holds ${points.length}: ${points.slice(0, 5).map((x) => x.id).join(', ')})`);
    return p;
  }
  if (input.at) {
    const at = new Date(input.at).toISOString();
    // The oldest point taken at or after `at` holds every record up to it.
    const covering = [...points].reverse().find((p) => p.time >= at);
    if (covering) return covering;
  }
  const latest = points[0];
  if (!latest) throw unsafeToProceed(`no backup point of ${input.sourceCluster ?? input.cluster} on ${input.backupCluster}: nothing to restore`);
  return latest;
}

/** Activities of restoreFromBackup. Data goes through the copiers (wire, librdkafka or Kafka's Java client) only; kafkajs does admin calls. */
export function createRestoreActivities({ clusters, shell }: RestoreActivityDeps) {
  const copyHostOf = (cluster: string, name: string): InventoryHost => clusters.host(cluster, name);

  /** Runs a copier (copy, or the Java one's digest) on the copy host, each stdout line to onEvent; returns its exit code and the last FAILED line. */
  async function runCopier(job: { backupCluster: string; cluster: string; copyHost: string; timeoutMs: number }, kind: CopierKind, key: string, args: string[], onEvent: (e: CopierEvent) => void) {
    const host = copyHostOf(job.cluster, job.copyHost);
    // The C copiers read librdkafka's names (the wire copier only bootstrap servers and security.protocol, and refuses anything else).
    const properties = kind === 'java' ? clientProperties : librdkafkaClientProperties;
    const stdin = properties('source', resolvedClient(clusters.get(job.backupCluster))) + properties('target', resolvedClient(clusters.get(job.cluster)));
    let failed: string | null = null;
    const lines = lineSplitter((line) => {
      const e = parseCopierLine(line);
      if (!e) return;
      if (e.kind === 'failed') failed = `${e.partition === null ? '' : `partition ${e.partition}: `}${e.message}`;
      onEvent(e);
    });
    const result = await withHostFile(shell, host, sourceText(kind), (sourcePath) =>
      shell.exec(host, copierCommand({ kind, key, sourcePath, args, kafkaHome: host.kafka.currentLink, buildId: nativeBuildId(kind) }), { timeoutMs: job.timeoutMs, stdin, onStdout: (chunk) => lines.push(chunk) }),
    );
    lines.end();
    // Exit 3 with an UNAVAILABLE line: a C copier could not be built on the host, or (wire) cannot serve these clusters.
    const unavailable = result.code === 3 ? /^UNAVAILABLE (.*)$/m.exec(result.stdout)?.[1] : undefined;
    return { code: result.code, failed: unavailable ? `the ${kind} copier cannot run on ${host.name}: ${unavailable}` : (failed as string | null), unavailable: unavailable !== undefined, stderr: result.stderr };
  }

  /** Builds a C copier on the host (once per source version) and runs it for its version. */
  async function probe(host: InventoryHost, kind: NativeCopierKind) {
    const run = await withHostFile(shell, host, sourceText(kind), (sourcePath) => shell.exec(host, nativeCopierProbeCommand(kind, sourcePath, nativeBuildId(kind)), { timeoutMs: 180_000 }));
    return parseNativeProbe(run.code, run.stdout, scrub(run.stderr, 400));
  }

  return {
    /** Reads the backup point and the target, and plans: topics to create or refuse, records per partition, groups. */
    async planRestoreFor(input: RestoreFromBackupParsed): Promise<RestorePlan> {
      const backup = clusters.get(input.backupCluster);
      const target = clusters.get(input.cluster);
      const copyHost = input.copyHost ?? target.hosts.find((h) => h.roles.includes('broker'))?.name;
      if (!copyHost) throw invalidInput(`copyHost: ${input.cluster} has no broker host to run the copier on`);
      const host = clusters.host(input.cluster, copyHost);
      // TLS or SASL on either side rules out the wire copier (PLAINTEXT only).
      const secured = [input.backupCluster, input.cluster].filter((name) => clusters.get(name).client.tls !== undefined || clusters.get(name).client.sasl !== undefined);
      const copier = await chooseCopier(input.copier, { host: host.name, secured, probe: (kind) => probe(host, kind) });
      const { points } = await readBackupPoints(kafkaClient(backup), input.sourceCluster ?? input.cluster);
      const point = chooseBackupPoint(points, input);
      const selected = point.topics.filter((t) => selectedBy(input.topics, t.name));
      let cutOffsets: Record<string, Record<number, number | null>> | null = null;
      if (input.at) {
        const after = new Date(input.at).getTime() + 1;
        cutOffsets = {};
        await withAdmin(backup, async (admin) => {
          for (const t of selected) {
            const offsets = await admin.fetchTopicOffsetsByTimestamp(t.backupName, after);
            cutOffsets![t.backupName] = Object.fromEntries(offsets.map((o) => [o.partition, Number(o.offset) >= 0 ? Number(o.offset) : null]));
          }
        });
      }
      const facts = await withAdmin(target, async (admin) => {
        const brokers = (await admin.describeCluster()).brokers.length;
        const names = new Set(await admin.listTopics());
        const present = selected.filter((t) => names.has(t.name)).map((t) => t.name);
        const md = present.length > 0 ? await admin.fetchTopicMetadata({ topics: present }) : { topics: [] };
        const groupIds = point.consumerGroups.filter((g) => selectedBy(input.groups, g.groupId)).map((g) => g.groupId);
        const described = groupIds.length > 0 ? await admin.describeGroups(groupIds) : { groups: [] };
        const targetGroups: TargetGroup[] = described.groups.filter((g) => g.state !== 'Dead').map((g) => ({ groupId: g.groupId, state: g.state }));
        return { brokers, targetTopics: md.topics.map((t) => ({ name: t.name, partitionCount: t.partitions.length })), targetGroups };
      });
      return planRestore(input, { point, targetBrokers: facts.brokers, targetTopics: facts.targetTopics, targetGroups: facts.targetGroups, cutOffsets, copyHost, copier });
    },

    /** Creates the planned topics with the backup's partition counts and configs. A topic already there with that partition count counts as created (a retried attempt). */
    async createRestoreTopics(cluster: string, topics: TopicToCreate[]): Promise<{ created: string[] }> {
      if (topics.length === 0) return { created: [] };
      return withAdmin(clusters.get(cluster), async (admin) => {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.name));
        if (missing.length > 0) {
          await admin
            .createTopics({
              waitForLeaders: true,
              topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitionCount, replicationFactor: t.replicationFactor, configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })) })),
            })
            .catch((err: { type?: string }) => {
              if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
            });
        }
        const md = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
        for (const t of topics) {
          const found = md.topics.find((x) => x.name === t.name);
          if (!found || found.partitions.length !== t.partitionCount) throw unsafeToProceed(`topic ${t.name} on ${cluster} has ${found?.partitions.length ?? 0} partitions, not the ${t.partitionCount} the restore planned`);
        }
        return { created: missing.map((t) => t.name) };
      });
    },

    /** The target's end offsets before the copy: the restore's records start there (the mapping between backup and target offsets). */
    async readRestoreBases(cluster: string, topics: { topic: string; partitions: number[] }[]): Promise<Record<string, Record<number, number>>> {
      return withAdmin(clusters.get(cluster), async (admin) => {
        const out: Record<string, Record<number, number>> = {};
        for (const t of topics) {
          const offsets = await admin.fetchTopicOffsets(t.topic);
          out[t.topic] = Object.fromEntries(offsets.filter((o) => t.partitions.includes(o.partition)).map((o) => [o.partition, Number(o.high)]));
        }
        return out;
      });
    },

    /**
     * Copies one range with the copier on the copy host, heartbeating progress, rate and ETA. A retried attempt
     * stops the earlier attempt's copier first, then resumes from what the target holds: no duplicate, no gap.
     * Fails on any producer error (the copier exits non-zero); never counts a record it was not acknowledged for.
     */
    async copyRestoreRange(job: CopyJob): Promise<CopyRangeResult> {
      const earlier = earlierAttemptDetails() as CopyHeartbeat | undefined;
      const positions: Record<number, CopyPosition> = { ...(earlier?.positions ?? {}) };
      const total = job.range.partitions.reduce((n, p) => n + p.records, 0);
      const copiedBy = new Map<number, number>();
      const bytesBy = new Map<number, number>();
      const startCopied = new Map<number, number>();
      let skipped = 0;
      let summary: { copied: number; bytes: number; ms: number } | null = null;
      const started = Date.now();
      const args = copyArgs(
        job.range.backupTopic,
        job.range.topic,
        job.range.partitions.map((p) => {
          const base = job.bases[p.partition];
          if (base === undefined) throw new Error(`no base offset for ${job.range.topic}/${p.partition}`);
          return { partition: p.partition, from: p.from, to: p.to, base, hint: positions[p.partition] ?? null };
        }),
      );
      const details = (): CopyHeartbeat => {
        const copiedNow = [...copiedBy.values()].reduce((a, b) => a + b, 0);
        const atStart = [...startCopied.values()].reduce((a, b) => a + b, 0);
        const bytes = [...bytesBy.values()].reduce((a, b) => a + b, 0);
        return { positions, progress: `${job.range.id}: ${describeCopyRate(copyRate({ copiedAtStart: atStart, copiedNow, bytesThisAttempt: bytes, total, elapsedMs: Date.now() - started }))}` };
      };
      const run = await keepHeartbeating(details, () =>
        runCopier(job, job.copier ?? 'java', job.key, args, (e) => {
          if (e.kind === 'start') skipped += e.skip;
          if (e.kind === 'progress' || e.kind === 'done') {
            // Only acknowledged positions are kept: a retry may start from one, never from a record merely sent.
            positions[e.partition] = { src: e.src, tgt: e.tgt };
            if (!startCopied.has(e.partition)) startCopied.set(e.partition, e.copied - 0);
            copiedBy.set(e.partition, e.copied);
            bytesBy.set(e.partition, e.bytes);
          }
          if (e.kind === 'summary') summary = e;
        }),
      );
      if (run.code !== 0 || summary === null) {
        const why = run.failed ?? `the copier exited ${run.code}: ${scrub(run.stderr.split('\n').slice(-5).join(' '), 400)}`;
        if (run.failed && /more than the backup range|truncated or recreated/.test(run.failed)) throw unsafeToProceed(`copy of ${job.range.id} on ${job.copyHost}: ${scrub(run.failed, 400)}`);
        // The host lost what the plan found there (a compiler, librdkafka's headers): a retry cannot bring it back.
        if (run.unavailable) throw unsafeToProceed(`copy of ${job.range.id} on ${job.copyHost}: ${scrub(why, 400)}; restore it there, or start the restore again with copier: ${job.copier === 'wire' ? 'librdkafka or java' : 'java'}`);
        throw new Error(`copy of ${job.range.id} on ${job.copyHost} failed: ${scrub(why, 600)}`);
      }
      const s = summary as { copied: number; bytes: number; ms: number };
      const partitions = job.range.partitions.map((p) => {
        const copied = copiedBy.get(p.partition) ?? 0;
        return { partition: p.partition, copied, targetEnd: (job.bases[p.partition] ?? 0) + copied };
      });
      const copiedNow = partitions.reduce((n, p) => n + p.copied, 0);
      return { rangeId: job.range.id, copied: copiedNow, copiedThisAttempt: copiedNow - skipped, bytesThisAttempt: s.bytes, ms: Date.now() - started, skippedAsWritten: skipped, partitions };
    },

    /** Counts and digests each partition on the backup (the copied range) and on the target (from its base to its end), next to the data. */
    async digestRestoreRange(job: DigestJob): Promise<DigestResult> {
      const backupArgs: DigestPartitionArgs[] = job.partitions.map((p) => ({ partition: p.partition, from: p.from, to: p.to, marks: p.marks }));
      const targetArgs: DigestPartitionArgs[] = job.partitions.map((p) => ({ partition: p.partition, from: p.base, to: null }));
      const collect = async (side: 'source' | 'target', topic: string, parts: DigestPartitionArgs[]) => {
        const digests: PartitionDigest[] = [];
        const marks: Record<number, Record<number, number>> = {};
        const run = await runCopier(job, 'java', `${job.key}-${side}`, digestArgs(side, topic, parts), (e) => {
          if (e.kind === 'digest') digests.push({ partition: e.partition, count: e.count, sha256: e.sha256, end: e.end });
          if (e.kind === 'mark') (marks[e.partition] ??= {})[e.offset] = e.before;
        });
        if (run.code !== 0) throw new Error(`digest of ${topic} (${side === 'source' ? job.backupCluster : job.cluster}) failed: ${scrub(run.failed ?? run.stderr.split('\n').slice(-5).join(' '), 600)}`);
        return { digests, marks };
      };
      return keepHeartbeating(
        () => ({ progress: `digesting ${job.topic} partitions ${job.partitions.map((p) => p.partition).join(',')}` }),
        async () => {
          const backup = await collect('source', job.backupTopic, backupArgs);
          const target = await collect('target', job.topic, targetArgs);
          return { backup: backup.digests, target: target.digests, marks: backup.marks };
        },
      );
    },

    /** Group states on the target now; groups absent there are left out. */
    async readTargetGroupStates(cluster: string, groupIds: string[]): Promise<TargetGroup[]> {
      if (groupIds.length === 0) return [];
      return withAdmin(clusters.get(cluster), async (admin) => (await admin.describeGroups(groupIds)).groups.filter((g) => g.state !== 'Dead').map((g) => ({ groupId: g.groupId, state: g.state })));
    },

    /** Per partition, the target offset of the first record at or after a time (its end when none): a reset to a date-time. */
    async targetOffsetsAtTime(cluster: string, topics: string[], timeMs: number): Promise<Record<string, Record<number, number>>> {
      return withAdmin(clusters.get(cluster), async (admin) => {
        const out: Record<string, Record<number, number>> = {};
        for (const topic of topics) {
          const at = await admin.fetchTopicOffsetsByTimestamp(topic, timeMs);
          const ends = await admin.fetchTopicOffsets(topic);
          out[topic] = Object.fromEntries(at.map((o) => [o.partition, Number(o.offset) >= 0 ? Number(o.offset) : Number(ends.find((e) => e.partition === o.partition)?.high ?? 0)]));
        }
        return out;
      });
    },

    /** Commits the groups' offsets on the target. Every group must be empty; an active one is named and nothing is set. */
    async setRestoredGroupOffsets(cluster: string, groups: GroupOffsetsToSet[]): Promise<{ set: string[] }> {
      if (groups.length === 0) return { set: [] };
      return withAdmin(clusters.get(cluster), async (admin) => {
        const states = (await admin.describeGroups(groups.map((g) => g.groupId))).groups;
        const active = states.filter((g) => !SETTABLE_GROUP_STATES.includes(g.state));
        if (active.length > 0) throw unsafeToProceed(`consumer group(s) ${active.map((g) => `${g.groupId} (${g.state}, ${g.members.length} member(s))`).join(', ')} on ${cluster} are active: stop their consumers, then retry; no offsets were set`);
        for (const g of groups) {
          const byTopic = new Map<string, { partition: number; offset: string }[]>();
          for (const o of g.offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: String(o.offset) }]);
          for (const [topic, partitions] of byTopic) await admin.setOffsets({ groupId: g.groupId, topic, partitions });
        }
        return { set: groups.map((g) => g.groupId) };
      });
    },
  };
}
