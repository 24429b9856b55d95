import { parseInventory } from '../../../src/inventory/load';
import { renderCommand } from '../../../src/inventory/commands';
import { hostPaths } from '../../../src/lab/paths';
import { LAB_JMX_PORT, LabSpecError, buildLabInventory, isWaitingController, planLabHosts, resolveLabSpec } from '../../../src/lab/topology';
import { stringify } from 'yaml';

describe('zookeeper-mode lab with controller hosts for the migration', () => {
  const spec = resolveLabSpec({ name: 'mig', mode: 'zookeeper', migrationControllers: 3, subnet: 50 });

  it('plans a ZooKeeper host, three controller-only hosts with node ids 51-53, and the brokers', () => {
    const hosts = planLabHosts(spec);
    expect(hosts.map((h) => [h.name, h.address, h.roles.join(','), h.nodeId])).toEqual([
      ['zookeeper', '127.0.50.100', 'zookeeper', null],
      ['controller-51', '127.0.50.51', 'controller', 51],
      ['controller-52', '127.0.50.52', 'controller', 52],
      ['controller-53', '127.0.50.53', 'controller', 53],
      ['kafka-1', '127.0.50.1', 'broker', 1],
      ['kafka-2', '127.0.50.2', 'broker', 2],
      ['kafka-3', '127.0.50.3', 'broker', 3],
    ]);
    expect(hosts.filter((h) => isWaitingController(spec, h)).map((h) => h.name)).toEqual(['controller-51', 'controller-52', 'controller-53']);
  });

  it('writes an inventory the worker accepts, with the controllers as role controller and JMX on their own address', () => {
    const hosts = planLabHosts(spec);
    const paths = new Map(hosts.map((h) => [h.name, hostPaths('/lab', 'mig', h.name, h.kind)]));
    const content = buildLabInventory({ spec, hosts, paths, ssh: { privateKey: '/lab/ssh/id', knownHosts: '/lab/ssh/kh' } });
    const inventory = parseInventory('mig.yaml', stringify(content));
    const controller = inventory.hosts.find((h) => h.name === 'controller-52');
    expect(controller?.roles).toEqual(['controller']);
    expect(controller?.kafka.jmxPort).toBe(LAB_JMX_PORT);
    const start = renderCommand(controller?.kafka.commands.start ?? '', controller ?? (undefined as never));
    expect(start).toContain('-Dcom.sun.management.jmxremote.port=9999');
    expect(start).toContain('-Dcom.sun.management.jmxremote.host=127.0.50.52');
    expect(start).toMatch(/kafka-server-start\.sh -daemon \S+controller-52\/etc\/kafka\/server\.properties$/);
    // Brokers keep the default start template and no JMX.
    const broker = inventory.hosts.find((h) => h.name === 'kafka-1');
    expect(broker?.kafka.jmxPort).toBeUndefined();
    expect(broker?.kafka.commands.start).not.toContain('jmxremote');
  });

  it('refuses migration controllers outside zookeeper mode and out of range', () => {
    expect(() => resolveLabSpec({ mode: 'kraft', migrationControllers: 3 })).toThrow(/--migration-controllers: only a zookeeper-mode lab/);
    expect(() => resolveLabSpec({ mode: 'zookeeper', migrationControllers: 10 })).toThrow(LabSpecError);
    expect(resolveLabSpec({ mode: 'zookeeper' }).migrationControllers).toBeUndefined();
  });
});
