import { FailureType } from '../../../src/errors';
import type { ReplicaMove } from '../../../src/reassignment';
import {
  type ConfigAlteration,
  type EntityThrottleConfigs,
  ThrottleConfigName,
  batchThrottle,
  mergeThrottledReplicas,
  parseThrottledReplicas,
  throttleRestore,
  throttledBrokers,
  throttledReplicas,
} from '../../../src/reassignment-exec';

const { LeaderReplicas, FollowerReplicas, LeaderRate, FollowerRate } = ThrottleConfigName;

function move(topic: string, partition: number, from: number[], to: number[]): ReplicaMove {
  return { topic, partition, from, to, addingReplicas: to.filter((b) => !from.includes(b)), removingReplicas: from.filter((b) => !to.includes(b)), bytes: null };
}

const topic = (name: string, configs: Record<string, string> = {}): EntityThrottleConfigs => ({
  entityType: 'topics',
  entityName: name,
  configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
});
const broker = (id: number, configs: Record<string, string> = {}): EntityThrottleConfigs => ({
  entityType: 'brokers',
  entityName: String(id),
  configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
});

/**
 * A cluster's dynamic configs, changed only the way kafka-configs.sh --add-config/--delete-config change them:
 * proves that what the helpers produce, applied incrementally, leaves everything else alone.
 */
class DynamicConfigs {
  readonly state = new Map<string, Map<string, string>>();
  constructor(initial: Record<string, Record<string, string>>) {
    for (const [entity, configs] of Object.entries(initial)) this.state.set(entity, new Map(Object.entries(configs)));
  }
  apply(alterations: ConfigAlteration[]): this {
    for (const a of alterations) {
      const key = `${a.entityType}:${a.entityName}`;
      const configs = this.state.get(key) ?? new Map<string, string>();
      this.state.set(key, configs);
      for (const s of a.set) configs.set(s.name, s.value);
      for (const d of a.delete) configs.delete(d);
    }
    return this;
  }
  snapshot(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [entity, configs] of [...this.state].sort()) if (configs.size > 0) out[entity] = Object.fromEntries([...configs].sort());
    return out;
  }
  /** What readThrottleConfigs would return for these entities. */
  throttleConfigs(entities: string[]): EntityThrottleConfigs[] {
    return entities.map((e) => {
      const [entityType, entityName] = e.split(':') as ['topics' | 'brokers', string];
      const configs = [...(this.state.get(e) ?? new Map<string, string>())].filter(([n]) => n.includes('.replication.throttled.')).map(([name, value]) => ({ name, value }));
      return { entityType, entityName, configs };
    });
  }
}

describe('mergeThrottledReplicas', () => {
  test('no existing value: ours alone', () => {
    expect(mergeThrottledReplicas(null, ['0:1', '1:2'])).toBe('0:1,1:2');
    expect(mergeThrottledReplicas('', ['0:1'])).toBe('0:1');
  });

  test("an existing '*' already throttles every replica: nothing to set", () => {
    expect(mergeThrottledReplicas('*', ['0:1', '1:2'])).toBeNull();
    expect(mergeThrottledReplicas(' * ', ['0:1'])).toBeNull();
  });

  test('an existing list keeps every entry, in its order, with ours appended once', () => {
    expect(mergeThrottledReplicas('5:9,0:1', ['0:1', '0:2', '0:2'])).toBe('5:9,0:1,0:2');
    expect(mergeThrottledReplicas('7:3, 8:3', ['0:1'])).toBe('7:3,8:3,0:1');
  });

  test('nothing to set when the list already holds all of ours, or we have none', () => {
    expect(mergeThrottledReplicas('0:1,0:2,3:3', ['0:2', '0:1'])).toBeNull();
    expect(mergeThrottledReplicas('0:1', [])).toBeNull();
  });

  test('parseThrottledReplicas drops blanks and spaces', () => {
    expect(parseThrottledReplicas(' 0:1 ,, 1:2 ')).toEqual(['0:1', '1:2']);
    expect(parseThrottledReplicas(null)).toEqual([]);
  });
});

