/**
 * An activity-only worker serving the fakes of test/workflow/every-activity.ts, run in its own process (tsx)
 * so a test can kill it with SIGKILL, as a crashed worker host would be. It hangs in the activity named by
 * HANG_IN and prints `started <activity> <attempt>` as each attempt starts.
 * Env: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TASK_QUEUE, HANG_IN, WORKER_IDENTITY.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities';
import { FakeWorld } from '../workflow/every-activity';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = (name: string): string => {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
  const world = new FakeWorld({
    hangIn: env('HANG_IN') as keyof Activities,
    onStarted: (activity, attempt) => process.stdout.write(`started ${activity} ${attempt}\n`),
  });
  const worker = await Worker.create({
    connection,
    namespace: env('TEMPORAL_NAMESPACE'),
    taskQueue: env('TASK_QUEUE'),
    identity: env('WORKER_IDENTITY'),
    activities: world.activities(),
  });
  process.stdout.write('ready\n');
  await worker.run();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
