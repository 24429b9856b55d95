import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { labDown, labUp, runOnHost } from '../../src/lab';
import { eventually, inventoryHost, loadLabInventory, processesOfLab, registeredBrokers, runHostCommand, useLab } from './support/lab';

// The lab is what every other e2e test stands on: brokers that register, hosts reachable only through
// their own sshd with verified host keys, start/stop through the inventory's command templates, and a
// `down` that leaves nothing behind.

describe('lab: 3-node KRaft cluster, Kafka 4.3.1', () => {
  const lab = useLab({ name: 'e2e-lab-kraft', subnet: 11 });

  test('every broker registers and the written inventory loads with the lab hosts', async () => {
    expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
    const inventory = loadLabInventory(lab());
    expect(inventory.mode).toBe('kraft');
    expect(inventory.bootstrapServers).toEqual(['127.0.11.1:9092', '127.0.11.2:9092', '127.0.11.3:9092']);
    expect(inventory.hosts.map((h) => [h.name, h.address, h.nodeId, h.roles])).toEqual([
      ['kafka-1', '127.0.11.1', 1, ['broker', 'controller']],
      ['kafka-2', '127.0.11.2', 2, ['broker', 'controller']],
      ['kafka-3', '127.0.11.3', 3, ['broker', 'controller']],
    ]);
    expect(lab().startupMs).toBeGreaterThan(0);
  }, 30_000);

  test("each host answers on its own address's sshd, with the host key checked, and reports Kafka running", async () => {
    const inventory = loadLabInventory(lab());
    for (const host of inventory.hosts) {
      // SSH_CONNECTION is "client-ip client-port server-ip server-port": proves which sshd answered.
      const who = await runOnHost(lab().name, host.name, 'echo "$SSH_CONNECTION"; id -un');
      expect(who.code).toBe(0);
      expect(who.stdout).toContain(`${host.address} 2222`);
      expect(who.stdout).toContain('root');
      const status = await runHostCommand(host, 'status');
      expect(status).toMatchObject({ code: 0 });
    }
    const quorum = await runHostCommand(inventoryHost(inventory, 'kafka-1'), 'tool', { tool: 'kafka-metadata-quorum.sh' }, `--bootstrap-server ${inventory.bootstrapServers.join(',')} describe --status`);
    expect(quorum.code).toBe(0);
    expect(quorum.stdout).toMatch(/CurrentVoters:.*"id": 1.*"id": 2.*"id": 3/);
    // `npm run lab -- exec`, as the demo uses it: options after the host belong to the remote command.
    const viaCli = await promisify(execFile)('npx', ['tsx', 'src/lab/cli.ts', 'exec', '--name', lab().name, 'kafka-1', 'echo', '--bootstrap-server', 'x', '--name', 'y']);
    expect(viaCli.stdout.trim()).toBe('--bootstrap-server x --name y');
  }, 60_000);

  test('a broker stopped over SSH leaves the cluster, refuses a double start, and rejoins when started', async () => {
    const kafka2 = inventoryHost(loadLabInventory(lab()), 'kafka-2');
    expect((await runHostCommand(kafka2, 'start')).code).not.toBe(0); // already running: the pid file guards it

    expect((await runHostCommand(kafka2, 'stop')).code).toBe(0);
    await eventually('kafka-2 to leave', () => registeredBrokers(lab()), (ids) => ids.join() === '1,3');
    await eventually('kafka-2 process to exit', () => runHostCommand(kafka2, 'status'), (r) => r.code !== 0);

    expect((await runHostCommand(kafka2, 'start')).code).toBe(0);
    await eventually('kafka-2 to rejoin', () => registeredBrokers(lab()), (ids) => ids.join() === '1,2,3', 120_000);
    expect((await runHostCommand(kafka2, 'status')).code).toBe(0);
  }, 180_000);

  test('down stops every process the lab started, including the restarted broker', async () => {
    expect(processesOfLab(lab()).length).toBeGreaterThanOrEqual(6); // 3 sshd + 3 JVMs
    const result = await labDown(lab().name);
    expect(result.wasRunning).toBe(true);
    expect(result.leftovers).toEqual([]);
    expect(result.stopped.filter((s) => s.what === 'kafka')).toHaveLength(3);
    expect(processesOfLab(lab())).toEqual([]);
    expect((await labDown(lab().name)).wasRunning).toBe(false);
  }, 60_000);
});

describe('lab: ZooKeeper mode, Kafka 3.9.2', () => {
  const lab = useLab({ name: 'e2e-lab-zk', mode: 'zookeeper', subnet: 12 });

  test('brokers register with the ZooKeeper host, which the tools reach over SSH', async () => {
    expect(lab().version).toBe('3.9.2');
    expect(await registeredBrokers(lab())).toEqual([1, 2, 3]);
    const inventory = loadLabInventory(lab());
    expect(inventory.zookeeperConnect).toBe('127.0.12.100:2181');
    const zk = inventoryHost(inventory, 'zookeeper');
    expect((await runHostCommand(zk, 'status')).code).toBe(0);
    const clusterId = await runHostCommand(zk, 'tool', { tool: 'zookeeper-shell.sh' }, `${inventory.zookeeperConnect} get /cluster/id`);
    expect(clusterId.stdout).toContain(`"id":"${lab().clusterId}"`);
  }, 60_000);

  test('down leaves no process of the lab behind', async () => {
    const result = await labDown(lab().name);
    expect(result.stopped.map((s) => s.what).sort()).toEqual(['kafka', 'kafka', 'kafka', 'sshd', 'sshd', 'sshd', 'sshd', 'zookeeper']);
    expect(result.leftovers).toEqual([]);
    expect(processesOfLab(lab())).toEqual([]);
  }, 60_000);
});

describe('lab: requests it must refuse', () => {
  test('zookeeper mode with Kafka 4.x is refused before anything starts', async () => {
    await expect(labUp({ name: 'e2e-lab-refused', mode: 'zookeeper', version: '4.3.1', subnet: 13 })).rejects.toThrow(/4\.x runs only in KRaft mode/);
  }, 30_000);
});
