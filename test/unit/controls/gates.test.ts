import { checkControlRequest, checkGateAnswer } from '../../../src/gates';

describe('checkGateAnswer', () => {
  test.each([
    ['not an object', 42, 'expected { gate, approver, reason?, choice? }'],
    ['an array', [{ gate: 'g', approver: 'a' }], 'expected { gate, approver, reason?, choice? }'],
    ['no gate', { approver: 'alice' }, '"gate" is required'],
    ['gate of a number', { gate: 7, approver: 'alice' }, '"gate" must be a string, got number'],
    ['no approver', { gate: 'g' }, '"approver" is required'],
    ['blank approver', { gate: 'g', approver: '   ' }, '"approver" is required'],
    ['reason of a number', { gate: 'g', approver: 'alice', reason: 42 }, '"reason" must be a string, got number'],
    ['reason of an object', { gate: 'g', approver: 'alice', reason: { toString: 'x' } }, '"reason" must be a string, got object'],
    ['choice of an array', { gate: 'g', approver: 'alice', choice: ['retry'] }, '"choice" must be a string, got array'],
    ['huge reason', { gate: 'g', approver: 'alice', reason: 'x'.repeat(100_000) }, '"reason" is 100000 characters long; at most 2000'],
    ['long approver', { gate: 'g', approver: 'a'.repeat(201) }, 'at most 200'],
    ['long choice', { gate: 'g', approver: 'alice', choice: 'c'.repeat(101) }, 'at most 100'],
    ['approver forging a line', { gate: 'g', approver: 'alice\nroot' }, '"approver" contains control characters'],
    ['escape sequences in a reason', { gate: 'g', approver: 'alice', reason: 'ok \u001b[2J' }, '"reason" contains control characters'],
    ['the timeout policy as approver', { gate: 'g', approver: 'timeout-policy' }, 'reserved'],
    ['a reserved name in another case', { gate: 'g', approver: ' Timeout-Policy ' }, 'reserved'],
    ['the cancel request as approver', { gate: 'g', approver: 'cancel-request' }, 'reserved'],
  ])('refuses %s', (_what, answer, message) => {
    expect(() => checkGateAnswer(answer)).toThrow(message);
  });

  test('keeps only the known fields of a good answer; a reason may span lines', () => {
    expect(checkGateAnswer({ gate: 'finalize', approver: 'alice', reason: 'window open\nticket 42', choice: 'retry', extra: { __proto__: 1 } })).toEqual({
      gate: 'finalize',
      approver: 'alice',
      reason: 'window open\nticket 42',
      choice: 'retry',
    });
    expect(checkGateAnswer({ gate: 'g', approver: 'bob', reason: null })).toEqual({ gate: 'g', approver: 'bob' });
  });
});

describe('checkControlRequest', () => {
  test.each([
    ['no by', {}, '"by" is required'],
    ['by of a number', { by: 1 }, '"by" must be a string'],
    ['reason of a boolean', { by: 'carol', reason: true }, '"reason" must be a string, got boolean'],
    ['a reserved name', { by: 'timeout-policy' }, 'reserved'],
    ['an attestation of a string', { by: 'carol', attestation: 'signed' }, '"attestation" must be'],
    ['an attestation without a MAC', { by: 'carol', attestation: { principal: 'carol', issuedAt: '2026-01-01T00:00:00Z' } }, '"attestation.mac" is required'],
    ['an attestation for a reserved name', { by: 'carol', attestation: { principal: 'system', issuedAt: 'x', mac: 'y' } }, 'reserved'],
  ])('refuses %s', (_what, req, message) => {
    expect(() => checkControlRequest(req)).toThrow(message);
  });

  test('passes a good request', () => {
    expect(checkControlRequest({ by: 'carol', reason: 'incident' })).toEqual({ by: 'carol', reason: 'incident' });
  });

  test('keeps an attestation, and the run it was issued for only beside one; drops unknown fields', () => {
    const attestation = { principal: 'alice', via: 'slack-bot', issuedAt: '2026-01-01T00:00:00Z', mac: 'abc' };
    expect(checkControlRequest({ by: 'alice', attestation: { ...attestation, extra: 1 }, attestedFor: 'run-1', extra: 2 })).toEqual({ by: 'alice', attestation, attestedFor: 'run-1' });
    expect(checkControlRequest({ by: 'alice', attestedFor: 'run-1' })).toEqual({ by: 'alice' });
  });
});
