import { parseProperties, propertyValue } from '../rolling/config';
import { MIGRATION_FLAG } from './config';
import { gaugeName, MigrationState, ZkMigrationGauge } from './states';

/**
 * Where a cluster stands in the migration, observed from the cluster itself, never from a run's input: the
 * brokers' and controllers' server.properties, the /migration and /controller znodes, and the active
 * controller's ZkMigrationState. A cluster half-way through a roll is recognised (the last fully completed
 * state, and which nodes the roll has reached); readings that contradict each other are refused, naming
 * what disagrees. Workflow-safe.
 */

/** What a node's server.properties says, without any value that could be a secret. */
export interface NodeConfigSummary {
  host: string;
  /** False when the host has no config file yet (a controller not provisioned). */
  present: boolean;
  processRoles: string | null;
  nodeId: number | null;
  brokerId: number | null;
  migrationFlag: boolean;
  zookeeperConnect: boolean;
  /** controller.quorum.voters or controller.quorum.bootstrap.servers is set. */
  quorum: boolean;
  controllerListenerNames: string | null;
  interBrokerProtocolVersion: string | null;
  authorizer: string | null;
  /** Entries of log.dirs (or log.dir): more than one is JBOD. */
  logDirs: number;
  /** broker.id.generation.enable is not false and broker.id is unset: a generated id. */
  generatedBrokerId: boolean;
}

const asId = (v: string | null): number | null => (v !== null && /^\d+$/.test(v) ? Number(v) : null);

export function summariseNodeConfig(host: string, text: string | null): NodeConfigSummary {
  if (text === null) {
    return { host, present: false, processRoles: null, nodeId: null, brokerId: null, migrationFlag: false, zookeeperConnect: false, quorum: false, controllerListenerNames: null, interBrokerProtocolVersion: null, authorizer: null, logDirs: 0, generatedBrokerId: false };
  }
  const v = (k: string) => propertyValue(text, k);
  const dirs = v('log.dirs') ?? v('log.dir');
  const keys = new Set(parseProperties(text).map((e) => e.key));
  return {
    host,
    present: true,
    processRoles: v('process.roles'),
    nodeId: asId(v('node.id')),
    brokerId: asId(v('broker.id')),
    migrationFlag: v(MIGRATION_FLAG) === 'true',
    zookeeperConnect: keys.has('zookeeper.connect'),
    quorum: keys.has('controller.quorum.voters') || keys.has('controller.quorum.bootstrap.servers'),
    controllerListenerNames: v('controller.listener.names'),
    interBrokerProtocolVersion: v('inter.broker.protocol.version'),
    authorizer: v('authorizer.class.name'),
    logDirs: dirs === null ? 1 : dirs.split(',').filter((d) => d.trim().length > 0).length,
    generatedBrokerId: v('broker.id') === null && v('process.roles') === null && v('broker.id.generation.enable') !== 'false',
  };
}

/**
 * The /migration znode's content (Kafka's ZkMigrationLeadershipState). ZooKeeper holds it in snake_case, as
 * recorded on a 3.9.2 lab: `{"version":0,"kraft_metadata_offset":-1,"kraft_controller_id":-1,...}`.
 */
export interface MigrationZnode {
  kraft_controller_id?: number;
  kraft_controller_epoch?: number;
  kraft_metadata_offset?: number;
  kraft_metadata_epoch?: number;
  kraftControllerId?: number;
  kraftMetadataOffset?: number;
  [key: string]: unknown;
}

/**
 * Whether /migration records a completed metadata copy (Kafka's `initialZkMigrationComplete`: offset > 0). The
 * first active KRaft controller creates the znode with offset -1 while it waits for the brokers, and it stays
 * so after deprovisioning controllers that never migrated: that one is not a leftover migration.
 */
export function metadataCopied(z: MigrationZnode | null): boolean {
  if (z === null) return false;
  const offset = typeof z.kraft_metadata_offset === 'number' ? z.kraft_metadata_offset : typeof z.kraftMetadataOffset === 'number' ? z.kraftMetadataOffset : null;
  // A /migration whose offset cannot be read is taken as copied: the safer reading refuses to start afresh.
  return offset === null || offset > 0;
}

