import { readFileSync, readlinkSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { labLog } from './log';
import { type LabHost, LAB_KAFKA_VERSIONS, assertAddressesFree, provisionHost, readState, withPaths, writeInventory, writeState } from './cluster';
import { labRoot, sshPaths } from './paths';
import { ensureClientKey, updateKnownHosts } from './ssh';
import { type LabHostPlan, hostAddress, isBroker, labMirrorMakerCommands } from './topology';

/** Default last octet of the MirrorMaker 2 host, clear of brokers (1-49), controllers (51-59) and ZooKeeper (100). */
export const MM2_HOST_OCTET = 200;

/**
 * Provisions a MirrorMaker 2 host on the backup lab's subnet (Kafka installed, its sshd, MM2 left stopped: the
 * backup runbook starts it) and names the backup cluster and that host in the source lab's inventory. The host
 * belongs to the backup lab, so that lab's `down` stops MM2 before its brokers.
 */
export async function addMirrorMakerHost(sourceLab: string, backupLab: string, opts: { octet?: number } = {}): Promise<LabHost> {
  const root = labRoot();
  const source = readState(root, sourceLab);
  const backup = readState(root, backupLab);
  if (!source) throw new Error(`no lab named "${sourceLab}"`);
  if (!backup) throw new Error(`no lab named "${backupLab}"`);
  if (sourceLab === backupLab) throw new Error('the backup lab must be another lab than the source');
  const octet = opts.octet ?? MM2_HOST_OCTET;
  if (!Number.isInteger(octet) || octet < 101 || octet > 254) throw new Error(`--octet ${octet}: MirrorMaker hosts use 101 to 254`);
  const plan: LabHostPlan = { name: `mm2-${octet}`, address: hostAddress(backup.spec.subnet, octet), kind: 'mm2', roles: [], nodeId: null, rack: null };
  if (backup.hosts.some((h) => h.address === plan.address)) throw new Error(`lab ${backupLab} already has a host at ${plan.address}`);
  await assertAddressesFree([plan]);
  const model = backup.hosts.filter(isBroker).map((h) => withPaths(root, backupLab, h))[0];
  if (!model) throw new Error(`lab ${backupLab} has no broker`);
  const current = readlinkSync(model.paths.currentLink).replace(/^.*kafka_2\.13-/, '');
  const host = withPaths(root, backupLab, plan);
  const ssh = sshPaths(root);
  await ensureClientKey(ssh);
  const key = await provisionHost(root, backupLab, host, [...new Set([...LAB_KAFKA_VERSIONS, current])], current);
  await updateKnownHosts(ssh, [key]);
  backup.hosts.push(plan);
  writeState(root, backup);

  const raw = parseYaml(readFileSync(source.inventoryPath, 'utf8')) as Record<string, unknown>;
  raw.backup = {
    cluster: backupLab,
    mirrorMaker: {
      hosts: [{ name: plan.name, address: plan.address }],
      kafkaHome: host.paths.currentLink,
      configFile: host.paths.configFile,
      logDir: host.paths.logDir,
      pidFile: host.paths.pidFile,
      commands: { ...labMirrorMakerCommands },
    },
  };
  writeInventory(source.inventoryPath, raw, `Lab cluster "${sourceLab}", backed up to "${backupLab}" by MirrorMaker 2 on ${plan.name}, written by \`npm run lab -- add-mm2\` at ${new Date().toISOString()}.`);
  labLog.info({ host: plan.name, address: plan.address }, `lab ${backupLab}: MirrorMaker 2 host ${plan.name} provisioned for ${sourceLab} (MM2 stopped)`);
  return host;
}
