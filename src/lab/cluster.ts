import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { renderCommand } from '../inventory/commands';
import { parseInventory } from '../inventory/load';
import { type Inventory, type InventoryHost } from '../inventory/schema';
import { labLog } from './log';
import { type HostPaths, clusterDir, clusterStateFile, fetchKafkaScript, hostPaths, installName, inventoryFile, kafkaToolsDir, labRoot, sshPaths } from './paths';
import { isAlive, isAliveAndOurs, portAnswers, processesMentioning, readPidFile, terminate, waitFor } from './process';
import { type CommandResult, ensureClientKey, ensureHostKey, sshExec, startSshd, updateKnownHosts } from './ssh';
import { type TemporalServer, temporalDown, temporalUp } from './temporal';
import {
  CONTROLLER_ID_BASE,
  DEFAULT_KRAFT_VERSION,
  DEFAULT_ZOOKEEPER_VERSION,
  KAFKA_PORT,
  LAB_SSH_PORT,
  type LabHostPlan,
  type LabSpec,
  type LabSpecInput,
  ZOOKEEPER_PORT,
  brokerHostPlan,
  buildLabInventory,
  isBroker,
  isWaitingController,
  newClusterId,
  planLabHosts,
  rackFor,
  renderKafkaConfig,
  renderZookeeperConfig,
  resolveLabSpec,
  zookeeperConnectFor,
} from './topology';

const execFileP = promisify(execFile);

/** Versions installed side by side on every host, so an upgrade runbook can switch `current`. */
export const LAB_KAFKA_VERSIONS = [DEFAULT_ZOOKEEPER_VERSION, DEFAULT_KRAFT_VERSION];

const STARTUP_TIMEOUT_MS = 180000;

/** What the lab records about a cluster it built (`<lab>/<name>/lab.json`). */
export interface LabState {
  spec: LabSpec;
  clusterId: string | null;
  hosts: LabHostPlan[];
  inventoryPath: string;
  /** This lab started the Temporal dev server and stops it on `down`. */
  temporal: boolean;
  createdAt: string;
}

export interface LabHost extends LabHostPlan {
  paths: HostPaths;
}

export interface LabCluster {
  name: string;
  mode: LabSpec['mode'];
  version: string;
  clusterId: string | null;
  labDir: string;
  inventoryPath: string;
  hosts: LabHost[];
  bootstrapServers: string[];
  zookeeperConnect: string | null;
  /** Wall time of `labUp`, from nothing to every broker registered. */
  startupMs: number;
  temporal: TemporalServer | null;
}

export interface LabUpOptions extends LabSpecInput {
  /** Also start the Temporal dev server (stopped again by this lab's `down`). */
  temporal?: boolean;
  /**
   * Settings appended to every broker's server.properties before its first start (an authorizer, say), so that a
   * test needing them does not restart the brokers. Brokers added later copy them with the rest of the config.
   */
  brokerConfig?: Record<string, string>;
}

export function readState(root: string, name: string): LabState | null {
  try {
    return JSON.parse(readFileSync(clusterStateFile(root, name), 'utf8')) as LabState;
  } catch {
    return null;
  }
}

export function writeState(root: string, state: LabState): void {
  writeFileSync(clusterStateFile(root, state.spec.name), JSON.stringify(state, null, 2));
}

export const withPaths = (root: string, name: string, h: LabHostPlan): LabHost => ({ ...h, paths: hostPaths(root, name, h.name, h.kind) });

/** Pids the lab may have to stop for a cluster: each host's sshd and Kafka/ZooKeeper process, read now. */
function livePids(root: string, state: LabState): { host: string; what: 'kafka' | 'zookeeper' | 'mm2' | 'sshd'; pid: number }[] {
  const out: { host: string; what: 'kafka' | 'zookeeper' | 'mm2' | 'sshd'; pid: number }[] = [];
  const ours = `${join(root, state.spec.name)}/`;
  for (const h of state.hosts.map((x) => withPaths(root, state.spec.name, x))) {
    const service = readPidFile(h.paths.pidFile);
    if (isAliveAndOurs(service, ours)) out.push({ host: h.name, what: h.kind, pid: service as number });
    const sshd = readPidFile(h.paths.sshdPidFile);
    if (isAliveAndOurs(sshd, ours)) out.push({ host: h.name, what: 'sshd', pid: sshd as number });
  }
  return out;
}

