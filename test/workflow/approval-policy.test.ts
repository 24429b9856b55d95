/**
 * The cluster's approval policy and webhooks, as the shared controls apply them: a probe runbook on a real
 * Temporal server, the real approval activities over a parsed inventory, a real attestation key, and a fake
 * HTTP client standing in for the webhooks.
 */
import { type Client, WorkflowUpdateFailedError } from '@temporalio/client';
import { stringify } from 'yaml';
import { createApprovalActivities } from '../../activities/approvals';
import { createClusterRegistry } from '../../activities/clusters';
import { attest } from '../../src/approvals/attestation';
import { parseInventory } from '../../src/inventory/load';
import { type Inventory } from '../../src/inventory/schema';
import { approveSignal, approveUpdate, type GateAnswer, progressQuery, rejectUpdate, type RunbookProgress } from '../../src/names';
import { eventually, runFailure, startWorkflowTestBed, type WorkflowTestBed } from '../support/temporal';
import { type ProbeInput, quietProbe } from './probe';

const TASK_QUEUE = 'approval-policy-test';
const KEY = Buffer.alloc(32, 42);
const HOOK_ENV = 'APPROVAL_TEST_WEBHOOK_URL';

function inventory(name: string, extra: Record<string, unknown>): Inventory {
  return parseInventory(`${name}.yaml`, stringify({
    name,
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { privateKeyFile: '~/.ssh/id_ed25519' } },
    hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
    ...extra,
  }));
}

const approvals = {
  groups: { sre: ['alice', 'bob'], leads: ['carol', 'bob'] },
  ordinary: { groups: ['sre'] },
  irreversible: { groups: ['leads'] },
  forceKill: { principals: ['carol'] },
  allowUnauthenticated: ['ordinary'],
};
const webhooks = { uiUrl: 'http://ui.example:8233', apiUrl: 'http://api.example:8080', webhooks: [{ name: 'chat', url: { env: HOOK_ENV }, kind: 'generic' }] };
const clusters = createClusterRegistry(
  new Map(
    [
      inventory('guarded', { approvals, notifications: webhooks }),
      inventory('timed', { approvals: { ...approvals, timeouts: { ordinary: { minutes: 1 } } }, notifications: { ...webhooks, remindBeforeMinutes: 1 } }),
      inventory('open', {}),
    ].map((i) => [i.name, i]),
  ),
);

/** Webhook posts, in order; `webhookDown` makes every post fail to connect. */
let posts: { url: string; body: Record<string, unknown> }[] = [];
let webhookDown = false;

let bed: WorkflowTestBed;
let client: Client;
beforeAll(async () => {
  const real = createApprovalActivities({
    clusters,
    attestationKey: () => KEY,
    namespace: 'default',
    env: { [HOOK_ENV]: 'http://hooks.example/T0KEN' },
    sleep: async () => undefined,
    post: async (url, body) => {
      posts.push({ url, body: JSON.parse(body) as Record<string, unknown> });
      if (webhookDown) throw Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      return { status: 200 };
    },
  });
  bed = await startWorkflowTestBed(TASK_QUEUE, {
    ...real,
    ...quietProbe,
  });
  client = bed.client;
}, 120_000);
afterAll(async () => bed?.stop());
beforeEach(() => {
  posts = [];
  webhookDown = false;
});

let seq = 0;
async function start(input: ProbeInput, id = `policy-${Date.now()}-${seq++}`) {
  return client.workflow.start('controlsProbe', { taskQueue: TASK_QUEUE, workflowId: id, args: [input], workflowExecutionTimeout: '3 minutes' });
}
type Handle = Awaited<ReturnType<typeof start>>;
const progress = (h: Handle): Promise<RunbookProgress> => h.query(progressQuery);
const waitingAt = (h: Handle, gate: string) => eventually(async () => (await progress(h)).pendingGates.some((g) => g.name === gate), 20_000, `gate ${gate}`);
async function refused(h: Handle, answer: GateAnswer, update = approveUpdate): Promise<string> {
  try {
    await h.executeUpdate(update, { args: [answer] });
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return (err as WorkflowUpdateFailedError).cause?.message ?? '';
  }
  throw new Error('expected the answer to be refused');
}
/** The API's attestation for an answer at a gate of this run. */
const attested = (h: Handle, gate: string, principal: string, action: 'approve' | 'reject' = 'approve', via?: string) =>
  attest(KEY, { workflowId: h.workflowId, action, gate, principal, ...(via ? { via } : {}), issuedAt: new Date().toISOString() });
