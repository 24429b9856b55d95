/**
 * Parsers for what Kafka's `zookeeper-shell.sh` prints about the znodes the ZooKeeper-to-KRaft migration
 * reads: /cluster/id, /controller, /migration and /brokers/ids. Pure; the shapes were recorded on a 3.9.2
 * lab (test/fixtures/migration/). Workflow-safe.
 */

/** `get -s <path>` output: the znode's data and stat, or that it does not exist. */
export type ZkGetResult = { exists: true; data: string; stat: Record<string, string> } | { exists: false };

/** The /migration znode (Kafka's ZkMigrationLeadershipState, stored in snake_case). */
// Type aliases (not interfaces) so a reading is assignable to the workflow's index-signature znode types.
export type MigrationZnodeReading = {
  raw: string;
  kraftControllerId?: number;
  kraftControllerEpoch?: number;
  kraftMetadataOffset?: number;
  kraftMetadataEpoch?: number;
};

/** The /controller znode: a ZooKeeper-mode broker id, or a KRaft controller id once kraftControllerEpoch >= 0. */
export type ControllerZnodeReading = {
  raw: string;
  brokerid: number;
  kraftControllerEpoch?: number;
};

export interface MigrationZnodeReadings {
  clusterId: string;
  migration: MigrationZnodeReading | null;
  controller: ControllerZnodeReading | null;
  brokerIds: number[];
}

/** The shell's output could not be read as the answer to the command: the message says what was seen. */
export class ZkShellOutputError extends Error {
  override name = 'ZkShellOutputError';
}

const STAT_LINE = /^(cZxid|ctime|mZxid|mtime|pZxid|cversion|dataVersion|aclVersion|ephemeralOwner|dataLength|numChildren) = (.*)$/;
const MISSING = /^Node does not exist: (\S+)/m;

const excerpt = (text: string): string => text.trim().split('\n').slice(-3).join(' | ').slice(0, 300);

/**
 * Reads `zookeeper-shell.sh <connect> get -s <path>` output (stdout and stderr together). The data is the
 * line just before the first stat line (`cZxid = ...`); a missing znode prints `Node does not exist: <path>`.
 */
export function parseZkGet(text: string, path: string): ZkGetResult {
  const missing = MISSING.exec(text);
  if (missing) {
    if (missing[1] !== path) throw new ZkShellOutputError(`zookeeper-shell answered for ${missing[1]}, not ${path}`);
    return { exists: false };
  }
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const first = lines.findIndex((l) => l.startsWith('cZxid = '));
  if (first < 1) throw new ZkShellOutputError(`no znode data or stat for ${path} in zookeeper-shell output: ${excerpt(text)}`);
  const stat: Record<string, string> = {};
  for (const l of lines.slice(first)) {
    const m = STAT_LINE.exec(l);
    if (m) stat[m[1] as string] = m[2] as string;
  }
  if (stat.numChildren === undefined) throw new ZkShellOutputError(`incomplete stat for ${path} in zookeeper-shell output: ${excerpt(text)}`);
  return { exists: true, data: lines[first - 1] as string, stat };
}

/** Reads `zookeeper-shell.sh <connect> ls <path>` output: the last `[a, b, c]` line. A missing path is refused. */
export function parseZkLs(text: string, path: string): string[] {
  if (MISSING.test(text)) throw new ZkShellOutputError(`${path} does not exist in ZooKeeper`);
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^\[.*\]$/.test(l))
    .pop();
  if (line === undefined) throw new ZkShellOutputError(`no child list for ${path} in zookeeper-shell output: ${excerpt(text)}`);
  const inner = line.slice(1, -1).trim();
  return inner === '' ? [] : inner.split(',').map((s) => s.trim());
}

