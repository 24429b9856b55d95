import { invalidInput, unsafeToProceed } from '../src/errors';
import { shellQuote } from '../src/inventory/commands';
import { type InventoryHost } from '../src/inventory/schema';
import { versionFromInstallPath } from '../src/kafka-tools/parse';
import { scrub } from '../src/redact';
import { type InstallSource } from '../src/rolling/input';
import { resolveInstallSource } from '../src/rolling/install-source';
import { versionFromClientsJar } from '../src/rolling/tool-output';
import { heartbeatWhile, logInfo, type NodeActivityDeps, nodeHosts, statusShell, tagged } from './node-hosts';

export interface VersionSwitch {
  /** The `current` link's value before (relative or absolute, as it was); null when there was no link. */
  previousTarget: string | null;
  previousVersion: string | null;
  /** The link's value now. */
  target: string;
  version: string | null;
  /** False when the link already pointed at the install: nothing was touched. */
  changed: boolean;
  /** An archive was unpacked into installDir for this switch. */
  unpacked: boolean;
}

export interface NodeVersion {
  /** The `current` link's value. */
  linkTarget: string | null;
  /** Version of the install `current` points at. */
  linkVersion: string | null;
  processRunning: boolean;
  /** The version the running JVM has loaded (kafka-clients jar it holds open), else the last "Kafka version" log line. */
  runningVersion: string | null;
  runningVersionFrom: 'process' | 'log' | null;
}

/**
 * The install source's absolute path on the host, refused as bad input when it is outside the host's installDir
 * and stagingDirs (checked before any command runs).
 */
function installSourcePath(host: InventoryHost, source: InstallSource): string {
  const r = resolveInstallSource(source, host.kafka);
  if (!r.ok) throw invalidInput(`source.path for ${host.name}: ${r.problem}`);
  return r.path;
}

/** Host script lines: the archive's sha256 must match, else exit 4 (unsafe: not the tarball that was meant). */
function verifyArchiveChecksum(sha256: string | undefined): string[] {
  if (!sha256) return [];
  return [
    `expected=${shellQuote(sha256.toLowerCase())}`,
    'actual="$(sha256sum -- "$archive" | cut -d" " -f1)"',
    '[ "$actual" = "$expected" ] || { echo "ERROR $archive has sha256 $actual, not the expected $expected: refusing to unpack it" >&2; exit 4; }',
  ];
}

