import { attest, canonicalAttestation, signAttestation, verifyAttestation, type AttestationFields } from '../../../src/approvals/attestation';

const key = Buffer.alloc(32, 7);
const issuedAt = '2025-01-01T10:00:00.000Z';
const now = new Date('2025-01-01T10:01:00.000Z');
const fields: AttestationFields = { workflowId: 'rollingRestart/prod/1', action: 'approve', gate: 'finalize', principal: 'alice', via: 'slack-bot', issuedAt };
const mac = signAttestation(key, fields);

describe('attestations', () => {
  test('a signature verifies for exactly the fields signed', () => {
    expect(verifyAttestation(key, fields, mac, { now })).toBe(true);
  });

  test.each<[string, Partial<AttestationFields> & Record<string, unknown>]>([
    ['another principal', { principal: 'mallory' }],
    ['a principal without its bot', { via: undefined }],
    ['another bot', { via: 'other-bot' }],
    ['another workflow', { workflowId: 'rollingRestart/prod/2' }],
    ['another gate', { gate: 'wipe' }],
    ['no gate', { gate: undefined }],
    ['another action', { action: 'reject' }],
    ['another issue time', { issuedAt: '2025-01-01T10:00:30.000Z' }],
  ])('refuses %s', (_what, change) => {
    expect(verifyAttestation(key, { ...fields, ...change } as AttestationFields, mac, { now })).toBe(false);
  });

  test('refuses a tampered MAC, an empty one and one under another key', () => {
    const flipped = (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1);
    expect(verifyAttestation(key, fields, flipped, { now })).toBe(false);
    expect(verifyAttestation(key, fields, '', { now })).toBe(false);
    expect(verifyAttestation(key, fields, mac.slice(0, -1), { now })).toBe(false);
    expect(verifyAttestation(Buffer.alloc(32, 8), fields, mac, { now })).toBe(false);
  });

  test('refuses an expired attestation and one issued too far ahead, keeps one in bounds', () => {
    expect(verifyAttestation(key, fields, mac, { now: new Date('2025-01-01T10:04:59.000Z') })).toBe(true);
    expect(verifyAttestation(key, fields, mac, { now: new Date('2025-01-01T10:05:01.000Z') })).toBe(false);
    expect(verifyAttestation(key, fields, mac, { now: new Date('2025-01-01T10:00:30.000Z'), maxAgeMs: 10_000 })).toBe(false);
    expect(verifyAttestation(key, fields, mac, { now: new Date('2025-01-01T09:59:30.000Z') })).toBe(true);
    expect(verifyAttestation(key, fields, mac, { now: new Date('2025-01-01T09:58:30.000Z') })).toBe(false);
  });

  test('fields cannot be shifted from one to the next', () => {
    const a = canonicalAttestation({ ...fields, gate: 'a', principal: 'b' });
    const b = canonicalAttestation({ ...fields, gate: 'a","b', principal: '' });
    expect(a).not.toBe(b);
  });

  test('refuses short keys and unknown actions when signing', () => {
    expect(() => signAttestation('short', fields)).toThrow('at least 32 bytes');
    expect(() => signAttestation(key, { ...fields, action: 'delete' as never })).toThrow('action must be one of');
    expect(verifyAttestation('short', fields, mac, { now })).toBe(false);
  });

  test('attest() gives what a payload carries; a start attestation has no gate', () => {
    const start = { workflowId: 'w', action: 'start' as const, principal: 'alice', issuedAt };
    const a = attest(key, start);
    expect(a).toEqual({ principal: 'alice', issuedAt, mac: signAttestation(key, start) });
    expect(verifyAttestation(key, { ...start, principal: a.principal, issuedAt: a.issuedAt }, a.mac, { now })).toBe(true);
  });
});
