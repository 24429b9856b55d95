import { createHash } from 'node:crypto';
import { invalidInput } from '../src/errors';
import { type ClusterMetadata, type ReassignmentInFlight } from '../src/model/cluster';
import { PlanRefused, planReassignment, reassignmentInputFromCluster, type ReassignmentGoal, type ReassignmentPlan } from '../src/reassignment';
import { type PartitionAssignment } from '../src/reassignment/types';
import { type AssignmentVerification, type PartitionLeader, verifyAssignment } from '../src/reassignment-exec';
import { type ClusterRegistry } from './clusters';
import { readMetadata } from './cluster-reads';

/** A plan as the workflow keeps it: the target only for partitions that change, so large clusters fit a payload. */
export interface PlanForApproval {
  plan: ReassignmentPlan;
  /** Identifies the plan's moves and leader changes: a re-plan with the same fingerprint is the same plan. */
  fingerprint: string;
  /** Reassignments in flight when planning: the executor refuses to start over them. */
  inFlight: ReassignmentInFlight[];
  /** Current leaders of the moved partitions, for batching by source broker. */
  leaders: PartitionLeader[];
  brokers: number[];
}

/** Plans on the worker, where the whole metadata is; the pure planner is in src/reassignment. */
export function createReassignmentPlanActivities({ clusters }: { clusters: ClusterRegistry }) {
  return {
    async planReassignmentFor(cluster: string, goal: ReassignmentGoal): Promise<PlanForApproval> {
      return planFromMetadata(await readMetadata(clusters.get(cluster)), goal);
    },

    /** Compares the cluster with the plan's target for the partitions the plan changed. */
    async verifyAssignmentFor(cluster: string, target: PartitionAssignment[]): Promise<AssignmentVerification> {
      const m = await readMetadata(clusters.get(cluster));
      const wanted = new Set(target.map((t) => `${t.topic}/${t.partition}`));
      const observed = m.topics.flatMap((t) =>
        t.partitions
          .filter((p) => wanted.has(`${t.name}/${p.partition}`))
          .map((p) => ({ topic: t.name, partition: p.partition, replicas: p.replicas, leader: p.leader })),
      );
      return verifyAssignment(target, observed);
    },
  };
}

export function planFromMetadata(metadata: ClusterMetadata, goal: ReassignmentGoal): PlanForApproval {
  let plan: ReassignmentPlan;
  try {
    plan = planReassignment(reassignmentInputFromCluster(metadata, goal));
  } catch (err) {
    // A refused goal is bad input: nothing was changed, and retrying cannot help.
    if (err instanceof PlanRefused) throw invalidInput(`the plan was refused: ${err.message}`, { field: err.field, reason: err.reason });
    throw err;
  }
  const changed = new Set([...plan.moves, ...plan.leaderChanges].map((m) => `${m.topic}/${m.partition}`));
  const leaders = new Map(metadata.topics.flatMap((t) => t.partitions.map((p) => [`${t.name}/${p.partition}`, p.leader] as const)));
  const trimmed: ReassignmentPlan = { ...plan, target: plan.target.filter((t) => changed.has(`${t.topic}/${t.partition}`)) };
  return {
    plan: trimmed,
    fingerprint: createHash('sha256')
      .update(JSON.stringify([plan.moves.map((m) => [m.topic, m.partition, m.to]), plan.leaderChanges.map((c) => [c.topic, c.partition, c.to])]))
      .digest('hex')
      .slice(0, 16),
    inFlight: metadata.reassignments,
    leaders: plan.moves.map((m) => ({ topic: m.topic, partition: m.partition, leader: leaders.get(`${m.topic}/${m.partition}`) ?? -1 })),
    brokers: metadata.brokers.map((b) => b.id),
  };
}
