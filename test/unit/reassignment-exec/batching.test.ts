import { FailureType } from '../../../src/errors';
import { type ReplicaMove, planReassignment } from '../../../src/reassignment';
import { type MoveStep, type ReassignmentBatch, batchAssignments, batchMoves, brokersCounted, leaderChangeBatches, splitMove } from '../../../src/reassignment-exec';

function move(topic: string, partition: number, from: number[], to: number[], bytes: number | null = null): ReplicaMove {
  return { topic, partition, from, to, addingReplicas: to.filter((b) => !from.includes(b)), removingReplicas: from.filter((b) => !to.includes(b)), bytes };
}

/** Recounts each batch's load from its moves alone, so a bookkeeping bug cannot hide behind movesPerBroker. */
function recount(batch: ReassignmentBatch): Map<number, number> {
  const load = new Map<number, number>();
  for (const m of batch.moves) for (const b of new Set([m.sourceLeader, ...m.to.filter((x) => !m.from.includes(x))])) load.set(b, (load.get(b) ?? 0) + 1);
  return load;
}

function stepsOf(batches: ReassignmentBatch[], topic: string, partition: number): (MoveStep & { batch: number })[] {
  return batches.flatMap((b) => b.moves.filter((m) => m.topic === topic && m.partition === partition).map((m) => ({ ...m, batch: b.index })));
}

/** Every structural promise of a batching, checked from scratch. */
function expectValidBatches(moves: ReplicaMove[], batches: ReassignmentBatch[], maxPerBroker: number, maxPerCluster: number): void {
  const problems: string[] = [];
  batches.forEach((b, i) => {
    if (b.index !== i) problems.push(`batch ${i} has index ${b.index}`);
    if (b.moves.length === 0) problems.push(`batch ${i} is empty`);
    if (b.moves.length > maxPerCluster) problems.push(`batch ${i} has ${b.moves.length} moves > ${maxPerCluster}`);
    const load = recount(b);
    for (const [broker, n] of load) if (n > maxPerBroker) problems.push(`batch ${i}: broker ${broker} has ${n} moves > ${maxPerBroker}`);
    const reported = Object.entries(b.movesPerBroker).map(([k, v]) => [Number(k), v]);
    const expected = [...load].sort((x, y) => x[0] - y[0]);
    if (JSON.stringify(reported) !== JSON.stringify(expected)) problems.push(`batch ${i}: movesPerBroker ${JSON.stringify(reported)} != ${JSON.stringify(expected)}`);
    const keys = b.moves.map((m) => `${m.topic}/${m.partition}`);
    if (new Set(keys).size !== keys.length) problems.push(`batch ${i}: a partition twice`);
  });
  for (const m of moves) {
    const steps = stepsOf(batches, m.topic, m.partition);
    if (steps.length === 0) {
      problems.push(`${m.topic}-${m.partition} never submitted`);
      continue;
    }
    if (JSON.stringify(steps[0]?.from) !== JSON.stringify(m.from)) problems.push(`${m.topic}-${m.partition}: first step does not start from the current replicas`);
    if (JSON.stringify(steps[steps.length - 1]?.to) !== JSON.stringify(m.to)) problems.push(`${m.topic}-${m.partition}: last step does not end at the target`);
    steps.forEach((s, k) => {
      if (s.step !== k + 1 || s.steps !== steps.length) problems.push(`${m.topic}-${m.partition}: step numbering ${s.step}/${s.steps}`);
      const prev = steps[k - 1];
      if (prev && (prev.batch >= s.batch || JSON.stringify(prev.to) !== JSON.stringify(s.from))) problems.push(`${m.topic}-${m.partition}: step ${k + 1} does not follow step ${k}`);
    });
  }
  expect(problems).toEqual([]);
}

