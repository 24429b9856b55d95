/**
 * The ZooKeeper-to-KRaft migration as an explicit state machine (Kafka 3.9 ops docs, "ZooKeeper to KRaft
 * Migration"). ONE table, MIGRATION_TRANSITIONS, says which moves each state allows, forward and rollback;
 * the workflow asks `checkTransition` before every phase and the tests read the same table. Workflow-safe.
 */

export const MigrationState = {
  /** Brokers in ZooKeeper mode, no KRaft controller provisioned. */
  ZooKeeper: 'ZooKeeper',
  /** KRaft controllers configured for the migration (formatted with the ZooKeeper cluster id, running); brokers untouched. */
  ControllersProvisioned: 'ControllersProvisioned',
  /** Brokers carry the migration flag: hybrid until the metadata is copied, then dual-write (ZkMigrationState MIGRATION). */
  BrokersInMigrationMode: 'BrokersInMigrationMode',
  /** Brokers run as KRaft brokers; the controllers still write every change to ZooKeeper (dual-write). */
  BrokersInKRaftMode: 'BrokersInKRaftMode',
  /** Controllers without the migration flag: KRaft only. There is no way back to ZooKeeper. */
  Finalized: 'Finalized',
} as const;
export type MigrationState = (typeof MigrationState)[keyof typeof MigrationState];

/** Forward states in order. */
export const MIGRATION_ORDER: readonly MigrationState[] = [
  MigrationState.ZooKeeper,
  MigrationState.ControllersProvisioned,
  MigrationState.BrokersInMigrationMode,
  MigrationState.BrokersInKRaftMode,
  MigrationState.Finalized,
];

export type TransitionKind = 'forward' | 'rollback';

/** What a move does, step by step, as the workflow runs it. */
export const MigrationStep = {
  /** Write each controller's config, format its storage with the ZooKeeper cluster id, start it, wait for the quorum. */
  ProvisionControllers: 'provision-controllers',
  /** Rolling restart 1: migration flag and controller quorum settings on every broker. */
  RollBrokersIntoMigrationMode: 'roll-brokers-into-migration-mode',
  /** Wait for `Completed migration of metadata from ZooKeeper to KRaft` / ZkMigrationState MIGRATION, then diff the metadata. */
  WaitForMetadataMigration: 'wait-for-metadata-migration',
  /** Rolling restart 2: node.id = broker.id, process.roles=broker, no ZooKeeper settings. */
  RollBrokersIntoKRaftMode: 'roll-brokers-into-kraft-mode',
  /** Controllers one at a time without the migration flag and zookeeper.connect; point of no return. */
  FinalizeControllers: 'finalize-controllers',
  /** Rollback: brokers back to ZooKeeper mode keeping the migration flag (the flag stays until the second roll). */
  RollBrokersBackToMigrationMode: 'roll-brokers-back-to-migration-mode',
  /** Rollback: stop every controller and wipe its metadata dirs. */
  DeprovisionControllers: 'deprovision-controllers',
  /** Rollback: `get /migration`, then delete /controller and /migration with ZooKeeper's own shell, quickly. */
  DeleteMigrationZnodes: 'delete-migration-znodes',
  /** Rollback: strip the migration flag and the controller quorum settings, node.id back to broker.id. */
  RollBrokersOutOfMigrationMode: 'roll-brokers-out-of-migration-mode',
} as const;
export type MigrationStep = (typeof MigrationStep)[keyof typeof MigrationStep];

export interface Transition {
  to: MigrationState;
  kind: TransitionKind;
  /** The steps in order. */
  steps: readonly MigrationStep[];
  /** Why, in the operator's words (shown at gates and in the docs). */
  note: string;
}

const S = MigrationState;
const St = MigrationStep;

/**
 * Every move the runbook makes, per state. Rollbacks follow Kafka's "Reverting to ZooKeeper mode During the
 * Migration" table for the last fully completed phase; there is none from Finalized.
 */
export const MIGRATION_TRANSITIONS: Readonly<Record<MigrationState, readonly Transition[]>> = {
  [S.ZooKeeper]: [{ to: S.ControllersProvisioned, kind: 'forward', steps: [St.ProvisionControllers], note: 'provision the KRaft controller quorum with the cluster id read from ZooKeeper' }],
  [S.ControllersProvisioned]: [
    { to: S.BrokersInMigrationMode, kind: 'forward', steps: [St.RollBrokersIntoMigrationMode, St.WaitForMetadataMigration], note: 'roll the brokers into migration mode; the metadata migration starts after the last one' },
    { to: S.ZooKeeper, kind: 'rollback', steps: [St.DeprovisionControllers], note: 'deprovision the KRaft controller quorum; the brokers never left ZooKeeper mode' },
  ],
  [S.BrokersInMigrationMode]: [
    { to: S.BrokersInKRaftMode, kind: 'forward', steps: [St.RollBrokersIntoKRaftMode], note: 'roll the brokers into KRaft mode (only once the metadata migration has completed)' },
    {
      to: S.ZooKeeper,
      kind: 'rollback',
      steps: [St.DeprovisionControllers, St.DeleteMigrationZnodes, St.RollBrokersOutOfMigrationMode],
      note: 'deprovision the controllers, delete /controller and /migration quickly (the cluster has no controller meanwhile), then one roll out of migration mode',
    },
  ],
  [S.BrokersInKRaftMode]: [
    { to: S.Finalized, kind: 'forward', steps: [St.FinalizeControllers], note: 'finalize: controllers without the migration flag; ZooKeeper rollback ends here' },
    {
      to: S.ZooKeeper,
      kind: 'rollback',
      steps: [St.RollBrokersBackToMigrationMode, St.DeprovisionControllers, St.DeleteMigrationZnodes, St.RollBrokersOutOfMigrationMode],
      note: 'two rolls: first back to ZooKeeper mode keeping the migration flag, then (after the controllers are gone and /controller deleted) without it',
    },
  ],
  [S.Finalized]: [],
};

