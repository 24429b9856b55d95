import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderCommand } from '../../../src/inventory/commands';
import { InventoryError, loadInventories, parseInventory } from '../../../src/inventory/load';

/** A valid three-node KRaft inventory; tests break one thing at a time. */
function validInventory(): Record<string, unknown> {
  return {
    name: 'prod-eu',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092', 'kafka-2.example.com:9092'],
    client: { sasl: { mechanism: 'scram-sha-512', username: 'ops', password: { env: 'KAFKA_OPS_PASSWORD' } } },
    defaults: { ssh: { user: 'kafka', privateKeyFile: '~/.ssh/id_ed25519' } },
    hosts: [1, 2, 3].map((i) => ({ name: `kafka-${i}`, address: `10.0.0.${i}`, nodeId: i, roles: ['broker', 'controller'], rack: `az-${i}` })),
  };
}

function problemsOf(doc: unknown, source = 'prod-eu.yaml'): string[] {
  try {
    parseInventory(source, typeof doc === 'string' ? doc : stringify(doc));
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).message).toContain(`invalid inventory ${source}`);
    return (err as InventoryError).problems;
  }
  throw new Error('expected the inventory to be refused');
}

// Tests break documents on purpose, so they edit them untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;
function mutate(fn: (inv: Doc) => void): Record<string, unknown> {
  const inv = validInventory() as Doc;
  fn(inv);
  return inv;
}

describe('a valid inventory', () => {
  test('parses, with defaults merged into every host', () => {
    const inv = parseInventory('prod-eu.yaml', stringify(validInventory()));
    expect(inv.name).toBe('prod-eu');
    expect(inv.hosts).toHaveLength(3);
    const h = inv.hosts[1]!;
    expect(h).toMatchObject({ name: 'kafka-2', address: '10.0.0.2', nodeId: 2, roles: ['broker', 'controller'], rack: 'az-2' });
    expect(h.ssh).toMatchObject({ user: 'kafka', port: 22, privateKeyFile: '~/.ssh/id_ed25519', strictHostKeyChecking: true });
    expect(h.kafka.commands.stop).toBe('sudo systemctl stop --no-block kafka');
    expect(inv.client.sasl?.password).toEqual({ env: 'KAFKA_OPS_PASSWORD' });
  });

  test('a host overrides single fields of the defaults and keeps the rest', () => {
    const inv = parseInventory(
      'x.yaml',
      stringify(
        mutate((i) => {
          i.defaults.kafka = { commands: { start: 'start-kafka {{configFile}}' } };
          i.hosts[0].ssh = { port: 2222 };
          i.hosts[0].kafka = { configFile: '/etc/k/server.properties', commands: { stop: 'stop-it' } };
        }),
      ),
    );
    const [a, b] = inv.hosts;
    expect(a!.ssh).toMatchObject({ port: 2222, user: 'kafka' });
    expect(a!.kafka.commands).toMatchObject({ start: 'start-kafka {{configFile}}', stop: 'stop-it' });
    expect(renderCommand(a!.kafka.commands.start, a!)).toBe('start-kafka /etc/k/server.properties');
    expect(b!.kafka.commands.stop).toBe('sudo systemctl stop --no-block kafka');
  });
});

