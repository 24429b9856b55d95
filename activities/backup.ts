import { ApplicationFailure } from '@temporalio/common';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, type Kafka, ResourcePatternTypes } from 'kafkajs';
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { type BackupAcl, type BackupGroup, type BackupPoint, type BackupTopic, BACKUP_POINTS_TOPIC, MANIFEST_VERSION, backupPointKey, backupPointSchema, parseBackupPoint } from '../src/backup/manifest';
import { type Mm2BackupSettings, groupExcludes, matchesPatterns, mm2CheckpointsTopic, mm2OffsetsTopic, renderMm2Config, topicExcludes } from '../src/backup/mm2-config';
import { type Mm2WorkStatus, checkpointKey, latestCheckpoints, latestWorkStatus, parseMm2OffsetRecord, partitionKey } from '../src/backup/mm2-records';
import { type MirrorMakerState } from '../src/backup/mm2-lifecycle';
import { catchUpStatus } from '../src/backup/catch-up';
import { partitionSizes } from '../src/backup/log-dirs';
import { invalidInput, unknownCluster, unsafeToProceed } from '../src/errors';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { LIMITS } from '../src/limits';
import { scrub } from '../src/redact';
import { type MirrorBackupSettings } from '../src/runbooks/mirror-backup';
import { runKafkaTool } from './cluster-reads';
import { type ClusterRegistry, kafkaClient } from './clusters';
import { earlierAttemptDetails, keepHeartbeating } from './heartbeat';
import { followTopic, readTopicToEnd, topicEnds } from './kafka-topic-reader';
import { isKafkaRunning } from './node-status';
import { type HostShell } from './ssh';

/** The wait for MirrorMaker 2 gave up: the backup is not complete. Not retried: a human looks at MM2. */
export const MIRROR_BACKUP_TIMED_OUT = 'MirrorBackupTimedOut';

export interface BackupActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
}

export interface MirrorBackupPlan {
  source: string;
  backup: string;
  mm2Hosts: string[];
  /** sha256 of the rendered MM2 config: the config itself stays on the worker and the hosts. */
  configFingerprint: string;
  replicationPolicy: 'identity' | 'default';
}

export interface CapturedPartition {
  partition: number;
  start: number;
  end: number;
}

export interface CapturedTopic {
  name: string;
  backupName: string;
  partitionCount: number;
  replicationFactor: number;
  partitions: CapturedPartition[];
}

/** The source's topics and end offsets at the start of a backup: what the backup point must hold. */
export interface SourceCapture {
  time: string;
  topics: CapturedTopic[];
  partitions: number;
  records: number;
}

export interface CatchUpProgress {
  startedAt: number;
  partitionsReached: number;
  partitions: number;
  lagRecords: number;
}

export interface CatchUpResult {
  /** Per `topic:partition`, the source offset MM2 had replicated up to (its mm2-offsets position + 1, or the start for an empty partition). */
  reached: Record<string, number>;
  lagRecords: number;
  waitedMs: number;
}

export interface MirrorMakerHealth {
  statuses: Mm2WorkStatus[];
  failed: Mm2WorkStatus[];
}

