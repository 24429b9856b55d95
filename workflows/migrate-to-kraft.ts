import { executeChild, ParentClosePolicy, patched, workflowInfo } from '@temporalio/workflow';
import type { MigrationHosts } from '../activities/migration';
import { FailureType, findFailure, gateRejected, invalidInput, unsafeToProceed } from '../src/errors';
import {
  checkTransition,
  combineControllerGauges,
  diffMetadata,
  inventorySnippet,
  type MetadataDiff,
  type MetadataSnapshot,
  type MigrateToKRaftInput,
  migrateToKRaftInput,
  type MigrateToKRaftInputRaw,
  type MigrationConfigEdit,
  type MigrationGauges,
  type MigrationObservation,
  migrationPreflight,
  type MigrationResult,
  MigrationState,
  MigrationStep,
  type PhaseTiming,
  type QuorumSpec,
  renderMetadataDiff,
  renderMigrationReport,
  renderStateDiagram,
  rollbackFrom,
  rollbackPlan,
  rollbackRefusal,
  ZkMigrationGauge,
  observeMigrationState,
} from '../src/migration';
import { type RollingRestartInputRaw } from '../src/rolling';
import { clusterNamedIn } from '../src/runbooks/input';
import { proxyByKind, proxyOfKind, proxyWaits, parsedInput } from './activity-options';
import { ActivityKind } from './activity-options';
import { describe, RunbookControls } from './controls';
import { rollingRestart } from './rolling-restart';

const read = proxyOfKind(ActivityKind.Read);
const lock = proxyOfKind(ActivityKind.Lock);
const host = proxyByKind();
const waitFor = (seconds: number) => proxyWaits(seconds * 1000);
/** Controllers provisioned without controllerSource are pointed at the brokers' release (runs before it only checked the install). */
const CONTROLLER_RELEASE_PATCH = 'controllers-run-the-brokers-release';

/** Where a run stands: the hosts, the latest observation and what the report collects. */
interface Run {
  controls: RunbookControls;
  input: MigrateToKRaftInput;
  hosts: MigrationHosts;
  quorum: QuorumSpec;
  obs: Extract<MigrationObservation, { ok: true }>;
  phases: PhaseTiming[];
  before: (MetadataSnapshot & { topicCount: number; aclCount: number }) | null;
  diff: MetadataDiff | null;
  childCount: number;
  /** The controller's "Completed migration of metadata" log line, when this run waited for it. */
  migratedLine: string | null;
}

/**
 * migrateToKRaft: takes a ZooKeeper-mode cluster to KRaft through Kafka's phases, as a state machine
 * (src/migration/states.ts), with a rollback to ZooKeeper offered until the finalize. Guarantees:
 * - every run starts by OBSERVING the state from the cluster (configs, /migration, ZkMigrationState), so a
 *   stopped run or a cluster migrated half-way by hand is picked up where it is; readings that disagree stop
 *   the run before anything changes, naming what disagrees;
 * - every move is one the transition table allows from the observed state;
 * - preflight refuses, naming what it found, before the first change;
 * - broker rolls are guarded rolling restarts (rollingRestart as a child: min ISR guards, waits, config backup
 *   and restore, rollback of a node that does not come back);
 * - the controllers get the cluster id read from ZooKeeper, never a new one;
 * - the brokers go to KRaft mode only after ZkMigrationState is MIGRATION and the metadata read back through
 *   the Kafka protocol equals what it was before;
 * - the finalize runs only after a gate that says ZooKeeper rollback ends there, one controller at a time;
 * - a rollback (at a gate, or offered after a failure before the finalize) follows Kafka's table for the
 *   observed state and never starts while ZkWriteBehindLag > 0;
 * - the runbook never edits the inventory: the report gives the YAML to paste.
 */
