/**
 * The first lines of a run's details in the Web UI: runbook, cluster, who started it, what it will do. The CLI
 * and the API set them as the run's static summary and details at start; the workflow writes the same lines at
 * the top of its current details from its first task, which is all a run started from the UI's own form gets.
 * Workflow-safe: no I/O. The input is read defensively: it may not have been validated yet.
 */
import { describeGoal } from '../reassignment';
import { type ReassignmentGoal } from '../reassignment/types';

const MAX_LINE = 200;

function field(raw: unknown, name: string): unknown {
  return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>)[name] : undefined;
}
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim().length > 0 ? v.trim().replace(/\s+/g, ' ').slice(0, 100) : null);
function names(v: unknown): string | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const shown = v.slice(0, 6).map((x) => (typeof x === 'string' || typeof x === 'number' ? String(x) : '?'));
  return v.length > 6 ? `${shown.join(', ')} and ${v.length - 6} more` : shown.join(', ');
}
const oneLine = (s: string): string => (s.length > MAX_LINE ? `${s.slice(0, MAX_LINE - 1)}…` : s);

/** What a run of this runbook will do, in one line, from its input (defaults assumed where the input is silent). */
export function describeRunIntent(workflowType: string, raw: unknown): string {
  const hosts = names(field(raw, 'hosts')) ?? '(no hosts named)';
  switch (workflowType) {
    case 'clusterHealth':
      return 'check the health of the cluster against its inventory; read-only, changes nothing';
    case 'rollingRestart': {
      const target = text(field(raw, 'targetVersion'));
      const nodes = names(field(raw, 'nodes'));
      const what = `${target ? `upgrade to Kafka ${target}` : 'restart'} ${nodes ? `nodes ${nodes}` : 'every broker and controller'}, batch by batch`;
      return oneLine(target ? `${what}; then finalize, after an approval (irreversible)` : what);
    }
    case 'addBrokers':
      return oneLine(`add brokers ${hosts} and move their share of replicas onto them`);
    case 'decommissionBroker': {
      const stop = field(raw, 'stopBrokers') !== false;
      const wipe = field(raw, 'wipeData') === true;
      return oneLine(`move every replica off ${hosts}${stop ? ', then stop them (after an approval)' : ''}${wipe ? ' and wipe their data (after an approval)' : ''}`);
    }
    case 'changeReplicationFactor':
      return oneLine(`set the replication factor of topic ${text(field(raw, 'topic')) ?? '?'} to ${String(field(raw, 'replicationFactor') ?? '?')}`);
    case 'rebalanceLeaders':
      return 'spread preferred leaders evenly (no data moves) and elect them';
    case 'reassignPartitions': {
      let goal = 'an invalid goal (the input check will say why)';
      try {
        goal = describeGoal(field(raw, 'goal') as ReassignmentGoal) ?? goal;
      } catch {
        // a malformed goal: the run's input check names the field
      }
      return oneLine(`reassign partitions: ${goal}`);
    }
    default:
      return `run ${workflowType}`;
  }
}

/** Who the input says started the run (`startedBy`, or the principal of its start attestation), if anyone. */
export function claimedStarter(raw: unknown): string | null {
  const named = text(field(raw, 'startedBy'));
  const attested = field(raw, 'attestation');
  const principal = text(field(attested, 'principal'));
  const via = text(field(attested, 'via'));
  if (principal) return `${principal}${via ? ` via ${via}` : ''}`;
  return named;
}

/** What the details say when nobody is named as the starter: how to name one. */
export const STARTER_NOT_NAMED = 'not named (put `"startedBy": "<you>"` in the input)';

export interface RunHeader {
  runbook: string;
  cluster: string;
  /** Rendered: `alice via slack-bot`, `bob (unauthenticated)`; null when nobody is named. */
  startedBy: string | null;
  intent: string;
}

/** The run's one-line summary: the Web UI's list and the run's title. */
export function runSummary(h: Pick<RunHeader, 'runbook' | 'cluster' | 'intent'>): string {
  return oneLine(`${h.runbook} on ${h.cluster}: ${h.intent}`);
}

/** The header, markdown, one paragraph a line: the same at the top of the static details and of the current details. */
export function runHeader(h: RunHeader, status?: string): string {
  return [`**${h.runbook}** on cluster \`${h.cluster}\`${status ? `: **${status}**` : ''}`, `Started by: ${h.startedBy ?? STARTER_NOT_NAMED}`, `Will: ${h.intent}`].join('\n\n');
}

/**
 * The static summary and details the CLI and the API give a run at start (the Web UI's form gives none; the
 * run's current details carry the same header). `startedBy` is as the starter rendered it (`alice via
 * slack-bot`); absent, a `startedBy` in the input is shown unauthenticated.
 */
export function startMetadata(workflowType: string, cluster: string, input: unknown, startedBy: string | null, doc?: string): { staticSummary: string; staticDetails: string } {
  const claimed = claimedStarter(input);
  const intent = describeRunIntent(workflowType, input);
  const header = runHeader({ runbook: workflowType, cluster, startedBy: startedBy ?? (claimed ? `${claimed} (unauthenticated)` : null), intent });
  return { staticSummary: runSummary({ runbook: workflowType, cluster, intent }), staticDetails: doc ? `${header}\n\nRunbook: \`${doc}\`` : header };
}
