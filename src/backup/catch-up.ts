/** Has MirrorMaker 2 reached the captured end offsets? Pure: positions in, verdict out. */

export interface WantedPartition {
  topic: string;
  partition: number;
  /** The source's log start offset when captured: an empty or fully deleted partition needs nothing. */
  start: number;
  /** The captured end offset. */
  end: number;
}

export interface CatchUpStatus {
  partitions: number;
  partitionsReached: number;
  lagRecords: number;
  /** Per `topic:partition`, the source offset replicated up to (MM2's position + 1, at least the start). */
  reached: Record<string, number>;
  /** The first partitions behind, as `topic[p] at X of Y`. */
  behind: string[];
}

/** `positions` holds, per `topic:partition`, MM2's recorded offset + 1 (the next offset it will copy). */
export function catchUpStatus(wanted: WantedPartition[], positions: ReadonlyMap<string, number>, sampleSize = 5): CatchUpStatus {
  const status: CatchUpStatus = { partitions: wanted.length, partitionsReached: 0, lagRecords: 0, reached: {}, behind: [] };
  for (const w of wanted) {
    const key = `${w.topic}:${w.partition}`;
    const at = Math.max(w.start, positions.get(key) ?? w.start);
    status.reached[key] = at;
    if (at >= w.end) status.partitionsReached += 1;
    else {
      status.lagRecords += w.end - at;
      if (status.behind.length < sampleSize) status.behind.push(`${w.topic}[${w.partition}] at ${at} of ${w.end}`);
    }
  }
  return status;
}
