import { type QuorumState, type QuorumVoterState } from '../model/cluster';

/**
 * Parses `kafka-metadata-quorum.sh describe --replication` (3.6 to 4.x; DirectoryId appears from 3.7).
 * Columns are found by header name so added columns do not break it.
 */
export function parseQuorumReplication(text: string): QuorumState {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const headerIdx = lines.findIndex((l) => /^NodeId\s/.test(l));
  if (headerIdx < 0) throw new Error(`unexpected kafka-metadata-quorum output (no NodeId header): ${text.slice(0, 300)}`);
  const header = (lines[headerIdx] as string).split(/\s+/);
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`kafka-metadata-quorum output lacks column ${name}`);
    return i;
  };
  const [cNode, cLeo, cFetch, cCaught, cStatus] = ['NodeId', 'LogEndOffset', 'LastFetchTimestamp', 'LastCaughtUpTimestamp', 'Status'].map(col) as [number, number, number, number, number];
  const voters: QuorumVoterState[] = [];
  const observers: QuorumVoterState[] = [];
  let leaderId = -1;
  let readAtMs = 0;
  for (const line of lines.slice(headerIdx + 1)) {
    const v = line.split(/\s+/);
    if (v.length < header.length) continue;
    const ts = (s: string | undefined) => {
      const n = Number(s);
      return Number.isFinite(n) && n >= 0 ? n : null;
    };
    const row: QuorumVoterState = {
      nodeId: Number(v[cNode]),
      logEndOffset: Number(v[cLeo]),
      lastFetchTimestamp: ts(v[cFetch]),
      lastCaughtUpTimestamp: ts(v[cCaught]),
    };
    if (!Number.isInteger(row.nodeId)) continue;
    const status = v[cStatus] ?? '';
    if (status === 'Leader') leaderId = row.nodeId;
    if (status === 'Observer') observers.push(row);
    else voters.push(row);
    readAtMs = Math.max(readAtMs, row.lastCaughtUpTimestamp ?? 0, row.lastFetchTimestamp ?? 0);
  }
  if (voters.length === 0) throw new Error(`kafka-metadata-quorum output lists no voters: ${text.slice(0, 300)}`);
  const leader = voters.find((x) => x.nodeId === leaderId);
  return { leaderId, leaderEpoch: -1, highWatermark: leader?.logEndOffset ?? -1, voters, observers, readAtMs };
}

/** Version from an install path such as /opt/kafka/kafka_2.13-3.9.2 (the `current` link's target). */
export function versionFromInstallPath(path: string): string | null {
  const base = path.replace(/\/+$/, '').split('/').pop() ?? '';
  const m = /(?:^|[-_])(\d+\.\d+\.\d+(?:[-.][\w.]+)?)$/.exec(base) ?? /(\d+\.\d+\.\d+)/.exec(base);
  return m ? (m[1] as string) : null;
}
