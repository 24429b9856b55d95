import { stringify } from 'yaml';
import { createApprovalActivities } from '../../../activities/approvals';
import { createClusterRegistry } from '../../../activities/clusters';
import { type InventoryError, parseInventory } from '../../../src/inventory/load';
import { genericBody, type RunNotice, slackBody } from '../../../src/notifications/bodies';

const base = {
  name: 'prod',
  mode: 'kraft',
  bootstrapServers: ['10.0.0.1:9092'],
  defaults: { ssh: { privateKeyFile: '~/.ssh/id' } },
  hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
};
const problems = (extra: Record<string, unknown>): string[] => {
  try {
    parseInventory('prod.yaml', stringify({ ...base, ...extra }));
  } catch (err) {
    return (err as InventoryError).problems;
  }
  return [];
};

describe('the inventory sections', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['an inline webhook URL', { notifications: { webhooks: [{ name: 'chat', url: 'https://hooks.slack.com/services/T/B/x' }] } }, 'notifications.webhooks[0].url: secrets must be a reference'],
    ['an undefined group', { approvals: { ordinary: { groups: ['sre'] } } }, 'approvals.ordinary.groups: names group "sre", which approvals.groups does not define'],
    ['an irreversible gate approved by its timeout', { approvals: { timeouts: { irreversible: { minutes: 30, onTimeout: 'approve' } } } }, 'approvals.timeouts.irreversible.onTimeout: a irreversible gate cannot be approved by a timeout'],
    ['an unknown gate kind', { approvals: { allowUnauthenticated: ['wipe'] } }, 'approvals.allowUnauthenticated[0]'],
    ['two webhooks of one name', { notifications: { webhooks: [{ name: 'a', url: { env: 'A' } }, { name: 'a', url: { env: 'B' } }] } }, 'duplicate webhook name "a"'],
  ])('refuses %s', (_what, extra, problem) => {
    expect(problems(extra).join('\n')).toContain(problem);
  });
});

const gateNotice: RunNotice = {
  event: 'gateOpened',
  runbook: 'rollingRestart',
  cluster: 'prod',
  workflowId: 'rollingRestart/prod/1',
  status: 'WaitingForApproval',
  gate: { name: 'finalize', prompt: 'Finalize <3.9>?', kind: 'irreversible', choices: null, deadline: null, onTimeout: 'reject' },
};
const links = { uiUrl: 'http://ui:8233/', apiUrl: 'https://api.example', namespace: 'default' };

describe('webhook bodies', () => {
  test('generic: the notice, the link and the exact calls', () => {
    const b = genericBody(gateNotice, links) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(b.text).toBe('rollingRestart on prod is waiting for approval at gate "finalize"');
    expect(b.link).toBe('http://ui:8233/namespaces/default/workflows/rollingRestart%2Fprod%2F1');
    expect(b.answer.cli).toEqual({
      approve: "kafka-runbooks approve rollingRestart/prod/1 --gate finalize --as <you> --reason '...'",
      reject: "kafka-runbooks reject rollingRestart/prod/1 --gate finalize --as <you> --reason '...'",
    });
    expect(b.answer.http.reject).toMatchObject({ method: 'POST', url: 'https://api.example/v1/runs/rollingRestart%2Fprod%2F1/gates/finalize/reject', body: { reason: '...' } });
  });

  test('slack: text fallback, escaped prompt, calls and the link in blocks', () => {
    const b = slackBody(gateNotice, links);
    expect(b.text).toContain('waiting for approval at gate "finalize"');
    const all = JSON.stringify(b.blocks);
    expect(all).toContain('Finalize &lt;3.9&gt;?');
    expect(all).toContain('Kind: irreversible');
    expect(all).toContain('kafka-runbooks approve rollingRestart/prod/1 --gate finalize --as &lt;you&gt;');
    expect(all).toContain(JSON.stringify(`curl -sS -X POST 'https://api.example/v1/runs/rollingRestart%2Fprod%2F1/gates/finalize/approve' -H "Authorization: Bearer $TOKEN"`).slice(1, -1));
    expect(all).toContain('<http://ui:8233/namespaces/default/workflows/rollingRestart%2Fprod%2F1|open in the Web UI>');
  });

  test('no API URL: no HTTP call offered; a run notice has no answer', () => {
    expect((genericBody(gateNotice, { namespace: 'default' }) as { answer: { http: unknown } }).answer.http).toBeNull();
    expect(genericBody({ ...gateNotice, event: 'runEnded', gate: undefined, status: 'Completed' }, links)).toMatchObject({ text: 'rollingRestart on prod ended: Completed', answer: null });
  });
});

describe('delivery', () => {
  const inv = parseInventory('prod.yaml', stringify({ ...base, notifications: { webhooks: [{ name: 'chat', url: { env: 'HOOK' } }, { name: 'slack', url: { env: 'SLACK' } }] } }));
  const run = async (status: (url: string, attempt: number) => number | Error) => {
    const slept: number[] = [];
    const tries = new Map<string, number>();
    const bodies = new Map<string, string>();
    const acts = createApprovalActivities({
      clusters: createClusterRegistry(new Map([['prod', inv]])),
      env: { HOOK: 'http://chat.example/hook', SLACK: 'https://hooks.slack.com/services/T/B/secret' },
      sleep: async (ms) => void slept.push(ms),
      post: async (url, body) => {
        const n = (tries.get(url) ?? 0) + 1;
        tries.set(url, n);
        bodies.set(url, body);
        const s = status(url, n);
        if (s instanceof Error) throw s;
        return { status: s };
      },
    });
    const report = await acts.notifyWebhooks('prod', gateNotice);
    return { report, slept, tries, bodies };
  };

  test('a Slack URL gets the Slack body, any other the generic one', async () => {
    const { report, bodies } = await run(() => 200);
    expect(report).toEqual({ delivered: ['chat', 'slack'], failed: [] });
    expect(JSON.parse(bodies.get('https://hooks.slack.com/services/T/B/secret') ?? '{}')).toHaveProperty('blocks');
    expect(JSON.parse(bodies.get('http://chat.example/hook') ?? '{}')).toHaveProperty('event', 'gateOpened');
  });

  test('retries with back-off, then reports the failure without the URL', async () => {
    const down = Object.assign(new Error('fetch failed https://hooks.slack.com/services/T/B/secret'), { cause: { code: 'ECONNREFUSED' } });
    const { report, slept, tries } = await run((url, n) => (url.includes('slack') ? down : n < 3 ? 503 : 200));
    expect(report.delivered).toEqual(['chat']);
    expect(report.failed).toEqual([{ webhook: 'slack', error: 'ECONNREFUSED after 3 attempts' }]);
    expect(JSON.stringify(report)).not.toContain('secret');
    expect(tries.get('http://chat.example/hook')).toBe(3);
    // The two webhooks back off side by side, not one after the other.
    expect(slept).toEqual([1000, 1000, 2000, 2000]);
  });

  test('a 4xx other than 429 is not retried', async () => {
    const { report, tries } = await run((url) => (url.includes('slack') ? 404 : 200));
    expect(report.failed).toEqual([{ webhook: 'slack', error: 'HTTP 404 after 1 attempt' }]);
    expect(tries.get('https://hooks.slack.com/services/T/B/secret')).toBe(1);
  });
});