describe('what a batch throttles', () => {
  test('leader side: every current replica; follower side: every new one; rates: every source and destination', () => {
    const moves = [move('orders', 1, [2], [2, 3, 1]), move('orders', 0, [1, 4], [1, 2]), move('audit', 0, [3], [3])];
    expect(throttledReplicas(moves)).toEqual([{ topic: 'orders', leader: ['0:1', '0:4', '1:2'], follower: ['0:2', '1:1', '1:3'] }]);
    // audit-0 copies nothing: its broker 3 is here only as orders-1's destination; broker 4 is a source of orders-0.
    expect(throttledBrokers(moves)).toEqual([1, 2, 3, 4]);
  });

  test('a move that only drops a replica is not throttled at all', () => {
    const t = batchThrottle([move('t', 0, [1, 2, 3], [1, 2])], [], 1000);
    expect(t).toEqual({ rateBytesPerSec: 1000, brokers: [], topics: [], alterations: [] });
  });
});

describe('batchThrottle', () => {
  const rf1to3 = [move('t', 0, [1], [1, 2, 3]), move('t', 1, [2], [2, 3, 1])];

  test('nothing set before: replica lists and rates as kafka-reassign-partitions.sh would set them, topics first', () => {
    const originals = [topic('t'), broker(1), broker(2), broker(3)];
    const t = batchThrottle(rf1to3, originals, 10_000);
    expect(t.brokers).toEqual([1, 2, 3]);
    expect(t.topics).toEqual(['t']);
    expect(t.alterations).toEqual([
      { entityType: 'topics', entityName: 't', delete: [], set: [{ name: LeaderReplicas, value: '0:1,1:2' }, { name: FollowerReplicas, value: '0:2,0:3,1:1,1:3' }] },
      ...[1, 2, 3].map((b) => ({ entityType: 'brokers', entityName: String(b), delete: [], set: [{ name: LeaderRate, value: '10000' }, { name: FollowerRate, value: '10000' }] })),
    ]);
  });

  test("merges with '*' and with an existing list; unrelated entries stay", () => {
    const originals = [topic('t', { [LeaderReplicas]: '*', [FollowerReplicas]: '7:9' }), broker(1), broker(2), broker(3)];
    const t = batchThrottle(rf1to3, originals, 10_000);
    expect(t.alterations[0]).toEqual({ entityType: 'topics', entityName: 't', delete: [], set: [{ name: FollowerReplicas, value: '7:9,0:2,0:3,1:1,1:3' }] });
  });

  test('an existing rate is replaced for the run, and not set again when it already is ours', () => {
    const originals = [topic('t'), broker(1, { [LeaderRate]: '500', [FollowerRate]: '10000' }), broker(2), broker(3)];
    const t = batchThrottle(rf1to3, originals, 10_000);
    expect(t.alterations.find((a) => a.entityName === '1')).toEqual({ entityType: 'brokers', entityName: '1', delete: [], set: [{ name: LeaderRate, value: '10000' }] });
  });

  test('an offline broker gets no rate: it cannot be configured and replicates nothing', () => {
    const originals = [topic('t'), broker(1), broker(2), { ...broker(3), offline: true }];
    const t = batchThrottle(rf1to3, originals, 1000);
    expect(t.brokers).toEqual([1, 2]);
    expect(t.alterations.map((a) => `${a.entityType}:${a.entityName}`)).toEqual(['topics:t', 'brokers:1', 'brokers:2']);
  });

  test('refuses to build a throttle it could not undo: an entity without originals, or a bad rate', () => {
    expect(() => batchThrottle(rf1to3, [topic('t'), broker(1), broker(2)], 1000)).toThrow(/broker 3: read them with readThrottleConfigs/);
    expect(() => batchThrottle(rf1to3, [broker(1), broker(2), broker(3)], 1000)).toThrow(expect.objectContaining({ type: FailureType.InvalidInput }));
    for (const rate of [0, -5, 1.5, Number.NaN]) expect(() => batchThrottle(rf1to3, [topic('t'), broker(1), broker(2), broker(3)], rate)).toThrow(/positive integer/);
  });
});

