import { chooseBackupPoint } from '../../../activities/restore';
import { type BackupPoint } from '../../../src/backup/manifest';
import { restoreFromBackupInput } from '../../../src/restore/input';
import { type NativeCopierKind, type NativeProbe } from '../../../src/restore/commands';
import { chooseCopier, copierOf, planRestore, renderRestorePlan, type RestoreFacts } from '../../../src/restore/plan';

function point(): BackupPoint {
  const part = (partition: number, start: number, end: number) => ({ partition, sourceStartOffset: start, sourceEndOffset: end, sourceOffsetReached: end, backupStartOffset: start, backupEndOffset: end });
  return {
    version: 1,
    id: '2026-11-30T02:00:00Z',
    time: '2026-11-30T02:00:00.000Z',
    sourceCluster: 'prod',
    backupCluster: 'bak',
    mm2: { sourceAlias: 'prod', targetAlias: 'bak', replicationPolicy: 'identity' },
    topics: [
      { name: 'orders', backupName: 'orders', partitionCount: 3, replicationFactor: 3, configs: { 'cleanup.policy': 'compact', 'retention.ms': null }, partitions: [part(2, 0, 5), part(0, 10, 40), part(1, 0, 0)] },
      { name: 'audit', backupName: 'audit', partitionCount: 1, replicationFactor: 3, configs: {}, partitions: [part(0, 0, 7)] },
    ],
    acls: { captured: false, bindings: [] },
    consumerGroups: [
      { groupId: 'billing', state: 'Stable', offsets: [{ topic: 'orders', partition: 0, committedOffset: 30, translatedOffset: 30 }] },
      { groupId: 'auditor', state: 'Empty', offsets: [{ topic: 'audit', partition: 0, committedOffset: 3, translatedOffset: null }] },
    ],
  };
}

const facts = (over: Partial<RestoreFacts> = {}): RestoreFacts => ({ point: point(), targetBrokers: 3, targetTopics: [], targetGroups: [], cutOffsets: null, copyHost: 'kafka-1', copier: { kind: 'librdkafka', why: 'librdkafka 2.0.2 on kafka-1' }, ...over });
const input = (over: Record<string, unknown> = {}) => restoreFromBackupInput.parse({ cluster: 'prod', backupCluster: 'bak', ...over });

