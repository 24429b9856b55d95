import type { MetadataMode } from '../model/cluster';

/**
 * Config carry-over for a rolling upgrade: what must change in a node's server.properties when its binaries
 * change version, and nothing else. Every byte the rules do not touch stays as it was (comments, order,
 * blank lines, line endings, a missing final newline): an operator's diff shows only the runbook's lines.
 *
 * ZooKeeper mode (Kafka's upgrade notes, 0.8 to 3.9):
 * - upgrade to a newer major.minor: pin `inter.broker.protocol.version` to the RUNNING version's major.minor
 *   when the file does not set it, so upgraded brokers keep talking to the old ones. Bumping it later is the
 *   irreversible second roll. When running < 2.4 and `log.message.format.version` is absent, pin it too.
 *   A pin already in the file is kept as it is.
 * - patch upgrade (same major.minor): nothing to pin.
 * - downgrade: possible only while the protocol version in force is at most the target's major.minor; the
 *   file is left alone and a problem explains why not otherwise.
 * - 4.x: refused, 4.x runs only in KRaft mode (migrate first).
 * KRaft mode: nothing to change (the metadata.version lives in the cluster metadata, not in the file); keys
 * Kafka 4.x no longer uses are reported as warnings when crossing to 4.x.
 */

export interface ConfigCarryOverInput {
  mode: MetadataMode;
  /** The version the node runs now, e.g. "3.8.1". */
  runningVersion: string;
  /** The version it is about to run. */
  targetVersion: string;
}

export interface ConfigCarryOver {
  /** The new file content; identical to the input when `changed` is false. */
  text: string;
  changed: boolean;
  /** One line per edit, for the run's log. */
  changes: string[];
  /** Things an operator should look at; the upgrade may go on. */
  warnings: string[];
  /** Reasons the upgrade must not go on with this file; when any, `text` is the input unchanged. */
  problems: string[];
}

interface Version {
  major: number;
  minor: number;
  patch: number;
}

function parseVersion(v: string): Version | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) } : null;
}

const majorMinor = (v: Version): string => `${v.major}.${v.minor}`;
const compareMinor = (a: Version, b: Version): number => a.major - b.major || a.minor - b.minor;

/** One logical entry of a .properties file (java.util.Properties rules), with where it sits in the text. */
export interface PropertyEntry {
  key: string;
  value: string;
  /** Offset of the first character of the entry's first line. */
  start: number;
  /** Offset just past the entry's last line, before its line ending. */
  end: number;
}

/** Splits after each line ending, keeping the endings: joining the result gives the text back. */
function physicalLines(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

const stripEol = (line: string): string => line.replace(/(\r\n|\r|\n)$/, '');
const continues = (content: string): boolean => (/\\+$/.exec(content)?.[0].length ?? 0) % 2 === 1;

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return ({ t: '\t', n: '\n', r: '\r', f: '\f' } as Record<string, string>)[c] ?? c;
  });
}

/** Every key/value entry in file order (comments and blank lines skipped, continuation lines joined). */
export function parseProperties(text: string): PropertyEntry[] {
  const entries: PropertyEntry[] = [];
  const lines = physicalLines(text);
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const start = offset;
    let content = stripEol(lines[i] as string);
    offset += (lines[i] as string).length;
    let logical = content.replace(/^[ \t\f]+/, '');
    let end = start + content.length;
    const comment = logical === '' || logical.startsWith('#') || logical.startsWith('!');
    while (continues(content) && i + 1 < lines.length) {
      i++;
      content = stripEol(lines[i] as string);
      if (!comment) logical = logical.slice(0, -1) + content.replace(/^[ \t\f]+/, '');
      end = offset + content.length;
      offset += (lines[i] as string).length;
    }
    if (comment) continue;
    const m = /^((?:\\.|[^\\=:\s])*)[ \t\f]*[=:]?[ \t\f]*([\s\S]*)$/.exec(logical);
    if (!m) continue;
    entries.push({ key: unescapeProperty(m[1] ?? ''), value: unescapeProperty(m[2] ?? ''), start, end });
  }
  return entries;
}

/** The value Kafka would read for `key` (the last entry wins, as in java.util.Properties); null when absent. */
export function propertyValue(text: string, key: string): string | null {
  const all = parseProperties(text).filter((e) => e.key === key);
  return all.length === 0 ? null : (all[all.length - 1] as PropertyEntry).value.trim();
}

/** The file's line ending: CRLF when it has one, else LF. */
export function lineEnding(text: string): string {
  return /\r\n/.test(text) ? '\r\n' : '\n';
}

/** Appends lines at the end, adding a line ending first if the file lacks a final one. */
export function appendLines(text: string, lines: string[]): string {
  const eol = lineEnding(text);
  const sep = text.length > 0 && !/[\r\n]$/.test(text) ? eol : '';
  return text + sep + lines.map((l) => l + eol).join('');
}

/**
 * Sets `key=value`: rewrites the entry Kafka reads (the last one) in place, or appends it when absent.
 * Everything else stays byte-identical. For the irreversible IBP bump of a ZooKeeper-mode upgrade.
 */
export function setProperty(text: string, key: string, value: string): string {
  const all = parseProperties(text).filter((e) => e.key === key);
  const last = all[all.length - 1];
  if (!last) return appendLines(text, [`${key}=${value}`]);
  return `${text.slice(0, last.start)}${key}=${value}${text.slice(last.end)}`;
}

/** Keys Kafka 4.x no longer reads (ZooKeeper mode and pre-3.0 formats are gone). */
const REMOVED_IN_4 = ['zookeeper.connect', 'zookeeper.metadata.migration.enable', 'inter.broker.protocol.version', 'log.message.format.version', 'control.plane.listener.name'];

