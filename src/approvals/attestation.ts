/**
 * Attestations: proof, inside a payload, that the HTTP API authenticated who is answering. Temporal gives
 * workflow code no caller identity, so `serve` signs what an authenticated caller asked for and the worker
 * verifies it (in a local activity) before the workflow records the actor as authenticated.
 *
 * Uses node:crypto: imported by `serve` and by worker activities, NEVER by workflow code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expandHome } from '../inventory/load';
import { ATTESTATION_ACTIONS, type Attestation, type AttestationFields } from './identity';

export { ATTESTATION_ACTIONS, type Attestation, type AttestationAction, type AttestationFields } from './identity';

/** How long after issue an attestation is accepted, and how far ahead of the verifier's clock it may be. */
export const ATTESTATION_MAX_AGE_MS = 5 * 60_000;
export const ATTESTATION_MAX_SKEW_MS = 60_000;
const MIN_KEY_BYTES = 32;
const VERSION = 'kafka-runbooks-attestation-v1';

/**
 * The bytes the MAC covers: every field in a fixed order, absent ones as null, in a versioned JSON array, so
 * no two different field sets serialise alike (a gate named "x,y" cannot pose as two fields).
 */
export function canonicalAttestation(fields: AttestationFields): string {
  return JSON.stringify([VERSION, fields.workflowId, fields.action, fields.gate ?? null, fields.principal, fields.via ?? null, fields.issuedAt]);
}

/** HMAC-SHA256 of the canonical fields, base64url. The key must be at least 32 bytes. */
export function signAttestation(key: Buffer | string, fields: AttestationFields): string {
  const k = keyBytes(key);
  if (!ATTESTATION_ACTIONS.includes(fields.action)) throw new Error(`attestation action must be one of ${ATTESTATION_ACTIONS.join(', ')}`);
  if (Number.isNaN(Date.parse(fields.issuedAt))) throw new Error('attestation issuedAt must be an ISO-8601 time');
  return createHmac('sha256', k).update(canonicalAttestation(fields), 'utf8').digest('base64url');
}

/**
 * True when `mac` is the MAC of exactly these fields under this key and `issuedAt` lies within the bounded age
 * (not older than maxAgeMs, not more than the allowed skew in the future). Compares in constant time.
 */
export function verifyAttestation(
  key: Buffer | string,
  fields: AttestationFields,
  mac: string,
  opts: { now?: Date; maxAgeMs?: number; maxSkewMs?: number } = {},
): boolean {
  if (typeof mac !== 'string' || mac.length === 0 || mac.length > 100) return false;
  const issued = Date.parse(fields.issuedAt);
  if (Number.isNaN(issued)) return false;
  const now = (opts.now ?? new Date()).getTime();
  if (now - issued > (opts.maxAgeMs ?? ATTESTATION_MAX_AGE_MS)) return false;
  if (issued - now > (opts.maxSkewMs ?? ATTESTATION_MAX_SKEW_MS)) return false;
  let expected: Buffer;
  try {
    expected = Buffer.from(signAttestation(key, fields), 'utf8');
  } catch {
    return false;
  }
  const given = Buffer.from(mac, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** An attestation for a payload: the signed fields the payload carries, with their MAC. */
export function attest(key: Buffer | string, fields: AttestationFields): Attestation {
  const a: Attestation = { principal: fields.principal, issuedAt: fields.issuedAt, mac: signAttestation(key, fields) };
  if (fields.via !== undefined) a.via = fields.via;
  return a;
}

function keyBytes(key: Buffer | string): Buffer {
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (k.length < MIN_KEY_BYTES) throw new Error(`the attestation key must be at least ${MIN_KEY_BYTES} bytes`);
  return k;
}

/** Reads the attestation key from the file the worker's settings name; serve signs with the same file; the key never enters a payload. */
export function attestationKeyFromFile(path: string | null): () => Buffer | null {
  if (!path) return () => null;
  return () => {
    const key = Buffer.from(readFileSync(expandHome(path), 'utf8').trim(), 'utf8');
    if (key.length < 32) throw new Error(`the attestation key in ${path} is shorter than 32 bytes`);
    return key;
  };
}
