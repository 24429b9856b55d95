/**
 * Every error the API returns is JSON: `{ "error": { "code", "message", "problems"? } }`, with `problems`
 * naming each bad field. Codes are stable; messages are for people.
 */
import { type FastifyError, type FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type ZodIssue } from 'zod';
import { RefusalCode, RunRefused } from '../run-operations';

export const ApiErrorCode = {
  /** No bearer token, or one the token file does not list. */
  Unauthorized: 'unauthorized',
  /** The token may not do this (or act for this user). */
  Forbidden: 'forbidden',
  /** The request's own shape is wrong (a path, query or body field). */
  InvalidRequest: 'invalid-request',
  /** The runbook's input is wrong; `problems` names each field. */
  InvalidInput: RefusalCode.InvalidInput,
  UnknownRunbook: RefusalCode.UnknownRunbook,
  ClusterBusy: RefusalCode.ClusterBusy,
  NoSuchRun: RefusalCode.NoSuchRun,
  /** The run refused the request (approval policy, unknown gate, run not in a state for it). Nothing changed. */
  Refused: RefusalCode.Refused,
  RateLimited: 'rate-limited',
  NotFound: 'not-found',
  Internal: 'internal',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

const STATUS: Record<ApiErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  'invalid-request': 400,
  'invalid-input': 400,
  'unknown-runbook': 400,
  'cluster-busy': 409,
  'no-such-run': 404,
  refused: 409,
  'rate-limited': 429,
  'not-found': 404,
  internal: 500,
};

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
  }

  get statusCode(): number {
    return STATUS[this.code];
  }

  toJSON(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.problems.length > 0 ? { problems: this.problems } : {}) } };
  }
}

export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string; problems?: string[] };
}

function issueText(where: string, issue: ZodIssue): string {
  const field = [where, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') return `${field}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${field}: is required`;
  return `${field}: ${issue.message}`;
}

/** What any thrown error becomes on the wire. Internal errors say nothing of their cause to the caller. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof RunRefused) return new ApiError(err.code, err.message, err.problems);
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const where = fe.validationContext ?? '';
    const problems = fe.validation.map((v) => issueText(where, v.params.issue));
    return new ApiError(ApiErrorCode.InvalidRequest, `invalid request: ${problems.join('; ')}`, problems);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode === 429) return new ApiError(ApiErrorCode.RateLimited, fe.message);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return new ApiError(ApiErrorCode.InvalidRequest, fe.message);
  return new ApiError(ApiErrorCode.Internal, 'internal error (see the server log)');
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const api = toApiError(err);
    if (api.code === ApiErrorCode.Internal) req.log.error({ err }, 'request failed');
    void reply.status(api.statusCode).send(api.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new ApiError(ApiErrorCode.NotFound, `no route ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });
}
