import { renderCommand, shellQuote } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { scrub } from '../src/redact';
import { BROKER_STATE_LOG_PATTERN, type BrokerStateReading, brokerStateFrom } from '../src/rolling/tool-output';
import { logInfo, type NodeActivityDeps, nodeHosts, statusShell, tagged } from './node-hosts';
import { type HostShell } from './ssh';

export interface StopResult {
  /** False when the process was not running: nothing was sent. */
  wasRunning: boolean;
  output: string;
}

export interface StartResult {
  /** True when the process was already running: nothing was started. */
  alreadyRunning: boolean;
  output: string;
}

/** The broker state from server.log (see readBrokerState). */
export async function readBrokerStateOn(shell: HostShell, host: InventoryHost): Promise<BrokerStateReading> {
  const pattern = BROKER_STATE_LOG_PATTERN;
  const script = [
    `if ${statusShell(host)}; then echo "RUNNING 1"; else echo "RUNNING 0"; fi`,
    `for f in $(ls -1t ${shellQuote(host.kafka.logDir)}/server.log* 2>/dev/null | head -n 30); do`,
    `  case "$f" in *.gz) l="$(zcat "$f" 2>/dev/null | grep -E ${shellQuote(pattern)} | tail -n 1 || true)" ;; *) l="$(grep -E ${shellQuote(pattern)} "$f" | tail -n 1 || true)" ;; esac`,
    '  if [ -n "$l" ]; then echo "LINE $l"; break; fi',
    'done',
  ].join('\n');
  const r = await shell.exec(host, `bash -c ${shellQuote(script)}`, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`cannot read the broker state on ${host.name} (exit ${r.code}): ${scrub(r.stderr)}`);
  return brokerStateFrom(tagged(r.stdout, 'RUNNING') === '1', tagged(r.stdout, 'LINE'));
}

/** A node's process: stop, kill and start with the inventory's templates, and the broker state its log reports. */
export function createNodeProcessActivities({ clusters, shell }: NodeActivityDeps) {
  const { kafkaHost, run, isRunning } = nodeHosts({ clusters, shell });
  return {
    /**
     * Runs the inventory's stop template (controlled shutdown: the broker moves its leaderships away, then
     * exits). Returns at once; waitForProcessExit waits. Idempotent: a stopped node is left alone.
     */
    async stopNode(cluster: string, hostName: string): Promise<StopResult> {
      const host = kafkaHost(cluster, hostName);
      if (!(await isRunning(host))) return { wasRunning: false, output: '' };
      const r = await run(host, renderCommand(host.kafka.commands.stop, host), 120_000);
      if (r.code !== 0) throw new Error(`stop on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout, 500)}`);
      logInfo('stop sent', { host: host.name });
      return { wasRunning: true, output: scrub(r.stdout) };
    },

    /** The kill template (SIGKILL). Only after a human approved it: the node will recover its logs on start. */
    async killNode(cluster: string, hostName: string): Promise<StopResult> {
      const host = kafkaHost(cluster, hostName);
      if (!(await isRunning(host))) return { wasRunning: false, output: '' };
      const r = await run(host, renderCommand(host.kafka.commands.kill, host), 60_000);
      if (r.code !== 0) throw new Error(`kill on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout, 500)}`);
      logInfo('node killed', { host: host.name });
      return { wasRunning: true, output: scrub(r.stdout) };
    },

    /** Runs the start template. Idempotent: a running node is left alone. */
    async startNode(cluster: string, hostName: string): Promise<StartResult> {
      const host = kafkaHost(cluster, hostName);
      if (await isRunning(host)) return { alreadyRunning: true, output: '' };
      const r = await run(host, renderCommand(host.kafka.commands.start, host), 120_000);
      if (r.code !== 0) throw new Error(`start on ${host.name} exited ${r.code}: ${scrub(r.stderr || r.stdout, 500)}`);
      logInfo('start sent', { host: host.name });
      return { alreadyRunning: false, output: scrub(r.stdout) };
    },

    /**
     * The broker's BrokerState as its server.log last reported it (KRaft: BrokerLifecycleManager transitions,
     * the BrokerServer's final SHUTDOWN; ZooKeeper mode: KafkaServer started / shutting down), searching
     * rotated logs newest first. There is no JMX here, so this is the cheap stand-in; UNKNOWN when no line
     * tells (controller-only nodes have no broker state).
     */
    async readBrokerState(cluster: string, hostName: string): Promise<BrokerStateReading> {
      return readBrokerStateOn(shell, kafkaHost(cluster, hostName));
    },
  };
}
