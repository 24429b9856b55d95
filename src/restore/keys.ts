/**
 * The name of a copier or verifier process on the copy host: unique per run and range, the same for every
 * attempt (so a retry finds and stops the copier an earlier attempt left running), and safe on a command line.
 * Pure (no Node crypto): workflows compute it.
 */
export function copierKeyFor(workflowId: string, rangeId: string): string {
  // Two FNV-1a 32-bit hashes with different seeds: collisions only matter between ranges of one run.
  const text = `${workflowId}\u0000${rangeId}`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 + 2) >>> 0;
  }
  return `restore-${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}
