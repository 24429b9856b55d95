import { type z } from 'zod';
import { clusterHealthInput } from './cluster-health';

export interface RunbookEntry {
  /** The workflow type the worker registers. */
  workflowType: string;
  schema: z.ZodTypeAny;
  /** Disruptive runbooks take the cluster lock: one at a time per cluster. */
  disruptive: boolean;
  summary: string;
  doc: string;
}

/** Every runbook the CLI can start, by the name operators type. */
export const RUNBOOKS: Record<string, RunbookEntry> = {
  'cluster-health': {
    workflowType: 'clusterHealth',
    schema: clusterHealthInput,
    disruptive: false,
    summary: 'read-only health check of a cluster against its inventory',
    doc: 'runbooks/cluster-health.md',
  },
};

export function findRunbook(name: string): RunbookEntry | undefined {
  return RUNBOOKS[name] ?? Object.values(RUNBOOKS).find((r) => r.workflowType === name);
}
