import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, startDevServer } from '../../support/temporal';

const execFileAsync = promisify(execFile);

/** The real worker (`src/worker.ts`) as a child process, exactly as an operator runs it. */
export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export function stackEnv(env: TestWorkflowEnvironment, inventoryPaths: string[], taskQueue: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    KAFKA_RUNBOOKS_INVENTORY: inventoryPaths.join(':'),
    KAFKA_RUNBOOKS_TASK_QUEUE: taskQueue,
    KAFKA_RUNBOOKS_USER: 'e2e-test',
  };
}

/** Starts the worker and resolves once it logs that it is polling. */
export async function startWorker(env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', resolve(REPO_ROOT, 'src/worker.ts')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => {
      // Never leave a worker behind that will not be stopped by anyone.
      child.kill('SIGKILL');
      fail(new Error(`worker did not start in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const check = () => {
      if (out.includes('worker started')) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`worker exited with ${code}:\n${out}`));
    });
  });
  return {
    child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `kafka-runbooks` CLI (bin/kafka-runbooks), as a user would. */
export async function cli(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 180_000): Promise<CliResult> {
  try {
    const r = await execFileAsync(resolve(REPO_ROOT, 'bin/kafka-runbooks'), args, { cwd: REPO_ROOT, env, timeout: timeoutMs, maxBuffer: 20 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A real Temporal dev server for the whole test file: started before its tests, torn down after. */
export function useDevServer(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await startDevServer();
  }, 180_000);
  afterAll(async () => {
    await env?.teardown();
  });
  return () => {
    if (!env) throw new Error('the Temporal dev server did not start (see beforeAll)');
    return env;
  };
}