describe('planRestore', () => {
  test('creates missing topics with the backup point partition counts and configs; records per partition; ranges of partitionsPerCopy', () => {
    const p = planRestore(input({ partitionsPerCopy: 1 }), facts());
    const orders = p.topics.find((t) => t.name === 'orders');
    expect(orders).toMatchObject({ action: 'create', partitionCount: 3, replicationFactor: 3, configs: { 'cleanup.policy': 'compact' }, records: 35 });
    expect(orders?.partitions).toEqual([
      { partition: 0, from: 10, to: 40, records: 30 },
      { partition: 1, from: 0, to: 0, records: 0 },
      { partition: 2, from: 0, to: 5, records: 5 },
    ]);
    // Empty partitions need no copy; one range per partition with data.
    expect(p.ranges.map((r) => r.id)).toEqual(['orders[0]', 'orders[2]', 'audit[0]']);
    expect(p.totalRecords).toBe(42);
    expect(p.refusals).toEqual([]);
  });

  test('an existing topic is refused unless existing: append; append needs at least the backup partition count', () => {
    const existing = facts({ targetTopics: [{ name: 'orders', partitionCount: 3 }] });
    expect(planRestore(input(), existing).refusals).toEqual(['topic orders: exists on prod; restore into it only with existing: append']);
    const appended = planRestore(input({ existing: 'append' }), existing);
    expect(appended.refusals).toEqual([]);
    expect(appended.topics.find((t) => t.name === 'orders')?.action).toBe('append');
    const fewer = planRestore(input({ existing: 'append' }), facts({ targetTopics: [{ name: 'orders', partitionCount: 2 }] }));
    expect(fewer.refusals[0]).toContain('2 partitions, fewer than the backup');
  });

  test('a date-time cut stops each partition at its first record after it, never past the backup point or before its start', () => {
    const p = planRestore(input({ at: '2026-11-30T01:00:00Z' }), facts({ cutOffsets: { orders: { 0: 25, 1: null, 2: 99 }, audit: { 0: null } } }));
    expect(p.topics.find((t) => t.name === 'orders')?.partitions.map((x) => [x.partition, x.from, x.to])).toEqual([
      [0, 10, 25],
      [1, 0, 0],
      [2, 0, 5],
    ]);
    expect(planRestore(input({ at: '2026-11-30T01:00:00Z' }), facts({ cutOffsets: { orders: { 0: 3 } } })).topics[0]?.partitions[0]).toMatchObject({ from: 10, to: 10, records: 0 });
  });

  test('patterns select topics and groups; groups only for restored topics; an active group on the target is named', () => {
    const p = planRestore(input({ topics: { include: ['ord.*'] } }), facts({ targetGroups: [{ groupId: 'billing', state: 'Stable' }] }));
    expect(p.topics.map((t) => t.name)).toEqual(['orders']);
    expect(p.groups).toEqual([{ groupId: 'billing', targetState: 'Stable', refused: 'group billing is Stable on prod: its members must stop first', offsets: [{ topic: 'orders', partition: 0, backupOffset: 30 }] }]);
    expect(planRestore(input({ groups: { exclude: ['billing'] } }), facts()).groups.map((g) => g.groupId)).toEqual(['auditor']);
    expect(planRestore(input({ groupOffsets: 'none' }), facts()).groups).toEqual([]);
  });

  test('warnings: a group without checkpoint, LogAppendTime topics, a lower replication factor', () => {
    const pt = point();
    pt.topics[1]!.configs = { 'message.timestamp.type': 'LogAppendTime' };
    const p = planRestore(input(), facts({ point: pt, targetBrokers: 1 }));
    expect(p.warnings.join('\n')).toContain('group auditor: 1 partition(s) have no MM2 checkpoint');
    expect(p.warnings.join('\n')).toContain('topic audit has message.timestamp.type=LogAppendTime');
    expect(p.warnings.join('\n')).toContain('created with replication factor 1');
  });

  test('nothing selected is a refusal; the rendered plan names actions, records per partition and groups', () => {
    expect(planRestore(input({ topics: { include: ['nope'] } }), facts()).refusals).toEqual(['no topic of backup point 2026-11-30T02:00:00Z matches the topic patterns']);
    const text = renderRestorePlan(planRestore(input(), facts({ targetTopics: [{ name: 'audit', partitionCount: 1 }] })), 'prod');
    expect(text).toContain('| orders | create | 3 | 3 | 0:30 1:0 2:5 | cleanup.policy=compact |');
    expect(text).toContain('| audit | refused (exists on prod; restore into it only with existing: append)');
    expect(text).toContain('- billing: 1 partition(s)');
    expect(text).toContain('copied from host kafka-1 with the librdkafka copier (librdkafka 2.0.2 on kafka-1).');
    // A plan in the history of a run started before the copier could be chosen: that run copies with Java.
    const { copier: _none, ...older } = planRestore(input(), facts());
    expect(copierOf(older)).toEqual({ kind: 'java', why: 'planned before the copier could be chosen' });
    expect(renderRestorePlan(older, 'prod')).toContain('with the java copier (planned before the copier could be chosen).');
  });
});

describe('restoreFromBackup input', () => {
  test('bad patterns, the target as its own backup and unknown fields are refused, naming the field', () => {
    const problems = (raw: unknown) => restoreFromBackupInput.safeParse(raw).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(problems({ cluster: 'a', backupCluster: 'b', topics: { include: ['a{1'] } })).toEqual([]);
    expect(problems({ cluster: 'a', backupCluster: 'b', topics: { include: ['(a'] } })).toEqual(['topics.include.0: must be a valid regular expression']);
    expect(problems({ cluster: 'a', backupCluster: 'a' })).toEqual(['backupCluster: must not be the target cluster itself']);
    expect(problems({ cluster: 'a', backupCluster: 'b', at: 'yesterday' })[0]).toContain('at: must be an ISO 8601 date-time');
    expect(problems({ cluster: 'a', backupCluster: 'b', existing: 'overwrite' })[0]).toContain('existing');
  });
});

describe('which backup point', () => {
  const p = (id: string) => ({ ...point(), id, time: `${id}.000Z`.replace('Z.000Z', '.000Z') });
  // Newest first, as readBackupPoints returns them.
  const points = [p('2026-11-30T02:00:00Z'), p('2026-11-29T02:00:00Z'), p('2026-11-28T02:00:00Z')];
  test('named; else the oldest taken at or after `at`; else the latest; none is a refusal', () => {
    expect(chooseBackupPoint(points, input({ backupPoint: '2026-11-28T02:00:00Z' })).id).toBe('2026-11-28T02:00:00Z');
    expect(chooseBackupPoint(points, input({ at: '2026-11-28T12:00:00Z' })).id).toBe('2026-11-29T02:00:00Z');
    expect(chooseBackupPoint(points, input({ at: '2026-12-01T00:00:00Z' })).id).toBe('2026-11-30T02:00:00Z');
    expect(chooseBackupPoint(points, input()).id).toBe('2026-11-30T02:00:00Z');
    expect(() => chooseBackupPoint(points, input({ backupPoint: 'nope' }))).toThrow('backupPoint: no backup point "nope" on bak');
    expect(() => chooseBackupPoint([], input())).toThrow('no backup point of prod on bak');
  });
});

