import type { ClusterMetadata } from '../model/cluster';
import type { PartitionSize, PlannerBroker, ReassignmentGoal, ReassignmentInput } from './types';

/** Planner input from one metadata read; capacity weights and sizes are optional extras the caller knows. */
export function reassignmentInputFromCluster(
  cluster: ClusterMetadata,
  goal: ReassignmentGoal,
  extras: { capacityWeights?: Record<number, number>; partitionSizes?: PartitionSize[] } = {},
): ReassignmentInput {
  const brokers: PlannerBroker[] = cluster.brokers.map((b) => {
    const capacityWeight = extras.capacityWeights?.[b.id];
    return capacityWeight === undefined ? { id: b.id, rack: b.rack } : { id: b.id, rack: b.rack, capacityWeight };
  });
  const partitions = cluster.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partition, replicas: [...p.replicas], isr: [...p.isr], leader: p.leader })),
  );
  return extras.partitionSizes === undefined ? { partitions, brokers, goal } : { partitions, brokers, goal, partitionSizes: extras.partitionSizes };
}
