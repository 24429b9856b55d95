import type { ExpectedNode, NodeRole } from '../../../src/model/cluster';
import { orderNodes, type RollingNode, selectNodes } from '../../../src/rolling';
import { ClusterBuilder, expectedNode, hostObservation, quorum, threeBrokerCluster } from '../health/builder';

const kinds = (expected: ExpectedNode[]): RollingNode[] => selectNodes(expected, undefined).nodes;
const ids = (nodes: { nodeId: number }[]): number[] => nodes.map((n) => n.nodeId);

/** KRaft with controller-only nodes 3000-3002 (leader 3001) and brokers 1-3: threeBrokerCluster's inventory. */
function separateControllers(): ExpectedNode[] {
  return [...[1, 2, 3].map((id) => expectedNode(id)), ...[3000, 3001, 3002].map((id) => expectedNode(id, ['controller']))];
}

const combined: NodeRole[] = ['broker', 'controller'];

describe('orderNodes (auto)', () => {
  it('restarts controller-only nodes first, the active controller last of them, then the brokers', () => {
    const metadata = threeBrokerCluster().build();
    const order = orderNodes(kinds(separateControllers()), { metadata });
    expect(ids(order.nodes)).toEqual([3000, 3002, 3001, 1, 2, 3]);
    expect(order.warnings).toEqual([]);
    expect(order.nodes.find((n) => n.nodeId === 3001)).toMatchObject({
      activeController: true,
      kind: 'controller',
      why: 'active controller (quorum leader): last of the controllers, so the quorum elects a new leader once',
    });
    expect(order.nodes[0]?.why).toBe('controller-only: controllers before brokers');
  });

  it('in a combined cluster, puts the quorum leader last', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
      .quorum(quorum(2).voters(1, 2, 3))
      .build();
    const order = orderNodes(kinds([1, 2, 3].map((id) => expectedNode(id, combined))), { metadata });
    expect(ids(order.nodes)).toEqual([1, 3, 2]);
    expect(order.nodes.map((n) => n.kind)).toEqual(['combined', 'combined', 'combined']);
  });

  it('with controller-only, combined and broker-only nodes: controllers, combined, active controller, brokers', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 4, 5)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(4, 3, [1, 2, 4, 5]))
      .quorum(quorum(51).voters(4, 5, 50, 51, 52))
      .build();
    const expected = [
      expectedNode(1),
      expectedNode(2),
      expectedNode(5, combined),
      expectedNode(4, combined),
      expectedNode(52, ['controller']),
      expectedNode(51, ['controller']),
      expectedNode(50, ['controller']),
    ];
    expect(ids(orderNodes(kinds(expected), { metadata }).nodes)).toEqual([50, 52, 4, 5, 51, 1, 2]);
  });

  it('when the active controller is a combined node, it still goes before the broker-only nodes', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(4, 3, [1, 2, 3, 4]))
      .quorum(quorum(1).voters(1, 2, 3))
      .build();
    const expected = [expectedNode(4), ...[1, 2, 3].map((id) => expectedNode(id, combined))];
    expect(ids(orderNodes(kinds(expected), { metadata }).nodes)).toEqual([2, 3, 1, 4]);
  });

  it('puts already unhealthy nodes first: lagging controller, stopped broker, broker out of an ISR, process down', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4, 5)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]).partition([2, 3, 4], { isr: [2, 4] }).partition([4, 5, 1]))
      .quorum(quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: 60_000 }))
      .stopBroker(5)
      .build();
    const expected = [...[1, 2, 3, 4, 5].map((id) => expectedNode(id)), ...[3000, 3001, 3002].map((id) => expectedNode(id, ['controller']))];
    const hosts = [hostObservation(4, { processRunning: false })];
    const order = orderNodes(kinds(expected), { metadata, hosts });
    expect(ids(order.nodes)).toEqual([3002, 3, 4, 5, 3000, 3001, 1, 2]);
    expect(order.nodes.slice(0, 4).map((n) => n.unhealthy)).toEqual([
      ['lagging KRaft voter (60000 ms behind the leader, 0 offsets)'],
      ['out of the ISR of 1 of 2 partitions (orders-1)'],
      ['Kafka process not running'],
      ['broker not registered'],
    ]);
    expect(order.nodes[1]?.why).toBe('already unhealthy (broker): restarting it takes nothing more away: out of the ISR of 1 of 2 partitions (orders-1)');
  });

  it('an unhealthy active controller goes first, not last: every other guard would wait on it', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3], { isr: [1, 3] }))
      .quorum(quorum(2).voters(1, 2, 3))
      .build();
    const order = orderNodes(kinds([1, 2, 3].map((id) => expectedNode(id, combined))), { metadata });
    expect(ids(order.nodes)).toEqual([2, 1, 3]);
    expect(order.nodes[0]).toMatchObject({ activeController: true, unhealthy: ['out of the ISR of 1 of 1 partitions (orders-0)'] });
  });

  it('in ZooKeeper mode puts the controller broker last of all', () => {
    const metadata = ClusterBuilder.zookeeper()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
      .controllerId(1)
      .build();
    const order = orderNodes(kinds([3, 1, 2].map((id) => expectedNode(id))), { metadata });
    expect(ids(order.nodes)).toEqual([2, 3, 1]);
    expect(order.nodes[2]).toMatchObject({ activeController: true, why: 'active controller: last, so the cluster elects a new controller once' });
  });

  it('is deterministic: the input order does not matter', () => {
    const metadata = threeBrokerCluster().stopBroker(2).build();
    const expected = separateControllers();
    const a = orderNodes(kinds(expected), { metadata });
    const b = orderNodes(kinds([...expected].reverse()), { metadata });
    expect(ids(b.nodes)).toEqual(ids(a.nodes));
    expect(ids(a.nodes)).toEqual([2, 3000, 3002, 3001, 1, 3]);
  });

  it('warns when the quorum leader is unknown', () => {
    const metadata = ClusterBuilder.kraft().brokers(1, 2).build();
    const order = orderNodes(kinds([expectedNode(2), expectedNode(1)]), { metadata });
    expect(ids(order.nodes)).toEqual([1, 2]);
    expect(order.warnings).toEqual(['The KRaft quorum leader is unknown (quorum not read or leaderless): the active controller cannot be put last.']);
  });
});

