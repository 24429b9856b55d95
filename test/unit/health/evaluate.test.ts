import { type Finding, type HealthReport, evaluateHealth } from '../../../src/health';
import type { ClusterMetadata, ExpectedNode, HostObservation } from '../../../src/model/cluster';
import {
  ClusterBuilder,
  expectedNode,
  hostObservation,
  quorum,
  threeBrokerCluster,
  threeBrokerInventory,
} from './builder';

const CHECKED_AT = '2025-01-01T00:00:00.000Z';

function evaluate(
  metadata: ClusterMetadata,
  inventory: { expected: ExpectedNode[]; hosts: HostObservation[] } = threeBrokerInventory(),
  options: { diskWarnPercent?: number; diskCriticalPercent?: number; quorumFetchTimeoutMs?: number } = {},
): HealthReport {
  return evaluateHealth({ metadata, ...inventory, checkedAt: CHECKED_AT, ...options });
}

const codes = (report: HealthReport): string[] => report.findings.map((f) => f.code);
const finding = (report: HealthReport, code: string): Finding => {
  const f = report.findings.find((x) => x.code === code);
  if (!f) throw new Error(`no ${code} finding in ${JSON.stringify(codes(report))}`);
  return f;
};

describe('evaluateHealth', () => {
  it('reports a healthy cluster as healthy, with per-broker counts and the quorum', () => {
    const report = evaluate(threeBrokerCluster().build());

    expect(report.status).toBe('healthy');
    expect(report.findings).toEqual([]);
    expect(report.checkedAt).toBe(CHECKED_AT);
    expect(report.brokers).toEqual([1, 2, 3].map((id) => ({
      nodeId: id,
      host: `kafka-${id}.lab`,
      registered: true,
      processRunning: true,
      version: '3.9.2',
      leaderCount: 3,
      replicaCount: 9,
      offlineReplicaCount: 0,
    })));
    expect(report.partitions).toEqual({
      total: 9,
      offline: { count: 0, items: [], truncated: 0 },
      underReplicated: { count: 0, items: [], truncated: 0 },
      underMinIsr: { count: 0, items: [], truncated: 0 },
    });
    expect(report.controller.mode).toBe('kraft');
    expect(report.controller.controllerId).toBe(3001);
    expect(report.controller.quorum?.caughtUpVoters).toBe(3);
    expect(report.controller.quorum?.majority).toBe(2);
    expect(report.controller.quorum?.voters.map((v) => [v.nodeId, v.leader, v.caughtUp])).toEqual([
      [3000, false, true],
      [3001, true, true],
      [3002, false, true],
    ]);
  });

  it('reports a stopped broker as not registered and its partitions as under-replicated', () => {
    const inventory = threeBrokerInventory();
    inventory.hosts[2] = hostObservation(3, { processRunning: false });
    const report = evaluate(threeBrokerCluster().stopBroker(3).build(), inventory);

    expect(report.status).toBe('critical');
    expect(codes(report).sort()).toEqual(['BROKER_NOT_REGISTERED', 'PROCESS_NOT_RUNNING', 'UNDER_REPLICATED']);
    expect(finding(report, 'BROKER_NOT_REGISTERED')).toEqual({
      code: 'BROKER_NOT_REGISTERED',
      severity: 'critical',
      message: 'Broker 3 (kafka-3.lab) is not registered with the cluster; it holds replicas of 9 partitions.',
      subject: { brokerId: 3, host: 'kafka-3.lab' },
    });
    expect(finding(report, 'PROCESS_NOT_RUNNING').message).toBe('The broker process is not running on kafka-3.lab (node 3).');
    const urp = finding(report, 'UNDER_REPLICATED');
    expect(urp.severity).toBe('warning');
    expect(urp.message).toBe(
      'Broker 3 is missing from the ISR of 9 partitions: orders-0, orders-1, orders-2, orders-3, orders-4, orders-5, ' +
        '__consumer_offsets-0, __consumer_offsets-1, __consumer_offsets-2.',
    );
    expect(urp.subject.brokerId).toBe(3);

    expect(report.partitions.underReplicated.count).toBe(9);
    expect(report.partitions.underReplicated.items[0]).toEqual({ partition: 'orders-0', missing: [3] });
    // Two of three replicas remain in every ISR: still writable with minISR 2.
    expect(report.partitions.underMinIsr.count).toBe(0);
    expect(report.partitions.offline.count).toBe(0);

    const broker3 = report.brokers.find((b) => b.nodeId === 3);
    expect(broker3).toMatchObject({ registered: false, processRunning: false, leaderCount: 0, replicaCount: 9, offlineReplicaCount: 9 });
    // Its leadership moved to the others.
    expect(report.brokers.reduce((n, b) => n + b.leaderCount, 0)).toBe(9);
  });

  it('reports partitions without a leader as offline, critical, and not as under-replicated', () => {
    const metadata = threeBrokerCluster()
      .topic('events', { minIsr: 1 }, (t) => t.partition([3]).partition([1]))
      .stopBroker(3)
      .build();
    const report = evaluate(metadata);

    const offline = finding(report, 'OFFLINE_PARTITION');
    expect(offline.severity).toBe('critical');
    expect(offline.message).toBe('Topic events has 1 offline partition (no leader): events-0.');
    expect(offline.subject).toEqual({ topic: 'events', partitions: ['events-0'] });
    expect(report.partitions.offline).toEqual({ count: 1, items: ['events-0'], truncated: 0 });
    expect(report.partitions.underReplicated.items.map((u) => u.partition)).not.toContain('events-0');
    expect(report.status).toBe('critical');
  });

  it('treats a leader that is not a registered broker as offline', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2)
      .topic('t', { minIsr: 1 }, (tb) => tb.partition([1, 2], { leader: 9 }))
      .quorum(quorum(3001).voters(3001))
      .build();
    const report = evaluate(metadata, { expected: [expectedNode(1), expectedNode(2)], hosts: [] });
    expect(report.partitions.offline.items).toEqual(['t-0']);
  });

  it('reports partitions below min.insync.replicas as critical, naming their ISR', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3], { isr: [1] }).partition([2, 3, 1]))
      .quorum(quorum(3001).voters(3000, 3001, 3002))
      .build();
    const report = evaluate(metadata);

    const under = finding(report, 'UNDER_MIN_ISR');
    expect(under.severity).toBe('critical');
    expect(under.message).toBe(
      'Topic orders has 1 partition below min.insync.replicas=2, so acks=all writes to it fail: orders-0 (ISR [1]).',
    );
    expect(report.partitions.underMinIsr.items).toEqual([{ partition: 'orders-0', isr: [1], minIsr: 2 }]);
    // Also under-replicated, once per missing broker.
    expect(report.findings.filter((f) => f.code === 'UNDER_REPLICATED').map((f) => f.message)).toEqual([
      'Broker 2 is missing from the ISR of 1 partition: orders-0.',
      'Broker 3 is missing from the ISR of 1 partition: orders-0.',
    ]);
    expect(report.status).toBe('critical');
    // Critical findings come first.
    expect(report.findings[0]?.severity).toBe('critical');
  });

  it('reports a topic with fewer replicas than min.insync.replicas as info, not as under min ISR', () => {
    const metadata = threeBrokerCluster()
      .topic('scratch', { minIsr: 2 }, (t) => t.partition([1]).partition([2]))
      .build();
    const report = evaluate(metadata);

    expect(codes(report)).toEqual(['MIN_ISR_UNSATISFIABLE']);
    expect(report.findings[0]).toMatchObject({
      severity: 'info',
      message: 'Topic scratch has 2 partitions with fewer replicas than min.insync.replicas=2: acks=all producers can never write to scratch-0, scratch-1.',
    });
    expect(report.partitions.underMinIsr.count).toBe(0);
    expect(report.status).toBe('healthy');
  });

  it('warns about a registered broker that is not in the inventory', () => {
    const metadata = threeBrokerCluster().brokers(7).build();
    const report = evaluate(metadata);

    expect(report.findings).toEqual([
      {
        code: 'UNEXPECTED_BROKER',
        severity: 'warning',
        message: 'Broker 7 (kafka-7.lab:9092) is registered with the cluster but is not in the inventory.',
        subject: { brokerId: 7, host: 'kafka-7.lab' },
      },
    ]);
    expect(report.status).toBe('degraded');
    expect(report.brokers.map((b) => b.nodeId)).toEqual([1, 2, 3]);
  });

  it('warns about reassignments in flight without counting the replicas being added as missing', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
      .reassigning('orders', 0, { adding: [4], removing: [1] })
      .quorum(quorum(3001).voters(3000, 3001, 3002))
      .build();
    const inventory = threeBrokerInventory();
    inventory.expected.push(expectedNode(4));
    const report = evaluate(metadata, inventory);

    expect(codes(report)).toEqual(['REASSIGNMENT_IN_FLIGHT']);
    expect(report.findings[0]).toMatchObject({
      severity: 'warning',
      message: '1 partition reassignment in flight: orders-0 (adding [4], removing [1]).',
      subject: { partitions: ['orders-0'] },
    });
    expect(report.reassignments).toEqual({ count: 1, items: [{ partition: 'orders-0', adding: [4], removing: [1] }], truncated: 0 });
    expect(report.partitions.underReplicated.count).toBe(0);
  });

  describe('KRaft quorum', () => {
    const withQuorum = (q: ReturnType<typeof quorum> | null) => {
      const b = ClusterBuilder.kraft().brokers(1, 2, 3).topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]));
      if (q) b.quorum(q);
      return b.build();
    };

    it('is critical without a quorum leader', () => {
      const report = evaluate(withQuorum(quorum(-1).voters(3000, 3001, 3002)));
      expect(codes(report)).toEqual(['NO_QUORUM_LEADER']);
      expect(report.findings[0]?.message).toBe('The KRaft controller quorum has no leader (voters 3000, 3001, 3002): metadata cannot change.');
      expect(report.status).toBe('critical');
      expect(report.controller.controllerId).toBeNull();
    });

    it('warns about a voter that last caught up more than the fetch timeout before the leader', () => {
      const q = quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: 5000, lagOffsets: 120 });
      const report = evaluate(withQuorum(q));

      expect(report.findings).toEqual([
        {
          code: 'QUORUM_VOTER_LAGGING',
          severity: 'warning',
          message: 'Controller 3002 is not caught up with the quorum: last caught up 5000 ms before the leader 3001 (fetch timeout 2000 ms), 120 offsets behind.',
          subject: { brokerId: 3002 },
        },
      ]);
      expect(report.status).toBe('degraded');
      expect(report.controller.quorum?.voters.find((v) => v.nodeId === 3002)).toEqual({
        nodeId: 3002,
        leader: false,
        caughtUp: false,
        lagOffsets: 120,
        lagMs: 5000,
      });
    });

    it('honours a longer quorumFetchTimeoutMs', () => {
      const q = quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: 5000 });
      expect(evaluate(withQuorum(q), threeBrokerInventory(), { quorumFetchTimeoutMs: 10_000 }).status).toBe('healthy');
    });

    it('is critical when fewer than a majority of voters are caught up', () => {
      const q = quorum(3001).voter(3000, { behindMs: null }).voter(3001).voter(3002, { behindMs: 9000 });
      const report = evaluate(withQuorum(q));

      expect(finding(report, 'QUORUM_MAJORITY_LOST')).toMatchObject({
        severity: 'critical',
        message: 'Only 1 of 3 quorum voters are caught up; 2 are needed to commit metadata.',
      });
      expect(finding(report, 'QUORUM_VOTER_LAGGING').message).toBe(
        'Controller 3000 is not caught up with the quorum: the leader 3001 has never seen it caught up, 0 offsets behind.',
      );
      expect(report.status).toBe('critical');
    });

    it('warns when the quorum state was not read', () => {
      const report = evaluateHealth({
        metadata: withQuorum(null),
        quorumError: 'kafka-metadata-quorum.sh exited 1',
        ...threeBrokerInventory(),
        checkedAt: CHECKED_AT,
      });
      expect(codes(report)).toEqual(['QUORUM_STATE_UNKNOWN']);
      expect(report.findings[0]?.message).toBe(
        'The KRaft controller quorum state could not be read (kafka-metadata-quorum.sh exited 1), so controller health is unknown.',
      );
      expect(report.findings[0]?.severity).toBe('warning');
      expect(report.controller.quorum).toBeNull();
    });
  });

  describe('ZooKeeper mode', () => {
    const zk = () => ClusterBuilder.zookeeper().brokers(1, 2, 3).topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]));
    const inventory = () => ({ expected: [1, 2, 3].map((id) => expectedNode(id)), hosts: [1, 2, 3].map((id) => hostObservation(id)) });

    it('is critical without a controller', () => {
      const report = evaluate(zk().build(), inventory());
      expect(report.findings).toEqual([
        {
          code: 'NO_CONTROLLER',
          severity: 'critical',
          message: 'The cluster has no active controller: no broker holds the ZooKeeper controller role.',
          subject: {},
        },
      ]);
    });

    it('reports the controller broker and no quorum', () => {
      const report = evaluate(zk().controllerId(2).build(), inventory());
      expect(report.status).toBe('healthy');
      expect(report.controller).toEqual({ mode: 'zookeeper', controllerId: 2, quorum: null });
    });
  });

  describe('hosts', () => {
    it('is critical when a host cannot be reached, and leaves its broker running state unknown', () => {
      const inventory = threeBrokerInventory();
      inventory.hosts[1] = hostObservation(2, { reachable: false, error: 'connect ECONNREFUSED 10.0.0.2:22', processRunning: null, kafkaVersion: null });
      const report = evaluate(threeBrokerCluster().build(), inventory);

      expect(report.findings).toEqual([
        {
          code: 'HOST_UNREACHABLE',
          severity: 'critical',
          message: 'Host kafka-2.lab (node 2) is unreachable: connect ECONNREFUSED 10.0.0.2:22.',
          subject: { host: 'kafka-2.lab', brokerId: 2 },
        },
      ]);
      expect(report.brokers[1]).toMatchObject({ nodeId: 2, registered: true, processRunning: null, version: null });
    });

    it('warns when Kafka versions differ across hosts, ignoring ZooKeeper hosts', () => {
      const inventory = threeBrokerInventory();
      inventory.hosts[2] = hostObservation(3, { kafkaVersion: '3.8.1' });
      inventory.hosts.push({ ...hostObservation(9), nodeId: null, host: 'zk-1.lab', roles: ['zookeeper'], kafkaVersion: '3.8.4' });
      const report = evaluate(threeBrokerCluster().build(), inventory);

      expect(report.findings).toEqual([
        {
          code: 'VERSION_MISMATCH',
          severity: 'warning',
          message: 'Kafka versions differ across hosts: 3.9.2 on kafka-1.lab, kafka-2.lab, kafka-3000.lab, kafka-3001.lab, kafka-3002.lab; 3.8.1 on kafka-3.lab.',
          subject: {},
        },
      ]);
      expect(report.brokers[2]?.version).toBe('3.8.1');
    });

    it('grades data dir usage against the warning and critical thresholds', () => {
      const inventory = threeBrokerInventory();
      inventory.hosts[0] = hostObservation(1, {
        dataDirs: [
          { path: '/data/a', usedBytes: 1, filesystemUsedPercent: 84.9 },
          { path: '/data/b', usedBytes: 1, filesystemUsedPercent: 90 },
          { path: '/data/c', usedBytes: 1, filesystemUsedPercent: 97 },
          { path: '/data/d', usedBytes: null, filesystemUsedPercent: null },
        ],
      });
      const report = evaluate(threeBrokerCluster().build(), inventory);

      expect(report.findings.map((f) => [f.severity, f.message, f.subject.dataDir])).toEqual([
        ['critical', 'Data dir /data/c on kafka-1.lab (node 1) is 97% full (critical at 95%).', '/data/c'],
        ['warning', 'Data dir /data/b on kafka-1.lab (node 1) is 90% full (warning at 85%).', '/data/b'],
      ]);
      const relaxed = evaluate(threeBrokerCluster().build(), inventory, { diskWarnPercent: 92, diskCriticalPercent: 98 });
      expect(relaxed.findings.map((f) => [f.severity, f.subject.dataDir])).toEqual([['warning', '/data/c']]);
    });
  });

  it('reports unreadable metadata once, instead of every broker as unregistered', () => {
    const empty: ClusterMetadata = { clusterId: null, mode: 'zookeeper', controllerId: null, brokers: [], topics: [], reassignments: [], quorum: null };
    const report = evaluateHealth({
      metadata: empty,
      kafkaError: 'KafkaJSConnectionError: Connection timeout',
      expected: [1, 2].map((id) => expectedNode(id)),
      hosts: [1, 2].map((id) => hostObservation(id)),
      checkedAt: CHECKED_AT,
    });

    expect(report.findings).toEqual([
      {
        code: 'METADATA_UNAVAILABLE',
        severity: 'critical',
        message: 'Cluster metadata could not be read over the Kafka protocol: KafkaJSConnectionError: Connection timeout.',
        subject: {},
      },
    ]);
    expect(report.brokers.map((b) => [b.nodeId, b.registered, b.processRunning])).toEqual([
      [1, null, true],
      [2, null, true],
    ]);
    expect(report.status).toBe('critical');
  });

  it('keeps the report bounded on a 100k-partition cluster with a broker down', () => {
    const ids = Array.from({ length: 30 }, (_, i) => i + 1);
    const builder = ClusterBuilder.kraft().brokers(...ids).quorum(quorum(3001).voters(3000, 3001, 3002));
    for (let t = 0; t < 500; t++) builder.topic(`topic-${t}`, { minIsr: 2 }, (tb) => tb.partitionsRoundRobin(200, 3, ids));
    // RF 1 on the stopped broker: 400 topics with an offline partition, more findings than the cap.
    for (let t = 0; t < 400; t++) builder.topic(`single-${t}`, { minIsr: 1 }, (tb) => tb.partition([30]));
    const metadata = builder.stopBroker(30).build();
    const inventory = { expected: ids.map((id) => expectedNode(id)), hosts: ids.map((id) => hostObservation(id)) };

    const report = evaluate(metadata, inventory);

    expect(report.partitions.total).toBe(100_400);
    expect(report.partitions.offline).toMatchObject({ count: 400, truncated: 200 });
    expect(report.partitions.offline.items).toHaveLength(200);
    // Broker 30 is on 18 of every topic's 200 partitions (round robin, RF 3, 30 brokers).
    expect(report.partitions.underReplicated.count).toBe(18 * 500);
    expect(report.partitions.underReplicated.items).toHaveLength(200);
    expect(report.findings).toHaveLength(200);
    expect(report.findingsTruncated).toBe(402 - 200);
    expect(report.findings.every((f) => f.severity === 'critical')).toBe(true);
    // 400 offline topics + broker 30 not registered (critical, kept) + one URP finding for broker 30 (cut).
    expect(report.findings.some((f) => f.code === 'UNDER_REPLICATED')).toBe(false);
    expect(JSON.stringify(report).length).toBeLessThan(150_000);
  });

  it('names at most ten partitions in a message and fifty in a subject', () => {
    const metadata = threeBrokerCluster()
      .topic('wide', { minIsr: 1 }, (t) => {
        for (let i = 0; i < 60; i++) t.partition([3]);
        return t;
      })
      .stopBroker(3)
      .build();
    const offline = finding(evaluate(metadata), 'OFFLINE_PARTITION');
    expect(offline.message).toBe(
      'Topic wide has 60 offline partitions (no leader): wide-0, wide-1, wide-2, wide-3, wide-4, wide-5, wide-6, wide-7, wide-8, wide-9 and 50 more.',
    );
    expect(offline.subject.partitions).toHaveLength(50);
  });

  it('rejects thresholds that make no sense', () => {
    const metadata = threeBrokerCluster().build();
    expect(() => evaluate(metadata, threeBrokerInventory(), { diskWarnPercent: 96 })).toThrow(RangeError);
    expect(() => evaluate(metadata, threeBrokerInventory(), { diskCriticalPercent: 120 })).toThrow(/critical \(120\)/);
    expect(() => evaluate(metadata, threeBrokerInventory(), { quorumFetchTimeoutMs: 0 })).toThrow(/quorumFetchTimeoutMs/);
  });

  it('is deterministic and JSON round-trips (it travels through workflow history)', () => {
    const metadata = threeBrokerCluster().stopBroker(2).build();
    const a = evaluate(metadata);
    expect(evaluate(metadata)).toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });
});
