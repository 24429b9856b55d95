import { canRestartBroker, canRestartBrokers, isBrokerCaughtUp, partitionsLedBy, partitionsOnBroker } from '../../../src/health';
import { ClusterBuilder, quorum, threeBrokerCluster } from './builder';

const q = quorum(3001).voters(3000, 3001, 3002);

describe('canRestartBroker', () => {
  it('allows any broker of a healthy cluster', () => {
    const metadata = threeBrokerCluster().build();
    for (const id of [1, 2, 3]) expect(canRestartBroker(metadata, id)).toEqual({ safe: true, reasons: [], ignored: [] });
  });

  it('blocks a broker in an ISR that is exactly min.insync.replicas, and allows the one outside it', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3], { isr: [1, 2] }))
      .quorum(q)
      .build();

    expect(canRestartBroker(metadata, 1)).toEqual({
      safe: false,
      reasons: ['Taking down broker 1 would leave orders-0 with ISR [2], below min.insync.replicas=2.'],
      ignored: [],
    });
    expect(canRestartBroker(metadata, 2).safe).toBe(false);
    expect(canRestartBroker(metadata, 3)).toEqual({ safe: true, reasons: [], ignored: [] });
  });

  it('blocks every replica holder of a partition already below min.insync.replicas, even outside the ISR', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3], { isr: [1] }))
      .quorum(q)
      .build();

    expect(canRestartBroker(metadata, 3)).toEqual({
      safe: false,
      reasons: ['orders-0 is already below min.insync.replicas=2 (ISR [1]) and broker 3 holds a replica.'],
      ignored: [],
    });
    expect(canRestartBroker(metadata, 4).safe).toBe(true);
  });

  it('does not let topics with RF <= min.insync.replicas block forever, and says it skipped them', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partitionsRoundRobin(3, 3, [1, 2, 3]))
      .topic('scratch', { minIsr: 1 }, (t) => t.partition([1]).partition([2]).partition([1]))
      .topic('audit', { minIsr: 2 }, (t) => t.partition([1, 2]))
      .quorum(q)
      .build();

    expect(canRestartBroker(metadata, 1)).toEqual({
      safe: true,
      reasons: [],
      ignored: [
        'Topic scratch: 2 partitions (scratch-0, scratch-2) not checked: replication factor 1 <= min.insync.replicas 1, so no restart can keep them writable.',
        'Topic audit: 1 partition (audit-0) not checked: replication factor 2 <= min.insync.replicas 2, so no restart can keep it writable.',
      ],
    });
  });

  it('blocks every broker while any partition of the cluster is offline', () => {
    const metadata = threeBrokerCluster()
      .topic('events', { minIsr: 1 }, (t) => t.partition([3]))
      .stopBroker(3)
      .build();

    const decision = canRestartBroker(metadata, 1);
    expect(decision.safe).toBe(false);
    expect(decision.reasons[0]).toBe('1 partition is offline (events-0): bring it back before taking more brokers down.');
  });

  it('allows restarting a broker that is already down: nothing more is lost', () => {
    const metadata = threeBrokerCluster()
      .topic('events', { minIsr: 1 }, (t) => t.partition([3]))
      .stopBroker(3)
      .build();

    expect(canRestartBroker(metadata, 3)).toEqual({
      safe: true,
      reasons: [],
      ignored: ['Broker 3 is not registered: it is already down, so restarting it takes nothing more away.'],
    });
  });

  it('blocks while another broker is down and the partitions it shared would go below min.insync.replicas', () => {
    const metadata = threeBrokerCluster().stopBroker(3).build();

    const decision = canRestartBroker(metadata, 1);
    expect(decision.safe).toBe(false);
    expect(decision.reasons).toHaveLength(9);
    expect(decision.reasons[0]).toBe('Taking down broker 1 would leave orders-0 with ISR [2], below min.insync.replicas=2.');
    expect(decision.reasons).toContain('Taking down broker 1 would leave __consumer_offsets-2 with ISR [2], below min.insync.replicas=2.');
  });

  it('does not count ISR members that are no longer registered', () => {
    // Metadata that still lists dead broker 3 in the ISR must not make restarting broker 1 look safe.
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3], { isr: [1, 2, 3] }))
      .quorum(q)
      .build();

    expect(canRestartBroker(metadata, 1).reasons).toEqual([
      'Taking down broker 1 would leave orders-0 with ISR [2], below min.insync.replicas=2.',
    ]);
  });

  it('blocks the brokers an in-flight reassignment involves, and only those', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4, 5)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]).partition([5, 2, 3]))
      .reassigning('orders', 0, { adding: [4], removing: [1] })
      .quorum(q)
      .build();

    expect(canRestartBroker(metadata, 4)).toEqual({
      safe: false,
      reasons: ['Reassignment of orders-0 is in flight and involves broker 4 (adding [4], removing [1]).'],
      ignored: [],
    });
    expect(canRestartBroker(metadata, 1).reasons).toEqual([
      'Reassignment of orders-0 is in flight and involves broker 1 (adding [4], removing [1]).',
    ]);
    expect(canRestartBroker(metadata, 5)).toEqual({ safe: true, reasons: [], ignored: [] });
  });

  it('caps the reasons so a decision stays small', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('big', { minIsr: 2 }, (t) => {
        for (let i = 0; i < 120; i++) t.partition([1, 2, 3], { isr: [1, 2] });
        return t;
      })
      .quorum(q)
      .build();

    const decision = canRestartBroker(metadata, 1);
    expect(decision.reasons).toHaveLength(51);
    expect(decision.reasons[50]).toBe('...and 70 more');
  });
});

