import { Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { existsSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import pino from 'pino';
import { createActivities, createClusterRegistry, createHostShell } from '../activities';
import { attestationKeyFromFile } from './approvals/attestation';
import { InventoryError, loadInventories } from './inventory/load';
import { type Inventory } from './inventory/schema';
import { TASK_QUEUE, WORKFLOW_BUG_ERROR_TYPES } from './names';
import { connectWorkerConnection } from './temporal-connection';

const logger = pino({ name: 'kafka-runbooks-worker' });

export interface WorkerSettings {
  inventoryPaths: string[];
  taskQueue: string;
  /** Prometheus scrape address for SDK metrics, e.g. 127.0.0.1:9464; off when absent. */
  metricsAddress: string | null;
  /** File holding the key attestations from `kafka-runbooks serve` are verified with; absent: all answers unauthenticated. */
  attestationKeyFile: string | null;
}

/** Worker settings from the environment. The lab's inventory directory is the default. */
export function workerSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): WorkerSettings {
  const raw = env.KAFKA_RUNBOOKS_INVENTORY ?? resolve(cwd, '.lab/inventory');
  return {
    inventoryPaths: raw.split(delimiter).filter((p) => p.length > 0),
    taskQueue: env.KAFKA_RUNBOOKS_TASK_QUEUE ?? TASK_QUEUE,
    metricsAddress: env.KAFKA_RUNBOOKS_METRICS_ADDRESS ?? null,
    attestationKeyFile: env.KAFKA_RUNBOOKS_ATTESTATION_KEY_FILE ?? null,
  };
}

/** Hosts whose SSH host key is not verified (`strictHostKeyChecking: false`): anyone on the path can pose as them. */
export function hostsWithoutHostKeyChecking(inventories: Map<string, Inventory>): { cluster: string; host: string }[] {
  return [...inventories.values()].flatMap((inv) => inv.hosts.filter((h) => !h.ssh.strictHostKeyChecking).map((h) => ({ cluster: inv.name, host: h.name })));
}

/** Says loudly, once per host at start, which hosts the worker will talk to without checking who they are. */
export function warnUncheckedHostKeys(inventories: Map<string, Inventory>, log: Pick<pino.Logger, 'warn'> = logger): void {
  for (const { cluster, host } of hostsWithoutHostKeyChecking(inventories)) {
    log.warn(
      { cluster, host },
      `SSH host-key checking is OFF for host ${host} of cluster ${cluster} (strictHostKeyChecking: false): its identity is not verified, and commands and config files (passwords included) may go to an impostor`,
    );
  }
}

/**
 * Starts the worker: validates every inventory first (an invalid one stops the worker with the file, field
 * and reason), then registers all workflows and activities on one task queue. Resolves when it shuts down.
 */
export async function runWorker(settings: WorkerSettings, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const missing = settings.inventoryPaths.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new InventoryError(missing.join(', '), [
      'no inventory found: set KAFKA_RUNBOOKS_INVENTORY to inventory files or directories, or run `npm run lab -- up` first',
    ]);
  }
  const inventories = loadInventories(settings.inventoryPaths);
  if (inventories.size === 0) throw new InventoryError(settings.inventoryPaths.join(', '), ['no *.yaml inventory files found']);
  warnUncheckedHostKeys(inventories);

  if (settings.metricsAddress) {
    Runtime.install({
      logger: undefined,
      telemetryOptions: { metrics: { prometheus: { bindAddress: settings.metricsAddress } }, logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
    });
  }
  const { connection, namespace } = await connectWorkerConnection(env);
  const client = new Client({ connection, namespace });
  const shell = createHostShell();
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: settings.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    workflowFailureErrorTypes: WORKFLOW_BUG_ERROR_TYPES,
    activities: createActivities({
      clusters: createClusterRegistry(inventories),
      shell,
      client,
      taskQueue: settings.taskQueue,
      attestationKey: attestationKeyFromFile(settings.attestationKeyFile),
      namespace,
    }),
  });
  logger.info({ clusters: [...inventories.keys()], taskQueue: settings.taskQueue, namespace }, 'worker started');
  try {
    await worker.run();
  } finally {
    await shell.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker(workerSettings()).catch((err: unknown) => {
    if (err instanceof InventoryError) logger.fatal(err.message);
    else logger.fatal({ err }, 'worker failed');
    process.exit(1);
  });
}
