import { checkTransition, MIGRATION_ORDER, MIGRATION_TRANSITIONS, MigrationState as S, MigrationStep as St, rollbackPlan, rollbackRefusal } from '../../../src/migration';

describe('migration state table', () => {
  it.each([
    [S.ZooKeeper, S.ControllersProvisioned, 'forward'],
    [S.ControllersProvisioned, S.BrokersInMigrationMode, 'forward'],
    [S.ControllersProvisioned, S.ZooKeeper, 'rollback'],
    [S.BrokersInMigrationMode, S.BrokersInKRaftMode, 'forward'],
    [S.BrokersInMigrationMode, S.ZooKeeper, 'rollback'],
    [S.BrokersInKRaftMode, S.Finalized, 'forward'],
    [S.BrokersInKRaftMode, S.ZooKeeper, 'rollback'],
  ])('allows %s -> %s (%s)', (from, to, kind) => {
    const c = checkTransition(from, to);
    expect(c.ok && c.transition.kind).toBe(kind);
  });

  it.each([
    [S.ZooKeeper, S.BrokersInMigrationMode],
    [S.ZooKeeper, S.Finalized],
    [S.ControllersProvisioned, S.BrokersInKRaftMode],
    [S.BrokersInMigrationMode, S.Finalized],
    [S.BrokersInKRaftMode, S.BrokersInMigrationMode],
    [S.BrokersInMigrationMode, S.ControllersProvisioned],
  ])('refuses %s -> %s, naming what is allowed', (from, to) => {
    const c = checkTransition(from, to);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.reason).toContain(`from ${from} the runbook allows`);
  });

  it('allows nothing from Finalized: no way back to ZooKeeper', () => {
    const c = checkTransition(S.Finalized, S.ZooKeeper);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.reason).toContain('cannot be reverted');
    expect(MIGRATION_TRANSITIONS[S.Finalized]).toEqual([]);
  });

  it('has exactly one forward move per state but the last, to the next state in order', () => {
    MIGRATION_ORDER.slice(0, -1).forEach((s, i) => {
      const fwd = MIGRATION_TRANSITIONS[s].filter((t) => t.kind === 'forward');
      expect(fwd.map((t) => t.to)).toEqual([MIGRATION_ORDER[i + 1]]);
    });
  });

  it("follows Kafka's revert table: two rolls from KRaft mode, the flag kept on the first, znodes deleted after the controllers are gone", () => {
    const steps = MIGRATION_TRANSITIONS[S.BrokersInKRaftMode].find((t) => t.kind === 'rollback')?.steps;
    expect(steps).toEqual([St.RollBrokersBackToMigrationMode, St.DeprovisionControllers, St.DeleteMigrationZnodes, St.RollBrokersOutOfMigrationMode]);
    expect(MIGRATION_TRANSITIONS[S.ControllersProvisioned].find((t) => t.kind === 'rollback')?.steps).toEqual([St.DeprovisionControllers]);
  });
});

describe('rollbackRefusal', () => {
  const at = (zkMigrationState: number | null, zkWriteBehindLag: number | null, state: S = S.BrokersInKRaftMode, finalizeStarted = false) => ({ state, finalizeStarted, gauges: { zkMigrationState, zkWriteBehindLag } });
  it('refuses while ZkWriteBehindLag > 0 and says so', () => expect(rollbackRefusal(at(1, 7))).toContain('ZkWriteBehindLag is 7'));
  it('allows at lag 0 in dual-write', () => expect(rollbackRefusal(at(1, 0))).toBeNull());
  it('refuses in dual-write when the lag cannot be read', () => expect(rollbackRefusal(at(1, null))).toContain('cannot read ZkWriteBehindLag'));
  it('refuses in migration mode when ZkMigrationState cannot be read', () => expect(rollbackRefusal({ state: S.BrokersInMigrationMode, finalizeStarted: false, gauges: null })).toContain('cannot read ZkMigrationState'));
  it('allows from ControllersProvisioned with no gauges (no migration yet)', () => expect(rollbackRefusal({ state: S.ControllersProvisioned, finalizeStarted: false, gauges: null })).toBeNull());
  it('refuses once the finalize began', () => expect(rollbackRefusal(at(1, 0, S.BrokersInKRaftMode, true))).toContain('finalize has begun'));
  it('refuses from Finalized', () => expect(rollbackRefusal(at(3, 0, S.Finalized))).toContain('cannot revert'));
});

describe('rollbackPlan', () => {
  it('backs out a half-done roll 1 on the brokers it reached, then deprovisions', () => {
    expect(rollbackPlan({ state: S.ControllersProvisioned, inProgress: { toward: S.BrokersInMigrationMode, done: ['kafka-1'] } })).toEqual([
      { step: St.RollBrokersOutOfMigrationMode, only: ['kafka-1'] },
      { step: St.DeprovisionControllers, only: null },
    ]);
  });
  it('backs out a half-done roll 2 to migration mode first', () => {
    expect(rollbackPlan({ state: S.BrokersInMigrationMode, inProgress: { toward: S.BrokersInKRaftMode, done: ['kafka-2'] } })?.[0]).toEqual({ step: St.RollBrokersBackToMigrationMode, only: ['kafka-2'] });
  });
  it('deprovisions half-provisioned controllers', () => expect(rollbackPlan({ state: S.ZooKeeper, inProgress: { toward: S.ControllersProvisioned, done: ['ctl-1'] } })).toEqual([{ step: St.DeprovisionControllers, only: null }]));
  it('has none from ZooKeeper or Finalized', () => {
    expect(rollbackPlan({ state: S.ZooKeeper, inProgress: null })).toBeNull();
    expect(rollbackPlan({ state: S.Finalized, inProgress: null })).toBeNull();
  });
});