export async function migrateToKRaft(rawInput: MigrateToKRaftInputRaw): Promise<MigrationResult & { markdown: string }> {
  const cluster = clusterNamedIn(rawInput);
  const { workflowId } = workflowInfo();
  const controls = new RunbookControls({
    runbook: 'migrateToKRaft',
    cluster,
    approvers: (rawInput as { approvers?: string[] } | null)?.approvers ?? null,
    input: rawInput,
    lock: {
      acquire: () => lock.acquireClusterLock({ cluster, workflowId, runbook: 'migrateToKRaft' }),
      release: () => lock.releaseClusterLock({ cluster, workflowId }),
    },
  });
  const started = Date.now();
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('migrateToKRaft', migrateToKRaftInput, rawInput));
    const hosts = await controls.step('resolve the brokers and controllers', () => read.describeMigrationHosts(input.cluster, input.controllers, input.controllerListener.port));
    const run: Run = { controls, input, hosts, quorum: quorumOf(input, hosts), obs: await observe(controls, input, hosts), phases: [], before: null, diff: null, childCount: 0, migratedLine: null };
    const startState = run.obs.state;

    if (input.goal === 'rollback') {
      await rollBack(run, 'the input asks for a rollback');
    } else {
      try {
        await migrate(run);
      } catch (err) {
        await offerRollbackAfterFailure(run, err);
        throw err;
      }
    }
    const result: MigrationResult = {
      startState,
      endState: run.obs.state,
      goal: input.goal,
      phases: run.phases,
      metadataDiff: run.diff,
      migrationLogLine: run.migratedLine,
      gates: controls.decisions.map((d) => ({ gate: d.gate, outcome: d.outcome, choice: d.choice, approver: d.approver, reason: d.reason })),
      inventorySnippet: run.obs.state === MigrationState.Finalized ? inventorySnippet(input.cluster, hosts.brokers, hosts.controllers) : null,
      wallMs: Date.now() - started,
    };
    const markdown = renderMigrationReport(result, input.cluster);
    controls.extraDetails = `${renderStateDiagram(run.obs)}\n\n${markdown}`;
    return { ...result, markdown };
  });
}

/** The forward phases from wherever the cluster is, each after its gate, until Finalized. */
async function migrate(run: Run): Promise<void> {
  if (run.obs.state === MigrationState.ZooKeeper || run.obs.state === MigrationState.ControllersProvisioned) await preflight(run);
  for (;;) {
    const state = run.obs.state;
    if (state === MigrationState.Finalized) {
      if (run.obs.inProgress) await finalizeControllers(run, run.obs.inProgress.pending);
      return;
    }
    switch (state) {
      case MigrationState.ZooKeeper:
        if ((await phaseGate(run, 'provision-controllers', `Provision the KRaft controllers ${run.hosts.controllers.map((c) => c.host).join(', ')} with the cluster id read from ZooKeeper? The brokers are not touched yet.`)) === 'rolled-back') return;
        await phase(run, MigrationState.ControllersProvisioned, () => provisionControllers(run));
        break;
      case MigrationState.ControllersProvisioned:
        if ((await phaseGate(run, 'brokers-into-migration-mode', 'Roll the brokers into migration mode? The metadata migration starts by itself after the last one.')) === 'rolled-back') return;
        await phase(run, MigrationState.BrokersInMigrationMode, async () => {
          await ensureQuorum(run);
          run.before ??= await run.controls.step('read the metadata before the migration', () => read.snapshotMigrationMetadata(run.input.cluster, run.input.canaryTopic ? [run.input.canaryTopic] : []));
          await rollBrokers(run, { kind: 'enter-migration-mode', quorum: run.quorum }, brokersNotIn(run, 'migration'));
          await waitForMigrationCompleted(run);
        });
        break;
      case MigrationState.BrokersInMigrationMode:
        if (run.obs.phase !== 'dual-write') await waitForMigrationCompleted(run);
        await compareMetadata(run);
        if ((await phaseGate(run, 'brokers-into-kraft-mode', `Metadata migrated (${run.diff?.same ? 'identical before and after' : 'see the diff'}). Roll the brokers into KRaft mode?`)) === 'rolled-back') return;
        await phase(run, MigrationState.BrokersInKRaftMode, () => rollBrokers(run, { kind: 'enter-kraft-mode' }, run.obs.inProgress?.pending ?? run.hosts.brokers.map((b) => b.host)));
        break;
      case MigrationState.BrokersInKRaftMode: {
        const d = await run.controls.gate(
          'finalize',
          'Every broker runs in KRaft mode; the controllers still write to ZooKeeper. FINALIZE: restart the controllers one at a time without the migration flag and zookeeper.connect? ZooKeeper rollback ends here: after this the cluster cannot go back to ZooKeeper. Choose "finalize", or "rollback" to go back to ZooKeeper; reject to stay in dual-write for now.',
          { choices: ['finalize', 'rollback'] },
        );
        if (d.outcome !== 'approved') throw gateRejected(`finalize not approved by ${d.approver}: the cluster stays in dual-write (BrokersInKRaftMode); a later run picks it up there`);
        if (d.choice === 'rollback') return rollBack(run, `chosen at the finalize gate by ${d.approver}`);
        await phase(run, MigrationState.Finalized, () => finalizeControllers(run, run.obs.inProgress?.pending ?? run.hosts.controllers.map((c) => c.host)));
        break;
      }
    }
  }
}

