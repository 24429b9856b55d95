import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import { CHANGE_OPTIONS, READ_OPTIONS } from '../../../workflows/activity-options';
import { RunbookControls } from '../../../workflows/controls';

export * from '../../../workflows';

export interface ConfigEditProbeInput {
  cluster: string;
  host: string;
  /** `carry-over`: the rolling upgrade's config edit; `quorum`: a Kafka tool run over SSH. */
  step: 'carry-over' | 'quorum';
}

// The runbooks' own activity options; one retry only, so a failing path ends the run quickly.
const host = proxyActivities<Activities>({ ...CHANGE_OPTIONS, retry: { ...CHANGE_OPTIONS.retry, maximumAttempts: 2, initialInterval: '100 ms' } });
const read = proxyActivities<Activities>({ ...READ_OPTIONS, retry: { ...READ_OPTIONS.retry, maximumAttempts: 2, initialInterval: '100 ms' } });

/** One step of the rolling upgrade (or one tool read) under the shared controls, so failures reach history, details and progress as in a runbook. */
export async function configEditProbe(input: ConfigEditProbeInput): Promise<unknown> {
  const controls = new RunbookControls({ runbook: 'configEditProbe', cluster: input.cluster, approvers: null });
  return controls.run(async () =>
    input.step === 'carry-over'
      ? controls.step('carry the config over', () => host.carryOverNodeConfig(input.cluster, input.host, { runningVersion: '3.8.1', targetVersion: '3.9.2' }))
      : controls.step('read the KRaft quorum', () => read.readQuorumState(input.cluster)),
  );
}
