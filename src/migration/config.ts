import { appendLines, type ConfigCarryOver, lineEnding, parseProperties, propertyValue, setProperty } from '../rolling/config';

/**
 * server.properties edits for each phase of the ZooKeeper-to-KRaft migration, as pure functions of the file's
 * text (the style of src/rolling/config.ts): every byte a rule does not touch stays as it was, each edit is
 * idempotent (a retry or a resumed run finds it done and changes nothing), and problems refuse the edit
 * with the file unchanged. Lines the KRaft roll removes are kept as marked comments, so a rollback restores
 * exactly what the broker ran in ZooKeeper mode, secrets included, without them leaving the host.
 */

export const MIGRATION_FLAG = 'zookeeper.metadata.migration.enable';
export const ACL_AUTHORIZER = 'kafka.security.authorizer.AclAuthorizer';
export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
/** Prefix of a line the KRaft roll commented out; the rollback uncomments it. */
export const SAVED_PREFIX = '#zk-mode# ';
const HEADER_MIGRATION = '# kafka-runbooks ZooKeeper-to-KRaft migration: migration mode (remove these to leave it)';
const HEADER_KRAFT = '# kafka-runbooks ZooKeeper-to-KRaft migration: KRaft mode; lines marked #zk-mode# are what ZooKeeper mode needs back on a rollback';

export interface ControllerEndpoint {
  nodeId: number;
  /** The address the controller listens on and the others reach it at. */
  address: string;
  port: number;
}

/** How every node finds the quorum. 'voters' (static, 3.4 to 3.9) or 'bootstrap-servers' (3.9, KIP-853). */
export type QuorumConfigStyle = 'voters' | 'bootstrap-servers';

export interface QuorumSpec {
  controllers: ControllerEndpoint[];
  style: QuorumConfigStyle;
  /** The controller listener's name, e.g. CONTROLLER. */
  listenerName: string;
  /** Its security protocol, e.g. PLAINTEXT. */
  securityProtocol: string;
}

/** The quorum setting as Kafka reads it: key and value. */
export function quorumSetting(q: QuorumSpec): { key: string; value: string } {
  if (q.style === 'voters') return { key: 'controller.quorum.voters', value: q.controllers.map((c) => `${c.nodeId}@${c.address}:${c.port}`).join(',') };
  return { key: 'controller.quorum.bootstrap.servers', value: q.controllers.map((c) => `${c.address}:${c.port}`).join(',') };
}

const QUORUM_KEYS = ['controller.quorum.voters', 'controller.quorum.bootstrap.servers'];

/** Removes every entry of `key` (Kafka reads the last; a stale earlier one must not surface later), with its line ending. */
export function removeProperty(text: string, key: string): string {
  const entries = parseProperties(text).filter((e) => e.key === key);
  let out = text;
  for (const e of [...entries].reverse()) {
    const eol = /^(\r\n|\r|\n)/.exec(out.slice(e.end))?.[0] ?? '';
    out = out.slice(0, e.start) + out.slice(e.end + eol.length);
  }
  return out;
}

/** Replaces each entry of `key` with the same text commented out under SAVED_PREFIX, in place. */
function saveAndRemove(text: string, key: string): string {
  const entries = parseProperties(text).filter((e) => e.key === key);
  let out = text;
  for (const e of [...entries].reverse()) {
    const original = out.slice(e.start, e.end);
    const saved = original
      .split(/\r\n|\r|\n/)
      .map((l) => SAVED_PREFIX + l)
      .join(lineEnding(text));
    out = out.slice(0, e.start) + saved + out.slice(e.end);
  }
  return out;
}

/** Uncomments every SAVED_PREFIX line. */
function restoreSaved(text: string): string {
  return text.replace(new RegExp(`^${SAVED_PREFIX.replace(/[#]/g, '\\#')}`, 'gm'), '');
}

function removeLine(text: string, line: string): string {
  const eol = lineEnding(text);
  return text.split(eol).includes(line) ? text.split(eol).filter((l) => l !== line).join(eol) : text;
}

function result(oldText: string, text: string, changes: string[], warnings: string[] = []): ConfigCarryOver {
  return text === oldText ? { text: oldText, changed: false, changes: [], warnings, problems: [] } : { text, changed: true, changes, warnings, problems: [] };
}

function refused(oldText: string, problems: string[]): ConfigCarryOver {
  return { text: oldText, changed: false, changes: [], warnings: [], problems };
}

/** Keys whose name starts with `zookeeper.` (connect, TLS, SASL, timeouts), the migration flag excepted. */
function zookeeperKeys(text: string): string[] {
  return [...new Set(parseProperties(text).map((e) => e.key))].filter((k) => k.startsWith('zookeeper.') && k !== MIGRATION_FLAG);
}

