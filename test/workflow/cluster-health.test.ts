import { type Client, WorkflowFailedError } from '@temporalio/client';
import type { Activities } from '../../activities';
import { progressQuery, SA_CLUSTER, SA_RUNBOOK, SA_STATUS } from '../../src/names';
import { type ClusterMetadata, type HostObservation, type QuorumState } from '../../src/model/cluster';
import { type ClusterHealthResult } from '../../workflows/cluster-health';
import { startWorkflowTestBed, type WorkflowTestBed } from '../support/temporal';
import { hostObservation, quorum, threeBrokerCluster, threeBrokerInventory } from '../unit/health/builder';

type ReadActivities = Pick<Activities, 'describeInventory' | 'readClusterMetadata' | 'readQuorumState' | 'inspectHosts'>;

const TASK_QUEUE = 'health-test';
let bed: WorkflowTestBed;
let client: Client;

/** What the fakes answer; each test sets what it needs. */
let world: { mode: 'kraft' | 'zookeeper'; metadata: ClusterMetadata | Error; quorum: QuorumState | null; hosts: HostObservation[] };
let calls: string[];

const fakes: ReadActivities = {
  async describeInventory(cluster) {
    calls.push('describeInventory');
    if (cluster !== 'c1') {
      const { ApplicationFailure } = await import('@temporalio/common');
      throw ApplicationFailure.create({ type: 'UnknownCluster', message: `unknown cluster "${cluster}"`, nonRetryable: true });
    }
    return { cluster, mode: world.mode, expected: threeBrokerInventory().expected.filter((e) => world.mode === 'kraft' || e.roles.includes('broker')) };
  },
  async readClusterMetadata() {
    calls.push('readClusterMetadata');
    if (world.metadata instanceof Error) throw world.metadata;
    return world.metadata;
  },
  async readQuorumState() {
    calls.push('readQuorumState');
    if (!world.quorum) throw new Error('no quorum');
    return world.quorum;
  },
  async inspectHosts() {
    calls.push('inspectHosts');
    return world.hosts;
  },
};

