import { bumpProtocolVersion, carryOverServerProperties, parseProperties, propertyValue, setProperty } from '../../../src/rolling';

const zkConfig = [
  '# broker 1 of prod',
  'broker.id=1',
  'zookeeper.connect=zk-1:2181,zk-2:2181/kafka',
  '',
  'listeners=PLAINTEXT://kafka-1:9092',
  'ssl.keystore.password=s3cret',
  'log.dirs=/var/lib/kafka/a,\\',
  '    /var/lib/kafka/b',
  '',
].join('\n');

describe('carryOverServerProperties: ZooKeeper mode', () => {
  it('pins inter.broker.protocol.version to the running major.minor and keeps every other byte', () => {
    const r = carryOverServerProperties(zkConfig, { mode: 'zookeeper', runningVersion: '3.8.1', targetVersion: '3.9.2' });
    expect(r.changed).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.changes).toEqual(['pinned inter.broker.protocol.version=3.8 (the running version 3.8.1)']);
    expect(r.text.startsWith(zkConfig)).toBe(true);
    expect(r.text.slice(zkConfig.length)).toBe(
      '# kafka-runbooks rolling upgrade 3.8.1 -> 3.9.2: keep the old protocol until every broker runs 3.9.2; bumping it later cannot be undone.\n' +
        'inter.broker.protocol.version=3.8\n',
    );
    expect(propertyValue(r.text, 'inter.broker.protocol.version')).toBe('3.8');
    expect(propertyValue(r.text, 'log.dirs')).toBe('/var/lib/kafka/a,/var/lib/kafka/b');
  });

  it('is idempotent: a second carry-over finds the pin and changes nothing', () => {
    const once = carryOverServerProperties(zkConfig, { mode: 'zookeeper', runningVersion: '3.8.1', targetVersion: '3.9.2' });
    const twice = carryOverServerProperties(once.text, { mode: 'zookeeper', runningVersion: '3.8.1', targetVersion: '3.9.2' });
    expect(twice).toEqual({ text: once.text, changed: false, changes: [], warnings: [], problems: [] });
  });

  it('keeps CRLF line endings and adds the missing final line ending first', () => {
    const crlf = 'broker.id=1\r\nzookeeper.connect=zk:2181';
    const r = carryOverServerProperties(crlf, { mode: 'zookeeper', runningVersion: '3.7.0', targetVersion: '3.9.2' });
    expect(r.text).toBe(`${crlf}\r\n# kafka-runbooks rolling upgrade 3.7.0 -> 3.9.2: keep the old protocol until every broker runs 3.9.2; bumping it later cannot be undone.\r\ninter.broker.protocol.version=3.7\r\n`);
  });

  it('keeps a protocol version the file already pins, and warns when it is newer than the running version', () => {
    const pinned = `${zkConfig}inter.broker.protocol.version = 3.6\n`;
    expect(carryOverServerProperties(pinned, { mode: 'zookeeper', runningVersion: '3.8.1', targetVersion: '3.9.2' })).toEqual({ text: pinned, changed: false, changes: [], warnings: [], problems: [] });
    const ahead = `${zkConfig}inter.broker.protocol.version=3.9-IV0\n`;
    expect(carryOverServerProperties(ahead, { mode: 'zookeeper', runningVersion: '3.8.1', targetVersion: '3.9.2' }).warnings).toEqual([
      'inter.broker.protocol.version=3.9-IV0 is newer than the running version 3.8.1: kept as it is, but check it.',
    ]);
  });

  it('needs no pin for a patch upgrade', () => {
    expect(carryOverServerProperties(zkConfig, { mode: 'zookeeper', runningVersion: '3.9.1', targetVersion: '3.9.2' })).toMatchObject({ text: zkConfig, changed: false, problems: [] });
  });

  it('also pins log.message.format.version when the running version is older than 2.4', () => {
    const r = carryOverServerProperties(zkConfig, { mode: 'zookeeper', runningVersion: '2.3.1', targetVersion: '3.9.2' });
    expect(r.text.split('\n').slice(-3)).toEqual(['inter.broker.protocol.version=2.3', 'log.message.format.version=2.3', '']);
  });

  it('refuses a ZooKeeper-mode upgrade to 4.x', () => {
    expect(carryOverServerProperties(zkConfig, { mode: 'zookeeper', runningVersion: '3.9.2', targetVersion: '4.3.1' })).toEqual({
      text: zkConfig,
      changed: false,
      changes: [],
      warnings: [],
      problems: ['Kafka 4.3.1 runs only in KRaft mode: migrate this ZooKeeper-mode cluster to KRaft on 3.9 first.'],
    });
  });

  it('allows a downgrade only while the protocol in force is not newer than the target', () => {
    const pinned = `${zkConfig}inter.broker.protocol.version=3.8\n`;
    expect(carryOverServerProperties(pinned, { mode: 'zookeeper', runningVersion: '3.9.2', targetVersion: '3.8.1' })).toMatchObject({ changed: false, problems: [] });
    expect(carryOverServerProperties(zkConfig, { mode: 'zookeeper', runningVersion: '3.9.2', targetVersion: '3.8.1' }).problems).toEqual([
      'Cannot downgrade to 3.8.1: the brokers speak inter.broker.protocol.version 3.9 (the default of 3.9.2), newer than 3.8. Only a cluster whose protocol version was never bumped past 3.8 can go back.',
    ]);
  });

  it('reports unreadable versions as a problem', () => {
    expect(carryOverServerProperties(zkConfig, { mode: 'zookeeper', runningVersion: 'trunk', targetVersion: '3.9.2' }).problems).toEqual([
      'cannot compare versions "trunk" and "3.9.2": expected x.y.z',
    ]);
  });
});

