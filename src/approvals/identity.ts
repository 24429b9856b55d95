/**
 * Who answers a gate, and whether the cluster's approval policy lets them. Workflow-safe: no Node built-ins,
 * no I/O. The workflow's Update validator and its Signal handler both call evaluateApproval, so a refused
 * answer is refused synchronously (Update) or ignored and noted (Signal), never recorded as a decision.
 *
 * An actor is authenticated only when its answer carried an attestation the worker verified
 * (src/approvals/attestation.ts); a free-text name (the CLI's `--as`, a Signal from the Web UI) is recorded
 * as unauthenticated, e.g. `alice (unauthenticated)`.
 */

/** Kinds of gate, by what approving them risks. */
export const GateKind = {
  /** Go on with a step that can be undone or repeated (next batch, retry a node). */
  Ordinary: 'ordinary',
  /** A point of no return: finalize a migration, wipe a node's data. */
  Irreversible: 'irreversible',
  /** SIGKILL a broker that did not stop in time. */
  ForceKill: 'forceKill',
} as const;
export type GateKind = (typeof GateKind)[keyof typeof GateKind];
export const GATE_KINDS: readonly GateKind[] = [GateKind.Ordinary, GateKind.Irreversible, GateKind.ForceKill];

/** Who answered: a person or bot, possibly through a bot (`alice via slack-bot`). */
export interface Actor {
  principal: string;
  /** The bot that relayed the answer on the principal's behalf. */
  via?: string;
  /** True only when the answer carried an attestation the worker verified. */
  authenticated: boolean;
}

export const ATTESTATION_ACTIONS = ['approve', 'reject', 'start', 'pause', 'resume', 'abort'] as const;
export type AttestationAction = (typeof ATTESTATION_ACTIONS)[number];

/** What an attestation vouches for: who asked to do what to which run (and gate), and when. */
export interface AttestationFields {
  workflowId: string;
  action: AttestationAction;
  gate?: string;
  principal: string;
  via?: string;
  /** ISO-8601 time the API signed it. */
  issuedAt: string;
}

/**
 * What a gate answer, a start input or a control request carries when the HTTP API authenticated its sender:
 * the signed fields the payload does not already hold, and their MAC (see src/approvals/attestation.ts).
 */
export interface Attestation {
  principal: string;
  via?: string;
  issuedAt: string;
  mac: string;
}

/** Who may answer the gates of one kind. `anyone` admits every principal (still subject to authentication). */
export interface ApproverRule {
  anyone: boolean;
  principals: string[];
  /** Names of groups defined in the policy's `groups`. */
  groups: string[];
}

/**
 * A cluster's approval policy as a run applies it: read once at start from the inventory, then narrowed (never
 * widened) by the run's own input.
 */
export interface ApprovalPolicy {
  /** Where the policy came from, for the run's details. */
  source: 'inventory' | 'none';
  rules: Record<GateKind, ApproverRule>;
  /** Group name -> member principals. */
  groups: Record<string, string[]>;
  /** Gate kinds an unauthenticated actor may answer. */
  unauthenticated: GateKind[];
  /** The run's input `approvers`: only these principals, and only where the policy already admits them. */
  narrowedTo: string[] | null;
}

export type ApprovalVerdict = { allowed: true } | { allowed: false; reason: string };

const ANYONE: ApproverRule = { anyone: true, principals: [], groups: [] };

/**
 * The policy of a cluster whose inventory sets none: anyone may answer any gate, named or authenticated, as
 * before policies existed. Separation of duties still holds.
 */
export const NO_POLICY: ApprovalPolicy = {
  source: 'none',
  rules: { ordinary: ANYONE, irreversible: ANYONE, forceKill: ANYONE },
  groups: {},
  unauthenticated: [...GATE_KINDS],
  narrowedTo: null,
};

/** `alice`, `alice via slack-bot`, `alice (unauthenticated)`. */
export function renderActor(actor: Actor): string {
  const who = actor.via ? `${actor.principal} via ${actor.via}` : actor.principal;
  return actor.authenticated ? who : `${who} (unauthenticated)`;
}

/** An actor from a free-text name: what the CLI's `--as` and the Web UI's Signals carry. */
export function unauthenticatedActor(name: string): Actor {
  return { principal: name, authenticated: false };
}

/** Narrows a policy by a run's input: the result admits nobody the policy did not already admit. */
export function narrowPolicy(policy: ApprovalPolicy, approvers: readonly string[] | null | undefined): ApprovalPolicy {
  if (!approvers) return policy;
  const narrowedTo = policy.narrowedTo ? policy.narrowedTo.filter((p) => approvers.includes(p)) : [...approvers];
  return { ...policy, narrowedTo };
}