describe('a bad inventory is refused with the field and the reason', () => {
  test('malformed YAML', () => {
    expect(problemsOf('name: [unclosed\nhosts: {')).toEqual([expect.stringMatching(/^not valid YAML: /)]);
  });

  test('missing fields', () => {
    const problems = problemsOf(
      mutate((i) => {
        delete i.name;
        delete i.bootstrapServers;
        delete i.hosts[1].roles;
      }),
    );
    expect(problems).toEqual(expect.arrayContaining(['name: is required', 'bootstrapServers: is required', 'hosts[1].roles: is required']));
  });

  test('bad addresses and bootstrap servers', () => {
    const problems = problemsOf(
      mutate((i) => {
        i.hosts[0].address = '10.0.0.300';
        i.hosts[2].address = 'bad host!';
        i.bootstrapServers = ['10.0.0.1', 'kafka:99999'];
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'hosts[0].address: must be an IPv4/IPv6 address or a hostname',
        'hosts[2].address: must be an IPv4/IPv6 address or a hostname',
        'bootstrapServers[0]: must be host:port with a valid address and a port from 1 to 65535',
        'bootstrapServers[1]: must be host:port with a valid address and a port from 1 to 65535',
      ]),
    );
  });

  test('duplicate node ids and host names', () => {
    const problems = problemsOf(
      mutate((i) => {
        i.hosts[2].nodeId = 1;
        i.hosts[1].name = 'kafka-1';
      }),
    );
    expect(problems).toEqual(expect.arrayContaining(['hosts[2].nodeId: duplicate node id 1 (also hosts[0])', 'hosts[1].name: duplicate host name "kafka-1" (also hosts[0])']));
  });

  test('an inline secret is refused', () => {
    const problems = problemsOf(
      mutate((i) => {
        i.client.sasl.password = 'hunter2';
      }),
    );
    expect(problems).toEqual(['client.sasl.password: secrets must be a reference: { env: NAME } or { file: /path }, never an inline value']);
  });

  test('typos are unknown fields, not silently ignored', () => {
    const problems = problemsOf(
      mutate((i) => {
        i.hosts[0].sssh = { port: 22 };
      }),
    );
    expect(problems).toEqual(['hosts[0]: unknown field(s) "sssh"']);
  });

  test('mode rules: kraft needs a controller, zookeeper needs zookeeperConnect, brokers need node ids', () => {
    expect(
      problemsOf(
        mutate((i) => {
          for (const h of i.hosts) h.roles = ['broker'];
        }),
      ),
    ).toEqual(['hosts: a kraft cluster needs at least one host with the controller role']);
    expect(
      problemsOf(
        mutate((i) => {
          i.mode = 'zookeeper';
        }),
      ),
    ).toEqual(['zookeeperConnect: is required in zookeeper mode']);
    expect(
      problemsOf(
        mutate((i) => {
          delete i.hosts[0].nodeId;
        }),
      ),
    ).toEqual(['hosts[0].nodeId: is required for broker and controller hosts']);
  });

  test('ssh needs a key or the agent', () => {
    expect(
      problemsOf(
        mutate((i) => {
          i.defaults.ssh = { user: 'kafka' };
        }),
      ),
    ).toEqual(['hosts[0].ssh: needs privateKeyFile or agent: true (here or in defaults.ssh)', 'hosts[1].ssh: needs privateKeyFile or agent: true (here or in defaults.ssh)', 'hosts[2].ssh: needs privateKeyFile or agent: true (here or in defaults.ssh)']);
  });
});

describe('loading a directory', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'inv-'));

  test('loads every yaml file, keyed by cluster name', () => {
    const d = dir();
    writeFileSync(join(d, 'a.yaml'), stringify(validInventory()));
    writeFileSync(join(d, 'b.yml'), stringify(mutate((i) => (i.name = 'prod-us'))));
    writeFileSync(join(d, 'notes.txt'), 'ignored');
    expect([...loadInventories([d]).keys()]).toEqual(['prod-eu', 'prod-us']);
  });

  test('the same cluster in two files is refused, naming both', () => {
    const d = dir();
    writeFileSync(join(d, 'a.yaml'), stringify(validInventory()));
    writeFileSync(join(d, 'b.yaml'), stringify(validInventory()));
    expect(() => loadInventories([d])).toThrow(`name: cluster "prod-eu" is already defined in ${join(d, 'a.yaml')}`);
  });

  test('an invalid file names the file', () => {
    const d = dir();
    writeFileSync(join(d, 'broken.yaml'), stringify(mutate((i) => (i.hosts[0].address = ''))));
    expect(() => loadInventories([d])).toThrow(`invalid inventory ${join(d, 'broken.yaml')}:\n  - hosts[0].address: must not be empty`);
  });

  test('a missing path is refused', () => {
    expect(() => loadInventories(['/nonexistent/inventory'])).toThrow('file or directory does not exist');
  });
});

describe('command templates', () => {
  test('an unknown placeholder is an error, never an empty string', () => {
    const inv = parseInventory('x.yaml', stringify(validInventory()));
    expect(() => renderCommand('run {{kafkaHoem}}/bin/x', inv.hosts[0]!)).toThrow('unknown placeholder {{kafkaHoem}}');
  });
});
