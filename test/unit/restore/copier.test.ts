import { clientProperties, librdkafkaClientProperties, propertyValue } from '../../../src/restore/client-properties';
import { copierCommand, nativeCopierProbeCommand, parseNativeProbe } from '../../../src/restore/commands';
import { copyArgs, copyRate, describeCopyRate, digestArgs, lineSplitter, parseCopierLine } from '../../../src/restore/copier';
import { copierKeyFor } from '../../../src/restore/keys';

describe('copier arguments', () => {
  test('copy: one P:FROM:TO:BASE per partition, with an earlier attempt position as a hint when it lies inside the range', () => {
    expect(copyArgs('bak.orders', 'orders', [{ partition: 0, from: 10, to: 40, base: 0 }, { partition: 3, from: 0, to: 5, base: 7, hint: { src: 3, tgt: 10 } }])).toEqual(['copy', 'bak.orders', 'orders', '0:10:40:0', '3:0:5:7:3:10']);
    // A hint outside the range (another plan, a corrupt heartbeat) is dropped: the copier then counts from the base.
    expect(copyArgs('a', 'a', [{ partition: 1, from: 10, to: 40, base: 5, hint: { src: 2, tgt: 9 } }])).toEqual(['copy', 'a', 'a', '1:10:40:5']);
    expect(copyArgs('a', 'a', [{ partition: 1, from: 10, to: 40, base: 5, hint: { src: 12, tgt: 4 } }])).toEqual(['copy', 'a', 'a', '1:10:40:5']);
  });

  test('copy: bad ranges are refused', () => {
    expect(() => copyArgs('a', 'a', [])).toThrow('at least one partition');
    expect(() => copyArgs('a', 'a', [{ partition: 0, from: 9, to: 8, base: 0 }])).toThrow('bad copy range for partition 0');
    expect(() => copyArgs('a', 'a', [{ partition: 0, from: 0, to: 1.5, base: 0 }])).toThrow('bad copy range');
    expect(() => copyArgs('a', 'a', [{ partition: -1, from: 0, to: 1, base: 0 }])).toThrow('bad copy range');
  });

  test('digest: to the end as -1, marks sorted and deduplicated', () => {
    expect(digestArgs('target', 'orders', [{ partition: 2, from: 7, to: null }, { partition: 0, from: 0, to: 40, marks: [30, 5, 30] }])).toEqual(['digest', 'target', 'orders', '2:7:-1', '0:0:40:5,30']);
    expect(() => digestArgs('source', 'o', [{ partition: 0, from: 5, to: 4 }])).toThrow('bad digest range');
  });

  test('the host command stops an earlier copier of the same key before it starts, and quotes every argument', () => {
    const key = copierKeyFor('restore-1', 'orders[0,1]');
    const cmd = copierCommand({ kind: 'java', key, kafkaHome: '/opt/kafka dir/current', sourcePath: '/tmp/kafka-runbooks.abc', args: ['copy', 'orders', "it's", '0:0:5:0'] });
    expect(cmd).toContain('mkdir -p "$d" && chmod 700 "$d" || exit 3');
    expect(cmd).toContain(`pf="$d/${key}.pid"`);
    expect(cmd).toMatch(/grep -qa -- restore-[0-9a-f]{16} "\/proc\/\$old\/cmdline".*kill -9 "\$old"; while kill -0/);
    expect(cmd).toContain(`-Dkafka-runbooks.copier=${key} --source 11 -cp '/opt/kafka dir/current/libs/*' /tmp/kafka-runbooks.abc copy orders 'it'\\''s' 0:0:5:0`);
    expect(cmd.indexOf('kill -9')).toBeLessThan(cmd.indexOf('exec java'));
    // A retry (the pid file is there) makes the copier wait for the target's ends to settle; a first attempt does not.
    expect(cmd).toContain('settle=0; if [ -s "$pf" ]; then settle=20000; old=');
    expect(cmd.indexOf('export RESTORE_SETTLE_MS="$settle"')).toBeLessThan(cmd.indexOf('exec java'));
    expect(() => copierCommand({ kind: 'java', key: 'x; rm -rf /', kafkaHome: '/k', sourcePath: '/f', args: [] })).toThrow('bad copier key');
  });

  test('the librdkafka copier is built once per source version under a temporary name, then run with its key on its command line', () => {
    const key = copierKeyFor('restore-1', 'orders[0]');
    const cmd = copierCommand({ kind: 'librdkafka', key, kafkaHome: '/k', sourcePath: "/tmp/a b'c", buildId: '0123456789abcdef', args: ['copy', 'o', 'o', '0:0:5:0'] });
    expect(cmd).toContain('b="$d/restore-copier-0123456789abcdef"; if [ ! -x "$b" ]; then');
    expect(cmd).toContain(`cc -O2 -pthread -x c -o "$b.$$" '/tmp/a b'\\''c' -lrdkafka`);
    expect(cmd).toContain('mv -f "$b.$$" "$b"; fi');
    expect(cmd).toMatch(new RegExp(`exec "\\$b" --tag=${key} copy o o 0:0:5:0$`));
    expect(cmd.indexOf('kill -9')).toBeLessThan(cmd.indexOf('exec "$b"'));
    expect(() => copierCommand({ kind: 'librdkafka', key, kafkaHome: '/k', sourcePath: '/f', buildId: '../x', args: [] })).toThrow('bad copier build id');
    expect(nativeCopierProbeCommand('librdkafka', '/tmp/src', '0123456789abcdef')).toMatch(/; "\$b" version$/);
    const wire = copierCommand({ kind: 'wire', key, kafkaHome: '/k', sourcePath: '/tmp/w.c', buildId: '0123456789abcdef', args: ['copy', 'o', 'o', '0:0:5:0'] });
    expect(wire).toContain('b="$d/wire-copier-0123456789abcdef"');
    expect(wire).toContain(`cc -O2 -pthread -x c -o "$b.$$" /tmp/w.c -lz -llz4 -lzstd -lsnappy`);
  });

  test('the probe: a VERSION line that says ok, else the reason the host cannot run the librdkafka copier', () => {
    expect(parseNativeProbe(0, 'VERSION librdkafka=2.0.2 ok\n', '')).toEqual({ available: true, version: '2.0.2' });
    expect(parseNativeProbe(0, 'VERSION wire=1 ok\n', '')).toEqual({ available: true, version: '1' });
    expect(parseNativeProbe(1, 'VERSION librdkafka=1.6.0 too-old\n', '')).toEqual({ available: false, reason: 'librdkafka 1.6.0 there is older than 2.0.2, the oldest measured lossless' });
    expect(parseNativeProbe(3, 'UNAVAILABLE no C compiler (cc) on the host\n', '')).toEqual({ available: false, reason: 'no C compiler (cc) on the host' });
    expect(parseNativeProbe(126, '', 'bash: /tmp/kafka-runbooks-restore/restore-copier-x: Permission denied\n')).toEqual({ available: false, reason: 'the built copier does not run there (exit 126: bash: /tmp/kafka-runbooks-restore/restore-copier-x: Permission denied; a noexec TMPDIR?)' });
  });

  test('copier keys: the same for every attempt of a range, different across ranges and runs', () => {
    expect(copierKeyFor('w', 'orders[0]')).toBe(copierKeyFor('w', 'orders[0]'));
    expect(new Set([copierKeyFor('w', 'orders[0]'), copierKeyFor('w', 'orders[1]'), copierKeyFor('w2', 'orders[0]')]).size).toBe(3);
    expect(copierKeyFor('w', 'x')).toMatch(/^restore-[0-9a-f]{16}$/);
  });
});

