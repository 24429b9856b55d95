import { Context } from '@temporalio/activity';

/** How often long work heartbeats; the heartbeat timeout (workflows/activity-options.ts) is a few of these. */
export const HEARTBEAT_INTERVAL_MS = 5000;

/** The running activity's context; null when called directly (tests, scripts): no heartbeats, no cancellation. */
export function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // called directly (tests, scripts): nothing to heartbeat
  }
}

/**
 * Heartbeats at once, then every HEARTBEAT_INTERVAL_MS until `work` settles, so a short heartbeat timeout
 * notices a dead worker however long one command or poll takes. `details` is called for each heartbeat: a
 * wait passes its latest progress and start time, which a retried attempt resumes from.
 */
export async function keepHeartbeating<T>(details: () => unknown, work: () => Promise<T>): Promise<T> {
  const ctx = activityContext();
  if (!ctx) return work();
  const beat = () => ctx.heartbeat(details());
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The last heartbeat details an earlier attempt of this activity sent (a retry after its worker died); undefined on a first attempt. */
export function earlierAttemptDetails(): unknown {
  return activityContext()?.info.heartbeatDetails;
}