export interface BackupPointSummary {
  id: string;
  time: string;
  sourceCluster: string;
  backupCluster: string;
  topics: number;
  partitions: number;
  /** Records on the backup cluster at the point (sum of backup end - start offsets). */
  records: number;
  /** Records the backup gained since the previous backup point (all of them for the first). */
  recordsThisRun: number;
  /** The backup topics' size on disk at the point, and its growth since the previous point; null when unknown. */
  bytes: number | null;
  bytesThisRun: number | null;
  /** Records MM2 had not yet replicated when the point was taken (0 once it reached the captured offsets). */
  lagRecords: number;
  groups: number;
  aclsCaptured: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Renamed under the default policy; kept under identity. */
export function backupTopicName(policy: 'identity' | 'default', sourceAlias: string, topic: string): string {
  return policy === 'identity' ? topic : `${sourceAlias}.${topic}`;
}

function backupSettings(inv: Inventory, clusters: ClusterRegistry): { backup: Inventory; hosts: InventoryHost[] } {
  if (!inv.backup) throw invalidInput(`cluster "${inv.name}" names no backup cluster: add a backup section (cluster, mirrorMaker.hosts) to ${inv.source}`);
  let backup: Inventory;
  try {
    backup = clusters.get(inv.backup.cluster);
  } catch {
    throw unknownCluster(`cluster "${inv.name}" is backed up to "${inv.backup.cluster}", which this worker's inventory does not define`);
  }
  for (const c of [inv, backup]) {
    // MM2's config would need the password in its file; secrets stay references on the worker.
    if (c.client.sasl) throw invalidInput(`cluster "${c.name}" uses SASL: mirrorBackup renders MM2 configs without secrets and does not support SASL clusters yet`);
  }
  return { backup, hosts: inv.backup.mirrorMaker.hosts };
}

export function mm2SettingsFor(input: MirrorBackupSettings, source: Inventory, backup: Inventory): Mm2BackupSettings {
  return {
    source: { alias: source.name, bootstrapServers: source.bootstrapServers, ...(source.client.tls?.caFile ? { tlsCaFile: source.client.tls.caFile } : {}) },
    target: { alias: backup.name, bootstrapServers: backup.bootstrapServers, ...(backup.client.tls?.caFile ? { tlsCaFile: backup.client.tls.caFile } : {}) },
    topics: input.topics,
    groups: input.groups,
    replicationPolicy: input.replicationPolicy,
    tasksMax: input.tasksMax,
    replicationFactor: input.replicationFactor,
    allowWritesToSource: input.allowWritesToSource,
    checkpointIntervalSeconds: input.checkpointIntervalSeconds,
    refreshIntervalSeconds: input.refreshIntervalSeconds,
    offsetFlushIntervalMs: input.offsetFlushIntervalMs,
  };
}

async function withAdmin<T>(kafka: Kafka, fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

export function createBackupActivities({ clusters, shell }: BackupActivityDeps) {
  const resolve = (input: MirrorBackupSettings) => {
    const source = clusters.get(input.cluster);
    const { backup, hosts } = backupSettings(source, clusters);
    const config = renderMm2Config(mm2SettingsFor(input, source, backup));
    return { source, backup, hosts, config };
  };
  const mm2Host = (input: MirrorBackupSettings, name: string): InventoryHost => {
    const host = resolve(input).hosts.find((h) => h.name === name);
    if (!host) throw unknownCluster(`cluster "${input.cluster}" has no MirrorMaker 2 host "${name}"`);
    return host;
  };
  /** The status template read as LSB codes, as for brokers (a sudo refusal is no answer, not "stopped"). */
  const isRunning = (host: InventoryHost): Promise<boolean> => isKafkaRunning(shell, host, 30_000, 'MirrorMaker 2');
  const waitForRunning = async (host: InventoryHost, want: boolean, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    await keepHeartbeating(
      () => ({ host: host.name, want }),
      async () => {
        while ((await isRunning(host)) !== want) {
          if (Date.now() > deadline) throw new Error(`MirrorMaker 2 on ${host.name} is still ${want ? 'stopped' : 'running'} after ${timeoutMs / 1000} s`);
          await new Promise((r) => setTimeout(r, 1000));
        }
      },
    );
  };

  /**
   * Sizes of the backup topics' partitions, from kafka-log-dirs.sh on the first backup broker host that answers
   * (kafkajs has no DescribeLogDirs). Reported, never decided on: null when no host answers.
   */
  const backupSizes = async (backup: Inventory, topics: string[]): Promise<Map<string, number> | null> => {
    if (topics.length === 0) return new Map();
    for (const host of backup.hosts.filter((h) => h.roles.includes('broker'))) {
      try {
        return partitionSizes(await runKafkaTool(shell, host, backup.bootstrapServers, backup.client.toolCommandConfig, 'kafka-log-dirs.sh', ['--describe', '--topic-list', topics.join(',')], { timeoutMs: 90_000 }));
      } catch {
        // the next broker host
      }
    }
    return null;
  };

  return {
    /** Resolves the backup cluster and MM2 hosts and renders the MM2 config; nothing changes. */
    async planMirrorBackup(input: MirrorBackupSettings): Promise<MirrorBackupPlan> {
      const { source, backup, hosts, config } = resolve(input);
      return { source: source.name, backup: backup.name, mm2Hosts: hosts.map((h) => h.name), configFingerprint: sha256(config), replicationPolicy: input.replicationPolicy };
    },

    /** Whether MM2 runs on the host, and whether its config file is exactly the rendered one. */
    async readMirrorMakerState(input: MirrorBackupSettings, hostName: string): Promise<MirrorMakerState> {
      const host = mm2Host(input, hostName);
      const { config } = resolve(input);
      // A digest, not the text: the SSH layer trims output, and a trailing newline is a difference too.
      const file = await shell.exec(host, `sha256sum < ${shellQuote(host.kafka.configFile)}`, { timeoutMs: 30_000 });
      const running = await isRunning(host);
      return { host: host.name, running, configMatches: file.code === 0 && file.stdout.slice(0, 64) === sha256(config) };
    },

    /** Writes the rendered config (on stdin, then renamed into place); refuses if the render no longer matches the plan. */
    async writeMirrorMakerConfig(input: MirrorBackupSettings, hostName: string, configFingerprint: string): Promise<void> {
      const host = mm2Host(input, hostName);
      const { config } = resolve(input);
      if (sha256(config) !== configFingerprint) throw unsafeToProceed(`the MirrorMaker 2 config rendered now differs from the planned one (the inventory changed during the run): start the backup again`);
      const path = host.kafka.configFile;
      const tmp = `${path}.kafka-runbooks.tmp`;
      const r = await shell.exec(host, `mkdir -p ${shellQuote(dirname(path))} && cat > ${shellQuote(tmp)} && mv -f ${shellQuote(tmp)} ${shellQuote(path)}`, { timeoutMs: 30_000, stdin: config });
      if (r.code !== 0) throw new Error(`writing ${path} on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr, 300)}`);
    },

    /** Stops MM2 and waits until its status says stopped. Idempotent. */
    async stopMirrorMaker(input: MirrorBackupSettings, hostName: string): Promise<void> {
      const host = mm2Host(input, hostName);
      if (!(await isRunning(host))) return;
      const r = await shell.exec(host, renderCommand(host.kafka.commands.stop, host), { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`MirrorMaker 2 stop on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr || r.stdout, 300)}`);
      await waitForRunning(host, false, 120_000);
    },

    /** Starts MM2 (unless it already runs) and waits until its status says running, and still does a few seconds later. */
    async startMirrorMaker(input: MirrorBackupSettings, hostName: string): Promise<void> {
      const host = mm2Host(input, hostName);
      if (!(await isRunning(host))) {
        const r = await shell.exec(host, renderCommand(host.kafka.commands.start, host), { timeoutMs: 120_000 });
        if (r.code !== 0) throw new Error(`MirrorMaker 2 start on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr || r.stdout, 300)}`);
      }
      await waitForRunning(host, true, 60_000);
      // A config MM2 refuses makes it exit within seconds of starting.
      await new Promise((r) => setTimeout(r, 5000));
      if (!(await isRunning(host))) throw new Error(`MirrorMaker 2 on ${host.name} exited right after it started: see ${host.kafka.logDir} on the host`);
    },

    /** The source's matching topics with partition counts and start/end offsets, now. */
    async captureSourceOffsets(input: MirrorBackupSettings): Promise<SourceCapture> {
      const { source } = resolve(input);
      const time = new Date().toISOString();
      const excludes = topicExcludes(input);
      const topics = await withAdmin(kafkaClient(source), async (admin) => {
        const names = (await admin.listTopics()).filter((t) => matchesPatterns(t, input.topics.include, excludes)).sort();
        if (names.length === 0) return [];
        const meta = await admin.fetchTopicMetadata({ topics: names });
        const out: CapturedTopic[] = [];
        for (const t of meta.topics) {
          const offsets = await admin.fetchTopicOffsets(t.name);
          out.push({
            name: t.name,
            backupName: backupTopicName(input.replicationPolicy, source.name, t.name),
            partitionCount: t.partitions.length,
            replicationFactor: Math.max(1, ...t.partitions.map((p) => p.replicas.length)),
            partitions: offsets.map((o) => ({ partition: o.partition, start: Number(o.low), end: Number(o.high) })).sort((a, b) => a.partition - b.partition),
          });
          const got = out[out.length - 1]?.partitions ?? [];
          // A partial answer would make the wait pass on partitions it never saw: retry instead.
          if (got.length !== t.partitions.length || got.some((p) => !Number.isSafeInteger(p.start) || !Number.isSafeInteger(p.end) || p.start > p.end)) {
            throw new Error(`end offsets of ${t.name} came back for ${got.length} of ${t.partitions.length} partitions or unreadable: ${JSON.stringify(offsets).slice(0, 300)}`);
          }
        }
        return out;
      });
      const partitions = topics.reduce((n, t) => n + t.partitions.length, 0);
      // The capture travels through history: bound it (a cluster past this needs the capture stored off history).
      if (partitions > LIMITS.maxExplicitPartitions) throw invalidInput(`the topic patterns match ${partitions} partitions; one backup run handles at most ${LIMITS.maxExplicitPartitions}: narrow topics.include`);
      return { time, topics, partitions, records: topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.end - p.start, 0), 0) };
    },

    /**
     * Waits until MM2's recorded position (mm2-offsets on the backup cluster) reaches every captured end offset,
     * heartbeating its progress. Past the timeout (kept across retries) it fails, naming the partitions behind.
     */
    async waitForMirrorCatchUp(input: MirrorBackupSettings, capture: SourceCapture, timeoutMs: number): Promise<CatchUpResult> {
      const { source, backup } = resolve(input);
      const earlier = earlierAttemptDetails() as CatchUpProgress | undefined;
      const startedAt = typeof earlier?.startedAt === 'number' ? earlier.startedAt : Date.now();
      const positions = new Map<string, number>();
      const kafka = kafkaClient(backup);
      const topic = mm2OffsetsTopic(source.name);
      const wanted = capture.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, ...p })));
      const progress: CatchUpProgress = { startedAt, partitionsReached: 0, partitions: wanted.length, lagRecords: capture.records };
      const measure = () => {
        const status = catchUpStatus(wanted, positions);
        progress.partitionsReached = status.partitionsReached;
        progress.lagRecords = status.lagRecords;
        return status;
      };
      return keepHeartbeating(
        () => progress,
        async () => {
          let reader: Awaited<ReturnType<typeof followTopic>> | null = null;
          try {
            for (;;) {
              if (!reader && (await topicEnds(kafka, topic))) {
                reader = await followTopic(kafka, topic, (r) => {
                  const parsed = parseMm2OffsetRecord(r.key, r.value);
                  if (parsed.kind === 'position' && parsed.position.sourceCluster === source.name) positions.set(partitionKey(parsed.position.topic, parsed.position.partition), parsed.position.offset + 1);
                });
              }
              const status = measure();
              if (status.partitionsReached === status.partitions) return { reached: status.reached, lagRecords: 0, waitedMs: Date.now() - startedAt };
              if (Date.now() - startedAt > timeoutMs) {
                const behind = status.behind;
                throw ApplicationFailure.create({
                  type: MIRROR_BACKUP_TIMED_OUT,
                  nonRetryable: true,
                  message: `MirrorMaker 2 did not reach the source's end offsets within ${Math.round(timeoutMs / 60_000)} min: ${progress.partitions - progress.partitionsReached} of ${progress.partitions} partitions behind, ${progress.lagRecords} records of lag${reader ? '' : ` (no ${topic} on ${backup.name} yet: is MM2 running?)`}; e.g. ${behind.join(', ')}`,
                  details: [progress],
                });
              }
              await new Promise((r) => setTimeout(r, 1000));
            }
          } finally {
            if (reader) await reader.stop().catch(() => undefined);
          }
        },
      );
    },

    /** MM2's connectors and tasks with their states, from its status topic on the backup cluster. */
    async readMirrorMakerHealth(input: MirrorBackupSettings): Promise<MirrorMakerHealth> {
      const { source, backup } = resolve(input);
      const records = await readTopicToEnd(kafkaClient(backup), `mm2-status.${source.name}.internal`);
      const statuses = latestWorkStatus(records);
      return { statuses, failed: statuses.filter((s) => s.state === 'FAILED') };
    },

    /**
     * Writes the backup point into our compacted topic on the backup cluster and reads it back: topic configs,
     * ACLs, consumer groups (committed and translated offsets) and both sides' offsets. Idempotent (same key).
     */
    async writeBackupPoint(input: MirrorBackupSettings, capture: SourceCapture, catchUp: CatchUpResult, id: string, workflowId: string): Promise<BackupPointSummary> {
      const { source, backup } = resolve(input);
      const sourceKafka = kafkaClient(source);
      const backupKafka = kafkaClient(backup);
      const names = capture.topics.map((t) => t.name);
      const { configs, acls, groups } = await withAdmin(sourceKafka, async (admin) => {
        const configs = new Map<string, Record<string, string | null>>();
        if (names.length > 0) {
          const described = await admin.describeConfigs({ includeSynonyms: false, resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })) });
          for (const r of described.resources) {
            // configSource 1 = DYNAMIC_TOPIC_CONFIG: the topic's own overrides, what a restore sets.
            configs.set(r.resourceName, Object.fromEntries(r.configEntries.filter((e) => e.configSource === 1).map((e) => [e.configName, e.isSensitive ? null : e.configValue])));
          }
        }
        const acls = await captureAcls(admin);
        const listed = (await admin.listGroups()).groups.filter((g) => g.protocolType === 'consumer' || g.protocolType === '').map((g) => g.groupId);
        const groupIds = listed.filter((g) => matchesPatterns(g, input.groups.include, groupExcludes(input))).sort();
        const described = groupIds.length > 0 ? await admin.describeGroups(groupIds) : { groups: [] };
        const groups: Omit<BackupGroup, 'offsets'>[] = [];
        const committed = new Map<string, { topic: string; partition: number; offset: number }[]>();
        for (const g of described.groups) {
          groups.push({ groupId: g.groupId, state: g.state });
          const offsets = names.length > 0 ? await admin.fetchOffsets({ groupId: g.groupId, topics: names }) : [];
          committed.set(
            g.groupId,
            offsets.flatMap((t) => t.partitions.filter((p) => Number(p.offset) >= 0).map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) }))),
          );
        }
        return { configs, acls, groups: groups.map((g) => ({ ...g, committed: committed.get(g.groupId) ?? [] })) };
      });
      const checkpoints = latestCheckpoints(await readTopicToEnd(backupKafka, mm2CheckpointsTopic(source.name)));
      // "This run" = since the previous backup point of this source (MM2 runs between backups, so the backup's
      // growth during this run alone says little); a partition new since then counts from its start.
      const previous = (await readBackupPoints(backupKafka, source.name)).points.find((p) => p.id !== id);
      const previousEnd = new Map(previous?.topics.flatMap((t) => t.partitions.map((p) => [partitionKey(t.backupName, p.partition), p.backupEndOffset] as const)) ?? []);

      const sizes = await backupSizes(backup, capture.topics.map((t) => t.backupName));
      const topics: BackupTopic[] = [];
      let recordsThisRun = 0;
      for (const t of capture.topics) {
        const ends = await topicEnds(backupKafka, t.backupName);
        if (!ends) throw unsafeToProceed(`MirrorMaker 2 reached ${t.name} on the source, but ${t.backupName} does not exist on ${backup.name}`);
        topics.push({
          name: t.name,
          backupName: t.backupName,
          partitionCount: t.partitionCount,
          replicationFactor: t.replicationFactor,
          configs: configs.get(t.name) ?? {},
          ...(sizes ? { backupBytes: t.partitions.reduce((n, p) => n + (sizes.get(partitionKey(t.backupName, p.partition)) ?? 0), 0) } : {}),
          partitions: t.partitions.map((p) => {
            const b = ends.get(p.partition) ?? { low: 0, high: 0 };
            recordsThisRun += Math.max(0, b.high - Math.max(b.low, previousEnd.get(partitionKey(t.backupName, p.partition)) ?? b.low));
            return {
              partition: p.partition,
              sourceStartOffset: p.start,
              sourceEndOffset: p.end,
              sourceOffsetReached: catchUp.reached[partitionKey(t.name, p.partition)] ?? p.end,
              backupStartOffset: b.low,
              backupEndOffset: b.high,
            };
          }),
        });
      }
      const point: BackupPoint = {
        version: MANIFEST_VERSION,
        id,
        time: capture.time,
        sourceCluster: source.name,
        backupCluster: backup.name,
        mm2: { sourceAlias: source.name, targetAlias: backup.name, replicationPolicy: input.replicationPolicy },
        workflowId,
        topics,
        acls,
        consumerGroups: groups.map((g) => ({
          groupId: g.groupId,
          state: g.state,
          offsets: g.committed.map((c) => ({ topic: c.topic, partition: c.partition, committedOffset: c.offset, translatedOffset: checkpoints.get(checkpointKey(g.groupId, c.topic, c.partition))?.downstreamOffset ?? null })),
        })),
      };
      const checked = backupPointSchema.safeParse(point);
      if (!checked.success) throw unsafeToProceed(`the backup point does not pass its own schema: ${checked.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const value = JSON.stringify(point);
      await ensureBackupPointsTopic(backupKafka);
      const producer = backupKafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      try {
        await producer.send({ topic: BACKUP_POINTS_TOPIC, acks: -1, messages: [{ key: backupPointKey(point), value }] });
      } finally {
        await producer.disconnect();
      }
      // Read back: a point counts only once it is in the log, whatever the producer acknowledged.
      const stored = (await readTopicToEnd(backupKafka, BACKUP_POINTS_TOPIC)).filter((r) => r.key?.toString() === backupPointKey(point)).pop();
      if (!stored?.value || stored.value.toString() !== value) throw new Error(`backup point ${backupPointKey(point)} was not found in ${BACKUP_POINTS_TOPIC} on ${backup.name} after writing it`);
      return {
        id,
        time: point.time,
        sourceCluster: source.name,
        backupCluster: backup.name,
        topics: topics.length,
        partitions: capture.partitions,
        records: topics.reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.backupEndOffset - p.backupStartOffset, 0), 0),
        recordsThisRun,
        bytes: sizes ? topics.reduce((n, t) => n + (t.backupBytes ?? 0), 0) : null,
        bytesThisRun: sizes ? topics.reduce((n, t) => n + Math.max(0, (t.backupBytes ?? 0) - (previous?.topics.find((q) => q.backupName === t.backupName)?.backupBytes ?? 0)), 0) : null,
        lagRecords: catchUp.lagRecords,
        groups: point.consumerGroups.length,
        aclsCaptured: acls.captured,
      };
    },

    /** The backup points of a source cluster stored on its backup cluster, newest first (summaries). */
    async listBackupPoints(cluster: string): Promise<{ backupCluster: string; points: BackupPointSummary[]; unreadable: string[] }> {
      const source = clusters.get(cluster);
      const { backup } = backupSettings(source, clusters);
      const { points, unreadable } = await readBackupPoints(kafkaClient(backup), cluster);
      return {
        backupCluster: backup.name,
        points: points.map((p) => ({
          id: p.id,
          time: p.time,
          sourceCluster: p.sourceCluster,
          backupCluster: p.backupCluster,
          topics: p.topics.length,
          partitions: p.topics.reduce((n, t) => n + t.partitions.length, 0),
          records: p.topics.reduce((n, t) => n + t.partitions.reduce((m, q) => m + q.backupEndOffset - q.backupStartOffset, 0), 0),
          recordsThisRun: 0,
          bytes: p.topics.every((t) => t.backupBytes !== undefined) ? p.topics.reduce((n, t) => n + (t.backupBytes ?? 0), 0) : null,
          bytesThisRun: null,
          lagRecords: 0,
          groups: p.consumerGroups.length,
          aclsCaptured: p.acls.captured,
        })),
        unreadable,
      };
    },
  };
}

/** Every valid backup point of `sourceCluster` in our topic on a backup cluster, newest first; unreadable ones named. */
export async function readBackupPoints(kafka: Kafka, sourceCluster: string): Promise<{ points: BackupPoint[]; unreadable: string[] }> {
  const latest = new Map<string, string | null>();
  for (const r of await readTopicToEnd(kafka, BACKUP_POINTS_TOPIC)) {
    const key = r.key?.toString();
    if (key?.startsWith(`${sourceCluster}/`)) latest.set(key, r.value ? r.value.toString() : null);
  }
  const points: BackupPoint[] = [];
  const unreadable: string[] = [];
  for (const [key, value] of latest) {
    if (value === null) continue;
    const parsed = parseBackupPoint(value);
    if (parsed.ok) points.push(parsed.point);
    else unreadable.push(`${key}: ${parsed.problem}`);
  }
  return { points: points.sort((a, b) => b.time.localeCompare(a.time) || b.id.localeCompare(a.id)), unreadable };
}

async function ensureBackupPointsTopic(kafka: Kafka): Promise<void> {
  await withAdmin(kafka, async (admin) => {
    if ((await admin.listTopics()).includes(BACKUP_POINTS_TOPIC)) return;
    const brokers = (await admin.describeCluster()).brokers.length;
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: [{ topic: BACKUP_POINTS_TOPIC, numPartitions: 1, replicationFactor: Math.min(3, brokers), configEntries: [{ name: 'cleanup.policy', value: 'compact' }, { name: 'min.insync.replicas', value: String(Math.min(2, brokers)) }] }],
      })
      .catch((err: { type?: string }) => {
        if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
      });
  });
}

/** kafkajs's ACL enums are TypeScript numeric enums: their reverse mapping gives the name. */
const enumName = (table: object, value: number): string => (table as Record<number, string | undefined>)[value] ?? String(value);

async function captureAcls(admin: ReturnType<Kafka['admin']>): Promise<BackupPoint['acls']> {
  try {
    const r = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const bindings: BackupAcl[] = r.resources.flatMap((res) =>
      res.acls.map((a) => ({
        resourceType: enumName(AclResourceTypes, res.resourceType),
        resourceName: res.resourceName,
        patternType: enumName(ResourcePatternTypes, res.resourcePatternType),
        principal: a.principal,
        host: a.host,
        operation: enumName(AclOperationTypes, a.operation),
        permissionType: enumName(AclPermissionTypes, a.permissionType),
      })),
    );
    return { captured: true, bindings };
  } catch (err) {
    // No authorizer on the source: there are no ACLs to keep, and the point says so.
    return { captured: false, reason: scrub((err as Error).message, 300), bindings: [] };
  }
}
