import { type InventoryHost } from './schema';

/** Fills a host command template. Unknown placeholders are an error, not an empty string: a half-rendered command must never run. */
export function renderCommand(template: string, host: InventoryHost, extra: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    kafkaHome: host.kafka.currentLink,
    installDir: host.kafka.installDir,
    configFile: host.kafka.configFile,
    pidFile: host.kafka.pidFile,
    logDir: host.kafka.logDir,
    address: host.address,
    nodeId: host.nodeId === null ? '' : String(host.nodeId),
    name: host.name,
    ...extra,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`command template for host ${host.name} uses unknown placeholder {{${key}}}: ${template}`);
    return v;
  });
}

/** Quotes one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
