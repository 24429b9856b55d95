import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderCommand } from '../../../src/inventory/commands';
import { InventoryError, parseInventory } from '../../../src/inventory/load';
import { type InventoryHost } from '../../../src/inventory/schema';
import { labKafkaCommands, labZookeeperCommands } from '../../../src/lab/topology';

// Hostile but legal paths: a space, a command substitution, a command separator, a quote and a glob.
const HOSTILE = `/tmp/kafka runbooks/$(echo injected);echo owned 'q' *`;

function inventoryWith(kafka: Record<string, unknown>): InventoryHost {
  const doc = {
    name: 'c',
    mode: 'kraft',
    bootstrapServers: ['10.0.0.1:9092'],
    defaults: { ssh: { privateKeyFile: '/k' }, kafka },
    hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'] }],
  };
  return parseInventory('c.yaml', stringify(doc)).hosts[0]!;
}

function problemsOf(kafka: Record<string, unknown>): string[] {
  try {
    inventoryWith(kafka);
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    return (err as InventoryError).problems;
  }
  throw new Error('expected the inventory to be refused');
}

/** What bash makes of a rendered command: one line per argument printf received. */
const argsAfterBash = (command: string, env: Record<string, string> = {}): string[] =>
  execFileSync('bash', ['-c', command], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } }).split('\0').slice(0, -1);

describe('renderCommand quotes every substituted value', () => {
  test('a config path with a space, $(...) and ; reaches the command as one literal argument', () => {
    const host = inventoryWith({ configFile: HOSTILE, logDir: '/var/log/kafka' });
    const rendered = renderCommand("printf '%s\\0' {{configFile}} {{logDir}} {{nodeId}}", host);
    expect(argsAfterBash(rendered)).toEqual([HOSTILE, '/var/log/kafka', '1']);
  });

  test('an extra value (the tool name) is quoted too, and a placeholder inside a word stays one word', () => {
    const host = inventoryWith({ currentLink: '/opt/my kafka/current' });
    const rendered = renderCommand("printf '%s\\0' {{kafkaHome}}/bin/{{tool}}", host, { tool: 'kafka-topics.sh; id' });
    expect(argsAfterBash(rendered)).toEqual(['/opt/my kafka/current/bin/kafka-topics.sh; id']);
  });

  test('plain paths render as before, unquoted', () => {
    const host = inventoryWith({});
    expect(renderCommand('{{kafkaHome}}/bin/{{tool}}', host, { tool: 'kafka-storage.sh' })).toBe('/opt/kafka/current/bin/kafka-storage.sh');
  });

  test('an empty value is an empty argument, not a missing one', () => {
    const host = { ...inventoryWith({}), nodeId: null };
    expect(argsAfterBash(renderCommand("printf '%s\\0' x {{nodeId}} y", host))).toEqual(['x', '', 'y']);
  });
});

describe('templates must leave placeholders unquoted', () => {
  test.each([
    ['start', 'start-kafka "{{configFile}}"', '"{{configFile}}"'],
    ['stop', "stop-kafka '{{pidFile}}'", "'{{pidFile}}'"],
    ['status', 'test -f "{{pidFile}}.lock"', '"{{pidFile}}.lock"'],
    ['kill', 'kill "$(cat "{{pidFile}}")"', '"{{pidFile}}"'],
  ])('%s: a quoted placeholder is refused, naming the field', (field, template) => {
    expect(problemsOf({ commands: { [field]: template } })).toEqual([
      expect.stringMatching(new RegExp(`^defaults\\.kafka\\.commands\\.${field}: placeholders are substituted shell-quoted: write \\{\\{\\w+\\}\\} without quotes around it`)),
    ]);
  });

  test('an unknown placeholder is refused when the inventory loads, not mid-run', () => {
    expect(problemsOf({ commands: { start: 'start {{confFile}}' } })).toEqual(['defaults.kafka.commands.start: unknown placeholder {{confFile}}']);
    expect(problemsOf({ commands: { start: 'start {{tool}}' } })).toEqual(['defaults.kafka.commands.start: unknown placeholder {{tool}}']);
  });

  test('quotes elsewhere in a template, and a placeholder in an unquoted $(...), are fine', () => {
    expect(() => inventoryWith({ commands: { start: "KAFKA_HEAP_OPTS='-Xmx1g' start {{configFile}}", status: 'test "$(pgrep -F {{pidFile}})" != ""' } })).not.toThrow();
  });
});

describe('the default and lab templates work with quoted values', () => {
  test('the schema defaults render and parse as shell', () => {
    const host = inventoryWith({ currentLink: '/opt/my kafka/current', configFile: HOSTILE });
    for (const [name, template] of Object.entries(host.kafka.commands)) {
      const rendered = renderCommand(template, host, { tool: 'kafka-topics.sh' });
      expect(() => execFileSync('bash', ['-n', '-c', rendered])).not.toThrow();
      expect(name).toBeTruthy();
    }
  });

  test('the lab start template passes paths with spaces to the start script as single arguments and env values', () => {
    // A kafka home whose start script prints what it was given.
    const root = mkdtempSync(join(tmpdir(), 'lab templates '));
    const home = join(root, 'kafka home');
    mkdirSync(join(home, 'bin'), { recursive: true });
    for (const script of ['kafka-server-start.sh', 'kafka-server-stop.sh', 'kafka-server-status.sh', 'zookeeper-server-start.sh', 'zookeeper-server-stop.sh']) {
      writeFileSync(join(home, 'bin', script), `#!/bin/bash\nprintf '%s\\0' "${script}" "pid=$KAFKA_PID_FILE" "log=\${LOG_DIR-}" "heap=\${KAFKA_HEAP_OPTS-}" "$@"\n`);
      chmodSync(join(home, 'bin', script), 0o755);
    }
    const host = inventoryWith({ currentLink: home, configFile: HOSTILE, pidFile: join(root, 'run dir', 'kafka.pid'), logDir: join(root, 'log; dir'), commands: labKafkaCommands });
    const pid = `pid=${join(root, 'run dir', 'kafka.pid')}`;
    expect(argsAfterBash(renderCommand(host.kafka.commands.start, host))).toEqual(['kafka-server-start.sh', pid, `log=${join(root, 'log; dir')}`, 'heap=-Xmx512m -Xms256m', '-daemon', HOSTILE]);
    expect(argsAfterBash(renderCommand(host.kafka.commands.stop, host))).toEqual(['kafka-server-stop.sh', pid, 'log=', 'heap=']);
    expect(argsAfterBash(renderCommand(host.kafka.commands.status, host))).toEqual(['kafka-server-status.sh', pid, 'log=', 'heap=']);
    expect(argsAfterBash(renderCommand(host.kafka.commands.kill, host))).toEqual(['kafka-server-stop.sh', pid, 'log=', 'heap=', '--signal', 'KILL']);
    const zk = inventoryWith({ currentLink: home, configFile: HOSTILE, pidFile: join(root, 'run dir', 'kafka.pid'), logDir: '/l', commands: labZookeeperCommands });
    expect(argsAfterBash(renderCommand(zk.kafka.commands.start, zk))).toEqual(['zookeeper-server-start.sh', pid, 'log=/l', 'heap=-Xmx256m -Xms64m', '-daemon', HOSTILE]);
  });
});
