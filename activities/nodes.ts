import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { type Admin } from 'kafkajs';
import { invalidInput, unsafeToProceed } from '../src/errors';
import { type CatchUpStatus, DEFAULT_QUORUM_FETCH_TIMEOUT_MS, type GuardDecision, isBrokerCaughtUp, quorumVoterStatus } from '../src/health';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { versionFromInstallPath } from '../src/kafka-tools/parse';
import { scrub } from '../src/redact';
import { type ClusterMetadata, type NodeId, type NodeRole, type QuorumObservation, type QuorumState, type ReassignmentInFlight } from '../src/model/cluster';

export type { QuorumObservation };
import { brokersToCheckForRecovery, canRestartBatch, isRecentQuorum, refuseRecovering } from '../src/rolling/batches';
import { bumpProtocolVersion, carryOverServerProperties, type ConfigCarryOver, propertyValue } from '../src/rolling/config';
import { DEFAULT_WAIT_MS, NodeWaitFailure } from '../src/rolling/failures';
import { type InstallSource } from '../src/rolling/input';
import { resolveInstallSource } from '../src/rolling/install-source';
import { BROKER_STATE_LOG_PATTERN, type BrokerStateReading, brokerStateFrom, type LeaderElectionOutcome, parseLeaderElection, partitionsToLeadAgain, versionFromClientsJar } from '../src/rolling/tool-output';
import { type ClusterRegistry, kafkaClient } from './clusters';
import { createClusterReadActivities, runKafkaTool } from './cluster-reads';
import { activityContext, earlierAttemptDetails, keepHeartbeating } from './heartbeat';
import { withHostFile } from './host-files';
import { isKafkaRunning } from './node-status';
import { type CommandResult, type HostShell } from './ssh';

export interface NodeActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
  /** Pause between polls of the waits (default 1000 ms). Tests shorten it. */
  pollIntervalMs?: number;
}

export { DEFAULT_WAIT_MS };

export interface NodeConfigBackup {
  /** The copy on the host: `<configFile>.bak-<UTC stamp>`. */
  path: string;
  /** An identical backup was already there (a retry, or a config unchanged since the last run): no new copy. */
  reused: boolean;
}

export interface ConfigCarryOverResult {
  changed: boolean;
  changes: string[];
  warnings: string[];
}

export interface StopResult {
  /** False when the process was not running: nothing was sent. */
  wasRunning: boolean;
  output: string;
}

export interface StartResult {
  /** True when the process was already running: nothing was started. */
  alreadyRunning: boolean;
  output: string;
}

export interface WaitResult {
  elapsedMs: number;
}

export interface CatchUpResult extends WaitResult {
  status: CatchUpStatus;
}

export interface GuardResult extends WaitResult {
  /** The decision that allowed the batch, with what it did not check. */
  decision: GuardDecision;
  /** How old the quorum observation behind the decision was (ms); null when no quorum was needed. */
  quorumAgeMs: number | null;
}

export interface GuardOptions {
  quorumFetchTimeoutMs?: number;
  /** The latest quorum observation the caller has; the first poll uses it while isRecentQuorum says so. */
  recentQuorum?: QuorumObservation | null;
}

export interface QuorumCatchUpResult extends WaitResult {
  leaderId: NodeId;
  /** The read that showed the node caught up, for the next batch's guard. */
  observation: QuorumObservation;
}

export interface VersionSwitch {
  /** The `current` link's value before (relative or absolute, as it was); null when there was no link. */
  previousTarget: string | null;
  previousVersion: string | null;
  /** The link's value now. */
  target: string;
  version: string | null;
  /** False when the link already pointed at the install: nothing was touched. */
  changed: boolean;
  /** An archive was unpacked into installDir for this switch. */
  unpacked: boolean;
}

