/**
 * Prometheus metrics of the runbooks, read from Temporal (visibility, the progress query, results of ended
 * runs) when scraped, at most once per `minRefreshMs`: runs by runbook and status, gates waiting and their age,
 * step durations, nodes restarted and bytes moved. The SDK's own metrics stay on the worker's endpoint
 * (KAFKA_RUNBOOKS_METRICS_ADDRESS).
 */
import { type Client } from '@temporalio/client';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { progressQuery, type RunbookProgress, SA_CLUSTER } from '../names';
import { RUNBOOKS } from '../runbooks/registry';
import { taskQueue } from '../run-operations';

export interface ObservedRun {
  workflowId: string;
  runbook: string;
  cluster: string | null;
  /** Temporal's execution status (Running, Completed, Failed, Canceled, Terminated, TimedOut). */
  temporalStatus: string;
  /** When it ended; null while it runs. */
  closeTime?: string | null;
  /** This run of the workflow ID: a result read by ID alone would follow a newer run with the same ID. */
  runId?: string;
}

/** What the metrics read from Temporal; a fake in unit tests. */
export interface MetricsSource {
  /** Runs of one workflow type on our task queue, counted by Temporal execution status. */
  countByStatus(workflowType: string): Promise<Record<string, number>>;
  running(): Promise<ObservedRun[]>;
  /** Runs that ended after `since`. */
  closedSince(since: Date): Promise<ObservedRun[]>;
  progress(workflowId: string): Promise<RunbookProgress | null>;
  /** The result of a run that completed, or null. */
  result(workflowId: string, runId?: string): Promise<unknown>;
}

/** Step names carry node names and batch numbers; digits become N so the label's values stay few. */
export const stepLabel = (name: string): string => name.replace(/\d+/g, 'N').slice(0, 120);

/** Nodes a completed run restarted (a rolling restart's nodes, and its protocol roll's). */
export function nodesRestartedBy(runbook: string, result: unknown): number {
  if (runbook !== 'rollingRestart' || !result || typeof result !== 'object') return 0;
  const r = result as { nodes?: { outcome?: string }[]; finalized?: { roll?: { outcome?: string }[] | null } | null };
  const restarted = (nodes: { outcome?: string }[] | null | undefined) => (nodes ?? []).filter((n) => n.outcome === 'restarted').length;
  return restarted(r.nodes) + restarted(r.finalized?.roll);
}

/** Bytes a completed reassignment copied (its plan's size); the broker runbooks' child reassignments are counted as themselves. */
export function bytesMovedBy(runbook: string, result: unknown): number {
  if (runbook !== 'reassignPartitions' || !result || typeof result !== 'object') return 0;
  const b = (result as { bytesMoved?: unknown }).bytesMoved;
  return typeof b === 'number' && Number.isFinite(b) && b > 0 ? b : 0;
}

