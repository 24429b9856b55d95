import { type InventoryHost } from './schema';

/**
 * Host command templates. Placeholders are replaced by the host's values, always shell-quoted (a value of only
 * safe characters stays as it is), so a path with a space or a `$(...)` is one literal argument. The rule for
 * template authors: never put quotes around a placeholder (`"{{configFile}}"` would pass the quote
 * characters on); write `{{configFile}}`, also inside a word (`{{kafkaHome}}/bin/{{tool}}`) and as an
 * assignment value (`KAFKA_PID_FILE={{pidFile}}`). The inventory schema refuses a quoted placeholder.
 */
export const HOST_PLACEHOLDERS = ['kafkaHome', 'installDir', 'configFile', 'pidFile', 'logDir', 'address', 'nodeId', 'name'] as const;

const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/g;

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
  return template.replace(PLACEHOLDER, (_m, key: string) => {
    const v = Object.prototype.hasOwnProperty.call(values, key) ? values[key] : undefined;
    if (v === undefined) throw new Error(`command template for host ${host.name} uses unknown placeholder {{${key}}}: ${template}`);
    return shellQuote(v);
  });
}

/**
 * What is wrong with a template, for the inventory schema: an unknown placeholder, or one inside quotes.
 * Quoting is followed through '...', "...", $(...) and backslash escapes; `extraPlaceholders` are those the
 * caller fills in (the tool template's {{tool}}).
 */
export function templateProblems(template: string, extraPlaceholders: readonly string[] = []): string[] {
  const known = new Set<string>([...HOST_PLACEHOLDERS, ...extraPlaceholders]);
  const problems: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!known.has(m[1] as string)) problems.push(`unknown placeholder {{${m[1]}}}`);
  }
  // Contexts: top level or a command substitution (unquoted), single or double quotes.
  const stack: ('top' | 'sub' | 'sq' | 'dq')[] = ['top'];
  for (let i = 0; i < template.length; i++) {
    const ctx = stack[stack.length - 1];
    const c = template[i];
    if (ctx === 'sq') {
      if (c === "'") stack.pop();
      continue;
    }
    if (c === '\\') {
      i++;
    } else if (c === '{' && template.startsWith('{{', i)) {
      const m = /^\{\{\s*(\w+)\s*\}\}/.exec(template.slice(i));
      if (m && ctx === 'dq') {
        const close = template.indexOf('"', i + m[0].length);
        const start = template.lastIndexOf('"', i);
        problems.push(`placeholders are substituted shell-quoted: write {{${m[1]}}} without quotes around it (${template.slice(start, close < 0 ? undefined : close + 1)})`);
      }
      if (m) i += m[0].length - 1;
    } else if (c === '$' && template[i + 1] === '(') {
      stack.push('sub');
      i++;
    } else if (ctx === 'dq') {
      if (c === '"') stack.pop();
    } else if (c === "'") {
      stack.push('sq');
      const close = template.indexOf("'", i + 1);
      const inner = template.slice(i + 1, close < 0 ? undefined : close);
      const m = /\{\{\s*(\w+)\s*\}\}/.exec(inner);
      if (m) problems.push(`placeholders are substituted shell-quoted: write {{${m[1]}}} without quotes around it ('${inner}')`);
    } else if (c === '"') {
      stack.push('dq');
    } else if (c === ')' && ctx === 'sub') {
      stack.pop();
    }
  }
  return problems;
}

/** Quotes one argument for a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
