/**
 * Webhook bodies for runs that need people: a generic JSON body and a Slack-compatible one (text + blocks).
 * Each carries the prompt, the choices, the Web UI link and the exact CLI and HTTP calls that answer the gate.
 * Pure: the notify activity resolves the URL and posts.
 */
import { type GateKind } from '../approvals/identity';
import { type NotificationEvent } from '../approvals/inventory';

/** What a run tells its webhooks; built in workflow code, so it holds nothing secret. */
export interface RunNotice {
  event: NotificationEvent;
  runbook: string;
  cluster: string;
  /** The run the notice is about: for a gate, the run that takes the answer (the run itself or its child). */
  workflowId: string;
  status: string;
  gate?: {
    name: string;
    prompt: string;
    kind: GateKind;
    choices: string[] | null;
    /** ISO time the timeout policy decides, or null. */
    deadline: string | null;
    onTimeout: 'reject' | 'approve';
  };
  /** Why the run failed, or how it ended. */
  message?: string;
}

export interface NoticeLinks {
  /** The Temporal Web UI's base URL. */
  uiUrl?: string;
  /** The runbook API's base URL. */
  apiUrl?: string;
  namespace: string;
}

/** The API path that answers a gate (`kafka-runbooks serve`). */
export function gateAnswerPath(workflowId: string, gate: string, action: 'approve' | 'reject'): string {
  return `/v1/runs/${encodeURIComponent(workflowId)}/gates/${encodeURIComponent(gate)}/${action}`;
}

export function runLink(links: NoticeLinks, workflowId: string): string | null {
  if (!links.uiUrl) return null;
  return `${links.uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** A shell word: quoted unless it is plainly safe. */
function sh(word: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface GateCalls {
  cli: { approve: string; reject: string };
  http: { approve: HttpCall; reject: HttpCall } | null;
}
export interface HttpCall {
  method: 'POST';
  url: string;
  body: Record<string, string>;
  curl: string;
}

/** The exact calls that answer a gate, by CLI and, when the API's URL is known, over HTTP. */
export function gateCalls(notice: RunNotice, links: NoticeLinks): GateCalls | null {
  const g = notice.gate;
  if (!g) return null;
  const choice = g.choices ? ` --choice ${sh(g.choices[0] ?? '<choice>')}` : '';
  const cli = (action: 'approve' | 'reject') => `kafka-runbooks ${action} ${sh(notice.workflowId)} --gate ${sh(g.name)}${action === 'approve' ? choice : ''} --as <you> --reason '...'`;
  const http = (action: 'approve' | 'reject'): HttpCall | null => {
    if (!links.apiUrl) return null;
    const url = `${links.apiUrl.replace(/\/+$/, '')}${gateAnswerPath(notice.workflowId, g.name, action)}`;
    const body: Record<string, string> = { reason: '...' };
    if (action === 'approve' && g.choices) body.choice = g.choices[0] ?? '<choice>';
    const curl = `curl -sS -X POST ${sh(url)} -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d ${sh(JSON.stringify(body))}`;
    return { method: 'POST', url, body, curl };
  };
  const approve = http('approve');
  const reject = http('reject');
  return { cli: { approve: cli('approve'), reject: cli('reject') }, http: approve && reject ? { approve, reject } : null };
}

const HEADLINES: Record<NotificationEvent, (n: RunNotice) => string> = {
  gateOpened: (n) => `${n.runbook} on ${n.cluster} is waiting for approval at gate "${n.gate?.name ?? '?'}"`,
  gateNearTimeout: (n) => `${n.runbook} on ${n.cluster}: gate "${n.gate?.name ?? '?'}" times out at ${n.gate?.deadline ?? '?'} and will then ${n.gate?.onTimeout ?? 'reject'}`,
  runFailed: (n) => `${n.runbook} on ${n.cluster} ${n.status === 'Aborted' ? 'was aborted' : 'failed'}`,
  runEnded: (n) => `${n.runbook} on ${n.cluster} ended: ${n.status}`,
};

export function headline(notice: RunNotice): string {
  return HEADLINES[notice.event](notice);
}

/** The generic JSON body: the notice itself, with the headline, the link and the calls that answer. */
export function genericBody(notice: RunNotice, links: NoticeLinks): Record<string, unknown> {
  return { ...notice, text: headline(notice), link: runLink(links, notice.workflowId), answer: gateCalls(notice, links) };
}

/** A Slack-compatible body (incoming webhooks): `text` as the fallback, blocks for the details. */
export function slackBody(notice: RunNotice, links: NoticeLinks): { text: string; blocks: unknown[] } {
  const text = headline(notice);
  const link = runLink(links, notice.workflowId);
  const calls = gateCalls(notice, links);
  const section = (md: string) => ({ type: 'section', text: { type: 'mrkdwn', text: md.slice(0, 3000) } });
  const blocks: unknown[] = [section(`*${escapeSlack(text)}*`)];
  const g = notice.gate;
  if (g) {
    blocks.push(section(`${escapeSlack(g.prompt)}\nKind: ${g.kind}${g.choices ? `\nChoices: ${g.choices.map(escapeSlack).join(', ')}` : ''}${g.deadline ? `\nTimes out: ${g.deadline} (then ${g.onTimeout})` : ''}`));
  }
  if (notice.message) blocks.push(section(escapeSlack(notice.message)));
  if (calls) {
    const lines = [`Approve: \`${calls.cli.approve}\``, `Reject: \`${calls.cli.reject}\``];
    if (calls.http) lines.push(`HTTP: \`${calls.http.approve.curl}\``);
    // Escaped like any text: Slack reads <you> as a link even inside code.
    blocks.push(section(escapeSlack(lines.join('\n'))));
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Run \`${escapeSlack(notice.workflowId)}\`${link ? ` · <${link}|open in the Web UI>` : ''}` }] });
  return { text, blocks };
}

/** Slack's three control characters in mrkdwn. */
function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack's incoming webhooks live on hooks.slack.com; anything else gets the generic body unless told. */
export function isSlackUrl(url: string): boolean {
  try {
    return new URL(url).hostname === 'hooks.slack.com';
  } catch {
    return false;
  }
}
