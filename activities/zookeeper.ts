import { invalidInput, unsafeToProceed } from '../src/errors';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { type MigrationZnodes } from '../src/migration/observe';
import { controllerEpochForRollback, heldByKRaftController, type MigrationZnodeReadings, parseControllerEpochZnode, parseControllerZnode, parseMigrationZnode, parseMigrationZnodeSession, parseZkGet, splitZkSession } from '../src/migration/znodes';
import { scrub } from '../src/redact';
import { type ClusterRegistry } from './clusters';
import { logInfo } from './node-hosts';
import { isKafkaRunning } from './node-status';
import { type HostShell } from './ssh';

export interface ZooKeeperActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
}

/** What deleteMigrationZnodes found and did with each znode. */
export type ZnodeDeletion = 'deleted' | 'absent' | 'kept: held by a ZooKeeper-mode broker' | 'deleted: its ZooKeeper-mode controller had an epoch below the KRaft one';

export interface MigrationZnodesDeleted {
  controller: ZnodeDeletion | 'not asked';
  migration: ZnodeDeletion | 'not asked';
  /** The znodes' data before the delete, for the run log (no secrets: Kafka writes ids and epochs there). */
  before: { controller: string | null; migration: string | null; controllerEpoch: number };
  /** /controller_epoch raised to the KRaft controller's epoch before /controller was deleted, if it was. */
  controllerEpochSetTo: number | null;
}

/** Each zookeeper-shell command gets this long: an unreachable ZooKeeper makes the shell retry forever. */
const ZK_COMMAND_TIMEOUT_S = 45;

/**
 * Reads and deletes the migration's znodes with ZooKeeper's own shell (Kafka's `zookeeper-shell.sh`), run
 * over SSH on the inventory's ZooKeeper host (else a broker host: both carry Kafka's bin/).
 */
