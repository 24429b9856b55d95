import { join, resolve } from 'node:path';

/** Where the lab keeps its state, keys and inventories, and where fetched tools live. */

export const repoRoot = resolve(__dirname, '..', '..');

/** Root of all lab state: `.lab/` in the repo unless LAB_DIR says otherwise. */
export function labRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.LAB_DIR ?? join(repoRoot, '.lab'));
}

/** Kafka installs fetched by scripts/fetch-kafka.sh: `<dir>/<version>/{bin,libs,config}`. */
export function kafkaToolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.KAFKA_TOOLS_DIR ?? join(repoRoot, '.tools', 'kafka'));
}

export const fetchKafkaScript = join(repoRoot, 'scripts', 'fetch-kafka.sh');

export interface SshPaths {
  dir: string;
  privateKey: string;
  publicKey: string;
  knownHosts: string;
  authorizedKeys: string;
  /** One host key per address, kept across `lab up`s so known_hosts lines stay valid. */
  hostKeysDir: string;
}

export function sshPaths(root: string): SshPaths {
  const dir = join(root, 'ssh');
  return {
    dir,
    privateKey: join(dir, 'id_ed25519'),
    publicKey: join(dir, 'id_ed25519.pub'),
    knownHosts: join(dir, 'known_hosts'),
    authorizedKeys: join(dir, 'authorized_keys'),
    hostKeysDir: join(dir, 'host-keys'),
  };
}

export const clusterDir = (root: string, name: string): string => join(root, name);
export const clusterStateFile = (root: string, name: string): string => join(root, name, 'lab.json');
export const inventoryFile = (root: string, name: string): string => join(root, 'inventory', `${name}.yaml`);

/** `mm2`: a MirrorMaker 2 host (Kafka installed, no broker). */
export type HostKind = 'kafka' | 'zookeeper' | 'mm2';

/** One lab host's file tree, laid out like a production host under `<cluster>/hosts/<host>/`. */
export interface HostPaths {
  root: string;
  sshdConfig: string;
  hostKey: string;
  sshdPidFile: string;
  sshdLog: string;
  /** Holds one install per version: kafka_2.13-<version>. */
  installDir: string;
  currentLink: string;
  configFile: string;
  dataDir: string;
  logDir: string;
  pidFile: string;
}

export function hostPaths(root: string, cluster: string, host: string, kind: HostKind): HostPaths {
  const h = join(root, cluster, 'hosts', host);
  const service = kind === 'zookeeper' ? 'zookeeper' : kind === 'mm2' ? 'mirrormaker' : 'kafka';
  return {
    root: h,
    sshdConfig: join(h, 'etc', 'ssh', 'sshd_config'),
    hostKey: join(h, 'etc', 'ssh', 'ssh_host_ed25519_key'),
    sshdPidFile: join(h, 'run', 'sshd.pid'),
    sshdLog: join(h, 'var', 'log', 'sshd.log'),
    installDir: join(h, 'opt', 'kafka'),
    currentLink: join(h, 'opt', 'kafka', 'current'),
    configFile: join(h, 'etc', service, kind === 'zookeeper' ? 'zookeeper.properties' : kind === 'mm2' ? 'mm2.properties' : 'server.properties'),
    dataDir: join(h, 'var', 'lib', service, 'data'),
    logDir: join(h, 'var', 'log', service),
    pidFile: join(h, 'run', `${service}.pid`),
  };
}

export const installName = (version: string): string => `kafka_2.13-${version}`;