async function observe(controls: RunbookControls, input: MigrateToKRaftInput, hosts: MigrationHosts): Promise<Run['obs']> {
  const names = hosts.controllers.map((c) => c.host);
  const [configs, znodes, gauges] = await Promise.all([
    controls.step('observe: read the brokers’ and controllers’ configs', () => read.readMigrationConfigs(input.cluster, names)),
    controls.step('observe: read /migration and /controller in ZooKeeper', () => read.readMigrationZnodes(input.cluster)),
    controls.step('observe: read ZkMigrationState from the controllers', () => readGauges(input.cluster, names)),
  ]);
  const obs = observeMigrationState({ ...configs, znodes, gauges });
  controls.extraDetails = renderStateDiagram(obs);
  controls.setDetail(obs.ok ? `observed: ${obs.state}${obs.phase ? ` (${obs.phase})` : ''}` : 'observed: readings disagree');
  if (!obs.ok) throw unsafeToProceed(`cannot tell where the migration stands: ${obs.disagreements.join('; ')}`, { disagreements: obs.disagreements });
  return obs;
}

/**
 * The gauges of every controller, combined (combineControllerGauges): the standbys report a lag of 0, so the
 * first answer alone could hide the leader's. Null when none runs yet.
 */
async function readGauges(cluster: string, controllers: string[]): Promise<MigrationGauges | null> {
  // Reads, so in parallel; a stopped or unprovisioned controller has no JMX (its read fails after its retries).
  const readings = await Promise.all(controllers.map((c) => read.readMigrationGauges(cluster, c).catch(() => null)));
  return combineControllerGauges(readings);
}

async function preflight(run: Run): Promise<void> {
  const { input, hosts, controls } = run;
  const readings = await controls.step('preflight: read versions, configs, health, assignments, SCRAM users and delegation tokens', () =>
    read.readMigrationPreflight(input.cluster, hosts.controllers.map((c) => c.host)),
  );
  const p = migrationPreflight(readings);
  for (const w of p.warnings) controls.warn(w);
  if (p.problems.length > 0) throw unsafeToProceed(`not migrating: ${p.problems.join(' ')}${p.proposal ? ` Proposed: ${p.proposal}.` : ''}`, { problems: p.problems, proposal: p.proposal });
}

/** A forward phase: allowed by the table from the observed state, timed, then the state observed afresh. */
async function phase(run: Run, to: MigrationState, body: () => Promise<void>): Promise<void> {
  const check = checkTransition(run.obs.state, to);
  if (!check.ok) throw unsafeToProceed(check.reason);
  await timed(run, `${run.obs.state} → ${to}`, body);
  run.obs = await observe(run.controls, run.input, run.hosts);
  if (run.obs.state !== to) throw unsafeToProceed(`after "${check.transition.note}" the cluster is in ${run.obs.state}, not ${to}`);
}

async function timed(run: Run, name: string, body: () => Promise<void>): Promise<void> {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  try {
    await body();
  } finally {
    run.phases.push({ phase: name, startedAt, ms: Date.now() - t0 });
  }
}

/**
 * A gate before a phase under the 'every-phase' policy, offering the rollback the table allows from here.
 * Rejected: the run stops and leaves the cluster where it is.
 */