export type TransitionCheck = { ok: true; transition: Transition } | { ok: false; reason: string };

/** Whether the table allows moving from `from` to `to`; the refusal names what is allowed instead. */
export function checkTransition(from: MigrationState, to: MigrationState): TransitionCheck {
  const allowed = MIGRATION_TRANSITIONS[from];
  const transition = allowed.find((t) => t.to === to);
  if (transition) return { ok: true, transition };
  const instead = allowed.length === 0 ? 'nothing: the migration is finalized and cannot be reverted' : allowed.map((t) => `${t.to} (${t.kind})`).join(' or ');
  return { ok: false, reason: `cannot go from ${from} to ${to}: from ${from} the runbook allows ${instead}` };
}

/** The next forward move, or null at the end. */
export function forwardFrom(state: MigrationState): Transition | null {
  return MIGRATION_TRANSITIONS[state].find((t) => t.kind === 'forward') ?? null;
}

/** The rollback still possible from a state, or null (ZooKeeper: nothing to undo; Finalized: too late). */
export function rollbackFrom(state: MigrationState): Transition | null {
  return MIGRATION_TRANSITIONS[state].find((t) => t.kind === 'rollback') ?? null;
}

/** ZkMigrationState gauge values (kafka.controller:type=KafkaController,name=ZkMigrationState). Not in phase order. */
export const ZkMigrationGauge = { NONE: 0, MIGRATION: 1, PRE_MIGRATION: 2, POST_MIGRATION: 3, ZK: 4 } as const;

export function gaugeName(value: number | null): string {
  if (value === null) return 'unknown';
  const e = Object.entries(ZkMigrationGauge).find(([, v]) => v === value);
  return e ? `${e[0]} (${value})` : `unexpected value ${value}`;
}

/** Explains why a rollback must not start now, or null when it may: never after the finalize began, never while ZkWriteBehindLag > 0 (Kafka's rule). */
export function rollbackRefusal(at: {
  state: MigrationState;
  finalizeStarted: boolean;
  gauges: { zkMigrationState: number | null; zkWriteBehindLag: number | null } | null;
}): string | null {
  const back = rollbackFrom(at.state);
  if (!back) return at.state === S.Finalized ? 'the migration is finalized: Kafka cannot revert to ZooKeeper mode' : `nothing to roll back from ${at.state}`;
  if (at.finalizeStarted) return 'a controller already runs without the migration flag: the finalize has begun and ZooKeeper rollback is no longer possible';
  const migrating = at.state === S.BrokersInMigrationMode || at.state === S.BrokersInKRaftMode;
  const state = at.gauges?.zkMigrationState ?? null;
  const lag = at.gauges?.zkWriteBehindLag ?? null;
  if (migrating && state === null) return 'cannot read ZkMigrationState from the active controller: not rolling back without knowing where the migration stands';
  // Dual-write: ZooKeeper trails the KRaft metadata until the lag is 0; reverting earlier would lose those changes.
  if (state === ZkMigrationGauge.MIGRATION && lag === null) return 'cannot read ZkWriteBehindLag from the active controller: not rolling back without knowing ZooKeeper has every change';
  if (lag !== null && lag > 0) return `ZkWriteBehindLag is ${lag}: ZooKeeper does not have every metadata change yet; roll back only once it is 0`;
  return null;
}

/** One rollback step, on every broker (null) or only the brokers a half-done roll reached. */
export interface RollbackStep {
  step: MigrationStep;
  only: string[] | null;
}

/**
 * The rollback for an observed state (Kafka: "if you did not fully complete a step, back out whatever you have
 * done, then follow the directions for the last fully completed step"): a half-done roll is backed out on the
 * brokers it reached, then the table's steps for the state run. Null when no rollback exists from here.
 */
export function rollbackPlan(at: { state: MigrationState; inProgress: { toward: MigrationState; done: string[] } | null }): RollbackStep[] | null {
  const all = (step: MigrationStep): RollbackStep => ({ step, only: null });
  if (at.state === S.ZooKeeper) return at.inProgress ? [all(St.DeprovisionControllers)] : null;
  const back = rollbackFrom(at.state);
  if (!back) return null;
  const steps = back.steps.map(all);
  if (at.inProgress?.toward === S.BrokersInMigrationMode) return [{ step: St.RollBrokersOutOfMigrationMode, only: at.inProgress.done }, ...steps];
  if (at.inProgress?.toward === S.BrokersInKRaftMode) return [{ step: St.RollBrokersBackToMigrationMode, only: at.inProgress.done }, ...steps];
  return steps;
}
