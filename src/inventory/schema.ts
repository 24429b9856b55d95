import { z } from 'zod';
import { atMost, boundedString, int32Id, LIMITS, wholeNumber } from '../limits';
import { templateProblems } from './commands';
import { type ApprovalsSettings, approvalsSchema, notificationsSchema } from '../approvals/inventory';

/**
 * The cluster inventory: one YAML file per cluster. Validated once, when the worker starts.
 * Secrets are references (env var or file path) resolved on the worker; they never enter workflow inputs.
 */

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:]+$/;

/** A path on the worker or a host. */
const filePath = boundedString(LIMITS.maxPathLength);
/** An absolute dir other than `/`, with no `..` segment. */
const stagingDir = filePath
  .min(1)
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".." segments')
  .refine((p) => !/^\/+$/.test(p) && !/^[/.]+$/.test(p), 'must not be the root directory');
/** A client or SSH timeout: at most 10 minutes (and far below the 2^31-1 ms where Node's timers fire at once). */
const clientTimeoutMs = wholeNumber(1, LIMITS.maxClientTimeoutMs, 'ms');

export const addressSchema = boundedString(LIMITS.maxNameLength)
  .min(1, 'must not be empty')
  .refine((a) => IPV4.test(a) || (a.includes(':') && IPV6.test(a)) || (HOSTNAME.test(a) && !/^[\d.]+$/.test(a)), {
    message: 'must be an IPv4/IPv6 address or a hostname',
  });

const hostPortSchema = boundedString(LIMITS.maxNameLength + 8).refine(
  (s) => {
    const i = s.lastIndexOf(':');
    if (i <= 0) return false;
    const port = Number(s.slice(i + 1));
    const host = s.slice(0, i).replace(/^\[(.*)\]$/, '$1');
    return Number.isInteger(port) && port > 0 && port < 65536 && addressSchema.safeParse(host).success;
  },
  { message: 'must be host:port with a valid address and a port from 1 to 65535' },
);

/** A secret is always a reference. An inline string is refused so it cannot leak into history or git. */
export const secretRefSchema = z.union(
  [z.object({ env: boundedString(255).min(1) }).strict(), z.object({ file: boundedString(LIMITS.maxPathLength).min(1) }).strict()],
  { errorMap: () => ({ message: 'secrets must be a reference: { env: NAME } or { file: /path }, never an inline value' }) },
);
export type SecretRef = z.infer<typeof secretRefSchema>;

/** Webhooks that tell people a run needs them (src/approvals/inventory.ts). */
const clusterNotificationsSchema = notificationsSchema(secretRefSchema);
export type NotificationSettings = z.infer<typeof clusterNotificationsSchema>;

