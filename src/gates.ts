/**
 * Checks of what humans and bots send to a run (gate answers, pause/resume/abort requests), before any of
 * it reaches the run's state. Workflow-safe: the Update validators and the Signal handlers both call these,
 * so a malformed payload is refused (Update) or ignored and noted (Signal), never stored.
 */
import { type Attestation } from './approvals/identity';
import { type ControlRequest, type GateAnswer } from './names';

export const GATE_ANSWER_LIMITS = { gate: 200, approver: 200, reason: 2000, choice: 100 } as const;

/**
 * Names the runbook itself records as deciders. A human or bot may not answer under them, so a decision
 * recorded as `timeout-policy` always means nobody answered.
 */
export const RESERVED_DECIDERS: readonly string[] = ['timeout-policy', 'cancel-request', 'system'];

// Control characters would let a caller forge lines in the details, the log and the CLI's output.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function text(value: unknown, field: string, max: number, opts: { required: boolean; multiline?: boolean }): string | undefined {
  if (value === undefined || value === null) {
    if (opts.required) throw new Error(`malformed request: "${field}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new Error(`malformed request: "${field}" must be a string, got ${Array.isArray(value) ? 'array' : typeof value}`);
  if (opts.required && value.trim().length === 0) throw new Error(`malformed request: "${field}" is required`);
  if (value.length > max) throw new Error(`malformed request: "${field}" is ${value.length} characters long; at most ${max}`);
  if (CONTROL_CHARS.test(value) || (!opts.multiline && /[\n\r]/.test(value))) throw new Error(`malformed request: "${field}" contains control characters`);
  return value;
}

function decider(value: unknown, field: string): string {
  const who = text(value, field, GATE_ANSWER_LIMITS.approver, { required: true }) as string;
  if (RESERVED_DECIDERS.includes(who.trim().toLowerCase())) throw new Error(`malformed request: "${field}" may not be "${who}": that name is reserved for the runbook's own decisions`);
  return who;
}

/** A gate answer, checked for shape, type and length. Returns it with only the known fields. */
export function checkGateAnswer(answer: unknown): GateAnswer {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) throw new Error('malformed request: expected { gate, approver, reason?, choice? }');
  const a = answer as Record<string, unknown>;
  const checked: GateAnswer = {
    gate: text(a.gate, 'gate', GATE_ANSWER_LIMITS.gate, { required: true }) as string,
    approver: decider(a.approver, 'approver'),
  };
  const reason = text(a.reason, 'reason', GATE_ANSWER_LIMITS.reason, { required: false, multiline: true });
  const choice = text(a.choice, 'choice', GATE_ANSWER_LIMITS.choice, { required: false });
  if (reason !== undefined) checked.reason = reason;
  if (choice !== undefined) checked.choice = choice;
  const attestation = checkAttestation(a.attestation);
  if (attestation !== undefined) checked.attestation = attestation;
  return checked;
}

/**
 * The shape of an attestation a payload carries (its MAC is verified on the worker, not here): the principal
 * follows the approver's rules, so a reserved name cannot be attested either.
 */
export function checkAttestation(value: unknown): Attestation | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error('malformed request: "attestation" must be { principal, via?, issuedAt, mac }');
  const v = value as Record<string, unknown>;
  const checked: Attestation = {
    principal: decider(v.principal, 'attestation.principal'),
    issuedAt: text(v.issuedAt, 'attestation.issuedAt', 40, { required: true }) as string,
    mac: text(v.mac, 'attestation.mac', 100, { required: true }) as string,
  };
  const via = text(v.via, 'attestation.via', GATE_ANSWER_LIMITS.approver, { required: false });
  if (via !== undefined) checked.via = via;
  return checked;
}

/** Workflow IDs are at most this long on the server. */
const WORKFLOW_ID_LIMIT = 1000;

/** A pause, resume or abort request, checked the same way; its attestation, like a gate answer's, is verified on the worker. */
export function checkControlRequest(req: unknown): ControlRequest {
  if (!req || typeof req !== 'object' || Array.isArray(req)) throw new Error('malformed request: expected { by, reason?, attestation? }');
  const r = req as Record<string, unknown>;
  const checked: ControlRequest = { by: decider(r.by, 'by') };
  const reason = text(r.reason, 'reason', GATE_ANSWER_LIMITS.reason, { required: false, multiline: true });
  if (reason !== undefined) checked.reason = reason;
  const attestation = checkAttestation(r.attestation);
  if (attestation !== undefined) checked.attestation = attestation;
  const attestedFor = text(r.attestedFor, 'attestedFor', WORKFLOW_ID_LIMIT, { required: false });
  if (attestedFor !== undefined && attestation !== undefined) checked.attestedFor = attestedFor;
  return checked;
}
