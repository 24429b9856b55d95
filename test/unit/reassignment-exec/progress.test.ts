import type { ReplicaMove } from '../../../src/reassignment';
import { type PartitionObservation, describeProgress, formatDuration, reassignmentProgress } from '../../../src/reassignment-exec';

function move(partition: number, from: number[], to: number[], bytes: number | null): ReplicaMove {
  return { topic: 't', partition, from, to, addingReplicas: to.filter((b) => !from.includes(b)), removingReplicas: from.filter((b) => !to.includes(b)), bytes };
}

function obs(partition: number, o: Partial<PartitionObservation> & { replicas: number[]; isr: number[] }): PartitionObservation {
  return { topic: 't', partition, leader: o.isr[0] ?? -1, reassigning: false, addingReplicas: [], removingReplicas: [], ...o };
}

const MiB = 1024 * 1024;
// RF 1 -> 3 for two partitions of 10 MiB each: 4 new replicas, 40 MiB to copy.
const moves = [move(0, [1], [1, 2, 3], 20 * MiB), move(1, [2], [2, 3, 1], 20 * MiB)];

describe('reassignmentProgress', () => {
  test('at submit: nothing copied, every partition copying; with a throttle the busiest broker bounds the ETA', () => {
    const p = reassignmentProgress(
      moves,
      {
        atMs: 1000,
        partitions: [
          obs(0, { replicas: [1, 2, 3], isr: [1], reassigning: true, addingReplicas: [2, 3] }),
          obs(1, { replicas: [2, 3, 1], isr: [2], reassigning: true, addingReplicas: [3, 1] }),
        ],
      },
      { throttleRateBytesPerSec: MiB },
    );
    expect(p).toMatchObject({ partitionsTotal: 2, partitionsDone: 0, partitionsRemaining: 2, replicasToCopy: 4, replicasCopied: 0, bytesTotal: 40 * MiB, bytesCopied: 0, done: false, stuck: false });
    expect(p.pending.map((x) => [x.partition, x.state, x.waitingFor])).toEqual([
      [0, 'copying', [2, 3]],
      [1, 'copying', [3, 1]],
    ]);
    // Broker 3 receives 20 MiB (one replica of each); brokers 1 and 2 each send 20 MiB as leaders: 20 s at 1 MiB/s.
    expect(p.etaMs).toBe(20_000);
  });

  test('a new replica counts as copied once it is in the ISR; partial copies count when observed', () => {
    const snapshot = {
      atMs: 11_000,
      partitions: [
        obs(0, { replicas: [1, 2, 3], isr: [1, 2], reassigning: true, addingReplicas: [2, 3] }),
        obs(1, { replicas: [2, 3, 1], isr: [2], reassigning: true, addingReplicas: [3, 1] }),
      ],
    };
    const p = reassignmentProgress(moves, snapshot, { replicaBytes: [{ topic: 't', partition: 1, broker: 3, bytes: 4 * MiB }] });
    expect(p.replicasCopied).toBe(1);
    expect(p.bytesCopied).toBe(14 * MiB);
    // No throttle and no baseline: nothing to estimate a speed from.
    expect(p.etaMs).toBeNull();
    // With the start as baseline: 14 MiB in 10 s, 26 MiB left -> 18.6 s.
    const withBaseline = reassignmentProgress(moves, snapshot, { baseline: { atMs: 1000, bytesCopied: 0 }, replicaBytes: [{ topic: 't', partition: 1, broker: 3, bytes: 4 * MiB }] });
    expect(withBaseline.etaMs).toBe(Math.round((26 / 14) * 10_000));
    // A partial size above the replica's size (segments not yet cleaned) is capped.
    expect(reassignmentProgress(moves, snapshot, { replicaBytes: [{ topic: 't', partition: 1, broker: 3, bytes: 50 * MiB }] }).bytesCopied).toBe(20 * MiB);
  });

  test('throttle bound and measured speed: the ETA is the larger', () => {
    const snapshot = { atMs: 2000, partitions: [obs(0, { replicas: [1, 2, 3], isr: [1, 2], reassigning: true }), obs(1, { replicas: [2, 3, 1], isr: [2], reassigning: true })] };
    // 10 MiB in 1 s measured -> 30 MiB left = 3 s; throttle at 1 MiB/s: broker 3 still receives 20 MiB = 20 s.
    const p = reassignmentProgress(moves, snapshot, { throttleRateBytesPerSec: MiB, baseline: { atMs: 1000, bytesCopied: 0 } });
    expect(p.etaMs).toBe(20_000);
  });

  test('done: not listed, replica set is the target, every target in the ISR; order does not matter', () => {
    const p = reassignmentProgress(moves, { atMs: 5, partitions: [obs(0, { replicas: [1, 2, 3], isr: [3, 2, 1] }), obs(1, { replicas: [1, 2, 3], isr: [1, 2, 3] })] });
    expect(p).toMatchObject({ partitionsDone: 2, partitionsRemaining: 0, replicasCopied: 4, bytesCopied: 40 * MiB, etaMs: 0, done: true, stuck: false, pending: [] });
  });

  test('catching up: the move finished but a target replica dropped out of the ISR', () => {
    const p = reassignmentProgress(moves, { atMs: 5, partitions: [obs(0, { replicas: [1, 2, 3], isr: [1, 2] }), obs(1, { replicas: [2, 3, 1], isr: [1, 2, 3] })] });
    expect(p.done).toBe(false);
    expect(p.stuck).toBe(false);
    expect(p.pending).toEqual([{ topic: 't', partition: 0, state: 'catchingUp', target: [1, 2, 3], waitingFor: [3] }]);
  });

  test('stuck: a cancelled (or foreign-changed) partition and a deleted one never finish', () => {
    const p = reassignmentProgress(moves, { atMs: 5, partitions: [obs(0, { replicas: [1], isr: [1] })] });
    expect(p.stuck).toBe(true);
    expect(p.pending.map((x) => [x.partition, x.state])).toEqual([
      [0, 'diverged'],
      [1, 'missing'],
    ]);
    expect(describeProgress(p)).toContain('stuck: t-0 diverged, t-1 missing');
  });

  test('sizes unknown: partitions and replicas counted, bytes and ETA null', () => {
    const unknown = [move(0, [1], [1, 2], null), move(1, [2], [2, 3], 5)];
    const p = reassignmentProgress(unknown, { atMs: 5, partitions: [obs(0, { replicas: [1, 2], isr: [1, 2] }), obs(1, { replicas: [2, 3], isr: [2], reassigning: true })] }, { throttleRateBytesPerSec: 10 });
    expect(p).toMatchObject({ replicasToCopy: 2, replicasCopied: 1, partitionsDone: 1, bytesTotal: null, bytesCopied: null, etaMs: null });
  });

  test('pending is capped for heartbeats, the count is not', () => {
    const many = Array.from({ length: 120 }, (_, i) => move(i, [1], [1, 2], 1));
    const p = reassignmentProgress(many, { atMs: 0, partitions: [] }, { maxPendingListed: 10 });
    expect(p.partitionsRemaining).toBe(120);
    expect(p.pending).toHaveLength(10);
    expect(p.pending[0]?.partition).toBe(0);
  });

  test('describeProgress and formatDuration read well', () => {
    const p = reassignmentProgress(moves, { atMs: 0, partitions: [obs(0, { replicas: [1, 2, 3], isr: [1, 2, 3] }), obs(1, { replicas: [2, 3, 1], isr: [2], reassigning: true })] }, { throttleRateBytesPerSec: MiB });
    expect(describeProgress(p)).toBe('1/2 partitions done, 2/4 new replicas in sync, 20.0 MiB of 40.0 MiB copied, ETA 20s');
    expect([formatDuration(0), formatDuration(65_000), formatDuration(3_723_000)]).toEqual(['0s', '1m 05s', '1:02:03']);
  });
});
