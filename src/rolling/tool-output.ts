/**
 * Reading what Kafka's tools and logs print on a host, for the node activities. Pure and workflow-safe, so
 * the rules are unit-tested apart from SSH.
 */

/** Kafka's BrokerState names; NOT_RUNNING when the process is down, UNKNOWN when no log line tells. */
export type BrokerStateName = 'NOT_RUNNING' | 'STARTING' | 'RECOVERY' | 'RUNNING' | 'PENDING_CONTROLLED_SHUTDOWN' | 'SHUTTING_DOWN' | 'UNKNOWN';

export interface BrokerStateReading {
  state: BrokerStateName;
  /** The log line (or status) the state was read from. */
  evidence: string;
}

/**
 * `grep -E` pattern for the server.log lines that tell a broker's state: KRaft BrokerLifecycleManager
 * ("... is now STARTING", "Transitioning from RECOVERY to RUNNING"), the BrokerServer's final SHUTDOWN,
 * and ZooKeeper mode's KafkaServer "started" / "shutting down" / "shut down completed".
 */
export const BROKER_STATE_LOG_PATTERN =
  'BrokerLifecycleManager id=[0-9]+\\] .*(is now [A-Z_]+|Transitioning from [A-Z_]+ to [A-Z_]+)|BrokerServer id=[0-9]+\\] Transition from [A-Z_]+ to SHUTDOWN|KafkaServer id=[0-9]+\\] (started|shutting down|shut down completed)';

const PREVIOUS_RUN = 'process running; the last line is from the previous run:';

/** BrokerState from the status template's answer and the last line matching BROKER_STATE_LOG_PATTERN. */
export function brokerStateFrom(running: boolean, line: string | null): BrokerStateReading {
  if (!running) return { state: 'NOT_RUNNING', evidence: 'status template: not running' };
  if (!line) return { state: 'UNKNOWN', evidence: 'process running; no lifecycle line in server.log' };
  const known: BrokerStateName[] = ['STARTING', 'RECOVERY', 'RUNNING', 'PENDING_CONTROLLED_SHUTDOWN', 'SHUTTING_DOWN'];
  const to = /Transition(?:ing)? from [A-Z_]+ to ([A-Z_]+)/.exec(line)?.[1] ?? /is now ([A-Z_]+)/.exec(line)?.[1];
  if (to) {
    // A SHUTDOWN line with the process up is the previous run's last word: the new one has not logged yet.
    if (to === 'SHUTDOWN' || to === 'NOT_RUNNING') return { state: 'STARTING', evidence: `${PREVIOUS_RUN} ${line}` };
    return { state: (known as string[]).includes(to) ? (to as BrokerStateName) : 'UNKNOWN', evidence: line };
  }
  if (/\] started/.test(line)) return { state: 'RUNNING', evidence: line };
  if (/\] shutting down/.test(line)) return { state: 'SHUTTING_DOWN', evidence: line };
  if (/\] shut down completed/.test(line)) return { state: 'STARTING', evidence: `${PREVIOUS_RUN} ${line}` };
  return { state: 'UNKNOWN', evidence: line };
}

export interface LeaderElectionOutcome {
  /** "topic-p" names whose preferred leader was elected now. */
  elected: string[];
  /** Already led by their preferred replica ("no election needed"). */
  alreadyPreferred: string[];
  /** Partitions the election failed for (e.g. the preferred replica is not in the ISR), with Kafka's reason. */
  failed: { partition: string; error: string }[];
}

/**
 * Reads kafka-leader-election.sh output (3.x and 4.x print the same lines; the tool exits 1 when any
 * partition failed). ElectionNotNeeded counts as already preferred, never as a failure.
 */
export function parseLeaderElection(output: string): LeaderElectionOutcome {
  const names = (list: string | undefined) =>
    (list ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  const elected = names(/Successfully completed leader election \(\w+\) for partitions (.*)$/m.exec(output)?.[1]);
  const alreadyPreferred = names(/Valid replica already elected for partitions (.*)$/m.exec(output)?.[1]);
  const failed: { partition: string; error: string }[] = [];
  for (const m of output.matchAll(/Error completing leader election \(\w+\) for partition: (\S+): (.*)$/gm)) {
    const partition = m[1] as string;
    const error = (m[2] ?? '').trim();
    if (/ElectionNotNeeded/i.test(error)) alreadyPreferred.push(partition);
    else failed.push({ partition, error });
  }
  return { elected, alreadyPreferred, failed };
}

/** The version in a `kafka-clients-<version>.jar` name (what a running JVM holds open), or null. */
export function versionFromClientsJar(name: string): string | null {
  return /^kafka-clients-(\d+\.\d+\.\d+(?:[-.][\w.]+?)?)\.jar$/.exec(name.trim())?.[1] ?? null;
}

/**
 * The partitions a node should lead again after its restart: it is their preferred (first) replica and does
 * not lead them now. Electing only these keeps the election about that node, and none means no tool run.
 */
export function partitionsToLeadAgain(metadata: { topics: { partitions: { topic: string; partition: number; leader: number; replicas: number[] }[] }[] }, nodeId: number): { topic: string; partition: number }[] {
  return metadata.topics.flatMap((t) => t.partitions.filter((p) => p.replicas[0] === nodeId && p.leader !== nodeId).map((p) => ({ topic: p.topic, partition: p.partition })));
}
