/**
 * The restore activities' side of the C copiers, over a fake SSH layer: `copier: librdkafka` on a host
 * that cannot build it is refused at the plan, before anything changes; a host that loses what the plan found
 * there stops the copy as unsafe (a retry cannot bring a compiler back); the copy runs the copier the plan chose.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { createClusterRegistry } from '../../../activities/clusters';
import { createRestoreActivities } from '../../../activities/restore';
import { type CommandResult, type HostShell } from '../../../activities/ssh';
import { parseInventory } from '../../../src/inventory/load';
import { type Inventory } from '../../../src/inventory/schema';
import { restoreFromBackupInput } from '../../../src/restore/input';

const inventory = (name: string): Inventory =>
  parseInventory(`${name}.yaml`, stringify({ name, mode: 'kraft', bootstrapServers: [`${name}-1:9092`], defaults: { ssh: { privateKeyFile: '/k' } }, hosts: [{ name: 'kafka-1', address: `${name}-1`, nodeId: 1, roles: ['broker', 'controller'] }] }));
const clusters = createClusterRegistry(new Map([['prod', inventory('prod')], ['bak', inventory('bak')]]));
const quiet = { logger: { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, log: () => undefined } };

/** A copy host: temp files are made and removed; the copier or probe command answers with `answer`. */
class FakeCopyHost implements HostShell {
  commands: string[] = [];
  constructor(private readonly answer: CommandResult) {}
  async exec(_host: unknown, command: string, opts: { onStdout?: (chunk: string) => void } = {}): Promise<CommandResult> {
    this.commands.push(command);
    if (command.includes('mktemp')) return { code: 0, stdout: '/tmp/kafka-runbooks.abc123', stderr: '' };
    if (command.startsWith('rm -f ')) return { code: 0, stdout: '', stderr: '' };
    // The SSH layer streams stdout as it comes; the copy reads its progress from there.
    opts.onStdout?.(this.answer.stdout);
    return this.answer;
  }
  async close(): Promise<void> {}
}

const noCompiler: CommandResult = { code: 3, stdout: 'UNAVAILABLE no C compiler (cc) on the host', stderr: '' };

test('copier: librdkafka on a host that cannot build it is refused at the plan, naming the field, the host and the reason', async () => {
  const shell = new FakeCopyHost(noCompiler);
  const acts = createRestoreActivities({ clusters, shell });
  const input = restoreFromBackupInput.parse({ cluster: 'prod', backupCluster: 'bak', copier: 'librdkafka' });
  await expect(acts.planRestoreFor(input)).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringMatching(/^copier: librdkafka cannot run on copy host kafka-1: no C compiler \(cc\) on the host\. Install a C compiler/) });
  // The probe ran on the host (build, then version) and nothing else did.
  expect(shell.commands.filter((c) => c.includes('restore-copier-'))).toHaveLength(1);
  expect(shell.commands.find((c) => c.includes('restore-copier-'))).toMatch(/"\$b" version$/);
});

const job = (copier?: 'wire' | 'librdkafka' | 'java') => ({
  backupCluster: 'bak',
  cluster: 'prod',
  copyHost: 'kafka-1',
  key: 'restore-0123456789abcdef',
  ...(copier ? { copier } : {}),
  range: { id: 'orders[0]', topic: 'orders', backupTopic: 'orders', partitions: [{ partition: 0, from: 0, to: 10, records: 10 }] },
  bases: { 0: 0 },
  timeoutMs: 60_000,
});

test('a copy whose host lost the librdkafka copier since the plan stops as unsafe, saying what to do', async () => {
  const acts = createRestoreActivities({ clusters, shell: new FakeCopyHost(noCompiler) });
  await expect(new MockActivityEnvironment({}, quiet).run(() => acts.copyRestoreRange(job('librdkafka')))).rejects.toMatchObject({
    type: 'UnsafeToProceed',
    message: 'copy of orders[0] on kafka-1: the librdkafka copier cannot run on kafka-1: no C compiler (cc) on the host; restore it there, or start the restore again with copier: java',
  });
});

test('a copy whose host can no longer run the wire copier stops as unsafe, naming the other copiers', async () => {
  const plaintextOnly: CommandResult = { code: 3, stdout: 'UNAVAILABLE the target cluster is reached with ssl; this copier speaks PLAINTEXT only', stderr: '' };
  const acts = createRestoreActivities({ clusters, shell: new FakeCopyHost(plaintextOnly) });
  await expect(new MockActivityEnvironment({}, quiet).run(() => acts.copyRestoreRange(job('wire')))).rejects.toMatchObject({
    type: 'UnsafeToProceed',
    message: 'copy of orders[0] on kafka-1: the wire copier cannot run on kafka-1: the target cluster is reached with ssl; this copier speaks PLAINTEXT only; restore it there, or start the restore again with copier: librdkafka or java',
  });
});

test('the copy runs the copier the plan chose, and Java for a job planned before there was a choice', async () => {
  const done: CommandResult = { code: 0, stdout: 'START 0 from=0 to=10 skip=0\nDONE 0 src=10 tgt=10 copied=10 bytes=100\nSUMMARY copied=10 bytes=100 ms=5\n', stderr: '' };
  for (const [copier, runs] of [['wire', /b="\$d\/wire-copier-[0-9a-f]{16}".*exec "\$b" --tag=restore-0123456789abcdef copy orders orders 0:0:10:0$/], ['librdkafka', /b="\$d\/restore-copier-[0-9a-f]{16}".*exec "\$b" --tag=restore-0123456789abcdef copy orders orders 0:0:10:0$/], [undefined, /exec java .*-Dkafka-runbooks\.copier=restore-0123456789abcdef .* copy orders orders 0:0:10:0$/]] as const) {
    const shell = new FakeCopyHost(done);
    const acts = createRestoreActivities({ clusters, shell });
    const r = await new MockActivityEnvironment({}, quiet).run(() => acts.copyRestoreRange(job(copier)));
    expect(r).toMatchObject({ copied: 10, copiedThisAttempt: 10 });
    expect(shell.commands.filter((c) => c.includes('copy orders orders'))).toEqual([expect.stringMatching(runs)]);
  }
});
