import { type Client } from '@temporalio/client';
import { type PendingGate, type RunbookProgress } from '../../../src/names';
import { checkStart, gateOwner, RefusalCode, RunRefused, startRun } from '../../../src/run-operations';

/** What the CLI and the API share: start checks, who started a run, and where a gate's answer goes. */

function fakeClient(progress: Partial<RunbookProgress> | null) {
  const starts: { type: string; options: Record<string, unknown> }[] = [];
  const client = {
    workflow: {
      getHandle: () => ({ query: async () => (progress ? progress : Promise.reject(new Error('no worker'))) }),
      start: async (type: string, options: Record<string, unknown>) => {
        starts.push({ type, options });
        return { workflowId: options.workflowId, firstExecutionRunId: 'r1' };
      },
    },
  } as unknown as Client;
  return { client, starts };
}

const gate = (name: string, workflowId: string): PendingGate => ({ name, prompt: '', since: '', deadline: null, onTimeout: 'reject', approvers: null, choices: null, workflowId });

describe('run operations', () => {
  test('checkStart names each bad field, or the unknown runbook', () => {
    expect(() => checkStart('rolling-restart', { cluster: '', order: 'random' })).toThrow(RunRefused);
    try {
      checkStart('rolling-restart', { cluster: '', order: 'random' });
    } catch (err) {
      expect((err as RunRefused).code).toBe(RefusalCode.InvalidInput);
      expect((err as RunRefused).problems).toEqual(['cluster: must name a cluster from the inventory', 'order: must be "auto" or "as-given"']);
    }
    expect(() => checkStart('restart-everything', { cluster: 'lab' })).toThrow('unknown runbook "restart-everything"');
    expect(checkStart('rollingRestart', { cluster: 'lab' }).runbook.workflowType).toBe('rollingRestart');
  });

  test('who started a run travels in its input, beside the runbook’s own fields, and in its static details', async () => {
    const { client, starts } = fakeClient(null);
    const attestation = { principal: 'dave', via: 'slack-bot', issuedAt: '2026-01-01T00:00:00.000Z', mac: 'm' };
    const run = await startRun(client, 'cluster-health', { cluster: 'lab' }, { workflowId: 'w1', startedBy: (id) => ({ startedBy: 'dave', attestation, rendered: `dave via slack-bot (${id})` }) });
    expect(run).toEqual({ workflowId: 'w1', runId: 'r1', runbook: 'clusterHealth', cluster: 'lab' });
    expect(starts[0]?.options.args).toEqual([{ cluster: 'lab', startedBy: 'dave', attestation }]);
    expect(starts[0]?.options.staticSummary).toBe('clusterHealth on lab: check the health of the cluster against its inventory; read-only, changes nothing');
    expect(String(starts[0]?.options.staticDetails).split('\n\n')).toEqual([
      '**clusterHealth** on cluster `lab`',
      'Started by: dave via slack-bot (w1)',
      'Will: check the health of the cluster against its inventory; read-only, changes nothing',
      'Runbook: `runbooks/cluster-health.md`',
    ]);
  });

  test('a run the CLI starts gets a static summary and details too: what it will do, and whom its input names', async () => {
    const { client, starts } = fakeClient(null);
    await startRun(client, 'rolling-restart', { cluster: 'lab', targetVersion: '3.9.2', startedBy: 'erin' }, { workflowId: 'w2' });
    expect(starts[0]?.options.staticSummary).toBe('rollingRestart on lab: upgrade to Kafka 3.9.2 every broker and controller, batch by batch; then finalize, after an approval (irreversible)');
    expect(String(starts[0]?.options.staticDetails).split('\n\n').slice(0, 3)).toEqual([
      '**rollingRestart** on cluster `lab`',
      'Started by: erin (unauthenticated)',
      'Will: upgrade to Kafka 3.9.2 every broker and controller, batch by batch; then finalize, after an approval (irreversible)',
    ]);
    await startRun(client, 'reassign-partitions', { cluster: 'lab', goal: { kind: 'removeBrokers', brokerIds: [4, 5] } }, { workflowId: 'w3' });
    expect(starts[1]?.options.staticSummary).toBe('reassignPartitions on lab: reassign partitions: remove brokers 4, 5');
    expect(String(starts[1]?.options.staticDetails)).toContain('Started by: not named (put `"startedBy": "<you>"` in the input)');
  });

  test('a gate answer goes to the active child only when the gate waits there and the child is this run’s', async () => {
    const parent = 'rollingRestart/lab/1';
    const child = `${parent}/slice-1`;
    expect(await gateOwner(fakeClient({ pendingGates: [gate('batch-1', child)], activeChild: child }).client, parent, 'batch-1')).toBe(child);
    // a grandchild under the active child
    expect(await gateOwner(fakeClient({ pendingGates: [gate('g', `${child}/reassign`)], activeChild: child }).client, parent, 'g')).toBe(`${child}/reassign`);
    // the run's own gate, another gate's name, no progress, or an entry pointing outside this run: the run itself
    expect(await gateOwner(fakeClient({ pendingGates: [gate('batch-1', parent)], activeChild: null }).client, parent, 'batch-1')).toBe(parent);
    expect(await gateOwner(fakeClient({ pendingGates: [gate('batch-1', child)], activeChild: child }).client, parent, 'finalize')).toBe(parent);
    expect(await gateOwner(fakeClient(null).client, parent, 'batch-1')).toBe(parent);
    expect(await gateOwner(fakeClient({ pendingGates: [gate('batch-1', 'other/run')], activeChild: 'other/run' }).client, parent, 'batch-1')).toBe(parent);
  });
});
