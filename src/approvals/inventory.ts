import { z } from 'zod';
import { atMost, boundedString, LIMITS, wholeNumber } from '../limits';
import { type ApprovalPolicy, type ApproverRule, GATE_KINDS, type GateKind } from './identity';

/**
 * The inventory's `approvals` and `notifications` sections: who may answer each kind of gate on this cluster,
 * how long a gate waits, and where the run tells people it needs them. Workflow-safe (zod only); webhook URLs
 * are secret references, resolved on the worker only.
 */

const principal = boundedString(LIMITS.maxNameLength).min(1, 'must not be empty');
const names = z.array(principal).max(...atMost(LIMITS.maxApprovers, 'names'));

const ruleSchema = z
  .object({
    /** Everyone may answer (still subject to `allowUnauthenticated`). */
    anyone: z.boolean().default(false),
    principals: names.default([]),
    groups: names.default([]),
  })
  .strict();

/** A gate waits this long, then its timeout policy decides; at most 7 days. */
const timeoutSchema = z
  .object({
    minutes: wholeNumber(1, LIMITS.maxTimeoutMinutes, 'minutes'),
    /** Only an ordinary gate may go on when nobody answers; irreversible and force-kill gates always reject. */
    onTimeout: z.enum(['reject', 'approve']).default('reject'),
  })
  .strict();

const kindEnum = z.enum(GATE_KINDS as [GateKind, ...GateKind[]]);

export const approvalsSchema = z
  .object({
    /** Group name -> members. */
    groups: z.record(boundedString(LIMITS.maxNameLength).min(1), names).default({}),
    /** Absent: anyone. */
    ordinary: ruleSchema.optional(),
    /** Absent: the ordinary rule. */
    irreversible: ruleSchema.optional(),
    /** Absent: the irreversible rule. */
    forceKill: ruleSchema.optional(),
    /** Gate kinds a name that is not authenticated (CLI `--as`, a Web UI Signal) may answer. */
    allowUnauthenticated: z.array(kindEnum).max(3).default(['ordinary']),
    /** Per kind: how long a gate waits before its timeout policy decides; absent waits until answered. */
    timeouts: z.object({ ordinary: timeoutSchema, irreversible: timeoutSchema, forceKill: timeoutSchema }).partial().strict().default({}),
  })
  .strict()
  .superRefine((a, ctx) => {
    for (const kind of GATE_KINDS) {
      for (const g of a[kind]?.groups ?? []) {
        if (!(g in a.groups)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [kind, 'groups'], message: `names group "${g}", which approvals.groups does not define` });
      }
      const t = a.timeouts[kind];
      if (kind !== 'ordinary' && t?.onTimeout === 'approve') {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['timeouts', kind, 'onTimeout'], message: `a ${kind} gate cannot be approved by a timeout; only ordinary gates may` });
      }
    }
  });
export type ApprovalsSettings = z.infer<typeof approvalsSchema>;

export const NOTIFICATION_EVENTS = ['gateOpened', 'gateNearTimeout', 'runFailed', 'runEnded'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** Built by the caller from src/inventory/schema.ts's secret reference, to keep this module free of a cycle. */
export function notificationsSchema<R extends z.ZodTypeAny>(secretRef: R) {
  const webhook = z
    .object({
      name: boundedString(LIMITS.maxNameLength).regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"'),
      /** The webhook URL is a secret (Slack's carries its token): a reference, never inline. */
      url: secretRef,
      /** slack: a Slack-compatible body (text + blocks); generic: the event as JSON. Absent: slack for hooks.slack.com URLs. */
      kind: z.enum(['slack', 'generic']).optional(),
      events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).max(NOTIFICATION_EVENTS.length).default([...NOTIFICATION_EVENTS]),
    })
    .strict();
  return z
    .object({
      /** The Temporal Web UI's base URL, for links to the run, e.g. http://temporal.example:8233. */
      uiUrl: boundedString(2048).url().optional(),
      /** The runbook API's base URL (`kafka-runbooks serve`), for the HTTP call that answers a gate. */
      apiUrl: boundedString(2048).url().optional(),
      /** How long before a gate's timeout to remind: at most this many minutes, and at most a fifth of the timeout. */
      remindBeforeMinutes: wholeNumber(1, LIMITS.maxTimeoutMinutes, 'minutes').default(15),
      webhooks: z.array(webhook).max(...atMost(20, 'webhooks')).default([]),
    })
    .strict()
    .superRefine((n, ctx) => {
      const seen = new Set<string>();
      n.webhooks.forEach((w, i) => {
        if (seen.has(w.name)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['webhooks', i, 'name'], message: `duplicate webhook name "${w.name}"` });
        seen.add(w.name);
      });
    });
}

/** The approval policy an inventory section sets; no section, no policy (anyone may answer). */
export function approvalPolicyOf(settings: ApprovalsSettings | null | undefined): ApprovalPolicy | null {
  if (!settings) return null;
  const anyone: ApproverRule = { anyone: true, principals: [], groups: [] };
  const rule = (r: z.infer<typeof ruleSchema> | undefined): ApproverRule | undefined => (r ? { anyone: r.anyone, principals: r.principals, groups: r.groups } : undefined);
  const ordinary = rule(settings.ordinary) ?? anyone;
  const irreversible = rule(settings.irreversible) ?? ordinary;
  const forceKill = rule(settings.forceKill) ?? irreversible;
  return {
    source: 'inventory',
    rules: { ordinary, irreversible, forceKill },
    groups: settings.groups,
    unauthenticated: [...new Set(settings.allowUnauthenticated)],
    narrowedTo: null,
  };
}

/** A gate kind's timeout from the inventory. */
export interface GateTimeout {
  minutes: number;
  onTimeout: 'reject' | 'approve';
}

/**
 * What a run learns about its cluster's approvals and notifications when it starts (recorded once in its
 * history): the policy, the gate timeouts, and which events have a webhook. No URL, no secret.
 */
export interface RunApprovalSettings {
  policy: ApprovalPolicy | null;
  timeouts: Partial<Record<GateKind, GateTimeout>>;
  /** Events some webhook listens to; empty when the cluster has none. */
  notify: NotificationEvent[];
  remindBeforeMinutes: number;
}