/** The principals a rule admits, groups expanded; null when it admits anyone. */
export function admittedPrincipals(policy: ApprovalPolicy, kind: GateKind): string[] | null {
  const rule = policy.rules[kind];
  const fromRule = rule.anyone ? null : [...new Set([...rule.principals, ...rule.groups.flatMap((g) => policy.groups[g] ?? [])])];
  if (policy.narrowedTo === null) return fromRule;
  return fromRule === null ? [...policy.narrowedTo] : fromRule.filter((p) => policy.narrowedTo?.includes(p));
}

/**
 * May this actor answer a gate of this kind? `action` is what the answer does: separation of duties stops the
 * starter approving its own irreversible gate, never rejecting it (stopping is always safe to allow).
 */
export function evaluateApproval(
  policy: ApprovalPolicy,
  gateKind: GateKind,
  actor: Actor,
  starter: Actor | null,
  action: 'approve' | 'reject' = 'approve',
): ApprovalVerdict {
  const who = renderActor(actor);
  if (!actor.authenticated && !policy.unauthenticated.includes(gateKind)) {
    return refuse(`${who} may not answer ${gateKind} gates: the cluster's approval policy needs an authenticated identity (answer through the API)`);
  }
  if (action === 'approve' && gateKind === GateKind.Irreversible && starter !== null && samePrincipal(starter.principal, actor.principal)) {
    return refuse(`${who} started this run and may not approve its irreversible gates (separation of duties): another approver must`);
  }
  const admitted = admittedPrincipals(policy, gateKind);
  // Admission matches exactly, separation of duties loosely: each errs on the side of refusing.
  if (admitted !== null && !admitted.includes(actor.principal)) {
    const list = admitted.length > 0 ? admitted.join(', ') : 'nobody';
    const narrowed = policy.narrowedTo !== null ? ' (the cluster policy narrowed by the run\'s approvers)' : '';
    return refuse(`${who} may not answer ${gateKind} gates${narrowed}; allowed: ${list}`);
  }
  // Where the policy wants authenticated approvers, an unknown or self-declared starter would make separation
  // of duties a matter of what the starter chose to type: refuse until the run is started through the API.
  if (action === 'approve' && gateKind === GateKind.Irreversible && !policy.unauthenticated.includes(gateKind) && (starter === null || !starter.authenticated)) {
    return refuse(
      `${who} may not approve this irreversible gate: the run's starter is ${starter === null ? 'unknown' : renderActor(starter)}, so separation of duties cannot be checked; start such runs through the API`,
    );
  }
  return { allowed: true };
}

/** The policy in a few lines of markdown, for the run's details. */
export function describePolicy(policy: ApprovalPolicy): string {
  const lines: string[] = [policy.source === 'inventory' ? 'Approval policy (from the inventory):' : 'Approval policy: none in the inventory; anyone may answer.'];
  for (const kind of GATE_KINDS) {
    const admitted = admittedPrincipals(policy, kind);
    const rule = policy.rules[kind];
    const groups = rule.groups.length > 0 && policy.narrowedTo === null ? ` (groups: ${rule.groups.join(', ')})` : '';
    const auth = policy.unauthenticated.includes(kind) ? '' : '; authenticated only';
    lines.push(`- ${kind}: ${admitted === null ? 'anyone' : admitted.length > 0 ? admitted.join(', ') : 'nobody'}${groups}${auth}`);
  }
  if (policy.narrowedTo !== null) lines.push(`- narrowed by the run's input to: ${policy.narrowedTo.join(', ') || 'nobody'}`);
  lines.push('- the starter of a run may not approve its irreversible gates');
  return lines.join('\n');
}

function samePrincipal(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

function refuse(reason: string): ApprovalVerdict {
  return { allowed: false, reason };
}

/**
 * Fields any runbook input may carry besides its own, saying who started the run: `startedBy` (a free-text
 * name, unauthenticated), `attestation` (the API's proof, action "start"), and `runStarter` (the starter a
 * parent run passes to its child; trusted only in a child). Input validation sets them aside, so each
 * runbook's own schema stays strict; the shared controls read them.
 */
export const RUN_IDENTITY_FIELDS = ['startedBy', 'attestation', 'runStarter'] as const;

export function withoutRunIdentity(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const copy: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const f of RUN_IDENTITY_FIELDS) delete copy[f];
  return copy;
}

/** A `runStarter` a parent passed, if it has an actor's shape. */
export function actorIn(value: unknown): Actor | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (typeof v.principal !== 'string' || v.principal.length === 0 || v.principal.length > 200 || typeof v.authenticated !== 'boolean') return null;
  if (v.via !== undefined && typeof v.via !== 'string') return null;
  return { principal: v.principal, ...(typeof v.via === 'string' ? { via: v.via } : {}), authenticated: v.authenticated };
}