const tlsSchema = z
  .object({
    caFile: filePath.optional(),
    certFile: filePath.optional(),
    keyFile: filePath.optional(),
    keyPassword: secretRefSchema.optional(),
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict();

const saslSchema = z
  .object({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: boundedString(LIMITS.maxNameLength).min(1),
    password: secretRefSchema,
  })
  .strict();

const clientSchema = z
  .object({
    tls: tlsSchema.optional(),
    sasl: saslSchema.optional(),
    /** Properties file on the hosts passed to Kafka's CLI tools as --command-config. */
    toolCommandConfig: filePath.optional(),
    connectionTimeoutMs: clientTimeoutMs.default(5000),
    requestTimeoutMs: clientTimeoutMs.default(15000),
  })
  .strict();

const sshSchema = z
  .object({
    port: wholeNumber(1, 65535).default(22),
    user: boundedString(LIMITS.maxNameLength).min(1).default('kafka'),
    /** Private key file on the worker machine. Mutually exclusive with agent. */
    privateKeyFile: filePath.optional(),
    passphrase: secretRefSchema.optional(),
    /** Use the SSH agent at $SSH_AUTH_SOCK. */
    agent: z.boolean().default(false),
    /** known_hosts file used to verify host keys; verification is on unless strictHostKeyChecking is false. */
    knownHostsFile: filePath.default('~/.ssh/known_hosts'),
    strictHostKeyChecking: z.boolean().default(true),
    connectTimeoutMs: clientTimeoutMs.default(10000),
  })
  .strict();

/** A command template whose placeholders are known and unquoted (see renderCommand: values are substituted shell-quoted). */
const template = (fallback: string, extraPlaceholders: readonly string[] = []) =>
  boundedString(LIMITS.maxTemplateLength)
    .min(1)
    .superRefine((t, ctx) => {
      for (const message of templateProblems(t, extraPlaceholders)) ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    })
    .default(fallback);

/**
 * Command templates. Placeholders: {{kafkaHome}} {{installDir}} {{configFile}} {{pidFile}} {{logDir}} {{address}} {{nodeId}} {{name}},
 * substituted shell-quoted: write them without quotes around them.
 */
const commandsSchema = z
  .object({
    start: template('sudo systemctl start kafka'),
    /**
     * Sends the controlled shutdown and returns; the runbook waits for the exit itself. A blocking
     * `systemctl stop` would let systemd SIGKILL a slow broker after TimeoutStopSec: a kill nobody approved.
     */
    stop: template('sudo systemctl stop --no-block kafka'),
    /** Exit 0 while the Kafka process exists, shutting down included (`is-active` says no while deactivating); 1-3 when it does not (LSB); any other exit is read as no answer. */
    status: template('test "$(systemctl show -p MainPID --value kafka)" != 0'),
    /** Forced stop, used only after a timeout and a human approval. */
    kill: template('sudo systemctl kill --signal=SIGKILL kafka'),
    /** How to run one of Kafka's CLI tools; {{tool}} is e.g. kafka-metadata-quorum.sh. */
    tool: template('{{kafkaHome}}/bin/{{tool}}', ['tool']),
  })
  .strict();

/**
 * A data dir as the wipe will delete under it: absolute; `//`, `/.` and a trailing `/` normalised away; no `..`
 * segment (it could climb out of the dir named); at least two levels deep (`/var` refused, `/var/kafka` kept).
 */
export function normaliseDataDir(path: string): { path: string } | { problem: string } {
  if (!path.startsWith('/')) return { problem: `"${path}" is not an absolute path` };
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { problem: `"${path}" has a ".." segment` };
  if (segments.length < 2) return { problem: `"${path}" is shallower than two levels (e.g. /var/kafka)` };
  return { path: `/${segments.join('/')}` };
}

export const dataDirSchema = z.string().transform((path, ctx) => {
  const checked = normaliseDataDir(path);
  if ('path' in checked) return checked.path;
  ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${checked.problem}: a data dir must be an absolute path at least two levels deep, without ".."` });
  return z.NEVER;
});

const kafkaLayoutSchema = z
  .object({
    /** Directory holding one install per version, e.g. /opt/kafka/kafka_2.13-3.9.2. */
    installDir: filePath.min(1).default('/opt/kafka'),
    /**
     * Dirs where upgrade sources (staged installs, archives) may also be, besides installDir. Absolute; none
     * by default, so a rolling upgrade's `source.path` must be under installDir.
     */
    stagingDirs: z
      .array(stagingDir)
      .max(...atMost(100, 'dirs'))
      .default([]),
    /** Symlink to the running version's install. */
    currentLink: filePath.min(1).default('/opt/kafka/current'),
    configFile: filePath.min(1).default('/etc/kafka/server.properties'),
    dataDirs: z.array(dataDirSchema).min(1).default(['/var/lib/kafka/data']),
    logDir: filePath.min(1).default('/var/log/kafka'),
    pidFile: filePath.min(1).default('/var/run/kafka/kafka.pid'),
    /** JMX port the node listens on, at its address; the migration runbook reads its gauges there with Kafka's JmxTool over SSH. */
    jmxPort: wholeNumber(1, 65535).optional(),
    commands: commandsSchema.default({}),
  })
  .strict();

const roleSchema = z.enum(['broker', 'controller', 'zookeeper']);

const hostSchema = z
  .object({
    name: boundedString(LIMITS.maxNameLength).regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"'),
    address: addressSchema,
    nodeId: int32Id('node ids').optional(),
    roles: z
      .array(roleSchema)
      .min(1, 'must name at least one role')
      .max(...atMost(3, 'roles')),
    rack: boundedString(LIMITS.maxNameLength).min(1).optional(),
    ssh: sshSchema.partial().optional(),
    kafka: kafkaLayoutSchema.partial().extend({ commands: commandsSchema.partial().optional() }).optional(),
  })
  .strict();

/**
 * MirrorMaker 2 in dedicated mode on hosts of its own: where its install, config, log and pid file are, and how
 * it is started, stopped and asked whether it runs (same placeholders as the Kafka commands).
 */
const mirrorMakerSchema = z
  .object({
    hosts: z
      .array(z.object({ name: hostSchema.shape.name, address: addressSchema, ssh: sshSchema.partial().optional() }).strict())
      .min(1, 'must name at least one MirrorMaker 2 host')
      .max(...atMost(100, 'hosts')),
    kafkaHome: filePath.min(1).default('/opt/kafka/current'),
    configFile: filePath.min(1).default('/etc/kafka/mm2.properties'),
    logDir: filePath.min(1).default('/var/log/kafka-mirrormaker'),
    pidFile: filePath.min(1).default('/var/run/kafka/mirrormaker.pid'),
    commands: z
      .object({
        start: template('sudo systemctl start kafka-mirrormaker'),
        stop: template('sudo systemctl stop --no-block kafka-mirrormaker'),
        status: template('test "$(systemctl show -p MainPID --value kafka-mirrormaker)" != 0'),
      })
      .strict()
      .default({}),
  })
  .strict();

/** The cluster this one is backed up to (by name, from the inventory) and the MirrorMaker 2 that copies it. */
const backupSchema = z
  .object({
    cluster: boundedString(LIMITS.maxNameLength).regex(/^[a-z0-9][a-z0-9._-]*$/, 'must name a cluster of the inventory'),
    mirrorMaker: mirrorMakerSchema,
  })
  .strict();

export const inventorySchema = z
  .object({
    name: boundedString(LIMITS.maxNameLength).regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, ".", "_" or "-"'),
    mode: z.enum(['kraft', 'zookeeper']),
    bootstrapServers: z
      .array(hostPortSchema)
      .min(1, 'must list at least one bootstrap server')
      .max(...atMost(LIMITS.maxHosts, 'servers')),
    zookeeperConnect: boundedString(LIMITS.maxPathLength).min(1).optional(),
    client: clientSchema.default({}),
    defaults: z
      .object({ ssh: sshSchema.default({}), kafka: kafkaLayoutSchema.default({}) })
      .strict()
      .default({}),
    hosts: z
      .array(hostSchema)
      .min(1, 'must list at least one host')
      .max(...atMost(LIMITS.maxHosts, 'hosts')),
    backup: backupSchema.optional(),
    /** Who may answer each kind of gate on this cluster; absent: anyone (src/approvals/inventory.ts). */
    approvals: approvalsSchema.optional(),
    notifications: clusterNotificationsSchema.optional(),
  })
  .strict()
  .superRefine((inv, ctx) => {
    if (inv.backup?.cluster === inv.name) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backup', 'cluster'], message: 'must name another cluster, not this one' });
    const names = new Map<string, number>();
    const ids = new Map<number, number>();
    inv.hosts.forEach((h, i) => {
      const seenName = names.get(h.name);
      if (seenName !== undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hosts', i, 'name'], message: `duplicate host name "${h.name}" (also hosts[${seenName}])` });
      }
      names.set(h.name, i);
      const kafkaNode = h.roles.includes('broker') || h.roles.includes('controller');
      if (kafkaNode && h.nodeId === undefined) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hosts', i, 'nodeId'], message: 'is required for broker and controller hosts' });
      }
      if (h.nodeId !== undefined && kafkaNode) {
        const seenId = ids.get(h.nodeId);
        if (seenId !== undefined) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hosts', i, 'nodeId'], message: `duplicate node id ${h.nodeId} (also hosts[${seenId}])` });
        }
        ids.set(h.nodeId, i);
      }
    });
    if (inv.mode === 'kraft' && !inv.hosts.some((h) => h.roles.includes('controller'))) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hosts'], message: 'a kraft cluster needs at least one host with the controller role' });
    }
    if (inv.mode === 'zookeeper' && !inv.zookeeperConnect) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['zookeeperConnect'], message: 'is required in zookeeper mode' });
    }
    if (!inv.hosts.some((h) => h.roles.includes('broker'))) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hosts'], message: 'needs at least one host with the broker role' });
    }
    const sshAuth = inv.defaults.ssh;
    inv.hosts.forEach((h, i) => {
      const key = h.ssh?.privateKeyFile ?? sshAuth.privateKeyFile;
      const agent = h.ssh?.agent ?? sshAuth.agent;
      if (!key && !agent) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['hosts', i, 'ssh'], message: 'needs privateKeyFile or agent: true (here or in defaults.ssh)' });
      }
    });
  });

export type InventoryFile = z.infer<typeof inventorySchema>;
export type SshSettings = z.infer<typeof sshSchema>;
export type KafkaLayout = z.infer<typeof kafkaLayoutSchema>;
export type HostCommands = z.infer<typeof commandsSchema>;
export type ClientSettings = z.infer<typeof clientSchema>;
export type HostRole = z.infer<typeof roleSchema>;

/** A host with the inventory defaults merged in: every field present. */
export interface InventoryHost {
  name: string;
  address: string;
  nodeId: number | null;
  roles: HostRole[];
  rack: string | null;
  ssh: SshSettings;
  kafka: KafkaLayout;
}

/** MirrorMaker 2 hosts as the runbooks reach them: hosts with the defaults merged, kafka layout pointing at MM2's files. */
export interface BackupSettings {
  cluster: string;
  mirrorMaker: { hosts: InventoryHost[] };
}

export interface Inventory {
  name: string;
  /** Absent when the cluster names no backup cluster. */
  backup?: BackupSettings;
  mode: 'kraft' | 'zookeeper';
  bootstrapServers: string[];
  zookeeperConnect: string | null;
  client: ClientSettings;
  hosts: InventoryHost[];
  /** The approval policy and webhooks; absent when the inventory sets none. */
  approvals?: ApprovalsSettings;
  notifications?: NotificationSettings;
  /** Where it was loaded from, for error messages. */
  source: string;
}
