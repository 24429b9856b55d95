import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointKey, latestCheckpoints, latestPositions, latestWorkStatus, parseCheckpointRecord, parseMm2OffsetRecord, parseMm2StatusRecord } from '../../../src/backup/mm2-records';

/**
 * Real bytes captured from the lab (test/e2e/support/capture-mm2-fixtures.ts): MM2 4.3.1 backing up "bk-source" (topic
 * "orders", 3 partitions of 10 records each; group "billing" committed 4 on partition 0 and 7 on partition 1)
 * into "bk-backup".
 */
interface Fixture {
  topic: string;
  records: { partition: number; offset: string; key: string | null; value: string | null }[];
}
const load = (name: string) => {
  const f = JSON.parse(readFileSync(join(__dirname, '../../fixtures/mm2', name), 'utf8')) as Fixture;
  return { topic: f.topic, records: f.records.map((r) => ({ key: r.key === null ? null : Buffer.from(r.key, 'base64'), value: r.value === null ? null : Buffer.from(r.value, 'base64') })) };
};

describe('mm2-offsets records (real bytes)', () => {
  const fixture = load('mm2-offsets.json');

  test('the topic is mm2-offsets.<source>.internal, and every record reads', () => {
    expect(fixture.topic).toBe('mm2-offsets.bk-source.internal');
    const kinds = fixture.records.map((r) => parseMm2OffsetRecord(r.key, r.value).kind);
    expect(kinds).not.toContain('unreadable');
    expect(kinds).toContain('position');
    // MM2's checkpoint and heartbeat connectors keep their offsets in the same topic: never read as positions.
    expect(kinds).toContain('other');
  });

  test('the latest position per partition is the offset of the last record replicated', () => {
    const latest = latestPositions(fixture.records, 'bk-source');
    expect([...latest.entries()].sort()).toEqual([
      ['orders:0', { sourceCluster: 'bk-source', topic: 'orders', partition: 0, offset: 9 }],
      ['orders:1', { sourceCluster: 'bk-source', topic: 'orders', partition: 1, offset: 9 }],
      ['orders:2', { sourceCluster: 'bk-source', topic: 'orders', partition: 2, offset: 9 }],
    ]);
    expect(latestPositions(fixture.records, 'another-cluster').size).toBe(0);
  });

  test('other connectors, tombstones and garbage are told apart', () => {
    const key = (k: unknown) => Buffer.from(JSON.stringify(k));
    expect(parseMm2OffsetRecord(key(['MirrorCheckpointConnector', { group: 'g' }]), Buffer.from('{}'))).toEqual({ kind: 'other', connector: 'MirrorCheckpointConnector' });
    expect(parseMm2OffsetRecord(key(['MirrorSourceConnector', { cluster: 'a', topic: 't', partition: 0 }]), null)).toEqual({ kind: 'tombstone' });
    expect(parseMm2OffsetRecord(Buffer.from('not json'), null)).toMatchObject({ kind: 'unreadable' });
    expect(parseMm2OffsetRecord(key(['MirrorSourceConnector', { cluster: 'a', topic: 't', partition: 0 }]), Buffer.from('{"offset":-1}'))).toMatchObject({ kind: 'unreadable', problem: 'value has no offset' });
  });
});

describe('checkpoint records (real bytes)', () => {
  const fixture = load('checkpoints.json');

  test('the group offsets of billing, translated to the backup', () => {
    expect(fixture.topic).toBe('bk-source.checkpoints.internal');
    for (const r of fixture.records) expect(parseCheckpointRecord(r.key, r.value)).toMatchObject({ ok: true });
    const latest = latestCheckpoints(fixture.records);
    const p0 = latest.get(checkpointKey('billing', 'orders', 0));
    const p1 = latest.get(checkpointKey('billing', 'orders', 1));
    expect(p0).toMatchObject({ group: 'billing', topic: 'orders', partition: 0, upstreamOffset: 4 });
    expect(p1).toMatchObject({ group: 'billing', topic: 'orders', partition: 1, upstreamOffset: 7 });
    // Translation is conservative: never past the upstream position.
    for (const c of [p0!, p1!]) expect(c.downstreamOffset).toBeLessThanOrEqual(c.upstreamOffset);
  });

  test('truncated, extended or newer-version bytes are refused with the reason', () => {
    const r = fixture.records[0]!;
    expect(parseCheckpointRecord(r.key, r.value!.subarray(0, 10))).toEqual({ ok: false, problem: expect.stringContaining('truncated') });
    expect(parseCheckpointRecord(Buffer.concat([r.key!, Buffer.from([0])]), r.value)).toEqual({ ok: false, problem: expect.stringContaining('1 bytes left after the key') });
    const v1 = Buffer.from(r.value!);
    v1.writeInt16BE(1, 0);
    expect(parseCheckpointRecord(r.key, v1)).toEqual({ ok: false, problem: 'checkpoint version 1 is not 0, the one this build reads' });
    expect(parseCheckpointRecord(null, r.value)).toEqual({ ok: false, problem: 'checkpoint record has no key' });
  });
});

describe('MM2 status records (real bytes)', () => {
  const fixture = load('mm2-status.json');

  test('connectors and tasks with their states', () => {
    const statuses = latestWorkStatus(fixture.records);
    expect(statuses.some((s) => s.connector === 'MirrorSourceConnector' && s.task === null && s.state === 'RUNNING')).toBe(true);
    expect(statuses.some((s) => s.connector === 'MirrorSourceConnector' && s.task === 0 && s.state === 'RUNNING')).toBe(true);
    expect(statuses.filter((s) => s.state === 'FAILED')).toEqual([]);
  });

  test('a failed task keeps the first line of its trace', () => {
    const s = parseMm2StatusRecord(Buffer.from('status-task-MirrorSourceConnector-1'), Buffer.from(JSON.stringify({ state: 'FAILED', trace: 'org.apache.kafka.common.errors.TimeoutException: x\n\tat y', worker_id: 'w:1', generation: 3 })));
    expect(s).toEqual({ connector: 'MirrorSourceConnector', task: 1, state: 'FAILED', trace: 'org.apache.kafka.common.errors.TimeoutException: x', workerId: 'w:1' });
    expect(parseMm2StatusRecord(Buffer.from('status-topic-orders:connector-X'), Buffer.from('{"state":"RUNNING"}'))).toBeNull();
  });
});