/** A node's installed versions: the `current` link switched and restored, the version installed and running. */
export function createNodeVersionActivities({ clusters, shell }: NodeActivityDeps) {
  const { kafkaHost, run } = nodeHosts({ clusters, shell });

  /**
   * Points `current` at `wanted` (a link value: relative to the link's directory, or absolute), atomically:
   * a new link beside it, renamed over it. Refused while the process runs (a running JVM may still load
   * classes through the link), unless the link already points there.
   */
  const repointScript = (host: InventoryHost, wantedExpr: string): string => {
    const link = shellQuote(host.kafka.currentLink);
    return [
      `link=${link}`,
      `cd "$(dirname "$link")"`,
      `wanted=${wantedExpr}`,
      `[ -d "$wanted" ] || { echo "ERROR no install directory $wanted" >&2; exit 3; }`,
      `[ -x "$wanted/bin/kafka-server-start.sh" ] || { echo "ERROR $wanted is not a Kafka install (no bin/kafka-server-start.sh)" >&2; exit 3; }`,
      `prev="$(readlink "$link" 2>/dev/null || true)"`,
      `echo "PREV $prev"`,
      `echo "PREVRESOLVED $(readlink -f "$link" 2>/dev/null || true)"`,
      `if [ -n "$prev" ] && [ "$(readlink -f "$link")" = "$(readlink -f "$wanted")" ]; then echo "TARGET $prev"; echo "RESOLVED $(readlink -f "$link")"; echo UNCHANGED; exit 0; fi`,
      `if ${statusShell(host)}; then echo "ERROR Kafka is running on ${host.name}: stop it before switching versions" >&2; exit 4; fi`,
      // Same directory as the link: keep the link relative, as installs usually are; else absolute.
      `if [ "$(cd "$(dirname "$wanted")" && pwd -P)" = "$(pwd -P)" ]; then value="$(basename "$wanted")"; else value="$(readlink -f "$wanted")"; fi`,
      `tmp="$link.tmp-$$"`,
      `ln -sfn "$value" "$tmp"`,
      `mv -T "$tmp" "$link"`,
      `echo "TARGET $value"`,
      `echo "RESOLVED $(readlink -f "$link")"`,
      'echo CHANGED',
    ].join('\n');
  };

  const runRepoint = async (host: InventoryHost, script: string, what: string): Promise<{ stdout: string; changed: boolean }> => {
    const r = await heartbeatWhile({ step: what, host: host.name }, () => run(host, `bash -c ${shellQuote(`set -eu\n${script}`)}`, 600_000));
    const message = `${what} on ${host.name}: ${scrub((r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')).replace(/^ERROR /, '')}`;
    if (r.code === 3) throw invalidInput(message);
    if (r.code === 4) throw unsafeToProceed(message);
    if (r.code !== 0) throw new Error(`${message} (exit ${r.code})`);
    return { stdout: r.stdout, changed: r.stdout.split('\n').includes('CHANGED') };
  };

  return {
    /**
     * Re-points the host's `current` link at the install of `version` and returns what it pointed at before
     * (give `previousTarget` to restoreVersionLink to undo). The install is, in this order: `source` staged
     * (a directory, absolute or relative to installDir); `source` archive (a tarball on the host, unpacked
     * into installDir once; an existing unpacked copy is reused); else `installDir/kafka_*-<version>` or
     * `installDir/kafka-<version>` (the newest Scala build when several). The install must hold
     * `libs/kafka-clients-<version>.jar`. Refused while Kafka runs on the host; a no-op when the link already
     * points there.
     */
    async switchVersion(cluster: string, hostName: string, version: string, source: InstallSource | null = null): Promise<VersionSwitch> {
      const host = kafkaHost(cluster, hostName);
      if (!/^\d+\.\d+\.\d+$/.test(version)) throw invalidInput(`version "${version}" must look like 3.9.2`);
      const sourcePath = source ? installSourcePath(host, source) : null;
      const installDir = shellQuote(host.kafka.installDir);
      const v = shellQuote(version);
      const locate: string[] = [`install_dir=${installDir}`, `version=${v}`, 'unpacked=0'];
      if (source?.kind === 'staged' && sourcePath) {
        locate.push(`target=${shellQuote(sourcePath)}`);
      } else if (source?.kind === 'archive' && sourcePath) {
        locate.push(
          `archive=${shellQuote(sourcePath)}`,
          `[ -f "$archive" ] || { echo "ERROR no archive $archive" >&2; exit 3; }`,
          ...verifyArchiveChecksum(source.sha256),
          `top="$(tar -tf "$archive" | head -n 1 | sed 's#^\\./##' | cut -d/ -f1)"`,
          `[ -n "$top" ] || { echo "ERROR $archive is empty or not a tarball" >&2; exit 3; }`,
          // The install dir's name comes from the archive: never its parent or itself.
          `case "$top" in .|..) echo "ERROR $archive does not unpack to a single directory" >&2; exit 3 ;; esac`,
          'target="$install_dir/$top"',
          'if [ ! -e "$target" ]; then',
          '  staging="$(mktemp -d "$install_dir/.staging-XXXXXX")"',
          '  trap \'rm -rf "$staging"\' EXIT',
          '  tar -xf "$archive" -C "$staging"',
          '  [ -d "$staging/$top" ] || { echo "ERROR $archive does not unpack to a single directory $top" >&2; exit 3; }',
          '  if ! ls "$staging/$top/libs/" 2>/dev/null | grep -qx "kafka-clients-$version.jar"; then',
          '    echo "ERROR $archive is not Kafka $version (libs/ has $(ls "$staging/$top/libs/" 2>/dev/null | grep -o "^kafka-clients-.*\\.jar$" || echo no kafka-clients jar))" >&2; exit 3',
          '  fi',
          '  mv -T "$staging/$top" "$target"',
          '  unpacked=1',
          'fi',
        );
      } else {
        locate.push(
          'target=""',
          // Glob order is sorted: the last match is the newest Scala build.
          'for d in "$install_dir"/kafka_*-"$version" "$install_dir"/kafka-"$version"; do if [ -d "$d" ]; then target="$d"; fi; done',
          `[ -n "$target" ] || { echo "ERROR no install of Kafka $version under $install_dir (stage it, or give a source)" >&2; exit 3; }`,
        );
      }
      locate.push(
        'if [ -d "$target" ] && ! ls "$target/libs/" 2>/dev/null | grep -qx "kafka-clients-$version.jar"; then',
        '  echo "ERROR $target is not Kafka $version (libs/ has $(ls "$target/libs/" 2>/dev/null | grep -o "^kafka-clients-.*\\.jar$" || echo no kafka-clients jar))" >&2; exit 3',
        'fi',
        'echo "UNPACKED $unpacked"',
      );
      const { stdout, changed } = await runRepoint(host, `${locate.join('\n')}\n${repointScript(host, '"$target"')}`, `switch to Kafka ${version}`);
      const previousTarget = tagged(stdout, 'PREV') || null;
      const result: VersionSwitch = {
        previousTarget,
        previousVersion: versionFromInstallPath(tagged(stdout, 'PREVRESOLVED') ?? ''),
        target: tagged(stdout, 'TARGET') ?? '',
        version: versionFromInstallPath(tagged(stdout, 'RESOLVED') ?? ''),
        changed,
        unpacked: tagged(stdout, 'UNPACKED') === '1',
      };
      if (changed) logInfo('current link switched', { host: host.name, from: result.previousTarget, to: result.target });
      return result;
    },

    /**
     * Read-only preflight for an upgrade: is Kafka `version` installed under installDir (or at the staged path),
     * or does the archive on the host hold it? Checked before any node goes down.
     */
    async checkTargetVersion(cluster: string, hostName: string, version: string, source: InstallSource | null = null): Promise<{ host: string; ok: boolean; detail: string }> {
      const host = kafkaHost(cluster, hostName);
      if (!/^\d+\.\d+\.\d+$/.test(version)) throw invalidInput(`version "${version}" must look like 3.9.2`);
      const jar = `kafka-clients-${version}.jar`;
      const dir = shellQuote(host.kafka.installDir);
      const sourcePath = source ? shellQuote(installSourcePath(host, source)) : '';
      const checksum =
        source?.kind === 'archive' && source.sha256
          ? `s="$(sha256sum -- "$a" | cut -d' ' -f1)"; [ "$s" = ${shellQuote(source.sha256.toLowerCase())} ] || { echo "archive $a: sha256 $s is not the expected ${source.sha256.toLowerCase()}"; exit 1; }; `
          : '';
      const script =
        source?.kind === 'archive'
          ? `a=${sourcePath}; [ -f "$a" ] || { echo "no archive $a"; exit 1; }; ${checksum}tar -tf "$a" | grep -q "/libs/${jar}$" && echo "archive $a holds ${version}" || { echo "archive $a does not hold Kafka ${version}"; exit 1; }`
          : source?.kind === 'staged'
            ? `t=${sourcePath}; [ -f "$t/libs/${jar}" ] && echo "staged at $t" || { echo "$t has no libs/${jar}"; exit 1; }`
            : `for d in ${dir}/kafka_*-${version} ${dir}/kafka-${version}; do [ -f "$d/libs/${jar}" ] && { echo "installed at $d"; exit 0; }; done; echo "no install of Kafka ${version} under ${host.kafka.installDir}"; exit 1`;
      const r = await shell.exec(host, script, { timeoutMs: 60_000 });
      return { host: hostName, ok: r.code === 0, detail: scrub((r.stdout || r.stderr).trim().split('\n').pop() ?? '', 300) };
    },

    /** The reverse of switchVersion: points `current` back at `previousTarget` (as switchVersion returned it). */
    async restoreVersionLink(cluster: string, hostName: string, previousTarget: string): Promise<VersionSwitch> {
      const host = kafkaHost(cluster, hostName);
      if (previousTarget.trim() === '' || /[\n\r]/.test(previousTarget)) throw invalidInput(`"${previousTarget}" is not a link target`);
      const { stdout, changed } = await runRepoint(host, repointScript(host, shellQuote(previousTarget)), `restore ${host.kafka.currentLink} to ${previousTarget}`);
      return {
        previousTarget: tagged(stdout, 'PREV') || null,
        previousVersion: versionFromInstallPath(tagged(stdout, 'PREVRESOLVED') ?? ''),
        target: tagged(stdout, 'TARGET') ?? '',
        version: versionFromInstallPath(tagged(stdout, 'RESOLVED') ?? ''),
        changed,
        unpacked: false,
      };
    },

    /** Version of the install `current` points at, and the version the running process has loaded. */
    async readNodeVersion(cluster: string, hostName: string): Promise<NodeVersion> {
      const host = kafkaHost(cluster, hostName);
      const script = [
        `echo "LINK $(readlink ${shellQuote(host.kafka.currentLink)} 2>/dev/null || true)"`,
        `echo "RESOLVED $(readlink -f ${shellQuote(host.kafka.currentLink)} 2>/dev/null || true)"`,
        `if ${statusShell(host)}; then echo "RUNNING 1"; else echo "RUNNING 0"; fi`,
        // The JVM keeps the jars it loaded open: the kafka-clients jar names the version the process runs.
        `pid="$(tr -dc 0-9 2>/dev/null < ${shellQuote(host.kafka.pidFile)} || true)"`,
        `if [ -n "$pid" ] && [ -d "/proc/$pid/fd" ]; then echo "PROCJAR $(ls -l "/proc/$pid/fd" 2>/dev/null | grep -o 'kafka-clients-[0-9][^/ ]*\\.jar' | head -n 1)"; fi`,
        `echo "LOGVERSION $(grep -h 'Kafka version: ' ${shellQuote(`${host.kafka.logDir}/server.log`)} 2>/dev/null | tail -n 1 | sed 's/.*Kafka version: \\([^ ]*\\).*/\\1/')"`,
      ].join('\n');
      const r = await run(host, `bash -c ${shellQuote(script)}`, 30_000);
      if (r.code !== 0) throw new Error(`cannot read the version on ${host.name} (exit ${r.code}): ${scrub(r.stderr)}`);
      const processRunning = tagged(r.stdout, 'RUNNING') === '1';
      const jarVersion = versionFromClientsJar(tagged(r.stdout, 'PROCJAR') ?? '');
      const logVersion = tagged(r.stdout, 'LOGVERSION') || null;
      const linkTarget = tagged(r.stdout, 'LINK') || null;
      let runningVersion: string | null = null;
      let runningVersionFrom: NodeVersion['runningVersionFrom'] = null;
      if (processRunning && jarVersion) {
        runningVersion = jarVersion;
        runningVersionFrom = 'process';
      } else if (processRunning && logVersion) {
        runningVersion = logVersion;
        runningVersionFrom = 'log';
      }
      return { linkTarget, linkVersion: versionFromInstallPath(tagged(r.stdout, 'RESOLVED') ?? ''), processRunning, runningVersion, runningVersionFrom };
    },
  };
}
