import { type RunbookProgress, type StepRecord } from '../../../src/names';
import { type MetricsSource, type ObservedRun, RunbookMetrics, stepLabel } from '../../../src/serve/metrics';

/** Runbook metrics from what Temporal reports: a fake source stands in for visibility, queries and results. */

const step = (name: string, startedAt: string, endedAt: string | null, state: StepRecord['state'] = 'done'): StepRecord => ({ name, state, startedAt, endedAt, error: null });

function progress(p: Partial<RunbookProgress>): RunbookProgress {
  return { runbook: 'rollingRestart', cluster: 'lab', status: 'Running', currentStep: null, steps: [], pendingGate: null, pendingGates: [], activeChild: null, warnings: [], gates: [], paused: false, abort: null, detail: null, log: [], ...p };
}

function fakeSource() {
  const state = {
    counts: {} as Record<string, Record<string, number>>,
    running: [] as ObservedRun[],
    closed: [] as ObservedRun[],
    progress: new Map<string, RunbookProgress>(),
    results: new Map<string, unknown>(),
    closedSinceCalls: [] as Date[],
    resultCalls: [] as [string, string | undefined][],
  };
  const source: MetricsSource = {
    countByStatus: async (t) => state.counts[t] ?? {},
    running: async () => state.running,
    closedSince: async (since) => {
      state.closedSinceCalls.push(since);
      return state.closed;
    },
    progress: async (id) => state.progress.get(id) ?? null,
    result: async (id, runId) => {
      state.resultCalls.push([id, runId]);
      return state.results.get(id) ?? null;
    },
  };
  return { state, source };
}

