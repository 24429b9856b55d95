import { verifyAttestation } from '../src/approvals/attestation';
import { type Actor, type Attestation, type AttestationAction, unauthenticatedActor } from '../src/approvals/identity';
import { approvalPolicyOf, type RunApprovalSettings } from '../src/approvals/inventory';
import { genericBody, isSlackUrl, type RunNotice, slackBody } from '../src/notifications/bodies';
import { activityContext } from './heartbeat';
import { type ClusterRegistry } from './clusters';
import { readSecret } from './ssh';

export interface ApprovalDeps {
  clusters: ClusterRegistry;
  /** The attestation key (>= 32 bytes) shared with `kafka-runbooks serve`; null when the worker has none. */
  attestationKey?: () => Buffer | null;
  /** The Temporal namespace, for Web UI links. */
  namespace?: string;
  /** Injected for tests: the HTTP client and the pause between delivery attempts. */
  post?: (url: string, body: string, timeoutMs: number) => Promise<{ status: number }>;
  sleep?: (ms: number) => Promise<void>;
  env?: NodeJS.ProcessEnv;
}

/** How a webhook delivery is retried: attempts, the first back-off (doubled each time), and each attempt's timeout. */
export const DELIVERY = { attempts: 3, backoffMs: 1000, timeoutMs: 5000 } as const;

export interface DeliveryReport {
  delivered: string[];
  /** Webhooks that did not take the notice after every attempt, with why (never the URL: it holds a token). */
  failed: { webhook: string; error: string }[];
}

/** An attestation to check, with the fields the payload names besides it. */
export interface AttestationCheck {
  workflowId: string;
  action: AttestationAction;
  gate?: string;
  /** The free-text name the payload carried: what the actor is recorded as when the attestation fails. */
  claimed: string;
  attestation: Attestation;
}

async function defaultPost(url: string, body: string, timeoutMs: number): Promise<{ status: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  await res.body?.cancel();
  return { status: res.status };
}

/** Why a delivery failed, without the URL (a Slack URL is its own token). */
function deliveryError(err: unknown): string {
  const e = err as { name?: string; cause?: { code?: string }; message?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  if (e?.cause?.code) return e.cause.code;
  return 'could not connect';
}

/**
 * Approval activities: the cluster's policy read once at a run's start, attestations verified on the worker
 * (the key never enters history), and notices posted to the cluster's webhooks, never failing the run.
 */
export function createApprovalActivities(deps: ApprovalDeps) {
  const post = deps.post ?? defaultPost;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    /** The policy, gate timeouts and which events have a webhook; no URL or secret. A local activity. */
    async readApprovalSettings(cluster: string): Promise<RunApprovalSettings> {
      // A cluster this worker does not know has no policy here; the run's own input check refuses it next.
      if (!deps.clusters.names().includes(cluster)) return { policy: null, timeouts: {}, notify: [], remindBeforeMinutes: 15 };
      const inv = deps.clusters.get(cluster);
      const t = inv.approvals?.timeouts ?? {};
      return {
        policy: approvalPolicyOf(inv.approvals),
        timeouts: Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)),
        notify: [...new Set((inv.notifications?.webhooks ?? []).flatMap((w) => w.events))],
        remindBeforeMinutes: inv.notifications?.remindBeforeMinutes ?? 15,
      };
    },

    /**
     * The actor an attested payload stands for: authenticated when the MAC verifies under the worker's key for
     * exactly this run, action and gate within its age; otherwise the claimed name, unauthenticated, and why.
     * A local activity.
     */
    async verifyActorAttestation(check: AttestationCheck): Promise<{ actor: Actor; problem: string | null }> {
      const a = check.attestation;
      let key: Buffer | null;
      try {
        key = deps.attestationKey?.() ?? null;
      } catch (err) {
        // A missing or short key file must not turn an abort into a refusal: the request is taken, unauthenticated.
        activityContext()?.log.warn('the attestation key could not be read', { error: (err as Error).message });
        return { actor: unauthenticatedActor(check.claimed), problem: 'this worker could not read its attestation key' };
      }
      if (!key) return { actor: unauthenticatedActor(check.claimed), problem: 'this worker has no attestation key' };
      const fields = { workflowId: check.workflowId, action: check.action, principal: a.principal, issuedAt: a.issuedAt, ...(check.gate !== undefined ? { gate: check.gate } : {}), ...(a.via !== undefined ? { via: a.via } : {}) };
      if (!verifyAttestation(key, fields, a.mac)) return { actor: unauthenticatedActor(check.claimed), problem: 'its attestation did not verify (wrong run, gate or action, altered, or expired)' };
      return { actor: { principal: a.principal, ...(a.via !== undefined ? { via: a.via } : {}), authenticated: true }, problem: null };
    },

    /**
     * Posts a notice to every webhook of the cluster that listens to its event, each retried with back-off.
     * Never throws for a webhook that is down: the report says which failed, and the run warns.
     */
    async notifyWebhooks(cluster: string, notice: RunNotice): Promise<DeliveryReport> {
      const inv = deps.clusters.get(cluster);
      const n = inv.notifications;
      const report: DeliveryReport = { delivered: [], failed: [] };
      if (!n) return report;
      const links = { uiUrl: n.uiUrl, apiUrl: n.apiUrl, namespace: deps.namespace ?? 'default' };
      // Every webhook at once: one that is down must not spend the others' time under the activity's timeout.
      const deliver = async (hook: (typeof n.webhooks)[number]): Promise<string | null> => {
        let url: string;
        try {
          url = readSecret(hook.url, deps.env);
        } catch (err) {
          return `its URL could not be read: ${(err as Error).message}`;
        }
        const slack = hook.kind ? hook.kind === 'slack' : isSlackUrl(url);
        const body = JSON.stringify(slack ? slackBody(notice, links) : genericBody(notice, links));
        let error = '';
        let attempts = 0;
        for (let attempt = 1; attempt <= DELIVERY.attempts; attempt++) {
          attempts = attempt;
          try {
            const { status } = await post(url, body, DELIVERY.timeoutMs);
            if (status >= 200 && status < 300) return null;
            error = `HTTP ${status}`;
            // A 4xx other than 429 will not change on a retry: the URL or the body is wrong.
            if (status >= 400 && status < 500 && status !== 429) break;
          } catch (err) {
            error = deliveryError(err);
          }
          if (attempt < DELIVERY.attempts) await sleep(DELIVERY.backoffMs * 2 ** (attempt - 1));
        }
        return `${error} after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
      };
      const hooks = n.webhooks.filter((w) => w.events.includes(notice.event));
      const outcomes = await Promise.all(hooks.map(deliver));
      hooks.forEach((hook, i) => {
        const error = outcomes[i];
        if (error) report.failed.push({ webhook: hook.name, error });
        else report.delivered.push(hook.name);
      });
      return report;
    },
  };
}