describe('client properties on stdin', () => {
  test('plaintext, and SASL/SCRAM over TLS with the secret in the JAAS line, escaped for java.util.Properties', () => {
    expect(clientProperties('source', { bootstrapServers: ['a:9092', 'b:9092'] })).toBe('source.bootstrap.servers=a:9092,b:9092\nsource.security.protocol=PLAINTEXT\n');
    const text = clientProperties('target', { bootstrapServers: ['a:9093'], tls: { caPem: '-----BEGIN-----\nAAA\n-----END-----\n' }, sasl: { mechanism: 'scram-sha-512', username: 'ops', password: 'p"w\\d' } });
    expect(text).toContain('target.security.protocol=SASL_SSL\n');
    expect(text).toContain('target.ssl.truststore.certificates=-----BEGIN-----\\nAAA\\n-----END-----\\n\n');
    expect(text).toContain('target.sasl.mechanism=SCRAM-SHA-512\n');
    expect(text).toContain('target.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="ops" password="p\\\\"w\\\\\\\\d";\n');
    expect(propertyValue(' lead')).toBe('\\ lead');
  });

  test('librdkafka names for the librdkafka copier: PEM and SASL settings with the same escapes', () => {
    expect(librdkafkaClientProperties('source', { bootstrapServers: ['a:9092'] })).toBe('source.bootstrap.servers=a:9092\nsource.security.protocol=plaintext\n');
    const text = librdkafkaClientProperties('target', { bootstrapServers: ['a:9093'], tls: { caPem: 'CA\nX', certPem: 'C', keyPem: 'K', keyPassword: 'kp' }, sasl: { mechanism: 'scram-sha-256', username: 'ops', password: 'p=w\\' } });
    expect(text.split('\n')).toEqual(['target.bootstrap.servers=a:9093', 'target.security.protocol=sasl_ssl', 'target.ssl.ca.pem=CA\\nX', 'target.ssl.certificate.pem=C', 'target.ssl.key.pem=K', 'target.ssl.key.password=kp', 'target.sasl.mechanisms=SCRAM-SHA-256', 'target.sasl.username=ops', 'target.sasl.password=p=w\\\\', '']);
  });
});