/** Events in history: a refused Update must leave none. */
const updateEvents = async (h: Handle) => ((await h.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;

describe('the cluster policy decides who may answer', () => {
  test('a principal outside the policy is refused synchronously, leaving no trace in history; a member decides', async () => {
    const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a' });
    await waitingAt(h, 'before-a');
    expect(await refused(h, { gate: 'before-a', approver: 'mallory', attestation: attested(h, 'before-a', 'mallory') })).toContain(
      'mallory may not answer ordinary gates; allowed: alice, bob',
    );
    expect(await updateEvents(h)).toBe(0);
    const d = await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'alice', attestation: attested(h, 'before-a', 'alice', 'approve', 'slack-bot') }] });
    expect(d).toMatchObject({ outcome: 'approved', approver: 'alice via slack-bot', authenticated: true });
    expect(await h.result()).toEqual(['a']);
  });

  test('the input narrows the policy and cannot widen it', async () => {
    const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a', approvers: ['bob', 'mallory'] });
    await waitingAt(h, 'before-a');
    expect((await progress(h)).pendingGate?.approvers).toEqual(['bob']);
    expect(await refused(h, { gate: 'before-a', approver: 'mallory', attestation: attested(h, 'before-a', 'mallory') })).toContain('allowed: bob');
    expect(await refused(h, { gate: 'before-a', approver: 'alice', attestation: attested(h, 'before-a', 'alice') })).toContain('allowed: bob');
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'bob', attestation: attested(h, 'before-a', 'bob') }] });
    await h.result();
  });

  test('the starter (attested at start) cannot approve its own irreversible gate; another lead approves', async () => {
    const id = `sod-${Date.now()}-${seq++}`;
    const startedBy = attest(KEY, { workflowId: id, action: 'start', principal: 'bob', issuedAt: new Date().toISOString() });
    const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a', gatePolicy: { kind: 'irreversible' }, attestation: startedBy }, id);
    await waitingAt(h, 'before-a');
    expect((await h.query(progressQuery)).pendingGate).toMatchObject({ kind: 'irreversible', approvers: ['carol', 'bob'] });
    expect(await refused(h, { gate: 'before-a', approver: 'bob', attestation: attested(h, 'before-a', 'bob') })).toContain(
      'bob started this run and may not approve its irreversible gates (separation of duties)',
    );
    expect(await updateEvents(h)).toBe(0);
    const d = await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'carol', attestation: attested(h, 'before-a', 'carol') }] });
    expect(d).toMatchObject({ approver: 'carol', authenticated: true });
    await h.result();
  });

  test('where the policy wants authenticated approvers, an irreversible gate of a run with an unknown starter is not approved, even by a lead', async () => {
    const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a', gatePolicy: { kind: 'irreversible' } });
    await waitingAt(h, 'before-a');
    expect(await refused(h, { gate: 'before-a', approver: 'carol', attestation: attested(h, 'before-a', 'carol') })).toContain("the run's starter is unknown, so separation of duties cannot be checked");
    expect(await updateEvents(h)).toBe(0);
    await h.executeUpdate(rejectUpdate, { args: [{ gate: 'before-a', approver: 'carol', attestation: attested(h, 'before-a', 'carol', 'reject'), reason: 'start it through the API' }] });
    expect((await runFailure(h.result())).type).toBe('GateRejected');
  });

  test('a free-text starter is held to separation of duties too', async () => {
    const h = await start({ cluster: 'open', steps: ['a'], gateBefore: 'a', gatePolicy: { kind: 'irreversible' }, startedBy: 'dave' });
    await waitingAt(h, 'before-a');
    expect(await refused(h, { gate: 'before-a', approver: 'dave' })).toContain('separation of duties');
    await h.executeUpdate(rejectUpdate, { args: [{ gate: 'before-a', approver: 'dave', reason: 'changed my mind' }] });
    expect((await runFailure(h.result())).type).toBe('GateRejected');
  });

  test('an unauthenticated name is refused at an irreversible gate and recorded as such at an ordinary one', async () => {
    const id = `unauth-${Date.now()}-${seq++}`;
    const startedBy = attest(KEY, { workflowId: id, action: 'start', principal: 'dave', issuedAt: new Date().toISOString() });
    const h = await start({ cluster: 'guarded', steps: ['a', 'b'], gateBefore: 'b', gatePolicy: { kind: 'irreversible' }, attestation: startedBy }, id);
    await waitingAt(h, 'before-b');
    expect(await refused(h, { gate: 'before-b', approver: 'carol' })).toContain('carol (unauthenticated) may not answer irreversible gates');
    // A forged attestation passes the validator as the principal it claims, then fails verification on the worker.
    const forged = { ...attested(h, 'before-b', 'carol'), mac: 'A'.repeat(43) };
    expect(await refused(h, { gate: 'before-b', approver: 'carol', attestation: forged })).toContain('carol (unauthenticated) may not answer irreversible gates');
    // An attestation for another gate of the same run does not verify here either.
    expect(await refused(h, { gate: 'before-b', approver: 'carol', attestation: attested(h, 'before-a', 'carol') })).toContain('(unauthenticated)');
    expect((await progress(h)).pendingGate?.name).toBe('before-b');
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-b', approver: 'carol', attestation: attested(h, 'before-b', 'carol') }] });
    await h.result();

    const o = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a' });
    await waitingAt(o, 'before-a');
    expect(await o.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'alice' }] })).toMatchObject({ approver: 'alice', authenticated: false });
    await o.result();
    expect((await progress(o)).log.map((l) => l.message)).toContain('gate "before-a" approved by alice (unauthenticated)');
  });

  test('the Signal path ignores and notes what the policy refuses', async () => {
    const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a', gatePolicy: { kind: 'forceKill' } });
    await waitingAt(h, 'before-a');
    await h.signal(approveSignal, { gate: 'before-a', approver: 'alice', attestation: attested(h, 'before-a', 'alice') });
    await h.signal(approveSignal, { gate: 'before-a', approver: 'carol' });
    await eventually(async () => (await progress(h)).log.filter((l) => l.message.startsWith('ignored approve signal')).length === 2, 10_000, 'two notes');
    const notes = (await progress(h)).log.map((l) => l.message).filter((m) => m.startsWith('ignored approve signal'));
    expect(notes[0]).toContain('alice may not answer forceKill gates; allowed: carol');
    expect(notes[1]).toContain('carol (unauthenticated) may not answer forceKill gates');
    expect((await progress(h)).pendingGate?.name).toBe('before-a');
    await h.signal(approveSignal, { gate: 'before-a', approver: 'carol', attestation: attested(h, 'before-a', 'carol') });
    expect(await h.result()).toEqual(['a']);
    expect((await progress(h)).gates).toEqual([expect.objectContaining({ approver: 'carol', authenticated: true })]);
  });

  test('the details show the policy and who started the run', async () => {
    const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a', startedBy: 'erin' });
    await waitingAt(h, 'before-a');
    const details = (await h.query('__temporal_workflow_metadata') as { currentDetails?: string }).currentDetails ?? '';
    expect(details).toContain('Approval policy (from the inventory):');
    expect(details).toContain('- irreversible: carol, bob (groups: leads); authenticated only');
    expect(details).toContain('Started by: erin (unauthenticated)');
    expect(details).toContain('(ordinary; may answer: alice, bob)');
    await h.terminate();
  });
});