describe('batchMoves', () => {
  test('no broker takes more than maxMovesPerBroker: twelve copies onto one new broker go 5, 5, 2', () => {
    const moves = Array.from({ length: 12 }, (_, p) => move('t', p, [(p % 3) + 1], [(p % 3) + 1, 4]));
    const batches = batchMoves(moves);
    expect(batches.map((b) => b.moves.length)).toEqual([5, 5, 2]);
    expect(batches.map((b) => b.movesPerBroker[4])).toEqual([5, 5, 2]);
    expectValidBatches(moves, batches, 5, 1250);
  });

  test('maxMovesPerCluster caps a batch even when every broker has room', () => {
    const moves = Array.from({ length: 7 }, (_, p) => move('t', p, [p + 1], [p + 100]));
    const batches = batchMoves(moves, { maxMovesPerCluster: 3 });
    expect(batches.map((b) => b.moves.map((m) => m.partition))).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expectValidBatches(moves, batches, 5, 3);
  });

  test('a move counts against the current leader, not against the first listed replica, nor brokers that only lose a replica', () => {
    // Both partitions list broker 1 first, but broker 2 leads both: with one move per broker they cannot share a batch.
    const moves = [move('t', 0, [1, 2], [1, 2, 3]), move('t', 1, [1, 2], [1, 2, 4])];
    const leaders = [
      { topic: 't', partition: 0, leader: 2 },
      { topic: 't', partition: 1, leader: 2 },
    ];
    const batches = batchMoves(moves, { maxMovesPerBroker: 1 }, leaders);
    expect(batches.map((b) => b.moves.map((m) => m.partition))).toEqual([[0], [1]]);
    expect(batches[0]?.movesPerBroker).toEqual({ 2: 1, 3: 1 });
    // Without leaders, from[0] leads; broker 2 is then free and only broker 1 is shared.
    expect(batchMoves(moves, { maxMovesPerBroker: 1 }).map((b) => b.moves.length)).toEqual([1, 1]);
    // Broker 5 only loses a replica: never counted, so these two fit one batch at one move per broker.
    const removals = [move('u', 0, [1, 5], [1, 6]), move('u', 1, [2, 5], [2, 7])];
    const together = batchMoves(removals, { maxMovesPerBroker: 1 });
    expect(together).toHaveLength(1);
    expect(Object.keys(together[0]?.movesPerBroker ?? {})).not.toContain('5');
  });

  test('first fit: a move blocked by a busy broker does not hold back later moves elsewhere', () => {
    const moves = [move('a', 0, [1], [1, 9]), move('a', 1, [2], [2, 9]), move('b', 0, [3], [3, 8])];
    const batches = batchMoves(moves, { maxMovesPerBroker: 1 });
    expect(batches.map((b) => b.moves.map((m) => `${m.topic}-${m.partition}`))).toEqual([['a-0', 'b-0'], ['a-1']]);
  });

  test('deterministic whatever the input order, and the input is not mutated', () => {
    const moves = Array.from({ length: 30 }, (_, p) => move(p % 2 ? 'odd' : 'even', p, [(p % 4) + 1, ((p + 1) % 4) + 1], [(p % 4) + 1, ((p + 2) % 4) + 1, 5]));
    const snapshot = JSON.stringify(moves);
    const a = batchMoves(moves, { maxMovesPerBroker: 3, oneNewReplicaAtATime: true });
    const b = batchMoves([...moves].reverse(), { maxMovesPerBroker: 3, oneNewReplicaAtATime: true });
    expect(b).toEqual(a);
    expect(JSON.stringify(moves)).toBe(snapshot);
    expectValidBatches(moves, a, 3, 1250);
  });

  test('bytes per batch: the sum of its moves, null when any size is unknown', () => {
    const batches = batchMoves([move('t', 0, [1], [1, 2], 100), move('t', 1, [1], [1, 3], 50)]);
    expect(batches[0]?.bytes).toBe(150);
    expect(batchMoves([move('t', 0, [1], [1, 2], 100), move('t', 1, [1], [1, 3], null)])[0]?.bytes).toBeNull();
  });

  test('refuses limits below 1 and a partition moved twice, as non-retryable bad input', () => {
    const moves = [move('t', 0, [1], [2])];
    for (const limits of [{ maxMovesPerBroker: 0 }, { maxMovesPerCluster: -1 }, { maxMovesPerBroker: 1.5 }]) {
      expect(() => batchMoves(moves, limits)).toThrow(expect.objectContaining({ type: FailureType.InvalidInput, nonRetryable: true }));
    }
    expect(() => batchMoves([...moves, move('t', 0, [1], [3])])).toThrow(/t-0 is moved twice/);
    expect(() => batchMoves([move('t', 0, [1], [2, 2])])).toThrow(/must be non-empty and distinct/);
  });

  test('random plans: limits, order and completeness hold for every combination of limits', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const brokers = 3 + rand(6);
      const moves: ReplicaMove[] = [];
      for (let p = 0; p < 1 + rand(40); p++) {
        const ids = Array.from({ length: brokers }, (_, i) => i + 1).sort(() => rand(3) - 1);
        const rfFrom = 1 + rand(3);
        const rfTo = 1 + rand(3);
        const from = ids.slice(0, rfFrom);
        const to = [...ids.slice(rand(2), rand(2) + rfTo)];
        if (to.length === 0 || JSON.stringify(from) === JSON.stringify(to)) continue;
        moves.push(move(`t${rand(3)}`, p, from, to, rand(2) ? 1000 * (1 + rand(5)) : null));
      }
      const maxPerBroker = 1 + rand(5);
      const maxPerCluster = 1 + rand(20);
      const one = rand(2) === 1;
      const batches = batchMoves(moves, { maxMovesPerBroker: maxPerBroker, maxMovesPerCluster: maxPerCluster, oneNewReplicaAtATime: one });
      expectValidBatches(moves, batches, maxPerBroker, maxPerCluster);
      if (one) for (const b of batches) for (const s of b.moves) expect(s.addingReplicas.length).toBeLessThanOrEqual(1);
    }
  });
});

