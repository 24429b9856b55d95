import { type PlanStore } from '../../activities/plan-store';

/**
 * The plan store in memory, shared by every worker of a test (as the hosts' files are shared by every worker):
 * files by host and key. Tests can drop or tamper with a copy, or make a host unreachable.
 */
export class MemoryPlanStore implements PlanStore {
  readonly files = new Map<string, string[]>();
  readonly unreachable = new Set<string>();

  constructor(readonly hosts: string[] = ['kafka-1', 'kafka-2', 'kafka-3']) {}

  async save(_cluster: string, key: string, lines: string[], opts: { copies?: number; avoidNodeIds?: number[]; onlyHosts?: string[] } = {}): Promise<string[]> {
    const allowed = this.hosts.filter((h) => !opts.onlyHosts || opts.onlyHosts.includes(h));
    const avoided = (h: string) => (opts.avoidNodeIds ?? []).some((id) => h === `kafka-${id}`);
    const saved: string[] = [];
    for (const host of [...allowed.filter((h) => !avoided(h)), ...allowed.filter(avoided)]) {
      if (saved.length >= (opts.copies ?? 3)) break;
      if (this.unreachable.has(host)) continue;
      this.files.set(`${host}:${key}`, [...lines]);
      saved.push(host);
    }
    if (saved.length === 0) throw new Error(`could not store plan ${key} on any host`);
    return saved;
  }

  async readLines(_cluster: string, host: string, key: string, lineNumbers: number[]): Promise<(string | null)[] | null> {
    if (this.unreachable.has(host)) throw new Error(`${host}: connection refused`);
    const file = this.files.get(`${host}:${key}`);
    return file ? lineNumbers.map((n) => file[n] ?? null) : null;
  }

  async remove(_cluster: string, hosts: string[], key: string): Promise<void> {
    for (const host of hosts) for (const k of [...this.files.keys()]) if (k === `${host}:${key}` || k.startsWith(`${host}:${key}-`)) this.files.delete(k);
  }

  /** Keys of the plans held (on any host). */
  plans(): string[] {
    return [...new Set([...this.files.keys()].map((k) => k.slice(k.indexOf(':') + 1)))];
  }
}