/** The /controller znode: a ZooKeeper-mode broker id, or a KRaft controller once the migration runs (kraftControllerEpoch >= 0). */
export interface ControllerZnode {
  brokerid?: number;
  kraftControllerEpoch?: number;
  [key: string]: unknown;
}

export interface MigrationZnodes {
  clusterId: string | null;
  migration: MigrationZnode | null;
  controller: ControllerZnode | null;
  brokerIds: number[];
}

export interface MigrationGauges {
  zkMigrationState: number | null;
  zkWriteBehindLag: number | null;
  migratingZkBrokerCount: number | null;
  /** ActiveControllerCount: 1 on the quorum leader; absent or null when not read. */
  activeControllerCount?: number | null;
}

/**
 * One reading from the gauges of every controller that answered. Standby controllers report ZkMigrationState
 * too but a write-behind lag of 0 (recorded on a 3.9.2 lab): the state comes from the active controller when
 * one says it is active, and the lag is the highest any controller reports, so a standby's 0 never hides the
 * leader's lag. Null when no controller answered.
 */
export function combineControllerGauges(readings: (MigrationGauges | null)[]): MigrationGauges | null {
  const answered = readings.filter((g): g is MigrationGauges => g !== null && g.zkMigrationState !== null);
  if (answered.length === 0) return null;
  const active = answered.find((g) => g.activeControllerCount === 1) ?? null;
  const first = active ?? (answered[0] as MigrationGauges);
  const known = answered.map((g) => g.zkWriteBehindLag).filter((l): l is number => l !== null);
  // Unknown when the leader's lag is unknown, or (no leader named) when any controller's is.
  const lagUnknown = active ? active.zkWriteBehindLag === null : known.length < answered.length;
  const lag = lagUnknown ? null : Math.max(...known);
  return { zkMigrationState: first.zkMigrationState, zkWriteBehindLag: lag, migratingZkBrokerCount: first.migratingZkBrokerCount, activeControllerCount: active ? 1 : (first.activeControllerCount ?? null) };
}

export interface MigrationReadings {
  brokers: NodeConfigSummary[];
  controllers: NodeConfigSummary[];
  znodes: MigrationZnodes;
  /** From the active KRaft controller; null when no controller runs (or none answered). */
  gauges: MigrationGauges | null;
}

export type BrokerMode = 'zookeeper' | 'migration' | 'kraft' | 'unknown';
export type ControllerMode = 'absent' | 'migration' | 'kraft' | 'unknown';

export function brokerMode(b: NodeConfigSummary): BrokerMode {
  if (!b.present) return 'unknown';
  if (b.processRoles === 'broker') return 'kraft';
  if (b.processRoles !== null) return 'unknown';
  return b.migrationFlag ? 'migration' : 'zookeeper';
}

export function controllerMode(c: NodeConfigSummary): ControllerMode {
  if (!c.present) return 'absent';
  if (c.processRoles !== 'controller') return c.processRoles === null ? 'absent' : 'unknown';
  return c.migrationFlag ? 'migration' : 'kraft';
}

/** A roll the cluster is half-way through: the hosts it has reached and those it has not. */
export interface RollInProgress {
  /** The state the roll leads to (forward); backing it out returns to the observed state. */
  toward: MigrationState;
  done: string[];
  pending: string[];
}

export type MigrationPhase = 'hybrid' | 'dual-write' | null;

export type MigrationObservation =
  | { ok: true; state: MigrationState; phase: MigrationPhase; inProgress: RollInProgress | null; finalizeStarted: boolean; gauges: MigrationGauges | null; notes: string[] }
  | { ok: false; disagreements: string[] };

const list = (hosts: NodeConfigSummary[]) => hosts.map((h) => h.host).join(', ');