describe('throttleRestore', () => {
  test('sets originals back, deletes what was not set before, and leaves alone what no batch set', () => {
    const originals = [topic('t', { [LeaderReplicas]: '*', [FollowerReplicas]: '7:9' }), broker(1, { [LeaderRate]: '500' }), broker(2), broker(3)];
    const applied = batchThrottle([move('t', 0, [1], [1, 2, 3]), move('t', 1, [2], [2, 3, 1])], originals, 10_000);
    expect(throttleRestore(originals, [applied]).alterations).toEqual([
      // '*' was never set by us: not touched.
      { entityType: 'topics', entityName: 't', set: [{ name: FollowerReplicas, value: '7:9' }], delete: [] },
      { entityType: 'brokers', entityName: '1', set: [{ name: LeaderRate, value: '500' }], delete: [FollowerRate] },
      { entityType: 'brokers', entityName: '2', set: [], delete: [FollowerRate, LeaderRate] },
      { entityType: 'brokers', entityName: '3', set: [], delete: [FollowerRate, LeaderRate] },
    ]);
    expect(throttleRestore(originals, []).alterations).toEqual([]);
  });

  test('with keep: between batches, only what the previous batch set and the next does not is undone', () => {
    const originals = [topic('a'), topic('b'), broker(1), broker(2), broker(3), broker(4)];
    const first = batchThrottle([move('a', 0, [1], [1, 2]), move('b', 0, [3], [3, 4])], originals, 1000);
    const second = batchThrottle([move('a', 1, [2], [2, 1])], originals, 1000);
    expect(throttleRestore(originals, [first], second).alterations).toEqual([
      { entityType: 'topics', entityName: 'b', set: [], delete: [FollowerReplicas, LeaderReplicas] },
      { entityType: 'brokers', entityName: '3', set: [], delete: [FollowerRate, LeaderRate] },
      { entityType: 'brokers', entityName: '4', set: [], delete: [FollowerRate, LeaderRate] },
    ]);
  });

  test('apply, move on to the next batch, restore: the cluster ends exactly as it began, unrelated configs included', () => {
    const cluster = new DynamicConfigs({
      'topics:a': { 'retention.ms': '3600000', [LeaderReplicas]: '9:9' },
      'topics:b': { [FollowerReplicas]: '*', 'cleanup.policy': 'compact' },
      'brokers:1': { 'log.cleaner.threads': '2', [FollowerRate]: '777' },
      'brokers:2': {},
    });
    const before = cluster.snapshot();
    const originals = cluster.throttleConfigs(['topics:a', 'topics:b', 'brokers:1', 'brokers:2', 'brokers:3', 'brokers:4']);
    const batches = [
      batchThrottle([move('a', 0, [1], [1, 2]), move('b', 0, [3], [3, 4])], originals, 1000),
      batchThrottle([move('a', 1, [2], [2, 3]), move('a', 2, [4], [4, 1])], originals, 2000),
      batchThrottle([move('b', 1, [1, 2], [3, 4])], originals, 2000),
    ];
    const applied = [];
    for (const [i, b] of batches.entries()) {
      cluster.apply(b.alterations);
      if (i > 0) cluster.apply(throttleRestore(originals, applied, b).alterations);
      applied.push(b);
      // While a batch runs, its throttles are all in force.
      for (const a of b.alterations) for (const s of a.set) expect(cluster.state.get(`${a.entityType}:${a.entityName}`)?.get(s.name)).toBe(s.value);
    }
    expect(cluster.snapshot()['topics:a']).toMatchObject({ 'retention.ms': '3600000' });
    expect(cluster.snapshot()['brokers:1']).toMatchObject({ 'log.cleaner.threads': '2' });
    expect(cluster.snapshot()['topics:b']?.[FollowerReplicas]).toBe('*');

    const restore = throttleRestore(originals, applied);
    cluster.apply(restore.alterations);
    expect(cluster.snapshot()).toEqual(before);
    // Restoring twice is harmless: the second pass sets the same originals and deletes what is already gone.
    cluster.apply(restore.alterations);
    expect(cluster.snapshot()).toEqual(before);
  });
});
