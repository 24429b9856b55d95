import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { unknownCluster } from '../src/errors';
import { expandHome } from '../src/inventory/load';
import { type Inventory, type InventoryHost } from '../src/inventory/schema';
import { type ExpectedNode } from '../src/model/cluster';
import { readSecret } from './ssh';

/** The worker's view of its inventories. Workflows only ever name a cluster; this resolves it. */
export interface ClusterRegistry {
  get(cluster: string): Inventory;
  host(cluster: string, hostName: string): InventoryHost;
  names(): string[];
}

export function createClusterRegistry(inventories: Map<string, Inventory>): ClusterRegistry {
  const get = (cluster: string) => {
    const inv = inventories.get(cluster);
    if (!inv) throw unknownCluster(`unknown cluster "${cluster}": this worker knows ${[...inventories.keys()].map((n) => `"${n}"`).join(', ') || 'no clusters'}`);
    return inv;
  };
  return {
    get,
    host(cluster, hostName) {
      const h = get(cluster).hosts.find((x) => x.name === hostName);
      if (!h) throw unknownCluster(`cluster "${cluster}" has no host "${hostName}"`);
      return h;
    },
    names: () => [...inventories.keys()],
  };
}

/** The inventory without secrets or paths: what workflows may see. */
export function expectedNodes(inv: Inventory): ExpectedNode[] {
  return inv.hosts.map((h) => ({ host: h.name, nodeId: h.nodeId, roles: h.roles, rack: h.rack }));
}

/** A kafkajs client for a cluster, with TLS and SASL resolved from secret references on the worker. */
export function kafkaClient(inv: Inventory, clientId = 'kafka-runbooks'): Kafka {
  const c = inv.client;
  const config: KafkaConfig = {
    clientId,
    brokers: inv.bootstrapServers,
    connectionTimeout: c.connectionTimeoutMs,
    requestTimeout: c.requestTimeoutMs,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  };
  if (c.tls) {
    const t = c.tls;
    const file = (p?: string) => (p ? readFileSync(expandHome(p), 'utf8') : undefined);
    config.ssl = {
      rejectUnauthorized: t.rejectUnauthorized,
      ca: t.caFile ? [file(t.caFile) as string] : undefined,
      cert: file(t.certFile),
      key: file(t.keyFile),
      passphrase: t.keyPassword ? readSecret(t.keyPassword) : undefined,
    };
  }
  if (c.sasl) {
    config.sasl = { mechanism: c.sasl.mechanism, username: c.sasl.username, password: readSecret(c.sasl.password) } as SASLOptions;
  }
  return new Kafka(config);
}
