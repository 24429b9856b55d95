import { type NodeReport, renderRollingReport } from '../../../src/rolling';

const node = (id: number, over: Partial<NodeReport> = {}): NodeReport => ({
  host: `kafka-${id}`,
  nodeId: id,
  oldVersion: '3.9.2',
  newVersion: '4.3.1',
  downMs: 12_340,
  guardWaitMs: 150,
  outcome: 'restarted',
  note: null,
  ...over,
});

describe('renderRollingReport', () => {
  it('shows every node with its versions and down time, the finalize and who decided each gate', () => {
    const md = renderRollingReport(
      {
        targetVersion: '4.3.1',
        batches: 3,
        nodes: [node(1), node(2, { outcome: 'rolled-back', newVersion: '3.9.2', downMs: null, note: 'broker 2 has not registered | 300 s' }), node(3, { outcome: 'not-started', newVersion: null, downMs: null })],
        finalized: null,
        finalizeSkipped: 'not every node runs 4.3.1 yet',
        gates: [{ gate: 'rollback-kafka-2', outcome: 'approved', approver: 'alice', reason: 'go' }],
        wallMs: 61_000,
      },
      'prod',
    );
    expect(md.split('\n')).toEqual([
      '### Rolling upgrade of prod to 4.3.1: 1 of 3 nodes restarted in 3 batches, 61.0 s',
      '',
      '| node | host | outcome | version before | version after | down | guard wait | note |',
      '|---|---|---|---|---|---|---|---|',
      '| 1 | kafka-1 | restarted | 3.9.2 | 4.3.1 | 12.3 s | 0.1 s | - |',
      '| 2 | kafka-2 | rolled-back | 3.9.2 | 3.9.2 | - | 0.1 s | broker 2 has not registered \\| 300 s |',
      '| 3 | kafka-3 | not-started | 3.9.2 | - | - | 0.1 s | - |',
      '',
      '**Not finalized:** not every node runs 4.3.1 yet',
      '',
      'Gates:',
      '',
      '- rollback-kafka-2: approved by alice (go)',
    ]);
  });

  it('names who paused and resumed the run, and whether the API vouched for them', () => {
    const md = renderRollingReport(
      {
        targetVersion: null,
        batches: 1,
        nodes: [node(1)],
        finalized: null,
        finalizeSkipped: null,
        gates: [],
        controlRequests: [
          { action: 'pause', by: 'alice via slack-bot', authenticated: true, reason: 'incident 42', at: '2026-01-01T00:00:00Z' },
          { action: 'resume', by: 'bob', authenticated: false, reason: null, at: '2026-01-01T00:05:00Z' },
        ],
        wallMs: 1000,
      },
      'prod',
    );
    expect(md.split('\n').slice(-4)).toEqual(['Pause, resume and abort requests:', '', '- pause by alice via slack-bot (incident 42)', '- resume by bob (unauthenticated)']);
  });
});
