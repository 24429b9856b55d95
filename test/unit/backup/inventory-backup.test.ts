import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderCommand } from '../../../src/inventory/commands';
import { type InventoryError, loadInventories, parseInventory } from '../../../src/inventory/load';

function cluster(name: string, backup?: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { user: 'kafka', privateKeyFile: '~/.ssh/id_ed25519' } },
    hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
    ...(backup ? { backup } : {}),
  };
}

const mm2 = { hosts: [{ name: 'mm2-1', address: '10.0.9.1', ssh: { port: 2222 } }] };

describe('inventory: backup cluster and MirrorMaker 2 hosts', () => {
  test('a cluster names its backup cluster and MM2 hosts, reachable like brokers', () => {
    const inv = parseInventory('prod.yaml', stringify(cluster('prod', { cluster: 'prod-backup', mirrorMaker: { ...mm2, configFile: '/etc/mm2/mm2.properties' } })));
    expect(inv.backup?.cluster).toBe('prod-backup');
    const host = inv.backup!.mirrorMaker.hosts[0]!;
    expect(host).toMatchObject({ name: 'mm2-1', address: '10.0.9.1', roles: [], nodeId: null });
    expect(host.ssh).toMatchObject({ user: 'kafka', port: 2222, privateKeyFile: '~/.ssh/id_ed25519' });
    expect(renderCommand(host.kafka.commands.start, host)).toBe('sudo systemctl start kafka-mirrormaker');
    expect(host.kafka.configFile).toBe('/etc/mm2/mm2.properties');
    expect(host.kafka.currentLink).toBe('/opt/kafka/current');
  });

  test('a cluster without a backup section has none', () => {
    expect(parseInventory('prod.yaml', stringify(cluster('prod'))).backup).toBeUndefined();
  });

  test('refuses a backup to itself, no MM2 host, and an inline secret', () => {
    const problems = (doc: unknown): string[] => {
      try {
        parseInventory('prod.yaml', stringify(doc));
      } catch (e) {
        return (e as InventoryError).problems;
      }
      throw new Error('expected a refusal');
    };
    expect(problems(cluster('prod', { cluster: 'prod', mirrorMaker: mm2 }))).toContain('backup.cluster: must name another cluster, not this one');
    expect(problems(cluster('prod', { cluster: 'bak', mirrorMaker: { hosts: [] } }))).toContain('backup.mirrorMaker.hosts: must name at least one MirrorMaker 2 host');
    expect(problems(cluster('prod', { cluster: 'bak', mirrorMaker: { hosts: [{ name: 'm', address: '10.0.0.9', ssh: { passphrase: 'hunter2' } }] } })).join('\n')).toContain(
      'secrets must be a reference',
    );
  });

  test('the backup cluster must be in the inventory', () => {
    const d = mkdtempSync(join(tmpdir(), 'inv-'));
    writeFileSync(join(d, 'prod.yaml'), stringify(cluster('prod', { cluster: 'prod-backup', mirrorMaker: mm2 })));
    expect(() => loadInventories([d])).toThrow('backup.cluster: "prod-backup" is not a cluster of the inventory (prod)');
    writeFileSync(join(d, 'prod-backup.yaml'), stringify(cluster('prod-backup')));
    expect(loadInventories([d]).get('prod')?.backup?.cluster).toBe('prod-backup');
  });
});
