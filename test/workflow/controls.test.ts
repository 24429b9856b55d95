import { type Client, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createLockActivities } from '../../activities/lock';
import { abortUpdate, approveSignal, approveUpdate, lockHolderQuery, pauseUpdate, progressQuery, rejectUpdate, resumeUpdate, type RunbookProgress, SA_STATUS } from '../../src/names';
import { eventually, startWorkflowTestBed, type WorkflowTestBed } from '../support/temporal';
import { type ProbeInput } from './probe';

const TASK_QUEUE = 'controls-test';
let bed: WorkflowTestBed;
let client: Client;

/** What the fake activities did, in order. */
let calls: string[] = [];
/** When each change started and ended, and when undo ran: shows whether undo overlapped a change in flight. */
let timeline: string[] = [];
/** Steps whose fake "change" blocks until the test releases it. */
const blockers = new Map<string, () => void>();
function release(step: string) {
  const r = blockers.get(step);
  blockers.delete(step);
  r?.();
}

beforeAll(async () => {
  // The lock activities are real; they reach the test server through the bed's client once it exists.
  type Lock = ReturnType<typeof createLockActivities>;
  const lock = () => createLockActivities({ client: bed.client, taskQueue: TASK_QUEUE });
  bed = await startWorkflowTestBed(TASK_QUEUE, {
      acquireClusterLock: (req: Parameters<Lock['acquireClusterLock']>[0]) => lock().acquireClusterLock(req),
      releaseClusterLock: async (req: Parameters<Lock['releaseClusterLock']>[0]) => {
        if (req.cluster === 'release-fails') throw ApplicationFailure.nonRetryable('the lock workflow could not be reached', 'LockUnreachable');
        return lock().releaseClusterLock(req);
      },
      async change(step: string) {
        calls.push(`change ${step}`);
        timeline.push(`start ${step}`);
        if (step.endsWith('-fail')) throw ApplicationFailure.nonRetryable(`${step} failed`, 'UnsafeToProceed');
        const hold = new Promise<void>((r) => (blockers.has(step) ? blockers.set(step, r) : r()));
        await hold;
        timeline.push(`end ${step}`);
      },
      async revert(step: string) {
        calls.push(`revert ${step}`);
        timeline.push(`revert ${step}`);
      },
      async wait(step: string) {
        calls.push(`wait ${step}`);
        // A pure wait that heartbeats, the way health waits do; it ends only when cancelled.
        const { Context } = await import('@temporalio/activity');
        for (;;) {
          Context.current().heartbeat();
          await Context.current().sleep(200);
        }
      },
  });
  client = bed.client;
}, 120_000);

afterAll(async () => {
  await bed?.stop();
});

beforeEach(() => {
  calls = [];
  timeline = [];
  blockers.clear();
});

let seq = 0;
async function startProbe(input: ProbeInput) {
  return client.workflow.start('controlsProbe', { taskQueue: TASK_QUEUE, workflowId: `probe-${Date.now()}-${seq++}`, args: [input], workflowExecutionTimeout: '2 minutes' });
}
const progress = (h: { query: (q: typeof progressQuery) => Promise<RunbookProgress> }) => h.query(progressQuery);
const waitingAt = async (h: Parameters<typeof progress>[0], gate: string) =>
  eventually(async () => (await progress(h)).pendingGates.some((g) => g.name === gate), 20_000, `gate ${gate}`);
async function refusedUpdate(h: Awaited<ReturnType<typeof startProbe>>, update: typeof approveUpdate, arg: unknown): Promise<string> {
  try {
    await h.executeUpdate(update, { args: [arg as never] });
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return (err as WorkflowUpdateFailedError).cause?.message ?? '';
  }
  throw new Error('expected the update to be refused');
}
async function failureOf(p: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
    return cause;
  }
  throw new Error('expected the run to fail');
}

