/**
 * The API's routes: start a runbook, list runs, a run's progress, answer a gate, pause / resume / abort.
 * Each route says what token action it needs (see auth.ts); each request that reaches a run carries an
 * attestation, signed with the approval key, of who sent it, which the worker verifies before the run records
 * the actor as authenticated.
 */
import { type Client } from '@temporalio/client';
import { type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { attest } from '../approvals/attestation';
import { type Attestation, type AttestationAction, withoutRunIdentity } from '../approvals/identity';
import { GATE_ANSWER_LIMITS } from '../gates';
import { abortUpdate, approveUpdate, type ControlRequest, type GateAnswer, pauseUpdate, rejectUpdate, resumeUpdate } from '../names';
import { RUNBOOKS } from '../runbooks/registry';
import { gateOwner, listRuns, runState, sendUpdate, startRun } from '../run-operations';
import { callerIdentity, type CallerIdentity } from './auth';
import { principalName } from './tokens';

export interface RouteDeps {
  client: Client;
  /** The key the worker verifies attestations with. */
  attestationKey: Buffer;
  now?: () => Date;
}

const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), problems: z.array(z.string()).optional() }) });
const errors = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody, 429: errorBody };
const onBehalfOf = principalName.optional().describe('a bot token: the chat user it acts for; the decision is recorded as "<user> via <bot>"');
const reason = z.string().max(GATE_ANSWER_LIMITS.reason).optional();
const runParams = z.object({ workflowId: z.string().min(1).max(1000).describe('the workflow ID (URL-encoded: it contains "/")') });
const gateParams = runParams.extend({ gate: z.string().min(1).max(GATE_ANSWER_LIMITS.gate) });

const runSummary = z.object({
  workflowId: z.string(),
  runbook: z.string(),
  cluster: z.string().nullable(),
  status: z.string().nullable(),
  temporalStatus: z.string(),
  startTime: z.string(),
  closeTime: z.string().nullable(),
});
const decision = z.object({
  gate: z.string(),
  outcome: z.enum(['approved', 'rejected']),
  approver: z.string().describe('who decided: "alice", or "alice via slack-bot"'),
  authenticated: z.boolean().optional().describe("whether the worker verified the API's attestation of the approver"),
  reason: z.string().nullable(),
  choice: z.string().nullable(),
  at: z.string(),
});
const ack = z.object({ status: z.string(), message: z.string() });