export function listLabs(root: string = labRoot()): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((d) => existsSync(clusterStateFile(root, d)))
    .sort();
}

function fetchedVersions(): Set<string> {
  const dir = kafkaToolsDir();
  if (!existsSync(dir)) return new Set();
  return new Set(readdirSync(dir).filter((v) => existsSync(join(dir, v, 'bin', '.generated')) && existsSync(join(dir, v, 'libs', '.fetched'))));
}

async function ensureKafkaFetched(versions: string[]): Promise<void> {
  const have = fetchedVersions();
  const missing = versions.filter((v) => !have.has(v));
  if (missing.length === 0) return;
  labLog.info({ versions: missing }, 'fetching Kafka from Maven Central (scripts/fetch-kafka.sh)');
  await execFileP('bash', [fetchKafkaScript, ...missing], { maxBuffer: 16 * 1024 * 1024 });
}

/** Installs every fetched version under opt/kafka (bin and config copied, libs linked) and points `current`. */
function installKafka(paths: HostPaths, versions: string[], current: string): void {
  const tools = kafkaToolsDir();
  for (const v of versions) {
    const dir = join(paths.installDir, installName(v));
    mkdirSync(dir, { recursive: true });
    cpSync(join(tools, v, 'bin'), join(dir, 'bin'), { recursive: true });
    cpSync(join(tools, v, 'config'), join(dir, 'config'), { recursive: true });
    rmSync(join(dir, 'libs'), { force: true });
    symlinkSync(join(tools, v, 'libs'), join(dir, 'libs'));
  }
  rmSync(paths.currentLink, { force: true });
  symlinkSync(installName(current), paths.currentLink);
  for (const d of [paths.dataDir, paths.logDir, dirname(paths.pidFile), dirname(paths.configFile)]) mkdirSync(d, { recursive: true });
}

export async function provisionHost(root: string, name: string, host: LabHost, versions: string[], current: string): Promise<{ address: string; publicKey: string }> {
  const ssh = sshPaths(root);
  mkdirSync(host.paths.root, { recursive: true });
  installKafka(host.paths, versions, current);
  const key = await ensureHostKey(ssh, host.address);
  await startSshd(host.address, host.paths, ssh, key.file);
  labLog.debug({ host: host.name, address: host.address }, 'host provisioned');
  return { address: host.address, publicKey: key.publicKey };
}

export function writeInventory(path: string, content: Record<string, unknown>, comment: string): Inventory {
  const text = `# ${comment}\n${toYaml(content, { lineWidth: 0 })}`;
  const inventory = parseInventory(path, text); // never write an inventory the worker would refuse
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return inventory;
}

function inventoryHost(inventory: Inventory, name: string): InventoryHost {
  const h = inventory.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`inventory ${inventory.source} has no host ${name}`);
  return h;
}

/** Runs one of the inventory's command templates on a host over SSH, as the runbook engine does. */
async function runTemplate(host: InventoryHost, template: string, extra: Record<string, string> = {}, args = ''): Promise<CommandResult> {
  const command = renderCommand(template, host, extra) + (args ? ` ${args}` : '');
  const target = { address: host.address, port: host.ssh.port, user: host.ssh.user, privateKeyFile: host.ssh.privateKeyFile ?? '', knownHostsFile: host.ssh.knownHostsFile };
  return sshExec(target, command);
}

