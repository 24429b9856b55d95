import { stringify } from 'yaml';
import { isKafkaRunning } from '../../../activities/node-status';
import { type CommandResult, type HostShell } from '../../../activities/ssh';
import { parseInventory } from '../../../src/inventory/load';

const host = parseInventory(
  'c1.yaml',
  stringify({
    name: 'c1',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { privateKeyFile: '~/.ssh/id_ed25519' }, kafka: { commands: { status: 'sudo systemctl is-active --quiet kafka' } } },
    hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
  }),
).hosts[0]!;

const answering = (result: CommandResult): HostShell => ({ exec: async () => result, close: async () => undefined });

describe('the status template read as LSB codes: what a wait or a wipe may take for "stopped"', () => {
  test('0 is running; 1, 2 and 3 are stopped', async () => {
    expect(await isKafkaRunning(answering({ code: 0, stdout: '', stderr: '' }), host)).toBe(true);
    for (const code of [1, 2, 3]) expect(await isKafkaRunning(answering({ code, stdout: '', stderr: '' }), host)).toBe(false);
  });

  test.each([
    [4, ''],
    [126, 'bash: /usr/bin/kafka-status: Permission denied'],
    [127, 'bash: kafka-status: command not found'],
    [255, 'ssh: connection reset'],
    [-1, ''],
  ])('exit %i is no answer', async (code, stderr) => {
    await expect(isKafkaRunning(answering({ code, stdout: '', stderr }), host)).rejects.toThrow(`status of Kafka on kafka-1 unknown: the status command exited ${code}`);
  });

  test('sudo refusing (exit 1) is no answer, not "stopped"', async () => {
    const refused = answering({ code: 1, stdout: '', stderr: 'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n' });
    await expect(isKafkaRunning(refused, host)).rejects.toThrow(/^status of Kafka on kafka-1 unknown: the status command exited 1: sudo: a terminal is required/);
  });
});
