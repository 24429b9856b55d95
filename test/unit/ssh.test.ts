import { createHmac } from 'node:crypto';
import { boundedCommand, connectionKey, hostKeyVerdict, knownHostKeys, readKnownHosts } from '../../activities/ssh';
import { parseInventory } from '../../src/inventory/load';
import { type InventoryHost } from '../../src/inventory/schema';

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIB7l0aP8JfFh0ZxZxZxZxZxZxZxZxZxZxZxZxZxZxZxZ';
const OTHER = 'AAAAC3NzaC1lZDI1NTE5AAAAIOTHERkeyOTHERkeyOTHERkeyOTHERkeyOTHERkeyOTHE';

describe('known_hosts markers', () => {
  test.each<[string, string, 'trusted' | 'revoked' | 'unknown']>([
    ['a plain line', `[10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'trusted'],
    ['a key under @revoked, also on a plain line before it', `[10.0.0.1]:2222 ssh-ed25519 ${KEY}\n@revoked [10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'revoked'],
    ['a key under @revoked, also on a plain line after it', `@revoked [10.0.0.1]:2222 ssh-ed25519 ${KEY}\n[10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'revoked'],
    ['a key revoked for every host (*)', `@revoked * ssh-ed25519 ${KEY}\n[10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'revoked'],
    ['a key revoked under another host name: a revoked key is refused everywhere', `@revoked old-host ssh-ed25519 ${KEY}\n[10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'revoked'],
    ['a revoked key with tabs and a comment', `@revoked\t[10.0.0.1]:2222\tssh-ed25519\t${KEY} ops@laptop\n[10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'revoked'],
    ['another key revoked: this one still trusted', `@revoked * ssh-ed25519 ${OTHER}\n[10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'trusted'],
    ['only a @cert-authority line: host certificates are not supported, the CA key is no host key', `@cert-authority [10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'unknown'],
    ['a @cert-authority line for *', `@cert-authority * ssh-ed25519 ${KEY}`, 'unknown'],
    ['an unknown marker', `@future [10.0.0.1]:2222 ssh-ed25519 ${KEY}`, 'unknown'],
    ['no line for the host', `[10.0.0.2]:2222 ssh-ed25519 ${KEY}`, 'unknown'],
  ])('%s', (_what, text, verdict) => {
    expect(hostKeyVerdict(text, '10.0.0.1', 2222, KEY)).toBe(verdict);
    expect(knownHostKeys(text, '10.0.0.1', 2222).includes(KEY)).toBe(verdict === 'trusted');
  });

  test('a revoked hashed entry is refused too', () => {
    const salt = Buffer.from('0123456789abcdef0123');
    const hash = createHmac('sha1', salt).update('[10.1.1.1]:2222').digest('base64');
    const text = `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${KEY}\n@revoked |1|${salt.toString('base64')}|${hash} ssh-ed25519 ${KEY}\n`;
    expect(hostKeyVerdict(text, '10.1.1.1', 2222, KEY)).toBe('revoked');
  });

  test('readKnownHosts counts the @cert-authority lines it ignored, for the error message', () => {
    const text = `@cert-authority *.example ssh-ed25519 ${OTHER}\n[10.0.0.1]:2222 ssh-ed25519 ${KEY}\n@revoked * ssh-ed25519 ${OTHER}`;
    expect(readKnownHosts(text, '10.0.0.1', 2222)).toEqual({ keys: [KEY], revoked: [OTHER], certAuthorityLines: 1 });
  });
});

describe('connection cache key', () => {
  const inventory = (ssh: Record<string, unknown>, kafka: Record<string, unknown> = {}) =>
    parseInventory(
      'x.yaml',
      JSON.stringify({
        name: 'c',
        mode: 'kraft',
        bootstrapServers: ['10.0.0.1:9092'],
        defaults: { ssh: { user: 'kafka', privateKeyFile: '/keys/ops', knownHostsFile: '/etc/ssh/known_hosts', ...ssh }, kafka },
        hosts: [{ name: 'b1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
      }),
    ).hosts[0] as InventoryHost;
  const base = connectionKey(inventory({}));

  test.each<[string, Record<string, unknown>]>([
    ['host-key checking off', { strictHostKeyChecking: false }],
    ['another known_hosts file', { knownHostsFile: '/tmp/known_hosts' }],
    ['another private key', { privateKeyFile: '/keys/other' }],
    ['another user', { user: 'root' }],
    ['another port', { port: 2222 }],
    ['the agent', { agent: true, privateKeyFile: undefined }],
    ['a passphrase', { passphrase: { env: 'PASS' } }],
  ])('differs with %s: a connection made under other settings is never reused', (_what, ssh) => {
    expect(connectionKey(inventory(ssh))).not.toBe(base);
  });

  test('the same for the same settings, whatever the Kafka layout', () => {
    expect(connectionKey(inventory({}, { configFile: '/srv/kafka/server.properties' }))).toBe(base);
  });
});

describe('boundedCommand', () => {
  test('runs the command under `timeout -s KILL` on the host, its text in an environment variable, not on a command line', () => {
    const cmd = boundedCommand(`pkill -f 'kafka\\.Kafka'; echo "done"`, 1500);
    expect(cmd).toMatch(/exec timeout -s KILL 2 /);
    // The text is only in the assignment, which the shell drops when it execs timeout.
    expect(cmd.split('exec timeout')[1]).not.toContain('pkill');
  });
});
