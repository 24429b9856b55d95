import { invalidInput } from '../src/errors';
import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { jmxToolArgs, jmxToolFailure, jmxUrl, MIGRATION_GAUGES, type MigrationGaugeReadings, parseJmxToolGauges } from '../src/migration/jmx-gauges';
import { type MigrationGauges } from '../src/migration/observe';
import { scrub } from '../src/redact';
import { type ClusterRegistry } from './clusters';
import { type HostShell } from './ssh';

export interface JmxActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
}

/** Kafka 3.5+ ships JmxTool in kafka-tools under this name (the Scala kafka.tools.JmxTool is gone). */
const JMX_TOOL_CLASS = 'org.apache.kafka.tools.JmxTool';

/**
 * Reads a KRaft controller's migration gauges with Kafka's own JmxTool, run over SSH on the controller host
 * against the JMX port the inventory names (`kafka.jmxPort`, bound to the host's address).
 */
export function createJmxActivities({ clusters, shell }: JmxActivityDeps) {
  const controllerWithJmx = (cluster: string, hostName: string): InventoryHost & { kafka: { jmxPort: number } } => {
    const host = clusters.host(cluster, hostName);
    if (!host.roles.includes('controller')) throw invalidInput(`host "${hostName}" of cluster "${cluster}" is not a KRaft controller (roles: ${host.roles.join(', ')})`);
    if (host.kafka.jmxPort === undefined) throw invalidInput(`host "${hostName}" of cluster "${cluster}" has no kafka.jmxPort in the inventory: the migration reads ZkMigrationState over JMX`);
    return host as InventoryHost & { kafka: { jmxPort: number } };
  };

  const runJmxTool = async (host: InventoryHost & { kafka: { jmxPort: number } }, gauges: string[]) => {
    const args = jmxToolArgs(jmxUrl(host.address, host.kafka.jmxPort), gauges);
    const command = `${renderCommand(host.kafka.commands.tool, host, { tool: 'kafka-run-class.sh' })} ${JMX_TOOL_CLASS} ${args.map(shellQuote).join(' ')}`;
    return shell.exec(host, command, { timeoutMs: 60_000 });
  };

  return {
    /**
     * ZkMigrationState, ZkWriteBehindLag, MigratingZkBrokerCount and ActiveControllerCount of one controller.
     * One JmxTool run reads them all; when it fails because a gauge does not exist (ZkWriteBehindLag is gone
     * after the finalize), each is read alone and a missing one is null, never 0. No JMX answer (controller
     * stopped, port closed) is an error, retried by Temporal.
     */
    async readMigrationGauges(cluster: string, hostName: string): Promise<MigrationGauges> {
      const host = controllerWithJmx(cluster, hostName);
      const all = Object.values(MIGRATION_GAUGES);
      const r = await runJmxTool(host, all);
      if (r.code === 0) return parseJmxToolGauges(r.stdout);
      const failure = jmxToolFailure(r.stderr);
      if (failure?.kind !== 'no-such-gauge') {
        throw new Error(`JmxTool on ${host.name} failed (exit ${r.code}): ${failure ? failure.message : scrub((r.stderr || r.stdout).trim().split('\n').slice(-2).join(' '), 300)}`);
      }
      const readings: MigrationGaugeReadings = parseJmxToolGauges('');
      for (const gauge of all) {
        const one = await runJmxTool(host, [gauge]);
        if (one.code === 0) {
          const parsed = parseJmxToolGauges(one.stdout);
          for (const [k, v] of Object.entries(parsed) as [keyof MigrationGaugeReadings, number | null][]) if (v !== null) readings[k] = v;
        } else if (jmxToolFailure(one.stderr)?.kind !== 'no-such-gauge') {
          throw new Error(`JmxTool on ${host.name} failed reading ${gauge} (exit ${one.code}): ${scrub(one.stderr.trim().split('\n').slice(-2).join(' '), 300)}`);
        }
      }
      return readings;
    },
  };
}

export type JmxActivities = ReturnType<typeof createJmxActivities>;
