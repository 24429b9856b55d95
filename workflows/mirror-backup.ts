import { workflowInfo } from '@temporalio/workflow';
import type { BackupPointSummary, MirrorBackupPlan, MirrorMakerHealth } from '../activities/backup';
import { backupPointId } from '../src/backup/manifest';
import { type MirrorMakerAction, planMirrorMaker } from '../src/backup/mm2-lifecycle';
import { renderBackupReport } from '../src/backup/report';
import { unsafeToProceed } from '../src/errors';
import { clusterNamedIn } from '../src/runbooks/input';
import { type MirrorBackupInput, mirrorBackupInput, type MirrorBackupSettings } from '../src/runbooks/mirror-backup';
import { ActivityKind, parsedInput, proxyOfKind, proxyWaits } from './activity-options';
import { RunbookControls } from './controls';

const read = proxyOfKind(ActivityKind.Read);
const plan = proxyOfKind(ActivityKind.Plan);
const change = proxyOfKind(ActivityKind.Change);
const heartbeatingChange = proxyOfKind(ActivityKind.HeartbeatingChange);

export interface MirrorBackupResult {
  backupPoint: BackupPointSummary;
  mirrorMaker: { host: string; action: MirrorMakerAction }[];
  health: MirrorMakerHealth;
  markdown: string;
}

/**
 * mirrorBackup: the nightly backup of a cluster into its backup cluster with MirrorMaker 2.
 * 1. Renders the MM2 config from the input (identity names, read_committed, nothing written to the source
 *    unless allowWritesToSource).
 * 2. On each MM2 host: left alone when it runs with exactly that config; started when stopped; stopped and
 *    restarted when its config differs. Running it twice changes nothing the second time.
 * 3. Captures the source's end offsets, then waits (one heartbeating activity) until MM2's recorded position
 *    reaches every one of them; past catchUpTimeoutMinutes the run fails, naming the partitions behind.
 * 4. Fails if an MM2 connector or task is FAILED.
 * 5. Writes the backup point (topics, configs, ACLs, groups, both sides' offsets) into our compacted topic on
 *    the backup cluster and reads it back.
 * Guarantees: a run that completes left a backup point whose every partition holds the source's records up to
 * the captured end offsets; any other outcome fails the run (red in the Schedule's history and the UI).
 * Never changes the source cluster's brokers; takes no cluster lock (it does not disrupt the source).
 */
export async function mirrorBackup(rawInput: MirrorBackupInput): Promise<MirrorBackupResult> {
  const controls = new RunbookControls({ runbook: 'mirrorBackup', cluster: clusterNamedIn(rawInput), input: rawInput });
  return controls.run(async () => {
    const input = await controls.step('validate the input', () => parsedInput('mirrorBackup', mirrorBackupInput, rawInput));
    const backup = await controls.step('resolve the backup cluster and render the MirrorMaker 2 config', () => read.planMirrorBackup(input));
    const mirrorMaker: MirrorBackupResult['mirrorMaker'] = [];
    for (const host of backup.mm2Hosts) mirrorMaker.push({ host, action: await ensureMirrorMaker(controls, input, backup, host) });
    const capture = await controls.step("capture the source's end offsets", () => plan.captureSourceOffsets(input));
    controls.setDetail(`${capture.topics.length} topics, ${capture.partitions} partitions, ${capture.records} records on the source; waiting for MirrorMaker 2`);
    const timeoutMs = input.catchUpTimeoutMinutes * 60_000;
    const catchUp = await controls.step('wait until MirrorMaker 2 reached them', () => proxyWaits(timeoutMs).waitForMirrorCatchUp(input, capture, timeoutMs), { interruptible: true });
    const health = await controls.step("read MirrorMaker 2's task states", () => read.readMirrorMakerHealth(input));
    // Every partition reached, yet a task failed: what it will miss next is unknown, so the backup is not trusted.
    if (health.failed.length > 0) throw unsafeToProceed(`MirrorMaker 2 has failed work: ${health.failed.map((f) => `${f.connector}${f.task === null ? '' : ` task ${f.task}`}: ${f.trace ?? f.state}`).join('; ')}`, health);
    const point = await controls.step('write the backup point', () => change.writeBackupPoint(input, capture, catchUp, backupPointId(new Date(capture.time)), workflowInfo().workflowId));
    const markdown = renderBackupReport({ source: backup.source, backup: backup.backup, point, mirrorMaker, tasks: health.statuses, waitedMs: catchUp.waitedMs });
    controls.extraDetails = markdown;
    controls.setDetail(`backup point ${point.id}: ${point.records} records in ${point.topics} topics, ${point.recordsThisRun} this run`);
    return { backupPoint: point, mirrorMaker, health, markdown };
  });
}

/** Start, restart or leave MirrorMaker 2 on one host, from what the host shows now. */
async function ensureMirrorMaker(controls: RunbookControls, input: MirrorBackupSettings, backup: MirrorBackupPlan, host: string): Promise<MirrorMakerAction> {
  const state = await controls.step(`read MirrorMaker 2 on ${host}`, () => read.readMirrorMakerState(input, host));
  const next = planMirrorMaker(state);
  if (next.stop) await controls.step(`stop MirrorMaker 2 on ${host} (its config changed)`, () => heartbeatingChange.stopMirrorMaker(input, host));
  if (next.writeConfig) await controls.step(`write the MirrorMaker 2 config on ${host}`, () => change.writeMirrorMakerConfig(input, host, backup.configFingerprint));
  if (next.start) await controls.step(`start MirrorMaker 2 on ${host}`, () => heartbeatingChange.startMirrorMaker(input, host));
  if (next.action === 'leave-alone') controls.note(`MirrorMaker 2 on ${host} runs with this config: left alone`);
  return next.action;
}

/** listBackups: the backup points of a cluster, read from its backup cluster (for `kafka-runbooks backups list`). Read-only. */
export async function listBackups(input: { cluster: string }): Promise<Awaited<ReturnType<typeof read.listBackupPoints>>> {
  return read.listBackupPoints(input.cluster);
}
