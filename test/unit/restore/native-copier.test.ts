/**
 * The C copiers' build and probe as the restore runs them on a copy host, here in a local shell: built once per
 * source version into a private directory, refused with a reason when the host has no compiler, and their
 * command lines and settings checked before any client starts. The copies themselves are proven against Kafka
 * (test/e2e/restore-copiers.test.ts, and the e2e restore).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATIVE_COPIERS, type NativeCopierKind, nativeCopierProbeCommand, parseNativeProbe, withCommonHeader } from '../../../src/restore/commands';

const DIR = join(__dirname, '..', '..', '..', 'activities', 'restore');
const FILES: Record<NativeCopierKind, string> = { librdkafka: 'restore-copier.c', wire: 'wire-copier.c' };
/** Each source as the restore sends it to a host: one file, the shared header inlined, alone in a directory. */
const SOURCES = {} as Record<NativeCopierKind, string>;
const buildIdOf = (kind: NativeCopierKind) => createHash('sha256').update(readFileSync(SOURCES[kind])).digest('hex').slice(0, 16);
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'native-copier-'));
  for (const kind of Object.keys(FILES) as NativeCopierKind[]) {
    SOURCES[kind] = join(mkdtempSync(join(tmp, 'src-')), FILES[kind]);
    writeFileSync(SOURCES[kind], withCommonHeader(readFileSync(join(DIR, FILES[kind]), 'utf8'), readFileSync(join(DIR, 'copier-common.h'), 'utf8')));
  }
});

