/**
 * Where an upgrade may take its install from on a host: only under the inventory's installDir or one of its
 * stagingDirs. Paths are compared after lexical normalisation (`.`, `..`, repeated slashes), so neither `/etc`
 * nor `installDir/../x` gets unpacked into the install dir or linked as `current`. Workflow-safe: no Node
 * built-ins. Symlinks on the host are not followed: the dirs are the operator's, inputs come from the UI.
 */
import { type InstallSource } from './input';

/** `/opt//kafka/./x/../y/` -> `/opt/kafka/y`. A relative path stays relative (leading `..` kept). */
export function normalizeHostPath(path: string): string {
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
    } else out.push(seg);
  }
  const joined = out.join('/');
  return absolute ? `/${joined}` : joined || '.';
}

/** NUL, newline and the other C0 controls, and DEL: never part of a path an operator means. */
export const hasControlCharacters = (text: string): boolean => [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

const isUnder = (path: string, dir: string): boolean => path.startsWith(dir === '/' ? '/' : `${dir}/`) && path !== dir;

export interface InstallLayout {
  installDir: string;
  stagingDirs: readonly string[];
}

export type ResolvedInstallSource = { ok: true; path: string } | { ok: false; problem: string };

/**
 * The absolute, normalised path of an install source on a host (a relative path is under installDir), or why
 * it is refused: outside installDir and every staging dir, or one of those dirs itself.
 */
export function resolveInstallSource(source: Pick<InstallSource, 'path'>, layout: InstallLayout): ResolvedInstallSource {
  const installDir = normalizeHostPath(layout.installDir);
  const staging = layout.stagingDirs.map(normalizeHostPath);
  const path = normalizeHostPath(source.path.startsWith('/') ? source.path : `${installDir}/${source.path}`);
  const shown = path === source.path ? `"${source.path}"` : `"${source.path}" (${path})`;
  if (hasControlCharacters(source.path)) return { ok: false, problem: `${JSON.stringify(source.path)} contains control characters` };
  if (!path.startsWith('/')) return { ok: false, problem: `${shown} is not an absolute path, and the install dir ${installDir} is relative` };
  if (path === installDir) return { ok: false, problem: `${shown} is the install dir itself, not a path under it` };
  if (staging.includes(path)) return { ok: false, problem: `${shown} is a staging dir itself, not a path under it` };
  if (isUnder(path, installDir) || staging.some((d) => isUnder(path, d))) return { ok: true, path };
  const allowed = staging.length > 0 ? `the install dir ${installDir} and the staging dirs ${staging.join(', ')}` : `the install dir ${installDir} (and there are no staging dirs in the inventory)`;
  return { ok: false, problem: `${shown} is outside ${allowed}: put it under one of them, or add its directory to the inventory's kafka.stagingDirs` };
}