async function mustRun(host: InventoryHost, what: string, template: string, extra: Record<string, string> = {}, args = ''): Promise<string> {
  const r = await runTemplate(host, template, extra, args);
  if (r.code !== 0) throw new Error(`${what} on ${host.name} failed (exit ${r.code}):\n${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function logTail(paths: HostPaths, lines = 15): string {
  const tails: string[] = [];
  for (const f of ['server.out', 'zookeeper.out', 'server.log']) {
    const p = join(paths.logDir, f);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8').trim();
    if (text) tails.push(`--- ${p}\n${text.split('\n').slice(-lines).join('\n')}`);
  }
  return tails.join('\n');
}

/** Registered brokers as the Kafka protocol reports them (Metadata via kafkajs describeCluster). */
export async function describeLabCluster(bootstrapServers: string[]): Promise<{ clusterId: string; controller: number | null; brokers: { nodeId: number; host: string; port: number }[] }> {
  const kafka = new Kafka({ clientId: 'kafka-runbooks-lab', brokers: bootstrapServers, logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 5000, retry: { retries: 0 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const c = await admin.describeCluster();
    return { clusterId: c.clusterId, controller: c.controller, brokers: c.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Waits until exactly `brokerIds` are registered and each accepts connections; fails early, with the node's log, if a JVM dies. */
export async function waitForBrokers(bootstrapServers: string[], brokerIds: number[], watch: LabHost[], timeoutMs = STARTUP_TIMEOUT_MS): Promise<string> {
  const want = [...brokerIds].sort((a, b) => a - b).join(',');
  let seen = 'none';
  try {
    return await waitFor(`brokers ${want} to register`, timeoutMs, async () => {
      for (const h of watch) {
        if (!isAlive(readPidFile(h.paths.pidFile))) throw new Error(`${h.name}: ${h.kind} process exited during startup\n${logTail(h.paths)}`);
      }
      try {
        const c = await describeLabCluster(bootstrapServers);
        seen = c.brokers.map((b) => b.nodeId).sort((a, b) => a - b).join(',') || 'none';
        if (seen !== want) return null;
        // A ZooKeeper-mode broker registers before it accepts connections: registered is not yet reachable.
        const answering = await Promise.all(c.brokers.map((b) => portAnswers(b.host, b.port)));
        return answering.every(Boolean) ? c.clusterId : null;
      } catch {
        return null;
      }
    }, 500);
  } catch (err) {
    throw new Error(`${(err as Error).message} (registered: ${seen})`, { cause: err });
  }
}

export async function assertAddressesFree(hosts: LabHostPlan[]): Promise<void> {
  const busy: string[] = [];
  await Promise.all(
    hosts.flatMap((h) =>
      [LAB_SSH_PORT, KAFKA_PORT, ZOOKEEPER_PORT].map(async (port) => {
        if (await portAnswers(h.address, port, 300)) busy.push(`${h.address}:${port}`);
      }),
    ),
  );
  if (busy.length > 0) throw new Error(`addresses already in use: ${busy.sort().join(', ')} (another lab on this subnet? use --subnet)`);
}

function toCluster(root: string, state: LabState, startupMs: number, temporal: TemporalServer | null): LabCluster {
  const hosts = state.hosts.map((h) => withPaths(root, state.spec.name, h));
  return {
    name: state.spec.name,
    mode: state.spec.mode,
    version: state.spec.version,
    clusterId: state.clusterId,
    labDir: clusterDir(root, state.spec.name),
    inventoryPath: state.inventoryPath,
    hosts,
    bootstrapServers: hosts.filter(isBroker).map((h) => `${h.address}:${KAFKA_PORT}`),
    zookeeperConnect: zookeeperConnectFor(state.hosts),
    startupMs,
    temporal,
  };
}

/** `key=value` lines for LabUpOptions.brokerConfig; a key or value that would break the properties file is refused. */
function brokerConfigLines(settings: Record<string, string>): string {
  const bad = Object.entries(settings).filter(([k, v]) => !/^[A-Za-z0-9._-]+$/.test(k) || /[\r\n]/.test(v));
  if (bad.length > 0) throw new Error(`brokerConfig: not a server.properties setting: ${bad.map(([k]) => JSON.stringify(k)).join(', ')}`);
  return Object.entries(settings)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}

/**
 * Builds a cluster from nothing: per host a file tree, both Kafka versions, its own sshd; then formats
 * storage (KRaft) or starts ZooKeeper, and starts every node over SSH with the inventory's own command
 * templates. Resolves when every broker is registered. On failure everything started is stopped again.
 */
export async function labUp(opts: LabUpOptions = {}): Promise<LabCluster> {
  const t0 = Date.now();
  const spec = resolveLabSpec(opts);
  const root = labRoot();
  const name = spec.name;
  const existing = readState(root, name);
  if (existing && livePids(root, existing).length > 0) throw new Error(`lab "${name}" is already running: \`npm run lab -- down --name ${name}\` first`);
  for (const other of listLabs(root)) {
    const s = readState(root, other);
    if (other !== name && s && s.spec.subnet === spec.subnet && livePids(root, s).length > 0) {
      throw new Error(`subnet 127.0.${spec.subnet}.x is used by running lab "${other}": pick another --subnet`);
    }
  }
  const plan = planLabHosts(spec);
  await assertAddressesFree(plan);
  const versions = [...new Set([...LAB_KAFKA_VERSIONS, spec.version])];
  await ensureKafkaFetched(versions);

  rmSync(clusterDir(root, name), { recursive: true, force: true });
  mkdirSync(clusterDir(root, name), { recursive: true });
  const ssh = sshPaths(root);
  await ensureClientKey(ssh);
  const hosts = plan.map((h) => withPaths(root, name, h));
  const inventoryPath = inventoryFile(root, name);
  const state: LabState = { spec, clusterId: null, hosts: plan, inventoryPath, temporal: false, createdAt: new Date().toISOString() };
  writeState(root, state); // before anything starts, so `down` can always clean up

  try {
    const keys = await Promise.all(hosts.map((h) => provisionHost(root, name, h, versions, spec.version)));
    await updateKnownHosts(ssh, keys);
    const zookeeperConnect = zookeeperConnectFor(plan);
    for (const h of hosts) {
      if (isWaitingController(spec, h)) continue; // the migration runbook writes its config
      const config = h.kind === 'zookeeper' ? renderZookeeperConfig(h, h.paths) : renderKafkaConfig({ spec, host: h, cluster: plan, paths: h.paths, zookeeperConnect });
      const extra = opts.brokerConfig && isBroker(h) ? brokerConfigLines(opts.brokerConfig) : '';
      writeFileSync(h.paths.configFile, config + extra);
    }
    const inventory = writeInventory(
      inventoryPath,
      buildLabInventory({ spec, hosts: plan, paths: new Map(hosts.map((h) => [h.name, h.paths])), ssh }),
      `Lab cluster "${name}" (${spec.mode}, Kafka ${spec.version}), written by \`npm run lab -- up\` at ${state.createdAt}.`,
    );
    labLog.info({ hosts: hosts.length, ms: Date.now() - t0 }, `lab ${name}: hosts provisioned, sshd up on each`);

    const kafkaNodes = hosts.filter((h) => h.kind === 'kafka' && !isWaitingController(spec, h));
    if (spec.mode === 'kraft') {
      state.clusterId = newClusterId(randomBytes);
      writeState(root, state);
      await Promise.all(
        kafkaNodes.map((h) => {
          const ih = inventoryHost(inventory, h.name);
          return mustRun(ih, 'kafka-storage.sh format', ih.kafka.commands.tool, { tool: 'kafka-storage.sh' }, `format --ignore-formatted -t ${state.clusterId} -c ${ih.kafka.configFile}`);
        }),
      );
      labLog.info({ clusterId: state.clusterId, ms: Date.now() - t0 }, `lab ${name}: storage formatted`);
    } else {
      const zk = hosts.find((h) => h.kind === 'zookeeper');
      if (!zk) throw new Error('zookeeper mode without a zookeeper host');
      const ih = inventoryHost(inventory, zk.name);
      await mustRun(ih, 'ZooKeeper start', ih.kafka.commands.start);
      await waitFor(`ZooKeeper on ${zk.address}:${ZOOKEEPER_PORT}`, 60000, async () => {
        if (!isAlive(readPidFile(zk.paths.pidFile))) throw new Error(`ZooKeeper exited during startup\n${logTail(zk.paths)}`);
        return portAnswers(zk.address, ZOOKEEPER_PORT);
      });
      labLog.info({ ms: Date.now() - t0 }, `lab ${name}: ZooKeeper up`);
    }

    await Promise.all(kafkaNodes.map((h) => mustRun(inventoryHost(inventory, h.name), 'Kafka start', inventoryHost(inventory, h.name).kafka.commands.start)));
    const clusterId = await waitForBrokers(inventory.bootstrapServers, plan.filter(isBroker).map((h) => h.nodeId as number), kafkaNodes);
    state.clusterId = clusterId;
    writeState(root, state);
    const startupMs = Date.now() - t0;
    labLog.info({ clusterId, ms: startupMs }, `lab ${name}: ${plan.filter(isBroker).length} brokers registered in ${(startupMs / 1000).toFixed(1)} s`);

    let temporal: TemporalServer | null = null;
    if (opts.temporal) {
      temporal = await temporalUp({ startedBy: name, root });
      state.temporal = temporal.started;
      writeState(root, state);
    }
    return toCluster(root, state, startupMs, temporal);
  } catch (err) {
    labLog.error({ err }, `lab ${name}: up failed; stopping what was started (files kept in ${clusterDir(root, name)})`);
    await labDown(name).catch((e: unknown) => labLog.error({ err: e }, 'cleanup after failed up also failed'));
    throw err;
  }
}

