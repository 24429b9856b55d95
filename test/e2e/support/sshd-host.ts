import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { parseInventory } from '../../../src/inventory/load';
import { type Inventory } from '../../../src/inventory/schema';
import { type CommandResult, sshExec } from '../../../src/lab';
import { hostPaths, type HostPaths, sshPaths, type SshPaths } from '../../../src/lab/paths';
import { terminate } from '../../../src/lab/process';
import { ensureClientKey, ensureHostKey, startSshd, updateKnownHosts } from '../../../src/lab/ssh';
import { LAB_SSH_PORT } from '../../../src/lab/topology';

/**
 * One real lab host without Kafka: the lab's own sshd (key auth, verified host key) on 127.0.<subnet>.1,
 * with its own keys and known_hosts in a temp dir. For tests of what the engine does over SSH that need
 * no broker: command timeouts, file edits, error messages. No JVM is started, so no lab lock is needed.
 */
export interface SshdHost {
  address: string;
  port: number;
  root: string;
  paths: HostPaths;
  ssh: SshPaths;
  /** Runs a command with the ssh client (not the code under test). */
  run(command: string): Promise<CommandResult>;
  /** An inventory naming this host, with `kafka` and `ssh` fields merged over the defaults. */
  inventory(opts: { cluster: string; kafka?: Record<string, unknown>; ssh?: Record<string, unknown> }): Inventory;
  stop(): Promise<void>;
}

export async function startSshdHost(name: string, subnet: number): Promise<SshdHost> {
  const root = mkdtempSync(join(tmpdir(), `kafka-runbooks-${name}-`));
  const ssh = sshPaths(root);
  await ensureClientKey(ssh);
  const address = `127.0.${subnet}.1`;
  const key = await ensureHostKey(ssh, address);
  await updateKnownHosts(ssh, [{ address, publicKey: key.publicKey }]);
  const paths = hostPaths(root, name, 'h1', 'kafka');
  for (const dir of [join(paths.root, 'etc', 'kafka'), paths.logDir, paths.dataDir]) mkdirSync(dir, { recursive: true });
  const pid = await startSshd(address, paths, ssh, key.file);
  const target = { address, port: LAB_SSH_PORT, user: 'root', privateKeyFile: ssh.privateKey, knownHostsFile: ssh.knownHosts };
  return {
    address,
    port: LAB_SSH_PORT,
    root,
    paths,
    ssh,
    run: (command) => sshExec(target, command, { timeoutMs: 30_000 }),
    inventory({ cluster, kafka = {}, ssh: sshOverrides = {} }) {
      const doc = {
        name: cluster,
        mode: 'zookeeper',
        zookeeperConnect: `${address}:2181`,
        bootstrapServers: [`${address}:9092`],
        defaults: {
          ssh: { user: 'root', port: LAB_SSH_PORT, privateKeyFile: ssh.privateKey, knownHostsFile: ssh.knownHosts, ...sshOverrides },
          kafka: {
            installDir: join(paths.root, 'opt', 'kafka'),
            currentLink: paths.currentLink,
            configFile: paths.configFile,
            dataDirs: [paths.dataDir],
            logDir: paths.logDir,
            pidFile: paths.pidFile,
            ...kafka,
          },
        },
        hosts: [{ name: 'h1', address, nodeId: 1, roles: ['broker'] }],
      };
      return parseInventory(`${cluster}.yaml`, toYaml(doc));
    },
    async stop() {
      await terminate([pid], 5000);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
