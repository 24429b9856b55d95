import { stringify } from 'yaml';
import { type InventoryError, parseInventory } from '../../../src/inventory/load';
import { inputProblems } from '../../../src/runbooks/input';
import { normalizeHostPath, resolveInstallSource, rollingRestartInput } from '../../../src/rolling';

const SHA = 'a'.repeat(64);
const layout = (stagingDirs: string[] = []) => ({ installDir: '/opt/kafka', stagingDirs });

describe('normalizeHostPath', () => {
  test.each([
    ['/opt/kafka', '/opt/kafka'],
    ['/opt//kafka///', '/opt/kafka'],
    ['/opt/./kafka/.', '/opt/kafka'],
    ['/opt/kafka/../kafka/x', '/opt/kafka/x'],
    ['/opt/kafka/../../..', '/'],
    ['//', '/'],
    ['kafka_2.13-4.3.1', 'kafka_2.13-4.3.1'],
    ['./a/../b', 'b'],
    ['../../x', '../../x'],
  ])('%s -> %s', (raw, normal) => {
    expect(normalizeHostPath(raw)).toBe(normal);
  });
});

describe('install source paths stay under installDir or a staging dir', () => {
  test.each([
    [{ kind: 'staged', path: 'kafka_2.13-4.3.1' }, [], '/opt/kafka/kafka_2.13-4.3.1'],
    [{ kind: 'staged', path: '/opt/kafka//kafka_2.13-4.3.1/' }, [], '/opt/kafka/kafka_2.13-4.3.1'],
    [{ kind: 'staged', path: './x/../kafka_2.13-4.3.1' }, [], '/opt/kafka/kafka_2.13-4.3.1'],
    [{ kind: 'archive', path: 'kafka_2.13-4.3.1.tgz' }, [], '/opt/kafka/kafka_2.13-4.3.1.tgz'],
    [{ kind: 'archive', path: '/srv/staging/kafka_2.13-4.3.1.tgz', sha256: SHA }, ['/srv/staging'], '/srv/staging/kafka_2.13-4.3.1.tgz'],
    [{ kind: 'staged', path: '/srv/staging/./kafka_2.13-4.3.1' }, ['/tmp/x', '/srv//staging/'], '/srv/staging/kafka_2.13-4.3.1'],
  ] as const)('%j with staging dirs %j resolves to %s', (source, staging, path) => {
    expect(resolveInstallSource(source, layout([...staging]))).toEqual({ ok: true, path });
  });

  test.each([
    [{ kind: 'staged', path: '/etc' }, [], '"/etc" is outside the install dir /opt/kafka (and there are no staging dirs in the inventory)'],
    [{ kind: 'staged', path: '../../x' }, [], '"../../x" (/x) is outside the install dir /opt/kafka (and there are no staging dirs in the inventory)'],
    [{ kind: 'staged', path: '/opt/kafka/../kafka-evil' }, [], '"/opt/kafka/../kafka-evil" (/opt/kafka-evil) is outside the install dir /opt/kafka (and there are no staging dirs in the inventory)'],
    [{ kind: 'staged', path: '/opt/kafkaX/k' }, [], 'is outside the install dir /opt/kafka'],
    [{ kind: 'archive', path: '/tmp/kafka.tgz' }, [], '"/tmp/kafka.tgz" is outside the install dir /opt/kafka (and there are no staging dirs in the inventory)'],
    [{ kind: 'archive', path: '/tmp/kafka.tgz' }, ['/srv/staging'], '"/tmp/kafka.tgz" is outside the install dir /opt/kafka and the staging dirs /srv/staging'],
    [{ kind: 'staged', path: '/srv/staging' }, ['/srv/staging'], '"/srv/staging" is a staging dir itself, not a path under it'],
    [{ kind: 'staged', path: '.' }, [], '"." (/opt/kafka) is the install dir itself, not a path under it'],
  ] as const)('%j with staging dirs %j is refused: %s', (source, staging, reason) => {
    const r = resolveInstallSource(source, layout([...staging]));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problem).toContain(reason);
  });
});

describe('the rolling restart input refuses obviously bad source paths', () => {
  const upgrade = { cluster: 'c', targetVersion: '4.3.1' };
  test.each([
    [{ source: { kind: 'staged', path: '../../x' } }, 'source.path: must not contain ".." segments'],
    [{ source: { kind: 'archive', path: '/opt/kafka/../../etc/k.tgz' } }, 'source.path: must not contain ".." segments'],
    [{ sourceByHost: { 'kafka-1': { kind: 'staged', path: 'a/..' } } }, 'sourceByHost.kafka-1.path: must not contain ".." segments'],
    [{ source: { kind: 'staged', path: '/opt/kafka/x\ny' } }, 'source.path: must not contain control characters'],
    [{ source: { kind: 'archive', path: '/opt/kafka/k.tgz', sha256: 'abc' } }, 'source.sha256: must be 64 hex digits (sha256sum)'],
    [{ source: { kind: 'staged', path: '/opt/kafka/k', sha256: SHA } }, 'source: unknown field(s) "sha256"'],
  ])('%j', (fields, problem) => {
    expect(inputProblems(rollingRestartInput, { ...upgrade, ...fields })).toEqual([problem]);
  });

  test('an archive with a checksum is accepted', () => {
    expect(inputProblems(rollingRestartInput, { ...upgrade, source: { kind: 'archive', path: '/srv/staging/k.tgz', sha256: SHA.toUpperCase() } })).toEqual([]);
  });
});

describe('the inventory takes staging dirs', () => {
  const doc = (kafka: Record<string, unknown>) =>
    stringify({
      name: 'c',
      mode: 'kraft',
      bootstrapServers: ['10.0.0.1:9092'],
      defaults: { ssh: { privateKeyFile: '/k' }, kafka },
      hosts: [{ name: 'kafka-1', address: '10.0.0.1', nodeId: 1, roles: ['broker', 'controller'], kafka: { stagingDirs: ['/data/staging'] } }, { name: 'kafka-2', address: '10.0.0.2', nodeId: 2, roles: ['broker'] }],
    });

  test('none by default; per host or in defaults', () => {
    const inv = parseInventory('c.yaml', doc({}));
    expect(inv.hosts.map((h) => h.kafka.stagingDirs)).toEqual([['/data/staging'], []]);
    expect(parseInventory('c.yaml', doc({ stagingDirs: ['/srv/staging'] })).hosts[1]!.kafka.stagingDirs).toEqual(['/srv/staging']);
  });

  test('relative, "..", "/" or too many staging dirs are refused', () => {
    const problems = (kafka: Record<string, unknown>) => {
      try {
        parseInventory('c.yaml', doc(kafka));
        return [];
      } catch (err) {
        return (err as InventoryError).problems;
      }
    };
    expect(problems({ stagingDirs: ['staging'] })).toEqual(['defaults.kafka.stagingDirs[0]: must be an absolute path']);
    expect(problems({ stagingDirs: ['/srv/../etc'] })).toEqual(['defaults.kafka.stagingDirs[0]: must not contain ".." segments']);
    expect(problems({ stagingDirs: ['//'] })).toEqual(['defaults.kafka.stagingDirs[0]: must not be the root directory']);
    expect(problems({ stagingDirs: Array.from({ length: 101 }, (_, i) => `/s${i}`) })).toEqual(['defaults.kafka.stagingDirs: must list at most 100 dirs']);
  });
});
