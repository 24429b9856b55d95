import { migrationPreflight, type MigrationPreflightReadings, summariseNodeConfig } from '../../../src/migration';

const cfg = (id: number, extra = '') => summariseNodeConfig(`kafka-${id}`, `broker.id=${id}\nzookeeper.connect=zk:2181\ninter.broker.protocol.version=3.9\n${extra}`);
const healthy = (): MigrationPreflightReadings => ({
  brokers: [1, 2, 3].map((id) => ({ host: `kafka-${id}`, nodeId: id, kafkaVersion: '3.9.2', config: cfg(id) })),
  controllers: [3000, 3001, 3002].map((nodeId) => ({ host: `ctl-${nodeId}`, nodeId })),
  healthBlocking: [],
  reassignmentsInFlight: 0,
  assignedBrokerIds: [1, 2, 3],
  scramUsers: [],
  delegationTokens: 0,
});
const problems = (r: MigrationPreflightReadings) => migrationPreflight(r).problems.join(' | ');

describe('migration preflight', () => {
  it('passes a healthy 3.9 cluster', () => expect(migrationPreflight(healthy())).toEqual({ problems: [], warnings: [], proposal: null }));
  it('refuses mixed versions, naming each broker', () => {
    const r = healthy();
    (r.brokers[1] as { kafkaVersion: string }).kafkaVersion = '3.8.1';
    expect(problems(r)).toContain('brokers run different versions (kafka-1: 3.9.2, kafka-2: 3.8.1, kafka-3: 3.9.2)');
  });
  it('refuses 4.x and pre-3.4', () => {
    const r = healthy();
    for (const b of r.brokers) b.kafkaVersion = '3.3.2';
    expect(problems(r)).toContain('the migration needs Kafka 3.4 to 3.9');
  });
  it('refuses an IBP below the running release and proposes the rolling upgrade first', () => {
    const r = healthy();
    r.brokers[0] = { ...(r.brokers[0] as MigrationPreflightReadings['brokers'][0]), config: summariseNodeConfig('kafka-1', 'broker.id=1\nzookeeper.connect=z:1\ninter.broker.protocol.version=3.6\n') };
    const p = migrationPreflight(r);
    expect(p.problems.join()).toContain('inter.broker.protocol.version is below the running release 3.9 on kafka-1 (3.6)');
    expect(p.proposal).toContain('rolling-restart runbook first with targetVersion 3.9.2');
  });
  it('refuses an unhealthy cluster and reassignments in flight', () => {
    const r = { ...healthy(), healthBlocking: ['2 partition(s) under min ISR (orders-0, orders-1)'], reassignmentsInFlight: 3 };
    expect(problems(r)).toContain('not healthy: 2 partition(s) under min ISR (orders-0, orders-1)');
    expect(problems(r)).toContain('3 partition reassignment(s) in flight');
  });
  it('refuses dead broker ids in assignments, naming them', () => expect(problems({ ...healthy(), assignedBrokerIds: [1, 2, 3, 7, 9] })).toContain('broker ids 7, 9 that no broker has'));
  it('refuses JBOD before 3.7 but not on 3.9', () => {
    const r = healthy();
    for (const b of r.brokers) {
      b.kafkaVersion = '3.6.2';
      b.config = summariseNodeConfig(b.host, `broker.id=${b.nodeId}\nlog.dirs=/d1,/d2\ninter.broker.protocol.version=3.6\n`);
    }
    expect(problems(r)).toContain('JBOD (several log.dirs) on kafka-1 (2 dirs)');
    for (const b of r.brokers) b.kafkaVersion = '3.9.2';
    expect(problems(r)).not.toContain('JBOD');
  });
  it('refuses SCRAM before 3.5, naming the users', () => {
    const r = { ...healthy(), scramUsers: ['alice'] };
    for (const b of r.brokers) {
      b.kafkaVersion = '3.4.1';
      b.config = summariseNodeConfig(b.host, `broker.id=${b.nodeId}\ninter.broker.protocol.version=3.4\n`);
    }
    expect(problems(r)).toContain('SCRAM credentials exist (users alice)');
  });
  it('refuses delegation tokens', () => expect(problems({ ...healthy(), delegationTokens: 2 })).toContain('2 delegation token(s) exist'));
  it('refuses a generated broker id and controller ids that clash with brokers', () => {
    const r = healthy();
    r.brokers[2] = { ...(r.brokers[2] as MigrationPreflightReadings['brokers'][0]), config: summariseNodeConfig('kafka-3', 'zookeeper.connect=z:1\n') };
    r.controllers[0] = { host: 'ctl-1', nodeId: 2 };
    expect(problems(r)).toContain('broker.id is not set explicitly on kafka-3');
    expect(problems(r)).toContain('controller node ids 2 (ctl-1) are also broker ids');
  });
});