/** See the module comment. */
export function observeMigrationState(r: MigrationReadings): MigrationObservation {
  const disagreements: string[] = [];
  const notes: string[] = [];
  const byBroker = groupBy(r.brokers, brokerMode);
  const byController = groupBy(r.controllers, controllerMode);
  const gauge = r.gauges?.zkMigrationState ?? null;
  const kraftOwnsController = (r.znodes.controller?.kraftControllerEpoch ?? -1) >= 0;

  if (r.brokers.length === 0) disagreements.push('no broker config was read');
  if (r.controllers.length === 0) disagreements.push('no controller host is named');
  for (const b of byBroker.unknown) disagreements.push(`broker ${b.host}: ${b.present ? `process.roles=${b.processRoles ?? ''} is not a broker-only role` : 'no server.properties'}`);
  for (const c of byController.unknown) disagreements.push(`controller ${c.host}: process.roles=${c.processRoles ?? ''} is not controller`);
  for (const b of [...byBroker.migration, ...byBroker.kraft]) if (!b.quorum || b.controllerListenerNames === null) disagreements.push(`broker ${b.host} is in ${brokerMode(b)} mode without the controller quorum settings`);
  if (disagreements.length > 0) return { ok: false, disagreements };

  const brokersIn = (...modes: BrokerMode[]) => r.brokers.every((b) => modes.includes(brokerMode(b)));
  const controllersIn = (...modes: ControllerMode[]) => r.controllers.every((c) => modes.includes(controllerMode(c)));
  const roll = (toward: MigrationState, done: NodeConfigSummary[], pending: NodeConfigSummary[]): RollInProgress | null =>
    done.length > 0 && pending.length > 0 ? { toward, done: done.map((h) => h.host), pending: pending.map((h) => h.host) } : null;
  const ok = (state: MigrationState, phase: MigrationPhase, inProgress: RollInProgress | null, finalizeStarted = false): MigrationObservation => ({ ok: true, state, phase, inProgress, finalizeStarted, gauges: r.gauges, notes });

  if (byBroker.zookeeper.length > 0 && byBroker.kraft.length > 0) {
    disagreements.push(`brokers ${list(byBroker.zookeeper)} are in ZooKeeper mode while ${list(byBroker.kraft)} run in KRaft mode: a broker cannot skip migration mode`);
  }
  if (byController.kraft.length > 0 && !brokersIn('kraft')) {
    disagreements.push(`controllers ${list(byController.kraft)} run without the migration flag (finalized) while brokers ${list(r.brokers.filter((b) => brokerMode(b) !== 'kraft'))} are not in KRaft mode`);
  }
  if (!brokersIn('zookeeper') && !controllersIn('migration', 'kraft')) {
    disagreements.push(`brokers ${list(r.brokers.filter((b) => brokerMode(b) !== 'zookeeper'))} left ZooKeeper mode but controllers ${list(byController.absent)} are not provisioned`);
  }
  if (disagreements.length > 0) return { ok: false, disagreements };

  // ZooKeeper, or controllers being provisioned.
  if (brokersIn('zookeeper') && !controllersIn('migration')) {
    if (byController.kraft.length > 0) return { ok: false, disagreements: [`controllers ${list(byController.kraft)} are configured as plain KRaft controllers (no migration flag) next to ZooKeeper-mode brokers`] };
    if (metadataCopied(r.znodes.migration)) disagreements.push('the /migration znode records a completed metadata copy although no controller is provisioned: an earlier migration left it; read it (get /migration) and delete it before migrating again');
    else if (r.znodes.migration !== null) notes.push('/migration exists without a metadata copy (left by controllers provisioned earlier): the migration starts afresh from it');
    if (kraftOwnsController) disagreements.push(`/controller is held by KRaft controller ${String(r.znodes.controller?.brokerid ?? '?')} although no controller is provisioned`);
    if (gauge !== null && gauge !== ZkMigrationGauge.ZK && gauge !== ZkMigrationGauge.PRE_MIGRATION) disagreements.push(`ZkMigrationState is ${gaugeName(gauge)} with no controller provisioned`);
    if (disagreements.length > 0) return { ok: false, disagreements };
    return ok(MigrationState.ZooKeeper, null, roll(MigrationState.ControllersProvisioned, byController.migration, byController.absent));
  }

  // Controllers provisioned; brokers untouched or part-way through roll 1.
  if (brokersIn('zookeeper', 'migration') && byBroker.migration.length < r.brokers.length) {
    if (gauge === ZkMigrationGauge.MIGRATION || gauge === ZkMigrationGauge.POST_MIGRATION) disagreements.push(`ZkMigrationState is ${gaugeName(gauge)} but brokers ${list(byBroker.zookeeper)} are not in migration mode yet`);
    if (metadataCopied(r.znodes.migration)) disagreements.push(`the /migration znode records a completed metadata copy but brokers ${list(byBroker.zookeeper)} are not in migration mode: an earlier attempt left it`);
    if (disagreements.length > 0) return { ok: false, disagreements };
    if (gauge === null) notes.push('no ZkMigrationState read: the controllers may not be running yet');
    return ok(MigrationState.ControllersProvisioned, null, roll(MigrationState.BrokersInMigrationMode, byBroker.migration, byBroker.zookeeper));
  }

  // Every broker in migration mode; maybe part-way through roll 2.
  if (brokersIn('migration', 'kraft') && byBroker.kraft.length < r.brokers.length) {
    if (!controllersIn('migration')) return { ok: false, disagreements: [`brokers are not all in KRaft mode but controllers ${list(byController.kraft)} run without the migration flag`] };
    if (gauge === ZkMigrationGauge.POST_MIGRATION || gauge === ZkMigrationGauge.NONE) disagreements.push(`brokers are in migration mode but ZkMigrationState is ${gaugeName(gauge)}`);
    if (gauge === ZkMigrationGauge.MIGRATION && !metadataCopied(r.znodes.migration)) disagreements.push('ZkMigrationState is MIGRATION but /migration records no metadata copy');
    if (byBroker.kraft.length > 0 && gauge !== ZkMigrationGauge.MIGRATION) disagreements.push(`brokers ${list(byBroker.kraft)} run in KRaft mode but ZkMigrationState is ${gaugeName(gauge)}: the metadata migration has not completed`);
    if (disagreements.length > 0) return { ok: false, disagreements };
    const phase: MigrationPhase = gauge === ZkMigrationGauge.MIGRATION ? 'dual-write' : 'hybrid';
    if (gauge === null) notes.push('no ZkMigrationState read from an active controller: whether the metadata migration completed is unknown');
    return ok(MigrationState.BrokersInMigrationMode, phase, roll(MigrationState.BrokersInKRaftMode, byBroker.kraft, byBroker.migration));
  }

  // Every broker in KRaft mode: dual-write, finalizing or finalized.
  if (gauge === ZkMigrationGauge.PRE_MIGRATION || gauge === ZkMigrationGauge.ZK || gauge === ZkMigrationGauge.NONE) {
    return { ok: false, disagreements: [`every broker runs in KRaft mode but ZkMigrationState is ${gaugeName(gauge)}`] };
  }
  if (controllersIn('kraft')) {
    if (gauge === ZkMigrationGauge.MIGRATION) return { ok: false, disagreements: ['every controller config is finalized but the active controller still reports ZkMigrationState MIGRATION: a controller was not restarted after its config changed'] };
    if (gauge === null) notes.push('no ZkMigrationState read: check POST_MIGRATION once a controller answers');
    return ok(MigrationState.Finalized, null, null, true);
  }
  const pending = byController.migration;
  const done = byController.kraft;
  if (gauge === ZkMigrationGauge.POST_MIGRATION) {
    notes.push(`the migration is finalized (POST_MIGRATION) but controllers ${list(pending)} still carry the migration flag`);
    return ok(MigrationState.Finalized, null, roll(MigrationState.Finalized, done, pending), true);
  }
  if (!metadataCopied(r.znodes.migration) && gauge === ZkMigrationGauge.MIGRATION) return { ok: false, disagreements: ['ZkMigrationState is MIGRATION but /migration records no metadata copy'] };
  if (gauge === null) notes.push('no ZkMigrationState read from an active controller');
  return ok(MigrationState.BrokersInKRaftMode, 'dual-write', roll(MigrationState.Finalized, done, pending), done.length > 0);
}

function groupBy<M extends string>(nodes: NodeConfigSummary[], mode: (n: NodeConfigSummary) => M): Record<M, NodeConfigSummary[]> & Record<string, NodeConfigSummary[]> {
  const out: Record<string, NodeConfigSummary[]> = { zookeeper: [], migration: [], kraft: [], absent: [], unknown: [] };
  for (const n of nodes) (out[mode(n)] ??= []).push(n);
  return out as Record<M, NodeConfigSummary[]> & Record<string, NodeConfigSummary[]>;
}