describe('webhooks', () => {
  test('a gate that opens is announced with its prompt, the UI link and the calls that answer it', async () => {
    const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a', gatePolicy: { choices: ['retry', 'skip'] } });
    await waitingAt(h, 'before-a');
    await eventually(() => posts.length >= 1, 10_000, 'a post');
    const body = posts[0]?.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(posts[0]?.url).toBe('http://hooks.example/T0KEN');
    expect(body).toMatchObject({ event: 'gateOpened', cluster: 'guarded', workflowId: h.workflowId, gate: { name: 'before-a', prompt: 'about to change a', choices: ['retry', 'skip'], kind: 'ordinary' } });
    expect(body.link).toBe(`http://ui.example:8233/namespaces/default/workflows/${encodeURIComponent(h.workflowId)}`);
    expect(body.answer.cli.approve).toBe(`kafka-runbooks approve ${h.workflowId} --gate before-a --choice retry --as <you> --reason '...'`);
    expect(body.answer.http.approve.url).toBe(`http://api.example:8080/v1/runs/${encodeURIComponent(h.workflowId)}/gates/before-a/approve`);
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'alice', choice: 'retry' }] });
    await h.result();
    await eventually(() => posts.some((p) => p.body.event === 'runEnded'), 10_000, 'the end notice');
    // History holds no webhook URL: it is resolved on the worker.
    expect(JSON.stringify(await h.fetchHistory())).not.toContain('T0KEN');
  });

  test('a webhook that is down neither blocks nor fails the run; the details say so', async () => {
    webhookDown = true;
    const h = await start({ cluster: 'guarded', steps: ['a', 'b'], gateBefore: 'b' });
    await waitingAt(h, 'before-b');
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-b', approver: 'bob' }] });
    expect(await h.result()).toEqual(['a', 'b']);
    const p = await progress(h);
    expect(p.status).toBe('Completed');
    expect(p.warnings).toEqual(
      expect.arrayContaining([expect.stringContaining('webhook "chat" did not take the gateOpened notice: ECONNREFUSED after 3 attempts'), expect.stringContaining('runEnded notice')]),
    );
    // Three attempts for each of the two notices.
    expect(posts.length).toBe(6);
  });

  test('a failed run is announced', async () => {
    const h = await start({ cluster: 'guarded', steps: ['a', 'b'], gateBefore: 'b' });
    await waitingAt(h, 'before-b');
    await h.executeUpdate(rejectUpdate, { args: [{ gate: 'before-b', approver: 'bob', reason: 'not today' }] });
    await runFailure(h.result());
    await eventually(() => posts.some((p) => p.body.event === 'runFailed'), 10_000, 'the failure notice');
    expect(posts.find((p) => p.body.event === 'runFailed')?.body).toMatchObject({ status: 'Failed', message: expect.stringContaining('rejected by bob: not today') });
  });
});

