import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { type RunbookProgress } from '../../src/names';
import { newToken } from '../../src/serve/tokens';
import { type RollingRestartResult } from '../../workflows/rolling-restart';
import { REPO_ROOT } from '../support/temporal';
import { eventually, useLab } from './support/lab';
import { kafkaPid, serverStarts } from './support/rolling';
import { stackEnv, startWorker, useDevServer, type WorkerProcess } from './support/stack';

/**
 * Chatops end to end: `kafka-runbooks serve` and the real worker on a lab, the cluster's approval policy and
 * a webhook in its inventory, and a loopback HTTP server standing in for the chat service. A rolling restart
 * opens a gate; the chat service gets the notice and answers it through the API with the bot's token on
 * behalf of a user; the run records `bob via slack-bot`. Refused answers change nothing.
 */

const temporal = useDevServer();
const lab = useLab({ name: 'e2e-chatops', subnet: 61, mode: 'kraft', version: '4.3.1' }, 300_000);

const bot = newToken();
const alice = newToken();
const mallory = newToken();

interface Notice {
  event: string;
  workflowId: string;
  gate?: { name: string; kind: string; prompt: string };
  answer?: { http: { approve: { url: string; body: Record<string, string> } } | null } | null;
}

/**
 * The chat service: a real HTTP server on loopback that keeps every notice posted to it and hands each to
 * the bot, after answering the webhook (a bot never holds up the run's notify activity).
 */
function startChatService(): Promise<{ server: Server; url: string; notices: Notice[]; setBot: (bot: (n: Notice) => Promise<void>) => void; botErrors: Error[] }> {
  const notices: Notice[] = [];
  const botErrors: Error[] = [];
  let bot: (n: Notice) => Promise<void> = async () => undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const n = JSON.parse(body) as Notice;
      notices.push(n);
      res.writeHead(200).end('ok');
      bot(n).catch((err: Error) => botErrors.push(err));
    });
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, notices, setBot: (b) => (bot = b), botErrors })),
  );
}

/** `kafka-runbooks serve` as an operator runs it; resolves with its base URL once it listens. */
function startServe(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(resolve(REPO_ROOT, 'bin/kafka-runbooks'), ['serve', '--listen', '127.0.0.1:0'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start:\n${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /serving the API on (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        ok({ child, url: m[1], output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`serve exited with ${code}:\n${out}`));
    });
  });
}

interface Reply {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string; problems?: string[] } };
}

async function call(url: string, token: { token: string } | null, body?: unknown, method = body === undefined ? 'GET' : 'POST'): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Reply['body'] };
}