export function routes(deps: RouteDeps): FastifyPluginAsyncZod {
  const now = deps.now ?? (() => new Date());
  const attestation = (workflowId: string, action: AttestationAction, who: CallerIdentity, gate?: string): Attestation =>
    attest(deps.attestationKey, { workflowId, action, principal: who.principal, issuedAt: now().toISOString(), ...(who.via ? { via: who.via } : {}), ...(gate !== undefined ? { gate } : {}) });

  return async (app) => {
    app.get('/v1/runbooks', {
      config: { action: 'read' },
      schema: {
        summary: 'runbooks the API can start',
        response: { 200: z.array(z.object({ name: z.string(), workflowType: z.string(), disruptive: z.boolean(), summary: z.string() })), ...errors },
      },
      handler: async () => Object.entries(RUNBOOKS).map(([name, r]) => ({ name, workflowType: r.workflowType, disruptive: r.disruptive, summary: r.summary })),
    });

    app.post('/v1/runs', {
      config: { action: 'start' },
      schema: {
        summary: 'start a runbook; its input is validated exactly as the CLI validates it, before anything starts',
        body: z
          .object({
            runbook: z.string().min(1).max(100).describe('a runbook name (rolling-restart) or workflow type (rollingRestart)'),
            input: z.record(z.unknown()).describe("the runbook's input, as in its runbooks/*.md"),
            // IDs appear in shell commands and markdown the run shows: letters, digits and . _ : / - only.
            workflowId: z
              .string()
              .min(1)
              .max(400)
              .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'letters, digits and . _ : / - only, starting with a letter or digit')
              .optional(),
            onBehalfOf,
          })
          .strict(),
        response: { 201: z.object({ workflowId: z.string(), runId: z.string(), runbook: z.string(), cluster: z.string() }), ...errors },
      },
      handler: async (req, reply) => {
        const who = callerIdentity(req, 'start', req.body.onBehalfOf);
        // Only the API says who started a run: identity fields in the caller's input are dropped.
        const input = withoutRunIdentity(req.body.input) as Record<string, unknown>;
        const started = await startRun(deps.client, req.body.runbook, input, {
          ...(req.body.workflowId ? { workflowId: req.body.workflowId } : {}),
          startedBy: (id) => ({ startedBy: who.principal, attestation: attestation(id, 'start', who), rendered: who.via ? `${who.principal} via ${who.via}` : who.principal }),
        });
        return reply.status(201).send(started);
      },
    });

    app.get('/v1/runs', {
      config: { action: 'read' },
      schema: {
        summary: 'runbook runs, newest first: running ones, or all with all=true',
        querystring: z
          .object({ cluster: z.string().max(253).optional(), all: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() })
          .strict(),
        response: { 200: z.object({ runs: z.array(runSummary) }), ...errors },
      },
      handler: async (req) => ({ runs: await listRuns(deps.client, { cluster: req.query.cluster, all: req.query.all === 'true', limit: req.query.limit }) }),
    });

    app.get('/v1/runs/:workflowId', {
      config: { action: 'read' },
      schema: {
        summary: "a run's state and progress (the progress query: steps, gates waiting, decisions, log)",
        params: runParams,
        response: {
          200: z.object({ workflowId: z.string(), temporalStatus: z.string(), failure: z.string().nullable(), progress: z.record(z.unknown()).nullable() }),
          ...errors,
        },
      },
      handler: async (req) => {
        const s = await runState(deps.client, req.params.workflowId);
        return { ...s, progress: s.progress as unknown as Record<string, unknown> | null };
      },
    });

    for (const [verb, update] of [
      ['approve', approveUpdate],
      ['reject', rejectUpdate],
    ] as const) {
      app.post(`/v1/runs/:workflowId/gates/:gate/${verb}`, {
        config: { action: verb },
        schema: {
          summary: `${verb} a gate the run (or its active child) waits at; the run's approval policy decides whether this caller may`,
          params: gateParams,
          body: z.object({ reason, choice: z.string().max(GATE_ANSWER_LIMITS.choice).optional(), onBehalfOf }).strict().default({}),
          response: { 200: z.object({ answeredIn: z.string(), decision }), ...errors },
        },
        handler: async (req) => {
          const who = callerIdentity(req, verb, req.body.onBehalfOf);
          const { workflowId, gate } = req.params;
          // The answer goes to the run that waits at the gate, and the attestation names that run.
          const target = await gateOwner(deps.client, workflowId, gate);
          const answer: GateAnswer & { attestation: Attestation } = {
            gate,
            approver: who.principal,
            ...(req.body.reason !== undefined ? { reason: req.body.reason } : {}),
            ...(req.body.choice !== undefined ? { choice: req.body.choice } : {}),
            attestation: attestation(target, verb, who, gate),
          };
          return { answeredIn: target, decision: await sendUpdate(deps.client, target, update, answer) };
        },
      });
    }

    for (const [verb, update] of [
      ['pause', pauseUpdate],
      ['resume', resumeUpdate],
      ['abort', abortUpdate],
    ] as const) {
      app.post(`/v1/runs/:workflowId/${verb}`, {
        config: { action: verb },
        schema: {
          summary: `${verb} a run${verb === 'abort' ? ' (stops at the next safe point and runs its undo steps)' : ''}`,
          params: runParams,
          body: z.object({ reason, onBehalfOf }).strict().default({}),
          response: { 200: ack, ...errors },
        },
        handler: async (req) => {
          const who = callerIdentity(req, verb, req.body.onBehalfOf);
          const { workflowId } = req.params;
          const request: ControlRequest & { attestation: Attestation } = {
            // The run records `by` as given: name the relaying bot there too.
            by: who.via ? `${who.principal} via ${who.via}` : who.principal,
            ...(req.body.reason !== undefined ? { reason: req.body.reason } : {}),
            attestation: attestation(workflowId, verb, who),
          };
          return sendUpdate(deps.client, workflowId, update, request);
        },
      });
    }
  };
}
