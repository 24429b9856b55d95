/**
 * Independent checks of a plan against its input: recomputes everything the plan claims from the input and
 * the target alone, so a planner bug cannot hide behind its own bookkeeping.
 */
import type { PartitionPlacement, ReassignmentInput, ReassignmentPlan } from '../../../src/reassignment';

const key = (topic: string, partition: number): string => `${topic}/${partition}`;

export function currentLeader(p: PartitionPlacement): number {
  return p.leader !== undefined && p.leader >= 0 && p.replicas.includes(p.leader) ? p.leader : (p.replicas[0] as number);
}

export function countPerBroker(lists: number[][], ids: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const id of ids) counts[id] = 0;
  for (const list of lists) for (const b of list) counts[b] = (counts[b] ?? 0) + 1;
  return counts;
}

export function rackViolations(lists: number[][], rackOf: Map<number, string | null>, brokers: number[]): number {
  const racks = new Set(brokers.map((b) => rackOf.get(b) ?? null)).size;
  return lists.filter((r) => new Set(r.map((b) => rackOf.get(b) ?? null)).size < Math.min(r.length, racks)).length;
}

export function spread(counts: Record<number, number>, ids: number[]): number {
  const values = ids.map((id) => counts[id] ?? 0);
  return Math.max(...values) - Math.min(...values);
}

/**
 * Every structural promise of a plan. Problems are collected and compared with [] in one assertion, so a
 * failure lists all of them (and hundreds of random plans stay fast).
 */
export function expectValidPlan(input: ReassignmentInput, plan: ReassignmentPlan, options: { rfChanges?: boolean } = {}): void {
  expect(planProblems(input, plan, options)).toEqual([]);
}