test('the shared header is written in place of its include line, exactly once', () => {
  expect(withCommonHeader('a\n#include "copier-common.h"\nb', 'H')).toBe('a\nH\nb');
  expect(() => withCommonHeader('a\nb', 'H')).toThrow('exactly once (found 0)');
  expect(() => withCommonHeader('\n#include "copier-common.h"\n\n#include "copier-common.h"\n', 'H')).toThrow('exactly once (found 2)');
  for (const kind of Object.keys(FILES) as NativeCopierKind[]) expect(readFileSync(SOURCES[kind], 'utf8')).not.toContain('#include "copier-common.h"');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sh = (command: string, env: NodeJS.ProcessEnv = {}) => spawnSync('/bin/bash', ['-c', command], { env: { ...process.env, TMPDIR: tmp, ...env }, encoding: 'utf8', input: '' });

describe.each(['librdkafka', 'wire'] as const)('the %s copier', (kind) => {
  const source = () => SOURCES[kind];
  const buildId = () => buildIdOf(kind);
  const { binary } = NATIVE_COPIERS[kind];
  const dir = () => join(tmp, 'kafka-runbooks-restore');

  test('the probe builds it once into a private directory and reports its version', () => {
    const first = sh(nativeCopierProbeCommand(kind, source(), buildId()));
    expect(parseNativeProbe(first.status, first.stdout, first.stderr)).toMatchObject({ available: true });
    expect(statSync(dir()).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir()).filter((f) => f.startsWith(`${binary}-`))).toEqual([`${binary}-${buildId()}`]);
    const built = statSync(join(dir(), `${binary}-${buildId()}`)).mtimeMs;
    const second = sh(nativeCopierProbeCommand(kind, source(), buildId()));
    expect(second.stdout).toMatch(new RegExp(`^VERSION ${kind}=\\S+ ok$`, 'm'));
    expect(statSync(join(dir(), `${binary}-${buildId()}`)).mtimeMs).toBe(built);
  });

  test('no compiler on the host: one UNAVAILABLE line with the reason, and nothing left behind', () => {
    const bare = mkdtempSync(join(tmp, 'bare-'));
    // A PATH with the shell tools the command uses, and no compiler.
    const bin = mkdtempSync(join(tmp, 'bin-'));
    for (const tool of ['mkdir', 'chmod', 'rm', 'mv', 'tail', 'tr']) symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
    const r = sh(nativeCopierProbeCommand(kind, source(), 'ffffffffffffffff'), { PATH: bin, TMPDIR: bare });
    expect(parseNativeProbe(r.status, r.stdout, r.stderr)).toEqual({ available: false, reason: 'no C compiler (cc) on the host' });
    expect(readdirSync(join(bare, 'kafka-runbooks-restore'))).toEqual([]);
  });

  test('a source that does not compile: the compiler\'s complaint, and no binary under the final name', () => {
    const bad = join(tmp, `bad-${kind}.c`);
    execFileSync('bash', ['-c', `echo 'int main( { return 0; }' > ${bad}`]);
    const r = sh(nativeCopierProbeCommand(kind, bad, 'eeeeeeeeeeeeeeee'));
    const probe = parseNativeProbe(r.status, r.stdout, r.stderr);
    expect(probe.available).toBe(false);
    expect(!probe.available && probe.reason).toMatch(/^the build failed: .*error/);
    expect(readdirSync(dir()).filter((f) => f.includes('eeee'))).toEqual([]);
  });

  test('it refuses bad ranges and missing settings before it connects to anything', () => {
    const bin = join(dir(), `${binary}-${buildId()}`);
    const run = (args: string[], input: string) => spawnSync(bin, args, { input, encoding: 'utf8', timeout: 10_000 });
    expect(run(['copy', 'a', 'b', '0:9:8:0'], '').status).toBe(2);
    expect(run(['copy', 'a', 'b', '0:1:x:0'], '').stderr).toContain('bad range 0:1:x:0');
    expect(run(['copy', 'a', 'b', '0:0:5:0', '1:0:5:0', '0:0:9:0'], '').status).toBe(2);
    const noTarget = run(['--tag=restore-0123456789abcdef', 'copy', 'a', 'b', '0:0:5:0'], 'source.bootstrap.servers=127.0.0.1:1\n');
    expect(noTarget.status).toBe(1);
    expect(noTarget.stdout).toBe('FAILED no source.bootstrap.servers or target.bootstrap.servers on stdin\n');
  });
});

test('librdkafka: an unknown setting is refused by name', () => {
  const bin = join(tmp, 'kafka-runbooks-restore', `restore-copier-${buildIdOf('librdkafka')}`);
  const unknown = spawnSync(bin, ['copy', 'a', 'b', '0:0:5:0'], { input: 'source.bootstrap.servers=127.0.0.1:1\ntarget.bootstrap.servers=127.0.0.1:1\ntarget.no.such.setting=1\n', encoding: 'utf8', timeout: 10_000 });
  expect(unknown.stdout).toMatch(/^FAILED setting no\.such\.setting: /);
});

test('wire: TLS, SASL or any setting it cannot honour ends it as unavailable (exit 3) before it connects, naming the side', () => {
  const bin = join(tmp, 'kafka-runbooks-restore', `wire-copier-${buildIdOf('wire')}`);
  // Port 1 on loopback: a copier that tried to connect would fail differently (and later).
  const run = (extra: string, timeout = 10_000) => spawnSync(bin, ['copy', 'a', 'b', '0:0:5:0'], { input: `source.bootstrap.servers=127.0.0.1:1\ntarget.bootstrap.servers=127.0.0.1:1\n${extra}`, encoding: 'utf8', timeout });
  const tls = run('target.security.protocol=ssl\n');
  expect(tls.status).toBe(3);
  expect(tls.stdout).toBe('UNAVAILABLE the target cluster is reached with ssl; this copier speaks PLAINTEXT only\n');
  const sasl = run('source.sasl.password=secret\n');
  expect(sasl.status).toBe(3);
  expect(sasl.stdout).toBe('UNAVAILABLE the source cluster\'s setting sasl.password is not supported by this copier (PLAINTEXT only)\n');
  expect(sasl.stdout).not.toContain('secret');
  // PLAINTEXT named outright is accepted: the copier goes on to connect (nothing answers on port 1; stopped after 1 s).
  const plain = run('source.security.protocol=PLAINTEXT\nsource.client.id=x\n', 1_000);
  expect(plain.status).toBeNull();
  expect(plain.stdout).not.toContain('UNAVAILABLE');
});