describe('canRestartBrokers', () => {
  // Two groups of three brokers; each partition lives inside one group.
  const sixBrokers = () =>
    ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4, 5, 6)
      .topic('t', { minIsr: 2 }, (tb) => tb.partition([1, 2, 3]).partition([4, 5, 6]).partition([2, 3, 1]))
      .quorum(q)
      .build();

  it('allows brokers that share no partition to go together', () => {
    expect(canRestartBrokers(sixBrokers(), [1, 4])).toEqual({ safe: true, reasons: [], ignored: [] });
  });

  it('counts every ISR member of the batch as gone', () => {
    const decision = canRestartBrokers(sixBrokers(), [1, 2]);
    expect(decision.safe).toBe(false);
    expect(decision.reasons).toEqual([
      'Taking down brokers 1, 2 would leave t-0 with ISR [3], below min.insync.replicas=2.',
      'Taking down brokers 1, 2 would leave t-2 with ISR [3], below min.insync.replicas=2.',
    ]);
  });

  it('treats repeated ids as one broker and an empty batch as safe', () => {
    expect(canRestartBrokers(sixBrokers(), [1, 1])).toEqual(canRestartBroker(sixBrokers(), 1));
    expect(canRestartBrokers(sixBrokers(), [1, 1]).safe).toBe(true);
    expect(canRestartBrokers(sixBrokers(), [])).toEqual({ safe: true, reasons: [], ignored: [] });
  });

  it('with RF 5 and min ISR 2, allows three of the five down at once but not four', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4, 5)
      .topic('wide', { minIsr: 2 }, (tb) => tb.partition([1, 2, 3, 4, 5]))
      .quorum(q)
      .build();
    expect(canRestartBrokers(metadata, [1, 2, 3]).safe).toBe(true);
    expect(canRestartBrokers(metadata, [1, 2, 3, 4]).reasons).toEqual([
      'Taking down brokers 1, 2, 3, 4 would leave wide-0 with ISR [5], below min.insync.replicas=2.',
    ]);
  });
});

describe('isBrokerCaughtUp', () => {
  it('is not caught up while the broker is not registered', () => {
    const status = isBrokerCaughtUp(threeBrokerCluster().stopBroker(3).build(), 3);
    expect(status).toMatchObject({ brokerId: 3, registered: false, caughtUp: false, partitionsChecked: 9 });
    expect(status.catchingUp.count).toBe(9);
  });

  it('names the partitions whose ISR the broker has not rejoined yet', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]).partition([2, 3, 1], { isr: [2, 1] }).partition([3, 1, 2], { isr: [1, 2] }))
      .quorum(q)
      .build();

    expect(isBrokerCaughtUp(metadata, 3)).toEqual({
      brokerId: 3,
      registered: true,
      caughtUp: false,
      partitionsChecked: 3,
      catchingUp: { count: 2, items: ['orders-1', 'orders-2'], truncated: 0 },
    });
    expect(isBrokerCaughtUp(metadata, 1).caughtUp).toBe(true);
  });

  it('ignores replicas a reassignment is still adding', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3, 4)
      .topic('orders', { minIsr: 2 }, (t) => t.partition([1, 2, 3]).partition([4, 1, 2]))
      .reassigning('orders', 0, { adding: [4], removing: [3] })
      .quorum(q)
      .build();

    expect(isBrokerCaughtUp(metadata, 4)).toMatchObject({ caughtUp: true, partitionsChecked: 1 });
  });
});

describe('partitionsOnBroker / partitionsLedBy', () => {
  it('lists every partition with a replica on the broker, and those it leads', () => {
    const metadata = ClusterBuilder.kraft()
      .brokers(1, 2, 3)
      .topic('a', { minIsr: 1 }, (t) => t.partition([1, 2]).partition([2, 3]).partition([3, 1]))
      .quorum(q)
      .build();

    expect(partitionsOnBroker(metadata, 1).map((p) => `${p.topic}-${p.partition}`)).toEqual(['a-0', 'a-2']);
    expect(partitionsLedBy(metadata, 3).map((p) => `${p.topic}-${p.partition}`)).toEqual(['a-2']);
    expect(partitionsOnBroker(metadata, 9)).toEqual([]);
  });
});
