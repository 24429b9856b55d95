/**
 * The migration's JMX gauges on a KRaft controller and how Kafka's JmxTool (`org.apache.kafka.tools.JmxTool`,
 * 3.9) prints them with `--one-time true --report-format tsv`: one `<object name>:Value\t<n>` line per gauge,
 * after a `time\t<ms>` line (recorded in test/fixtures/migration/). Pure; workflow-safe.
 */

export const MIGRATION_GAUGES = {
  zkMigrationState: 'ZkMigrationState',
  zkWriteBehindLag: 'ZkWriteBehindLag',
  migratingZkBrokerCount: 'MigratingZkBrokerCount',
  activeControllerCount: 'ActiveControllerCount',
} as const;
export type MigrationGaugeField = keyof typeof MIGRATION_GAUGES;

export interface MigrationGaugeReadings {
  zkMigrationState: number | null;
  zkWriteBehindLag: number | null;
  migratingZkBrokerCount: number | null;
  /** 1 on the active controller, 0 on a standby. */
  activeControllerCount: number | null;
}

export const gaugeObjectName = (gauge: string): string => `kafka.controller:type=KafkaController,name=${gauge}`;

/** JmxTool's arguments for these gauges (every --object-name in one JVM run). */
export function jmxToolArgs(url: string, gauges: readonly string[]): string[] {
  return ['--jmx-url', url, ...gauges.flatMap((g) => ['--object-name', gaugeObjectName(g)]), '--one-time', 'true', '--report-format', 'tsv'];
}

export const jmxUrl = (address: string, port: number): string => `service:jmx:rmi:///jndi/rmi://${address.includes(':') ? `[${address}]` : address}:${port}/jmxrmi`;

/** The gauges found in JmxTool's tsv output; a gauge it did not print is null. A value that is not a number is refused. */
export function parseJmxToolGauges(stdout: string): MigrationGaugeReadings {
  const readings: MigrationGaugeReadings = { zkMigrationState: null, zkWriteBehindLag: null, migratingZkBrokerCount: null, activeControllerCount: null };
  const byName = new Map(Object.entries(MIGRATION_GAUGES).map(([field, gauge]) => [`${gaugeObjectName(gauge)}:Value`, field as MigrationGaugeField]));
  for (const line of stdout.split('\n')) {
    const [key, value] = line.replace(/\r$/, '').split('\t');
    const field = key === undefined ? undefined : byName.get(key);
    if (field === undefined || value === undefined) continue;
    const n = Number(value.trim());
    if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`JmxTool printed a non-numeric ${MIGRATION_GAUGES[field]}: ${value.slice(0, 80)}`);
    readings[field] = n;
  }
  return readings;
}

/** What JmxTool's stderr says went wrong, as an operator reads it; null when it names no known failure. */
export function jmxToolFailure(stderr: string): { kind: 'unreachable' | 'no-such-gauge'; message: string } | null {
  const unreachable = /Could not connect to JMX url: (\S+?)\.? Exception: ([^\n]*)/.exec(stderr);
  if (unreachable) return { kind: 'unreachable', message: `no JMX answer at ${unreachable[1]}: ${(unreachable[2] ?? '').split(';')[0]}` };
  const missing = /(No matched attributes for the queried objects[^\n]*|Could not find all (?:requested )?object names[^\n]*)/.exec(stderr);
  if (missing) return { kind: 'no-such-gauge', message: (missing[1] as string).slice(0, 300) };
  return null;
}
