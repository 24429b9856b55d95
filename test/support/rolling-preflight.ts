import type { Activities } from '../../activities';
import { rollingPreflight } from '../../src/rolling';

type Reads = Pick<Activities, 'describeInventory' | 'readClusterMetadata' | 'observeQuorum' | 'inspectHosts'>;

/** planRollingRestartFor over fake reads, as the real activity does it over the real ones (activities/cluster-reads.ts). */
export function rollingPreflightOver(reads: Reads): Activities['planRollingRestartFor'] {
  return async (cluster, input) => {
    const inv = await reads.describeInventory(cluster);
    const [metadata, quorum, hosts] = await Promise.all([reads.readClusterMetadata(cluster), inv.mode === 'kraft' ? reads.observeQuorum(cluster) : null, reads.inspectHosts(cluster)]);
    return rollingPreflight(input, { mode: inv.mode, expected: inv.expected, metadata, quorum, hosts, checkedAt: new Date().toISOString() });
  };
}

/** The fakes plus planRollingRestartFor over their own reads (so a test that overrides a read changes the preflight too). */
export function withRollingPreflight<T extends Reads>(fakes: T): T & Pick<Activities, 'planRollingRestartFor'> {
  return { ...fakes, planRollingRestartFor: rollingPreflightOver(fakes) };
}
