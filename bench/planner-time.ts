/**
 * Planner timing and movement figures. Run: npx tsx bench/planner-time.ts
 * Prints planning time for large clusters and replicas moved vs the lower bound for small ones.
 */
import { type ReassignmentGoal, type ReassignmentPlan, planReassignment } from '../src/reassignment';
import { type ClusterSpec, generateCluster } from '../test/unit/reassignment/generate';


function spreadOf(counts: Record<number, number>): string {
  const values = Object.values(counts).filter((v) => v > 0);
  return `${Math.min(...values)}..${Math.max(...values)}`;
}

function report(label: string, spec: ClusterSpec, goal: (newIds: number[]) => ReassignmentGoal, runs = 1): void {
  const cluster = generateCluster(spec);
  const input = { brokers: cluster.brokers, partitions: cluster.partitions, partitionSizes: cluster.partitionSizes, goal: goal(cluster.newBrokerIds) };
  const times: number[] = [];
  let last: ReassignmentPlan | null = null;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    last = planReassignment(input);
    times.push(performance.now() - start);
  }
  if (!last) return;
  const s = last.stats;
  const replicas = spec.partitions * spec.replicationFactor;
  console.log(
    `${label.padEnd(44)} ${`${Math.min(...times).toFixed(0)} ms`.padStart(8)}  moved ${String(s.replicasMoved).padStart(6)} / lower bound ${String(s.lowerBound).padStart(6)}` +
      ` = ${s.movesOverLowerBound.toFixed(3)} (${((100 * s.replicasMoved) / replicas).toFixed(1)}% of replicas)` +
      `  replicas/broker ${spreadOf(s.replicasPerBroker.after)}  leaders/broker ${spreadOf(s.leadersPerBroker.after)}` +
      `  rack violations ${s.rackViolations.before}->${s.rackViolations.after}` +
      (spec.emptyBrokers ? `  (T*k/(n+k) = ${((replicas * spec.emptyBrokers) / (spec.brokers + spec.emptyBrokers)).toFixed(1)})` : ''),
  );
}

const add = (ids: number[]): ReassignmentGoal => ({ kind: 'addBrokers', brokerIds: ids });
const remove =
  (...ids: number[]): (() => ReassignmentGoal) =>
  () => ({ kind: 'removeBrokers', brokerIds: ids });

console.log('Large clusters: 100,000 partitions, RF 3, 100 topics (best of 3 runs)');
const large = { partitions: 100_000, replicationFactor: 3, topics: 100, seed: 42 };
report('add 1 to 99 (100 brokers)', { ...large, brokers: 99, emptyBrokers: 1 }, add, 3);
report('add 10 to 90 (100 brokers)', { ...large, brokers: 90, emptyBrokers: 10 }, add, 3);
report('add 50 to 50 (100 brokers)', { ...large, brokers: 50, emptyBrokers: 50 }, add, 3);
report('remove 1 of 100', { ...large, brokers: 100 }, remove(100), 3);
report('remove 10 of 100', { ...large, brokers: 100 }, remove(91, 92, 93, 94, 95, 96, 97, 98, 99, 100), 3);
report('add 10 to 90, 3 racks', { ...large, brokers: 90, emptyBrokers: 10, racks: 3 }, add, 3);
report('remove 1 of 100, 4 racks', { ...large, brokers: 100, racks: 4 }, remove(100), 3);
report('balance leaders, 100 brokers, uneven', { ...large, brokers: 100, uneven: true }, () => ({ kind: 'balanceLeaders' }), 3);

console.log('\nSmall clusters: 1,000 partitions, RF 3, 10 topics');
const small = { partitions: 1000, replicationFactor: 3, topics: 10, seed: 7 };
report('add 1 to 6', { ...small, brokers: 6, emptyBrokers: 1 }, add);
report('add 3 to 9', { ...small, brokers: 9, emptyBrokers: 3 }, add);
report('remove 1 of 6', { ...small, brokers: 6 }, remove(6));
report('remove 1 of 12', { ...small, brokers: 12 }, remove(12));
report('add 3 to 6, 3 racks', { ...small, brokers: 6, emptyBrokers: 3, racks: 3 }, add);
report('add 1 to 6, 3 racks (new rack-a broker)', { ...small, brokers: 6, emptyBrokers: 1, racks: 3 }, add);
report('remove 1 of 12, 3 racks', { ...small, brokers: 12, racks: 3 }, remove(12));
