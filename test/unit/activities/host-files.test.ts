import { stringify } from 'yaml';
import { createClusterRegistry } from '../../../activities/clusters';
import { createNodeActivities } from '../../../activities/nodes';
import { createReassignmentActivities } from '../../../activities/reassignment';
import { type CommandResult, type HostShell } from '../../../activities/ssh';
import { parseInventory } from '../../../src/inventory/load';
import { type Inventory } from '../../../src/inventory/schema';

/** Linux's cap on one argument (MAX_ARG_STRLEN); sshd hands the whole command to the shell as one. */
const MAX_ARG_STRLEN = 128 * 1024;

const inventory: Inventory = parseInventory(
  'c1.yaml',
  stringify({
    name: 'c1',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { privateKeyFile: '~/.ssh/id_ed25519' } },
    hosts: [1, 2, 3].map((i) => ({ name: `kafka-${i}`, address: `10.0.0.${i}`, nodeId: i, roles: ['broker', 'controller'] })),
  }),
);

/**
 * A host with a file system of temp files: `mktemp ... cat > "$f"` stores stdin, kafka-leader-election.sh reads
 * its --path-to-json-file and elects what the file lists. Commands over the kernel's cap fail as exec does.
 */
class FakeHosts implements HostShell {
  files = new Map<string, string>();
  commands: string[] = [];
  private seq = 0;

  async exec(_host: unknown, command: string, opts: { stdin?: string } = {}): Promise<CommandResult> {
    this.commands.push(command);
    if (command.length > MAX_ARG_STRLEN) return { code: 126, stdout: '', stderr: 'bash: Argument list too long' };
    if (command === 'true' || command.startsWith('rm -f ')) return { code: 0, stdout: '', stderr: '' };
    if (command.includes('mktemp') && command.includes('cat > "$f"')) {
      const path = `/tmp/kafka-runbooks.${++this.seq}`;
      this.files.set(path, opts.stdin ?? '');
      return { code: 0, stdout: `${path}\n`, stderr: '' };
    }
    const file = /--path-to-json-file (\S+)/.exec(command)?.[1];
    if (command.includes('kafka-leader-election.sh') && file) {
      const content = this.files.get(file);
      if (content === undefined) return { code: 1, stdout: '', stderr: `${file} (No such file or directory)` };
      const names = (JSON.parse(content) as { partitions: { topic: string; partition: number }[] }).partitions.map((p) => `${p.topic}-${p.partition}`);
      return { code: 0, stdout: `Successfully completed leader election (PREFERRED) for partitions ${names.join(', ')}\n`, stderr: '' };
    }
    return { code: 127, stdout: '', stderr: `fake host: unexpected command ${command.slice(0, 200)}` };
  }

  async close(): Promise<void> {}
}

const partitions = (count: number) => Array.from({ length: count }, (_, i) => ({ topic: 'orders-with-a-longish-name', partition: i }));

describe('partition lists reach the host through a file written on stdin, whatever their size', () => {
  test.each([10, 3000, 20_000])('restorePreferredLeaders over %i partitions: every command stays short', async (count) => {
    const shell = new FakeHosts();
    const nodes = createNodeActivities({ clusters: createClusterRegistry(new Map([['c1', inventory]])), shell });
    const r = await nodes.restorePreferredLeaders('c1', { partitions: partitions(count) });
    expect(r.failed).toEqual([]);
    expect(r.elected).toHaveLength(count);
    expect(r.elected[count - 1]).toBe(`orders-with-a-longish-name-${count - 1}`);
    // Bounded by the templates, not by the partition count; the list itself is never on a command line.
    expect(Math.max(...shell.commands.map((c) => c.length))).toBeLessThan(1024);
    expect(shell.commands.filter((c) => c.includes('orders-with-a-longish-name'))).toEqual([]);
    expect(shell.commands.at(-1)).toMatch(/^rm -f \/tmp\/kafka-runbooks\.\d+$/);
  });

  test.each([10, 3000, 20_000])('electPreferredLeaders (reassignment) over %i partitions: every command stays short', async (count) => {
    const shell = new FakeHosts();
    const reassignment = createReassignmentActivities({ clusters: createClusterRegistry(new Map([['c1', inventory]])), shell });
    const r = await reassignment.electPreferredLeaders('c1', partitions(count));
    expect(r.elected).toHaveLength(count);
    expect(Math.max(...shell.commands.map((c) => c.length))).toBeLessThan(1024);
    expect(shell.commands.filter((c) => c.includes('orders-with-a-longish-name'))).toEqual([]);
  });
});
