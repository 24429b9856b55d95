import { ApplicationFailure } from '@temporalio/common';
import { type NodeWaitFailure } from '../src/rolling/failures';
import { activityContext, earlierAttemptDetails, keepHeartbeating } from './heartbeat';
import { firstLine, logInfo, rethrowCancellation } from './node-hosts';

/** Sleeps; inside an activity, rejects with CancelledFailure as soon as the activity is cancelled. */
export async function pause(ms: number): Promise<void> {
  const ctx = activityContext();
  if (ctx) await ctx.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

export function waitTimedOut(type: NodeWaitFailure, message: string, details: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: false, details: [details] });
}

export interface Probe<T> {
  done: boolean;
  value: T;
  /** Small, for the heartbeat details (what the UI shows as the activity's progress). */
  progress?: unknown;
}

/** What a wait heartbeats: a retried attempt (its worker died) takes `startedAtMs` from it, and so keeps its deadline. */
interface WaitHeartbeat {
  startedAtMs: number;
  elapsedMs: number;
  polls: number;
  progress: unknown;
  lastError: string | null;
}

/** The first attempt's start, from an earlier attempt's heartbeat; null on a first attempt. */
function startOfEarlierAttempt(): number | null {
  const d = earlierAttemptDetails() as Partial<WaitHeartbeat> | null | undefined;
  return typeof d?.startedAtMs === 'number' && Number.isFinite(d.startedAtMs) ? d.startedAtMs : null;
}

/**
 * Polls `probe` until it reports done, heartbeating after every poll (and every 5 s during a slow one), pausing
 * `intervalMs` between polls. The deadline is `timeoutMs` after the first attempt started: a retry resumes it
 * from the heartbeat details instead of waiting a full timeout again, and past it polls once more before
 * timing out. Probe errors (a host or broker briefly unreachable) count as "not yet". Cancellation is rethrown.
 */
export async function pollUntil<T>(
  what: Record<string, unknown>,
  timeoutMs: number,
  intervalMs: number,
  probe: () => Promise<Probe<T>>,
  onTimeout: (last: T | null, lastError: string | null, elapsedMs: number) => ApplicationFailure,
): Promise<{ value: T; elapsedMs: number }> {
  const resumedFrom = startOfEarlierAttempt();
  const startedAtMs = resumedFrom ?? Date.now();
  const deadlineMs = startedAtMs + timeoutMs;
  if (resumedFrom !== null) logInfo('resuming the wait with the deadline of its first attempt', { ...what, startedAtMs, deadline: new Date(deadlineMs).toISOString() });
  let last: T | null = null;
  let lastError: string | null = null;
  let beat: WaitHeartbeat & Record<string, unknown> = { ...what, startedAtMs, elapsedMs: Date.now() - startedAtMs, polls: 0, progress: null, lastError: null };
  return keepHeartbeating(
    () => beat,
    async () => {
      for (let polls = 1; ; polls++) {
        let progress: unknown = null;
        try {
          const r = await probe();
          last = r.value;
          lastError = null;
          progress = r.progress ?? null;
          if (r.done) return { value: r.value, elapsedMs: Date.now() - startedAtMs };
        } catch (err) {
          rethrowCancellation(err);
          lastError = firstLine(err);
        }
        const now = Date.now();
        beat = { ...what, startedAtMs, elapsedMs: now - startedAtMs, polls, progress, lastError };
        activityContext()?.heartbeat(beat);
        if (now >= deadlineMs) throw onTimeout(last, lastError, now - startedAtMs);
        await pause(Math.min(intervalMs, deadlineMs - now));
      }
    },
  );
}