describe('copier output', () => {
  test('parses every line kind; anything else is ignored', () => {
    expect(parseCopierLine('START 3 from=10 to=40 skip=7')).toEqual({ kind: 'start', partition: 3, from: 10, to: 40, skip: 7 });
    expect(parseCopierLine('PROGRESS 0 src=20 tgt=10 copied=10 bytes=512')).toEqual({ kind: 'progress', partition: 0, src: 20, tgt: 10, copied: 10, bytes: 512 });
    expect(parseCopierLine('DONE 0 src=40 tgt=30 copied=30 bytes=900')).toMatchObject({ kind: 'done', tgt: 30 });
    expect(parseCopierLine('FAILED 2 NotLeaderOrFollowerException: x y')).toEqual({ kind: 'failed', partition: 2, message: 'NotLeaderOrFollowerException: x y' });
    expect(parseCopierLine('FAILED TimeoutException: no metadata')).toEqual({ kind: 'failed', partition: null, message: 'TimeoutException: no metadata' });
    expect(parseCopierLine('SUMMARY copied=30 bytes=900 ms=1500')).toEqual({ kind: 'summary', copied: 30, bytes: 900, ms: 1500 });
    const sha = 'a'.repeat(64);
    expect(parseCopierLine(`DIGEST 1 count=5 sha256=${sha} first=0 last=4 end=5`)).toEqual({ kind: 'digest', partition: 1, count: 5, sha256: sha, first: 0, last: 4, end: 5 });
    expect(parseCopierLine('MARK 1 offset=30 before=29')).toEqual({ kind: 'mark', partition: 1, offset: 30, before: 29 });
    for (const noise of ['', 'PROGRESS 0 src=20 tgt=', 'PROGRESS x src=1 tgt=1 copied=1 bytes=1', 'DIGEST 1 count=5 sha256=zz first=0 last=4 end=5', '[main] INFO something']) expect(parseCopierLine(noise)).toBeNull();
  });

  test('lines cut across chunks are joined; the last partial line comes at the end', () => {
    const lines: string[] = [];
    const s = lineSplitter((l) => lines.push(l));
    s.push('PROGRESS 0 src=1 t');
    s.push('gt=1 copied=1 bytes=1\nDONE 0 src');
    s.push('=2 tgt=2 copied=2 bytes=2');
    expect(lines).toEqual(['PROGRESS 0 src=1 tgt=1 copied=1 bytes=1']);
    s.end();
    expect(lines[1]).toBe('DONE 0 src=2 tgt=2 copied=2 bytes=2');
  });

  test('rate and ETA count only this attempt records; records found already written do not inflate the rate', () => {
    const f = copyRate({ copiedAtStart: 500, copiedNow: 700, bytesThisAttempt: 2_000_000, total: 1000, elapsedMs: 2000 });
    expect(f).toEqual({ copied: 700, total: 1000, percent: 70, recordsPerSecond: 100, bytesPerSecond: 1_000_000, etaSeconds: 3 });
    expect(describeCopyRate(f)).toBe('700/1,000 records (70%), 100 rec/s, 1.0 MB/s, ETA 3 s');
    expect(copyRate({ copiedAtStart: 0, copiedNow: 0, bytesThisAttempt: 0, total: 10, elapsedMs: 0 }).etaSeconds).toBeNull();
    expect(copyRate({ copiedAtStart: 0, copiedNow: 10, bytesThisAttempt: 0, total: 10, elapsedMs: 5 }).etaSeconds).toBe(0);
  });
});