export interface NodeVersion {
  /** The `current` link's value. */
  linkTarget: string | null;
  /** Version of the install `current` points at. */
  linkVersion: string | null;
  processRunning: boolean;
  /** The version the running JVM has loaded (kafka-clients jar it holds open), else the last "Kafka version" log line. */
  runningVersion: string | null;
  runningVersionFrom: 'process' | 'log' | null;
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export interface LeaderElectionResult extends LeaderElectionOutcome {
  /** The host the tool ran on. */
  host: string;
}

function heartbeat(details: unknown): void {
  activityContext()?.heartbeat(details);
}

function logInfo(message: string, attrs: Record<string, unknown>): void {
  activityContext()?.log.info(message, attrs);
}

/** Sleeps; inside an activity, rejects with CancelledFailure as soon as the activity is cancelled. */
async function pause(ms: number): Promise<void> {
  const ctx = activityContext();
  if (ctx) await ctx.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Heartbeats every 5 s while one long command runs (unpacking an archive, a Kafka tool's JVM). */
function heartbeatWhile<T>(details: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  return keepHeartbeating(() => ({ ...details, elapsedMs: Date.now() - started }), work);
}

function rethrowCancellation(err: unknown): void {
  if (err instanceof CancelledFailure) throw err;
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

function waitTimedOut(type: NodeWaitFailure, message: string, details: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, details: [details] });
}

interface Probe<T> {
  done: boolean;
  value: T;
  /** Small, for the heartbeat details (what the UI shows as the activity's progress). */
  progress?: unknown;
}

/** What a wait heartbeats: a retried attempt (its worker died) takes `startedAtMs` from it, and so keeps its deadline. */
interface WaitHeartbeat {
  startedAtMs: number;
  elapsedMs: number;
  polls: number;
  progress: unknown;
  lastError: string | null;
}

/** The first attempt's start, from an earlier attempt's heartbeat; null on a first attempt. */
function startOfEarlierAttempt(): number | null {
  const d = earlierAttemptDetails() as Partial<WaitHeartbeat> | null | undefined;
  return typeof d?.startedAtMs === 'number' && Number.isFinite(d.startedAtMs) ? d.startedAtMs : null;
}

/**
 * Polls `probe` until it reports done, heartbeating after every poll (and every 5 s during a slow one), pausing
 * `intervalMs` between polls. The deadline is `timeoutMs` after the first attempt started: a retry resumes it
 * from the heartbeat details instead of waiting a full timeout again, and past it polls once more before
 * timing out. Probe errors (a host or broker briefly unreachable) count as "not yet". Cancellation is rethrown.
 */
async function pollUntil<T>(
  what: Record<string, unknown>,
  timeoutMs: number,
  intervalMs: number,
  probe: () => Promise<Probe<T>>,
  onTimeout: (last: T | null, lastError: string | null, elapsedMs: number) => ApplicationFailure,
): Promise<{ value: T; elapsedMs: number }> {
  const resumedFrom = startOfEarlierAttempt();
  const startedAtMs = resumedFrom ?? Date.now();
  const deadlineMs = startedAtMs + timeoutMs;
  if (resumedFrom !== null) logInfo('resuming the wait with the deadline of its first attempt', { ...what, startedAtMs, deadline: new Date(deadlineMs).toISOString() });
  let last: T | null = null;
  let lastError: string | null = null;
  let beat: WaitHeartbeat & Record<string, unknown> = { ...what, startedAtMs, elapsedMs: Date.now() - startedAtMs, polls: 0, progress: null, lastError: null };
  return keepHeartbeating(
    () => beat,
    async () => {
      for (let polls = 1; ; polls++) {
        let progress: unknown = null;
        try {
          const r = await probe();
          last = r.value;
          lastError = null;
          progress = r.progress ?? null;
          if (r.done) return { value: r.value, elapsedMs: Date.now() - startedAtMs };
        } catch (err) {
          rethrowCancellation(err);
          lastError = firstLine(err);
        }
        const now = Date.now();
        beat = { ...what, startedAtMs, elapsedMs: now - startedAtMs, polls, progress, lastError };
        heartbeat(beat);
        if (now >= deadlineMs) throw onTimeout(last, lastError, now - startedAtMs);
        await pause(Math.min(intervalMs, deadlineMs - now));
      }
    },
  );
}

/**
 * One kafkajs admin kept for the length of a wait: Metadata requests are answered fresh on every call
 * (kafkajs does not cache them for admin calls), and reconnecting every second would cost more than the poll.
 * Dropped and rebuilt after an error, since the broker it talks to may be the one restarting.
 */
class MetadataPoller {
  private admin: Admin | null = null;
  private reassignments: ReassignmentInFlight[] = [];
  private polls = 0;

  constructor(private readonly inv: Inventory) {}

  private async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    const admin = kafkaClient(this.inv, 'kafka-runbooks-nodes').admin();
    try {
      await admin.connect();
    } catch (err) {
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
    this.admin = admin;
    return admin;
  }

  private async guard<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.connected());
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Broker ids in Metadata responses: registered and unfenced. */
  registered(): Promise<Set<NodeId>> {
    return this.guard(async (admin) => new Set((await admin.describeCluster()).brokers.map((b) => b.nodeId)));
  }

  /**
   * Brokers, every topic's replicas and ISR, and reassignments in flight (re-read every 10th poll: they
   * cannot start during a restart the guards allowed). min.insync.replicas is not read: the catch-up check
   * does not use it.
   */
  snapshot(): Promise<ClusterMetadata> {
    return this.guard(async (admin) => {
      if (this.polls++ % 10 === 0) {
        const r = await admin.listPartitionReassignments({});
        this.reassignments = r.topics.flatMap((t) =>
          t.partitions.map((p) => ({ topic: t.topic, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas ?? [], removingReplicas: p.removingReplicas ?? [] })),
        );
      }
      const described = await admin.describeCluster();
      const meta = await admin.fetchTopicMetadata({ topics: [] }); // empty list: every topic
      return {
        clusterId: described.clusterId ?? null,
        mode: this.inv.mode,
        controllerId: null,
        brokers: described.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: null })),
        topics: meta.topics.map((t) => ({
          name: t.name,
          internal: t.name.startsWith('__'),
          minInsyncReplicas: 1,
          partitions: t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, offlineReplicas: p.offlineReplicas ?? [] })),
        })),
        reassignments: this.reassignments,
        quorum: null,
      };
    });
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.disconnect().catch(() => undefined);
  }
}

/** `2026-11-21T11:06:53.375Z` -> `20261121T110653Z`: sorts by time as text. */
function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Lines of `TAG value` a host script printed. */
function tagged(stdout: string, tag: string): string | null {
  const line = stdout.split('\n').find((l) => l.startsWith(`${tag} `) || l === tag);
  return line === undefined ? null : line.slice(tag.length + 1);
}

const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The install source's absolute path on the host, refused as bad input when it is outside the host's installDir
 * and stagingDirs (checked before any command runs).
 */
function installSourcePath(host: InventoryHost, source: InstallSource): string {
  const r = resolveInstallSource(source, host.kafka);
  if (!r.ok) throw invalidInput(`source.path for ${host.name}: ${r.problem}`);
  return r.path;
}

/** Host script lines: the archive's sha256 must match, else exit 4 (unsafe: not the tarball that was meant). */
function verifyArchiveChecksum(sha256: string | undefined): string[] {
  if (!sha256) return [];
  return [
    `expected=${shellQuote(sha256.toLowerCase())}`,
    'actual="$(sha256sum -- "$archive" | cut -d" " -f1)"',
    '[ "$actual" = "$expected" ] || { echo "ERROR $archive has sha256 $actual, not the expected $expected: refusing to unpack it" >&2; exit 4; }',
  ];
}

/**
 * Node activities for rolling restarts and upgrades: one host's process, binaries and config at a time, over
 * SSH with the inventory's command templates, and the waits between the steps, over the Kafka protocol.
 * Every mutating activity is idempotent (a retry finds the work done and says so); every wait polls about
 * once a second, heartbeats after each poll, stops at once when cancelled, and times out with a retryable
 * failure typed by NodeWaitFailure. Outside an activity (tests, scripts) they run without heartbeats.
 */
