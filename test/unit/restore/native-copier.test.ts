/**
 * The librdkafka copier's build and probe as the restore runs them on a copy host, here in a local shell: built
 * once per source version into a private directory, refused with a reason when the host has no compiler, and
 * its command line checked before any client starts. The copy itself is proven on the lab (e2e restore).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeCopierProbeCommand, parseNativeProbe } from '../../../src/restore/commands';

const SOURCE = join(__dirname, '..', '..', '..', 'activities', 'restore', 'restore-copier.c');
const buildId = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'native-copier-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sh = (command: string, env: NodeJS.ProcessEnv = {}) => spawnSync('/bin/bash', ['-c', command], { env: { ...process.env, TMPDIR: tmp, ...env }, encoding: 'utf8', input: '' });

test('the probe builds the copier once into a private directory and reports librdkafka\'s version', () => {
  const first = sh(nativeCopierProbeCommand(SOURCE, buildId));
  expect(parseNativeProbe(first.status, first.stdout, first.stderr)).toMatchObject({ available: true });
  const dir = join(tmp, 'kafka-runbooks-restore');
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(readdirSync(dir)).toEqual([`restore-copier-${buildId}`]);
  const built = statSync(join(dir, `restore-copier-${buildId}`)).mtimeMs;
  const second = sh(nativeCopierProbeCommand(SOURCE, buildId));
  expect(second.stdout).toMatch(/^VERSION librdkafka=\S+ ok$/m);
  expect(statSync(join(dir, `restore-copier-${buildId}`)).mtimeMs).toBe(built);
});

test('no compiler on the host: one UNAVAILABLE line with the reason, and nothing left behind', () => {
  const bare = mkdtempSync(join(tmp, 'bare-'));
  // A PATH with the shell tools the command uses, and no compiler.
  const bin = mkdtempSync(join(tmp, 'bin-'));
  for (const tool of ['mkdir', 'chmod', 'rm', 'mv', 'tail', 'tr']) symlinkSync(execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim(), join(bin, tool));
  const r = sh(nativeCopierProbeCommand(SOURCE, 'ffffffffffffffff'), { PATH: bin, TMPDIR: bare });
  expect(parseNativeProbe(r.status, r.stdout, r.stderr)).toEqual({ available: false, reason: 'no C compiler (cc) on the host' });
  expect(readdirSync(join(bare, 'kafka-runbooks-restore'))).toEqual([]);
});

test('a source that does not compile: the compiler\'s complaint, and no binary under the final name', () => {
  const bad = join(tmp, 'bad.c');
  execFileSync('bash', ['-c', `echo 'int main( { return 0; }' > ${bad}`]);
  const r = sh(nativeCopierProbeCommand(bad, 'eeeeeeeeeeeeeeee'));
  const probe = parseNativeProbe(r.status, r.stdout, r.stderr);
  expect(probe.available).toBe(false);
  expect(!probe.available && probe.reason).toMatch(/^the build failed: .*error/);
  expect(readdirSync(join(tmp, 'kafka-runbooks-restore')).filter((f) => f.includes('eeee'))).toEqual([]);
});

test('the copier refuses bad ranges and missing settings before it connects to anything', () => {
  const bin = join(tmp, 'kafka-runbooks-restore', `restore-copier-${buildId}`);
  const run = (args: string[], input: string) => spawnSync(bin, args, { input, encoding: 'utf8', timeout: 10_000 });
  expect(run(['copy', 'a', 'b', '0:9:8:0'], '').status).toBe(2);
  expect(run(['copy', 'a', 'b', '0:1:x:0'], '').stderr).toContain('bad range 0:1:x:0');
  const noTarget = run(['--tag=restore-0123456789abcdef', 'copy', 'a', 'b', '0:0:5:0'], 'source.bootstrap.servers=127.0.0.1:1\n');
  expect(noTarget.status).toBe(1);
  expect(noTarget.stdout).toBe('FAILED no source.bootstrap.servers or target.bootstrap.servers on stdin\n');
  const unknown = run(['copy', 'a', 'b', '0:0:5:0'], 'source.bootstrap.servers=127.0.0.1:1\ntarget.bootstrap.servers=127.0.0.1:1\ntarget.no.such.setting=1\n');
  expect(unknown.stdout).toMatch(/^FAILED setting no\.such\.setting: /);
});