const sorted = (list: number[]): number[] => [...list].sort((a, b) => a - b);
const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export function planProblems(input: ReassignmentInput, plan: ReassignmentPlan, options: { rfChanges?: boolean } = {}): string[] {
  const problems: string[] = [];
  const registered = new Set(input.brokers.map((b) => b.id));
  const current = new Map(input.partitions.map((p) => [key(p.topic, p.partition), p]));
  const targetByKey = new Map(plan.target.map((t) => [key(t.topic, t.partition), t.replicas]));

  // The target covers exactly the input's partitions, sorted.
  const expectedKeys = [...input.partitions]
    .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
    .map((p) => key(p.topic, p.partition));
  if (plan.target.map((t) => key(t.topic, t.partition)).join(' ') !== expectedKeys.join(' ')) problems.push('target does not list exactly the current partitions, sorted');

  for (const t of plan.target) {
    const k = key(t.topic, t.partition);
    const before = current.get(k) as PartitionPlacement;
    if (new Set(t.replicas).size !== t.replicas.length) problems.push(`${k}: a broker twice in [${t.replicas}]`);
    if (!options.rfChanges && t.replicas.length !== before.replicas.length) problems.push(`${k}: RF changed`);
    // A replica is on a registered broker, or it was already there (left in place).
    for (const b of t.replicas) if (!registered.has(b) && !before.replicas.includes(b)) problems.push(`${k}: new replica on unregistered broker ${b}`);
  }

  // Moves: from = current, to = target's set with the current leader first when it stays.
  const movesByKey = new Map(plan.moves.map((m) => [key(m.topic, m.partition), m]));
  let copies = 0;
  let deletions = 0;
  for (const m of plan.moves) {
    const k = key(m.topic, m.partition);
    const before = current.get(k) as PartitionPlacement;
    const after = targetByKey.get(k) as number[];
    if (!same(m.from, before.replicas)) problems.push(`${k}: move.from is not the current list`);
    if (!same(sorted(m.to), sorted(after))) problems.push(`${k}: move.to is not the target set`);
    if (!same(m.addingReplicas, after.filter((b) => !before.replicas.includes(b)))) problems.push(`${k}: addingReplicas wrong`);
    if (!same(m.removingReplicas, before.replicas.filter((b) => !after.includes(b)))) problems.push(`${k}: removingReplicas wrong`);
    if (m.addingReplicas.length + m.removingReplicas.length === 0) problems.push(`${k}: a move that moves nothing`);
    const leader = currentLeader(before);
    if (after.includes(leader) && m.to[0] !== leader) problems.push(`${k}: leader ${leader} stays but is not first while copying`);
    copies += m.addingReplicas.length;
    deletions += m.removingReplicas.length;
  }
  for (const [k, before] of current) {
    if (!movesByKey.has(k) && !same(sorted(targetByKey.get(k) ?? []), sorted(before.replicas))) problems.push(`${k}: replica set changed without a move`);
  }

  // Leader changes: a reorder of the same set, from the list phase 1 leaves to the target.
  const changesByKey = new Map(plan.leaderChanges.map((c) => [key(c.topic, c.partition), c]));
  for (const t of plan.target) {
    const k = key(t.topic, t.partition);
    const phase1 = movesByKey.get(k)?.to ?? (current.get(k) as PartitionPlacement).replicas;
    const change = changesByKey.get(k);
    if (!change) {
      if (!same(phase1, t.replicas)) problems.push(`${k}: target order differs from phase 1 but no leader change`);
      continue;
    }
    if (!same(change.from, phase1)) problems.push(`${k}: leader change does not start from the phase 1 list`);
    if (!same(change.to, t.replicas)) problems.push(`${k}: leader change does not end at the target`);
    if (change.leaderBefore !== change.from[0] || change.leaderAfter !== change.to[0]) problems.push(`${k}: leaderBefore/After wrong`);
  }

  // Stats agree with an independent count.
  const s = plan.stats;
  const ids = [...new Set([...registered, ...input.partitions.flatMap((p) => p.replicas)])].sort((a, b) => a - b);
  const beforeLists = input.partitions.map((p) => p.replicas);
  const afterLists = plan.target.map((t) => t.replicas);
  const check = (name: string, actual: unknown, expected: unknown): void => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`stats.${name}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
  check('partitions', s.partitions, input.partitions.length);
  check('partitionsMoved', s.partitionsMoved, plan.moves.length);
  check('replicasMoved', s.replicasMoved, copies);
  check('replicasRemoved', s.replicasRemoved, deletions);
  if (s.movesOverLowerBound !== (s.lowerBound === 0 ? (copies === 0 ? 1 : Number.POSITIVE_INFINITY) : copies / s.lowerBound)) problems.push('stats.movesOverLowerBound wrong');
  check('replicasPerBroker.before', s.replicasPerBroker.before, countPerBroker(beforeLists, ids));
  check('replicasPerBroker.after', s.replicasPerBroker.after, countPerBroker(afterLists, ids));
  check('leadersPerBroker.before', s.leadersPerBroker.before, countPerBroker(beforeLists.map((r) => r.slice(0, 1)), ids));
  check('leadersPerBroker.after', s.leadersPerBroker.after, countPerBroker(afterLists.map((r) => r.slice(0, 1)), ids));
  check('preferredLeaderChanges', s.preferredLeaderChanges, plan.target.filter((t) => t.replicas[0] !== (current.get(key(t.topic, t.partition)) as PartitionPlacement).replicas[0]).length);
  if (input.partitionSizes) {
    const size = new Map(input.partitionSizes.map((p) => [key(p.topic, p.partition), p.bytes]));
    const bytes = plan.moves.reduce((sum, m) => sum + (size.get(key(m.topic, m.partition)) ?? Number.NaN) * m.addingReplicas.length, 0);
    check('bytesMoved', s.bytesMoved, Number.isNaN(bytes) ? null : bytes);
  } else {
    check('bytesMoved', s.bytesMoved, null);
  }
  const rackOf = rackMap(input);
  if (input.brokers.some((b) => b.rack !== null)) {
    const removed = plan.goal.kind === 'removeBrokers' ? plan.goal.brokerIds : [];
    const registeredIds = [...registered];
    check('rackViolations.before', s.rackViolations.before, rackViolations(beforeLists, rackOf, registeredIds));
    check('rackViolations.after', s.rackViolations.after, rackViolations(afterLists, rackOf, registeredIds.filter((b) => !removed.includes(b))));
  } else {
    check('rackViolations', s.rackViolations, { before: 0, after: 0 });
  }
  return problems;
}

export function rackMap(input: ReassignmentInput): Map<number, string | null> {
  return new Map(input.brokers.map((b) => [b.id, b.rack]));
}

/** Partitions 0..n-1 of a topic from their replica lists, all replicas in sync. */
export function topicOf(topic: string, lists: number[][]): PartitionPlacement[] {
  return lists.map((replicas, partition) => ({ topic, partition, replicas, isr: [...replicas] }));
}

/** Brokers by id; racks by position when given. */
export function brokersOf(ids: number[], racks?: (string | null)[]): { id: number; rack: string | null }[] {
  return ids.map((id, i) => ({ id, rack: racks?.[i] ?? null }));
}