describe('approval gates', () => {
  test('approve: the run goes on and the approver and reason are recorded', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'b'], gateBefore: 'b' });
    await waitingAt(h, 'before-b');
    expect(calls).toEqual(['change a']);
    const decision = await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-b', approver: 'alice', reason: 'change window open' }] });
    expect(decision).toMatchObject({ outcome: 'approved', approver: 'alice', reason: 'change window open' });
    expect(await h.result()).toEqual(['a', 'b']);
    expect(calls).toEqual(['change a', 'change b']);
    const p = await progress(h);
    expect(p.gates).toEqual([expect.objectContaining({ gate: 'before-b', outcome: 'approved', approver: 'alice' })]);
    expect(p.status).toBe('Completed');
  });

  test('reject: the run stops before the step and undoes what it did, newest first', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'b', 'c'], gateBefore: 'c' });
    await waitingAt(h, 'before-c');
    await h.executeUpdate(rejectUpdate, { args: [{ gate: 'before-c', approver: 'bob', reason: 'not today' }] });
    const f = await failureOf(h.result());
    expect(f.type).toBe('GateRejected');
    expect(f.message).toContain('rejected by bob: not today');
    expect(calls).toEqual(['change a', 'change b', 'revert b', 'revert a']);
    const desc = await h.describe();
    expect(desc.typedSearchAttributes.get(SA_STATUS)).toBe('Failed');
  });

  test('timeout: an unanswered gate is rejected by its policy, and says so', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'b'], gateBefore: 'b', gatePolicy: { timeout: '2 seconds', onTimeout: 'reject' } });
    const f = await failureOf(h.result());
    expect(f.type).toBe('GateRejected');
    expect(f.message).toContain('timeout-policy');
    expect(calls).toEqual(['change a', 'revert a']);
  });

  test('timeout with an approve policy goes on', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a'], gateBefore: 'a', gatePolicy: { timeout: '1 second', onTimeout: 'approve' } });
    expect(await h.result()).toEqual(['a']);
    expect((await progress(h)).gates[0]).toMatchObject({ outcome: 'approved', approver: 'timeout-policy' });
  });

  test('the validator refuses unknown gates, malformed and unauthorised answers without deciding', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a'], gateBefore: 'a', approvers: ['alice'] });
    await waitingAt(h, 'before-a');
    const refused = (arg: unknown) => refusedUpdate(h, approveUpdate, arg);
    expect(await refused({ gate: 'nope', approver: 'alice' })).toContain('unknown gate "nope"');
    expect(await refused({ gate: 'before-a' })).toContain('"approver" is required');
    expect(await refused({ gate: 'before-a', approver: 'mallory' })).toContain('"mallory" may not decide gate "before-a"');
    // A bad signal is ignored (and noted); the gate still waits.
    await h.signal(approveSignal, { gate: 'before-a', approver: 'mallory' });
    await eventually(async () => (await progress(h)).log.some((l) => l.message.includes('ignored approve signal')), 10_000, 'signal note');
    expect((await progress(h)).pendingGate?.name).toBe('before-a');
    expect(calls).toEqual([]);
    // A valid signal from the UI decides it.
    await h.signal(approveSignal, { gate: 'before-a', approver: 'alice', reason: 'from the UI' });
    expect(await h.result()).toEqual(['a']);
    expect((await progress(h)).gates).toEqual([expect.objectContaining({ approver: 'alice', reason: 'from the UI' })]);
  });
});

