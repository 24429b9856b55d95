import { createApprovalActivities } from '../../../activities/approvals';
import { type ClusterRegistry } from '../../../activities/clusters';
import { attestationKeyFromFile, signAttestation } from '../../../src/approvals/attestation';

const key = Buffer.alloc(32, 7);
const clusters = { names: () => [], get: () => { throw new Error('unused'); } } as unknown as ClusterRegistry;
const issuedAt = new Date().toISOString();
const fields = { workflowId: 'run-1', action: 'abort' as const, principal: 'alice', via: 'slack-bot', issuedAt };
const check = { workflowId: 'run-1', action: 'abort' as const, claimed: 'alice via slack-bot', attestation: { principal: 'alice', via: 'slack-bot', issuedAt, mac: signAttestation(key, fields) } };

test('a valid attestation stands for the authenticated actor', async () => {
  const a = createApprovalActivities({ clusters, attestationKey: () => key });
  expect(await a.verifyActorAttestation(check)).toEqual({ actor: { principal: 'alice', via: 'slack-bot', authenticated: true }, problem: null });
});

test('a key that cannot be read takes the request as unauthenticated instead of failing it (an abort must not be lost)', async () => {
  const a = createApprovalActivities({ clusters, attestationKey: attestationKeyFromFile('/nonexistent/attestation.key') });
  expect(await a.verifyActorAttestation(check)).toEqual({ actor: { principal: 'alice via slack-bot', authenticated: false }, problem: 'this worker could not read its attestation key' });
});
