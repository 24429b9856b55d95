import { canRestartController, quorumVoterStatus } from '../../../src/health';
import { quorum } from './builder';

describe('canRestartController', () => {
  describe('three voters', () => {
    it('allows any voter, the leader included, when all are caught up', () => {
      const q = quorum(3001).voters(3000, 3001, 3002).build();
      for (const id of [3000, 3001, 3002]) expect(canRestartController(q, id)).toEqual({ safe: true, reasons: [], ignored: [] });
    });

    it('blocks a caught-up voter while another lags, but allows restarting the lagging one', () => {
      const q = quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: 5000, lagOffsets: 40 }).build();

      expect(canRestartController(q, 3000)).toEqual({
        safe: false,
        reasons: [
          'Without controller 3000, only 1 of 3 voters would be caught up; 2 are needed (majority 2). ' +
            'Lagging voters: 3002: last caught up 5000 ms before the leader 3001 (fetch timeout 2000 ms), 40 offsets behind.',
        ],
        ignored: [],
      });
      expect(canRestartController(q, 3001).safe).toBe(false);
      expect(canRestartController(q, 3002).safe).toBe(true);
    });

    it('counts a voter as caught up only when strictly within the fetch timeout', () => {
      const within = quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: 1999 }).build();
      const at = quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: 2000 }).build();
      expect(canRestartController(within, 3000).safe).toBe(true);
      expect(canRestartController(at, 3000).safe).toBe(false);
      expect(canRestartController(at, 3000, 2500).safe).toBe(true);
    });

    it('treats a voter the leader never saw caught up as lagging', () => {
      const q = quorum(3001).voter(3000).voter(3001).voter(3002, { behindMs: null }).build();
      expect(canRestartController(q, 3000).reasons[0]).toContain('3002: the leader 3001 has never seen it caught up');
    });
  });

  describe('five voters', () => {
    it('tolerates one lagging voter: any other voter may go', () => {
      const q = quorum(1).voter(1).voter(2).voter(3).voter(4).voter(5, { behindMs: 30_000 }).build();
      for (const id of [1, 2, 3, 4, 5]) expect(canRestartController(q, id).safe).toBe(true);
    });

    it('with two lagging voters, only a lagging one may go', () => {
      const q = quorum(1).voter(1).voter(2).voter(3).voter(4, { behindMs: 30_000 }).voter(5, { behindMs: null }).build();

      expect(canRestartController(q, 2)).toMatchObject({ safe: false });
      expect(canRestartController(q, 2).reasons[0]).toMatch(/^Without controller 2, only 2 of 5 voters would be caught up; 3 are needed/);
      expect(canRestartController(q, 1).safe).toBe(false);
      expect(canRestartController(q, 4).safe).toBe(true);
      expect(canRestartController(q, 5).safe).toBe(true);
    });
  });

  it('refuses without quorum state or without a leader', () => {
    expect(canRestartController(null, 3000)).toEqual({
      safe: false,
      reasons: ['The KRaft quorum state is unknown: cannot tell whether the quorum survives losing controller 3000.'],
      ignored: [],
    });
    expect(canRestartController(quorum(-1).voters(3000, 3001, 3002).build(), 3000).reasons).toEqual([
      'The KRaft quorum has no leader: restarting controller 3000 could keep it leaderless.',
    ]);
  });
});

describe('quorumVoterStatus', () => {
  it('measures lag against the leader in offsets and milliseconds', () => {
    const q = quorum(2).voter(1, { behindMs: 300, lagOffsets: 7 }).voter(2).voter(3, { behindMs: null, lagOffsets: 500 }).build();
    expect(quorumVoterStatus(q)).toEqual([
      { nodeId: 1, leader: false, caughtUp: true, lagOffsets: 7, lagMs: 300 },
      { nodeId: 2, leader: true, caughtUp: true, lagOffsets: 0, lagMs: 0 },
      { nodeId: 3, leader: false, caughtUp: false, lagOffsets: 500, lagMs: null },
    ]);
  });
});
