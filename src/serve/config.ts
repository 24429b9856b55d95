/**
 * Settings of `kafka-runbooks serve`, validated once from flags and environment (flags win); each error names
 * its setting. Files are read by the caller.
 */
import { z } from 'zod';

export const serveConfigSchema = z
  .object({
    /** host:port to listen on. */
    listen: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8080')
      .refine((l) => !/:\d+$/.test(l) || Number(l.slice(l.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535')
      .default('127.0.0.1:8080'),
    tokensFile: z.string({ required_error: 'is required: the token file (--tokens or KAFKA_RUNBOOKS_TOKENS_FILE)' }).min(1),
    attestationKeyFile: z.string({ required_error: 'is required: the key answers are attested with, the one the worker has (--attestation-key or KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE)' }).min(1),
    tls: z
      .object({
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        /** Client certificates signed by this CA are required on top of the bearer token. */
        clientCaFile: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Requests per minute per principal (per client address for requests without a known token). */
    rateLimitPerMinute: z.coerce.number().int().min(1, 'must be at least 1').max(100_000, 'must be at most 100000').default(120),
  })
  .strict();
export type ServeConfig = z.infer<typeof serveConfigSchema>;

export interface ServeFlags {
  listen?: string;
  tokens?: string;
  attestationKey?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  rateLimit?: string;
}

/** Flags first, then KAFKA_RUNBOOKS_* variables. Throws naming every bad setting. */
export function serveConfig(flags: ServeFlags, env: NodeJS.ProcessEnv): ServeConfig {
  const cert = flags.tlsCert ?? env.KAFKA_RUNBOOKS_TLS_CERT;
  const key = flags.tlsKey ?? env.KAFKA_RUNBOOKS_TLS_KEY;
  const clientCa = flags.tlsClientCa ?? env.KAFKA_RUNBOOKS_TLS_CLIENT_CA;
  const raw = {
    listen: flags.listen ?? env.KAFKA_RUNBOOKS_SERVE_LISTEN,
    tokensFile: flags.tokens ?? env.KAFKA_RUNBOOKS_TOKENS_FILE,
    attestationKeyFile: flags.attestationKey ?? env.KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE,
    tls: cert || key || clientCa ? { certFile: cert, keyFile: key, ...(clientCa ? { clientCaFile: clientCa } : {}) } : undefined,
    rateLimitPerMinute: flags.rateLimit ?? env.KAFKA_RUNBOOKS_RATE_LIMIT,
  };
  const r = serveConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.code === 'invalid_type' && i.received === 'undefined' && !i.message.startsWith('is required') ? 'is required' : i.message}`);
  throw new Error(`invalid serve settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
}

export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}
