import { type HostRole } from '../inventory/schema';
import { type HostKind, type HostPaths, type SshPaths } from './paths';

/**
 * What a lab cluster looks like: hosts, addresses, node ids, broker configs and the inventory describing it.
 * Pure: no I/O here, so the same plan can be checked without starting anything.
 */

export const LAB_SSH_PORT = 2222;
export const KAFKA_PORT = 9092;
export const CONTROLLER_PORT = 9093;
export const ZOOKEEPER_PORT = 2181;
/** Separate controllers live at 127.0.S.(50+i) with node id 50+i; brokers at 127.0.S.i with node id i. */
export const CONTROLLER_ID_BASE = 50;
export const ZOOKEEPER_HOST_OCTET = 100;
export const LAST_ZOOKEEPER_VERSION_LINE = 3;

export const labModes = ['kraft', 'zookeeper'] as const;
export type LabMode = (typeof labModes)[number];

export interface LabSpec {
  name: string;
  mode: LabMode;
  brokers: number;
  /** 'combined': every broker is also a controller; a number: that many controller-only hosts. */
  controllers: 'combined' | number;
  version: string;
  racks: number;
  subnet: number;
  /** Zookeeper mode: controller-only hosts provisioned (sshd, installs) but left unconfigured and stopped, for the migration runbook. */
  migrationControllers?: number;
}

export interface LabSpecInput {
  name?: string;
  mode?: string;
  brokers?: number;
  controllers?: 'combined' | number | string;
  version?: string;
  racks?: number;
  subnet?: number;
  migrationControllers?: number;
}

export const DEFAULT_KRAFT_VERSION = '4.3.1';
export const DEFAULT_ZOOKEEPER_VERSION = '3.9.2';

/** Thrown for a lab request that cannot be built; the message says what to change. */
export class LabSpecError extends Error {
  override name = 'LabSpecError';
}