describe('orderNodes (as-given)', () => {
  it('keeps the order and warns where it breaks the rules', () => {
    const metadata = threeBrokerCluster().stopBroker(3).build();
    const nodes = selectNodes(separateControllers(), [1, 3001, 3, 3000]).nodes;
    const order = orderNodes(nodes, { metadata }, 'as-given');
    expect(ids(order.nodes)).toEqual([1, 3001, 3, 3000]);
    expect(order.nodes[0]?.why).toBe('as given; broker-only: after every controller');
    expect(order.warnings).toEqual([
      'As given, healthy nodes go before unhealthy node 3: their restarts may wait on the guards.',
      'As given, the active controller 3001 restarts before node 3000: expect more than one controller election.',
      'As given, broker-only node 1 restarts before every controller has: controllers usually go first.',
    ]);
  });
});

describe('selectNodes', () => {
  const expected = [...separateControllers(), { host: 'zk-1', nodeId: null, roles: ['zookeeper'] as NodeRole[], rack: null }];

  it('takes every broker and controller by default and skips ZooKeeper hosts', () => {
    const { nodes, problems } = selectNodes(expected, undefined);
    expect(problems).toEqual([]);
    expect(nodes.map((n) => `${n.nodeId}:${n.kind}`)).toEqual(['1:broker', '2:broker', '3:broker', '3000:controller', '3001:controller', '3002:controller']);
  });

  it('resolves ids and host names in the given order and reports unknown, ZooKeeper and repeated nodes', () => {
    const { nodes, problems } = selectNodes(expected, ['kafka-2.lab', 3000, 7, 'zk-1', 2, 'nope'], { 'kafka-9.lab': {} });
    expect(ids(nodes)).toEqual([2, 3000]);
    expect(problems).toEqual([
      'nodes[2]: no broker or controller with node id 7 in the inventory (known: 1/kafka-1.lab, 2/kafka-2.lab, 3/kafka-3.lab, 3000/kafka-3000.lab, 3001/kafka-3001.lab, 3002/kafka-3002.lab)',
      'nodes[3]: "zk-1" is a ZooKeeper host; this runbook restarts Kafka brokers and controllers only',
      'nodes[4]: 2 names node 2 (kafka-2.lab) a second time',
      'nodes[5]: no broker or controller host "nope" in the inventory (known: 1/kafka-1.lab, 2/kafka-2.lab, 3/kafka-3.lab, 3000/kafka-3000.lab, 3001/kafka-3001.lab, 3002/kafka-3002.lab)',
      'sourceByHost: "kafka-9.lab" is not a broker or controller host of the inventory',
    ]);
  });

  it('in a ZooKeeper-mode cluster leaves the migration\'s controller hosts out, and refuses one named', () => {
    const all = selectNodes(expected, undefined, undefined, 'zookeeper');
    expect(all).toEqual({ nodes: expect.any(Array), problems: [] });
    expect(ids(all.nodes)).toEqual([1, 2, 3]);
    const named = selectNodes(expected, [1, 'kafka-3001.lab'], undefined, 'zookeeper');
    expect(ids(named.nodes)).toEqual([1]);
    expect(named.problems).toEqual(['nodes[1]: kafka-3001.lab (node 3001) is a KRaft controller of a ZooKeeper-mode cluster: the migration runbook (migrateToKRaft) rolls it; this runbook restarts the brokers']);
  });
});
