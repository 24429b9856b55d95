/**
 * The HTTP API against a real Temporal server: the probe runbook on the shared controls, the real approval
 * activities with the worker's attestation key, and `serve`'s routes signing with the same key. What the API
 * sends is what the run records.
 */
import { type FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { createApprovalActivities } from '../../activities/approvals';
import { createClusterRegistry } from '../../activities/clusters';
import { parseInventory } from '../../src/inventory/load';
import { progressQuery, type RunbookProgress } from '../../src/names';
import { buildApi } from '../../src/serve/app';
import { newToken, TokenStore } from '../../src/serve/tokens';
import { eventually, runFailure, startWorkflowTestBed, type WorkflowTestBed } from '../support/temporal';
import { type ProbeInput } from './probe';

const TASK_QUEUE = 'serve-api-test';
const KEY = Buffer.alloc(32, 7);
const bot = newToken();

const inventory = parseInventory(
  'guarded.yaml',
  stringify({
    name: 'guarded',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { privateKeyFile: '~/.ssh/id_ed25519' } },
    hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
    approvals: { ordinary: { principals: ['alice'] }, allowUnauthenticated: [] },
  }),
);

let bed: WorkflowTestBed;
let api: FastifyInstance;
let base = '';
const savedQueue = process.env.KAFKA_RUNBOOKS_TASK_QUEUE;
beforeAll(async () => {
  process.env.KAFKA_RUNBOOKS_TASK_QUEUE = TASK_QUEUE;
  const approvals = createApprovalActivities({ clusters: createClusterRegistry(new Map([['guarded', inventory]])), attestationKey: () => KEY, post: async () => ({ status: 200 }) });
  bed = await startWorkflowTestBed(TASK_QUEUE, { ...approvals, change: async () => undefined, revert: async () => undefined, wait: async () => new Promise((r) => setTimeout(r, 2000)) });
  api = await buildApi({
    client: bed.client,
    tokens: new TokenStore([{ principal: 'slack-bot', sha256: bot.sha256, actions: ['read', 'approve', 'reject', 'pause', 'resume', 'abort'], onBehalfOf: 'anyone' }]),
    attestationKey: KEY,
    rateLimitPerMinute: 1000,
  });
  base = await api.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);
afterAll(async () => {
  await api?.close();
  await bed?.stop();
  if (savedQueue === undefined) delete process.env.KAFKA_RUNBOOKS_TASK_QUEUE;
  else process.env.KAFKA_RUNBOOKS_TASK_QUEUE = savedQueue;
});

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${bot.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
async function get(path: string): Promise<Record<string, unknown>> {
  return (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${bot.token}` } })).json() as Promise<Record<string, unknown>>;
}

let seq = 0;
const start = (input: ProbeInput) => bed.client.workflow.start('controlsProbe', { taskQueue: TASK_QUEUE, workflowId: `serve-${Date.now()}-${seq++}`, args: [input], workflowExecutionTimeout: '3 minutes' });
const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

test('a bot approves for a user: the run records "alice via slack-bot", authenticated; the policy refuses anyone else', async () => {
  const h = await start({ cluster: 'guarded', steps: ['a'], gateBefore: 'a' });
  await eventually(async () => (await h.query(progressQuery)).pendingGates.length > 0, 20_000, 'the gate');
  const outsider = await post(`${runPath(h.workflowId)}/gates/before-a/approve`, { onBehalfOf: 'mallory' });
  expect(outsider).toMatchObject({ status: 409, body: { error: { code: 'refused' } } });
  expect(outsider.body.error.message).toContain('mallory via slack-bot may not answer ordinary gates; allowed: alice');
  const ok = await post(`${runPath(h.workflowId)}/gates/before-a/approve`, { onBehalfOf: 'alice', reason: 'ok from #ops' });
  expect(ok.status).toBe(200);
  expect(ok.body).toEqual({ answeredIn: h.workflowId, decision: expect.objectContaining({ approver: 'alice via slack-bot', authenticated: true, reason: 'ok from #ops' }) });
  expect(await h.result()).toEqual(['a']);
  const state = await get(runPath(h.workflowId));
  expect(state).toMatchObject({ workflowId: h.workflowId, temporalStatus: 'COMPLETED', failure: null });
  expect((state.progress as RunbookProgress).gates).toEqual([expect.objectContaining({ approver: 'alice via slack-bot', authenticated: true })]);
});

test('pause, resume and abort through the API reach the run, named by who asked', async () => {
  const h = await start({ cluster: 'guarded', steps: ['w1', 'w2', 'w3'], waitStep: 'w2' });
  const paused = await post(`${runPath(h.workflowId)}/pause`, { onBehalfOf: 'alice', reason: 'incident' });
  expect(paused).toMatchObject({ status: 200, body: { status: 'Paused' } });
  await eventually(async () => (await h.query(progressQuery)).status === 'Paused', 20_000, 'paused');
  const resumed = await post(`${runPath(h.workflowId)}/resume`, { onBehalfOf: 'alice' });
  expect(resumed.status).toBe(200);
  const aborted = await post(`${runPath(h.workflowId)}/abort`, { onBehalfOf: 'alice', reason: 'wrong cluster' });
  expect(aborted.status).toBe(200);
  expect((await runFailure(h.result())).type).toBe('RunbookAborted');
  const log = (await h.query(progressQuery)).log.map((l) => l.message);
  expect(log).toEqual(expect.arrayContaining([expect.stringContaining('pause requested by alice via slack-bot: incident'), 'resumed by alice via slack-bot', expect.stringContaining('abort requested by alice via slack-bot: wrong cluster')]));
  const ended = await post(`${runPath(h.workflowId)}/pause`, {});
  // the run has ended: nothing to pause
  expect(ended).toMatchObject({ status: 404, body: { error: { code: 'no-such-run' } } });
  expect(ended.body.error.message).toContain('already completed');
});

test('list shows the runs on the task queue; an unknown run is a 404 with a code', async () => {
  const h = await start({ cluster: 'guarded', steps: ['a'] });
  await h.result();
  const listed = await eventually(async () => {
    const r = (await get('/v1/runs?all=true')).runs as { workflowId: string; temporalStatus: string }[];
    return r.find((x) => x.workflowId === h.workflowId);
  }, 20_000, 'the run in the list');
  expect(listed).toMatchObject({ runbook: 'controlsProbe', temporalStatus: 'COMPLETED' });
  const missing = await fetch(`${base}${runPath('no/such/run')}`, { headers: { authorization: `Bearer ${bot.token}` } });
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('no-such-run');
});