/** listener.security.protocol.map with `NAME:PROTOCOL` added when the name is absent. */
function withProtocolMapEntry(map: string | null, name: string, protocol: string): string {
  const entries = (map ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (entries.some((e) => e.split(':')[0]?.trim() === name)) return entries.join(',');
  return [...entries, `${name}:${protocol}`].join(',');
}

/**
 * Cluster-wide defaults that the brokers apply in ZooKeeper mode but the active controller applies in KRaft:
 * the partitions and replication factor of a topic created without them, unclean leader election, and the
 * cluster's min.insync.replicas (with eligible leader replicas, 4.x writes the controller's value as the
 * cluster default). A controller without the brokers' values silently brings Kafka's defaults: on the lab,
 * the upgrade to 4.3.1 after the migration turned every topic's min.insync.replicas from 2 to 1.
 */
const CONTROLLER_DECIDED_DEFAULTS = ['num.partitions', 'default.replication.factor', 'min.insync.replicas', 'unclean.leader.election.enable'];

/**
 * The config of a new KRaft controller ready for the migration: process.roles=controller, its node.id, the
 * quorum, the controller listener, the migration flag and every `zookeeper.*` setting of a broker (connect,
 * TLS, SASL), the brokers' inter-broker listener name so the controller can send them RPCs, and the
 * brokers' topic defaults the controller decides on in KRaft (CONTROLLER_DECIDED_DEFAULTS). The brokers'
 * settings come from `brokerText` (one broker's server.properties) on the worker; the result never leaves it.
 */
export function renderControllerConfig(args: { nodeId: number; address: string; metadataDir: string; quorum: QuorumSpec; brokerText: string }): ConfigCarryOver {
  const { nodeId, address, metadataDir, quorum, brokerText } = args;
  const problems: string[] = [];
  const zkConnect = propertyValue(brokerText, 'zookeeper.connect');
  if (!zkConnect) problems.push('the broker config has no zookeeper.connect to copy: is this a ZooKeeper-mode broker?');
  const me = quorum.controllers.find((c) => c.nodeId === nodeId);
  if (!me) problems.push(`node.id ${nodeId} is not one of the quorum's controllers (${quorum.controllers.map((c) => c.nodeId).join(', ')})`);
  // Also guards the inventory's data dir used by default: a newline, comma or space would add settings or dirs.
  if (!/^\/[A-Za-z0-9._/-]+$/.test(metadataDir)) problems.push(`metadata dir ${JSON.stringify(metadataDir.slice(0, 200))} must be an absolute path of letters, digits, ".", "_", "-" and "/" only`);
  if (problems.length > 0) return refused('', problems);
  const port = (me as ControllerEndpoint).port;
  const q = quorumSetting(quorum);
  const brokerMap = propertyValue(brokerText, 'listener.security.protocol.map');
  const interBroker = propertyValue(brokerText, 'inter.broker.listener.name') ?? (brokerMap === null ? 'PLAINTEXT' : null);
  const lines = [
    `# KRaft controller ${nodeId} for the ZooKeeper-to-KRaft migration; written by kafka-runbooks.`,
    'process.roles=controller',
    `node.id=${nodeId}`,
    `${q.key}=${q.value}`,
    `controller.listener.names=${quorum.listenerName}`,
    `listeners=${quorum.listenerName}://${address}:${port}`,
    `listener.security.protocol.map=${withProtocolMapEntry(brokerMap, quorum.listenerName, quorum.securityProtocol)}`,
    `log.dirs=${metadataDir}`,
    ...(interBroker ? [`inter.broker.listener.name=${interBroker}`] : []),
    `${MIGRATION_FLAG}=true`,
    ...zookeeperKeys(brokerText).map((k) => `${k}=${propertyValue(brokerText, k) ?? ''}`),
    ...CONTROLLER_DECIDED_DEFAULTS.flatMap((k) => {
      const v = propertyValue(brokerText, k);
      return v === null ? [] : [`${k}=${v}`];
    }),
  ];
  const eol = lineEnding(brokerText);
  return { text: lines.join(eol) + eol, changed: true, changes: [`controller ${nodeId} config for the migration (quorum ${q.key}=${q.value})`], warnings: [], problems: [] };
}

/**
 * Rolling restart 1, one broker: the migration flag, the controller quorum, controller.listener.names and the
 * controller listener in listener.security.protocol.map. Refused without an explicit broker.id (a generated id
 * cannot be carried over to node.id) and on a broker already in KRaft mode.
 */
export function enterMigrationMode(oldText: string, quorum: QuorumSpec): ConfigCarryOver {
  const problems: string[] = [];
  if (propertyValue(oldText, 'process.roles') !== null) problems.push('process.roles is set: this broker already runs in KRaft mode');
  const brokerId = propertyValue(oldText, 'broker.id');
  if (brokerId === null || !/^\d+$/.test(brokerId)) problems.push(`broker.id must be set explicitly to a non-negative id before the migration (found ${brokerId ?? 'none'})`);
  if (propertyValue(oldText, 'zookeeper.connect') === null) problems.push('zookeeper.connect is not set: not a ZooKeeper-mode broker');
  if (problems.length > 0) return refused(oldText, problems);
  const q = quorumSetting(quorum);
  const map = withProtocolMapEntry(propertyValue(oldText, 'listener.security.protocol.map') ?? 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL', quorum.listenerName, quorum.securityProtocol);
  const wanted: [string, string][] = [
    [MIGRATION_FLAG, 'true'],
    [q.key, q.value],
    ['controller.listener.names', quorum.listenerName],
    ['listener.security.protocol.map', map],
  ];
  const changes: string[] = [];
  let text = oldText;
  for (const other of QUORUM_KEYS.filter((k) => k !== q.key)) {
    if (propertyValue(text, other) !== null) {
      text = removeProperty(text, other);
      changes.push(`removed ${other} (the quorum is given by ${q.key})`);
    }
  }
  const toAppend: string[] = [];
  for (const [key, value] of wanted) {
    const current = propertyValue(text, key);
    if (current === value) continue;
    if (current === null && key !== 'listener.security.protocol.map') toAppend.push(`${key}=${value}`);
    else text = setProperty(text, key, value);
    changes.push(`${key}=${value}`);
  }
  if (toAppend.length > 0) text = appendLines(text, [HEADER_MIGRATION, ...toAppend]);
  return result(oldText, text, changes);
}

/**
 * Rolling restart 2, one broker: node.id = broker.id, process.roles=broker; inter.broker.protocol.version,
 * the migration flag, every zookeeper.* setting and control.plane.listener.name go (kept as #zk-mode#
 * comments for a rollback); AclAuthorizer becomes StandardAuthorizer. The quorum settings stay.
 */
export function enterKRaftMode(oldText: string): ConfigCarryOver {
  if (propertyValue(oldText, 'process.roles') === 'broker') return result(oldText, oldText, []);
  const problems: string[] = [];
  const brokerId = propertyValue(oldText, 'broker.id');
  if (propertyValue(oldText, MIGRATION_FLAG) !== 'true') problems.push(`${MIGRATION_FLAG}=true is not set: the broker must be in migration mode before it moves to KRaft mode`);
  if (brokerId === null || !/^\d+$/.test(brokerId)) problems.push(`broker.id must be set explicitly (found ${brokerId ?? 'none'})`);
  if (propertyValue(oldText, 'controller.listener.names') === null || !QUORUM_KEYS.some((k) => propertyValue(oldText, k) !== null)) problems.push('the controller quorum settings are missing');
  if (problems.length > 0) return refused(oldText, problems);
  let text = oldText;
  const changes: string[] = [];
  const drop = ['broker.id', 'inter.broker.protocol.version', MIGRATION_FLAG, 'control.plane.listener.name', 'broker.id.generation.enable', ...zookeeperKeys(oldText)];
  for (const key of drop) {
    if (propertyValue(text, key) === null) continue;
    text = saveAndRemove(text, key);
    changes.push(`removed ${key}`);
  }
  const authorizer = propertyValue(text, 'authorizer.class.name');
  if (authorizer === ACL_AUTHORIZER) {
    text = saveAndRemove(text, 'authorizer.class.name');
    changes.push(`authorizer.class.name ${ACL_AUTHORIZER} -> ${STANDARD_AUTHORIZER}`);
  }
  const add = [`process.roles=broker`, `node.id=${brokerId as string}`, ...(authorizer === ACL_AUTHORIZER ? [`authorizer.class.name=${STANDARD_AUTHORIZER}`] : [])];
  changes.push('process.roles=broker', `node.id=${brokerId as string}`);
  text = appendLines(text, [HEADER_KRAFT, ...add]);
  return result(oldText, text, changes);
}

/**
 * Rollback, first roll from KRaft mode: the broker back to ZooKeeper mode WITH the migration flag (Kafka: do
 * not drop the flag until the second roll). Uncomments the #zk-mode# lines the KRaft roll kept; a broker moved
 * by hand has none, so its broker.id comes from node.id and zookeeper.connect from `zookeeperConnect`.
 */
export function backToMigrationMode(oldText: string, zookeeperConnect: string | null): ConfigCarryOver {
  const roles = propertyValue(oldText, 'process.roles');
  if (roles === null) return result(oldText, oldText, []);
  if (roles !== 'broker') return refused(oldText, [`process.roles=${roles}: only a KRaft broker (process.roles=broker) goes back to ZooKeeper mode`]);
  const nodeId = propertyValue(oldText, 'node.id');
  let text = removeLine(removeProperty(removeProperty(oldText, 'process.roles'), 'node.id'), HEADER_KRAFT);
  if (propertyValue(text, 'authorizer.class.name') === STANDARD_AUTHORIZER && text.includes(`${SAVED_PREFIX}authorizer.class.name`)) text = removeProperty(text, 'authorizer.class.name');
  text = restoreSaved(text);
  const changes = ['removed process.roles', 'restored the ZooKeeper-mode settings'];
  if (propertyValue(text, 'broker.id') === null) {
    if (nodeId === null) return refused(oldText, ['neither broker.id nor node.id is set']);
    text = appendLines(text, [`broker.id=${nodeId}`]);
    changes.push(`broker.id=${nodeId}`);
  }
  if (propertyValue(text, 'zookeeper.connect') === null) {
    if (!zookeeperConnect) return refused(oldText, ['no zookeeper.connect to restore: the file kept none and the inventory names no zookeeperConnect']);
    text = appendLines(text, [`zookeeper.connect=${zookeeperConnect}`]);
    changes.push(`zookeeper.connect=${zookeeperConnect}`);
  }
  if (propertyValue(text, MIGRATION_FLAG) !== 'true') text = setProperty(text, MIGRATION_FLAG, 'true');
  return result(oldText, text, changes);
}

/**
 * Rollback, last roll: out of migration mode. Removes the migration flag, controller.listener.names, the quorum
 * settings and the controller listener's protocol map entry the first roll added. Refused on a KRaft broker.
 */
export function leaveMigrationMode(oldText: string, controllerListenerName: string): ConfigCarryOver {
  if (propertyValue(oldText, 'process.roles') !== null) return refused(oldText, ['process.roles is set: roll this broker back to ZooKeeper mode first (backToMigrationMode)']);
  let text = oldText;
  const changes: string[] = [];
  for (const key of [MIGRATION_FLAG, 'controller.listener.names', ...QUORUM_KEYS]) {
    if (propertyValue(text, key) === null) continue;
    text = removeProperty(text, key);
    changes.push(`removed ${key}`);
  }
  const map = propertyValue(text, 'listener.security.protocol.map');
  if (map !== null) {
    const kept = map.split(',').map((s) => s.trim()).filter((e) => e.length > 0 && e.split(':')[0]?.trim() !== controllerListenerName);
    if (kept.join(',') !== map.split(',').map((s) => s.trim()).join(',')) {
      text = setProperty(text, 'listener.security.protocol.map', kept.join(','));
      changes.push(`removed ${controllerListenerName} from listener.security.protocol.map`);
    }
  }
  text = removeLine(text, HEADER_MIGRATION);
  return result(oldText, text, changes);
}

/** Finalize, one controller: the migration flag and every zookeeper.* setting removed. Point of no return. */
export function finalizeController(oldText: string): ConfigCarryOver {
  if (propertyValue(oldText, 'process.roles') !== 'controller') return refused(oldText, [`process.roles=${propertyValue(oldText, 'process.roles') ?? '(unset)'}: not a KRaft controller`]);
  let text = oldText;
  const changes: string[] = [];
  for (const key of [MIGRATION_FLAG, ...zookeeperKeys(oldText)]) {
    if (propertyValue(text, key) === null) continue;
    text = removeProperty(text, key);
    changes.push(`removed ${key}`);
  }
  return result(oldText, text, changes);
}

/** Which edit a broker or controller roll applies; the worker maps it to the function above. */
export type MigrationConfigEdit =
  | { kind: 'enter-migration-mode'; quorum: QuorumSpec }
  | { kind: 'enter-kraft-mode' }
  | { kind: 'back-to-migration-mode' }
  | { kind: 'leave-migration-mode'; controllerListenerName: string }
  | { kind: 'finalize-controller' };

/** Applies one edit; `zookeeperConnect` is the inventory's, for brokers moved to KRaft by hand. */
export function applyMigrationEdit(text: string, edit: MigrationConfigEdit, zookeeperConnect: string | null): ConfigCarryOver {
  switch (edit.kind) {
    case 'enter-migration-mode':
      return enterMigrationMode(text, edit.quorum);
    case 'enter-kraft-mode':
      return enterKRaftMode(text);
    case 'back-to-migration-mode':
      return backToMigrationMode(text, zookeeperConnect);
    case 'leave-migration-mode':
      return leaveMigrationMode(text, edit.controllerListenerName);
    case 'finalize-controller':
      return finalizeController(text);
  }
}