async function phaseGate(run: Run, name: string, prompt: string): Promise<'proceed' | 'rolled-back'> {
  if (run.input.approval !== 'every-phase') return 'proceed';
  const back = rollbackFrom(run.obs.state);
  const choices = back ? ['proceed', 'rollback'] : ['proceed'];
  const d = await run.controls.gate(name, `${prompt}${back ? ` Or "rollback": ${back.note}.` : ''}`, { choices });
  if (d.outcome !== 'approved') throw gateRejected(`gate "${name}" rejected by ${d.approver}: the cluster stays in ${run.obs.state}; a later run picks it up there`);
  if (d.choice !== 'rollback') return 'proceed';
  await rollBack(run, `chosen at gate "${name}" by ${d.approver}`);
  return 'rolled-back';
}

/** Controllers: install, config, format with the ZooKeeper cluster id, start; then the quorum. */
async function provisionControllers(run: Run): Promise<void> {
  const { controls, input, hosts } = run;
  const c = input.cluster;
  const znodes = await controls.step('read the cluster id from ZooKeeper', () => read.readMigrationZnodes(c));
  const clusterId = znodes.clusterId;
  if (!clusterId) throw unsafeToProceed('ZooKeeper has no /cluster/id: cannot format the controllers with the cluster id');
  const version = await controls.step('read the brokers’ Kafka version', () => host.readNodeVersion(c, hosts.brokers[0]?.host ?? ''));
  const release = version.runningVersion ?? version.linkVersion;
  if (!release) throw unsafeToProceed(`cannot tell which Kafka version ${hosts.brokers[0]?.host ?? 'the brokers'} runs`);
  for (const ctl of hosts.controllers) {
    const h = ctl.host;
    const source = input.controllerSourceByHost?.[h] ?? input.controllerSource ?? null;
    if (source) await controls.step(`${h}: install Kafka ${release}`, () => host.switchVersion(c, h, release, source));
    else {
      const ok = await controls.step(`${h}: check Kafka ${release} is installed`, () => host.checkTargetVersion(c, h, release, null));
      if (!ok.ok) throw unsafeToProceed(`controller ${h}: ${ok.detail}; give controllerSource`);
      // Installed is not enough: a host's `current` may point at another release, and a controller older than
      // the brokers' protocol refuses their registration (UNSUPPORTED_VERSION; seen after a 3.8.1 -> 3.9.2 upgrade).
      if (patched(CONTROLLER_RELEASE_PATCH)) await controls.step(`${h}: run Kafka ${release}`, () => host.switchVersion(c, h, release, null));
    }
    await controls.step(`${h}: write the controller config`, () => host.writeMigrationControllerConfig(c, h, run.quorum, input.controllerMetadataDir ?? null));
    await controls.step(`${h}: format the metadata dir with cluster id ${clusterId}`, () => host.formatControllerStorage(c, h, clusterId));
    await controls.step(`${h}: start`, () => host.startNode(c, h));
  }
  await ensureQuorum(run);
}

async function ensureQuorum(run: Run): Promise<void> {
  const { controls, input, hosts } = run;
  const names = hosts.controllers.map((c) => c.host);
  await controls.step('wait for the controller quorum: a leader and every voter caught up', () => waitFor(input.quorumSeconds).waitForControllerQuorum(input.cluster, names, input.controllerListener.port, input.quorumSeconds * 1000), {
    interruptible: true,
  });
}

async function waitForMigrationCompleted(run: Run): Promise<void> {
  const { controls, input, hosts } = run;
  const done = await controls.step('wait for "Completed migration of metadata from ZooKeeper to KRaft" and ZkMigrationState MIGRATION', () =>
    waitFor(input.migrationSeconds).waitForMetadataMigrated(input.cluster, hosts.controllers.map((c) => c.host), input.migrationSeconds * 1000),
  { interruptible: true });
  run.migratedLine = done.logLine;
}

/** Topics, assignments, topic configs and ACLs read back through the Kafka protocol, against before the run. */
async function compareMetadata(run: Run): Promise<void> {
  const { controls, input } = run;
  const after = await controls.step('read the metadata after the migration', () => read.snapshotMigrationMetadata(input.cluster, input.canaryTopic ? [input.canaryTopic] : []));
  if (!run.before) {
    controls.warn('no metadata was read before the migration in this run (it started past that point): the diff cannot be made');
    return;
  }
  run.diff = diffMetadata(run.before, after, input.canaryTopic ? [input.canaryTopic] : []);
  controls.extraDetails = `${renderStateDiagram(run.obs)}\n\n${renderMetadataDiff(run.diff, { topics: after.topicCount, acls: after.aclCount })}`;
  if (!run.diff.same) throw unsafeToProceed(`the metadata differs after the migration: ${renderMetadataDiff(run.diff, { topics: after.topicCount, acls: after.aclCount })}`);
}

