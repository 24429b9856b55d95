/**
 * Sizes of partitions on disk from `kafka-log-dirs.sh --describe` (its JSON line:
 * `{"brokers":[{"broker":1,"logDirs":[{"logDir":..,"error":null,"partitions":[{"partition":"orders-0","size":123,..}]}]}]}`).
 * Pure.
 */

/** Bytes per `topic:partition`: the largest replica (replicas of one partition hold the same records). */
export function partitionSizes(toolOutput: string): Map<string, number> {
  const line = toolOutput
    .split('\n')
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error('kafka-log-dirs.sh printed no JSON line');
  const parsed = JSON.parse(line) as { brokers?: { logDirs?: { error?: string | null; partitions?: { partition?: string; size?: number; isFuture?: boolean }[] }[] }[] };
  const sizes = new Map<string, number>();
  for (const b of parsed.brokers ?? []) {
    for (const d of b.logDirs ?? []) {
      if (d.error) continue;
      for (const p of d.partitions ?? []) {
        if (p.isFuture || typeof p.partition !== 'string' || typeof p.size !== 'number') continue;
        const dash = p.partition.lastIndexOf('-');
        const key = `${p.partition.slice(0, dash)}:${p.partition.slice(dash + 1)}`;
        sizes.set(key, Math.max(sizes.get(key) ?? 0, p.size));
      }
    }
  }
  return sizes;
}