/** See the module comment for the rules. Pure: the caller reads and writes the file. */
export function carryOverServerProperties(oldText: string, input: ConfigCarryOverInput): ConfigCarryOver {
  const unchanged = (extra: Partial<ConfigCarryOver>): ConfigCarryOver => ({ text: oldText, changed: false, changes: [], warnings: [], problems: [], ...extra });
  const running = parseVersion(input.runningVersion);
  const target = parseVersion(input.targetVersion);
  if (!running || !target) {
    return unchanged({ problems: [`cannot compare versions "${input.runningVersion}" and "${input.targetVersion}": expected x.y.z`] });
  }
  const upgrade = compareMinor(target, running);

  if (input.mode === 'kraft') {
    const warnings: string[] = [];
    if (target.major >= 4 && running.major < 4) {
      const present = REMOVED_IN_4.filter((k) => propertyValue(oldText, k) !== null);
      if (present.length > 0) warnings.push(`Kafka ${input.targetVersion} no longer uses ${present.join(', ')}: remove ${present.length === 1 ? 'it' : 'them'} once every node runs 4.x.`);
    }
    if (upgrade < 0) {
      warnings.push(
        `Downgrading to ${input.targetVersion} works only while the finalized metadata.version is one ${majorMinor(target)} supports ` +
          '(kafka-features.sh describe): a metadata.version bump cannot be undone.',
      );
    }
    return unchanged({ warnings });
  }

  if (target.major >= 4) {
    return unchanged({ problems: [`Kafka ${input.targetVersion} runs only in KRaft mode: migrate this ZooKeeper-mode cluster to KRaft on 3.9 first.`] });
  }
  const ibp = propertyValue(oldText, 'inter.broker.protocol.version');
  const ibpVersion = ibp === null ? null : parseVersion(ibp);
  if (upgrade === 0) return unchanged({});
  if (upgrade < 0) {
    // The protocol in force is the pinned one, or the running version's own when nothing is pinned.
    const inForce = ibpVersion ?? running;
    if (compareMinor(inForce, target) > 0) {
      return unchanged({
        problems: [
          `Cannot downgrade to ${input.targetVersion}: the brokers speak inter.broker.protocol.version ${ibp ?? `${majorMinor(running)} (the default of ${input.runningVersion})`}, ` +
            `newer than ${majorMinor(target)}. Only a cluster whose protocol version was never bumped past ${majorMinor(target)} can go back.`,
        ],
      });
    }
    return unchanged({});
  }

  const changes: string[] = [];
  const warnings: string[] = [];
  const append: string[] = [];
  const header = `# kafka-runbooks rolling upgrade ${input.runningVersion} -> ${input.targetVersion}: keep the old protocol until every broker runs ${input.targetVersion}; bumping it later cannot be undone.`;
  if (ibp === null) {
    append.push(`inter.broker.protocol.version=${majorMinor(running)}`);
    changes.push(`pinned inter.broker.protocol.version=${majorMinor(running)} (the running version ${input.runningVersion})`);
  } else if (ibpVersion && compareMinor(ibpVersion, running) > 0) {
    warnings.push(`inter.broker.protocol.version=${ibp} is newer than the running version ${input.runningVersion}: kept as it is, but check it.`);
  }
  if (compareMinor(running, { major: 2, minor: 4, patch: 0 }) < 0 && propertyValue(oldText, 'log.message.format.version') === null) {
    append.push(`log.message.format.version=${majorMinor(running)}`);
    changes.push(`pinned log.message.format.version=${majorMinor(running)} (running ${input.runningVersion} is older than 2.4)`);
  }
  if (append.length === 0) return unchanged({ warnings });
  return { text: appendLines(oldText, [header, ...append]), changed: true, changes, warnings, problems: [] };
}

/**
 * ZooKeeper-mode finalize, for one broker's server.properties: sets `inter.broker.protocol.version` to the
 * target's major.minor (in place of the pin the upgrade added, or appended). Irreversible once the brokers run
 * it: they then speak a protocol the old release does not. Pure: the caller reads and writes the file.
 */
export function bumpProtocolVersion(oldText: string, targetVersion: string): ConfigCarryOver {
  const target = parseVersion(targetVersion);
  const unchanged = (extra: Partial<ConfigCarryOver>): ConfigCarryOver => ({ text: oldText, changed: false, changes: [], warnings: [], problems: [], ...extra });
  if (!target) return unchanged({ problems: [`cannot read version "${targetVersion}": expected x.y.z`] });
  if (target.major >= 4) return unchanged({ problems: [`Kafka ${targetVersion} has no inter.broker.protocol.version: it runs only in KRaft mode.`] });
  const wanted = majorMinor(target);
  const current = propertyValue(oldText, 'inter.broker.protocol.version');
  const warnings: string[] = [];
  const lmf = propertyValue(oldText, 'log.message.format.version');
  if (lmf !== null) warnings.push(`log.message.format.version=${lmf} is still set: Kafka 3.x ignores it once inter.broker.protocol.version is 3.0 or newer; remove it when convenient.`);
  const currentVersion = current === null ? null : parseVersion(current);
  if (current === null) return unchanged({ warnings, changes: [], problems: [] }); // nothing pinned: the broker already speaks its own version's protocol
  if (currentVersion && compareMinor(currentVersion, target) > 0) {
    return unchanged({ problems: [`inter.broker.protocol.version=${current} is newer than ${wanted}: not lowering it (that would be a downgrade).`] });
  }
  if (currentVersion && compareMinor(currentVersion, target) === 0) return unchanged({ warnings });
  return { text: setProperty(oldText, 'inter.broker.protocol.version', wanted), changed: true, changes: [`inter.broker.protocol.version ${current} -> ${wanted}`], warnings, problems: [] };
}