export interface LabDownResult {
  name: string;
  wasRunning: boolean;
  stopped: { host: string; what: string; pid: number; forced: boolean }[];
  /** Processes naming the lab's directory that were still there after the recorded ones stopped (killed). */
  leftovers: { pid: number; cmdline: string }[];
  temporalStopped: boolean;
}

/**
 * Stops exactly what the lab started, by recorded pid files read now (runbooks restart brokers): Kafka
 * nodes (SIGTERM, SIGKILL after graceMs), then ZooKeeper, then each sshd, then Temporal if this lab started
 * it. Finally any process whose command line names the lab's directory is reported and killed.
 */
export async function labDown(name = 'lab', opts: { graceMs?: number } = {}): Promise<LabDownResult> {
  const root = labRoot();
  const graceMs = opts.graceMs ?? 20000;
  const state = readState(root, name);
  const result: LabDownResult = { name, wasRunning: false, stopped: [], leftovers: [], temporalStopped: false };
  if (!state) {
    labLog.info(`lab ${name}: not running (no such lab in ${root})`);
    return result;
  }
  const roles = new Map(state.hosts.map((h) => [h.name, h.roles]));
  const stopGroup = async (what: 'kafka' | 'zookeeper' | 'mm2' | 'sshd', grace: number, onHost: (roles: string[]) => boolean = () => true): Promise<void> => {
    const group = livePids(root, state).filter((p) => p.what === what && onHost(roles.get(p.host) ?? []));
    if (group.length === 0) return;
    const forced = new Set(await terminate(group.map((p) => p.pid), grace));
    for (const p of group) {
      result.stopped.push({ ...p, forced: forced.has(p.pid) });
      if (forced.has(p.pid)) labLog.warn(p, `lab ${name}: ${p.what} on ${p.host} ignored SIGTERM for ${grace} ms; killed`);
    }
  };
  result.wasRunning = livePids(root, state).length > 0;
  // Brokers first, while the controllers they report their shutdown to are still there; then controllers
  // (and combined nodes), then ZooKeeper, then the hosts' sshds. MirrorMaker 2 goes before the brokers it reads.
  await stopGroup('mm2', graceMs);
  await stopGroup('kafka', graceMs, (r) => !r.includes('controller'));
  await stopGroup('kafka', graceMs);
  await stopGroup('zookeeper', graceMs);
  await stopGroup('sshd', 5000);
  if (state.temporal) {
    result.temporalStopped = await temporalDown({ root });
    state.temporal = false;
    writeState(root, state);
  }
  const dir = `${clusterDir(root, name)}/`;
  result.leftovers = processesMentioning(dir);
  for (const p of result.leftovers) labLog.warn(p, `lab ${name}: leftover process names the lab directory; killing it`);
  if (result.leftovers.length > 0) await terminate(result.leftovers.map((p) => p.pid), 2000);
  result.wasRunning ||= result.leftovers.length > 0 || result.temporalStopped;
  labLog.info(
    result.wasRunning ? `lab ${name}: stopped ${result.stopped.length} processes${result.leftovers.length ? ` and ${result.leftovers.length} leftovers` : ''}` : `lab ${name}: not running, nothing to stop`,
  );
  return result;
}

