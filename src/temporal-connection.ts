import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

/**
 * Temporal connection settings come from the standard places (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile in temporal.toml), so the worker and CLI point at a real
 * cluster exactly like the `temporal` CLI does. Defaults: localhost:7233, namespace "default".
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env) {
  const cfg = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  return {
    connectionOptions: { ...cfg.connectionOptions, address: cfg.connectionOptions.address ?? 'localhost:7233' },
    namespace: cfg.namespace ?? 'default',
  };
}

export async function connectClient(env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const s = temporalSettings(env);
  const connection = await Connection.connect(s.connectionOptions);
  return new Client({ connection, namespace: s.namespace });
}

export async function connectWorkerConnection(env: NodeJS.ProcessEnv = process.env): Promise<{ connection: NativeConnection; namespace: string }> {
  const s = temporalSettings(env);
  return { connection: await NativeConnection.connect(s.connectionOptions), namespace: s.namespace };
}
