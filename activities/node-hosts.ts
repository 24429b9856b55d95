import { CancelledFailure } from '@temporalio/common';
import { invalidInput } from '../src/errors';
import { renderCommand } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { type NodeId } from '../src/model/cluster';
import { type ClusterRegistry } from './clusters';
import { activityContext, keepHeartbeating } from './heartbeat';
import { isKafkaRunning } from './node-status';
import { type CommandResult, type HostShell } from './ssh';

/** What every node activity factory is built from. */
export interface NodeActivityDeps {
  clusters: ClusterRegistry;
  shell: HostShell;
  /** Pause between polls of the waits (default 1000 ms). Tests shorten it. */
  pollIntervalMs?: number;
}

export function logInfo(message: string, attrs: Record<string, unknown>): void {
  activityContext()?.log.info(message, attrs);
}

/** Heartbeats every 5 s while one long command runs (unpacking an archive, a Kafka tool's JVM). */
export function heartbeatWhile<T>(details: Record<string, unknown>, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  return keepHeartbeating(() => ({ ...details, elapsedMs: Date.now() - started }), work);
}

export function rethrowCancellation(err: unknown): void {
  if (err instanceof CancelledFailure) throw err;
}

export const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

/** `2026-11-21T11:06:53.375Z` -> `20261121T110653Z`: sorts by time as text. */
export function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Lines of `TAG value` a host script printed. */
export function tagged(stdout: string, tag: string): string | null {
  const line = stdout.split('\n').find((l) => l.startsWith(`${tag} `) || l === tag);
  return line === undefined ? null : line.slice(tag.length + 1);
}

/** A shell test that succeeds while the host's status template says Kafka runs. */
export const statusShell = (host: InventoryHost): string => `( ${renderCommand(host.kafka.commands.status, host)} ) >/dev/null 2>&1`;

/** The inventory's Kafka nodes of a cluster, found by host name or node id, and commands run on them. */
export function nodeHosts({ clusters, shell }: Pick<NodeActivityDeps, 'clusters' | 'shell'>) {
  return {
    kafkaHost(cluster: string, hostName: string): InventoryHost {
      const host = clusters.host(cluster, hostName);
      if (!host.roles.includes('broker') && !host.roles.includes('controller')) {
        throw invalidInput(`host "${hostName}" of cluster "${cluster}" is not a broker or controller (roles: ${host.roles.join(', ')})`);
      }
      return host;
    },

    brokerNode(cluster: string, nodeId: NodeId): InventoryHost {
      const host = clusters.get(cluster).hosts.find((h) => h.nodeId === nodeId && h.roles.includes('broker'));
      if (!host) throw invalidInput(`cluster "${cluster}" has no broker with node id ${nodeId} in its inventory`);
      return host;
    },

    controllerNode(cluster: string, nodeId: NodeId): InventoryHost {
      const host = clusters.get(cluster).hosts.find((h) => h.nodeId === nodeId && h.roles.includes('controller'));
      if (!host) throw invalidInput(`cluster "${cluster}" has no KRaft controller with node id ${nodeId} in its inventory`);
      return host;
    },

    run(host: InventoryHost, command: string, timeoutMs = 60_000): Promise<CommandResult> {
      return shell.exec(host, command, { timeoutMs });
    },

    /** Running (LSB 0), not running (1-3), else throws: see isKafkaRunning. */
    isRunning(host: InventoryHost): Promise<boolean> {
      return isKafkaRunning(shell, host);
    },
  };
}