/** Takes down every lab cluster under the lab root and the Temporal dev server. */
export async function labDownAll(opts: { graceMs?: number } = {}): Promise<LabDownResult[]> {
  const root = labRoot();
  const results = await Promise.all(listLabs(root).map((n) => labDown(n, opts)));
  const temporal = await temporalDown({ root });
  if (temporal) labLog.info('Temporal dev server stopped');
  const strays = processesMentioning(`${root}/`);
  for (const p of strays) labLog.warn(p, 'leftover process names the lab root; killing it');
  if (strays.length > 0) await terminate(strays.map((p) => p.pid), 2000);
  return results;
}

export interface LabHostStatus {
  name: string;
  address: string;
  roles: string[];
  nodeId: number | null;
  rack: string | null;
  /** Version the host's `current` link points at. */
  version: string | null;
  service: { pid: number | null; alive: boolean };
  sshd: { pid: number | null; alive: boolean };
}

export interface LabStatus {
  name: string;
  mode: string;
  clusterId: string | null;
  inventoryPath: string;
  hosts: LabHostStatus[];
}

export function labStatus(name = 'lab'): LabStatus | null {
  const root = labRoot();
  const state = readState(root, name);
  if (!state) return null;
  return {
    name,
    mode: state.spec.mode,
    clusterId: state.clusterId,
    inventoryPath: state.inventoryPath,
    hosts: state.hosts.map((plan) => {
      const h = withPaths(root, name, plan);
      const pid = readPidFile(h.paths.pidFile);
      const sshd = readPidFile(h.paths.sshdPidFile);
      let version: string | null = null;
      try {
        version = readlinkSync(h.paths.currentLink).replace(/^.*kafka_2\.13-/, '');
      } catch {
        // not installed
      }
      return {
        name: h.name,
        address: h.address,
        roles: h.roles,
        nodeId: h.nodeId,
        rack: h.rack,
        version,
        service: { pid, alive: isAlive(pid) },
        sshd: { pid: sshd, alive: isAlive(sshd) },
      };
    }),
  };
}

