import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { type Client } from '@temporalio/client';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Saved histories of representative runs, replayed against the current workflow code in CI. */
export const HISTORIES_DIR = resolve(__dirname, '../workflow/histories');

export interface SavedHistory {
  /** Histories carry no workflow ID; runbooks derive child IDs from it, so replay needs it. */
  workflowId: string;
  /** What the run did, for the reader of a failing replay. */
  scenario: string;
  history: unknown;
}

/**
 * Saves a finished run's history (and its children's, named `<name>.child-<n>`) as a replay fixture, only
 * when RECORD_HISTORIES=1: `RECORD_HISTORIES=1 npx jest test/workflow -t '<test>'` re-records after a
 * deliberate, patched or not-yet-deployed change.
 */
export async function saveHistory(client: Client, name: string, scenario: string, workflowIds: string[]): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  for (const [i, workflowId] of workflowIds.entries()) {
    const history = JSON.parse(historyToJSON(await client.workflow.getHandle(workflowId).fetchHistory())) as unknown;
    const file = join(HISTORIES_DIR, `${name}${i === 0 ? '' : `.child-${i}`}.json`);
    writeFileSync(file, `${JSON.stringify({ workflowId, scenario, history } satisfies SavedHistory)}\n`);
  }
}

export function loadSavedHistories(): (SavedHistory & { file: string })[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as SavedHistory) }));
}
