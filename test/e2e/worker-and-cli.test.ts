import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, startWorker } from './support/stack';

/** Bad input stops at the door: the worker refuses invalid inventories, the CLI invalid runbook inputs. */

test('the worker refuses to start on an invalid inventory, naming the file, the field and the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inv-'));
  const file = join(dir, 'prod.yaml');
  writeFileSync(
    file,
    [
      'name: prod',
      'mode: kraft',
      'bootstrapServers: [10.0.0.1:9092]',
      'defaults: { ssh: { agent: true } }',
      'hosts:',
      '  - { name: a, address: 10.0.0.1, nodeId: 1, roles: [broker, controller] }',
      '  - { name: b, address: 10.0.0.2, nodeId: 1, roles: [broker] }',
    ].join('\n'),
  );
  // No Temporal server is needed: the inventory is checked before connecting.
  const err = await startWorker({ ...process.env, KAFKA_RUNBOOKS_INVENTORY: dir, TEMPORAL_ADDRESS: '127.0.0.1:1' }, 60_000).then(
    () => null,
    (e: Error) => e,
  );
  expect(err?.message).toContain('worker exited with 1');
  expect(err?.message).toContain(`invalid inventory ${file}`);
  expect(err?.message).toContain('hosts[1].nodeId: duplicate node id 1 (also hosts[0])');
});

test('the CLI refuses an invalid input before starting anything, naming each field', async () => {
  // TEMPORAL_ADDRESS points nowhere: a refusal must not need the server.
  const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' };
  const r = await cli(env, ['start', 'cluster-health', '--cluster', 'lab', '--set', 'diskWarnPercent=120', '--set', 'colour=red']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('invalid input for cluster-health:');
  expect(r.stderr).toContain('diskWarnPercent: Number must be less than or equal to 100');
  expect(r.stderr).toContain('unknown field(s) "colour"');
  const unknown = await cli(env, ['start', 'rolling-upgrade-everything', '--cluster', 'lab']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('unknown runbook "rolling-upgrade-everything"');
});
