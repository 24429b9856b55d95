import { stringify } from 'yaml';
import { InventoryError, parseInventory } from '../../../src/inventory/load';

// Hostile values for every bounded field of an inventory: each is refused when the worker loads it, naming
// the field and the limit. Each row starts from a valid inventory and breaks one field.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

function validInventory(): Doc {
  return {
    name: 'prod',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { user: 'kafka', privateKeyFile: '/keys/id' } },
    hosts: [1, 2, 3].map((i) => ({ name: `kafka-${i}`, address: `10.0.0.${i}`, nodeId: i, roles: ['broker', 'controller'] })),
  };
}

function problemsOf(doc: Doc): string[] {
  try {
    // YAML cannot carry NaN/Infinity as JSON does, but it has .nan and .inf: stringify writes those.
    parseInventory('prod.yaml', stringify(doc));
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    return (err as InventoryError).problems;
  }
  return [];
}

const INT32 = 2 ** 31 - 1;
const long = (n: number) => 'a'.repeat(n);
const path = (n: number) => `/${long(n - 1)}`;
const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

const rows: [field: string, mutate: (d: Doc) => void, problem: string][] = [
  // Node ids and ports.
  ['hosts[0].nodeId', (d) => (d.hosts[0].nodeId = 2 ** 31), `hosts[0].nodeId: node ids are at most ${INT32}`],
  ['hosts[0].nodeId', (d) => (d.hosts[0].nodeId = 1e308), `hosts[0].nodeId: node ids are at most ${INT32}`],
  ['hosts[0].nodeId', (d) => (d.hosts[0].nodeId = -1), 'hosts[0].nodeId: node ids are 0 or more'],
  ['hosts[0].nodeId', (d) => (d.hosts[0].nodeId = Infinity), 'hosts[0].nodeId: node ids are whole numbers'],
  ['defaults.ssh.port', (d) => (d.defaults.ssh.port = 1e308), 'defaults.ssh.port: must be at most 65535'],
  ['hosts[1].ssh.port', (d) => (d.hosts[1].ssh = { port: 65536 }), 'hosts[1].ssh.port: must be at most 65535'],
  ['bootstrapServers[0]', (d) => (d.bootstrapServers = ['10.0.0.1:1e308']), 'bootstrapServers[0]: must be host:port with a valid address and a port from 1 to 65535'],

  // Timeouts (ms): ten minutes at most; past 2^31-1 Node's timers fire at once.
  ['client.connectionTimeoutMs', (d) => (d.client = { connectionTimeoutMs: 2 ** 31 }), 'client.connectionTimeoutMs: must be at most 600000 ms'],
  ['client.requestTimeoutMs', (d) => (d.client = { requestTimeoutMs: 1e308 }), 'client.requestTimeoutMs: must be at most 600000 ms'],
  ['client.requestTimeoutMs', (d) => (d.client = { requestTimeoutMs: NaN }), 'client.requestTimeoutMs: Expected number, received nan'],
  ['defaults.ssh.connectTimeoutMs', (d) => (d.defaults.ssh.connectTimeoutMs = 1e308), 'defaults.ssh.connectTimeoutMs: must be at most 600000 ms'],
  ['hosts[2].ssh.connectTimeoutMs', (d) => (d.hosts[2].ssh = { connectTimeoutMs: -1 }), 'hosts[2].ssh.connectTimeoutMs: must be at least 1 ms'],

  // List lengths.
  ['hosts', (d) => (d.hosts = many(10_001, (i) => ({ name: `k${i}`, address: '10.0.0.1', nodeId: i, roles: ['broker', 'controller'] }))), 'hosts: must list at most 10000 hosts'],
  ['bootstrapServers', (d) => (d.bootstrapServers = many(10_001, () => '10.0.0.1:9092')), 'bootstrapServers: must list at most 10000 servers'],
  ['hosts[0].roles', (d) => (d.hosts[0].roles = many(100_000, () => 'broker')), 'hosts[0].roles: must list at most 3 roles'],

  // String lengths.
  ['name', (d) => (d.name = long(254)), 'name: must be at most 253 characters'],
  ['hosts[0].name', (d) => (d.hosts[0].name = long(254)), 'hosts[0].name: must be at most 253 characters'],
  ['hosts[0].address', (d) => (d.hosts[0].address = `::${'1:'.repeat(200)}1`), 'hosts[0].address: must be at most 253 characters'],
  ['hosts[0].rack', (d) => (d.hosts[0].rack = long(254)), 'hosts[0].rack: must be at most 253 characters'],
  ['zookeeperConnect', (d) => ((d.mode = 'zookeeper'), (d.zookeeperConnect = long(4097))), 'zookeeperConnect: must be at most 4096 characters'],
  ['client.toolCommandConfig', (d) => (d.client = { toolCommandConfig: path(4097) }), 'client.toolCommandConfig: must be at most 4096 characters'],
  ['client.tls.caFile', (d) => (d.client = { tls: { caFile: path(4097) } }), 'client.tls.caFile: must be at most 4096 characters'],
  ['client.sasl.username', (d) => (d.client = { sasl: { mechanism: 'plain', username: long(254), password: { env: 'P' } } }), 'client.sasl.username: must be at most 253 characters'],
  ['client.sasl.password', (d) => (d.client = { sasl: { mechanism: 'plain', username: 'u', password: { env: long(256) } } }), 'client.sasl.password.env: must be at most 255 characters'],
  ['defaults.ssh.user', (d) => (d.defaults.ssh.user = long(254)), 'defaults.ssh.user: must be at most 253 characters'],
  ['defaults.ssh.privateKeyFile', (d) => (d.defaults.ssh.privateKeyFile = path(4097)), 'defaults.ssh.privateKeyFile: must be at most 4096 characters'],
  ['defaults.ssh.knownHostsFile', (d) => (d.defaults.ssh.knownHostsFile = path(4097)), 'defaults.ssh.knownHostsFile: must be at most 4096 characters'],
  ['defaults.kafka.installDir', (d) => (d.defaults.kafka = { installDir: path(4097) }), 'defaults.kafka.installDir: must be at most 4096 characters'],
  ['defaults.kafka.configFile', (d) => (d.defaults.kafka = { configFile: path(4097) }), 'defaults.kafka.configFile: must be at most 4096 characters'],
  ['hosts[0].kafka.currentLink', (d) => (d.hosts[0].kafka = { currentLink: path(4097) }), 'hosts[0].kafka.currentLink: must be at most 4096 characters'],
  ['hosts[0].kafka.logDir', (d) => (d.hosts[0].kafka = { logDir: path(4097) }), 'hosts[0].kafka.logDir: must be at most 4096 characters'],
  ['hosts[0].kafka.pidFile', (d) => (d.hosts[0].kafka = { pidFile: path(4097) }), 'hosts[0].kafka.pidFile: must be at most 4096 characters'],
  ['defaults.kafka.commands.start', (d) => (d.defaults.kafka = { commands: { start: long(8193) } }), 'defaults.kafka.commands.start: must be at most 8192 characters'],
  ['hosts[0].kafka.commands.tool', (d) => (d.hosts[0].kafka = { commands: { tool: long(8193) } }), 'hosts[0].kafka.commands.tool: must be at most 8192 characters'],
];

describe('upper bounds on inventory fields', () => {
  test('the base inventory is valid', () => {
    expect(problemsOf(validInventory())).toEqual([]);
  });

  test.each(rows)('%s: a hostile value is refused with its limit', (_field, mutate, problem) => {
    const doc = validInventory();
    mutate(doc);
    expect(problemsOf(doc)).toContain(problem);
  });

  test('values at the limits are accepted', () => {
    const doc = validInventory();
    doc.hosts[0].nodeId = INT32;
    doc.hosts[0].ssh = { port: 65535, connectTimeoutMs: 600_000 };
    doc.client = { connectionTimeoutMs: 600_000, requestTimeoutMs: 600_000 };
    doc.name = `p${'a'.repeat(252)}`;
    doc.defaults.kafka = { installDir: path(4096), commands: { start: `${long(8177)} {{configFile}}` } };
    expect(problemsOf(doc)).toEqual([]);
  });
});
