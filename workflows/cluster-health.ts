import { ActivityFailure } from '@temporalio/workflow';
import { unsafeToProceed } from '../src/errors';
import { evaluateHealth, type HealthReport, renderHealthMarkdown } from '../src/health';
import { type ClusterMetadata, type QuorumState } from '../src/model/cluster';
import { type ClusterHealthInput, clusterHealthInput } from '../src/runbooks/cluster-health';
import { clusterNamedIn } from '../src/runbooks/input';
import { ActivityKind, proxyOfKind, parsedInput } from './activity-options';
import { describe, RunbookControls } from './controls';

const cluster = proxyOfKind(ActivityKind.Read);

export interface ClusterHealthResult {
  report: HealthReport;
  markdown: string;
}

/**
 * clusterHealth: a read-only check of a cluster against its inventory.
 * Guarantees: changes nothing on the cluster or its hosts; always returns a report when any part of the
 * cluster answers (an unreachable Kafka, quorum or host is itself a finding); fails only on bad input or
 * an unknown cluster, or, when `failWhenUnhealthy` is set, after reporting a cluster that is not healthy.
 */
export async function clusterHealth(rawInput: ClusterHealthInput): Promise<ClusterHealthResult> {
  const controls = new RunbookControls({ runbook: 'clusterHealth', cluster: clusterNamedIn(rawInput) });
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('clusterHealth', clusterHealthInput, rawInput));
    const inventory = await controls.step('read the inventory', () => cluster.describeInventory(input.cluster));
    const metadata = await controls.step('read cluster metadata over the Kafka protocol', () => readMetadataOrNull(input.cluster, inventory.mode));
    const quorum = inventory.mode === 'kraft' ? await controls.step('read the KRaft quorum', () => readQuorumOrNull(input.cluster)) : null;
    const hosts = await controls.step('inspect hosts over SSH', () => cluster.inspectHosts(input.cluster));
    const report = evaluateHealth({
      metadata: metadata.value ? { ...metadata.value, quorum: quorum?.value ?? null } : emptyMetadata(inventory.mode),
      kafkaError: metadata.error,
      quorumError: quorum?.error ?? null,
      hosts,
      expected: inventory.expected,
      checkedAt: new Date().toISOString(),
      diskWarnPercent: input.diskWarnPercent,
      diskCriticalPercent: input.diskCriticalPercent,
    });
    const markdown = renderHealthMarkdown(report, input.cluster);
    controls.extraDetails = markdown;
    controls.setDetail(`cluster is ${report.status}`);
    if (input.failWhenUnhealthy && report.status !== 'healthy') {
      throw unsafeToProceed(`cluster ${input.cluster} is ${report.status}: ${report.findings.slice(0, 3).map((f) => f.message).join('; ')}`, report);
    }
    return { report, markdown };
  });
}

interface Reading<T> {
  value: T | null;
  error: string | null;
}

async function readMetadataOrNull(name: string, _mode: string): Promise<Reading<ClusterMetadata>> {
  try {
    return { value: await cluster.readClusterMetadata(name), error: null };
  } catch (err) {
    if (err instanceof ActivityFailure) return { value: null, error: describe(err) };
    throw err;
  }
}

async function readQuorumOrNull(name: string): Promise<Reading<QuorumState>> {
  try {
    return { value: await cluster.readQuorumState(name), error: null };
  } catch (err) {
    if (err instanceof ActivityFailure) return { value: null, error: describe(err) };
    throw err;
  }
}

function emptyMetadata(mode: 'kraft' | 'zookeeper'): ClusterMetadata {
  return { clusterId: null, mode, controllerId: null, brokers: [], topics: [], reassignments: [], quorum: null };
}