describe('gates: several at once, and checked answers', () => {
  test('two gates opened at once both wait, both show, and each is answered by name', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a'], parallelGates: ['rollback-kafka-1', 'rollback-kafka-2'] });
    await waitingAt(h, 'rollback-kafka-1');
    await waitingAt(h, 'rollback-kafka-2');
    const p = await progress(h);
    expect(p.pendingGates.map((g) => [g.name, g.workflowId])).toEqual([
      ['rollback-kafka-1', h.workflowId],
      ['rollback-kafka-2', h.workflowId],
    ]);
    expect(p.status).toBe('WaitingForApproval');
    // The first one opened is still answerable after the second opened.
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'rollback-kafka-1', approver: 'alice' }] });
    expect((await progress(h)).pendingGates.map((g) => g.name)).toEqual(['rollback-kafka-2']);
    expect(await refusedUpdate(h, approveUpdate, { gate: 'rollback-kafka-1', approver: 'alice' })).toContain('unknown gate "rollback-kafka-1": the run is waiting at "rollback-kafka-2"');
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'rollback-kafka-2', approver: 'bob' }] });
    expect(await h.result()).toEqual(['a']);
    expect((await progress(h)).gates.map((g) => [g.gate, g.approver])).toEqual([
      ['rollback-kafka-1', 'alice'],
      ['rollback-kafka-2', 'bob'],
    ]);
  });

  test('answers are checked for type and length, on the Update and the Signal path; reserved names are refused', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a'], gateBefore: 'a' });
    await waitingAt(h, 'before-a');
    expect(await refusedUpdate(h, approveUpdate, { gate: 'before-a', approver: 'alice', reason: 42 })).toContain('"reason" must be a string');
    expect(await refusedUpdate(h, approveUpdate, { gate: 'before-a', approver: 'alice', choice: { evil: true } })).toContain('"choice" must be a string');
    expect(await refusedUpdate(h, approveUpdate, { gate: 'before-a', approver: 'x'.repeat(201) })).toContain('"approver" is 201 characters long; at most 200');
    expect(await refusedUpdate(h, approveUpdate, { gate: 'before-a', approver: 'alice', reason: 'r'.repeat(2001) })).toContain('at most 2000');
    expect(await refusedUpdate(h, approveUpdate, { gate: 'before-a', approver: 'timeout-policy' })).toContain('reserved');
    expect(await refusedUpdate(h, approveUpdate, { gate: 'before-a', approver: 'alice\ngate "x" approved by root' })).toContain('control characters');
    expect(await refusedUpdate(h, pauseUpdate as unknown as typeof approveUpdate, { by: 'carol', reason: ['x'] })).toContain('"reason" must be a string');
    await h.signal(approveSignal, { gate: 'before-a', approver: 'alice', reason: 42 as unknown as string });
    await eventually(async () => (await progress(h)).log.some((l) => l.message.includes('ignored approve signal') && l.message.includes('"reason" must be a string')), 10_000, 'signal note');
    // Nothing was decided, and the run is still healthy and waiting.
    expect((await progress(h)).gates).toEqual([]);
    expect((await progress(h)).pendingGate?.name).toBe('before-a');
    await h.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'alice', reason: 'ok' }] });
    expect(await h.result()).toEqual(['a']);
  });

  test('a bug in workflow code fails the run, after its undo steps, instead of retrying the task forever', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'b'], bugAt: 'b' });
    const f = await failureOf(h.result());
    expect(f.message).toMatch(/Cannot read properties of undefined/);
    expect(calls).toEqual(['change a', 'revert a']);
  });
});

