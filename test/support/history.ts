import { type Client } from '@temporalio/client';

/** One run's history, measured: its events, its largest payload, and the same for each child it started. */
export interface RunHistory {
  workflowId: string;
  events: number;
  /** Bytes of the largest single payload in the run's history (data and metadata). */
  largestPayloadBytes: number;
  /** Bytes of every payload in the run's history together. */
  payloadBytes: number;
  children: RunHistory[];
}

/** Reads a run's history and, recursively, its children's (from their ChildWorkflowExecutionStarted events). */
export async function historyOf(client: Client, workflowId: string): Promise<RunHistory> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  let largest = 0;
  let total = 0;
  const childIds: string[] = [];
  for (const e of events) {
    for (const size of payloadSizes(e)) {
      largest = Math.max(largest, size);
      total += size;
    }
    const child = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId;
    if (child) childIds.push(child);
  }
  const children: RunHistory[] = [];
  for (const id of childIds) children.push(await historyOf(client, id));
  return { workflowId, events: events.length, largestPayloadBytes: largest, payloadBytes: total, children };
}

/** Every run of the tree, the root first. */
export function runsOf(h: RunHistory): RunHistory[] {
  return [h, ...h.children.flatMap(runsOf)];
}

/** Sizes of the payloads in a history event: objects with `data` bytes and a `metadata` map. */
function payloadSizes(value: unknown, out: number[] = []): number[] {
  if (!value || typeof value !== 'object') return out;
  if (value instanceof Uint8Array) return out;
  const v = value as { data?: unknown; metadata?: unknown };
  if (v.data instanceof Uint8Array && v.metadata && typeof v.metadata === 'object') {
    const meta = Object.values(v.metadata as Record<string, unknown>).reduce<number>((n, m) => n + (m instanceof Uint8Array ? m.length : 0), 0);
    out.push(v.data.length + meta);
    return out;
  }
  for (const child of Object.values(value)) payloadSizes(child, out);
  return out;
}
