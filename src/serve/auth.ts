/**
 * Who is calling: the bearer token names a principal and what it may do. A bot token may name a chat user it
 * acts for, and the decision is then that user's, relayed by the bot (`alice via slack-bot`).
 */
import { type FastifyInstance, type FastifyRequest } from 'fastify';
import { type ApiAction, permits, type TokenEntry } from './tokens';
import { ApiError, ApiErrorCode } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token's entry when the request carried a known one; null otherwise. */
    caller: TokenEntry | null;
  }
  interface FastifyContextConfig {
    /** What a route does; routes without one (the OpenAPI document, metrics) need no token. */
    action?: ApiAction;
  }
}

/** The principal a decision is recorded under: the user, and the bot that relayed it when there is one. */
export interface CallerIdentity {
  principal: string;
  via?: string;
}

const BEARER = /^Bearer ([\x21-\x7e]+)$/;

/**
 * Reads the token on every request (so the rate limit can count per principal even for refused requests) and
 * refuses, before the handler runs, a route's request without a token that may do the route's action.
 */
export function installAuth(app: FastifyInstance, tokens: { lookup(bearer: string): TokenEntry | null }): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (req) => {
    const m = BEARER.exec(req.headers.authorization ?? '');
    req.caller = m?.[1] ? tokens.lookup(m[1]) : null;
  });
  app.addHook('preHandler', async (req) => {
    const action = req.routeOptions.config.action;
    if (!action) return;
    if (!req.caller) {
      throw new ApiError(ApiErrorCode.Unauthorized, req.headers.authorization ? 'the bearer token is not valid' : 'a bearer token is required (Authorization: Bearer <token>)');
    }
    const p = permits(req.caller, action);
    if (!p.ok) throw new ApiError(ApiErrorCode.Forbidden, p.reason);
  });
}

/** The identity a request acts under, refusing a user the token may not act for. */
export function callerIdentity(req: FastifyRequest, action: ApiAction, onBehalfOf: string | undefined): CallerIdentity {
  const caller = req.caller;
  if (!caller) throw new ApiError(ApiErrorCode.Unauthorized, 'a bearer token is required (Authorization: Bearer <token>)');
  const p = permits(caller, action, onBehalfOf);
  if (!p.ok) throw new ApiError(ApiErrorCode.Forbidden, p.reason);
  return onBehalfOf === undefined || onBehalfOf === caller.principal ? { principal: caller.principal } : { principal: onBehalfOf, via: caller.principal };
}

/** The rate limit's key: the principal for a known token, the client address otherwise. */
export const rateLimitKey = (req: FastifyRequest): string => (req.caller ? `principal:${req.caller.principal}` : `ip:${req.ip}`);
