import { shellQuote } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { scrub } from '../src/redact';
import { type HostShell } from './ssh';

/**
 * Writes content to a fresh private temp file on the host, runs fn with its path, and removes it. The content
 * travels on the command's standard input: a command line is capped (128 KiB per argument on Linux), and a
 * command line shows up in process lists and error messages.
 */
export async function withHostFile<T>(shell: HostShell, host: InventoryHost, content: string, fn: (path: string) => Promise<T>): Promise<T> {
  const made = await shell.exec(host, 'umask 077 && f="$(mktemp "${TMPDIR:-/tmp}/kafka-runbooks.XXXXXXXX")" && { cat > "$f" || { rm -f "$f"; exit 1; }; } && echo "$f"', {
    timeoutMs: 30_000,
    stdin: content,
  });
  const path = made.stdout.trim();
  if (made.code !== 0 || !path.startsWith('/')) throw new Error(`writing a temp file on ${host.name} failed (exit ${made.code}): ${scrub(made.stderr, 300)}`);
  try {
    return await fn(path);
  } finally {
    await shell.exec(host, `rm -f ${shellQuote(path)}`, { timeoutMs: 15_000 }).catch(() => undefined);
  }
}
