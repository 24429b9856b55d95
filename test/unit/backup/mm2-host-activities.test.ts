import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { createBackupActivities } from '../../../activities/backup';
import { createClusterRegistry } from '../../../activities/clusters';
import { type CommandResult, type HostShell } from '../../../activities/ssh';
import { parseInventory } from '../../../src/inventory/load';
import { type Inventory } from '../../../src/inventory/schema';
import { mirrorBackupInput } from '../../../src/runbooks/mirror-backup';

const inventory = (name: string, extra: Record<string, unknown> = {}): Inventory =>
  parseInventory(
    `${name}.yaml`,
    stringify({
      name,
      mode: 'kraft',
      bootstrapServers: [`${name}-1:9092`],
      defaults: { ssh: { privateKeyFile: '/k' } },
      hosts: [{ name: 'kafka-1', address: `${name}-1`, nodeId: 1, roles: ['broker', 'controller'] }],
      ...extra,
    }),
  );

const mm2 = { hosts: [{ name: 'mm2-1', address: 'mm2-host' }], configFile: '/etc/mm2/mm2.properties', commands: { start: 'start-mm2 {{configFile}}', stop: 'stop-mm2', status: 'status-mm2' } };

/** One MM2 host as the SSH layer shows it: output trimmed, as node-ssh returns it. */
class FakeMm2Host implements HostShell {
  file: string | null = null;
  running = false;
  commands: string[] = [];
  async exec(_host: unknown, command: string, opts: { stdin?: string } = {}): Promise<CommandResult> {
    this.commands.push(command.split(' ')[0] ?? command);
    if (command.startsWith('sha256sum < ')) {
      if (this.file === null) return { code: 1, stdout: '', stderr: 'No such file or directory' };
      return { code: 0, stdout: `${createHash('sha256').update(this.file).digest('hex')}  -`.trim(), stderr: '' };
    }
    if (command.startsWith('mkdir -p ') && command.includes('cat > ')) {
      this.file = opts.stdin ?? '';
      return { code: 0, stdout: '', stderr: '' };
    }
    if (command === 'status-mm2') return { code: this.running ? 0 : 3, stdout: this.running ? 'running' : 'not running', stderr: '' };
    if (command === "start-mm2 /etc/mm2/mm2.properties") {
      this.running = true;
      return { code: 0, stdout: '', stderr: '' };
    }
    if (command === 'stop-mm2') {
      this.running = false;
      return { code: 0, stdout: '', stderr: '' };
    }
    return { code: 127, stdout: '', stderr: `unexpected command ${command}` };
  }
  async close(): Promise<void> {}
}

function setup(source = inventory('prod', { backup: { cluster: 'bak', mirrorMaker: mm2 } })) {
  const host = new FakeMm2Host();
  const activities = createBackupActivities({ clusters: createClusterRegistry(new Map([['prod', source], ['bak', inventory('bak')]])), shell: host });
  return { host, activities, input: mirrorBackupInput.parse({ cluster: 'prod' }) };
}

describe('MirrorMaker 2 host activities over a fake SSH host', () => {
  test('a written config reads back as matching, though the SSH layer trims output; another config does not', async () => {
    const { host, activities, input } = setup();
    expect(await activities.readMirrorMakerState(input, 'mm2-1')).toEqual({ host: 'mm2-1', running: false, configMatches: false });
    const plan = await activities.planMirrorBackup(input);
    await activities.writeMirrorMakerConfig(input, 'mm2-1', plan.configFingerprint);
    expect(host.file).toContain('prod->bak.enabled=true');
    expect(host.file?.endsWith('\n')).toBe(true);
    expect(await activities.readMirrorMakerState(input, 'mm2-1')).toEqual({ host: 'mm2-1', running: false, configMatches: true });
    expect(await activities.readMirrorMakerState({ ...input, tasksMax: 9 }, 'mm2-1')).toMatchObject({ configMatches: false });
  });

  test('a config rendered differently from the plan is never written', async () => {
    const { host, activities, input } = setup();
    const plan = await activities.planMirrorBackup(input);
    await expect(activities.writeMirrorMakerConfig({ ...input, tasksMax: 9 }, 'mm2-1', plan.configFingerprint)).rejects.toMatchObject({ type: 'UnsafeToProceed' });
    expect(host.file).toBeNull();
  });

  test('start runs the start command once and sees MM2 running; stop is a no-op when stopped', async () => {
    const { host, activities, input } = setup();
    await activities.stopMirrorMaker(input, 'mm2-1');
    expect(host.commands).toEqual(['status-mm2']);
    await activities.startMirrorMaker(input, 'mm2-1');
    expect(host.running).toBe(true);
    expect(host.commands.filter((c) => c === 'start-mm2')).toHaveLength(1);
    await activities.startMirrorMaker(input, 'mm2-1');
    expect(host.commands.filter((c) => c === 'start-mm2')).toHaveLength(1);
  }, 20_000);

  test('refuses a cluster without a backup section, an unknown MM2 host, and SASL clusters', async () => {
    const none = setup(inventory('prod'));
    await expect(none.activities.planMirrorBackup(none.input)).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('names no backup cluster') });
    const { activities, input } = setup();
    await expect(activities.readMirrorMakerState(input, 'mm2-9')).rejects.toMatchObject({ type: 'UnknownCluster' });
    const sasl = setup(inventory('prod', { backup: { cluster: 'bak', mirrorMaker: mm2 }, client: { sasl: { mechanism: 'plain', username: 'u', password: { env: 'P' } } } }));
    await expect(sasl.activities.planMirrorBackup(sasl.input)).rejects.toMatchObject({ type: 'InvalidInput', message: expect.stringContaining('uses SASL') });
  });
});