export class RunbookMetrics {
  readonly registry = new Registry();
  private readonly runs = new Gauge({ name: 'kafka_runbooks_runs', help: 'Runbook runs by runbook and Temporal execution status', labelNames: ['runbook', 'status'], registers: [this.registry] });
  private readonly active = new Gauge({
    name: 'kafka_runbooks_runs_active',
    help: 'Running runbook runs by their own status (Running, Paused, WaitingForApproval, Aborting)',
    labelNames: ['runbook', 'cluster', 'status'],
    registers: [this.registry],
  });
  private readonly gatesWaiting = new Gauge({ name: 'kafka_runbooks_gates_waiting', help: 'Gates waiting for an answer', labelNames: ['runbook', 'cluster'], registers: [this.registry] });
  private readonly gateAge = new Gauge({
    name: 'kafka_runbooks_gate_waiting_seconds',
    help: 'How long each open gate has waited for an answer',
    labelNames: ['runbook', 'cluster', 'workflow_id', 'gate'],
    registers: [this.registry],
  });
  private readonly stepDuration = new Histogram({
    name: 'kafka_runbooks_step_duration_seconds',
    help: 'Duration of finished runbook steps (digits in step names replaced by N)',
    labelNames: ['runbook', 'step', 'state'],
    buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600],
    registers: [this.registry],
  });
  private readonly nodesRestarted = new Counter({ name: 'kafka_runbooks_nodes_restarted_total', help: 'Nodes restarted by completed rolling restarts', labelNames: ['cluster'], registers: [this.registry] });
  private readonly bytesMoved = new Counter({ name: 'kafka_runbooks_bytes_moved_total', help: 'Bytes copied by completed reassignments', labelNames: ['cluster'], registers: [this.registry] });
  private readonly scrapeErrors = new Counter({ name: 'kafka_runbooks_metrics_refresh_errors_total', help: 'Failed reads of Temporal while refreshing these metrics', registers: [this.registry] });

  /** Steps already observed, per run, so a step counts once however often it is scraped. */
  private readonly observed = new Map<string, Set<number>>();
  /** Ended runs already counted, by ID, with their close time: each refresh looks back past the previous one. */
  private readonly counted = new Map<string, number>();
  private lastRefresh: Date | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly source: MetricsSource,
    private readonly opts: { minRefreshMs?: number; now?: () => Date } = {},
  ) {}

  /** The exposition text, refreshed first unless a refresh ran within minRefreshMs. */
  async scrape(): Promise<string> {
    const now = this.now();
    if (!this.lastRefresh || now.getTime() - this.lastRefresh.getTime() >= (this.opts.minRefreshMs ?? 5_000)) {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = null));
      await this.refreshing;
    }
    return this.registry.metrics();
  }

  async refresh(): Promise<void> {
    const now = this.now();
    const since = this.lastRefresh;
    this.lastRefresh = now;
    await this.guarded(() => this.refreshCounts());
    const running = (await this.guarded(() => this.source.running())) ?? [];
    this.active.reset();
    this.gatesWaiting.reset();
    this.gateAge.reset();
    const gatesSeen = new Set<string>();
    for (const run of running) {
      const p = await this.guarded(() => this.source.progress(run.workflowId));
      if (!p) continue;
      this.active.inc({ runbook: run.runbook, cluster: run.cluster ?? '', status: p.status });
      this.observeSteps(run, p);
      for (const g of p.pendingGates ?? []) {
        // A child's gate shows in its parent's progress too: count it once, where it waits.
        const key = `${g.workflowId}\u0000${g.name}`;
        if (gatesSeen.has(key)) continue;
        gatesSeen.add(key);
        const labels = { runbook: run.runbook, cluster: run.cluster ?? '' };
        this.gatesWaiting.inc(labels);
        this.gateAge.set({ ...labels, workflow_id: g.workflowId, gate: g.name }, Math.max(0, (now.getTime() - Date.parse(g.since)) / 1000));
      }
    }
    // Counters start when this process starts: runs that ended before the first refresh are not counted.
    if (since) {
      // Visibility records a close a little after it happens: look back a minute further, and count each run once.
      const from = new Date(since.getTime() - VISIBILITY_LAG_MS);
      for (const [id, closed] of this.counted) if (closed < from.getTime() - VISIBILITY_LAG_MS) this.counted.delete(id);
      for (const run of (await this.guarded(() => this.source.closedSince(from))) ?? []) {
        if (this.counted.has(run.workflowId)) continue;
        this.counted.set(run.workflowId, run.closeTime ? Date.parse(run.closeTime) : now.getTime());
        const p = await this.guarded(() => this.source.progress(run.workflowId));
        if (p) this.observeSteps(run, p);
        this.observed.delete(run.workflowId);
        if (run.temporalStatus !== 'Completed') continue;
        const result = await this.guarded(() => this.source.result(run.workflowId, run.runId));
        const cluster = run.cluster ?? '';
        const nodes = nodesRestartedBy(run.runbook, result);
        const bytes = bytesMovedBy(run.runbook, result);
        if (nodes > 0) this.nodesRestarted.inc({ cluster }, nodes);
        if (bytes > 0) this.bytesMoved.inc({ cluster }, bytes);
      }
    }
  }

  private async refreshCounts(): Promise<void> {
    const counts = await Promise.all(Object.values(RUNBOOKS).map(async (r) => [r.workflowType, await this.source.countByStatus(r.workflowType)] as const));
    this.runs.reset();
    for (const [runbook, byStatus] of counts) for (const [status, n] of Object.entries(byStatus)) this.runs.set({ runbook, status }, n);
  }

  private observeSteps(run: ObservedRun, p: RunbookProgress): void {
    const seen = this.observed.get(run.workflowId) ?? new Set<number>();
    this.observed.set(run.workflowId, seen);
    p.steps.forEach((s, i) => {
      if (seen.has(i) || s.endedAt === null || s.state === 'running') return;
      seen.add(i);
      const seconds = (Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000;
      if (Number.isFinite(seconds) && seconds >= 0) this.stepDuration.observe({ runbook: run.runbook, step: stepLabel(s.name), state: s.state }, seconds);
    });
  }

  private async guarded<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch {
      this.scrapeErrors.inc();
      return null;
    }
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }
}

/** How much later than a run's close visibility may list it as closed. */
const VISIBILITY_LAG_MS = 60_000;

const STATUSES = ['Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'TimedOut', 'ContinuedAsNew'];

/** The metrics' reads against a Temporal client. */
export function temporalMetricsSource(client: Client): MetricsSource {
  const base = () => `TaskQueue = '${taskQueue().replace(/'/g, '')}'`;
  const list = async (query: string, limit: number): Promise<ObservedRun[]> => {
    const out: ObservedRun[] = [];
    for await (const w of client.workflow.list({ query })) {
      out.push({
        workflowId: w.workflowId,
        runbook: w.type,
        cluster: w.typedSearchAttributes.get(SA_CLUSTER) ?? null,
        temporalStatus: w.status.name === 'RUNNING' ? 'Running' : titleCase(w.status.name),
        closeTime: w.closeTime?.toISOString() ?? null,
        runId: w.runId,
      });
      if (out.length >= limit) break;
    }
    return out;
  };
  return {
    async countByStatus(workflowType) {
      const counts: Record<string, number> = {};
      for (const status of STATUSES) {
        const { count } = await client.workflow.count(`${base()} AND WorkflowType = '${workflowType}' AND ExecutionStatus = '${status}'`);
        if (count > 0) counts[status] = count;
      }
      return counts;
    },
    running: () => list(`${base()} AND WorkflowType != 'clusterLock' AND ExecutionStatus = 'Running'`, 1000),
    closedSince: (since) => list(`${base()} AND WorkflowType != 'clusterLock' AND CloseTime > '${since.toISOString()}'`, 1000),
    progress: (workflowId) => client.workflow.getHandle(workflowId).query(progressQuery),
    // That run only: following a newer run with the same ID would hang every scrape on a run still going.
    result: (workflowId, runId) => client.workflow.getHandle(workflowId, runId, { followRuns: false }).result(),
  };
}

function titleCase(status: string): string {
  const map: Record<string, string> = { COMPLETED: 'Completed', FAILED: 'Failed', CANCELLED: 'Canceled', TERMINATED: 'Terminated', TIMED_OUT: 'TimedOut', CONTINUED_AS_NEW: 'ContinuedAsNew' };
  return map[status] ?? status;
}