beforeAll(async () => {
  bed = await startWorkflowTestBed(TASK_QUEUE, fakes);
  client = bed.client;
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

beforeEach(() => {
  const built = threeBrokerCluster().build();
  world = { mode: 'kraft', metadata: { ...built, quorum: null }, quorum: built.quorum, hosts: threeBrokerInventory().hosts };
  calls = [];
});

let seq = 0;
const run = (input: unknown) =>
  client.workflow.start('clusterHealth', { taskQueue: TASK_QUEUE, workflowId: `health-${Date.now()}-${seq++}`, args: [input], workflowExecutionTimeout: '1 minute' });

async function failure(p: Promise<unknown>) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as { type?: string; message: string };
}

test('a healthy KRaft cluster: report, markdown, steps in order, status in search attributes', async () => {
  const h = await run({ cluster: 'c1' });
  const result: ClusterHealthResult = await h.result();
  expect(result.report.status).toBe('healthy');
  expect(result.report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  expect(result.report.controller.quorum?.leaderId).toBe(3001);
  expect(result.markdown).toContain('c1');
  expect(calls).toEqual(['describeInventory', 'readClusterMetadata', 'readQuorumState', 'inspectHosts']);
  const p = await h.query(progressQuery);
  expect(p.steps.map((s) => [s.name, s.state])).toEqual([
    ['validate the input', 'done'],
    ['read the inventory', 'done'],
    ['read cluster metadata over the Kafka protocol', 'done'],
    ['read the KRaft quorum', 'done'],
    ['inspect hosts over SSH', 'done'],
  ]);
  expect((await h.describe()).typedSearchAttributes.get(SA_STATUS)).toBe('Completed');
});

test('a stopped broker: named offline, its partitions under-replicated, its host process down', async () => {
  world.metadata = { ...threeBrokerCluster().stopBroker(2).build(), quorum: null };
  world.hosts = world.hosts.map((h) => (h.nodeId === 2 ? hostObservation(2, { processRunning: false }) : h));
  const { report } = (await (await run({ cluster: 'c1' })).result()) as ClusterHealthResult;
  expect(report.status).toBe('critical');
  const codes = report.findings.map((f) => f.code);
  expect(codes).toEqual(expect.arrayContaining(['BROKER_NOT_REGISTERED', 'UNDER_REPLICATED', 'PROCESS_NOT_RUNNING']));
  expect(report.findings.find((f) => f.code === 'BROKER_NOT_REGISTERED')?.subject.brokerId).toBe(2);
  expect(report.partitions.underReplicated.count).toBeGreaterThan(0);
  expect(report.partitions.underReplicated.items.every((u) => u.missing.includes(2))).toBe(true);
});

test('Kafka unreachable is a finding, not a failed run', async () => {
  world.metadata = new Error('Connection error: connect ECONNREFUSED 10.0.0.1:9092');
  const { report } = (await (await run({ cluster: 'c1' })).result()) as ClusterHealthResult;
  expect(report.status).toBe('critical');
  const f = report.findings.find((x) => x.code === 'METADATA_UNAVAILABLE');
  expect(f?.message).toContain('ECONNREFUSED');
  expect(calls.filter((c) => c === 'readClusterMetadata')).toHaveLength(3);
});

test('ZooKeeper mode reads no KRaft quorum and reports the controller', async () => {
  world.mode = 'zookeeper';
  const built = threeBrokerCluster().build();
  world.metadata = { ...built, mode: 'zookeeper', controllerId: 2, quorum: null };
  world.hosts = world.hosts.filter((h) => h.roles.includes('broker'));
  const { report } = (await (await run({ cluster: 'c1' })).result()) as ClusterHealthResult;
  expect(calls).not.toContain('readQuorumState');
  expect(report.controller).toMatchObject({ mode: 'zookeeper', controllerId: 2 });
  expect(report.status).toBe('healthy');
});

test('a lagging voter is a warning', async () => {
  world.quorum = quorum(3001).voters(3000, 3001).voter(3002, { behindMs: 10_000 }).build();
  const { report } = (await (await run({ cluster: 'c1' })).result()) as ClusterHealthResult;
  expect(report.status).toBe('degraded');
  expect(report.findings.map((f) => f.code)).toContain('QUORUM_VOTER_LAGGING');
});

test('failWhenUnhealthy fails the run after reporting', async () => {
  world.metadata = { ...threeBrokerCluster().stopBroker(3).build(), quorum: null };
  const f = await failure((await run({ cluster: 'c1', failWhenUnhealthy: true })).result());
  expect(f.type).toBe('UnsafeToProceed');
  expect(f.message).toContain('cluster c1 is critical');
});

test('bad input is refused naming the field, before any activity runs', async () => {
  const f1 = await failure((await run({ cluster: '' })).result());
  expect(f1.type).toBe('InvalidInput');
  expect(f1.message).toBe('invalid input for clusterHealth: cluster: must name a cluster from the inventory');
  const h2 = await run({ cluster: 'c1', diskWarnPercent: 99, diskCriticalPercent: 90, colour: 'red' });
  const f2 = await failure(h2.result());
  expect(f2.message).toContain('unknown field(s) "colour"');
  expect(calls).toEqual([]);
  // The run's own search attributes say what happened, whatever the starter copied in.
  const sa = (await h2.describe()).typedSearchAttributes;
  expect([sa.get(SA_CLUSTER), sa.get(SA_RUNBOOK), sa.get(SA_STATUS)]).toEqual(['c1', 'clusterHealth', 'Failed']);
  expect((await h2.query(progressQuery)).steps).toEqual([expect.objectContaining({ name: 'validate the input', state: 'failed' })]);
});

test('search attributes copied in by the starter are overwritten at once', async () => {
  const h = await client.workflow.start('clusterHealth', {
    taskQueue: TASK_QUEUE,
    workflowId: `health-copied-${Date.now()}`,
    args: ['c1'],
    // What the Web UI does when it pre-fills a start from the previous run.
    typedSearchAttributes: [
      { key: SA_CLUSTER, value: 'other' },
      { key: SA_STATUS, value: 'Completed' },
    ],
  });
  await failure(h.result());
  const sa = (await h.describe()).typedSearchAttributes;
  expect([sa.get(SA_CLUSTER), sa.get(SA_STATUS)]).toEqual(['(invalid input)', 'Failed']);
});

test('an unknown cluster fails at once with the reason', async () => {
  const f = await failure((await run({ cluster: 'nope' })).result());
  expect(f.type).toBe('UnknownCluster');
  expect(f.message).toContain('unknown cluster "nope"');
  expect(calls).toEqual(['describeInventory']);
});