describe('pause, resume, abort', () => {
  test('a Cancel (Web UI) is an abort: the changing step finishes, then undo runs, and the run says who asked', async () => {
    blockers.set('b', () => undefined);
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'b', 'c'] });
    await eventually(() => calls.includes('change b'), 20_000, 'step b');
    await h.cancel();
    await eventually(async () => (await progress(h)).status === 'Aborting', 20_000, 'aborting');
    // The cancel did not cut the change short: no undo while b is still changing the cluster.
    await new Promise((r) => setTimeout(r, 1000));
    expect(timeline).toEqual(['start a', 'end a', 'start b']);
    release('b');
    const f = await failureOf(h.result());
    expect(f.type).toBe('RunbookAborted');
    expect(f.message).toContain('aborted by cancel-request');
    expect(timeline).toEqual(['start a', 'end a', 'start b', 'end b', 'revert b', 'revert a']);
    expect((await h.describe()).typedSearchAttributes.get(SA_STATUS)).toBe('Aborted');
  });

  test('a failed change in a parallel batch lets the others finish their step before any undo runs', async () => {
    blockers.set('p-ok', () => undefined);
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'p', 'b'], parallelChangeStep: 'p' });
    await eventually(() => timeline.includes('start p-fail') && timeline.includes('start p-ok'), 20_000, 'both changes');
    await new Promise((r) => setTimeout(r, 1000));
    expect(timeline.some((t) => t.startsWith('revert'))).toBe(false);
    release('p-ok');
    const f = await failureOf(h.result());
    expect(f.type).toBe('UnsafeToProceed');
    // The change still in flight ended, was recorded, and is undone too; then the earlier one.
    expect(timeline.slice(timeline.indexOf('end p-ok'))).toEqual(['end p-ok', 'revert p-ok', 'revert a']);
  });

  test('pause takes effect at the next step boundary; nothing starts until resume', async () => {
    blockers.set('a', () => undefined);
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'b'] });
    await eventually(() => calls.includes('change a'), 20_000, 'step a');
    await h.executeUpdate(pauseUpdate, { args: [{ by: 'carol', reason: 'incident elsewhere' }] });
    release('a');
    await eventually(async () => (await progress(h)).status === 'Paused' && (await progress(h)).currentStep === null, 20_000, 'paused');
    // The run is parked at the boundary: b has not started.
    expect(calls).toEqual(['change a']);
    expect((await h.describe()).typedSearchAttributes.get(SA_STATUS)).toBe('Paused');
    await h.executeUpdate(resumeUpdate, { args: [{ by: 'carol' }] });
    expect(await h.result()).toEqual(['a', 'b']);
    expect(calls).toEqual(['change a', 'change b']);
  });

  test('abort at a gate runs the undo steps and ends as aborted', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'b', 'c'], gateBefore: 'c' });
    await waitingAt(h, 'before-c');
    const ack = await h.executeUpdate(abortUpdate, { args: [{ by: 'dave', reason: 'wrong cluster' }] });
    expect(ack.message).toContain('undo');
    const f = await failureOf(h.result());
    expect(f.type).toBe('RunbookAborted');
    expect(f.message).toContain('aborted by dave (unauthenticated): wrong cluster');
    expect(calls).toEqual(['change a', 'change b', 'revert b', 'revert a']);
    expect((await h.describe()).typedSearchAttributes.get(SA_STATUS)).toBe('Aborted');
  });

  test('abort interrupts a wait step but lets a changing step finish first', async () => {
    blockers.set('a', () => undefined);
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'w', 'b'], waitStep: 'w' });
    await eventually(() => calls.includes('change a'), 20_000, 'step a');
    await h.executeUpdate(abortUpdate, { args: [{ by: 'erin' }] });
    // The changing step is not interrupted: it finishes, then the run stops before the wait.
    release('a');
    const f = await failureOf(h.result());
    expect(f.type).toBe('RunbookAborted');
    expect(calls).toEqual(['change a', 'revert a']);

    const h2 = await startProbe({ cluster: 'c1', steps: ['a', 'w', 'b'], waitStep: 'w' });
    await eventually(() => calls.includes('wait w'), 20_000, 'wait step');
    await h2.executeUpdate(abortUpdate, { args: [{ by: 'erin' }] });
    const f2 = await failureOf(h2.result());
    expect(f2.type).toBe('RunbookAborted');
    expect(calls.slice(2)).toEqual(['change a', 'wait w', 'revert a']);
  });

  test('abort interrupts every wait in flight, not just the latest one', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a', 'w', 'b'], parallelWaitStep: 'w' });
    await eventually(() => calls.includes('wait w-1') && calls.includes('wait w-2'), 20_000, 'both waits');
    await h.executeUpdate(abortUpdate, { args: [{ by: 'erin' }] });
    const f = await failureOf(h.result());
    expect(f.type).toBe('RunbookAborted');
    expect(calls.filter((c) => !c.startsWith('wait'))).toEqual(['change a', 'revert a']);
    // Both waits were interrupted and ended; neither was left running behind the undo.
    const waits = (await progress(h)).steps.filter((s) => s.name.startsWith('wait w-'));
    expect(waits.map((s) => [s.name, s.state, s.endedAt !== null])).toEqual([
      ['wait w-1', 'failed', true],
      ['wait w-2', 'failed', true],
    ]);
  });

  test('controls are refused once the run has ended', async () => {
    const h = await startProbe({ cluster: 'c1', steps: ['a'] });
    await h.result();
    await expect(h.executeUpdate(pauseUpdate, { args: [{ by: 'x' }] })).rejects.toThrow();
  });
});

