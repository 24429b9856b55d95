import { BROKER_STATE_LOG_PATTERN, brokerStateFrom, parseLeaderElection, partitionsToLeadAgain, versionFromClientsJar } from '../../../src/rolling';
import { ClusterBuilder } from '../health/builder';

// Lines as Kafka 3.9.2 and 4.3.1 print them on the lab.
const lifecycle = (what: string) => `[2026-11-21 11:15:02,726] INFO [BrokerLifecycleManager id=2] ${what} (org.apache.kafka.server.BrokerLifecycleManager)`;

describe('brokerStateFrom', () => {
  it('reads the KRaft lifecycle: STARTING, RECOVERY, RUNNING, controlled shutdown', () => {
    expect(brokerStateFrom(true, lifecycle('Incarnation 6anY of broker 2 in cluster uHiv is now STARTING.')).state).toBe('STARTING');
    expect(brokerStateFrom(true, lifecycle('The broker has caught up. Transitioning from STARTING to RECOVERY.')).state).toBe('RECOVERY');
    expect(brokerStateFrom(true, lifecycle('The broker has been unfenced. Transitioning from RECOVERY to RUNNING.'))).toEqual({
      state: 'RUNNING',
      evidence: lifecycle('The broker has been unfenced. Transitioning from RECOVERY to RUNNING.'),
    });
    expect(brokerStateFrom(true, lifecycle('Transitioning from RUNNING to PENDING_CONTROLLED_SHUTDOWN.')).state).toBe('PENDING_CONTROLLED_SHUTDOWN');
  });

  it('reads a previous run\'s final line, with the process up again, as STARTING', () => {
    const line = '[2026-11-21 11:15:30,914] INFO [BrokerServer id=2] Transition from SHUTTING_DOWN to SHUTDOWN (kafka.server.BrokerServer)';
    expect(brokerStateFrom(true, line)).toEqual({ state: 'STARTING', evidence: `process running; the last line is from the previous run: ${line}` });
    expect(brokerStateFrom(true, '[x] INFO [KafkaServer id=1] shut down completed (kafka.server.KafkaServer)').state).toBe('STARTING');
  });

  it('reads ZooKeeper mode, a stopped process, and says UNKNOWN when nothing tells', () => {
    expect(brokerStateFrom(true, '[x] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)').state).toBe('RUNNING');
    expect(brokerStateFrom(true, '[x] INFO [KafkaServer id=1] shutting down (kafka.server.KafkaServer)').state).toBe('SHUTTING_DOWN');
    expect(brokerStateFrom(false, lifecycle('Transitioning from RECOVERY to RUNNING.')).state).toBe('NOT_RUNNING');
    expect(brokerStateFrom(true, null)).toEqual({ state: 'UNKNOWN', evidence: 'process running; no lifecycle line in server.log' });
  });

  it('has a grep pattern that matches exactly the lines it parses', () => {
    const re = new RegExp(BROKER_STATE_LOG_PATTERN);
    expect(re.test(lifecycle('The broker has been unfenced. Transitioning from RECOVERY to RUNNING.'))).toBe(true);
    expect(re.test('[x] INFO [BrokerServer id=2] Transition from SHUTTING_DOWN to SHUTDOWN (kafka.server.BrokerServer)')).toBe(true);
    // The server's own STARTING -> STARTED comes after RUNNING and would hide it.
    expect(re.test('[x] INFO [BrokerServer id=2] Transition from STARTING to STARTED (kafka.server.BrokerServer)')).toBe(false);
    expect(re.test(lifecycle('The broker is in RECOVERY.'))).toBe(false);
  });
});

describe('parseLeaderElection', () => {
  it('splits elected, already preferred and failed partitions; ElectionNotNeeded is not a failure', () => {
    const output = [
      'Successfully completed leader election (PREFERRED) for partitions orders-2, orders-3, __consumer_offsets-7',
      'Valid replica already elected for partitions orders-0',
      'Error completing leader election (PREFERRED) for partition: orders-1: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed to elect leader for partition orders-1 under strategy PreferredReplicaPartitionLeaderElectionStrategy',
      'Error completing leader election (PREFERRED) for partition: orders-4: org.apache.kafka.common.errors.ElectionNotNeededException: Leader election not needed for topic partition.',
      'Exception in thread "main" org.apache.kafka.server.common.AdminCommandFailedException: 1 replica(s) could not be elected',
    ].join('\n');
    expect(parseLeaderElection(output)).toEqual({
      elected: ['orders-2', 'orders-3', '__consumer_offsets-7'],
      alreadyPreferred: ['orders-0', 'orders-4'],
      failed: [
        {
          partition: 'orders-1',
          error: 'org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed to elect leader for partition orders-1 under strategy PreferredReplicaPartitionLeaderElectionStrategy',
        },
      ],
    });
  });

  it('reads silence (nothing needed electing) as success with nothing elected', () => {
    expect(parseLeaderElection('')).toEqual({ elected: [], alreadyPreferred: [], failed: [] });
  });
});

describe('versionFromClientsJar', () => {
  it('reads the version a JVM has loaded', () => {
    expect(versionFromClientsJar('kafka-clients-4.3.1.jar')).toBe('4.3.1');
    expect(versionFromClientsJar('kafka-clients-3.9.2-ce.jar')).toBe('3.9.2-ce');
    expect(versionFromClientsJar('kafka_2.13-3.9.2.jar')).toBeNull();
  });
});

describe('partitionsToLeadAgain', () => {
  it('lists the partitions a node is the preferred leader of but does not lead', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(6, 3, [1, 2, 3]))
      .build();
    // Partitions 0 and 3 prefer broker 1; move the leadership of 3 away, as a restart of broker 1 would.
    const p3 = metadata.topics[0]?.partitions[3];
    if (!p3) throw new Error('no orders-3');
    p3.leader = p3.replicas[1] as number;
    expect(metadata.topics[0]?.partitions.filter((p) => p.replicas[0] === 1).map((p) => p.partition)).toEqual([0, 3]);
    expect(partitionsToLeadAgain(metadata, 1)).toEqual([{ topic: 'orders', partition: 3 }]);
    expect(partitionsToLeadAgain(metadata, 2)).toEqual([]);
  });
});
