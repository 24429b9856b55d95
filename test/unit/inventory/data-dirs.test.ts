import { stringify } from 'yaml';
import { InventoryError, parseInventory } from '../../../src/inventory/load';
import { normaliseDataDir } from '../../../src/inventory/schema';

/** A valid one-host KRaft inventory with the given data dirs, in the defaults or on the host. */
function inventoryWith(dataDirs: { defaults?: string[]; host?: string[] }): string {
  return stringify({
    name: 'prod-eu',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { privateKeyFile: '~/.ssh/id_ed25519' }, ...(dataDirs.defaults ? { kafka: { dataDirs: dataDirs.defaults } } : {}) },
    hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'], ...(dataDirs.host ? { kafka: { dataDirs: dataDirs.host } } : {}) }],
  });
}

function problemsOf(text: string): string[] {
  try {
    parseInventory('prod-eu.yaml', text);
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    return (err as InventoryError).problems;
  }
  throw new Error('expected the inventory to be refused');
}

describe('data dirs: what the wipe deletes under', () => {
  test.each([
    ['/var/lib/kafka/data', '/var/lib/kafka/data'],
    ['/var/kafka', '/var/kafka'],
    ['//var//lib/kafka/', '/var/lib/kafka'],
    ['/var/./lib/./kafka/.', '/var/lib/kafka'],
    ['/data/kafka-logs-1', '/data/kafka-logs-1'],
  ])('%s is kept as %s', (raw, normalised) => {
    expect(normaliseDataDir(raw)).toEqual({ path: normalised });
  });

  test.each([
    ['/', /shallower than two levels/],
    ['//', /shallower than two levels/],
    ['/.', /shallower than two levels/],
    ['/./', /shallower than two levels/],
    ['/var', /shallower than two levels/],
    ['/var/', /shallower than two levels/],
    ['//var/.', /shallower than two levels/],
    ['/var/lib/kafka/..', /has a "\.\." segment/],
    ['/var/lib/../../etc', /has a "\.\." segment/],
    ['/var/../var/lib', /has a "\.\." segment/],
    ['var/lib/kafka', /is not an absolute path/],
    ['~/kafka/data', /is not an absolute path/],
    ['', /is not an absolute path/],
  ])('%s is refused', (raw, why) => {
    const r = normaliseDataDir(raw);
    expect('problem' in r && r.problem).toMatch(why);
  });

  test('the inventory keeps the normalised paths, from the defaults and from a host', () => {
    expect(parseInventory('a.yaml', inventoryWith({ defaults: ['//srv//kafka/./a/'] })).hosts[0]?.kafka.dataDirs).toEqual(['/srv/kafka/a']);
    expect(parseInventory('a.yaml', inventoryWith({ host: ['/srv/kafka/b/', '/srv/kafka/c'] })).hosts[0]?.kafka.dataDirs).toEqual(['/srv/kafka/b', '/srv/kafka/c']);
    expect(parseInventory('a.yaml', inventoryWith({})).hosts[0]?.kafka.dataDirs).toEqual(['/var/lib/kafka/data']);
  });

  test('a bad data dir refuses the inventory, naming the field', () => {
    expect(problemsOf(inventoryWith({ defaults: ['/var/lib/kafka/data', '//'] }))).toEqual([
      'defaults.kafka.dataDirs[1]: "//" is shallower than two levels (e.g. /var/kafka): a data dir must be an absolute path at least two levels deep, without ".."',
    ]);
    expect(problemsOf(inventoryWith({ host: ['/var/lib/kafka/..'] }))).toEqual([
      'hosts[0].kafka.dataDirs[0]: "/var/lib/kafka/.." has a ".." segment: a data dir must be an absolute path at least two levels deep, without ".."',
    ]);
    expect(problemsOf(inventoryWith({ host: ['/.'] }))).toEqual([expect.stringMatching(/^hosts\[0\]\.kafka\.dataDirs\[0\]: "\/\." is shallower than two levels/)]);
  });
});