/** Runs a shell command on a lab host (by name or address) over SSH. */
export async function runOnHost(name: string, host: string, command: string, opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
  const root = labRoot();
  const state = readState(root, name);
  if (!state) throw new Error(`no lab named "${name}"`);
  const h = state.hosts.find((x) => x.name === host || x.address === host);
  if (!h) throw new Error(`lab ${name} has no host ${host} (hosts: ${state.hosts.map((x) => x.name).join(', ')})`);
  const ssh = sshPaths(root);
  return sshExec({ address: h.address, privateKeyFile: ssh.privateKey, knownHostsFile: ssh.knownHosts }, command, opts);
}

function parseProperties(text: string): [string, string][] {
  return text
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i).trim(), l.slice(i + 1).trim()] as [string, string];
    });
}

/**
 * Provisions one more broker host (address 127.0.S.<nodeId>, its sshd, both versions, `current` as on the
 * cluster's brokers, a server.properties for joining the cluster as it is configured now) and adds it to the
 * inventory. Kafka is left stopped and, in KRaft mode, unformatted: that is the runbook's job.
 */
export async function addHost(name: string, opts: { nodeId: number; rack?: string }): Promise<LabHost> {
  const root = labRoot();
  const state = readState(root, name);
  if (!state) throw new Error(`no lab named "${name}"`);
  const { nodeId } = opts;
  if (!Number.isInteger(nodeId) || nodeId < 1 || nodeId >= CONTROLLER_ID_BASE) throw new Error(`--node-id ${nodeId}: broker node ids are 1 to ${CONTROLLER_ID_BASE - 1} (address 127.0.S.<id>)`);
  if (state.hosts.some((h) => h.nodeId === nodeId)) throw new Error(`lab ${name} already has node id ${nodeId}`);
  const brokers = state.hosts.filter(isBroker);
  const plan = { ...brokerHostPlan(state.spec, nodeId, opts.rack ?? rackFor(nodeId - 1, state.spec.racks)), roles: ['broker' as const] };
  await assertAddressesFree([plan]);
  const model = brokers.map((b) => withPaths(root, name, b)).sort((a, b) => (a.nodeId ?? 0) - (b.nodeId ?? 0))[0];
  if (!model) throw new Error(`lab ${name} has no broker to model the new one on`);
  const current = readlinkSync(model.paths.currentLink).replace(/^.*kafka_2\.13-/, '');
  const host = withPaths(root, name, plan);
  const ssh = sshPaths(root);
  await ensureClientKey(ssh);
  const key = await provisionHost(root, name, host, [...new Set([...LAB_KAFKA_VERSIONS, current])], current);
  await updateKnownHosts(ssh, [key]);

  // The model broker's config as it is now (the cluster may have been migrated or upgraded since `up`),
  // with this host's identity, listener and paths; a combined node's controller role is not copied.
  const overrides = new Map<string, string | null>([
    ['listeners', `PLAINTEXT://${plan.address}:${KAFKA_PORT}`],
    ['advertised.listeners', `PLAINTEXT://${plan.address}:${KAFKA_PORT}`],
    ['broker.rack', plan.rack],
    ['log.dirs', host.paths.dataDir],
  ]);
  const lines = parseProperties(readFileSync(model.paths.configFile, 'utf8')).map(([k, v]): [string, string | null] => {
    if (k === 'node.id' || k === 'broker.id') return [k, String(nodeId)];
    if (k === 'process.roles') return [k, 'broker'];
    if (overrides.has(k)) {
      const o = overrides.get(k) ?? null;
      overrides.delete(k);
      return [k, o];
    }
    return [k, v];
  });
  for (const [k, v] of overrides) lines.push([k, v]);
  writeFileSync(
    host.paths.configFile,
    `# ${plan.name} (broker) added by \`npm run lab -- add-host\`, modelled on ${model.name}.\n${lines
      .filter((l): l is [string, string] => l[1] !== null)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );

  const raw = parseYaml(readFileSync(state.inventoryPath, 'utf8')) as { hosts: Record<string, unknown>[] };
  const entry = (buildLabInventory({ spec: state.spec, hosts: [plan], paths: new Map([[plan.name, host.paths]]), ssh }).hosts as Record<string, unknown>[])[0];
  if (!entry) throw new Error('inventory entry for the new host could not be built');
  raw.hosts.push(entry);
  writeInventory(state.inventoryPath, raw, `Lab cluster "${name}"; host ${plan.name} added by \`npm run lab -- add-host\` at ${new Date().toISOString()}.`);
  state.hosts.push(plan);
  writeState(root, state);
  labLog.info({ host: plan.name, address: plan.address }, `lab ${name}: host ${plan.name} provisioned (Kafka stopped${state.spec.mode === 'kraft' ? ', storage not formatted' : ''})`);
  return host;
}

export { LAB_SSH_PORT, KAFKA_PORT };
