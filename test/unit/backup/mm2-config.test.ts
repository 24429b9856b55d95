import { type Mm2BackupSettings, matchesPatterns, patternProblems, renderMm2Config } from '../../../src/backup/mm2-config';

function settings(over: Partial<Mm2BackupSettings> = {}): Mm2BackupSettings {
  return {
    source: { alias: 'prod', bootstrapServers: ['10.0.0.1:9092', '10.0.0.2:9092'] },
    target: { alias: 'prod-backup', bootstrapServers: ['10.0.9.1:9092'] },
    topics: { include: ['orders.*', 'payments'], exclude: ['orders\\.tmp'] },
    groups: { include: ['.*'], exclude: [] },
    replicationPolicy: 'identity',
    tasksMax: 4,
    replicationFactor: 3,
    allowWritesToSource: false,
    checkpointIntervalSeconds: 60,
    refreshIntervalSeconds: 30,
    offsetFlushIntervalMs: 5000,
    ...over,
  };
}

function props(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('MirrorMaker 2 backup config', () => {
  test('one-way flow, identity policy, read_committed, tasks.max and replication factors', () => {
    const p = props(renderMm2Config(settings()));
    expect(p.get('clusters')).toBe('prod,prod-backup');
    expect(p.get('prod.bootstrap.servers')).toBe('10.0.0.1:9092,10.0.0.2:9092');
    expect(p.get('prod-backup.bootstrap.servers')).toBe('10.0.9.1:9092');
    expect(p.get('prod->prod-backup.enabled')).toBe('true');
    expect(p.get('replication.policy.class')).toBe('org.apache.kafka.connect.mirror.IdentityReplicationPolicy');
    expect(p.get('prod->prod-backup.consumer.isolation.level')).toBe('read_committed');
    expect(p.get('tasks.max')).toBe('4');
    for (const k of ['replication.factor', 'checkpoints.topic.replication.factor', 'offset.storage.replication.factor', 'status.storage.replication.factor']) expect(p.get(k)).toBe('3');
    expect(p.get('sync.topic.configs.enabled')).toBe('true');
    // MM2 ignores a top-level or flow-level offset.flush.interval.ms: its herder takes it under the target's prefix.
    expect(p.get('prod-backup.offset.flush.interval.ms')).toBe('5000');
    expect(p.has('offset.flush.interval.ms')).toBe(false);
  });

  test('patterns: includes as given, excludes keep MM2 internal topics out (backslashes escaped for Java properties)', () => {
    const text = renderMm2Config(settings());
    const p = props(text);
    expect(p.get('prod->prod-backup.topics')).toBe('orders.*,payments');
    expect(p.get('prod->prod-backup.topics.exclude')).toBe('.*[\\\\-\\\\.]internal,.*\\\\.replica,__.*,orders\\\\.tmp');
    expect(p.get('prod->prod-backup.groups')).toBe('.*');
    expect(p.get('prod->prod-backup.groups.exclude')).toContain('console-consumer-.*');
  });

  test('writes nothing to the source unless asked', () => {
    const quiet = props(renderMm2Config(settings()));
    expect(quiet.get('prod->prod-backup.offset-syncs.topic.location')).toBe('target');
    expect(quiet.get('prod-backup->prod.enabled')).toBe('false');
    expect(quiet.get('prod-backup->prod.emit.heartbeats.enabled')).toBe('false');
    expect(quiet.get('sync.topic.acls.enabled')).toBe('false');
    const asked = props(renderMm2Config(settings({ allowWritesToSource: true })));
    expect(asked.get('prod->prod-backup.offset-syncs.topic.location')).toBe('source');
  });

  test('the default policy, TLS, and the same input renders the same bytes', () => {
    const p = props(renderMm2Config(settings({ replicationPolicy: 'default', source: { alias: 'prod', bootstrapServers: ['a:9093'], tlsCaFile: '/etc/ca.pem' } })));
    expect(p.get('replication.policy.class')).toBe('org.apache.kafka.connect.mirror.DefaultReplicationPolicy');
    expect(p.get('prod.security.protocol')).toBe('SSL');
    expect(p.get('prod.ssl.truststore.location')).toBe('/etc/ca.pem');
    expect(renderMm2Config(settings())).toBe(renderMm2Config(settings()));
    expect(renderMm2Config(settings())).not.toBe(renderMm2Config(settings({ tasksMax: 5 })));
  });

  test('refuses patterns MM2 would split or cannot compile', () => {
    expect(patternProblems('topics.include', ['a{1,3}', '', '(['])).toEqual([
      'topics.include[0] "a{1,3}": MirrorMaker 2 splits its lists on ",", so a pattern cannot contain one',
      'topics.include[1]: must not be empty',
      expect.stringContaining('topics.include[2] "([": not a regular expression'),
    ]);
    expect(patternProblems('topics.include', ['orders.*'])).toEqual([]);
  });

  test('previews which topics match: whole-name regexes, excludes win', () => {
    expect(matchesPatterns('orders.eu', ['orders.*'], [])).toBe(true);
    expect(matchesPatterns('old-orders', ['orders.*'], [])).toBe(false);
    expect(matchesPatterns('orders.tmp', ['orders.*'], ['orders\\.tmp'])).toBe(false);
  });
});
