import { evaluateHealth, renderHealthMarkdown } from '../../../src/health';
import { ClusterBuilder, expectedNode, hostObservation, quorum, threeBrokerCluster, threeBrokerInventory } from './builder';

describe('renderHealthMarkdown', () => {
  it('shows the status, a broker table, the quorum and the findings', () => {
    const inventory = threeBrokerInventory();
    inventory.hosts[2] = hostObservation(3, { processRunning: false });
    const metadata = threeBrokerCluster()
      .quorum(quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: 4000, lagOffsets: 12 }))
      .stopBroker(3)
      .build();
    const report = evaluateHealth({ metadata, ...inventory, checkedAt: '2025-01-01T00:00:00.000Z' });

    const md = renderHealthMarkdown(report, 'prod-east');
    const lines = md.split('\n');

    expect(lines[0]).toBe('### prod-east: CRITICAL');
    expect(lines[2]).toBe(
      'Checked 2025-01-01T00:00:00.000Z. 2 critical, 2 warning, 0 info. Partitions: 9 total, 0 offline, ' +
        '9 under-replicated, 0 under min ISR; 0 reassignments in flight.',
    );
    expect(md).toContain(
      [
        '**Brokers**',
        '',
        // Broker 3's three partitions moved to the next replica in their ISR, broker 1.
        '- broker 1 on kafka-1.lab: registered yes, running yes, version 3.9.2, 6 leaders, 9 replicas',
        '- broker 2 on kafka-2.lab: registered yes, running yes, version 3.9.2, 3 leaders, 9 replicas',
        '- broker 3 on kafka-3.lab: registered **no**, running **no**, version 3.9.2, 0 leaders, 9 replicas (9 offline)',
      ].join('\n'),
    );
    expect(md).toContain(
      '**Quorum** (KRaft): leader 3001, epoch 7; 2/3 voters caught up (majority 2): 3000, 3001 (leader), 3002 lagging 4000 ms, 12 offsets.',
    );
    expect(md).toContain(
      '- **critical** `BROKER_NOT_REGISTERED`: Broker 3 (kafka-3.lab) is not registered with the cluster; it holds replicas of 9 partitions.',
    );
    expect(md).toContain('- **warning** `UNDER_REPLICATED`: Broker 3 is missing from the ISR of 9 partitions:');
    // Critical findings are listed before warnings.
    expect(md.indexOf('PROCESS_NOT_RUNNING')).toBeLessThan(md.indexOf('QUORUM_VOTER_LAGGING'));
  });

  it('says so when there is nothing to report, and shows the ZooKeeper controller', () => {
    const metadata = ClusterBuilder.zookeeper()
      .brokers(1)
      .topic('t', { minIsr: 1 }, (t) => t.partition([1]))
      .controllerId(1)
      .build();
    const report = evaluateHealth({ metadata, expected: [expectedNode(1)], hosts: [hostObservation(1)], checkedAt: 'now' });

    const md = renderHealthMarkdown(report, 'lab');
    expect(md).toMatch(/^### lab: HEALTHY\n/);
    expect(md).toContain('**Controller** (ZooKeeper mode): broker 1.');
    expect(md).toContain('No findings.');
  });

  it('escapes table-breaking characters in names and messages', () => {
    const inventory = threeBrokerInventory();
    inventory.hosts[0] = hostObservation(1, { reachable: false, error: 'bad | line\nnext', processRunning: null });
    const report = evaluateHealth({ metadata: threeBrokerCluster().build(), ...inventory, checkedAt: 'now' });

    const md = renderHealthMarkdown(report, 'a|b');
    expect(md.split('\n')[0]).toBe('### a\\|b: CRITICAL');
    expect(md).toContain('`HOST_UNREACHABLE`: Host kafka-1.lab (node 1) is unreachable: bad \\| line next.');
    expect(md).toContain('- broker 1 on kafka-1.lab: registered yes, running ?, version 3.9.2, 3 leaders, 9 replicas');
  });

  it('leaves out the leader epoch when the tool output did not give one', () => {
    const built = threeBrokerCluster().build();
    const metadata = { ...built, quorum: built.quorum && { ...built.quorum, leaderEpoch: -1 } };
    const md = renderHealthMarkdown(evaluateHealth({ metadata, ...threeBrokerInventory(), checkedAt: 'now' }), 'c');
    expect(md).toContain('**Quorum** (KRaft): leader 3001; 3/3 voters caught up');
  });
});