/** Broker hosts whose config is not yet in `mode` (so a resumed roll goes on where it stopped). */
function brokersNotIn(run: Run, _mode: 'migration'): string[] {
  return run.obs.inProgress?.pending ?? run.hosts.brokers.map((b) => b.host);
}

/** One guarded rolling restart of `nodes` with a migration edit, as a child of this run (it holds the lock). */
async function rollBrokers(run: Run, edit: MigrationConfigEdit, nodes: string[]): Promise<void> {
  if (nodes.length === 0) return;
  const { input, controls } = run;
  const childId = `${workflowInfo().workflowId}/roll-${++run.childCount}-${edit.kind}`;
  const args: RollingRestartInputRaw = {
    cluster: input.cluster,
    nodes,
    approval: 'irreversible-only',
    parallelism: input.parallelism,
    timeouts: input.timeouts,
    rollbackPolicy: 'automatic',
    migrationEdit: edit,
    ...(input.canaryTopic ? { canaryTopic: input.canaryTopic } : {}),
    ...(input.approvers ? { approvers: input.approvers } : {}),
    // The roll's gates hold separation of duties against whoever started the migration.
    ...controls.childIdentity,
  };
  const result = await controls.child(`roll ${nodes.join(', ')}: ${edit.kind} (child workflow)`, childId, () =>
    executeChild(rollingRestart, { workflowId: childId, parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL, args: [args] }),
  );
  // A broker skipped at a guard gate did not get the edit: the phase cannot be complete without it.
  const notRolled = result.nodes.filter((n) => n.outcome !== 'restarted');
  if (notRolled.length > 0) throw unsafeToProceed(`the roll (${edit.kind}) did not restart ${notRolled.map((n) => `${n.host} (${n.outcome}${n.note ? `: ${n.note}` : ''})`).join(', ')}: every broker must take the edit before the migration goes on`);
}

/** Controllers one at a time without the migration flag; a controller that does not come back gets its config back. */
async function finalizeControllers(run: Run, controllers: string[]): Promise<void> {
  const { controls, input } = run;
  const c = input.cluster;
  for (const h of controllers) {
    const backup = await controls.step(`${h}: back up the config`, () => host.backupNodeConfig(c, h));
    controls.onUndo(`put ${h} back as it was`, async () => {
      await host.restoreNodeConfig(c, h, backup.path);
      await host.startNode(c, h);
    });
    await controls.step(`${h}: stop`, () => host.stopNode(c, h));
    await controls.step(`${h}: wait for the process to exit`, () => waitFor(input.timeouts.stopSeconds).waitForProcessExit(c, h, input.timeouts.stopSeconds * 1000), { interruptible: true });
    await controls.step(`${h}: remove the migration flag and zookeeper.connect`, () => host.editMigrationConfig(c, h, { kind: 'finalize-controller' }));
    await controls.step(`${h}: start`, () => host.startNode(c, h));
    await ensureQuorum(run);
    controls.forgetUndo(`put ${h} back as it was`);
  }
  await controls.step('wait for ZkMigrationState POST_MIGRATION', () =>
    waitFor(input.quorumSeconds).waitForZkMigrationState(c, run.hosts.controllers.map((x) => x.host), ZkMigrationGauge.POST_MIGRATION, input.quorumSeconds * 1000),
  { interruptible: true });
}