/** The sum of a metric's samples that carry these labels. */
function total(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** One sample's value from the exposition text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('runbook metrics', () => {
  test('runs by runbook and status; gates waiting with their age, a child gate counted once; step durations observed once', async () => {
    const { state, source } = fakeSource();
    let now = new Date('2026-01-01T00:10:00Z');
    const m = new RunbookMetrics(source, { minRefreshMs: 0, now: () => now });
    state.counts = { rollingRestart: { Running: 1, Completed: 4 }, reassignPartitions: { Failed: 2 } };
    const parent = 'rollingRestart/lab/1';
    const child = `${parent}/slice-1`;
    const gate = { name: 'batch-2', prompt: 'p', since: '2026-01-01T00:08:00Z', deadline: null, onTimeout: 'reject' as const, approvers: null, choices: null, workflowId: child };
    state.running = [
      { workflowId: parent, runbook: 'rollingRestart', cluster: 'lab', temporalStatus: 'Running' },
      { workflowId: child, runbook: 'rollingRestartSlice', cluster: 'lab', temporalStatus: 'Running' },
    ];
    state.progress.set(parent, progress({ status: 'WaitingForApproval', pendingGates: [gate], steps: [step('preflight: healthy', '2026-01-01T00:00:00Z', '2026-01-01T00:00:02.5Z')] }));
    state.progress.set(child, progress({ status: 'WaitingForApproval', pendingGates: [gate], steps: [step('kafka-1: stop', '2026-01-01T00:01:00Z', '2026-01-01T00:01:20Z'), step('kafka-2: stop', '2026-01-01T00:02:00Z', null, 'running')] }));
    let text = await m.scrape();
    expect(sample(text, 'kafka_runbooks_runs', { runbook: 'rollingRestart', status: 'Completed' })).toBe(4);
    expect(sample(text, 'kafka_runbooks_runs', { runbook: 'reassignPartitions', status: 'Failed' })).toBe(2);
    expect(sample(text, 'kafka_runbooks_runs_active', { runbook: 'rollingRestart', status: 'WaitingForApproval' })).toBe(1);
    expect(total(text, 'kafka_runbooks_gates_waiting', { cluster: 'lab' })).toBe(1);
    expect(total(text, 'kafka_runbooks_gate_waiting_seconds', { cluster: 'lab' })).toBe(120);
    expect(sample(text, 'kafka_runbooks_gate_waiting_seconds', { workflow_id: child, gate: 'batch-2' })).toBe(120);
    expect(sample(text, 'kafka_runbooks_step_duration_seconds_count', { runbook: 'rollingRestartSlice', step: 'kafka-N: stop', state: 'done' })).toBe(1);
    expect(sample(text, 'kafka_runbooks_step_duration_seconds_sum', { runbook: 'rollingRestartSlice', step: 'kafka-N: stop' })).toBe(20);
    expect(sample(text, 'kafka_runbooks_step_duration_seconds_sum', { runbook: 'rollingRestart', step: 'preflight: healthy' })).toBe(2.5);

    // A minute later the gate is older, the running step has ended; steps already seen are not counted again.
    now = new Date('2026-01-01T00:11:00Z');
    state.progress.set(child, progress({ status: 'Running', steps: [step('kafka-1: stop', '2026-01-01T00:01:00Z', '2026-01-01T00:01:20Z'), step('kafka-2: stop', '2026-01-01T00:02:00Z', '2026-01-01T00:02:30Z')] }));
    state.progress.set(parent, progress({ status: 'Running', pendingGates: [], steps: [step('preflight: healthy', '2026-01-01T00:00:00Z', '2026-01-01T00:00:02.5Z')] }));
    text = await m.scrape();
    expect(sample(text, 'kafka_runbooks_gates_waiting', { cluster: 'lab' })).toBeUndefined();
    expect(sample(text, 'kafka_runbooks_step_duration_seconds_count', { runbook: 'rollingRestartSlice', step: 'kafka-N: stop' })).toBe(2);
    expect(sample(text, 'kafka_runbooks_step_duration_seconds_sum', { runbook: 'rollingRestartSlice', step: 'kafka-N: stop' })).toBe(50);
    expect(sample(text, 'kafka_runbooks_step_duration_seconds_count', { runbook: 'rollingRestart', step: 'preflight: healthy' })).toBe(1);
  });

  test('nodes restarted and bytes moved count runs that completed since the last refresh, once', async () => {
    const { state, source } = fakeSource();
    const m = new RunbookMetrics(source, { minRefreshMs: 0 });
    state.closed = [{ workflowId: 'old', runbook: 'rollingRestart', cluster: 'lab', temporalStatus: 'Completed' }];
    state.results.set('old', { nodes: [{ outcome: 'restarted' }] });
    let text = await m.scrape();
    // the first refresh only sets where counting starts
    expect(state.closedSinceCalls).toEqual([]);
    expect(sample(text, 'kafka_runbooks_nodes_restarted_total', { cluster: 'lab' })).toBeUndefined();

    state.closed = [
      { workflowId: 'rr', runbook: 'rollingRestart', cluster: 'lab', temporalStatus: 'Completed' },
      { workflowId: 'rr-failed', runbook: 'rollingRestart', cluster: 'lab', temporalStatus: 'Failed' },
      { workflowId: 'add/reassign', runbook: 'reassignPartitions', cluster: 'prod', temporalStatus: 'Completed' },
      { workflowId: 'add', runbook: 'addBrokers', cluster: 'prod', temporalStatus: 'Completed' },
    ];
    state.results.set('rr', { nodes: [{ outcome: 'restarted' }, { outcome: 'restarted' }, { outcome: 'skipped' }], finalized: { roll: [{ outcome: 'restarted' }] } });
    // a failed run is not counted, whatever it restarted before failing
    state.results.set('rr-failed', { nodes: [{ outcome: 'restarted' }] });
    state.results.set('add/reassign', { bytesMoved: 5_000_000 });
    state.results.set('add', { reassignment: { bytesMoved: 5_000_000 } });
    text = await m.scrape();
    expect(state.closedSinceCalls).toHaveLength(1);
    expect(sample(text, 'kafka_runbooks_nodes_restarted_total', { cluster: 'lab' })).toBe(3);
    expect(sample(text, 'kafka_runbooks_bytes_moved_total', { cluster: 'prod' })).toBe(5_000_000);

    // The next refresh looks back past the previous one (visibility lags): the same runs come back, counted once.
    text = await m.scrape();
    expect(sample(text, 'kafka_runbooks_nodes_restarted_total', { cluster: 'lab' })).toBe(3);
    expect(sample(text, 'kafka_runbooks_bytes_moved_total', { cluster: 'prod' })).toBe(5_000_000);
  });

  test("a completed run's result is read by its own run ID, never a newer run reusing the workflow ID", async () => {
    const { state, source } = fakeSource();
    const m = new RunbookMetrics(source, { minRefreshMs: 0 });
    await m.scrape();
    state.closed = [{ workflowId: 'rr', runId: 'run-1', runbook: 'rollingRestart', cluster: 'lab', temporalStatus: 'Completed' }];
    state.results.set('rr', { nodes: [{ outcome: 'restarted' }] });
    await m.scrape();
    expect(state.resultCalls).toEqual([['rr', 'run-1']]);
  });

  test('a failed read of Temporal is counted and leaves the other metrics served', async () => {
    const { state, source } = fakeSource();
    state.counts = { clusterHealth: { Completed: 1 } };
    const m = new RunbookMetrics({ ...source, running: async () => Promise.reject(new Error('unavailable')) }, { minRefreshMs: 0 });
    const text = await m.scrape();
    expect(sample(text, 'kafka_runbooks_runs', { runbook: 'clusterHealth', status: 'Completed' })).toBe(1);
    expect(text).toContain('kafka_runbooks_metrics_refresh_errors_total 1');
  });

  test('step labels keep few values', () => {
    expect(stepLabel('kafka-12: wait until it is back in every ISR')).toBe('kafka-N: wait until it is back in every ISR');
    expect(stepLabel('batch 3 of 10')).toBe('batch N of N');
  });
});
