/**
 * API tokens: a file lists each token by its SHA-256 hash, never the token itself, with the principal it
 * stands for and what it may do. A token is 32 random bytes (base64url, prefixed `krb_`), so a plain SHA-256
 * suffices: there is nothing to brute-force that a slow hash would protect.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z, type ZodIssue } from 'zod';
import { RESERVED_DECIDERS } from '../gates';

export const API_ACTIONS = ['read', 'start', 'approve', 'reject', 'pause', 'resume', 'abort'] as const;
export type ApiAction = (typeof API_ACTIONS)[number];

const TOKEN_PREFIX = 'krb_';
/** 32 random bytes in base64url: 43 characters. Shorter bearer strings are refused before hashing. */
const TOKEN_MIN_LENGTH = TOKEN_PREFIX.length + 43;
const HEX_SHA256 = /^[0-9a-f]{64}$/;

// Principal names end up in decisions (`alice via slack-bot`): single-line, no spaces, not a reserved decider.
export const principalName = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, 'letters, digits, ".", "_", "@" or "-", starting with a letter or digit')
  .refine((n) => !RESERVED_DECIDERS.includes(n.toLowerCase()), 'is reserved for the runbook’s own decisions');

export const tokenEntrySchema = z
  .object({
    /** Who the token stands for: a person (`alice`) or a bot (`slack-bot`). Recorded with every decision. */
    principal: principalName,
    /** Lower-case hex SHA-256 of the token (see `kafka-runbooks token`). */
    sha256: z.string().regex(HEX_SHA256, 'must be the 64 lower-case hex digits of the token’s SHA-256'),
    actions: z
      .array(z.enum(API_ACTIONS, { errorMap: () => ({ message: `must be one of ${API_ACTIONS.join(', ')}` }) }))
      .min(1, 'must list at least one action'),
    /**
     * A bot may act for the chat users it names, or for anyone (`anyone`); the decision is then recorded as
     * `<user> via <principal>`. Absent: the token acts only as itself.
     */
    onBehalfOf: z.union([z.literal('anyone'), z.array(principalName).min(1, 'must list at least one user (or say anyone)')]).optional(),
    /** A note for people reading the file. */
    description: z.string().max(500).optional(),
  })
  .strict();
export type TokenEntry = z.infer<typeof tokenEntrySchema>;

export const tokenFileSchema = z
  .object({ tokens: z.array(tokenEntrySchema).min(1, 'must list at least one token').max(10_000) })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.tokens.forEach((t, i) => {
      const first = seen.get(t.sha256);
      if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['tokens', i, 'sha256'], message: `the same token as tokens[${first}]` });
      else seen.set(t.sha256, i);
    });
  });

/** Thrown when the token file cannot be used; names the file, each bad field and why. */
export class TokenFileError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid token file ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function describeIssue(issue: ZodIssue): string {
  const where = issue.path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '') || '(top level)';
  if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${where}: is required`;
  return `${where}: ${issue.message}`;
}

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** A new token and the file entry that admits it. The token is shown once; only its hash is kept. */
export function newToken(): { token: string; sha256: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, sha256: hashToken(token) };
}

/** The tokens of one file, looked up by the bearer string a request presents. */
export class TokenStore {
  private readonly hashes: Buffer[];

  constructor(readonly entries: readonly TokenEntry[]) {
    this.hashes = entries.map((e) => Buffer.from(e.sha256, 'hex'));
  }

  /** Parses and validates a token file's text (YAML or JSON). */
  static parse(source: string, text: string): TokenStore {
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (err) {
      throw new TokenFileError(source, [`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
    }
    const parsed = tokenFileSchema.safeParse(raw);
    if (!parsed.success) throw new TokenFileError(source, parsed.error.issues.map(describeIssue));
    return new TokenStore(parsed.data.tokens);
  }

  /** The entry a bearer token matches, or null. Every stored hash is compared, in constant time each. */
  lookup(bearer: string): TokenEntry | null {
    if (bearer.length < TOKEN_MIN_LENGTH || bearer.length > 512) return null;
    const presented = createHash('sha256').update(bearer, 'utf8').digest();
    let found: TokenEntry | null = null;
    this.hashes.forEach((h, i) => {
      if (timingSafeEqual(h, presented)) found = this.entries[i] ?? null;
    });
    return found;
  }
}

/**
 * The token file as the server holds it: read at start, read again on `reload()` (SIGHUP), so tokens are
 * added and revoked without a restart. A file that does not validate on reload leaves the previous tokens
 * in force and says why.
 */
export class TokenFile {
  private store: TokenStore;

  constructor(
    readonly path: string,
    private readonly read: (path: string) => string,
  ) {
    this.store = TokenStore.parse(path, read(path));
  }

  lookup(bearer: string): TokenEntry | null {
    return this.store.lookup(bearer);
  }

  reload(): { ok: true; tokens: number } | { ok: false; error: string } {
    try {
      this.store = TokenStore.parse(this.path, this.read(this.path));
      return { ok: true, tokens: this.store.entries.length };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  }
}

/** Whether `entry` may do `action`, acting for `onBehalfOf` when given. Returns the reason when not. */
export function permits(entry: TokenEntry, action: ApiAction, onBehalfOf?: string): { ok: true } | { ok: false; reason: string } {
  if (!entry.actions.includes(action)) return { ok: false, reason: `token of ${entry.principal} may not ${action} (allowed: ${entry.actions.join(', ')})` };
  if (onBehalfOf === undefined) return { ok: true };
  if (!entry.onBehalfOf) return { ok: false, reason: `token of ${entry.principal} may not act on behalf of another user` };
  if (entry.onBehalfOf !== 'anyone' && !entry.onBehalfOf.includes(onBehalfOf)) return { ok: false, reason: `token of ${entry.principal} may not act on behalf of ${onBehalfOf}` };
  return { ok: true };
}