describe('the copier choice', () => {
  const probes = (answers: Partial<Record<NativeCopierKind, NativeProbe>>) => {
    const asked: NativeCopierKind[] = [];
    const probe = async (kind: NativeCopierKind) => {
      asked.push(kind);
      return answers[kind] ?? { available: false, reason: 'not probed in this test' };
    };
    return { asked, probe };
  };
  const builds = { available: true, version: '1' } as const;
  const noCompression = { available: false, reason: 'the build failed: zstd.h: No such file' } as const;

  test('auto on PLAINTEXT clusters: the wire copier when the host builds it, without probing librdkafka', async () => {
    const { asked, probe } = probes({ wire: builds });
    expect(await chooseCopier('auto', { host: 'kafka-1', secured: [], probe })).toEqual({ kind: 'wire', why: 'wire copier v1 on kafka-1, chosen by copier: auto' });
    expect(asked).toEqual(['wire']);
  });

  test('auto: TLS or SASL on a side skips the wire copier without building it; a host without its headers falls to librdkafka; the reasons are named', async () => {
    const secured = probes({ wire: builds, librdkafka: { available: true, version: '2.0.2' } });
    expect(await chooseCopier('auto', { host: 'kafka-1', secured: ['prod'], probe: secured.probe })).toEqual({ kind: 'librdkafka', why: 'librdkafka 2.0.2 on kafka-1, chosen by copier: auto (not wire: prod uses TLS or SASL)' });
    expect(secured.asked).toEqual(['librdkafka']);
    const headers = probes({ wire: noCompression, librdkafka: { available: true, version: '2.0.2' } });
    expect((await chooseCopier('auto', { host: 'kafka-1', secured: [], probe: headers.probe })).why).toBe('librdkafka 2.0.2 on kafka-1, chosen by copier: auto (not wire: the build failed: zstd.h: No such file)');
    const neither = probes({ wire: noCompression, librdkafka: { available: false, reason: 'no C compiler (cc) on the host' } });
    expect(await chooseCopier('auto', { host: 'kafka-1', secured: [], probe: neither.probe })).toEqual({
      kind: 'java',
      why: 'copier: auto, and neither C copier can run on kafka-1: wire: the build failed: zstd.h: No such file; librdkafka: no C compiler (cc) on the host',
    });
  });

  test('copier: wire is refused at the plan on a TLS or SASL cluster, and on a host that cannot build it, naming the field and what to do', async () => {
    const { asked, probe } = probes({ wire: builds });
    await expect(chooseCopier('wire', { host: 'kafka-1', secured: ['bak', 'prod'], probe })).rejects.toMatchObject({
      type: 'InvalidInput',
      message: 'copier: wire speaks PLAINTEXT only, and bak and prod use TLS or SASL; set copier to librdkafka, java or auto',
    });
    expect(asked).toEqual([]);
    await expect(chooseCopier('wire', { host: 'kafka-1', secured: [], probe: probes({ wire: noCompression }).probe })).rejects.toMatchObject({
      type: 'InvalidInput',
      message: expect.stringMatching(/^copier: wire cannot run on copy host kafka-1: the build failed: zstd\.h: No such file\. Install .*\(Debian: gcc zlib1g-dev liblz4-dev libzstd-dev libsnappy-dev\)/),
    });
  });

  test('copier: java asks the host nothing; copier: librdkafka never tries the wire copier', async () => {
    const java = probes({});
    expect(await chooseCopier('java', { host: 'kafka-1', secured: [], probe: java.probe })).toEqual({ kind: 'java', why: 'copier: java' });
    expect(java.asked).toEqual([]);
    const rd = probes({ wire: builds, librdkafka: { available: true, version: '2.3.0' } });
    expect(await chooseCopier('librdkafka', { host: 'kafka-1', secured: [], probe: rd.probe })).toEqual({ kind: 'librdkafka', why: 'librdkafka 2.3.0 on kafka-1' });
    expect(rd.asked).toEqual(['librdkafka']);
  });
});
