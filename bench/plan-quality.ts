/**
 * Plan quality side by side with Kafka's own `kafka-reassign-partitions.sh --generate`.
 * Run: npx tsx bench/plan-quality.ts   (needs Java 17 and the Kafka 4.3.1 jars from scripts/setup.sh)
 *
 * For each scenario both planners get the same cluster metadata (1,000 partitions, RF 3, 10 topics, evenly
 * placed): ours through planReassignment, Kafka's through bench/KafkaGenerate.java, which runs the planner
 * --generate uses (ReassignPartitionsCommand.calculateAssignment) from the lab's jars. --generate is given
 * the broker list the operator would pass: every broker after the change.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { type ReassignmentGoal, planReassignment } from '../src/reassignment';
import { generateCluster } from '../test/unit/reassignment/generate';

const ROOT = resolve(__dirname, '..');
const KAFKA_LIBS = resolve(ROOT, '.tools/kafka/4.3.1/libs/*');

interface Assignment {
  topic: string;
  partition: number;
  replicas: number[];
}

function kafkaGenerate(partitions: Assignment[], brokers: { id: number; rack: string | null }[]): Assignment[] {
  const out = execFileSync('java', ['-cp', KAFKA_LIBS, resolve(ROOT, 'bench/KafkaGenerate.java')], {
    input: JSON.stringify({ partitions, brokers }),
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out.toString()) as { partitions: Assignment[] }).partitions;
}

const key = (a: { topic: string; partition: number }) => `${a.topic}/${a.partition}`;

/** Replicas placed on a broker that did not hold them before: the data copies a plan costs. */
function replicasMoved(before: Assignment[], after: Assignment[]): number {
  const old = new Map(before.map((a) => [key(a), new Set(a.replicas)]));
  return after.reduce((n, a) => n + a.replicas.filter((r) => !old.get(key(a))?.has(r)).length, 0);
}

function spread(after: Assignment[], brokerIds: number[], leadersOnly: boolean): number {
  const counts = new Map(brokerIds.map((b) => [b, 0]));
  for (const a of after) for (const r of leadersOnly ? a.replicas.slice(0, 1) : a.replicas) counts.set(r, (counts.get(r) ?? 0) + 1);
  const v = [...counts.values()];
  return Math.max(...v) - Math.min(...v);
}

/** The target with leader changes applied: what the cluster looks like after our plan and an election. */
function finalAssignment(target: Assignment[]): Assignment[] {
  return target.map((p) => ({ topic: p.topic, partition: p.partition, replicas: p.replicas }));
}

function scenario(label: string, brokers: number, emptyBrokers: number, goal: ReassignmentGoal, remaining: (ids: number[]) => number[]) {
  const cluster = generateCluster({ seed: 7, brokers, emptyBrokers, partitions: 1000, replicationFactor: 3, topics: 10 });
  const current: Assignment[] = cluster.partitions.map((p) => ({ topic: p.topic, partition: p.partition, replicas: p.replicas }));
  const allIds = cluster.brokers.map((b) => b.id);
  const targetIds = remaining(allIds);

  const t0 = performance.now();
  const plan = planReassignment({ brokers: cluster.brokers, partitions: cluster.partitions, goal });
  const oursMs = performance.now() - t0;
  const ours = finalAssignment(plan.target);

  const t1 = performance.now();
  const theirs = kafkaGenerate(
    current,
    cluster.brokers.filter((b) => targetIds.includes(b.id)).map((b) => ({ id: b.id, rack: b.rack })),
  );
  const kafkaMs = performance.now() - t1;

  const lb = plan.stats.lowerBound;
  const row = (name: string, a: Assignment[], ms: number) => {
    const moved = replicasMoved(current, a);
    return `| ${label} | ${name} | ${moved} | ${lb} | ${(lb === 0 ? 1 : moved / lb).toFixed(3)} | ${spread(a, targetIds, false)} | ${spread(a, targetIds, true)} | ${ms.toFixed(0)} ms |`;
  };
  console.log(row('kafka-runbooks', ours, oursMs));
  console.log(row('Kafka --generate', theirs, kafkaMs));
}

console.log('1,000 partitions, RF 3, 10 topics, evenly placed. Spread = max - min per broker after the plan.');
console.log('Kafka --generate time includes starting a JVM.\n');
console.log('| scenario | planner | replicas moved | lower bound | moved / bound | replica spread | leader spread | time |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
scenario('add 1 to 6', 6, 1, { kind: 'addBrokers', brokerIds: [7] }, (ids) => ids);
scenario('add 3 to 9', 9, 3, { kind: 'addBrokers', brokerIds: [10, 11, 12] }, (ids) => ids);
scenario('remove 1 of 6', 6, 0, { kind: 'removeBrokers', brokerIds: [6] }, (ids) => ids.filter((i) => i !== 6));
scenario('remove 1 of 12', 12, 0, { kind: 'removeBrokers', brokerIds: [12] }, (ids) => ids.filter((i) => i !== 12));
