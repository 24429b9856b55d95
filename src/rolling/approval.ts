import type { ApprovalPolicy, RollbackPolicy } from './input';

/** Points in a rolling restart where a human may have to approve before the runbook goes on. */
export type GatePoint =
  /** Before batch `index` (0-based) goes down. */
  | { kind: 'batch'; index: number }
  /** A step that cannot be undone: an inter.broker.protocol.version bump, a metadata.version/feature upgrade. */
  | { kind: 'irreversible'; what: string }
  /** Killing a node whose controlled shutdown did not finish in time: it will recover its logs on start. */
  | { kind: 'force-kill'; host: string }
  /** Rolling a node back (previous version and config) after it failed to come back. */
  | { kind: 'rollback'; host: string };

/**
 * Whether the runbook must stop at a gate before `point`.
 * A forced kill is always gated, whatever the policy: it skips the controlled shutdown and costs log
 * recovery. Irreversible steps are gated by every policy but 'none'. Rollbacks follow `rollbackPolicy`.
 */
export function requiresApproval(policy: { approval: ApprovalPolicy; rollbackPolicy: RollbackPolicy }, point: GatePoint): boolean {
  switch (point.kind) {
    case 'force-kill':
      return true;
    case 'rollback':
      return policy.rollbackPolicy === 'after-approval';
    case 'irreversible':
      return policy.approval !== 'none';
    case 'batch':
      return policy.approval === 'every-node' || (policy.approval === 'before-first-node' && point.index === 0);
  }
}