export function resolveLabSpec(input: LabSpecInput): LabSpec {
  const problems: string[] = [];
  const name = input.name ?? 'lab';
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) problems.push(`--name "${name}": lowercase letters, digits, ".", "_" or "-"`);
  const mode = (input.mode ?? 'kraft') as LabMode;
  if (!labModes.includes(mode)) problems.push(`--mode "${input.mode}": must be kraft or zookeeper`);
  const brokers = input.brokers ?? 3;
  if (!Number.isInteger(brokers) || brokers < 1 || brokers >= CONTROLLER_ID_BASE) problems.push(`--brokers ${brokers}: must be 1 to ${CONTROLLER_ID_BASE - 1}`);
  let controllers: 'combined' | number = 'combined';
  if (input.controllers !== undefined && input.controllers !== 'combined') {
    controllers = Number(input.controllers);
    if (!Number.isInteger(controllers) || controllers < 1 || controllers > 9) problems.push(`--controllers ${input.controllers}: must be "combined" or 1 to 9`);
  }
  if (mode === 'zookeeper' && input.controllers !== undefined && input.controllers !== 'combined') {
    problems.push('--controllers: zookeeper mode has no KRaft controllers (the migration runbook adds them)');
  }
  const version = input.version ?? (mode === 'zookeeper' ? DEFAULT_ZOOKEEPER_VERSION : DEFAULT_KRAFT_VERSION);
  if (!/^\d+\.\d+\.\d+$/.test(version)) problems.push(`--version "${version}": must look like 3.9.2`);
  else if (mode === 'zookeeper' && Number(version.split('.')[0]) > LAST_ZOOKEEPER_VERSION_LINE) {
    problems.push(`--version ${version}: Kafka 4.x runs only in KRaft mode; zookeeper mode needs a 3.x version such as ${DEFAULT_ZOOKEEPER_VERSION}`);
  }
  const racks = input.racks ?? 0;
  if (!Number.isInteger(racks) || racks < 0) problems.push(`--racks ${racks}: must be 0 or more`);
  const subnet = input.subnet ?? 1;
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) problems.push(`--subnet ${subnet}: must be 0 to 255 (addresses 127.0.S.x)`);
  const migrationControllers = input.migrationControllers ?? 0;
  if (!Number.isInteger(migrationControllers) || migrationControllers < 0 || migrationControllers > 9) problems.push(`--migration-controllers ${migrationControllers}: must be 0 to 9`);
  else if (migrationControllers > 0 && mode !== 'zookeeper') problems.push('--migration-controllers: only a zookeeper-mode lab has hosts waiting to become controllers (kraft mode: --controllers)');
  if (problems.length > 0) throw new LabSpecError(`cannot build lab "${name}":\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return { name, mode, brokers, controllers, version, racks, subnet, ...(migrationControllers > 0 ? { migrationControllers } : {}) };
}

export interface LabHostPlan {
  name: string;
  address: string;
  kind: HostKind;
  roles: HostRole[];
  nodeId: number | null;
  rack: string | null;
}

export const hostAddress = (subnet: number, octet: number): string => `127.0.${subnet}.${octet}`;
export const brokerHostName = (nodeId: number): string => `kafka-${nodeId}`;
export const rackFor = (brokerIndex: number, racks: number): string | null => (racks > 0 ? `rack-${brokerIndex % racks}` : null);

export function brokerHostPlan(spec: Pick<LabSpec, 'subnet' | 'racks' | 'controllers' | 'mode'>, nodeId: number, rack?: string | null): LabHostPlan {
  const combined = spec.mode === 'kraft' && spec.controllers === 'combined';
  return {
    name: brokerHostName(nodeId),
    address: hostAddress(spec.subnet, nodeId),
    kind: 'kafka',
    roles: combined ? ['broker', 'controller'] : ['broker'],
    nodeId,
    rack: rack === undefined ? rackFor(nodeId - 1, spec.racks) : rack,
  };
}

export function planLabHosts(spec: LabSpec): LabHostPlan[] {
  const hosts: LabHostPlan[] = [];
  if (spec.mode === 'zookeeper') {
    hosts.push({ name: 'zookeeper', address: hostAddress(spec.subnet, ZOOKEEPER_HOST_OCTET), kind: 'zookeeper', roles: ['zookeeper'], nodeId: null, rack: null });
  }
  const controllerHosts = typeof spec.controllers === 'number' ? spec.controllers : (spec.migrationControllers ?? 0);
  if (controllerHosts > 0) {
    for (let i = 1; i <= controllerHosts; i++) {
      const nodeId = CONTROLLER_ID_BASE + i;
      hosts.push({ name: `controller-${nodeId}`, address: hostAddress(spec.subnet, nodeId), kind: 'kafka', roles: ['controller'], nodeId, rack: null });
    }
  }
  for (let i = 1; i <= spec.brokers; i++) hosts.push(brokerHostPlan(spec, i));
  return hosts;
}

export const isBroker = (h: { roles: HostRole[] }): boolean => h.roles.includes('broker');
export const isController = (h: { roles: HostRole[] }): boolean => h.roles.includes('controller');

export function quorumVoters(hosts: LabHostPlan[]): string {
  return hosts
    .filter(isController)
    .map((h) => `${h.nodeId}@${h.address}:${CONTROLLER_PORT}`)
    .join(',');
}

export const bootstrapServers = (hosts: LabHostPlan[]): string[] => hosts.filter(isBroker).map((h) => `${h.address}:${KAFKA_PORT}`);

function properties(entries: [string, string | number | null | undefined][]): string {
  return entries
    .filter((e): e is [string, string | number] => e[1] !== null && e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/** Settings that keep a several-node cluster small enough for a 2-core machine; none changes semantics. */
const smallFootprint: [string, string | number][] = [
  ['num.network.threads', 2],
  ['num.io.threads', 2],
  ['num.replica.fetchers', 1],
  ['num.recovery.threads.per.data.dir', 1],
  ['background.threads', 4],
  ['log.cleaner.threads', 1],
  ['log.cleaner.dedupe.buffer.size', 16 * 1024 * 1024],
  ['log.segment.bytes', 8 * 1024 * 1024],
  ['log.retention.check.interval.ms', 60000],
  ['offsets.topic.num.partitions', 10],
  ['transaction.state.log.num.partitions', 10],
];

export interface KafkaConfigInput {
  spec: Pick<LabSpec, 'mode' | 'version'>;
  host: LabHostPlan;
  /** Every host of the cluster (for the quorum voters and the replication factors). */
  cluster: LabHostPlan[];
  paths: Pick<HostPaths, 'dataDir'>;
  zookeeperConnect: string | null;
}

/** server.properties for a broker, a controller or a combined node. */
export function renderKafkaConfig({ spec, host, cluster, paths, zookeeperConnect }: KafkaConfigInput): string {
  const brokerCount = cluster.filter(isBroker).length;
  const rf = Math.min(3, brokerCount);
  const minIsr = brokerCount >= 3 ? 2 : 1;
  const broker = isBroker(host);
  const controller = isController(host);
  const major = Number(spec.version.split('.')[0]);
  const listeners = [broker ? `PLAINTEXT://${host.address}:${KAFKA_PORT}` : null, controller ? `CONTROLLER://${host.address}:${CONTROLLER_PORT}` : null]
    .filter(Boolean)
    .join(',');
  const header = `# ${host.name} (${host.roles.join(', ')}) of a kafka-runbooks lab cluster; generated by src/lab.`;
  const identity: [string, string | number | null][] =
    spec.mode === 'zookeeper'
      ? [
          ['broker.id', host.nodeId],
          ['zookeeper.connect', zookeeperConnect],
          ['zookeeper.connection.timeout.ms', 18000],
        ]
      : [
          ['process.roles', host.roles.filter((r) => r !== 'zookeeper').join(',')],
          ['node.id', host.nodeId],
          ['controller.quorum.voters', quorumVoters(cluster)],
          ['controller.listener.names', 'CONTROLLER'],
        ];
  const brokerSettings: [string, string | number | null][] = broker
    ? [
        ['advertised.listeners', `PLAINTEXT://${host.address}:${KAFKA_PORT}`],
        ['inter.broker.listener.name', 'PLAINTEXT'],
        ['broker.rack', host.rack],
        ['num.partitions', 3],
        ['default.replication.factor', rf],
        ['min.insync.replicas', minIsr],
        ['offsets.topic.replication.factor', rf],
        ['transaction.state.log.replication.factor', rf],
        ['transaction.state.log.min.isr', minIsr],
        ['share.coordinator.state.topic.replication.factor', major >= 4 ? rf : null],
        ['share.coordinator.state.topic.min.isr', major >= 4 ? minIsr : null],
        ['group.initial.rebalance.delay.ms', 0],
      ]
    : [];
  return [
    header,
    properties(identity),
    properties([
      ['listeners', listeners],
      ['listener.security.protocol.map', spec.mode === 'zookeeper' ? 'PLAINTEXT:PLAINTEXT' : 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT'],
    ]),
    properties(brokerSettings),
    properties([['log.dirs', paths.dataDir], ...smallFootprint]),
    '',
  ].join('\n');
}

export function renderZookeeperConfig(host: LabHostPlan, paths: Pick<HostPaths, 'dataDir'>): string {
  return [
    `# ${host.name}: standalone ZooKeeper of a kafka-runbooks lab cluster; generated by src/lab.`,
    properties([
      ['dataDir', paths.dataDir],
      ['clientPort', ZOOKEEPER_PORT],
      ['clientPortAddress', host.address],
      ['maxClientCnxns', 0],
      ['admin.enableServer', 'false'],
      ['4lw.commands.whitelist', 'ruok,srvr,stat,mntr'],
      ['tickTime', 2000],
      ['initLimit', 10],
      ['syncLimit', 5],
    ]),
    '',
  ].join('\n');
}

/**
 * Command templates the inventory declares for lab hosts; the runbook engine renders them with
 * renderCommand and runs them over SSH, and so does the lab itself. Per-host paths come in as env: the pid
 * file, the log dir (the wrappers point log4j at it) and a heap small enough for several nodes per machine.
 */
export const labKafkaCommands = {
  start: "KAFKA_PID_FILE={{pidFile}} LOG_DIR={{logDir}} KAFKA_HEAP_OPTS='-Xmx512m -Xms256m' {{kafkaHome}}/bin/kafka-server-start.sh -daemon {{configFile}}",
  stop: 'KAFKA_PID_FILE={{pidFile}} {{kafkaHome}}/bin/kafka-server-stop.sh',
  status: 'KAFKA_PID_FILE={{pidFile}} {{kafkaHome}}/bin/kafka-server-status.sh',
  kill: 'KAFKA_PID_FILE={{pidFile}} {{kafkaHome}}/bin/kafka-server-stop.sh --signal KILL',
  tool: '{{kafkaHome}}/bin/{{tool}}',
} as const;

/** JMX port of the lab's controller hosts, bound to the host's own address (Kafka's JmxTool reads it there over SSH). */
export const LAB_JMX_PORT = 9999;

/** The start template of a controller host waiting in a zookeeper-mode lab: as labKafkaCommands.start, with JMX on its address. */
export function labControllerStartCommand(address: string): string {
  const jmx = [
    '-Dcom.sun.management.jmxremote',
    `-Dcom.sun.management.jmxremote.port=${LAB_JMX_PORT}`,
    `-Dcom.sun.management.jmxremote.rmi.port=${LAB_JMX_PORT}`,
    `-Dcom.sun.management.jmxremote.host=${address}`,
    `-Djava.rmi.server.hostname=${address}`,
    '-Dcom.sun.management.jmxremote.authenticate=false',
    '-Dcom.sun.management.jmxremote.ssl=false',
  ].join(' ');
  return labKafkaCommands.start.replace('{{kafkaHome}}/bin/kafka-server-start.sh', `KAFKA_OPTS='${jmx}' {{kafkaHome}}/bin/kafka-server-start.sh`);
}

/** Controller hosts of a zookeeper-mode lab: the migration runbook writes their config, formats and starts them. */
export const isWaitingController = (spec: Pick<LabSpec, 'mode'>, h: { roles: HostRole[] }): boolean => spec.mode === 'zookeeper' && isController(h);
/** MirrorMaker 2 in dedicated mode, by pid file (the config chooses the flows; nothing matched by pattern). */
export const labMirrorMakerCommands = {
  start: "KAFKA_PID_FILE={{pidFile}} LOG_DIR={{logDir}} KAFKA_HEAP_OPTS='-Xmx384m -Xms128m' {{kafkaHome}}/bin/connect-mirror-maker.sh -daemon {{configFile}}",
  stop: 'KAFKA_PID_FILE={{pidFile}} {{kafkaHome}}/bin/kafka-server-stop.sh',
  status: 'KAFKA_PID_FILE={{pidFile}} {{kafkaHome}}/bin/kafka-server-status.sh',
} as const;

export const labZookeeperCommands = {
  start: "KAFKA_PID_FILE={{pidFile}} LOG_DIR={{logDir}} KAFKA_HEAP_OPTS='-Xmx256m -Xms64m' {{kafkaHome}}/bin/zookeeper-server-start.sh -daemon {{configFile}}",
  stop: 'KAFKA_PID_FILE={{pidFile}} {{kafkaHome}}/bin/zookeeper-server-stop.sh',
} as const;

export interface InventoryInput {
  spec: Pick<LabSpec, 'name' | 'mode'>;
  hosts: LabHostPlan[];
  paths: Map<string, HostPaths>;
  ssh: Pick<SshPaths, 'privateKey' | 'knownHosts'>;
  /** Overrides the brokers in the plan, e.g. to leave a provisioned but stopped broker out. */
  bootstrapServers?: string[];
}

export const zookeeperConnectFor = (hosts: LabHostPlan[]): string | null => {
  const zk = hosts.filter((h) => h.roles.includes('zookeeper'));
  return zk.length === 0 ? null : zk.map((h) => `${h.address}:${ZOOKEEPER_PORT}`).join(',');
};

/** The inventory file's content (as the YAML will hold it) for a lab cluster. */
export function buildLabInventory({ spec, hosts, paths, ssh, bootstrapServers: bootstrap }: InventoryInput): Record<string, unknown> {
  const zookeeperConnect = zookeeperConnectFor(hosts);
  return {
    name: spec.name,
    mode: spec.mode,
    bootstrapServers: bootstrap ?? bootstrapServers(hosts),
    ...(zookeeperConnect ? { zookeeperConnect } : {}),
    defaults: {
      ssh: { port: LAB_SSH_PORT, user: 'root', privateKeyFile: ssh.privateKey, knownHostsFile: ssh.knownHosts, strictHostKeyChecking: true },
      kafka: { commands: { ...labKafkaCommands } },
    },
    hosts: hosts.filter((h) => h.kind !== 'mm2').map((h) => {
      const p = paths.get(h.name);
      if (!p) throw new Error(`no paths for host ${h.name}`);
      return {
        name: h.name,
        address: h.address,
        ...(h.nodeId === null ? {} : { nodeId: h.nodeId }),
        roles: h.roles,
        ...(h.rack === null ? {} : { rack: h.rack }),
        kafka: {
          installDir: p.installDir,
          currentLink: p.currentLink,
          configFile: p.configFile,
          dataDirs: [p.dataDir],
          logDir: p.logDir,
          pidFile: p.pidFile,
          ...(h.kind === 'zookeeper' ? { commands: { ...labZookeeperCommands } } : {}),
          ...(isWaitingController(spec, h) ? { jmxPort: LAB_JMX_PORT, commands: { start: labControllerStartCommand(h.address) } } : {}),
        },
      };
    }),
  };
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, never starting with "-" (Kafka's rule). */
export function newClusterId(randomBytes: (n: number) => Buffer): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && !/^A{21}[AQ]$/.test(id)) return id;
  }
}
