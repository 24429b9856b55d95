import { shellQuote } from '../inventory/commands';
import { type CopierKind } from './plan';

/**
 * The shell commands that run the copiers on the copy host, and the reading of the C copiers' probe.
 * Pure. Everything lives in one private directory: pid files naming running copiers, and the C copiers,
 * built once per source version.
 */

/** The directory, private to the SSH user; a directory of that name owned by someone else stops the command. */
const PRIVATE_DIR = ['d="${TMPDIR:-/tmp}/kafka-runbooks-restore"', 'mkdir -p "$d" && chmod 700 "$d" || exit 3'];

/**
 * How long a retried copy waits for the target's end offsets to stay put before it trusts them. A request the
 * stopped copier sent can sit in a broker past its sender's death: a client over its byte-rate quota has its
 * next request held back until its rate is under the quota again (unbounded), then it is appended all the
 * same. A heuristic: the verification is what catches a request held longer.
 */
export const SETTLE_MS = 20_000;

/** The line by which a C copier includes what the C copiers share (activities/restore/copier-common.h). */
export const COMMON_INCLUDE = '#include "copier-common.h"';

/**
 * A C copier's source as one file, the shared header written in place of its include line: the copy host
 * compiles it from a temp file, with nothing next to it. A source without that line exactly once is refused.
 */
export function withCommonHeader(source: string, header: string): string {
  const parts = source.split(`\n${COMMON_INCLUDE}\n`);
  if (parts.length !== 2) throw new Error(`a C copier source must include copier-common.h exactly once (found ${parts.length - 1})`);
  return `${parts[0]}\n${header}\n${parts[1]}`;
}

/** Names a C copier's build: the first 16 hex digits of its source's sha256. */
export function assertBuildId(buildId: string): void {
  if (!/^[0-9a-f]{16}$/.test(buildId)) throw new Error(`bad copier build id ${buildId}`);
}

/** The copiers built on the copy host from C: the binary's name, the libraries it links, and what to install. */
export const NATIVE_COPIERS = {
  wire: { binary: 'wire-copier', libs: '-lz -llz4 -lzstd -lsnappy', packages: 'gcc zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev' },
  librdkafka: { binary: 'restore-copier', libs: '-lrdkafka', packages: 'gcc librdkafka-dev' },
} as const;
export type NativeCopierKind = keyof typeof NATIVE_COPIERS;

/**
 * Builds a C copier from the source at sourcePath into "$b", unless this version is already built.
 * A build is written under a temporary name and renamed: a concurrent or interrupted build never leaves a
 * half-written binary under the final name. When the host cannot build it, prints one UNAVAILABLE line and exits 3.
 */
function buildNative(kind: NativeCopierKind, sourcePath: string, buildId: string): string[] {
  assertBuildId(buildId);
  const { binary, libs } = NATIVE_COPIERS[kind];
  return [
    `b="$d/${binary}-${buildId}"`,
    'if [ ! -x "$b" ]; then ' +
      'command -v cc >/dev/null 2>&1 || { echo "UNAVAILABLE no C compiler (cc) on the host"; exit 3; }; ' +
      `cc -O2 -pthread -x c -o "$b.$$" ${shellQuote(sourcePath)} ${libs} 2>"$b.$$.log" || { echo "UNAVAILABLE the build failed: $(tail -c 300 "$b.$$.log" | tr '\\n' ' ')"; rm -f "$b.$$" "$b.$$.log"; exit 3; }; ` +
      'rm -f "$b.$$.log"; mv -f "$b.$$" "$b"; ' +
      'fi',
  ];
}

/** Builds a C copier if needed and asks it for its version: what `copier: auto` decides on. */
export function nativeCopierProbeCommand(kind: NativeCopierKind, sourcePath: string, buildId: string): string {
  return [...PRIVATE_DIR, ...buildNative(kind, sourcePath, buildId), '"$b" version'].join('; ');
}

export type NativeProbe = { available: true; version: string } | { available: false; reason: string };

/** Reads the probe's outcome: a VERSION line that says ok, else why the copier cannot run on the host. */
export function parseNativeProbe(code: number | null, stdout: string, stderr: string): NativeProbe {
  const lines = stdout.split('\n').map((l) => l.trim());
  const version = lines.map((l) => /^VERSION (librdkafka|wire)=(\S+) (ok|too-old)$/.exec(l)).find((m) => m !== null);
  if (version?.[2] && version[3] === 'ok' && code === 0) return { available: true, version: version[2] };
  if (version?.[2]) return { available: false, reason: `librdkafka ${version[2]} there is older than 2.0.2, the oldest measured lossless` };
  const said = lines.find((l) => l.startsWith('UNAVAILABLE '));
  if (said) return { available: false, reason: said.slice('UNAVAILABLE '.length) };
  const tail = stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300);
  return { available: false, reason: `the built copier does not run there (exit ${code}${tail ? `: ${tail}` : ''}; a noexec TMPDIR?)` };
}

/**
 * The command that runs a copier on a host. It first stops any copier an earlier attempt of the same key
 * left running (a worker that died leaves its copier alive on the host): two writers would duplicate records.
 * The pid file names the process; its command line must carry the key, so a recycled pid is never killed.
 * java: RestoreCopier.java from sourcePath, on the host's Kafka jars. wire and librdkafka: wire-copier.c or
 * restore-copier.c from sourcePath, built first if this version is not yet built there.
 */
export function copierCommand(opts: { kind: CopierKind; key: string; sourcePath: string; args: string[]; kafkaHome: string; buildId?: string }): string {
  const { kind, key, sourcePath, args } = opts;
  if (!/^[a-z0-9-]+$/.test(key)) throw new Error(`bad copier key ${key}`);
  const run =
    kind !== 'java'
      ? [...buildNative(kind, sourcePath, opts.buildId ?? ''), `exec "$b" --tag=${key} ${args.map(shellQuote).join(' ')}`]
      : [`exec java -Xmx1g -XX:+UseParallelGC -Dkafka-runbooks.copier=${key} --source 11 -cp ${shellQuote(`${opts.kafkaHome}/libs/*`)} ${shellQuote(sourcePath)} ${args.map(shellQuote).join(' ')}`];
  return [
    ...PRIVATE_DIR,
    `pf="$d/${key}.pid"`,
    // An earlier attempt ran here (its pid file is there): its last requests may still sit in a broker, so the
    // copier waits for the target's ends to stay put that long before it counts what is written.
    `settle=0; if [ -s "$pf" ]; then settle=${SETTLE_MS}; old="$(cat "$pf")"; if grep -qa -- ${key} "/proc/$old/cmdline" 2>/dev/null; then kill -9 "$old"; while kill -0 "$old" 2>/dev/null; do sleep 0.2; done; fi; fi`,
    'echo $$ > "$pf"',
    'export RESTORE_SETTLE_MS="$settle"',
    ...run,
  ].join('; ');
}
