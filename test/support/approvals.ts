import { type Activities } from '../../activities';
import { createApprovalActivities } from '../../activities/approvals';
import { type RunApprovalSettings } from '../../src/approvals/inventory';

/** A cluster whose inventory sets no approval policy and no webhooks. */
export const NO_APPROVAL_SETTINGS: RunApprovalSettings = { policy: null, timeouts: {}, notify: [], remindBeforeMinutes: 15 };

/**
 * The approval activities of a worker whose clusters set no policy and no webhooks, and which has no
 * attestation key: what every workflow test gets unless it brings its own.
 */
export function noApprovalActivities(): Pick<Activities, 'readApprovalSettings' | 'verifyActorAttestation' | 'notifyWebhooks'> {
  const real = createApprovalActivities({ clusters: { get: () => { throw new Error('no clusters'); }, host: () => { throw new Error('no clusters'); }, names: () => [] } });
  return {
    readApprovalSettings: async () => NO_APPROVAL_SETTINGS,
    verifyActorAttestation: real.verifyActorAttestation,
    notifyWebhooks: async () => ({ delivered: [], failed: [] }),
  };
}