export function createNodeActivities({ clusters, shell, pollIntervalMs = 1000 }: NodeActivityDeps) {
  const reads = createClusterReadActivities({ clusters, shell });

  const kafkaHost = (cluster: string, hostName: string): InventoryHost => {
    const host = clusters.host(cluster, hostName);
    if (!host.roles.includes('broker') && !host.roles.includes('controller')) {
      throw invalidInput(`host "${hostName}" of cluster "${cluster}" is not a broker or controller (roles: ${host.roles.join(', ')})`);
    }
    return host;
  };

  const brokerNode = (cluster: string, nodeId: NodeId): InventoryHost => {
    const host = clusters.get(cluster).hosts.find((h) => h.nodeId === nodeId && h.roles.includes('broker'));
    if (!host) throw invalidInput(`cluster "${cluster}" has no broker with node id ${nodeId} in its inventory`);
    return host;
  };

  const controllerNode = (cluster: string, nodeId: NodeId): InventoryHost => {
    const host = clusters.get(cluster).hosts.find((h) => h.nodeId === nodeId && h.roles.includes('controller'));
    if (!host) throw invalidInput(`cluster "${cluster}" has no KRaft controller with node id ${nodeId} in its inventory`);
    return host;
  };

  const run = (host: InventoryHost, command: string, timeoutMs = 60_000): Promise<CommandResult> => shell.exec(host, command, { timeoutMs });

  /** Running (LSB 0), not running (1-3), else throws: see isKafkaRunning. */
  const isRunning = (host: InventoryHost): Promise<boolean> => isKafkaRunning(shell, host);

  const statusShell = (host: InventoryHost): string => `( ${renderCommand(host.kafka.commands.status, host)} ) >/dev/null 2>&1`;

  /** Polls the metadata until the broker is listed (`listed`) or no longer listed; one admin kept for the wait. */
  const waitForListed = async (cluster: string, nodeId: NodeId, listed: boolean, timeoutMs: number, onTimeout: (lastError: string | null, elapsedMs: number) => ApplicationFailure): Promise<WaitResult> => {
    brokerNode(cluster, nodeId);
    const poller = new MetadataPoller(clusters.get(cluster));
    try {
      const { elapsedMs } = await pollUntil(
        { waitingFor: listed ? 'broker registered' : 'broker deregistered', nodeId },
        timeoutMs,
        pollIntervalMs,
        async () => {
          const registered = (await poller.registered()).has(nodeId);
          return { done: registered === listed, value: registered };
        },
        (_l, err, ms) => onTimeout(err, ms),
      );
      return { elapsedMs };
    } finally {
      await poller.close();
    }
  };

  /** The file's text, and the sha256 of its bytes to compare against before writing. */
  const readServerProperties = async (host: InventoryHost): Promise<{ text: string; sha256: string }> => {
    const r = await run(host, `base64 -w0 ${shellQuote(host.kafka.configFile)}`);
    if (r.code !== 0) throw new Error(`cannot read ${host.kafka.configFile} on ${host.name}: ${scrub(r.stderr)}`);
    const bytes = Buffer.from(r.stdout.trim(), 'base64');
    return { text: bytes.toString('utf8'), sha256: sha256Hex(bytes) };
  };

  /**
   * Rewrites server.properties through a pure edit: refused (UnsafeToProceed) when the edit names problems;
   * written atomically, and only if the file did not change since it was read. The new contents travel on
   * the command's standard input, never on its command line (the file holds passwords; a command line shows
   * in `ps` on the host and in errors): the command carries only the two files' sha256.
   */
  const editServerProperties = async (host: InventoryHost, edit: (text: string) => ConfigCarryOver, what: string): Promise<ConfigCarryOverResult> => {
    const old = await readServerProperties(host);
    const result = edit(old.text);
    if (result.problems.length > 0) throw unsafeToProceed(`config of ${host.name}: ${result.problems.join(' ')}`, { problems: result.problems });
    if (!result.changed) return { changed: false, changes: [], warnings: result.warnings };
    const script = [
      `cfg=${shellQuote(host.kafka.configFile)}`,
      'sum() { sha256sum < "$1" | cut -d" " -f1; }',
      `[ "$(sum "$cfg")" = ${old.sha256} ] || { echo "ERROR $cfg changed while it was being edited" >&2; exit 4; }`,
      'tmp="$cfg.tmp-$$"',
      'trap \'rm -f "$tmp"\' EXIT',
      'cat > "$tmp"',
      `[ "$(sum "$tmp")" = ${sha256Hex(Buffer.from(result.text, 'utf8'))} ] || { echo "ERROR the new $cfg arrived incomplete" >&2; exit 5; }`,
      'chmod --reference="$cfg" "$tmp"',
      'mv -f "$tmp" "$cfg"',
    ].join('\n');
    const w = await shell.exec(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, { timeoutMs: 60_000, stdin: result.text });
    if (w.code === 4) throw unsafeToProceed(`config of ${host.name}: ${scrub(w.stderr).replace(/^ERROR /, '')}`);
    if (w.code !== 0) throw new Error(`cannot write ${host.kafka.configFile} on ${host.name} (exit ${w.code}): ${scrub(w.stderr)}`);
    logInfo(what, { host: host.name, changes: result.changes });
    return { changed: true, changes: result.changes, warnings: result.warnings };
  };

  /** The broker state from server.log (see readBrokerState). */
  const brokerState = async (host: InventoryHost): Promise<BrokerStateReading> => {
    const pattern = BROKER_STATE_LOG_PATTERN;
    const script = [
      `if ${statusShell(host)}; then echo "RUNNING 1"; else echo "RUNNING 0"; fi`,
      `for f in $(ls -1t ${shellQuote(host.kafka.logDir)}/server.log* 2>/dev/null | head -n 30); do`,
      `  case "$f" in *.gz) l="$(zcat "$f" 2>/dev/null | grep -E ${shellQuote(pattern)} | tail -n 1 || true)" ;; *) l="$(grep -E ${shellQuote(pattern)} "$f" | tail -n 1 || true)" ;; esac`,
      '  if [ -n "$l" ]; then echo "LINE $l"; break; fi',
      'done',
    ].join('\n');
    const r = await run(host, `bash -c ${shellQuote(script)}`, 30_000);
    if (r.code !== 0) throw new Error(`cannot read the broker state on ${host.name} (exit ${r.code}): ${scrub(r.stderr)}`);
    return brokerStateFrom(tagged(r.stdout, 'RUNNING') === '1', tagged(r.stdout, 'LINE'));
  };

  /**
   * Points `current` at `wanted` (a link value: relative to the link's directory, or absolute), atomically:
   * a new link beside it, renamed over it. Refused while the process runs (a running JVM may still load
   * classes through the link), unless the link already points there.
   */
  const repointScript = (host: InventoryHost, wantedExpr: string): string => {
    const link = shellQuote(host.kafka.currentLink);
    return [
      `link=${link}`,
      `cd "$(dirname "$link")"`,
      `wanted=${wantedExpr}`,
      `[ -d "$wanted" ] || { echo "ERROR no install directory $wanted" >&2; exit 3; }`,
      `[ -x "$wanted/bin/kafka-server-start.sh" ] || { echo "ERROR $wanted is not a Kafka install (no bin/kafka-server-start.sh)" >&2; exit 3; }`,
      `prev="$(readlink "$link" 2>/dev/null || true)"`,
      `echo "PREV $prev"`,
      `echo "PREVRESOLVED $(readlink -f "$link" 2>/dev/null || true)"`,
      `if [ -n "$prev" ] && [ "$(readlink -f "$link")" = "$(readlink -f "$wanted")" ]; then echo "TARGET $prev"; echo "RESOLVED $(readlink -f "$link")"; echo UNCHANGED; exit 0; fi`,
      `if ${statusShell(host)}; then echo "ERROR Kafka is running on ${host.name}: stop it before switching versions" >&2; exit 4; fi`,
      // Same directory as the link: keep the link relative, as installs usually are; else absolute.
      `if [ "$(cd "$(dirname "$wanted")" && pwd -P)" = "$(pwd -P)" ]; then value="$(basename "$wanted")"; else value="$(readlink -f "$wanted")"; fi`,
      `tmp="$link.tmp-$$"`,
      `ln -sfn "$value" "$tmp"`,
      `mv -T "$tmp" "$link"`,
      `echo "TARGET $value"`,
      `echo "RESOLVED $(readlink -f "$link")"`,
      'echo CHANGED',
    ].join('\n');
  };

  const runRepoint = async (host: InventoryHost, script: string, what: string): Promise<{ stdout: string; changed: boolean }> => {
    const r = await heartbeatWhile({ step: what, host: host.name }, () => run(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, 600_000));
    const message = `${what} on ${host.name}: ${scrub((r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')).replace(/^ERROR /, '')}`;
    if (r.code === 3) throw invalidInput(message);
    if (r.code === 4) throw unsafeToProceed(message);
    if (r.code !== 0) throw new Error(`${message} (exit ${r.code})`);
    return { stdout: r.stdout, changed: r.stdout.split('\n').includes('CHANGED') };
  };

  const activities = {
    /** Copies the node's server.properties to `<configFile>.bak-<UTC stamp>` beside it, keeping mode and owner. */
    async backupNodeConfig(cluster: string, hostName: string): Promise<NodeConfigBackup> {
      const host = kafkaHost(cluster, hostName);
      const cfg = shellQuote(host.kafka.configFile);
      const script = [
        `cfg=${cfg}`,
        `[ -f "$cfg" ] || { echo "ERROR no config file $cfg" >&2; exit 3; }`,
        `latest="$(ls -1 "$cfg".bak-* 2>/dev/null | sort | tail -n 1 || true)"`,
        `if [ -n "$latest" ] && cmp -s "$cfg" "$latest"; then echo "REUSED $latest"; exit 0; fi`,
        `dst="$cfg.bak-${stamp(new Date())}"`,
        `if [ -e "$dst" ]; then dst="$dst-$$"; fi`,
        `cp -p "$cfg" "$dst.tmp"`,
        `mv -f "$dst.tmp" "$dst"`,
        `echo "BACKUP $dst"`,
      ].join('\n');
      const r = await run(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`);
      if (r.code === 3) throw invalidInput(`backup on ${host.name}: ${scrub(r.stderr)}`);
      if (r.code !== 0) throw new Error(`backup of ${host.kafka.configFile} on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr || r.stdout)}`);
      const reused = tagged(r.stdout, 'REUSED');
      const path = reused ?? tagged(r.stdout, 'BACKUP');
      if (!path) throw new Error(`backup on ${host.name} printed no path: ${scrub(r.stdout)}`);
      return { path, reused: reused !== null };
    },

    /** Puts a backup made by backupNodeConfig back in place (atomically). Only `<configFile>.bak-*` paths are accepted. */
    async restoreNodeConfig(cluster: string, hostName: string, backupPath: string): Promise<{ changed: boolean }> {
      const host = kafkaHost(cluster, hostName);
      if (!backupPath.startsWith(`${host.kafka.configFile}.bak-`) || backupPath.includes('/../')) {
        throw invalidInput(`${backupPath} is not a backup of ${host.kafka.configFile} made by backupNodeConfig`);
      }
      const script = [
        `cfg=${shellQuote(host.kafka.configFile)}`,
        `bak=${shellQuote(backupPath)}`,
        `[ -f "$bak" ] || { echo "ERROR no backup $bak" >&2; exit 3; }`,
        `if cmp -s "$bak" "$cfg"; then echo UNCHANGED; exit 0; fi`,
        `cp -p "$bak" "$cfg.tmp-$$"`,
        `mv -f "$cfg.tmp-$$" "$cfg"`,
        'echo RESTORED',
      ].join('\n');
      const r = await run(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`);
      if (r.code === 3) throw invalidInput(`restore on ${host.name}: ${scrub(r.stderr)}`);
      if (r.code !== 0) throw new Error(`restore of ${host.kafka.configFile} on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr || r.stdout)}`);
      return { changed: r.stdout.includes('RESTORED') };
    },

    /**
     * Applies carryOverServerProperties (src/rolling/config.ts) to the node's server.properties on the host.
     * The file's content never leaves the worker (it may hold passwords); only the list of changes does.
     * Idempotent: a second run finds the pin in place and changes nothing. Refuses (non-retryable) when the
     * rules say the version change must not happen, and when the file changed while it was being edited.
     */
    async carryOverNodeConfig(cluster: string, hostName: string, versions: { runningVersion: string; targetVersion: string }): Promise<ConfigCarryOverResult> {
      const inv = clusters.get(cluster);
      return editServerProperties(kafkaHost(cluster, hostName), (text) => carryOverServerProperties(text, { mode: inv.mode, ...versions }), 'server.properties carried over');
    },

    /**
     * ZooKeeper-mode finalize on one broker: inter.broker.protocol.version set to the target's major.minor
     * (bumpProtocolVersion). Takes effect at the broker's next start. Idempotent.
     */
    async bumpNodeProtocolVersion(cluster: string, hostName: string, targetVersion: string): Promise<ConfigCarryOverResult> {
      if (clusters.get(cluster).mode !== 'zookeeper') throw invalidInput(`cluster ${cluster} is in KRaft mode: inter.broker.protocol.version is a ZooKeeper-mode setting`);
      return editServerProperties(kafkaHost(cluster, hostName), (text) => bumpProtocolVersion(text, targetVersion), 'inter.broker.protocol.version bumped');
    },

    /** Per broker host, the inter.broker.protocol.version its server.properties sets (null: none) and whether the bump to `targetVersion` would change it. */
    async readProtocolVersionPins(cluster: string, targetVersion: string): Promise<{ host: string; pinned: string | null; needsBump: boolean; problems: string[] }[]> {
      const brokers = clusters.get(cluster).hosts.filter((h) => h.roles.includes('broker'));
      return Promise.all(
        brokers.map(async (host) => {
          const { text } = await readServerProperties(host);
          const bump = bumpProtocolVersion(text, targetVersion);
          return { host: host.name, pinned: propertyValue(text, 'inter.broker.protocol.version'), needsBump: bump.changed, problems: bump.problems };
        }),
      );
    },

    /**
     * Runs the inventory's stop template (controlled shutdown: the broker moves its leaderships away, then
     * exits). Returns at once; waitForProcessExit waits. Idempotent: a stopped node is left alone.
     */
    async stopNode(cluster: string, hostName: string): Promise<StopResult> {
      const host = kafkaHost(cluster, hostName);
      if (!(await isRunning(host))) return { wasRunning: false, output: '' };
      const r = await run(host, renderCommand(host.kafka.commands.stop, host), 120_000);
      if (r.code !== 0) throw new Error(`stop on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout, 500)}`);
      logInfo('stop sent', { host: host.name });
      return { wasRunning: true, output: scrub(r.stdout) };
    },

    /** Polls the status template until the process is gone. Times out with a retryable NodeStopTimeout. */
    async waitForProcessExit(cluster: string, hostName: string, timeoutMs: number = DEFAULT_WAIT_MS.processExit): Promise<WaitResult> {
      const host = kafkaHost(cluster, hostName);
      const { elapsedMs } = await pollUntil(
        { waitingFor: 'process exit', host: host.name },
        timeoutMs,
        pollIntervalMs,
        async () => {
          const running = await isRunning(host);
          return { done: !running, value: running };
        },
        (_last, err, ms) =>
          waitTimedOut(NodeWaitFailure.StopTimeout, `Kafka on ${host.name} is still running ${Math.round(ms / 1000)} s after the stop${err ? ` (last check: ${err})` : ''}`, { host: host.name, elapsedMs: ms }),
      );
      return { elapsedMs };
    },

    /** Polls the cluster metadata until the broker is no longer listed (fenced or gone). */
    async waitForBrokerDeregistered(cluster: string, nodeId: NodeId, timeoutMs: number = DEFAULT_WAIT_MS.deregistration): Promise<WaitResult> {
      return waitForListed(cluster, nodeId, false, timeoutMs, (err, ms) =>
        waitTimedOut(NodeWaitFailure.DeregistrationTimeout, `broker ${nodeId} is still registered ${Math.round(ms / 1000)} s after its process exited${err ? ` (last check: ${err})` : ''}`, {
          nodeId,
          elapsedMs: ms,
        }),
      );
    },

    /** The kill template (SIGKILL). Only after a human approved it: the node will recover its logs on start. */
    async killNode(cluster: string, hostName: string): Promise<StopResult> {
      const host = kafkaHost(cluster, hostName);
      if (!(await isRunning(host))) return { wasRunning: false, output: '' };
      const r = await run(host, renderCommand(host.kafka.commands.kill, host), 60_000);
      if (r.code !== 0) throw new Error(`kill on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout, 500)}`);
      logInfo('node killed', { host: host.name });
      return { wasRunning: true, output: scrub(r.stdout) };
    },

    /**
     * Re-points the host's `current` link at the install of `version` and returns what it pointed at before
     * (give `previousTarget` to restoreVersionLink to undo). The install is, in this order: `source` staged
     * (a directory, absolute or relative to installDir); `source` archive (a tarball on the host, unpacked
     * into installDir once; an existing unpacked copy is reused); else `installDir/kafka_*-<version>` or
     * `installDir/kafka-<version>` (the newest Scala build when several). The install must hold
     * `libs/kafka-clients-<version>.jar`. Refused while Kafka runs on the host; a no-op when the link already
     * points there.
     */
    async switchVersion(cluster: string, hostName: string, version: string, source: InstallSource | null = null): Promise<VersionSwitch> {
      const host = kafkaHost(cluster, hostName);
      if (!/^\d+\.\d+\.\d+$/.test(version)) throw invalidInput(`version "${version}" must look like 3.9.2`);
      const sourcePath = source ? installSourcePath(host, source) : null;
      const installDir = shellQuote(host.kafka.installDir);
      const v = shellQuote(version);
      const locate: string[] = [`install_dir=${installDir}`, `version=${v}`, 'unpacked=0'];
      if (source?.kind === 'staged' && sourcePath) {
        locate.push(`target=${shellQuote(sourcePath)}`);
      } else if (source?.kind === 'archive' && sourcePath) {
        locate.push(
          `archive=${shellQuote(sourcePath)}`,
          `[ -f "$archive" ] || { echo "ERROR no archive $archive" >&2; exit 3; }`,
          ...verifyArchiveChecksum(source.sha256),
          `top="$(tar -tf "$archive" | head -n 1 | sed 's#^\\./##' | cut -d/ -f1)"`,
          `[ -n "$top" ] || { echo "ERROR $archive is empty or not a tarball" >&2; exit 3; }`,
          // The install dir's name comes from the archive: never its parent or itself.
          `case "$top" in .|..) echo "ERROR $archive does not unpack to a single directory" >&2; exit 3 ;; esac`,
          'target="$install_dir/$top"',
          'if [ ! -e "$target" ]; then',
          '  staging="$(mktemp -d "$install_dir/.staging-XXXXXX")"',
          '  trap \'rm -rf "$staging"\' EXIT',
          '  tar -xf "$archive" -C "$staging"',
          '  [ -d "$staging/$top" ] || { echo "ERROR $archive does not unpack to a single directory $top" >&2; exit 3; }',
          '  if ! ls "$staging/$top/libs/" 2>/dev/null | grep -qx "kafka-clients-$version.jar"; then',
          '    echo "ERROR $archive is not Kafka $version (libs/ has $(ls "$staging/$top/libs/" 2>/dev/null | grep -o "^kafka-clients-.*\\.jar$" || echo no kafka-clients jar))" >&2; exit 3',
          '  fi',
          '  mv -T "$staging/$top" "$target"',
          '  unpacked=1',
          'fi',
        );
      } else {
        locate.push(
          'target=""',
          // Glob order is sorted: the last match is the newest Scala build.
          'for d in "$install_dir"/kafka_*-"$version" "$install_dir"/kafka-"$version"; do if [ -d "$d" ]; then target="$d"; fi; done',
          `[ -n "$target" ] || { echo "ERROR no install of Kafka $version under $install_dir (stage it, or give a source)" >&2; exit 3; }`,
        );
      }
      locate.push(
        'if [ -d "$target" ] && ! ls "$target/libs/" 2>/dev/null | grep -qx "kafka-clients-$version.jar"; then',
        '  echo "ERROR $target is not Kafka $version (libs/ has $(ls "$target/libs/" 2>/dev/null | grep -o "^kafka-clients-.*\\.jar$" || echo no kafka-clients jar))" >&2; exit 3',
        'fi',
        'echo "UNPACKED $unpacked"',
      );
      const { stdout, changed } = await runRepoint(host, `${locate.join('\n')}\n${repointScript(host, '"$target"')}`, `switch to Kafka ${version}`);
      const previousTarget = tagged(stdout, 'PREV') || null;
      const result: VersionSwitch = {
        previousTarget,
        previousVersion: versionFromInstallPath(tagged(stdout, 'PREVRESOLVED') ?? ''),
        target: tagged(stdout, 'TARGET') ?? '',
        version: versionFromInstallPath(tagged(stdout, 'RESOLVED') ?? ''),
        changed,
        unpacked: tagged(stdout, 'UNPACKED') === '1',
      };
      if (changed) logInfo('current link switched', { host: host.name, from: result.previousTarget, to: result.target });
      return result;
    },

    /**
     * Read-only preflight for an upgrade: is Kafka `version` installed under installDir (or at the staged path),
     * or does the archive on the host hold it? Checked before any node goes down.
     */
    async checkTargetVersion(cluster: string, hostName: string, version: string, source: InstallSource | null = null): Promise<{ host: string; ok: boolean; detail: string }> {
      const host = kafkaHost(cluster, hostName);
      if (!/^\d+\.\d+\.\d+$/.test(version)) throw invalidInput(`version "${version}" must look like 3.9.2`);
      const jar = `kafka-clients-${version}.jar`;
      const dir = shellQuote(host.kafka.installDir);
      const sourcePath = source ? shellQuote(installSourcePath(host, source)) : '';
      const checksum =
        source?.kind === 'archive' && source.sha256
          ? `s="$(sha256sum -- "$a" | cut -d' ' -f1)"; [ "$s" = ${shellQuote(source.sha256.toLowerCase())} ] || { echo "archive $a: sha256 $s is not the expected ${source.sha256.toLowerCase()}"; exit 1; }; `
          : '';
      const script =
        source?.kind === 'archive'
          ? `a=${sourcePath}; [ -f "$a" ] || { echo "no archive $a"; exit 1; }; ${checksum}tar -tf "$a" | grep -q "/libs/${jar}$" && echo "archive $a holds ${version}" || { echo "archive $a does not hold Kafka ${version}"; exit 1; }`
          : source?.kind === 'staged'
            ? `t=${sourcePath}; [ -f "$t/libs/${jar}" ] && echo "staged at $t" || { echo "$t has no libs/${jar}"; exit 1; }`
            : `for d in ${dir}/kafka_*-${version} ${dir}/kafka-${version}; do [ -f "$d/libs/${jar}" ] && { echo "installed at $d"; exit 0; }; done; echo "no install of Kafka ${version} under ${host.kafka.installDir}"; exit 1`;
      const r = await shell.exec(host, script, { timeoutMs: 60_000 });
      return { host: hostName, ok: r.code === 0, detail: scrub((r.stdout || r.stderr).trim().split('\n').pop() ?? '', 300) };
    },

    /** The reverse of switchVersion: points `current` back at `previousTarget` (as switchVersion returned it). */
    async restoreVersionLink(cluster: string, hostName: string, previousTarget: string): Promise<VersionSwitch> {
      const host = kafkaHost(cluster, hostName);
      if (previousTarget.trim() === '' || /[\n\r]/.test(previousTarget)) throw invalidInput(`"${previousTarget}" is not a link target`);
      const { stdout, changed } = await runRepoint(host, repointScript(host, shellQuote(previousTarget)), `restore ${host.kafka.currentLink} to ${previousTarget}`);
      return {
        previousTarget: tagged(stdout, 'PREV') || null,
        previousVersion: versionFromInstallPath(tagged(stdout, 'PREVRESOLVED') ?? ''),
        target: tagged(stdout, 'TARGET') ?? '',
        version: versionFromInstallPath(tagged(stdout, 'RESOLVED') ?? ''),
        changed,
        unpacked: false,
      };
    },

    /** Runs the start template. Idempotent: a running node is left alone. */
    async startNode(cluster: string, hostName: string): Promise<StartResult> {
      const host = kafkaHost(cluster, hostName);
      if (await isRunning(host)) return { alreadyRunning: true, output: '' };
      const r = await run(host, renderCommand(host.kafka.commands.start, host), 120_000);
      if (r.code !== 0) throw new Error(`start on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout, 500)}`);
      logInfo('start sent', { host: host.name });
      return { alreadyRunning: false, output: scrub(r.stdout) };
    },

    /** Polls the metadata until the broker is listed (registered and unfenced). Retryable NodeRegistrationTimeout. */
    async waitForBrokerRegistered(cluster: string, nodeId: NodeId, timeoutMs: number = DEFAULT_WAIT_MS.registration): Promise<WaitResult> {
      return waitForListed(cluster, nodeId, true, timeoutMs, (err, ms) =>
        waitTimedOut(
          NodeWaitFailure.RegistrationTimeout,
          `broker ${nodeId} has not registered ${Math.round(ms / 1000)} s after its start (log recovery, or it failed to start: see its server.log)${err ? `; last check: ${err}` : ''}`,
          { nodeId, elapsedMs: ms },
        ),
      );
    },

    /**
     * Polls the metadata (every pollIntervalMs) until isBrokerCaughtUp holds: the broker is registered and in
     * the ISR of every partition it holds. Heartbeats with how many partitions are still catching up.
     * Retryable NodeCatchUpTimeout, whose details carry the last status.
     */
    async waitForBrokerCaughtUp(cluster: string, nodeId: NodeId, timeoutMs: number = DEFAULT_WAIT_MS.catchUp): Promise<CatchUpResult> {
      brokerNode(cluster, nodeId);
      const poller = new MetadataPoller(clusters.get(cluster));
      try {
        const { value, elapsedMs } = await pollUntil(
          { waitingFor: 'broker caught up', nodeId },
          timeoutMs,
          pollIntervalMs,
          async () => {
            const status = isBrokerCaughtUp(await poller.snapshot(), nodeId);
            return { done: status.caughtUp, value: status, progress: { registered: status.registered, catchingUp: status.catchingUp.count, of: status.partitionsChecked } };
          },
          (last, err, ms) =>
            waitTimedOut(
              NodeWaitFailure.CatchUpTimeout,
              last
                ? `broker ${nodeId} is ${last.registered ? `still out of the ISR of ${last.catchingUp.count} of ${last.partitionsChecked} partitions` : 'not registered'} after ${Math.round(ms / 1000)} s`
                : `could not read the metadata for ${Math.round(ms / 1000)} s: ${err ?? 'no answer'}`,
              { nodeId, elapsedMs: ms, status: last },
            ),
        );
        return { status: value, elapsedMs };
      } finally {
        await poller.close();
      }
    },

    /**
     * The guard wait before a batch: reads the cluster (readClusterMetadata; the KRaft quorum too when the
     * batch holds a controller) every max(pollIntervalMs, 2 s) until canRestartBatch allows the batch, and
     * returns that decision (its `ignored` list says what was not checked, e.g. RF <= min ISR topics).
     * A batch broker missing from the metadata is read over SSH: while it recovers its logs (RECOVERY) it is
     * fenced, and restarting it would start the recovery over, so the guard waits for it like any refusal.
     * Retryable GuardWaitTimeout with the last refusal in its details.
     */
    async waitForRestartAllowed(
      cluster: string,
      batch: { nodeId: NodeId; roles: NodeRole[] }[],
      timeoutMs: number = DEFAULT_WAIT_MS.guard,
      { quorumFetchTimeoutMs = DEFAULT_QUORUM_FETCH_TIMEOUT_MS, recentQuorum = null }: GuardOptions = {},
    ): Promise<GuardResult> {
      const inv = clusters.get(cluster);
      const needsQuorum = inv.mode === 'kraft' && batch.some((n) => n.roles.includes('controller'));
      let offered = recentQuorum;
      let quorumAgeMs: number | null = null;
      const readQuorum = async (): Promise<QuorumState> => {
        const recent = offered;
        offered = null; // only the first poll may use it; a refusal is re-checked on a fresh read
        if (recent && isRecentQuorum(recent.observedAtMs, Date.now())) {
          quorumAgeMs = Date.now() - recent.observedAtMs;
          return recent.quorum;
        }
        const quorum = await reads.readQuorumState(cluster);
        quorumAgeMs = 0;
        return quorum;
      };
      const { value, elapsedMs } = await pollUntil<GuardDecision>(
        { waitingFor: 'restart guard', nodes: batch.map((n) => n.nodeId) },
        timeoutMs,
        Math.max(pollIntervalMs, 2000),
        async () => {
          const metadata = await reads.readClusterMetadata(cluster);
          const quorum = needsQuorum ? await readQuorum() : null;
          const recovering: { nodeId: NodeId; host: string }[] = [];
          for (const nodeId of brokersToCheckForRecovery(metadata, batch)) {
            const host = brokerNode(cluster, nodeId);
            if ((await brokerState(host)).state === 'RECOVERY') recovering.push({ nodeId, host: host.name });
          }
          const decision = refuseRecovering(canRestartBatch({ ...metadata, quorum }, batch, quorumFetchTimeoutMs), recovering);
          return { done: decision.safe, value: decision, progress: { reasons: decision.reasons.slice(0, 3) } };
        },
        (last, err, ms) =>
          waitTimedOut(
            NodeWaitFailure.GuardWaitTimeout,
            `node${batch.length === 1 ? '' : 's'} ${batch.map((n) => n.nodeId).join(', ')} still not safe to restart after ${Math.round(ms / 1000)} s: ` +
              (last ? last.reasons.slice(0, 3).join(' ') : `the cluster could not be read (${err ?? 'no answer'})`),
            { nodes: batch.map((n) => n.nodeId), elapsedMs: ms, decision: last },
          ),
      );
      return { decision: value, elapsedMs, quorumAgeMs: needsQuorum ? quorumAgeMs : null };
    },

    /**
     * Polls the KRaft quorum (kafka-metadata-quorum.sh over SSH, ~1-3 s per read) until the quorum has a leader
     * and the controller is a caught-up voter, as canRestartController judges voters. Retryable QuorumCatchUpTimeout.
     */
    async waitForQuorumCaughtUp(
      cluster: string,
      nodeId: NodeId,
      timeoutMs: number = DEFAULT_WAIT_MS.quorumCatchUp,
      fetchTimeoutMs: number = DEFAULT_QUORUM_FETCH_TIMEOUT_MS,
    ): Promise<QuorumCatchUpResult> {
      controllerNode(cluster, nodeId);
      const { value, elapsedMs } = await pollUntil<QuorumObservation>(
        { waitingFor: 'controller caught up', nodeId },
        timeoutMs,
        pollIntervalMs,
        async () => {
          const quorum = await reads.readQuorumState(cluster);
          const voter = quorumVoterStatus(quorum, fetchTimeoutMs).find((v) => v.nodeId === nodeId);
          return { done: quorum.leaderId >= 0 && voter?.caughtUp === true, value: { quorum, observedAtMs: Date.now() } };
        },
        (lastObservation, err, ms) => {
          const last = lastObservation?.quorum ?? null;
          const voter = last ? quorumVoterStatus(last, fetchTimeoutMs).find((v) => v.nodeId === nodeId) : undefined;
          const why = !last
            ? `the quorum could not be read (${err ?? 'no answer'})`
            : last.leaderId < 0
              ? 'the quorum has no leader'
              : !voter
                ? 'it is not a voter'
                : `it is ${voter.lagMs === null ? 'never caught up' : `${voter.lagMs} ms`} behind the leader ${last.leaderId}`;
          return waitTimedOut(NodeWaitFailure.QuorumCatchUpTimeout, `controller ${nodeId} is not caught up after ${Math.round(ms / 1000)} s: ${why}`, { nodeId, elapsedMs: ms });
        },
      );
      return { leaderId: value.quorum.leaderId, elapsedMs, observation: value };
    },

    /**
     * After a node is back: preferred leader election (named apart from the reassignment runbook's
     * electPreferredLeaders, which throws on any failed partition) with kafka-leader-election.sh on the first broker or controller host that
     * answers over SSH: every partition, the ones given, or the ones `preferredLeader` should lead again
     * (read from the metadata now; none means no tool run). Partitions already led by their preferred replica
     * ("no election needed") count as success. Partitions Kafka could not elect (preferred replica out of the
     * ISR) are returned in `failed`, not thrown: the next batch's guard decides whether that matters.
     */
    async restorePreferredLeaders(cluster: string, scope: { partitions?: TopicPartitionRef[]; preferredLeader?: NodeId } = {}): Promise<LeaderElectionResult> {
      const inv = clusters.get(cluster);
      if (scope.preferredLeader !== undefined) {
        scope = { partitions: partitionsToLeadAgain(await reads.readClusterMetadata(cluster), scope.preferredLeader) };
      }
      if (scope.partitions && scope.partitions.length === 0) return { host: '', elected: [], alreadyPreferred: [], failed: [] };
      const candidates = inv.hosts.filter((h) => h.roles.includes('broker') || h.roles.includes('controller'));
      const errors: string[] = [];
      for (const host of candidates) {
        let last: CommandResult | null = null;
        const recording: HostShell = {
          exec: async (h, command, opts) => (last = await shell.exec(h, command, opts)),
          close: async () => undefined, // the shared shell outlives this call
        };
        const elect = async (args: string[]): Promise<LeaderElectionResult> => {
          let stdout: string;
          try {
            stdout = await heartbeatWhile({ step: 'preferred leader election', host: host.name }, () =>
              runKafkaTool(recording, host, inv.bootstrapServers, inv.client.toolCommandConfig, 'kafka-leader-election.sh', ['--election-type', 'PREFERRED', ...args], { timeoutMs: 120_000 }),
            );
          } catch (err) {
            const r = last as CommandResult | null;
            // A non-zero exit with per-partition results is an answer (some partitions failed), not an error.
            if (!r || !/leader election|Valid replica already elected/i.test(`${r.stdout}\n${r.stderr}`)) throw err;
            stdout = `${r.stdout}\n${r.stderr}`;
          }
          return { host: host.name, ...parseLeaderElection(stdout) };
        };
        try {
          const partitions = scope.partitions;
          if (!partitions) return await elect(['--all-topic-partitions']);
          // The list goes to a host file on stdin: thousands of partitions do not fit on a command line.
          const json = JSON.stringify({ partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })) });
          return await withHostFile(shell, host, json, (file) => elect(['--path-to-json-file', file]));
        } catch (err) {
          rethrowCancellation(err);
          errors.push(`${host.name}: ${firstLine(err)}`);
        }
      }
      throw new Error(`preferred leader election failed on every host: ${errors.join('; ')}`);
    },

    /** Version of the install `current` points at, and the version the running process has loaded. */
    async readNodeVersion(cluster: string, hostName: string): Promise<NodeVersion> {
      const host = kafkaHost(cluster, hostName);
      const script = [
        `echo "LINK $(readlink ${shellQuote(host.kafka.currentLink)} 2>/dev/null || true)"`,
        `echo "RESOLVED $(readlink -f ${shellQuote(host.kafka.currentLink)} 2>/dev/null || true)"`,
        `if ${statusShell(host)}; then echo "RUNNING 1"; else echo "RUNNING 0"; fi`,
        // The JVM keeps the jars it loaded open: the kafka-clients jar names the version the process runs.
        `pid="$(tr -dc 0-9 2>/dev/null < ${shellQuote(host.kafka.pidFile)} || true)"`,
        `if [ -n "$pid" ] && [ -d "/proc/$pid/fd" ]; then echo "PROCJAR $(ls -l "/proc/$pid/fd" 2>/dev/null | grep -o 'kafka-clients-[0-9][^/ ]*\\.jar' | head -n 1)"; fi`,
        `echo "LOGVERSION $(grep -h 'Kafka version: ' ${shellQuote(`${host.kafka.logDir}/server.log`)} 2>/dev/null | tail -n 1 | sed 's/.*Kafka version: \\([^ ]*\\).*/\\1/')"`,
      ].join('\n');
      const r = await run(host, `bash -c ${shellQuote(script)}`, 30_000);
      if (r.code !== 0) throw new Error(`cannot read the version on ${host.name} (exit ${r.code}): ${scrub(r.stderr)}`);
      const processRunning = tagged(r.stdout, 'RUNNING') === '1';
      const jarVersion = versionFromClientsJar(tagged(r.stdout, 'PROCJAR') ?? '');
      const logVersion = tagged(r.stdout, 'LOGVERSION') || null;
      const linkTarget = tagged(r.stdout, 'LINK') || null;
      let runningVersion: string | null = null;
      let runningVersionFrom: NodeVersion['runningVersionFrom'] = null;
      if (processRunning && jarVersion) {
        runningVersion = jarVersion;
        runningVersionFrom = 'process';
      } else if (processRunning && logVersion) {
        runningVersion = logVersion;
        runningVersionFrom = 'log';
      }
      return { linkTarget, linkVersion: versionFromInstallPath(tagged(r.stdout, 'RESOLVED') ?? ''), processRunning, runningVersion, runningVersionFrom };
    },

    /**
     * The broker's BrokerState as its server.log last reported it (KRaft: BrokerLifecycleManager transitions,
     * the BrokerServer's final SHUTDOWN; ZooKeeper mode: KafkaServer started / shutting down), searching
     * rotated logs newest first. There is no JMX here, so this is the cheap stand-in; UNKNOWN when no line
     * tells (controller-only nodes have no broker state).
     */
    async readBrokerState(cluster: string, hostName: string): Promise<BrokerStateReading> {
      return brokerState(kafkaHost(cluster, hostName));
    },
  };
  return {
    ...activities,
    // Reads metadata and tries host after host over SSH before the tool runs: heartbeat all along.
    restorePreferredLeaders: (...args: Parameters<typeof activities.restorePreferredLeaders>) =>
      heartbeatWhile({ step: 'preferred leader election' }, () => activities.restorePreferredLeaders(...args)),
  };
}

export type NodeActivities = ReturnType<typeof createNodeActivities>;
