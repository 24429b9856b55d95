import { hashToken, newToken, permits, TokenFile, TokenFileError, TokenStore } from '../../../src/serve/tokens';

/** Token hashing and lookup: only hashes are stored, a token maps to exactly its principal and actions. */

const bot = newToken();
const alice = newToken();
const file = (extra = '') =>
  [
    'tokens:',
    `  - { principal: slack-bot, sha256: ${bot.sha256}, actions: [read, approve, reject], onBehalfOf: anyone }`,
    `  - { principal: alice, sha256: ${alice.sha256}, actions: [read, start] }`,
    extra,
  ].join('\n');

describe('tokens', () => {
  test('a new token is high-entropy and its file entry holds only the SHA-256', () => {
    const t = newToken();
    expect(t.token).toMatch(/^krb_[A-Za-z0-9_-]{43}$/);
    expect(t.sha256).toBe(hashToken(t.token));
    expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(t.sha256).not.toContain(t.token.slice(4, 12));
    expect(newToken().token).not.toBe(t.token);
  });

  test('lookup finds the principal of each token and nothing for anything else', () => {
    const store = TokenStore.parse('tokens.yaml', file());
    expect(store.lookup(bot.token)?.principal).toBe('slack-bot');
    expect(store.lookup(alice.token)?.principal).toBe('alice');
    expect(store.lookup(newToken().token)).toBeNull();
    // the hash itself is not a token, nor is a token with one character changed
    expect(store.lookup(bot.sha256)).toBeNull();
    expect(store.lookup(bot.token.slice(0, -1) + (bot.token.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(store.lookup('')).toBeNull();
    expect(store.lookup('krb_short')).toBeNull();
  });

  test('permits checks the action and on whose behalf', () => {
    const store = TokenStore.parse('tokens.yaml', file(`  - { principal: ops-bot, sha256: ${newToken().sha256}, actions: [approve], onBehalfOf: [carol] }`));
    const [slackBot, aliceEntry, opsBot] = store.entries;
    expect(permits(slackBot!, 'approve', 'dave')).toEqual({ ok: true });
    expect(permits(slackBot!, 'start')).toEqual({ ok: false, reason: 'token of slack-bot may not start (allowed: read, approve, reject)' });
    expect(permits(aliceEntry!, 'start')).toEqual({ ok: true });
    expect(permits(aliceEntry!, 'read', 'bob')).toEqual({ ok: false, reason: 'token of alice may not act on behalf of another user' });
    expect(permits(opsBot!, 'approve', 'carol')).toEqual({ ok: true });
    expect(permits(opsBot!, 'approve', 'dave')).toEqual({ ok: false, reason: 'token of ops-bot may not act on behalf of dave' });
  });

  test('an invalid file is refused naming each field', () => {
    const bad = [
      'tokens:',
      `  - { principal: "bad name", sha256: ${bot.sha256}, actions: [approve, delete] }`,
      `  - { principal: bob, token: ${alice.token}, actions: [read] }`,
      `  - { principal: timeout-policy, sha256: ${bot.sha256}, actions: [read] }`,
    ].join('\n');
    let err: unknown;
    try {
      TokenStore.parse('tokens.yaml', bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TokenFileError);
    const problems = (err as TokenFileError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tokens\[0\]\.principal: letters, digits/),
        expect.stringMatching(/^tokens\[0\]\.actions\[1\]: must be one of read, start/),
        'tokens[1].sha256: is required',
        'tokens[1]: unknown field(s) "token"',
        expect.stringMatching(/^tokens\[2\]\.principal: is reserved/),
      ]),
    );
    expect((err as Error).message).toContain('invalid token file tokens.yaml');
    expect(() => TokenStore.parse('t.yaml', 'tokens: [')).toThrow(/not valid YAML/);
    // one token listed twice would give one bearer two principals
    expect(() => TokenStore.parse('t.yaml', file(`  - { principal: bob, sha256: ${bot.sha256}, actions: [read] }`))).toThrow('tokens[2].sha256: the same token as tokens[0]');
  });
});

describe('the token file on reload', () => {
  test('a reload admits new tokens and drops revoked ones; an invalid file keeps the previous tokens', () => {
    const later = newToken();
    let text = file();
    const f = new TokenFile('tokens.yaml', () => text);
    expect(f.lookup(alice.token)?.principal).toBe('alice');
    text = ['tokens:', `  - { principal: carol, sha256: ${later.sha256}, actions: [read] }`].join('\n');
    expect(f.reload()).toEqual({ ok: true, tokens: 1 });
    expect(f.lookup(later.token)?.principal).toBe('carol');
    expect(f.lookup(alice.token)).toBeNull();
    text = 'tokens: []';
    const r = f.reload();
    expect(r).toEqual({ ok: false, error: expect.stringContaining('tokens: must list at least one token') });
    expect(f.lookup(later.token)?.principal).toBe('carol');
  });
});