/** After a failure before the finalize: observe afresh, and offer the table's rollback if it is allowed now. */
async function offerRollbackAfterFailure(run: Run, err: unknown): Promise<void> {
  // A human who stopped the run at a gate, or aborted it, asked for no rollback.
  if (run.controls.abortRequested || findFailure(err, FailureType.GateRejected)) return;
  let obs: Run['obs'];
  try {
    obs = await observe(run.controls, run.input, run.hosts);
  } catch (again) {
    run.controls.warn(`after the failure the state could not be observed (${describe(again)}): no rollback offered`);
    return;
  }
  run.obs = obs;
  // From ZooKeeper only controllers part-provisioned have something to undo (rollbackPlan says what).
  if (rollbackPlan(obs) === null || obs.finalizeStarted) return;
  const refusal = obs.state === MigrationState.ZooKeeper ? null : rollbackRefusal(obs);
  const what = rollbackFrom(obs.state)?.note ?? 'deprovision the controllers provisioned so far';
  const d = await run.controls.gate(
    'rollback-after-failure',
    `The migration failed in ${obs.state}: ${describe(err)}. ${refusal ? `A rollback is not possible now: ${refusal}.` : `Roll back to ZooKeeper (${what})?`} Choose "rollback", or "leave" to leave the cluster as it is.`,
    { choices: refusal ? ['leave'] : ['rollback', 'leave'] },
  );
  if (d.outcome === 'approved' && d.choice === 'rollback') await rollBack(run, `after a failure, chosen by ${d.approver}`);
}

/** Kafka's revert directions for the observed state (rollbackPlan), step by step; refused while ZkWriteBehindLag > 0. */
async function rollBack(run: Run, why: string): Promise<void> {
  const { controls, input } = run;
  const c = input.cluster;
  const plan = rollbackPlan(run.obs);
  if (plan === null && run.obs.state === MigrationState.ZooKeeper) return void controls.note('already in ZooKeeper mode: nothing to roll back');
  const refusal = run.obs.state === MigrationState.ZooKeeper ? null : rollbackRefusal(run.obs);
  if (plan === null || refusal) throw unsafeToProceed(`not rolling back (${why}): ${refusal ?? `no rollback from ${run.obs.state}`}`);
  const brokers = (only: string[] | null) => only ?? run.hosts.brokers.map((b) => b.host);
  await timed(run, `rollback ${run.obs.state} → ZooKeeper`, async () => {
    for (const { step, only } of plan) {
      switch (step) {
        case MigrationStep.RollBrokersBackToMigrationMode:
          await rollBrokers(run, { kind: 'back-to-migration-mode' }, brokers(only));
          break;
        case MigrationStep.DeprovisionControllers:
          for (const ctl of run.hosts.controllers.filter((x) => only === null || only.includes(x.host))) {
            await controls.step(`${ctl.host}: stop the controller`, () => host.stopNode(c, ctl.host));
            await controls.step(`${ctl.host}: wait for the process to exit`, () => waitFor(input.timeouts.stopSeconds).waitForProcessExit(c, ctl.host, input.timeouts.stopSeconds * 1000));
            await controls.step(`${ctl.host}: wipe its metadata dir`, () => host.wipeControllerMetadata(c, ctl.host));
            await controls.step(`${ctl.host}: move its controller config aside`, () => host.retireMigrationControllerConfig(c, ctl.host));
          }
          break;
        case MigrationStep.DeleteMigrationZnodes:
          // Quickly: until /controller is gone the cluster has no controller.
          await controls.step('delete /controller and /migration in ZooKeeper (get /migration kept in the run log)', () => host.deleteMigrationZnodes(c, { controller: true, migration: true }));
          break;
        case MigrationStep.RollBrokersOutOfMigrationMode:
          await rollBrokers(run, { kind: 'leave-migration-mode', controllerListenerName: input.controllerListener.name }, brokers(only));
          break;
        default:
          throw invalidInput(`${step} is not a rollback step`);
      }
    }
  });
  run.obs = await observe(controls, input, run.hosts);
  if (run.obs.state !== MigrationState.ZooKeeper || run.obs.inProgress !== null) throw unsafeToProceed(`after the rollback the cluster is in ${run.obs.state}${run.obs.inProgress ? ' part-way' : ''}, not ZooKeeper`);
}

function quorumOf(input: MigrateToKRaftInput, hosts: MigrationHosts): QuorumSpec {
  return {
    controllers: hosts.controllers.map((c) => ({ nodeId: c.nodeId, address: c.address, port: c.port })),
    style: input.quorumConfig,
    listenerName: input.controllerListener.name,
    securityProtocol: input.controllerListener.securityProtocol,
  };
}
