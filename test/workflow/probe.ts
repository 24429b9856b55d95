import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { type GatePolicy, RunbookControls, settleAll } from '../../workflows/controls';
import { LOCK_OPTIONS } from '../../workflows/activity-options';

/** Fake side effects for the probe: each step "changes" something and registers its undo. */
export interface ProbeActivities {
  change(step: string): Promise<void>;
  revert(step: string): Promise<void>;
  wait(step: string): Promise<void>;
}

/** Side effects that do nothing, for tests that watch the controls rather than what the steps change. */
export const quietProbe: ProbeActivities = {
  change: async () => undefined,
  revert: async () => undefined,
  wait: async () => undefined,
};

export interface ProbeInput {
  cluster: string;
  steps: string[];
  /** Ask for approval before this step. */
  gateBefore?: string;
  gatePolicy?: GatePolicy;
  approvers?: string[];
  /** Take the cluster lock like a disruptive runbook. */
  disruptive?: boolean;
  /** A step that is a pure wait (interruptible by abort). */
  waitStep?: string;
  /** A step made of two pure waits running at once, the way a batch waits for its nodes. */
  parallelWaitStep?: string;
  /** Gates opened at once before the first step, the way two nodes of a batch can both ask. */
  parallelGates?: string[];
  /** A step made of two changes at once, the way a batch restarts its nodes: `<step>-fail` fails, `<step>-ok` runs on. */
  parallelChangeStep?: string;
  /** A step whose workflow code has a bug (a TypeError). */
  bugAt?: string;
  /** Who started the run, as any runbook input may say (read by the shared controls). */
  startedBy?: string;
  attestation?: unknown;
}

const fx = proxyActivities<ProbeActivities>({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } });
const lock = proxyActivities<Pick<Activities, 'acquireClusterLock' | 'releaseClusterLock'>>(LOCK_OPTIONS);

/** A minimal runbook built on the shared controls, so the controls are tested the way runbooks use them. */
export async function controlsProbe(input: ProbeInput): Promise<string[]> {
  const { workflowId } = workflowInfo();
  const controls = new RunbookControls({
    runbook: 'controlsProbe',
    cluster: input.cluster,
    approvers: input.approvers ?? null,
    input,
    lock: input.disruptive
      ? {
          acquire: () => lock.acquireClusterLock({ cluster: input.cluster, workflowId, runbook: 'controlsProbe' }),
          release: () => lock.releaseClusterLock({ cluster: input.cluster, workflowId }),
        }
      : undefined,
  });
  return controls.run(async () => {
    const done: string[] = [];
    if (input.parallelGates) await Promise.all(input.parallelGates.map((g) => controls.requireApproval(g, `node ${g} asks`)));
    for (const step of input.steps) {
      if (step === input.bugAt) (undefined as unknown as { broken: () => void }).broken();
      if (step === input.gateBefore) await controls.requireApproval(`before-${step}`, `about to change ${step}`, input.gatePolicy ?? {});
      if (step === input.parallelChangeStep) {
        await settleAll(['fail', 'ok'].map(async (k) => {
          await controls.step(`change ${step}-${k}`, () => fx.change(`${step}-${k}`));
          controls.onUndo(`revert ${step}-${k}`, () => fx.revert(`${step}-${k}`));
        }));
      } else if (step === input.parallelWaitStep) {
        await Promise.all([1, 2].map((i) => controls.step(`wait ${step}-${i}`, () => fx.wait(`${step}-${i}`), { interruptible: true })));
      } else if (step === input.waitStep) {
        await controls.step(`wait ${step}`, () => fx.wait(step), { interruptible: true });
      } else {
        await controls.step(`change ${step}`, () => fx.change(step));
        controls.onUndo(`revert ${step}`, () => fx.revert(step));
      }
      done.push(step);
    }
    return done;
  });
}