describe('gate timeouts (reject by default)', () => {
  test('the inventory gives a gate its timeout: it shows in the gate, rejecting by default', async () => {
    const h = await start({ cluster: 'timed', steps: ['a'], gateBefore: 'a' });
    await waitingAt(h, 'before-a');
    const gate = (await progress(h)).pendingGate;
    expect(gate).toMatchObject({ onTimeout: 'reject' });
    expect(Date.parse(gate?.deadline ?? '') - Date.parse(gate?.since ?? '')).toBe(60_000);
    await h.terminate();
  });

  test('an unanswered gate is reminded of, then rejected by its timeout policy; the run undoes its steps', async () => {
    const h = await start({ cluster: 'timed', steps: ['a', 'b'], gateBefore: 'b', gatePolicy: { timeout: '5 seconds' } });
    await waitingAt(h, 'before-b');
    const gate = (await progress(h)).pendingGate;
    const f = await runFailure(h.result());
    expect(f.type).toBe('GateRejected');
    expect(f.message).toContain('rejected by timeout-policy: no answer within 5 seconds');
    await eventually(() => posts.length === 3, 10_000, 'three notices');
    expect(posts.map((p) => p.body.event)).toEqual(['gateOpened', 'gateNearTimeout', 'runFailed']);
    expect(posts[1]?.body).toMatchObject({ gate: { name: 'before-b', onTimeout: 'reject', deadline: gate?.deadline } });
  });

  test('an irreversible gate never approves itself on timeout, whatever the runbook asks', async () => {
    const h = await start({ cluster: 'open', steps: ['a'], gateBefore: 'a', gatePolicy: { kind: 'irreversible', timeout: '1 second', onTimeout: 'approve' } });
    const f = await runFailure(h.result());
    expect(f.message).toContain('rejected by timeout-policy');
  });
});
