import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOW_BUG_ERROR_TYPES } from '../../src/names';
import { decodeSavedHistory, loadSavedHistories } from '../support/histories';
import { silentLogger } from '../support/temporal';

/**
 * Replays saved histories of representative runs (a gate approved, an abort with undo, a worker restart, a
 * child reassignment) against today's workflow code, the bundle the worker deploys. A change that would
 * break runs in flight (they can wait days at a gate) fails here, before a deploy: put it behind
 * `patched()` (see the README's "Changing workflow code"), or re-record when no run can be in flight.
 */
const saved = loadSavedHistories();
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: silentLogger });
}, 120_000);

test('the fixtures cover a gate approved, an abort with undo, a worker restart and a child run', () => {
  const scenarios = saved.map((s) => s.scenario).join('\n');
  for (const kind of ['gate approved', 'abort with undo', 'worker restart', 'child']) expect(scenarios).toContain(kind);
});

test.each(saved.map((s) => [s.file, s] as const))('%s replays on the current workflow code', async (_file, s) => {
  const results = Worker.runReplayHistories(
    { workflowBundle: bundle, workflowFailureErrorTypes: WORKFLOW_BUG_ERROR_TYPES, replayName: s.file },
    [{ workflowId: s.workflowId, history: decodeSavedHistory(s) }],
  );
  for await (const r of results) expect(r.error?.message ?? null).toBeNull();
});
