import { type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Saved histories of representative runs, replayed against the current workflow code in CI. */
export const HISTORIES_DIR = resolve(__dirname, '../workflow/histories');

export interface SavedHistory {
  /** Histories carry no workflow ID; runbooks derive child IDs from it, so replay needs it. */
  workflowId: string;
  /** What the run did, for the reader of a failing replay. */
  scenario: string;
  /** The history as Temporal's protobuf, base64: the SDK's JSON reader trips over two protobufjs copies here. */
  history: string;
}

/**
 * Saves finished runs' histories (a run and its children, named `<name>.child-<n>`) as replay fixtures, only
 * when RECORD_HISTORIES=1: `RECORD_HISTORIES=1 npx jest test/workflow -t '<test>'` re-records after a
 * deliberate, patched or not-yet-deployed change.
 */
export async function saveHistory(client: Client, name: string, scenario: string, workflowIds: string[]): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  for (const [i, workflowId] of workflowIds.entries()) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const encoded = Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('base64');
    const file = join(HISTORIES_DIR, `${name}${i === 0 ? '' : `.child-${i}`}.json`);
    writeFileSync(file, `${JSON.stringify({ workflowId, scenario, history: encoded } satisfies SavedHistory, null, 1)}\n`);
  }
}

export function loadSavedHistories(): (SavedHistory & { file: string })[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as SavedHistory) }));
}

export function decodeSavedHistory(s: SavedHistory): temporal.api.history.v1.History {
  return temporal.api.history.v1.History.decode(Buffer.from(s.history, 'base64'));
}
