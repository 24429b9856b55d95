import type { NodeRole } from '../../../src/model/cluster';
import { estimateDuration, formatDuration, planRollingRestart, renderRollingPlan, requiresApproval, rollingRestartInput, TYPICAL_STEP_SECONDS } from '../../../src/rolling';
import { ClusterBuilder, expectedNode, hostObservation, quorum } from '../health/builder';

const combined: NodeRole[] = ['broker', 'controller'];

function combinedCluster() {
  const metadata = ClusterBuilder.kraft()
    .brokers(1, 2, 3)
    .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(6, 3, [1, 2, 3]))
    .quorum(quorum(2).voters(1, 2, 3))
    .build();
  const expected = [1, 2, 3].map((id) => expectedNode(id, combined));
  const hosts = [1, 2, 3].map((id) => hostObservation(id, { roles: combined, kafkaVersion: id === 3 ? '4.3.1' : '3.9.2' }));
  return { metadata, expected, hosts };
}

describe('planRollingRestart', () => {
  it('plans an upgrade: order, batches, estimate and notes about nodes already on the target', () => {
    const input = rollingRestartInput.parse({ cluster: 'prod', targetVersion: '4.3.1' });
    const plan = planRollingRestart(input, combinedCluster());
    expect(plan.problems).toEqual([]);
    expect(plan.batches.map((b) => b.nodes.map((n) => n.nodeId))).toEqual([[1], [3], [2]]);
    expect(plan.notes).toEqual(['kafka-3.lab already points at 4.3.1: restarted anyway, so the process surely runs it.']);
    const perBatch = TYPICAL_STEP_SECONDS.stop + TYPICAL_STEP_SECONDS.switchVersion + TYPICAL_STEP_SECONDS.registration + TYPICAL_STEP_SECONDS.catchUp + TYPICAL_STEP_SECONDS.leaderElection;
    expect(plan.estimate.typicalSeconds).toBe(3 * perBatch);
    expect(plan.estimate.worstCaseSeconds).toBe(3 * (1800 + 300 + TYPICAL_STEP_SECONDS.switchVersion + 600 + 1800 + TYPICAL_STEP_SECONDS.leaderElection));
  });

  it('refuses a 4.x upgrade of a ZooKeeper cluster and unknown nodes before anything runs', () => {
    const metadata = ClusterBuilder.zookeeper().brokers(1, 2, 3).controllerId(1).build();
    const input = rollingRestartInput.parse({ cluster: 'old', targetVersion: '4.3.1', nodes: [1, 9] });
    const plan = planRollingRestart(input, { metadata, expected: [1, 2, 3].map((id) => expectedNode(id)) });
    expect(plan.problems).toEqual([
      'nodes[1]: no broker or controller with node id 9 in the inventory (known: 1/kafka-1.lab, 2/kafka-2.lab, 3/kafka-3.lab)',
      'targetVersion 4.3.1: Kafka 4.x runs only in KRaft mode; migrate this ZooKeeper-mode cluster to KRaft on 3.9 first.',
    ]);
  });

  it('renders markdown an approver can read: one row per node, batch reasons, problems and notes', () => {
    const input = rollingRestartInput.parse({ cluster: 'prod', targetVersion: '4.3.1', canaryTopic: 'canary' });
    const md = renderRollingPlan(planRollingRestart(input, combinedCluster()), input);
    expect(md).toContain('### Rolling upgrade of prod to Kafka 4.3.1');
    expect(md).toContain('| Nodes | 3 in 3 batches (kraft) |');
    expect(md).toContain('| Estimated time | about 6 min 45 s; a human is asked after at most 3 h 45 min of waiting |');
    expect(md).toContain(
      '| 3 | 2 | kafka-2.lab | broker+controller (active controller) | active controller (quorum leader): last of the controllers, so the quorum elects a new leader once | one at a time; the active controller (quorum leader) |',
    );
    expect(md).toContain('**Notes**\n\n- kafka-3.lab already points at 4.3.1');
    expect(md).not.toContain('**Problems');
  });

  it('titles a plain restart as such and escapes table cells', () => {
    const input = rollingRestartInput.parse({ cluster: 'a|b' });
    const md = renderRollingPlan(planRollingRestart(input, combinedCluster()), input);
    expect(md.split('\n')[0]).toBe('### Rolling restart of a\\|b');
  });
});

describe('estimateDuration and formatDuration', () => {
  it('adds typical step times per batch, and the timeouts for the worst case', () => {
    const timeouts = { stopSeconds: 10, registrationSeconds: 20, catchUpSeconds: 30, guardWaitSeconds: 40 };
    expect(estimateDuration(2, timeouts, { upgrade: false, preferredLeaderElection: false })).toEqual({
      typicalSeconds: 2 * (TYPICAL_STEP_SECONDS.stop + TYPICAL_STEP_SECONDS.registration + TYPICAL_STEP_SECONDS.catchUp),
      worstCaseSeconds: 2 * 100,
    });
    expect([45, 60, 75, 3600, 3660 + 59].map(formatDuration)).toEqual(['45 s', '1 min', '1 min 15 s', '1 h', '1 h 1 min']);
  });
});

describe('requiresApproval', () => {
  const point = (index: number) => ({ kind: 'batch' as const, index });

  it('gates batches as the policy says', () => {
    const gates = (approval: 'none' | 'before-first-node' | 'every-node' | 'irreversible-only') =>
      [0, 1, 2].map((i) => requiresApproval({ approval, rollbackPolicy: 'after-approval' }, point(i)));
    expect(gates('none')).toEqual([false, false, false]);
    expect(gates('before-first-node')).toEqual([true, false, false]);
    expect(gates('every-node')).toEqual([true, true, true]);
    expect(gates('irreversible-only')).toEqual([false, false, false]);
  });

  it('always gates a forced kill, gates irreversible steps unless the policy is none, and rollbacks per rollbackPolicy', () => {
    expect(requiresApproval({ approval: 'none', rollbackPolicy: 'automatic' }, { kind: 'force-kill', host: 'kafka-1' })).toBe(true);
    expect(requiresApproval({ approval: 'irreversible-only', rollbackPolicy: 'automatic' }, { kind: 'irreversible', what: 'metadata.version 4.3' })).toBe(true);
    expect(requiresApproval({ approval: 'none', rollbackPolicy: 'automatic' }, { kind: 'irreversible', what: 'metadata.version 4.3' })).toBe(false);
    expect(requiresApproval({ approval: 'none', rollbackPolicy: 'after-approval' }, { kind: 'rollback', host: 'kafka-1' })).toBe(true);
    expect(requiresApproval({ approval: 'every-node', rollbackPolicy: 'automatic' }, { kind: 'rollback', host: 'kafka-1' })).toBe(false);
  });
});
