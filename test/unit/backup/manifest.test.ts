import { backupPointId, backupPointKey, backupPointSchema, backupRecordCount, MANIFEST_VERSION, parseBackupPoint, type BackupPoint } from '../../../src/backup/manifest';

function point(overrides: Partial<BackupPoint> = {}): BackupPoint {
  return {
    version: MANIFEST_VERSION,
    id: '2026-11-30T02:00:00Z',
    time: '2026-11-30T02:00:00.000Z',
    sourceCluster: 'prod',
    backupCluster: 'prod-backup',
    mm2: { sourceAlias: 'prod', targetAlias: 'prod-backup', replicationPolicy: 'identity' },
    topics: [
      {
        name: 'orders',
        backupName: 'orders',
        partitionCount: 2,
        replicationFactor: 3,
        configs: { 'cleanup.policy': 'delete', 'retention.ms': '604800000' },
        partitions: [
          { partition: 0, sourceStartOffset: 0, sourceEndOffset: 100, sourceOffsetReached: 100, backupStartOffset: 0, backupEndOffset: 100 },
          { partition: 1, sourceStartOffset: 10, sourceEndOffset: 50, sourceOffsetReached: 60, backupStartOffset: 0, backupEndOffset: 50 },
        ],
      },
    ],
    acls: { captured: false, reason: 'no authorizer on the source', bindings: [] },
    consumerGroups: [{ groupId: 'billing', state: 'Empty', offsets: [{ topic: 'orders', partition: 0, committedOffset: 90, translatedOffset: 88 }] }],
    ...overrides,
  };
}

describe('backup point manifest', () => {
  it('round-trips a valid point through JSON', () => {
    const p = point();
    const parsed = parseBackupPoint(JSON.stringify(p));
    expect(parsed).toEqual({ ok: true, point: p });
  });

  it('refuses a newer manifest version by name', () => {
    const parsed = parseBackupPoint(JSON.stringify({ ...point(), version: 2 }));
    expect(parsed).toEqual({ ok: false, problem: expect.stringContaining('manifest version 2 is not 1') });
  });

  it('refuses a point whose MM2 position is below the captured end offset', () => {
    const p = point();
    p.topics[0]!.partitions[0]!.sourceOffsetReached = 99;
    const parsed = parseBackupPoint(JSON.stringify(p));
    expect(parsed).toEqual({ ok: false, problem: expect.stringContaining('topics.0.partitions.0.sourceOffsetReached') });
  });

  it('refuses a topic whose partitions do not match its partition count', () => {
    const p = point();
    p.topics[0]!.partitions.pop();
    expect(backupPointSchema.safeParse(p).success).toBe(false);
    const dup = point();
    dup.topics[0]!.partitions[1]!.partition = 0;
    expect(parseBackupPoint(JSON.stringify(dup))).toEqual({ ok: false, problem: expect.stringContaining('duplicate partition 0') });
  });

  it('refuses negative or fractional offsets, unknown fields and a bad time', () => {
    const neg = point();
    neg.consumerGroups[0]!.offsets[0]!.committedOffset = -1;
    expect(parseBackupPoint(JSON.stringify(neg)).ok).toBe(false);
    expect(parseBackupPoint(JSON.stringify({ ...point(), extra: 1 })).ok).toBe(false);
    expect(parseBackupPoint(JSON.stringify({ ...point(), time: 'yesterday' }))).toEqual({ ok: false, problem: expect.stringContaining('time') });
    expect(parseBackupPoint('{')).toEqual({ ok: false, problem: expect.stringContaining('not JSON') });
  });

  it('keys points by source cluster and id, ids sortable by time', () => {
    expect(backupPointKey(point())).toBe('prod/2026-11-30T02:00:00Z');
    expect(backupPointId(new Date('2026-11-30T02:00:00.123Z'))).toBe('2026-11-30T02:00:00Z');
    expect(backupRecordCount(point().topics[0]!)).toBe(150);
  });
});
