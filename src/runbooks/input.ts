import { type z, type ZodIssue } from 'zod';
import { withoutRunIdentity } from '../approvals/identity';
import { invalidInput } from '../errors';

function issueText(issue: ZodIssue): string {
  const where = issue.path.length > 0 ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') : '(input)';
  if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${where}: is required`;
  return `${where}: ${issue.message}`;
}

/** Lists every problem with an input, one "field: reason" per entry. Empty when valid. */
export function inputProblems<S extends z.ZodTypeAny>(schema: S, input: unknown): string[] {
  // Who started the run (startedBy, attestation) is the shared controls' concern, not the runbook's schema.
  const r = schema.safeParse(withoutRunIdentity(input));
  return r.success ? [] : r.error.issues.map(issueText);
}

/**
 * Validates a runbook input. Throws a non-retryable InvalidInput failure naming every bad field,
 * before anything on a cluster changes. Used by workflows (UI starts) and the CLI alike.
 */
export function parseRunbookInput<S extends z.ZodTypeAny>(runbook: string, schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(withoutRunIdentity(input));
  if (r.success) return r.data as z.infer<S>;
  const problems = r.error.issues.map(issueText);
  throw invalidInput(`invalid input for ${runbook}: ${problems.join('; ')}`, { problems });
}

/**
 * The cluster an input names, before validation, for the run's search attributes and UI details.
 * The Web UI copies the previous run's search attributes into a new start, so a run sets its own at once,
 * even when its input turns out to be invalid.
 */
export function clusterNamedIn(raw: unknown): string {
  const c = raw && typeof raw === 'object' ? (raw as { cluster?: unknown }).cluster : undefined;
  return typeof c === 'string' && c.length > 0 ? c : '(invalid input)';
}