describe('splitMove (one new replica at a time)', () => {
  test('RF 1 -> 3 becomes two steps, each copying the partition once, in successive batches', () => {
    const steps = splitMove(move('t', 0, [1], [1, 2, 3], 2000));
    expect(steps.map((s) => [s.from, s.to, s.addingReplicas, s.removingReplicas, s.bytes])).toEqual([
      [[1], [1, 2], [2], [], 1000],
      [[1, 2], [1, 2, 3], [3], [], 1000],
    ]);
    const batches = batchMoves([move('t', 0, [1], [1, 2, 3], 2000)], { oneNewReplicaAtATime: true });
    expect(batches.map((b) => batchAssignments(b))).toEqual([[{ topic: 't', partition: 0, replicas: [1, 2] }], [{ topic: 't', partition: 0, replicas: [1, 2, 3] }]]);
  });

  test('a full replacement keeps the leader until the last step and never drops below three replicas', () => {
    const steps = splitMove(move('t', 0, [1, 2, 3], [4, 5, 6]), 1);
    expect(steps.map((s) => s.to)).toEqual([
      [1, 3, 4],
      [1, 4, 5],
      [4, 5, 6],
    ]);
    expect(steps.map((s) => s.removingReplicas)).toEqual([[2], [3], [1]]);
    expect(steps.map((s) => s.sourceLeader)).toEqual([1, 1, 1]);
  });

  test('when another replica leads, it is the one kept until the end', () => {
    const steps = splitMove(move('t', 0, [1, 2], [3, 4]), 2);
    expect(steps.map((s) => s.to)).toEqual([
      [2, 3],
      [3, 4],
    ]);
    expect(steps.map((s) => s.sourceLeader)).toEqual([2, 2]);
  });

  test('a follower leaving is paired with the first copy; the leader leaves only in the final step', () => {
    const growing = splitMove(move('t', 0, [1, 2], [2, 3, 4, 5]), 2);
    expect(growing.map((s) => [s.to, s.removingReplicas, s.sourceLeader])).toEqual([
      [[2, 3], [1], 2],
      [[2, 3, 4], [], 2],
      [[2, 3, 4, 5], [], 2],
    ]);
    const leaderLeaves = splitMove(move('t', 1, [1], [2, 3]), 1);
    expect(leaderLeaves.map((s) => [s.from, s.to, s.sourceLeader])).toEqual([
      [[1], [1, 2], 1],
      [[1, 2], [2, 3], 1],
    ]);
  });

  test('moves adding at most one replica, or removing only, stay single steps', () => {
    expect(splitMove(move('t', 0, [1, 2], [1, 3]))).toHaveLength(1);
    const shrink = splitMove(move('t', 0, [1, 2, 3], [1, 2]));
    expect(shrink).toHaveLength(1);
    expect(brokersCounted(shrink[0] as MoveStep)).toEqual([1]);
  });
});

describe('with the planner', () => {
  test('an RF 1 -> 3 plan of six partitions, one new replica at a time, two moves per broker', () => {
    const partitions = Array.from({ length: 6 }, (_, p) => ({ topic: 'orders', partition: p, replicas: [(p % 3) + 1], isr: [(p % 3) + 1] }));
    const plan = planReassignment({
      partitions,
      brokers: [1, 2, 3].map((id) => ({ id, rack: null })),
      goal: { kind: 'setReplicationFactor', topic: 'orders', replicationFactor: 3 },
    });
    const batches = batchMoves(plan.moves, { maxMovesPerBroker: 2, oneNewReplicaAtATime: true });
    expectValidBatches(plan.moves, batches, 2, 1250);
    // 12 copies; each needs a slot on its source and its destination: at most 3 brokers x 2 slots / 2 per copy = 3 per batch.
    expect(batches.flatMap((b) => b.moves)).toHaveLength(12);
    expect(Math.max(...batches.map((b) => b.moves.length))).toBeLessThanOrEqual(3);
  });
});

describe('leaderChangeBatches', () => {
  test('chunks phase 2 reorders, sorted, at most maxPerBatch each', () => {
    const changes = [3, 1, 2, 0, 4].map((p) => ({ topic: 't', partition: p, from: [1, 2], to: [2, 1], leaderBefore: 1, leaderAfter: 2 }));
    const chunks = leaderChangeBatches(changes, 2);
    expect(chunks.map((c) => c.map((a) => a.partition))).toEqual([[0, 1], [2, 3], [4]]);
    expect(chunks[0]?.[0]).toEqual({ topic: 't', partition: 0, replicas: [2, 1] });
    expect(leaderChangeBatches([], 10)).toEqual([]);
    expect(() => leaderChangeBatches(changes, 0)).toThrow(/at least 1/);
  });
});
