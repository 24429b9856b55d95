import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NodeSSH } from 'node-ssh';
import { expandHome } from '../src/inventory/load';
import { type InventoryHost, type SecretRef } from '../src/inventory/schema';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs commands on inventory hosts over SSH. One connection per host, reused; verified host keys. */
export interface HostShell {
  /** `stdin` is written to the command's standard input: file contents travel there, never on the command line. */
  exec(host: InventoryHost, command: string, opts?: { timeoutMs?: number; stdin?: string }): Promise<CommandResult>;
  close(): Promise<void>;
}

export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined) throw new Error(`secret env var ${ref.env} is not set on the worker`);
    return v;
  }
  return readFileSync(expandHome(ref.file), 'utf8').trim();
}

/** known_hosts lookup, plain and hashed entries, for `host` or `[host]:port`. Returns base64 keys. */
export function knownHostKeys(knownHostsText: string, address: string, port: number): string[] {
  const names = port === 22 ? [address, `[${address}]:22`] : [`[${address}]:${port}`];
  const keys: string[] = [];
  for (const line of knownHostsText.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const parts = t.split(/\s+/);
    if (parts[0]?.startsWith('@')) parts.shift(); // @cert-authority / @revoked markers: not supported, skip
    const [hostsField, , key] = parts;
    if (!hostsField || !key) continue;
    const match = hostsField.split(',').some((h) => {
      if (h.startsWith('|1|')) {
        const [, , salt, hash] = h.split('|');
        if (!salt || !hash) return false;
        return names.some((n) => createHmac('sha1', Buffer.from(salt, 'base64')).update(n).digest('base64') === hash);
      }
      return names.includes(h);
    });
    if (match) keys.push(key);
  }
  return keys;
}

export class HostKeyMismatch extends Error {}

export function createHostShell(): HostShell {
  const connections = new Map<string, Promise<NodeSSH>>();

  const connect = (host: InventoryHost): Promise<NodeSSH> => {
    const id = `${host.ssh.user}@${host.address}:${host.ssh.port}`;
    const existing = connections.get(id);
    if (existing) return existing;
    const ssh = new NodeSSH();
    const s = host.ssh;
    const p = ssh
      .connect({
        host: host.address,
        port: s.port,
        username: s.user,
        privateKey: s.privateKeyFile ? readFileSync(expandHome(s.privateKeyFile), 'utf8') : undefined,
        passphrase: s.passphrase ? readSecret(s.passphrase) : undefined,
        agent: s.agent ? process.env.SSH_AUTH_SOCK : undefined,
        readyTimeout: s.connectTimeoutMs,
        keepaliveInterval: 10_000,
        hostVerifier: s.strictHostKeyChecking
          ? (key: Buffer) => {
              const known = knownHostKeys(readFileSync(expandHome(s.knownHostsFile), 'utf8'), host.address, s.port);
              return known.includes(key.toString('base64'));
            }
          : undefined,
      })
      .then((c) => {
        // Drop the cached connection when it closes, so the next command reconnects (a host may reboot).
        c.connection?.on('close', () => connections.delete(id));
        c.connection?.on('error', () => connections.delete(id));
        return c;
      })
      .catch((err: Error) => {
        connections.delete(id);
        const hint = /verification failed/i.test(err.message)
          ? ` (host key not found in ${s.knownHostsFile} or does not match; fingerprint check refused the connection)`
          : '';
        throw new Error(`ssh ${id}: ${err.message}${hint}`);
      });
    connections.set(id, p);
    return p;
  };

  return {
    async exec(host, command, opts = {}) {
      const ssh = await connect(host);
      const timeoutMs = opts.timeoutMs ?? 120_000;
      let timer: NodeJS.Timeout | undefined;
      const run = ssh.execCommand(command, { execOptions: { pty: false }, ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}) });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`ssh ${host.name}: command timed out after ${timeoutMs} ms: ${command}`)), timeoutMs);
      });
      try {
        const r = await Promise.race([run, timeout]);
        return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      const all = [...connections.values()];
      connections.clear();
      await Promise.all(all.map(async (p) => (await p.catch(() => null))?.dispose()));
    },
  };
}

/** SHA256 fingerprint as `ssh-keygen -l` prints it, for messages. */
export function fingerprint(keyBase64: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}