describe('chatops: serve, the approval policy and webhook notices on a lab', () => {
  let tokensFile = '';
  const s: { env: NodeJS.ProcessEnv; worker: WorkerProcess | null; serve: { child: ChildProcess; url: string; output: () => string } | null; chat: Awaited<ReturnType<typeof startChatService>> | null } = {
    env: {},
    worker: null,
    serve: null,
    chat: null,
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatops-'));
    const keyFile = join(dir, 'attestation.key');
    writeFileSync(keyFile, `${newToken().token}\n`, { mode: 0o600 });
    tokensFile = join(dir, 'tokens.yaml');
    writeFileSync(
      tokensFile,
      toYaml({
        tokens: [
          { principal: 'slack-bot', sha256: bot.sha256, actions: ['read', 'approve', 'reject'], onBehalfOf: 'anyone' },
          { principal: 'alice', sha256: alice.sha256, actions: ['read', 'start', 'approve'] },
          { principal: 'mallory', sha256: mallory.sha256, actions: ['read', 'approve'] },
        ],
      }),
    );
    s.chat = await startChatService();
    const base = stackEnv(temporal(), [], 'e2e-chatops');
    s.serve = await startServe({ ...base, KAFKA_RUNBOOKS_TOKENS_FILE: tokensFile, KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE: keyFile });
    // The lab's inventory, plus the cluster's approval policy and its webhook (the URL by reference).
    const inventory = parseYaml(readFileSync(lab().inventoryPath, 'utf8')) as Record<string, unknown>;
    inventory.approvals = {
      ordinary: { principals: ['alice', 'bob'] },
      irreversible: { groups: ['sre'] },
      groups: { sre: ['alice', 'bob'] },
      allowUnauthenticated: [],
    };
    inventory.notifications = { apiUrl: s.serve.url, webhooks: [{ name: 'chat', url: { env: 'CHATOPS_WEBHOOK_URL' }, kind: 'generic' }] };
    const invDir = mkdtempSync(join(tmpdir(), 'chatops-inv-'));
    writeFileSync(join(invDir, 'e2e-chatops.yaml'), toYaml(inventory));
    s.env = { ...stackEnv(temporal(), [invDir], 'e2e-chatops'), KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE: keyFile, CHATOPS_WEBHOOK_URL: s.chat.url };
    s.worker = await startWorker(s.env, 400_000);
  }, 600_000);

  afterAll(async () => {
    await s.worker?.stop();
    if (s.serve && s.serve.child.exitCode === null) {
      const exited = new Promise((r) => s.serve?.child.once('exit', r));
      s.serve.child.kill('SIGTERM');
      await exited;
    }
    await new Promise((r) => s.chat?.server.close(r));
  }, 120_000);

  test('a bot answers the gates on behalf of a user; refused answers change nothing; the report names "bob via slack-bot"', async () => {
    const api = s.serve?.url ?? '';
    const chat = s.chat as NonNullable<typeof s.chat>;
    const progress = async (id: string) => (await call(`${api}/v1/runs/${encodeURIComponent(id)}`, bot)).body.progress as RunbookProgress;
    const pidBefore = kafkaPid(lab(), 'kafka-1');
    const startsBefore = serverStarts(lab(), 'kafka-1');

    // The bot: for each gate it is told of, it tries what the script says through the API, in order, and keeps the replies.
    const replies: Record<string, Reply[]> = {};
    const snapshots: Record<string, { gates: string[]; decided: string[]; pid: number | null; metrics?: string }> = {};
    const finished = new Set<string>();
    chat.setBot(async (n) => {
      if (n.event !== 'gateOpened' || !n.gate || !n.answer?.http) return;
      const gate = n.gate.name;
      const url = n.answer.http.approve.url;
      const tries: [{ token: string } | null, Record<string, string>][] =
        gate === 'batch-1'
          ? [
              [newToken(), { reason: 'ok' }], // a token nobody issued
              [bot, { onBehalfOf: 'mallory', reason: 'ok' }], // a user outside the cluster's policy, through the bot
              [mallory, { reason: 'ok' }], // the same user with her own token
            ]
          : [
              [alice, { reason: 'mine' }], // the starter, approving her own irreversible gate
              [bot, { onBehalfOf: 'alice' }], // the same, through the bot
            ];
      replies[gate] = [];
      for (const [token, body] of tries) replies[gate].push(await call(url, token, body));
      const p = await progress(n.workflowId);
      snapshots[gate] = { gates: p.pendingGates.map((g) => g.name), decided: p.gates.map((g) => g.gate), pid: kafkaPid(lab(), 'kafka-1') };
      if (gate === 'finalize') snapshots[gate].metrics = await (await fetch(`${api}/metrics`)).text();
      replies[gate].push(await call(url, bot, { onBehalfOf: 'bob', reason: gate === 'batch-1' ? 'approved in #ops' : 'second pair of eyes' }));
      finished.add(gate);
    });

    // The start endpoint refuses a bad input, naming the field, and starts nothing.
    const bad = await call(`${api}/v1/runs`, alice, { runbook: 'rolling-restart', input: { cluster: 'e2e-chatops', approval: 'whenever' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid-input');
    expect(bad.body.error?.problems).toEqual([expect.stringMatching(/^approval: must be one of "none", "before-first-node"/)]);
    expect((await call(`${api}/v1/runs?all=true`, alice)).body.runs).toEqual([]);

    // Alice starts a one-node roll onto the version the lab runs: one ordinary gate before the node, then the irreversible finalize.
    const started = await call(`${api}/v1/runs`, alice, { runbook: 'rolling-restart', input: { cluster: 'e2e-chatops', nodes: ['kafka-1'], targetVersion: '4.3.1', approval: 'before-first-node' } });
    expect(started.status).toBe(201);
    const id = started.body.workflowId as string;
    await eventually('the bot has answered both gates', async () => finished.size + chat.botErrors.length, (k) => k >= 2, 900_000);
    expect(chat.botErrors).toEqual([]);

    const batch = chat.notices.find((n) => n.event === 'gateOpened' && n.gate?.name === 'batch-1');
    expect(batch).toMatchObject({ workflowId: id, gate: { kind: 'ordinary' } });
    expect(batch?.answer?.http?.approve.url).toBe(`${api}/v1/runs/${encodeURIComponent(id)}/gates/batch-1/approve`);
    const [wrong, outsider, direct, ok] = replies['batch-1'] ?? [];
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(outsider).toMatchObject({ status: 409, body: { error: { code: 'refused' } } });
    expect(outsider?.body.error?.message).toContain('mallory via slack-bot may not answer ordinary gates; allowed: alice, bob');
    expect(direct?.body.error?.message).toContain('mallory may not answer ordinary gates');
    // Refused answers changed nothing: the gate still waits, no decision, kafka-1 untouched.
    expect(snapshots['batch-1']).toEqual({ gates: ['batch-1'], decided: [], pid: pidBefore });
    expect(ok?.status).toBe(200);
    expect(ok?.body.decision).toMatchObject({ gate: 'batch-1', outcome: 'approved', approver: 'bob via slack-bot', authenticated: true });

    expect(chat.notices.find((n) => n.gate?.name === 'finalize')?.gate?.kind).toBe('irreversible');
    const [own, ownViaBot, done] = replies.finalize ?? [];
    expect(own?.status).toBe(409);
    expect(own?.body.error?.message).toContain('alice started this run and may not approve its irreversible gates');
    expect(ownViaBot?.body.error?.message).toContain('alice via slack-bot started this run and may not approve its irreversible gates');
    expect(snapshots.finalize).toMatchObject({ gates: ['finalize'], decided: ['batch-1'] });
    // While the gate waited, /metrics showed it and its age.
    const metricsText = snapshots.finalize?.metrics ?? '';
    console.log(`metrics at the finalize gate:\n${metricsText.split('\n').filter((l) => l.startsWith('kafka_runbooks_') && !/_bucket\{/.test(l)).join('\n')}`);
    expect(metricsText).toMatch(new RegExp(`kafka_runbooks_gate_waiting_seconds\\{[^}]*workflow_id="${id.replace(/[/.]/g, '\\$&')}",gate="finalize"\\} \\d`));
    expect(done?.status).toBe(200);

    const final = await eventually('the run ends', () => call(`${api}/v1/runs/${encodeURIComponent(id)}`, bot), (r) => r.body.temporalStatus !== 'RUNNING', 600_000);
    expect(final.body.temporalStatus).toBe('COMPLETED');
    const result = (await temporal().client.workflow.getHandle(id).result()) as RollingRestartResult & { markdown: string };
    expect(result.gates.map((g) => [g.gate, g.outcome, g.approver])).toEqual([
      ['batch-1', 'approved', 'bob via slack-bot'],
      ['finalize', 'approved', 'bob via slack-bot'],
    ]);
    expect(result.markdown).toContain('batch-1: approved by bob via slack-bot');
    expect(result.nodes.map((n) => [n.host, n.outcome])).toEqual([['kafka-1', 'restarted']]);
    expect(serverStarts(lab(), 'kafka-1')).toBe(startsBefore + 1);
    expect(kafkaPid(lab(), 'kafka-1')).not.toBe(pidBefore);
    // The chat service also heard how the run ended.
    await eventually('the runEnded notice', async () => chat.notices.filter((n) => n.event === 'runEnded' && n.workflowId === id).length, (n) => n === 1, 60_000);

    // Counted once the run completed: the restarted node.
    const after = await eventually('metrics count the restarted node', async () => (await fetch(`${api}/metrics`)).text(), (t) => /kafka_runbooks_nodes_restarted_total\{cluster="e2e-chatops"\} 1/.test(t), 60_000);
    expect(after).toMatch(/kafka_runbooks_runs\{runbook="rollingRestart",status="Completed"\} 1/);
    expect(after).toMatch(/kafka_runbooks_step_duration_seconds_count\{runbook="rollingRestart",step="[^"]+",state="done"\} 1/);
  }, 1_500_000);

  test('SIGHUP reloads the token file: a new token works, a revoked one no longer does', async () => {
    const api = s.serve?.url ?? '';
    const carol = newToken();
    expect((await call(`${api}/v1/runs`, carol)).status).toBe(401);
    const kept = readFileSync(tokensFile, 'utf8');
    writeFileSync(tokensFile, toYaml({ tokens: [{ principal: 'carol', sha256: carol.sha256, actions: ['read'] }] }));
    s.serve?.child.kill('SIGHUP');
    await eventually('the new token is accepted', async () => (await call(`${api}/v1/runs`, carol)).status, (st) => st === 200, 30_000);
    expect((await call(`${api}/v1/runs`, alice)).status).toBe(401);
    writeFileSync(tokensFile, kept);
  });
});