describe('one disruptive runbook per cluster', () => {
  test('a second one is refused, naming the running one; the lock frees when the first ends', async () => {
    const first = await startProbe({ cluster: 'shared', steps: ['a'], gateBefore: 'a', disruptive: true });
    await waitingAt(first, 'before-a');
    const second = await startProbe({ cluster: 'shared', steps: ['x'], disruptive: true });
    const f = await failureOf(second.result());
    expect(f.type).toBe('ClusterBusy');
    expect(f.message).toContain(`runbook controlsProbe (workflow ${first.workflowId})`);
    expect(calls).not.toContain('change x');
    // Another cluster is not blocked.
    const other = await startProbe({ cluster: 'elsewhere', steps: ['y'], disruptive: true });
    expect(await other.result()).toEqual(['y']);

    await first.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'alice' }] });
    await first.result();
    const third = await startProbe({ cluster: 'shared', steps: ['z'], disruptive: true });
    expect(await third.result()).toEqual(['z']);
  });

  test('a lock that cannot be released is a warning, not the run\'s outcome', async () => {
    const h = await startProbe({ cluster: 'release-fails', steps: ['a'], disruptive: true });
    expect(await h.result()).toEqual(['a']);
    const p = await progress(h);
    expect(p.status).toBe('Completed');
    expect(p.warnings).toEqual([expect.stringMatching(/^the cluster lock could not be released \(.*the lock workflow could not be reached\)/)]);
  });

  test('a holder whose state cannot be read keeps the lock: only "not found" means it is gone', async () => {
    const first = await startProbe({ cluster: 'guarded', steps: ['a'], gateBefore: 'a', disruptive: true });
    await waitingAt(first, 'before-a');
    // A client whose describe() of the holder fails the way a rate limit or a permission error does.
    const real = bed.client;
    const flaky = {
      workflow: new Proxy(real.workflow, {
        get(target, prop, receiver) {
          if (prop !== 'getHandle') return Reflect.get(target, prop, receiver) as unknown;
          return (id: string) => {
            const handle = target.getHandle(id);
            if (id.startsWith('cluster-lock/')) return handle;
            return new Proxy(handle, { get: (t, p, r) => (p === 'describe' ? async () => Promise.reject(new Error('RESOURCE_EXHAUSTED: rate limit')) : (Reflect.get(t, p, r) as unknown)) });
          };
        },
      }),
    } as unknown as Client;
    const activities = createLockActivities({ client: flaky, taskQueue: TASK_QUEUE });
    const err = await activities.acquireClusterLock({ cluster: 'guarded', workflowId: 'intruder', runbook: 'x' }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('cannot tell whether lock holder');
    // Not a ClusterBusy refusal: the activity retries; and the lock still belongs to the first run.
    expect((err as { type?: string } | null)?.type).toBeUndefined();
    const holder = await real.workflow.getHandle('cluster-lock/guarded').query(lockHolderQuery);
    expect(holder?.workflowId).toBe(first.workflowId);
    await first.executeUpdate(approveUpdate, { args: [{ gate: 'before-a', approver: 'alice' }] });
    await first.result();
  });

  test('a holder that was terminated does not block the cluster', async () => {
    const first = await startProbe({ cluster: 'stale', steps: ['a'], gateBefore: 'a', disruptive: true });
    await waitingAt(first, 'before-a');
    await first.terminate('simulating a lost run');
    const next = await startProbe({ cluster: 'stale', steps: ['b'], disruptive: true });
    expect(await next.result()).toEqual(['b']);
  });
});
