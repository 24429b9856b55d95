/**
 * Pause, resume and abort carry the API's attestation like gate answers do: the worker verifies it (a local
 * activity, the real one with a real key), and the run records who asked as authenticated (`alice via
 * slack-bot`) or as the typed name, unauthenticated, in its progress, its details and its failure.
 */
import { type Client, type WorkflowHandle } from '@temporalio/client';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { createApprovalActivities } from '../../activities/approvals';
import { attest } from '../../src/approvals/attestation';
import { type AttestationAction } from '../../src/approvals/identity';
import { abortUpdate, type ControlRequest, pauseSignal, pauseUpdate, progressQuery, resumeUpdate } from '../../src/names';
import { eventually, runFailure, startWorkflowTestBed, waitingAtGate, type WorkflowTestBed } from '../support/temporal';
import { type ProbeInput, quietProbe } from './probe';

const TASK_QUEUE = 'control-attestation-test';
const KEY = Buffer.alloc(32, 7);

let bed: WorkflowTestBed;
let client: Client;
beforeAll(async () => {
  const real = createApprovalActivities({ clusters: { get: () => { throw new Error('no clusters'); }, host: () => { throw new Error('no clusters'); }, names: () => [] }, attestationKey: () => KEY });
  bed = await startWorkflowTestBed(TASK_QUEUE, {
    verifyActorAttestation: real.verifyActorAttestation,
    ...quietProbe,
  });
  client = bed.client;
}, 120_000);
afterAll(async () => bed?.stop());

let seq = 0;
async function startAtGate(): Promise<WorkflowHandle> {
  const input: ProbeInput = { cluster: 'c1', steps: ['a'], gateBefore: 'a' };
  const h = await client.workflow.start('controlsProbe', { taskQueue: TASK_QUEUE, workflowId: `control-attestation-${Date.now()}-${seq++}`, args: [input], workflowExecutionTimeout: '3 minutes' });
  await waitingAtGate(h, 'before-a');
  return h;
}
/** What `kafka-runbooks serve` attaches for a principal acting through a bot. */
const attested = (h: WorkflowHandle, action: AttestationAction, principal = 'alice', via = 'slack-bot') => attest(KEY, { workflowId: h.workflowId, action, principal, via, issuedAt: new Date().toISOString() });
const details = async (h: WorkflowHandle) => (await h.query(workflowMetadataQuery)).currentDetails ?? '';
const progress = (h: WorkflowHandle) => h.query(progressQuery);

test('a verified attestation records pause, resume and abort as authenticated, naming the bot', async () => {
  const h = await startAtGate();
  await h.executeUpdate(pauseUpdate, { args: [{ by: 'alice', reason: 'incident 42', attestation: attested(h, 'pause') }] });
  expect((await progress(h)).controlRequests).toEqual([expect.objectContaining({ action: 'pause', by: 'alice via slack-bot', authenticated: true, reason: 'incident 42' })]);
  const paused = await details(h);
  expect(paused).toContain('Paused by alice via slack-bot: ');
  expect(paused).toContain('- pause by alice via slack-bot: incident 42');
  expect(paused).not.toContain('(unauthenticated)');

  await h.executeUpdate(resumeUpdate, { args: [{ by: 'alice', attestation: attested(h, 'resume') }] });
  await h.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'wrong cluster', attestation: attested(h, 'abort') }] });
  const failure = await runFailure(h.result());
  expect(failure.message).toContain('aborted by alice via slack-bot: wrong cluster');
  const p = await progress(h);
  expect(p.controlRequests?.map((r) => `${r.action} ${r.by} ${r.authenticated}`)).toEqual(['pause alice via slack-bot true', 'resume alice via slack-bot true', 'abort alice via slack-bot true']);
  expect(p.abort?.by).toBe('alice via slack-bot');
});

test('a forged attestation, or one issued for another action or run, is recorded as the typed name, unauthenticated', async () => {
  const h = await startAtGate();
  const other = await startAtGate();
  const forged = { ...attested(h, 'pause'), mac: '0'.repeat(64) };
  await h.executeUpdate(pauseUpdate, { args: [{ by: 'mallory', attestation: forged }] });
  // A resume attestation does not vouch for a pause; nor does one for another run.
  await h.executeUpdate(pauseUpdate, { args: [{ by: 'mallory', attestation: attested(h, 'resume') }] });
  await h.executeUpdate(pauseUpdate, { args: [{ by: 'mallory', attestation: attested(other, 'pause') }] });
  // The Web UI's Signal takes the same path.
  await h.signal(pauseSignal, { by: 'mallory', attestation: forged } as ControlRequest);
  await eventually(async () => ((await progress(h)).controlRequests?.length ?? 0) === 4, 20_000, 'four pause requests');
  const p = await progress(h);
  expect(p.controlRequests?.map((r) => [r.by, r.authenticated])).toEqual([
    ['mallory', false],
    ['mallory', false],
    ['mallory', false],
    ['mallory', false],
  ]);
  expect(p.log.map((l) => l.message)).toContainEqual(expect.stringMatching(/pause request of mallory is taken as unauthenticated: its attestation did not verify/));
  const d = await details(h);
  expect(d).toContain('Paused by mallory (unauthenticated)');
  expect(d).not.toContain('slack-bot');

  await h.executeUpdate(abortUpdate, { args: [{ by: 'mallory', reason: 'test over', attestation: forged }] });
  expect((await runFailure(h.result())).message).toContain('aborted by mallory (unauthenticated): test over');
  await other.executeUpdate(abortUpdate, { args: [{ by: 'bob', reason: 'test over' }] });
  expect((await runFailure(other.result())).message).toContain('aborted by bob (unauthenticated): test over');
});
