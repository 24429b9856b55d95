import { parseInventory } from '../../src/inventory/load';
import { type Inventory } from '../../src/inventory/schema';
import { warnUncheckedHostKeys } from '../../src/worker';

const inventory = (name: string, hosts: { name: string; strict?: boolean }[]): Inventory =>
  parseInventory(
    `${name}.yaml`,
    JSON.stringify({
      name,
      mode: 'kraft',
      bootstrapServers: ['10.0.0.1:9092'],
      defaults: { ssh: { privateKeyFile: '/keys/ops' } },
      hosts: hosts.map((h, i) => ({
        name: h.name,
        address: `10.0.0.${i + 1}`,
        nodeId: i + 1,
        roles: ['broker', 'controller'],
        ...(h.strict === undefined ? {} : { ssh: { strictHostKeyChecking: h.strict } }),
      })),
    }),
  );

test('the worker warns at start, naming cluster and host, for every host whose SSH host key is not checked', () => {
  const warnings: { attrs: unknown; message: string }[] = [];
  const log = { warn: (attrs: unknown, message: string) => void warnings.push({ attrs, message }) };
  const inventories = new Map([
    ['prod', inventory('prod', [{ name: 'b1' }, { name: 'b2', strict: false }, { name: 'b3', strict: true }])],
    ['lab', inventory('lab', [{ name: 'l1', strict: false }])],
  ]);
  warnUncheckedHostKeys(inventories, log as never);
  expect(warnings.map((w) => w.attrs)).toEqual([
    { cluster: 'prod', host: 'b2' },
    { cluster: 'lab', host: 'l1' },
  ]);
  expect(warnings[0]?.message).toMatch(/host-key checking is OFF for host b2 of cluster prod/);
});

test('no warning when every host key is checked', () => {
  const warn = jest.fn();
  warnUncheckedHostKeys(new Map([['prod', inventory('prod', [{ name: 'b1' }])]]), { warn } as never);
  expect(warn).not.toHaveBeenCalled();
});
