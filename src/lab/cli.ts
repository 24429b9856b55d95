import { Command, InvalidArgumentError } from 'commander';
import { addHost, labDown, labDownAll, labStatus, labUp, listLabs, runOnHost } from './cluster';
import { addMirrorMakerHost } from './mirror-maker';
import { temporalDown, temporalStatus, temporalUp } from './temporal';

/** `npm run lab -- <command>`: build, inspect and tear down lab clusters and the Temporal dev server. */

const int = (what: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${what} must be an integer`);
  return n;
};

function printStatus(name: string): boolean {
  const s = labStatus(name);
  if (!s) return false;
  console.log(`lab ${s.name} (${s.mode}${s.clusterId ? `, cluster id ${s.clusterId}` : ''}) inventory ${s.inventoryPath}`);
  console.log(['HOST', 'ADDRESS', 'ROLES', 'NODE', 'RACK', 'VERSION', 'PID', 'STATE', 'SSHD'].map((h, i) => h.padEnd([16, 14, 20, 5, 8, 8, 8, 8, 0][i] ?? 0)).join(' '));
  for (const h of s.hosts) {
    console.log(
      [h.name.padEnd(16), h.address.padEnd(14), h.roles.join(',').padEnd(20), String(h.nodeId ?? '-').padEnd(5), (h.rack ?? '-').padEnd(8), (h.version ?? '-').padEnd(8),
        String(h.service.pid ?? '-').padEnd(8), (h.service.alive ? 'running' : 'stopped').padEnd(8), `${h.sshd.alive ? 'up' : 'down'} (${h.sshd.pid ?? '-'})`].join(' '),
    );
  }
  return true;
}

const program = new Command('lab').description('Local Kafka lab: SSH-reachable hosts on 127.0.S.x').enablePositionalOptions();

program
  .command('up')
  .description('build and start a lab cluster; writes .lab/inventory/<name>.yaml')
  .option('--name <name>', 'cluster name', 'lab')
  .option('--mode <mode>', 'kraft or zookeeper', 'kraft')
  .option('--brokers <n>', 'number of brokers', int('--brokers'), 3)
  .option('--controllers <combined|n>', '"combined" or a number of controller-only hosts', 'combined')
  .option('--version <v>', 'Kafka version (default 4.3.1 for kraft, 3.9.2 for zookeeper)')
  .option('--racks <n>', 'spread brokers round-robin over n racks (0: no broker.rack)', int('--racks'), 0)
  .option('--subnet <s>', 'addresses 127.0.S.x', int('--subnet'), 1)
  .option('--migration-controllers <n>', 'zookeeper mode: n controller hosts left unconfigured and stopped, for the migration runbook', int('--migration-controllers'))
  .option('--temporal', 'also start the Temporal dev server')
  .action(async (o: { name: string; mode: string; brokers: number; controllers: string; version?: string; racks: number; subnet: number; migrationControllers?: number; temporal?: boolean }) => {
    const cluster = await labUp({ ...o, controllers: o.controllers === 'combined' ? 'combined' : Number(o.controllers) });
    console.log(`lab ${cluster.name} up in ${(cluster.startupMs / 1000).toFixed(1)} s: ${cluster.mode}, Kafka ${cluster.version}, cluster id ${cluster.clusterId}`);
    console.log(`bootstrap servers: ${cluster.bootstrapServers.join(',')}`);
    console.log(`inventory: ${cluster.inventoryPath}`);
    if (cluster.temporal) console.log(`temporal: ${cluster.temporal.address} (UI ${cluster.temporal.uiUrl})`);
    printStatus(cluster.name);
  });

program
  .command('down')
  .description('stop everything a lab started (by recorded pids) and check nothing is left')
  .option('--name <name>', 'cluster name', 'lab')
  .option('--all', 'every lab cluster and the Temporal dev server')
  .option('--grace-ms <ms>', 'SIGTERM grace before SIGKILL', int('--grace-ms'), 20000)
  .action(async (o: { name: string; all?: boolean; graceMs: number }) => {
    const results = o.all ? await labDownAll({ graceMs: o.graceMs }) : [await labDown(o.name, { graceMs: o.graceMs })];
    for (const r of results) {
      if (!r.wasRunning) {
        console.log(`lab ${r.name}: not running`);
        continue;
      }
      const forced = r.stopped.filter((s) => s.forced).length;
      console.log(`lab ${r.name}: stopped ${r.stopped.length} processes${forced ? ` (${forced} needed SIGKILL)` : ''}${r.temporalStopped ? ' and Temporal' : ''}`);
      for (const l of r.leftovers) console.log(`  leftover killed: ${l.pid} ${l.cmdline.slice(0, 160)}`);
    }
    if (o.all && results.length === 0) console.log('no lab clusters');
  });

program
  .command('status')
  .description('hosts, addresses, pids and whether they run')
  .option('--name <name>', 'cluster name (default: every lab)')
  .action((o: { name?: string }) => {
    const names = o.name ? [o.name] : listLabs();
    if (names.length === 0) console.log('no lab clusters');
    for (const n of names) if (!printStatus(n)) console.log(`no lab named ${n}`);
    const t = temporalStatus();
    console.log(t ? `temporal: ${t.address} pid ${t.pid} ${t.alive ? 'running' : 'stopped'} (started by ${t.startedBy})` : 'temporal: not started by the lab');
  });

program
  .command('add-host')
  .description('provision one more broker host (Kafka left stopped and unformatted) and add it to the inventory')
  .requiredOption('--node-id <id>', 'node id; the host gets address 127.0.S.<id>', int('--node-id'))
  .option('--name <name>', 'cluster name', 'lab')
  .option('--rack <rack>', 'broker.rack for the new broker')
  .action(async (o: { name: string; nodeId: number; rack?: string }) => {
    const host = await addHost(o.name, { nodeId: o.nodeId, rack: o.rack });
    console.log(`added ${host.name} at ${host.address} (node id ${host.nodeId}${host.rack ? `, ${host.rack}` : ''}); Kafka not started`);
  });

program
  .command('add-mm2')
  .description("provision a MirrorMaker 2 host on the backup lab's subnet (MM2 stopped) and name the backup cluster and it in the source lab's inventory")
  .requiredOption('--backup <lab>', 'the backup lab (already up)')
  .option('--name <name>', 'the source lab', 'lab')
  .option('--octet <n>', 'the host gets address 127.0.<backup subnet>.<n>', int('--octet'))
  .action(async (o: { name: string; backup: string; octet?: number }) => {
    const host = await addMirrorMakerHost(o.name, o.backup, { octet: o.octet });
    console.log(`added MirrorMaker 2 host ${host.name} at ${host.address} to lab ${o.backup}; ${o.name}'s inventory names it and backup cluster ${o.backup}`);
  });

program
  .command('exec')
  .description('run a shell command on a lab host over SSH')
  .argument('<host>', 'host name or address')
  .argument('<command...>', 'command')
  .option('--name <name>', 'cluster name', 'lab')
  // Options after the host belong to the remote command (e.g. kafka-topics.sh --bootstrap-server ...).
  .passThroughOptions()
  .action(async (host: string, command: string[], o: { name: string }) => {
    const r = await runOnHost(o.name, host, command.join(' '));
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.code;
  });

const temporal = program.command('temporal').description('the Temporal dev server on 127.0.0.1:7233 (UI :8233)');
temporal.command('up').action(async () => {
  const t = await temporalUp();
  console.log(`temporal ${t.started ? 'started' : 'already running'}: ${t.address} pid ${t.pid}, UI ${t.uiUrl}`);
});
temporal.command('down').action(async () => {
  console.log((await temporalDown()) ? 'temporal stopped' : 'temporal: not running');
});
temporal.command('status').action(() => {
  const t = temporalStatus();
  console.log(t ? `temporal: ${t.address} pid ${t.pid} ${t.alive ? 'running' : 'stopped'}` : 'temporal: not started by the lab');
});

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
