/**
 * What the Web UI shows of a run, read from what the server recorded: every activity of a rolling restart
 * carries a summary an operator can read ("stop kafka-2.lab", "wait for broker 2 caught up"), gate timers say
 * what they wait for, and a run started with no static details (the UI's own form) opens its details with
 * runbook, cluster, starter and what it will do.
 */
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { approveUpdate } from '../../src/names';
import { delegatingActivities, eventually, startWorkflowTestBed, waitingAtGate, type WorkflowTestBed } from '../support/temporal';
import { FakeWorld } from './every-activity';
import { type ProbeInput, quietProbe } from './probe';

const TASK_QUEUE = 'ui-summaries-test';

let bed: WorkflowTestBed;
let client: Client;
let fake = new FakeWorld();
/** While set, the preflight waits for it: the test reads the details meanwhile. */
let preflightHeld: Promise<void> | null = null;
beforeAll(async () => {
  const names = Object.keys(new FakeWorld().activities()) as (keyof ReturnType<FakeWorld['activities']>)[];
  bed = await startWorkflowTestBed(TASK_QUEUE, {
    ...delegatingActivities(names, () => fake.activities()),
    planRollingRestartFor: async (...args: Parameters<ReturnType<FakeWorld['activities']>['planRollingRestartFor']>) => {
      await preflightHeld;
      return fake.activities().planRollingRestartFor(...args);
    },
    ...quietProbe,
  });
  client = bed.client;
}, 120_000);
afterAll(async () => bed?.stop());

let seq = 0;
const start = (workflowType: string, input: object): Promise<WorkflowHandle> =>
  client.workflow.start(workflowType, { taskQueue: TASK_QUEUE, workflowId: `ui-${workflowType}-${Date.now()}-${seq++}`, args: [input], workflowExecutionTimeout: '3 minutes' });

const summaryOf = (meta: temporal.api.sdk.v1.IUserMetadata | null | undefined): string | undefined => (meta?.summary ? defaultPayloadConverter.fromPayload<string>(meta.summary) : undefined);

/** Each scheduled activity of the run: its type and the summary the UI shows. */
async function scheduled(h: WorkflowHandle): Promise<{ activity: string; summary: string | undefined }[]> {
  const events = (await h.fetchHistory()).events ?? [];
  return events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => ({ activity: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '', summary: summaryOf(e.userMetadata) }));
}

test('every activity of a rolling restart carries a readable summary naming its node, in the order of the procedure', async () => {
  fake = new FakeWorld();
  const h = await start('rollingRestart', { cluster: 'c1', nodes: ['kafka-2.lab'] });
  await h.result();
  const acts = await scheduled(h);
  expect(acts.length).toBeGreaterThan(8);
  expect(acts.filter((a) => !a.summary)).toEqual([]);
  // One line each, naming what it does: no JSON, no bare activity names.
  for (const a of acts) expect(a.summary).toMatch(/^[a-z][^\n{}[\]]{5,200}$/);
  const kafka2 = acts.map((a) => a.summary);
  const inOrder = [
    'take the lock of cluster c1',
    'check health and plan the rolling restart of c1',
    'wait until node 2 may restart (min ISR, quorum)',
    'back up the config of kafka-2.lab',
    'stop kafka-2.lab',
    'wait for the Kafka process of kafka-2.lab to exit',
    'wait for broker 2 to leave the cluster metadata',
    'start kafka-2.lab',
    'wait for broker 2 registered',
    'wait for broker 2 caught up (back in every ISR)',
    'wait for controller 2 caught up with the quorum',
    'release the lock of cluster c1',
  ];
  const positions = inOrder.map((s) => kafka2.indexOf(s));
  expect(positions.filter((p) => p < 0).map((_, i) => inOrder[i])).toEqual([]);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  expect(kafka2).toContain("elect broker 2's preferred leaders");
});

test('a gate with a timeout shows what its timer waits for', async () => {
  const input: ProbeInput = { cluster: 'c1', steps: ['a'], gateBefore: 'a', gatePolicy: { timeout: '1 hour' } };
  const h = await start('controlsProbe', input);
  await waitingAtGate(h, 'before-a');
  await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'sre', reason: 'test' }] });
  await h.result();
  const timers = ((await h.fetchHistory()).events ?? []).filter((e) => e.timerStartedEventAttributes).map((e) => summaryOf(e.userMetadata));
  expect(timers).toEqual([expect.stringMatching(/^gate before-a: reject unless answered by \d{4}-\d\d-\d\dT/)]);
});

test("a run started with no static details (the Web UI's form) opens its details with runbook, cluster, starter and what it will do", async () => {
  // The preflight is held: the details are read while the run is at its first cluster read.
  let release = (): void => undefined;
  preflightHeld = new Promise<void>((r) => (release = r));
  fake = new FakeWorld();
  const h = await start('rollingRestart', { cluster: 'c1', targetVersion: '4.3.1', nodes: [1, 2], startedBy: 'alice' });
  const details = await eventually(async () => {
    const d = (await h.query(workflowMetadataQuery)).currentDetails ?? '';
    return d.includes('Step: preflight') ? d : undefined;
  }, 20_000, 'the preflight step in the details');
  const lines = details.split('\n').filter((l) => l.trim().length > 0);
  expect(lines.slice(0, 3)).toEqual([
    '**rollingRestart** on cluster `c1`: **Running**',
    'Started by: alice (unauthenticated)',
    'Will: upgrade to Kafka 4.3.1 nodes 1, 2, batch by batch; then finalize, after an approval (irreversible)',
  ]);
  // Nobody named: the details say how to name the starter.
  const anonymous = await start('rollingRestart', { cluster: 'c2' });
  const d2 = await eventually(async () => {
    const d = (await anonymous.query(workflowMetadataQuery)).currentDetails ?? '';
    return d.includes('Step: preflight') ? d : undefined;
  }, 20_000, 'the preflight step in the details');
  expect(d2.split('\n').filter((l) => l.trim().length > 0).slice(1, 3)).toEqual(['Started by: not named (put `"startedBy": "<you>"` in the input)', 'Will: restart every broker and controller, batch by batch']);
  await Promise.all([h.terminate('test over'), anonymous.terminate('test over')]);
  release();
  preflightHeld = null;
});
