import { scrub } from '../src/redact';
import { renderCommand } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { type HostShell } from './ssh';

/**
 * The status template's answer, read as LSB status codes: 0 running; 1, 2 or 3 not running. Anything else
 * (4 unknown, 126/127 not runnable, 255 or no exit status from SSH, a failed sudo) is no answer and throws:
 * a wait must not take a dropped SSH channel for a stopped broker, nor a wipe a running one for a stopped one.
 */
export async function isKafkaRunning(shell: HostShell, host: InventoryHost, timeoutMs = 30_000, what = 'Kafka'): Promise<boolean> {
  const r = await shell.exec(host, renderCommand(host.kafka.commands.status, host), { timeoutMs });
  if (r.code === 0) return true;
  // sudo exits 1 when it refuses (no terminal for a password, not in sudoers): that is no answer, not "stopped".
  if (r.code >= 1 && r.code <= 3 && !/^sudo: /m.test(r.stderr)) return false;
  throw new Error(`status of ${what} on ${host.name} unknown: the status command exited ${r.code}${r.stderr.trim() ? `: ${scrub(r.stderr, 300)}` : ''}`);
}
