import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/**
 * The lab's logger. Human-readable lines on stderr by default (the lab is driven by people and tests);
 * LAB_LOG_FORMAT=json gives pino's JSON; LAB_LOG_LEVEL sets the level (default info).
 */
function humanLines(out: NodeJS.WritableStream): Writable {
  const levels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const { level, time, msg, name: _name, pid: _pid, hostname: _hostname, err, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const t = new Date(Number(time)).toISOString().slice(11, 23);
          const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
          const error = err && typeof err === 'object' && 'stack' in err ? `\n${String((err as { stack: unknown }).stack)}` : '';
          out.write(`${t} lab ${levels[Number(level)] ?? level} ${String(msg)}${extra}${error}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

export const labLog: Logger = pino(
  { name: 'lab', level: process.env.LAB_LOG_LEVEL ?? 'info' },
  process.env.LAB_LOG_FORMAT === 'json' ? pino.destination(2) : humanLines(process.stderr),
);