function jsonObject(data: string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new ZkShellOutputError(`${path} does not hold JSON: ${data.slice(0, 200)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ZkShellOutputError(`${path} does not hold a JSON object: ${data.slice(0, 200)}`);
  return value as Record<string, unknown>;
}

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

/** /cluster/id: `{"version":"1","id":"<22 chars>"}`. */
export function parseClusterIdZnode(data: string): string {
  const id = jsonObject(data, '/cluster/id').id;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(id)) throw new ZkShellOutputError(`/cluster/id holds no Kafka cluster id: ${data.slice(0, 200)}`);
  return id;
}

/** /migration: `{"version":0,"kraft_metadata_offset":256,"kraft_controller_id":53,"kraft_metadata_epoch":2,"kraft_controller_epoch":2}`. */
export function parseMigrationZnode(data: string): MigrationZnodeReading {
  const o = jsonObject(data, '/migration');
  const reading: MigrationZnodeReading = { raw: data };
  const fields: [keyof Omit<MigrationZnodeReading, 'raw'>, string][] = [
    ['kraftControllerId', 'kraft_controller_id'],
    ['kraftControllerEpoch', 'kraft_controller_epoch'],
    ['kraftMetadataOffset', 'kraft_metadata_offset'],
    ['kraftMetadataEpoch', 'kraft_metadata_epoch'],
  ];
  for (const [field, key] of fields) {
    const v = int(o[key]);
    if (v !== undefined) reading[field] = v;
  }
  return reading;
}

/** /controller: `{"version":2,"brokerid":53,"timestamp":"...","kraftControllerEpoch":2}` (epoch -1: a ZooKeeper-mode broker). */
export function parseControllerZnode(data: string): ControllerZnodeReading {
  const o = jsonObject(data, '/controller');
  const brokerid = int(o.brokerid);
  if (brokerid === undefined) throw new ZkShellOutputError(`/controller names no brokerid: ${data.slice(0, 200)}`);
  const epoch = int(o.kraftControllerEpoch);
  return { raw: data, brokerid, ...(epoch === undefined ? {} : { kraftControllerEpoch: epoch }) };
}

/** Whether /controller is held by a KRaft controller (the migration's), not a ZooKeeper-mode broker. */
export const heldByKRaftController = (c: ControllerZnodeReading): boolean => (c.kraftControllerEpoch ?? -1) >= 0;

/** /controller_epoch: a bare integer, the epoch of the last ZooKeeper-side controller claim. */
export function parseControllerEpochZnode(data: string): number {
  const t = data.trim();
  if (!/^\d+$/.test(t)) throw new ZkShellOutputError(`/controller_epoch holds no epoch: ${data.slice(0, 200)}`);
  return Number(t);
}

/**
 * The /controller_epoch a rollback must set before it deletes /controller, or null when it is high enough.
 * In dual-write the KRaft controller writes every partition state with ITS epoch (the kraft controller epoch
 * in /controller and /migration), which can exceed /controller_epoch. A ZooKeeper-mode controller elected
 * after the rollback takes /controller_epoch + 1 and aborts every election on a partition whose state holds a
 * higher epoch, so partitions led by a stopped broker stay offline (recorded: errors/rollback-controller-epoch/).
 */
export function controllerEpochForRollback(current: number, kraftEpochs: (number | undefined)[]): number | null {
  const needed = Math.max(-1, ...kraftEpochs.filter((e): e is number => e !== undefined));
  return needed > current ? needed : null;
}

/**
 * The output of one SSH command that ran several zookeeper-shell commands, each framed by
 * `=== BEGIN <name>` and `=== END <name> <exit code>` lines (see activities/zookeeper.ts).
 */
export function splitZkSession(stdout: string): Map<string, { text: string; exitCode: number }> {
  const out = new Map<string, { text: string; exitCode: number }>();
  const re = /^=== BEGIN (\S+)\n([\s\S]*?)^=== END \1 (\d+)$/gm;
  for (const m of stdout.matchAll(re)) out.set(m[1] as string, { text: m[2] as string, exitCode: Number(m[3]) });
  return out;
}

/** Every znode the migration reads, from one framed session (names: cluster-id, controller, migration, broker-ids). */
export function parseMigrationZnodeSession(stdout: string): MigrationZnodeReadings {
  const parts = splitZkSession(stdout);
  const part = (name: string) => {
    const p = parts.get(name);
    if (!p) throw new ZkShellOutputError(`zookeeper-shell printed nothing for ${name}: ${excerpt(stdout)}`);
    if (p.exitCode === 124 || p.exitCode === 137) throw new ZkShellOutputError(`zookeeper-shell did not answer for ${name} in time (ZooKeeper unreachable?)`);
    return p.text;
  };
  const clusterIdNode = parseZkGet(part('cluster-id'), '/cluster/id');
  if (!clusterIdNode.exists) throw new ZkShellOutputError('/cluster/id does not exist: this ZooKeeper holds no Kafka cluster (wrong zookeeperConnect or chroot?)');
  const controller = parseZkGet(part('controller'), '/controller');
  const migration = parseZkGet(part('migration'), '/migration');
  const ids = parseZkLs(part('broker-ids'), '/brokers/ids').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n)) throw new ZkShellOutputError(`/brokers/ids has a child that is not a broker id: ${s}`);
    return n;
  });
  return {
    clusterId: parseClusterIdZnode(clusterIdNode.data),
    controller: controller.exists ? parseControllerZnode(controller.data) : null,
    migration: migration.exists ? parseMigrationZnode(migration.data) : null,
    brokerIds: ids.sort((a, b) => a - b),
  };
}
