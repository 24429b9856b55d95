import { type NodeId } from '../src/model/cluster';
import { type LeaderElectionOutcome, parseLeaderElection, partitionsToLeadAgain } from '../src/rolling/tool-output';
import { createClusterReadActivities, runKafkaTool } from './cluster-reads';
import { withHostFile } from './host-files';
import { firstLine, heartbeatWhile, type NodeActivityDeps, rethrowCancellation } from './node-hosts';
import { type CommandResult, type HostShell } from './ssh';

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export interface LeaderElectionResult extends LeaderElectionOutcome {
  /** The host the tool ran on. */
  host: string;
}

/** Preferred leader elections after a node is back, with Kafka's own tool over SSH. */
export function createElectionActivities({ clusters, shell }: Pick<NodeActivityDeps, 'clusters' | 'shell'>) {
  const reads = createClusterReadActivities({ clusters, shell });

  /**
   * After a node is back: preferred leader election (named apart from the reassignment runbook's
   * electPreferredLeaders, which throws on any failed partition) with kafka-leader-election.sh on the first broker or controller host that
   * answers over SSH: every partition, the ones given, or the ones `preferredLeader` should lead again
   * (read from the metadata now; none means no tool run). Partitions already led by their preferred replica
   * ("no election needed") count as success. Partitions Kafka could not elect (preferred replica out of the
   * ISR) are returned in `failed`, not thrown: the next batch's guard decides whether that matters.
   */
  async function restorePreferredLeaders(cluster: string, scope: { partitions?: TopicPartitionRef[]; preferredLeader?: NodeId } = {}): Promise<LeaderElectionResult> {
    const inv = clusters.get(cluster);
    if (scope.preferredLeader !== undefined) {
      scope = { partitions: partitionsToLeadAgain(await reads.readClusterMetadata(cluster), scope.preferredLeader) };
    }
    if (scope.partitions && scope.partitions.length === 0) return { host: '', elected: [], alreadyPreferred: [], failed: [] };
    const candidates = inv.hosts.filter((h) => h.roles.includes('broker') || h.roles.includes('controller'));
    const errors: string[] = [];
    for (const host of candidates) {
      let last: CommandResult | null = null;
      const recording: HostShell = {
        exec: async (h, command, opts) => (last = await shell.exec(h, command, opts)),
        close: async () => undefined, // the shared shell outlives this call
      };
      const elect = async (args: string[]): Promise<LeaderElectionResult> => {
        let stdout: string;
        try {
          stdout = await heartbeatWhile({ step: 'preferred leader election', host: host.name }, () =>
            runKafkaTool(recording, host, inv.bootstrapServers, inv.client.toolCommandConfig, 'kafka-leader-election.sh', ['--election-type', 'PREFERRED', ...args], { timeoutMs: 120_000 }),
          );
        } catch (err) {
          const r = last as CommandResult | null;
          // A non-zero exit with per-partition results is an answer (some partitions failed), not an error.
          if (!r || !/leader election|Valid replica already elected/i.test(`${r.stdout}\n${r.stderr}`)) throw err;
          stdout = `${r.stdout}\n${r.stderr}`;
        }
        return { host: host.name, ...parseLeaderElection(stdout) };
      };
      try {
        const partitions = scope.partitions;
        if (!partitions) return await elect(['--all-topic-partitions']);
        // The list goes to a host file on stdin: thousands of partitions do not fit on a command line.
        const json = JSON.stringify({ partitions: partitions.map((p) => ({ topic: p.topic, partition: p.partition })) });
        return await withHostFile(shell, host, json, (file) => elect(['--path-to-json-file', file]));
      } catch (err) {
        rethrowCancellation(err);
        errors.push(`${host.name}: ${firstLine(err)}`);
      }
    }
    throw new Error(`preferred leader election failed on every host: ${errors.join('; ')}`);
  }

  return {
    // Reads metadata and tries host after host over SSH before the tool runs: heartbeat all along.
    restorePreferredLeaders: (...args: Parameters<typeof restorePreferredLeaders>) => heartbeatWhile({ step: 'preferred leader election' }, () => restorePreferredLeaders(...args)),
  };
}
