/**
 * `kafka-runbooks serve`: the HTTP API for bots and scripts. Fastify with zod schemas (validation and the
 * OpenAPI document at /openapi.json from the same schemas), bearer tokens, a rate limit, JSON errors with a
 * code, Prometheus metrics at /metrics.
 */
import { type Client } from '@temporalio/client';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { readFileSync } from 'node:fs';
import { attestationKeyFromFile } from '../approvals/attestation';
import { connectClient } from '../temporal-connection';
import { installAuth, rateLimitKey } from './auth';
import { type ServeConfig, splitListen } from './config';
import { ApiError, ApiErrorCode, installErrorHandlers } from './errors';
import { type RunbookMetrics, RunbookMetrics as Metrics, temporalMetricsSource } from './metrics';
import { routes } from './routes';
import { TokenFile, type TokenStore } from './tokens';

export interface ApiDeps {
  client: Client;
  tokens: Pick<TokenStore, 'lookup'>;
  attestationKey: Buffer;
  rateLimitPerMinute: number;
  metrics?: RunbookMetrics;
  https?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean };
  logger?: FastifyServerOptions['logger'];
  now?: () => Date;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    ...(deps.https ? { https: deps.https } : {}),
    // Bodies are small JSON: a runbook input or an answer.
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app);
  installAuth(app, deps.tokens);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'kafka-runbooks API', version: '1', description: 'Start and steer Kafka runbooks; see runbooks/chatops.md' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifyRateLimit, {
    global: true,
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_req, ctx) => new ApiError(ApiErrorCode.RateLimited, `rate limit: at most ${ctx.max} requests a minute; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.scrape()));
  }
  await app.register(routes({ client: deps.client, attestationKey: deps.attestationKey, ...(deps.now ? { now: deps.now } : {}) }));
  return app;
}

/** Reads the settings' files, connects to Temporal and listens. Resolves with the running server. */
export async function serve(config: ServeConfig): Promise<FastifyInstance> {
  const tokens = new TokenFile(config.tokensFile, (f) => readFileSync(f, 'utf8'));
  const attestationKey = readAttestationKey(config.attestationKeyFile);
  const client = await connectClient();
  const https = config.tls ? httpsOptions(config.tls) : undefined;
  const app = await buildApi({
    client,
    tokens,
    attestationKey,
    rateLimitPerMinute: config.rateLimitPerMinute,
    metrics: new Metrics(temporalMetricsSource(client)),
    ...(https ? { https } : {}),
    logger: { level: process.env.LOG_LEVEL ?? 'info' },
  });
  // SIGHUP reads the token file again: tokens added or revoked without a restart.
  const reload = () => {
    const r = tokens.reload();
    if (r.ok) app.log.info({ tokens: r.tokens }, 'token file reloaded');
    else app.log.error(`token file not reloaded; the previous tokens stay in force: ${r.error}`);
  };
  process.on('SIGHUP', reload);
  app.addHook('onClose', async () => {
    process.off('SIGHUP', reload);
    await client.connection.close();
  });
  const { host, port } = splitListen(config.listen);
  await app.listen({ host, port });
  return app;
}

/** TLS from the settings' files; with a client CA, clients must present a certificate it signed. */
export function httpsOptions(tls: NonNullable<ServeConfig['tls']>): NonNullable<ApiDeps['https']> {
  return {
    cert: readFileSync(tls.certFile),
    key: readFileSync(tls.keyFile),
    ...(tls.clientCaFile ? { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/** The attestation key as the worker reads it (activities/approvals.ts): the file's text, trimmed, at least 32 bytes. */
export function readAttestationKey(file: string): Buffer {
  return attestationKeyFromFile(file)() as Buffer;
}
