import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshPaths } from '../../../src/lab/paths';
import { ensureClientKey, ensureHostKey } from '../../../src/lab/ssh';

// Runs the system's ssh-keygen (openssh-client, installed by scripts/setup.sh with the lab's sshd).
describe('lab SSH keys made by labs coming up at once (a fresh clone whose first test starts three labs)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lab-keys-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('one client key pair, trusted by authorized_keys, and no ssh-keygen left asking whether to overwrite', async () => {
    const ssh = sshPaths(root);
    await Promise.all(Array.from({ length: 6 }, () => ensureClientKey(ssh)));
    const pub = readFileSync(ssh.publicKey, 'utf8').trim();
    expect(readFileSync(ssh.authorizedKeys, 'utf8').trim()).toBe(pub);
    expect(pub).toMatch(/^ssh-ed25519 \S+ kafka-runbooks-lab$/);
    expect(readdirSync(ssh.dir).filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);
  }, 30_000);

  it('one host key per address, the same for every caller', async () => {
    const ssh = sshPaths(root);
    const keys = await Promise.all(Array.from({ length: 6 }, () => ensureHostKey(ssh, '127.0.9.1')));
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
    expect(readFileSync(`${keys[0]?.file}.pub`, 'utf8')).toContain(keys[0]?.publicKey);
  }, 30_000);
});
