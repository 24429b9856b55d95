import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NodeSSH, type SSHExecCommandOptions } from 'node-ssh';
import { shellQuote } from '../src/inventory/commands';
import { expandHome } from '../src/inventory/load';
import { type InventoryHost, type SecretRef } from '../src/inventory/schema';
import { scrub } from '../src/redact';

type ClientChannel = Parameters<NonNullable<SSHExecCommandOptions['onChannel']>>[0];

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs commands on inventory hosts over SSH. One connection per host, reused; verified host keys. */
export interface HostShell {
  /** `stdin` is written to the command's standard input: file contents travel there, never on the command line. */
  exec(host: InventoryHost, command: string, opts?: { timeoutMs?: number; stdin?: string; onStdout?: (chunk: string) => void }): Promise<CommandResult>;
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

export interface KnownHostsEntries {
  /** Keys on plain lines for this host (base64), whether or not revoked. */
  keys: string[];
  /** Keys under `@revoked`, whatever host the line names. */
  revoked: string[];
  /** `@cert-authority` lines seen: host certificates are not supported, so their keys are ignored. */
  certAuthorityLines: number;
}

/**
 * known_hosts lines for `host` or `[host]:port`, plain and hashed. `@revoked` keys are collected for every
 * host (stricter than OpenSSH, which applies the line's host patterns: a revoked key is compromised
 * everywhere); `@cert-authority` lines are not host keys and are only counted; other markers are skipped.
 */
export function readKnownHosts(knownHostsText: string, address: string, port: number): KnownHostsEntries {
  const names = port === 22 ? [address, `[${address}]:22`] : [`[${address}]:${port}`];
  const entries: KnownHostsEntries = { keys: [], revoked: [], certAuthorityLines: 0 };
  for (const line of knownHostsText.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const parts = t.split(/\s+/);
    const marker = parts[0]?.startsWith('@') ? parts.shift() : undefined;
    const [hostsField, , key] = parts;
    if (!hostsField || !key) continue;
    if (marker === '@revoked') {
      entries.revoked.push(key);
      continue;
    }
    if (marker === '@cert-authority') entries.certAuthorityLines += 1;
    if (marker !== undefined) continue;
    const match = hostsField.split(',').some((h) => {
      if (h.startsWith('|1|')) {
        const [, , salt, hash] = h.split('|');
        if (!salt || !hash) return false;
        return names.some((n) => createHmac('sha1', Buffer.from(salt, 'base64')).update(n).digest('base64') === hash);
      }
      return names.includes(h);
    });
    if (match) entries.keys.push(key);
  }
  return entries;
}

/** Keys known_hosts trusts for the host (base64): on a plain line and not revoked anywhere. */
export function knownHostKeys(knownHostsText: string, address: string, port: number): string[] {
  const { keys, revoked } = readKnownHosts(knownHostsText, address, port);
  return keys.filter((k) => !revoked.includes(k));
}

export type HostKeyVerdict = 'trusted' | 'revoked' | 'unknown';

/** What known_hosts says of the key a host presented: a revoked key is refused even when a plain line lists it. */
export function hostKeyVerdict(knownHostsText: string, address: string, port: number, keyBase64: string): HostKeyVerdict {
  const { keys, revoked } = readKnownHosts(knownHostsText, address, port);
  if (revoked.includes(keyBase64)) return 'revoked';
  return keys.includes(keyBase64) ? 'trusted' : 'unknown';
}

/**
 * The connection cache key: where, as whom, and how the host's identity is verified. A connection made
 * under weaker settings (host-key checking off, another known_hosts) is never reused for stricter ones.
 */
export function connectionKey(host: InventoryHost): string {
  const s = host.ssh;
  return JSON.stringify([
    s.user,
    host.address,
    s.port,
    s.strictHostKeyChecking,
    s.knownHostsFile,
    s.privateKeyFile ?? null,
    s.agent,
    s.passphrase ?? null,
  ]);
}

/** Time the worker waits past a command's deadline for the host to report it stopped, before it drops the connection. */
export const COMMAND_STOP_GRACE_MS = 5_000;

/** The environment variable that carries a command's text to the host's shell. */
const COMMAND_VAR = 'KAFKA_RUNBOOKS_COMMAND';

/**
 * The command as sent. The host enforces the deadline: coreutils `timeout` runs it in a process group of
 * its own and SIGKILLs the whole group at the deadline, even when the worker or the connection is gone, so
 * a retry never overlaps it. The text travels in an environment variable (the inner shell unsets it before
 * running it), so once the login shell has exec'd `timeout` no command line on the host shows it: not in
 * `ps`, and never matched by a template's own `pkill -f` pattern. The user's login shell still parses it.
 */
export function boundedCommand(command: string, timeoutMs: number): string {
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  return `${COMMAND_VAR}=${shellQuote(command)}; export ${COMMAND_VAR}; exec timeout -s KILL ${seconds} "\${SHELL:-/bin/sh}" -c 'c="$${COMMAND_VAR}"; unset ${COMMAND_VAR}; eval "$c"'`;
}

/** A command ran past its deadline. Retryable: the command was stopped (or its connection dropped) first. */
export class CommandTimedOut extends Error {
  override name = 'CommandTimedOut';
}

export class HostKeyMismatch extends Error {}

export function createHostShell(): HostShell {
  const connections = new Map<string, Promise<NodeSSH>>();

  /** Drops a connection from the cache (only if it is still the cached one) and closes it. */
  const drop = (id: string, p: Promise<NodeSSH>): void => {
    if (connections.get(id) === p) connections.delete(id);
    void p.then((c) => c.dispose(), () => undefined);
  };

  const connect = (host: InventoryHost): Promise<NodeSSH> => {
    const id = connectionKey(host);
    const existing = connections.get(id);
    if (existing) return existing;
    const ssh = new NodeSSH();
    const s = host.ssh;
    const where = `${s.user}@${host.address}:${s.port}`;
    let verdict: HostKeyVerdict | null = null;
    let certAuthorityLines = 0;
    const p: Promise<NodeSSH> = ssh
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
              const text = readFileSync(expandHome(s.knownHostsFile), 'utf8');
              certAuthorityLines = readKnownHosts(text, host.address, s.port).certAuthorityLines;
              verdict = hostKeyVerdict(text, host.address, s.port, key.toString('base64'));
              return verdict === 'trusted';
            }
          : undefined,
      })
      .then((c) => {
        // Drop the cached connection when it closes, so the next command reconnects (a host may reboot).
        c.connection?.on('close', () => connections.get(id) === p && connections.delete(id));
        c.connection?.on('error', () => connections.get(id) === p && connections.delete(id));
        return c;
      })
      .catch((err: Error) => {
        if (connections.get(id) === p) connections.delete(id);
        const hint =
          verdict === 'revoked'
            ? ` (the host's key is listed under @revoked in ${s.knownHostsFile}: refused)`
            : /verification failed/i.test(err.message)
              ? ` (host key not found in ${s.knownHostsFile} or does not match; fingerprint check refused the connection${
                  certAuthorityLines > 0 ? `; its ${certAuthorityLines} @cert-authority line(s) are ignored: host certificates are not supported` : ''
                })`
              : '';
        throw new Error(`ssh ${where}: ${scrub(err.message, 300)}${hint}`);
      });
    connections.set(id, p);
    return p;
  };

  return {
    /**
     * Runs the command under the host's `timeout` (see boundedCommand). When the deadline passes, the host
     * kills the command's process group and this throws CommandTimedOut; if the host has not reported it
     * stopped COMMAND_STOP_GRACE_MS later, the channel is closed and the connection dropped, and the error
     * says the command may still run. Errors never repeat the command (it may carry paths or values).
     */
    async exec(host, command, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 120_000;
      const id = connectionKey(host);
      const connection = connect(host);
      const ssh = await connection;
      let channel: ClientChannel | null = null;
      const started = Date.now();
      const run = ssh.execCommand(boundedCommand(command, timeoutMs), {
        execOptions: { pty: false },
        onChannel: (c) => (channel = c),
        ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
        // Long commands (the restore copier) report progress as they go.
        ...(opts.onStdout ? { onStdout: (chunk: Buffer) => opts.onStdout?.(chunk.toString('utf8')) } : {}),
      });
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((resolve) => {
        timer = setTimeout(() => resolve('stuck'), Math.max(1, Math.ceil(timeoutMs / 1000)) * 1000 + COMMAND_STOP_GRACE_MS);
      });
      try {
        const r = await Promise.race([run, stuck]);
        if (r === 'stuck') {
          (channel as ClientChannel | null)?.close();
          drop(id, connection);
          run.catch(() => undefined);
          throw new CommandTimedOut(
            `ssh ${host.name}: a command timed out after ${timeoutMs} ms and the host did not report it stopped; the connection was dropped, the command may still be running there`,
          );
        }
        if ((r.signal === 'KILL' || r.signal === 'SIGKILL') && Date.now() - started >= timeoutMs) {
          throw new CommandTimedOut(`ssh ${host.name}: a command timed out after ${timeoutMs} ms; the host killed it and its process group`);
        }
        if (r.code === 127 && /\btimeout: (?:command )?not found|\btimeout: No such file/.test(r.stderr)) {
          throw new Error(`ssh ${host.name}: the host has no \`timeout\` command (coreutils), which bounds every command the runbooks run`);
        }
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