describe('carryOverServerProperties: KRaft mode', () => {
  const kraftConfig = 'process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@k1:9093\n';

  it('changes nothing (metadata.version lives in the cluster) and warns about keys 4.x no longer uses', () => {
    expect(carryOverServerProperties(kraftConfig, { mode: 'kraft', runningVersion: '3.9.2', targetVersion: '4.3.1' })).toEqual({
      text: kraftConfig,
      changed: false,
      changes: [],
      warnings: [],
      problems: [],
    });
    const withIbp = `${kraftConfig}inter.broker.protocol.version=3.9\n`;
    expect(carryOverServerProperties(withIbp, { mode: 'kraft', runningVersion: '3.9.2', targetVersion: '4.3.1' }).warnings).toEqual([
      'Kafka 4.3.1 no longer uses inter.broker.protocol.version: remove it once every node runs 4.x.',
    ]);
  });

  it('warns that a downgrade depends on the finalized metadata.version', () => {
    expect(carryOverServerProperties(kraftConfig, { mode: 'kraft', runningVersion: '4.3.1', targetVersion: '3.9.2' }).warnings).toEqual([
      'Downgrading to 3.9.2 works only while the finalized metadata.version is one 3.9 supports (kafka-features.sh describe): a metadata.version bump cannot be undone.',
    ]);
  });
});

describe('properties parsing', () => {
  it('follows java.util.Properties: separators, comments, continuations, escapes, last entry wins', () => {
    const text = ['! bang comment', '  # indented comment', 'a=1', 'b : 2', 'c 3', 'key\\=with\\:escapes=v', 'd=first', 'e=x\\', '  y\\', '  z', 'd=second', 'empty='].join('\n');
    expect(parseProperties(text).map((e) => [e.key, e.value])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['key=with:escapes', 'v'],
      ['d', 'first'],
      ['e', 'xyz'],
      ['d', 'second'],
      ['empty', ''],
    ]);
    expect(propertyValue(text, 'd')).toBe('second');
    expect(propertyValue(text, '# indented comment')).toBeNull();
  });

  it('setProperty rewrites only the entry Kafka reads, or appends one', () => {
    const text = 'a=1\nibp=3.7\n# note\nibp=3.8\\\n  -IV0\nz=9';
    expect(setProperty(text, 'ibp', '3.9')).toBe('a=1\nibp=3.7\n# note\nibp=3.9\nz=9');
    expect(setProperty('a=1', 'ibp', '3.9')).toBe('a=1\nibp=3.9\n');
  });
});

describe('bumpProtocolVersion (ZooKeeper-mode finalize)', () => {
  it('replaces the pin the upgrade added, in place, touching nothing else', () => {
    const pinned = carryOverServerProperties('broker.id=1\n# keep\nlog.dirs=/data\n', { mode: 'zookeeper', runningVersion: '3.8.1', targetVersion: '3.9.2' }).text;
    const r = bumpProtocolVersion(pinned, '3.9.2');
    expect(r.changed).toBe(true);
    expect(r.changes).toEqual(['inter.broker.protocol.version 3.8 -> 3.9']);
    expect(r.text).toBe(pinned.replace('inter.broker.protocol.version=3.8', 'inter.broker.protocol.version=3.9'));
    expect(propertyValue(r.text, 'inter.broker.protocol.version')).toBe('3.9');
  });

  it('leaves a file alone when nothing is pinned, or the pin is already the target', () => {
    expect(bumpProtocolVersion('broker.id=1\n', '3.9.2')).toMatchObject({ changed: false, problems: [], text: 'broker.id=1\n' });
    expect(bumpProtocolVersion('inter.broker.protocol.version=3.9\n', '3.9.2')).toMatchObject({ changed: false, problems: [] });
    expect(bumpProtocolVersion('inter.broker.protocol.version=3.9-IV0\n', '3.9.2')).toMatchObject({ changed: false, problems: [] });
  });

  it('refuses to lower a pin, and has nothing to bump for 4.x', () => {
    expect(bumpProtocolVersion('inter.broker.protocol.version=3.9\n', '3.8.1').problems).toEqual(['inter.broker.protocol.version=3.9 is newer than 3.8: not lowering it (that would be a downgrade).']);
    expect(bumpProtocolVersion('inter.broker.protocol.version=3.9\n', '4.3.1').problems[0]).toContain('runs only in KRaft mode');
  });

  it('warns about a leftover log.message.format.version', () => {
    const r = bumpProtocolVersion('inter.broker.protocol.version=2.8\nlog.message.format.version=2.8\n', '3.9.2');
    expect(r.changed).toBe(true);
    expect(r.warnings[0]).toContain('log.message.format.version=2.8 is still set');
  });
});
