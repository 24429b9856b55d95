import { invalidInput } from '../src/errors';
import { parseRunbookInput } from '../src/runbooks/input';
import { RUNBOOKS } from '../src/runbooks/registry';

/**
 * Input validation as a local activity: the parsed input, with its defaults, is recorded in the run's history
 * when the run starts. A later deploy that changes a default or a schema replays the recorded values, so a
 * run in flight keeps the input it started with instead of silently taking the new defaults.
 */
export function createInputActivities() {
  return {
    async validateRunbookInput(workflowType: string, raw: unknown): Promise<unknown> {
      const runbook = Object.values(RUNBOOKS).find((r) => r.workflowType === workflowType);
      if (!runbook) throw invalidInput(`no runbook input schema for workflow type ${workflowType}`);
      return parseRunbookInput(workflowType, runbook.schema, raw);
    },
  };
}