export function createZooKeeperActivities({ clusters, shell }: ZooKeeperActivityDeps) {
  const shellHost = (inv: Inventory): InventoryHost => {
    if (!inv.zookeeperConnect) throw invalidInput(`cluster "${inv.name}" has no zookeeperConnect in its inventory: there is no ZooKeeper to read`);
    const host = inv.hosts.find((h) => h.roles.includes('zookeeper')) ?? inv.hosts.find((h) => h.roles.includes('broker'));
    if (!host) throw invalidInput(`cluster "${inv.name}" has no ZooKeeper or broker host to run zookeeper-shell.sh on`);
    return host;
  };

  /** Runs zookeeper-shell commands in one SSH command, each framed and bounded (see splitZkSession). */
  const session = async (cluster: string, commands: [name: string, args: string[]][]): Promise<string> => {
    const inv = clusters.get(cluster);
    const host = shellHost(inv);
    const zkShell = `${renderCommand(host.kafka.commands.tool, host, { tool: 'zookeeper-shell.sh' })} ${shellQuote(inv.zookeeperConnect as string)}`;
    const script = commands
      .map(([name, args]) => `echo '=== BEGIN ${name}'; timeout ${ZK_COMMAND_TIMEOUT_S} ${zkShell} ${args.map(shellQuote).join(' ')} 2>&1 </dev/null; echo "=== END ${name} $?"`)
      .join('\n');
    const r = await shell.exec(host, `bash -c ${shellQuote(script)}`, { timeoutMs: (ZK_COMMAND_TIMEOUT_S + 15) * 1000 * commands.length });
    if (r.code !== 0) throw new Error(`zookeeper-shell.sh on ${host.name} failed (exit ${r.code}): ${scrub(r.stderr || r.stdout, 300)}`);
    return r.stdout;
  };

  const readZnodes = async (cluster: string): Promise<MigrationZnodeReadings> =>
    parseMigrationZnodeSession(
      await session(cluster, [
        ['cluster-id', ['get', '-s', '/cluster/id']],
        ['controller', ['get', '-s', '/controller']],
        ['migration', ['get', '-s', '/migration']],
        ['broker-ids', ['ls', '/brokers/ids']],
      ]),
    );

  /** Deletes a znode at the version read (so a znode rewritten since is not deleted); a znode already gone is fine. */
  const deleteAtVersion = async (cluster: string, path: string, version: string): Promise<'deleted' | 'absent'> => {
    const out = splitZkSession(await session(cluster, [['delete', ['delete', '-v', version, path]]])).get('delete');
    if (!out) throw new Error(`zookeeper-shell printed nothing for delete ${path}`);
    if (out.exitCode === 0 && !/Exception|version No is not valid|BadVersion/i.test(out.text)) return 'deleted';
    if (/Node does not exist/.test(out.text)) return 'absent';
    // Rewritten since it was read (a controller came back?): retried, the next attempt reads it again.
    throw new Error(`delete ${path} (version ${version}) refused by ZooKeeper (exit ${out.exitCode}): ${scrub(out.text.trim().split('\n').slice(-2).join(' '), 300)}`);
  };

  /** Sets a znode at the version read (a znode rewritten since is not overwritten). */
  const setAtVersion = async (cluster: string, path: string, data: string, version: string): Promise<void> => {
    const out = splitZkSession(await session(cluster, [['set', ['set', '-v', version, path, data]]])).get('set');
    if (!out) throw new Error(`zookeeper-shell printed nothing for set ${path}`);
    if (out.exitCode !== 0 || /Exception|version No is not valid|BadVersion|Node does not exist/i.test(out.text)) {
      throw new Error(`set ${path} (version ${version}) refused by ZooKeeper (exit ${out.exitCode}): ${scrub(out.text.trim().split('\n').slice(-2).join(' '), 300)}`);
    }
  };

  return {
    /**
     * /cluster/id, /controller, /migration and the brokers registered in /brokers/ids, parsed from
     * zookeeper-shell.sh output (src/migration/znodes.ts), as the workflow's MigrationZnodes (never a null
     * cluster id: a ZooKeeper without /cluster/id is refused).
     */
    async readMigrationZnodes(cluster: string): Promise<MigrationZnodes> {
      return readZnodes(cluster);
    },

    /**
     * Rollback to ZooKeeper: deletes /controller, then /migration, so a ZooKeeper-mode broker becomes the
     * controller and a later migration starts afresh. Refuses while any controller host of the inventory runs
     * (a KRaft controller would take /controller back), and when /controller is held by another KRaft
     * controller than `expectControllerId`. /controller held by a ZooKeeper-mode broker is left alone (it
     * already is what the rollback wants). Each delete names the version read: a znode rewritten meanwhile is
     * not deleted. Idempotent: gone znodes are reported as absent.
     * Before /controller goes, /controller_epoch is raised to the KRaft controller's epoch
     * (controllerEpochForRollback): else the ZooKeeper-mode controller elected next aborts every election.
     */
    async deleteMigrationZnodes(cluster: string, opts: { controller?: boolean; migration?: boolean; expectControllerId?: number } = {}): Promise<MigrationZnodesDeleted> {
      const wantController = opts.controller ?? true;
      const wantMigration = opts.migration ?? true;
      const inv = clusters.get(cluster);
      const controllers = inv.hosts.filter((h) => h.roles.includes('controller') && !h.roles.includes('broker'));
      const running: string[] = [];
      for (const c of controllers) if (await isKafkaRunning(shell, c)) running.push(`${c.name} (node ${c.nodeId})`);
      if (running.length > 0) {
        throw unsafeToProceed(`not deleting the migration znodes of ${cluster}: KRaft controller(s) ${running.join(', ')} still run and would take /controller back; stop them first`);
      }
      const raw = await session(cluster, [
        ['controller', ['get', '-s', '/controller']],
        ['migration', ['get', '-s', '/migration']],
        ['controller-epoch', ['get', '-s', '/controller_epoch']],
      ]);
      const parts = splitZkSession(raw);
      const controllerNode = parseZkGet(parts.get('controller')?.text ?? raw, '/controller');
      const migrationNode = parseZkGet(parts.get('migration')?.text ?? raw, '/migration');
      const epochNode = parseZkGet(parts.get('controller-epoch')?.text ?? raw, '/controller_epoch');
      if (!epochNode.exists) throw unsafeToProceed(`${cluster}: ZooKeeper has no /controller_epoch: not a Kafka ZooKeeper, or not the one this cluster uses`);
      const epoch = parseControllerEpochZnode(epochNode.data);
      const controller = controllerNode.exists ? { ...parseControllerZnode(controllerNode.data), version: controllerNode.stat.dataVersion as string } : null;
      const result: MigrationZnodesDeleted = {
        controller: 'not asked',
        migration: 'not asked',
        before: { controller: controllerNode.exists ? controllerNode.data : null, migration: migrationNode.exists ? migrationNode.data : null, controllerEpoch: epoch },
        controllerEpochSetTo: null,
      };
      if (wantController) {
        if (controller && heldByKRaftController(controller) && opts.expectControllerId !== undefined && controller.brokerid !== opts.expectControllerId) {
          throw unsafeToProceed(`/controller of ${cluster} is held by KRaft controller ${controller.brokerid}, not ${opts.expectControllerId} as expected: not deleting it`);
        }
        // The KRaft epoch the partition states may carry: the next ZooKeeper-mode controller must come above it.
        const raiseTo = controllerEpochForRollback(epoch, [controller?.kraftControllerEpoch, migrationNode.exists ? parseMigrationZnode(migrationNode.data).kraftControllerEpoch : undefined]);
        if (raiseTo !== null) {
          await setAtVersion(cluster, '/controller_epoch', String(raiseTo), epochNode.stat.dataVersion as string);
          result.controllerEpochSetTo = raiseTo;
        }
        if (!controller) result.controller = 'absent';
        else if (heldByKRaftController(controller)) result.controller = await deleteAtVersion(cluster, '/controller', controller.version);
        else if (raiseTo !== null) {
          // A retried rollback found a ZooKeeper-mode controller elected below the KRaft epoch: elect it again, above.
          await deleteAtVersion(cluster, '/controller', controller.version);
          result.controller = 'deleted: its ZooKeeper-mode controller had an epoch below the KRaft one';
        } else result.controller = 'kept: held by a ZooKeeper-mode broker';
      }
      if (wantMigration) result.migration = migrationNode.exists ? await deleteAtVersion(cluster, '/migration', migrationNode.stat.dataVersion as string) : 'absent';
      logInfo('migration znodes deleted', { cluster, controller: result.controller, migration: result.migration, controllerEpochSetTo: result.controllerEpochSetTo });
      return result;
    },
  };
}

export type ZooKeeperActivities = ReturnType<typeof createZooKeeperActivities>;
