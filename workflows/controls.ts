/**
 * Controls every runbook shares: approval gates, pause/resume at step boundaries, abort with undo steps,
 * a progress query, live details for the Web UI, typed search attributes and the per-cluster lock.
 *
 * Guarantees:
 * - a step never starts while the run is paused, and never after an abort was requested;
 * - an abort interrupts only steps marked interruptible (waits), never a step that is changing the cluster;
 * - a Cancel (Web UI, CLI, a parent that closed) is an abort: a changing step runs to its end, then undo;
 * - undo steps run in reverse order on failure, abort and cancellation alike, and cannot be cancelled;
 * - several gates may wait at once (parallel nodes), each answerable by name;
 * - pause, resume and abort reach the active child workflow; its gates show in this run's progress;
 * - every gate decision records who decided and why; answers are checked for type and length first;
 * - a lock that cannot be released is a warning, never the run's outcome;
 * - who may answer a gate is the cluster's approval policy (inventory), read once at start, narrowed (never
 *   widened) by the run's approvers; the starter never approves its own irreversible gate; an answer the API
 *   did not vouch for (an attestation the worker verified) is recorded as unauthenticated;
 * - webhooks hear of gates, their coming timeouts and the run's end; one that is down is a warning, never a wait.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  TemporalFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  allHandlersFinished,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  type Actor,
  actorIn,
  admittedPrincipals,
  type ApprovalPolicy,
  type Attestation,
  describePolicy,
  evaluateApproval,
  GateKind,
  narrowPolicy,
  NO_POLICY,
  renderActor,
  unauthenticatedActor,
} from '../src/approvals/identity';
import { type NotificationEvent, type RunApprovalSettings } from '../src/approvals/inventory';
import { type RunNotice } from '../src/notifications/bodies';
import { NOTIFY_OPTIONS } from './activity-options';
import { withSummaries } from './activity-summaries';
import { type Duration, msToNumber } from '@temporalio/common/lib/time';
import { aborted, FailureType, gateRejected, unsafeToProceed } from '../src/errors';
import { checkAttestation, checkControlRequest, checkGateAnswer } from '../src/gates';
import { claimedStarter, describeRunIntent, runHeader } from '../src/runbooks/intent';
import {
  abortSignal,
  abortUpdate,
  approveSignal,
  approveUpdate,
  type ChildState,
  childStateSignal,
  type ControlAck,
  type ControlRecord,
  type ControlRequest,
  type GateAnswer,
  type GateDecision,
  type PendingGate,
  pauseSignal,
  pauseUpdate,
  progressQuery,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
  RunbookStatus,
  type RunbookProgress,
  SA_CLUSTER,
  SA_RUNBOOK,
  SA_STATUS,
  type StepRecord,
} from '../src/names';

export interface RunbookOptions {
  runbook: string;
  cluster: string;
  /** Approver identities allowed at gates; null lets anyone approve. */
  approvers?: string[] | null;
  /** For disruptive runbooks: take and release the cluster lock. */
  lock?: { acquire: () => Promise<void>; release: () => Promise<void> };
  /** The run's raw input: who started it (`startedBy`, `attestation`, or a parent's `runStarter`). */
  input?: unknown;
  /** What the run will do, for the top of its details; default: read from the input (src/runbooks/intent.ts). */
  intent?: string;
}

export interface GatePolicy {
  /** How long to wait for an answer; absent waits until someone answers. */
  timeout?: Duration;
  /** What an unanswered gate means when the timeout passes. Rejecting is the safe default. */
  onTimeout?: 'reject' | 'approve';
  /** Narrows the run's approvers for this gate. */
  approvers?: string[];
  /** What approving risks: decides who may answer under the cluster's policy. Default: ordinary. */
  kind?: GateKind;
  /** Offer choices; an approval must name one of them. */
  choices?: string[];
}

interface Undo {
  name: string;
  run: () => Promise<void>;
}

interface OpenGate {
  gate: PendingGate;
  decision: GateDecision | null;
  /** The run's policy, narrowed by the gate's own approvers. */
  policy: ApprovalPolicy;
}

const LOG_LIMIT = 50;
const CANCEL_REQUEST: ControlRequest = { by: 'cancel-request', reason: 'the workflow was cancelled (Web UI, CLI, or its parent closed)' };
const TERMINAL: RunbookStatus[] = [RunbookStatus.Completed, RunbookStatus.Failed, RunbookStatus.Aborted];

// ---- Approval policy and notifications (issue 11) ----
/** Runs started before policies existed replay without the reads, reminders and notices below. */
const APPROVALS_PATCH = 'approval-policy-and-notices';
/** Runs that took pause, resume or abort before attestations were verified replay taking them at once. */
const ATTESTED_CONTROLS_PATCH = 'attested-control-requests';
const CONTROL_RECORD_LIMIT = 50;
/** Reading the policy and verifying attestations: local activities, one HMAC or an in-memory read each. */
const approvalReads = withSummaries(proxyLocalActivities<Pick<Activities, 'readApprovalSettings' | 'verifyActorAttestation'>>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } }));
const notices = withSummaries(proxyActivities<Pick<Activities, 'notifyWebhooks'>>(NOTIFY_OPTIONS));
const NO_SETTINGS: RunApprovalSettings = { policy: null, timeouts: {}, notify: [], remindBeforeMinutes: 15 };

export class RunbookControls {
  private readonly progress: RunbookProgress;
  /** Gates waiting for an answer, by name: parallel nodes can open several at once. */
  private readonly pending = new Map<string, OpenGate>();
  /** The child workflow a step is waiting for, and the gates it last reported. */
  private activeChild: string | null = null;
  private childState: ChildState | null = null;
  /** Signals to the parent or the child, sent in order; awaited before the run ends. */
  private outbox: Promise<void> = Promise.resolve();
  private lastToParent = '';
  private reportSeq = 0;
  private nextReport: ChildState | null = null;
  private readonly undo: Undo[] = [];
  /** Every wait in flight: batches restart nodes in parallel, so several can be waiting at once. */
  private readonly interruptible = new Set<CancellationScope>();
  private terminal: RunbookStatus | null = null;
  private publishedStatus: RunbookStatus | null = null;
  /** The cluster's approval settings and the policy as this run applies it (narrowed by its approvers). */
  private approvalSettings: RunApprovalSettings = NO_SETTINGS;
  private policy: ApprovalPolicy;
  /** Who started the run, when known: separation of duties holds against them. */
  private starter: Actor | null = null;
  /** Until the starter is identified (a local activity), who the input says it is: the details name them from the first task. */
  private starterClaim: string | null = null;
  private readonly intent: string;
  /** Webhook deliveries in flight; awaited before the run ends, never failing it. */
  private deliveries: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RunbookOptions) {
    this.policy = narrowPolicy(NO_POLICY, opts.approvers);
    this.intent = opts.intent ?? this.intentFromInput();
    this.starterClaim = this.claimFromInput();
    this.progress = {
      runbook: opts.runbook,
      cluster: opts.cluster,
      status: RunbookStatus.Running,
      currentStep: null,
      steps: [],
      pendingGate: null,
      pendingGates: [],
      activeChild: null,
      warnings: [],
      gates: [],
      paused: false,
      abort: null,
      detail: null,
      log: [],
    };
    this.installHandlers();
  }

  /**
   * Runs the runbook body: takes the cluster lock if configured, and on failure, abort or cancellation
   * runs the undo steps before rethrowing. The lock is released in every case.
   */
  async run<T>(body: () => Promise<T>): Promise<T> {
    this.publish();
    // A Cancel is an abort: steps that change the cluster finish (they run non-cancellable), waits stop, undo runs.
    CancellationScope.current().cancelRequested.catch(() => this.abort(CANCEL_REQUEST));
    let locked = false;
    try {
      if (patched(APPROVALS_PATCH)) await this.readApprovals();
      if (this.opts.lock) {
        const lock = this.opts.lock;
        await this.step('take the cluster lock', () => lock.acquire());
        locked = true;
      }
      const result = await body();
      this.finish(RunbookStatus.Completed);
      this.notifyRun('runEnded');
      return result;
    } catch (err) {
      if (isCancellation(err) && this.progress.abort === null) this.abort(CANCEL_REQUEST);
      const wasAbort = this.progress.abort !== null;
      if (this.undo.length > 0) await this.runUndo();
      // A cancelled run ends like an aborted one: typed, with who asked, rather than as a bare cancellation.
      const failure = wasAbort && isCancellation(err) ? this.abortFailure() : surfaceTypedFailure(err);
      this.finish(wasAbort ? RunbookStatus.Aborted : RunbookStatus.Failed, failure);
      this.notifyRun('runFailed', describe(failure));
      throw failure;
    } finally {
      await CancellationScope.nonCancellable(async () => {
        if (locked) await this.releaseLock();
        await this.outbox;
        await this.deliveries;
        await condition(allHandlersFinished);
      });
    }
  }

  /**
   * One named step of the procedure. Waits while paused; refuses to start after an abort.
   * `interruptible` steps (pure waits) are cancelled by an abort; others run to completion.
   */
  async step<T>(name: string, fn: () => Promise<T>, opts: { interruptible?: boolean } = {}): Promise<T> {
    await this.checkpoint();
    const rec: StepRecord = { name, state: 'running', startedAt: now(), endedAt: null, error: null };
    this.progress.steps.push(rec);
    this.progress.currentStep = name;
    this.publish();
    try {
      // A step that changes the cluster is never cut short by a Cancel: undo must not race a change in flight.
      const result = opts.interruptible ? await this.runInterruptible(fn) : await CancellationScope.nonCancellable(fn);
      rec.state = 'done';
      return result;
    } catch (err) {
      rec.state = 'failed';
      rec.error = describe(err);
      throw err;
    } finally {
      rec.endedAt = now();
      this.progress.currentStep = null;
      this.publish();
    }
  }

  /** Registers the undo of a step that changed the cluster; undos run newest first. */
  onUndo(name: string, run: () => Promise<void>): void {
    this.undo.push({ name, run });
  }

  /** Drops an undo once the change it reverts has been made permanent or reverted by other means. */
  forgetUndo(name: string): void {
    const i = this.undo.map((u) => u.name).lastIndexOf(name);
    if (i >= 0) this.undo.splice(i, 1);
  }

  /** Waits for a human decision at a named gate. Returns the decision; rejection is a normal outcome here. */
  async gate(name: string, prompt: string, policy: GatePolicy = {}): Promise<GateDecision> {
    // Two gates of one name could not be told apart by an answer: a runbook bug, stop rather than guess.
    if (this.pending.has(name)) throw unsafeToProceed(`gate "${name}" is already waiting for an answer; a second one of the same name cannot be opened`);
    const kind = policy.kind ?? GateKind.Ordinary;
    // The gate's own timeout, else the cluster's for its kind; an irreversible or force-kill gate never approves itself.
    const fromInventory = this.approvalSettings.timeouts[kind];
    const timeout: Duration | undefined = policy.timeout ?? (fromInventory ? fromInventory.minutes * 60_000 : undefined);
    const wanted = policy.onTimeout ?? (policy.timeout === undefined ? fromInventory?.onTimeout : undefined) ?? 'reject';
    const onTimeout = kind === GateKind.Ordinary ? wanted : 'reject';
    const deadline = timeout === undefined ? null : new Date(Date.now() + msToNumber(timeout)).toISOString();
    const policyHere = narrowPolicy(this.policy, policy.approvers);
    const open: OpenGate = {
      gate: {
        name,
        prompt,
        since: now(),
        deadline,
        onTimeout,
        kind,
        approvers: admittedPrincipals(policyHere, kind),
        choices: policy.choices ?? null,
        workflowId: workflowInfo().workflowId,
      },
      decision: null,
      policy: policyHere,
    };
    this.pending.set(name, open);
    this.note(`waiting for approval at gate "${name}" (${kind}): ${prompt}`);
    this.publish();
    this.notifyGate('gateOpened', open.gate);
    try {
      const answered = () => open.decision !== null || this.progress.abort !== null;
      const inTime = timeout === undefined ? (await condition(answered), true) : await this.waitWithReminder(open.gate, answered, msToNumber(timeout));
      if (open.decision === null && this.progress.abort !== null) throw this.abortFailure();
      const decision: GateDecision = open.decision ?? {
        gate: name,
        outcome: onTimeout === 'approve' ? 'approved' : 'rejected',
        approver: 'timeout-policy',
        reason: `no answer within ${policy.timeout !== undefined ? String(policy.timeout) : `${fromInventory?.minutes ?? '?'} minutes`}; the gate's policy is to ${onTimeout} on timeout`,
        choice: null,
        at: now(),
      };
      if (!inTime && open.decision === null) this.recordDecision(decision);
      return decision;
    } finally {
      this.pending.delete(name);
      this.publish();
    }
  }

  /**
   * Runs a child workflow as an interruptible step: while it runs, pause, resume and abort sent to this run are
   * forwarded to it, and the gates it reports show in this run's progress and details.
   */
  async child<T>(name: string, workflowId: string, run: () => Promise<T>): Promise<T> {
    this.activeChild = workflowId;
    this.progress.activeChild = workflowId;
    try {
      // A pause asked for before now holds the step's checkpoint, so the child never starts paused.
      return await this.step(name, run, { interruptible: true });
    } finally {
      this.activeChild = null;
      this.childState = null;
      this.progress.activeChild = null;
      this.publish();
    }
  }

  /** A gate that must be approved; a rejection ends the run (undo steps run). */
  async requireApproval(name: string, prompt: string, policy: GatePolicy = {}): Promise<GateDecision> {
    const decision = await this.gate(name, prompt, policy);
    if (decision.outcome !== 'approved') {
      throw gateRejected(`gate "${name}" was rejected by ${decision.approver}${decision.reason ? `: ${decision.reason}` : ''}`);
    }
    return decision;
  }

  /** Waits while paused and stops if an abort was requested. Called at every step boundary. */
  async checkpoint(): Promise<void> {
    if (this.progress.paused && this.progress.abort === null) {
      this.note('paused at a step boundary');
      this.publish();
      await condition(() => !this.progress.paused || this.progress.abort !== null);
      this.publish();
    }
    if (this.progress.abort !== null) throw this.abortFailure();
  }

  /** The runbook's own progress line, shown in the UI and the CLI. */
  setDetail(detail: string): void {
    this.progress.detail = detail;
    this.publish();
  }

  note(message: string): void {
    log.info(message, { runbook: this.opts.runbook, cluster: this.opts.cluster });
    this.progress.log.push({ at: now(), message });
    if (this.progress.log.length > LOG_LIMIT) this.progress.log.splice(0, this.progress.log.length - LOG_LIMIT);
  }

  get abortRequested(): boolean {
    return this.progress.abort !== null;
  }

  get decisions(): GateDecision[] {
    return [...this.progress.gates];
  }

  /** Pause, resume and abort requests taken so far, with who asked and whether the API vouched for them. */
  get controlRequests(): ControlRecord[] {
    return [...(this.progress.controlRequests ?? [])];
  }

  /** Records something that went wrong without changing the outcome; shown in the progress and the details. */
  warn(message: string): void {
    this.progress.warnings.push(message);
    this.note(`warning: ${message}`);
    this.publish();
  }

  /** Markdown appended under the status block in the UI (e.g. a report). */
  extraDetails = '';

  // ---- internals ----

  /** The cluster's approval policy and webhooks, read once; who started the run, verified when attested. */
  private async readApprovals(): Promise<void> {
    this.approvalSettings = await approvalReads.readApprovalSettings(this.opts.cluster);
    this.policy = narrowPolicy(this.approvalSettings.policy ?? NO_POLICY, this.opts.approvers);
    this.starter = await this.identifyStarter();
    this.starterClaim = null;
    this.publish();
  }

  /** A child's input is its parent's slice, not a runbook input: it says whose run it belongs to. */
  private intentFromInput(): string {
    const parent = workflowInfo().parent;
    return parent ? `a part of run \`${parent.workflowId}\`` : describeRunIntent(this.opts.runbook, this.opts.input);
  }

  private claimFromInput(): string | null {
    const raw = this.opts.input;
    if (workflowInfo().parent) {
      const starter = actorIn(raw && typeof raw === 'object' ? (raw as Record<string, unknown>).runStarter : undefined);
      return starter ? renderActor(starter) : null;
    }
    const claimed = claimedStarter(raw);
    if (!claimed) return null;
    const attested = raw && typeof raw === 'object' && (raw as Record<string, unknown>).attestation;
    return attested ? `${claimed} (checking the attestation)` : `${claimed} (unauthenticated)`;
  }

  private async identifyStarter(): Promise<Actor | null> {
    const raw = this.opts.input && typeof this.opts.input === 'object' ? (this.opts.input as Record<string, unknown>) : {};
    // Only a parent run can start a child: a runStarter in a run started by hand is ignored.
    if (workflowInfo().parent) return actorIn(raw.runStarter);
    const named = typeof raw.startedBy === 'string' && raw.startedBy.trim().length > 0 ? raw.startedBy.slice(0, 200) : null;
    let attestation: Attestation | undefined;
    try {
      attestation = checkAttestation(raw.attestation);
    } catch (err) {
      this.note(`the start attestation was ignored: ${describe(err)}`);
    }
    if (!attestation) return named ? unauthenticatedActor(named) : null;
    const { actor, problem } = await approvalReads.verifyActorAttestation({ workflowId: workflowInfo().workflowId, action: 'start', claimed: named ?? attestation.principal, attestation });
    if (problem) this.note(`the starter is taken as unauthenticated: ${problem}`);
    return actor;
  }

  /** What a child run needs to apply this run's separation of duties: merge into its input. */
  get childIdentity(): { runStarter?: Actor } {
    return this.starter ? { runStarter: this.starter } : {};
  }

  /** Waits for an answer; when webhooks want it, reminds them a little before the timeout. */
  private async waitWithReminder(gate: PendingGate, answered: () => boolean, timeoutMs: number): Promise<boolean> {
    // The timer's summary: what the Web UI shows on its event, instead of a bare duration.
    const timeout = { summary: oneLine(`gate ${gate.name}: ${gate.onTimeout} unless answered by ${gate.deadline ?? 'its deadline'}`) };
    if (!this.approvalSettings.notify.includes('gateNearTimeout')) return condition(answered, timeoutMs, timeout);
    // At most remindBeforeMinutes before, and no earlier than four fifths of the way.
    const before = Math.min(this.approvalSettings.remindBeforeMinutes * 60_000, Math.floor(timeoutMs / 5));
    if (await condition(answered, timeoutMs - before, { summary: oneLine(`gate ${gate.name}: remind the webhooks before its timeout`) })) return true;
    this.notifyGate('gateNearTimeout', gate);
    return condition(answered, before, timeout);
  }

  private notifyGate(event: NotificationEvent, gate: PendingGate): void {
    this.notify({ event, runbook: this.opts.runbook, cluster: this.opts.cluster, workflowId: gate.workflowId, status: this.status(), gate: { name: gate.name, prompt: gate.prompt, kind: gate.kind ?? GateKind.Ordinary, choices: gate.choices, deadline: gate.deadline, onTimeout: gate.onTimeout } });
  }

  /** A run's end is told by the run a human started, not by each child slice. */
  private notifyRun(event: 'runEnded' | 'runFailed', message?: string): void {
    if (workflowInfo().parent) return;
    this.notify({ event, runbook: this.opts.runbook, cluster: this.opts.cluster, workflowId: workflowInfo().workflowId, status: this.status(), ...(message ? { message } : {}) });
  }

  /**
   * Posts a notice without waiting for it: a webhook that is down never holds the run. Deliveries run
   * non-cancellable (an abort must not swallow the notice of itself) and are awaited before the run ends.
   */
  private notify(notice: RunNotice): void {
    if (!this.approvalSettings.notify.includes(notice.event)) return;
    const delivery = CancellationScope.nonCancellable(() => notices.notifyWebhooks(this.opts.cluster, notice)).then(
      (report) => {
        for (const f of report.failed) this.warn(`webhook "${f.webhook}" did not take the ${notice.event} notice: ${f.error}`);
      },
      (err: unknown) => this.warn(`the ${notice.event} notice could not be sent: ${describe(err)}`),
    );
    this.deliveries = this.deliveries.then(() => delivery);
  }

  private async runInterruptible<T>(fn: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope();
    this.interruptible.add(scope);
    try {
      return await scope.run(fn);
    } catch (err) {
      if (this.progress.abort !== null && isCancellation(err)) throw this.abortFailure();
      throw err;
    } finally {
      this.interruptible.delete(scope);
    }
  }

  /** A lock that cannot be released is not the run's outcome: the next runbook finds this run ended and takes it. */
  private async releaseLock(): Promise<void> {
    const lock = this.opts.lock;
    if (!lock) return;
    try {
      await lock.release();
    } catch (err) {
      this.warn(`the cluster lock could not be released (${describe(err)}); it frees itself: the next runbook finds this run ended and takes the lock`);
    }
  }

  private async runUndo(): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      while (this.undo.length > 0) {
        const u = this.undo.pop() as Undo;
        const rec: StepRecord = { name: `undo: ${u.name}`, state: 'running', startedAt: now(), endedAt: null, error: null };
        this.progress.steps.push(rec);
        this.publish();
        try {
          await u.run();
          rec.state = 'undone';
        } catch (err) {
          // Keep undoing the rest: one failed undo must not leave the others (e.g. throttles) behind.
          rec.state = 'undo-failed';
          rec.error = describe(err);
          this.note(`undo "${u.name}" failed: ${rec.error}`);
        }
        rec.endedAt = now();
      }
    });
  }

  private abortFailure() {
    const a = this.progress.abort;
    return aborted(`aborted by ${a?.by ?? 'unknown'}${a?.reason ? `: ${a.reason}` : ''}`);
  }

  private finish(status: RunbookStatus, err?: unknown): void {
    this.terminal = status;
    if (err !== undefined) this.note(`${status.toLowerCase()}: ${describe(err)}`);
    this.publish();
  }

  /**
   * Refuses an answer that cannot be taken: unknown gate, malformed, or an actor the policy refuses. Without a
   * verified actor yet, an attested answer is judged as the principal it claims; the handler checks again
   * once the worker has verified the attestation.
   */
  private validateGateAnswer(raw: GateAnswer, accepting: boolean, verified?: Actor): void {
    const answer = checkGateAnswer(raw);
    const open = this.pending.get(answer.gate);
    if (!open || open.decision !== null) {
      const inChild = this.childState?.pendingGates.find((g) => g.name === answer.gate);
      if (inChild) throw new Error(`gate "${answer.gate}" is waiting in the child workflow ${inChild.workflowId}: answer it there (the CLI does so from this run's ID)`);
      const waiting = this.openGates().map((g) => `"${g.name}"`);
      if (waiting.length === 0) throw new Error(`no gate is waiting for approval (asked for "${answer.gate}")`);
      throw new Error(`unknown gate "${answer.gate}": the run is waiting at ${waiting.join(', ')}`);
    }
    const actor = verified ?? claimedActor(answer);
    const verdict = evaluateApproval(open.policy, open.gate.kind ?? GateKind.Ordinary, actor, this.starter, accepting ? 'approve' : 'reject');
    if (!verdict.allowed) throw new Error(`"${answer.approver}" may not decide gate "${open.gate.name}": ${verdict.reason}`);
    if (accepting && open.gate.choices && (answer.choice === undefined || !open.gate.choices.includes(answer.choice))) {
      throw new Error(`gate "${open.gate.name}" needs a choice, one of: ${open.gate.choices.join(', ')}`);
    }
  }

  /**
   * Takes an answer the validator let through. An attested one is verified on the worker first (a local
   * activity), then checked again: the gate may have been answered meanwhile, and a failed attestation leaves
   * an unauthenticated actor the policy may refuse. No attestation: decided at once, as before policies.
   */
  private answer(raw: GateAnswer, outcome: 'approved' | 'rejected'): GateDecision | Promise<GateDecision> {
    const answer = checkGateAnswer(raw);
    if (!answer.attestation) return this.decide(answer, outcome, unauthenticatedActor(answer.approver));
    const attestation = answer.attestation;
    return (async () => {
      const { actor, problem } = await approvalReads.verifyActorAttestation({
        workflowId: workflowInfo().workflowId,
        action: outcome === 'approved' ? 'approve' : 'reject',
        gate: answer.gate,
        claimed: answer.approver,
        attestation,
      });
      if (problem) this.note(`the answer of ${answer.approver} at gate "${answer.gate}" is taken as unauthenticated: ${problem}`);
      try {
        this.validateGateAnswer(answer, outcome === 'approved', actor);
      } catch (err) {
        throw ApplicationFailure.nonRetryable(describe(err), 'ApprovalRefused');
      }
      return this.decide(answer, outcome, actor);
    })();
  }

  private decide(answer: GateAnswer, outcome: 'approved' | 'rejected', actor: Actor): GateDecision {
    const decision: GateDecision = {
      gate: answer.gate,
      outcome,
      // `alice` or `alice via slack-bot`; whether the API vouched for it is `authenticated`.
      approver: actor.via ? `${actor.principal} via ${actor.via}` : actor.principal,
      authenticated: actor.authenticated,
      reason: answer.reason ?? null,
      choice: outcome === 'approved' ? (answer.choice ?? null) : null,
      at: now(),
    };
    const open = this.pending.get(answer.gate);
    if (open) open.decision = decision;
    this.recordDecision(decision);
    return decision;
  }

  private recordDecision(decision: GateDecision): void {
    this.progress.gates.push(decision);
    const by = decision.authenticated === false ? `${decision.approver} (unauthenticated)` : decision.approver;
    this.note(`gate "${decision.gate}" ${decision.outcome} by ${by}${decision.reason ? `: ${decision.reason}` : ''}`);
    this.publish();
  }

  private validateControl(req: ControlRequest): void {
    checkControlRequest(req);
    if (this.terminal !== null) throw new Error(`the run has already ended (${this.terminal})`);
  }

  /** Sends pause, resume or abort on to the active child; a child that already ended needs none. */
  private forwardToChild(signal: SignalDefinition<[ControlRequest]>, req: ControlRequest): void {
    const child = this.activeChild;
    if (!child) return;
    // Sent now, not chained: an abort must reach the child before the cancellation of its step does.
    const sent = CancellationScope.nonCancellable(() => getExternalWorkflowHandle(child).signal(signal, req));
    this.outbox = this.outbox.then(() => sent).catch((err: unknown) => this.note(`could not pass ${signal.name} on to child ${child}: ${describe(err)}`));
  }

  /**
   * A child tells its parent what it waits for, so the parent's progress shows the child's gates. One report
   * at a time, each sent once the previous was delivered, always the latest: signals sent together can arrive
   * out of order, and a stale "no gate" must not hide a gate that is waiting.
   */
  private reportToParent(): void {
    const parent = workflowInfo().parent;
    if (!parent) return;
    // Its own gates and its active child's: a slice of a child reassignment shows up two levels up.
    const state: ChildState = { workflowId: workflowInfo().workflowId, status: this.status(), pendingGates: this.openGates(), seq: 0 };
    const key = JSON.stringify(state);
    if (key === this.lastToParent) return;
    this.lastToParent = key;
    state.seq = ++this.reportSeq;
    const idle = this.nextReport === null;
    this.nextReport = state;
    if (!idle) return;
    this.outbox = this.outbox.then(async () => {
      for (let next = this.nextReport; next !== null; next = this.nextReport) {
        const report = next;
        await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(childStateSignal, report)).catch(() => undefined); // a parent that is gone needs no report
        if (this.nextReport === report) this.nextReport = null;
      }
    });
  }

  private onChildState(state: ChildState): void {
    // Only the child this run started may report, and only gates of itself or its own children (IDs under its
    // own): a gate pointing anywhere else would misdirect answers.
    if (!state || typeof state !== 'object' || state.workflowId !== this.activeChild || !Array.isArray(state.pendingGates)) return;
    if (typeof state.seq === 'number' && this.childState !== null && state.seq <= this.childState.seq) return;
    const child = this.activeChild;
    const owner = (id: unknown) => (typeof id === 'string' && id.startsWith(`${child}/`) ? id : child);
    this.childState = TERMINAL.includes(state.status)
      ? null
      : { workflowId: child, status: state.status, seq: state.seq, pendingGates: state.pendingGates.slice(0, 50).map((g) => ({ ...g, workflowId: owner(g.workflowId) })) };
    this.publish();
  }

  private ownOpenGates(): PendingGate[] {
    return [...this.pending.values()].filter((o) => o.decision === null).map((o) => o.gate);
  }

  /** This run's open gates, then its active child's. */
  private openGates(): PendingGate[] {
    return [...this.ownOpenGates(), ...(this.childState?.pendingGates ?? [])];
  }

  /**
   * Takes a pause, resume or abort the validator let through. An attested one is verified on the worker first
   * (a local activity, as for gate answers): verified, the actor is recorded authenticated (`alice via
   * slack-bot`); absent or invalid, as the typed name, unauthenticated. Either way the request is taken.
   */
  private control(action: ControlRecord['action'], raw: ControlRequest): ControlAck | Promise<ControlAck> {
    const req = checkControlRequest(raw);
    const take = (actor: Actor): ControlAck => (action === 'pause' ? this.pause(req, actor) : action === 'resume' ? this.resume(req, actor) : this.abort(req, actor));
    const attestation = req.attestation;
    if (!attestation || !patched(ATTESTED_CONTROLS_PATCH)) return take(unauthenticatedActor(req.by));
    return (async () => {
      const { actor, problem } = await approvalReads.verifyActorAttestation({ workflowId: this.attestedRun(req), action, claimed: req.by, attestation });
      if (problem) this.note(`the ${action} request of ${req.by} is taken as unauthenticated: ${problem}`);
      return take(actor);
    })();
  }

  /**
   * The run an attestation must have been issued for: this one, or, on a request its parent passed on, the
   * ancestor it names (a pause of a run covers its active child).
   */
  private attestedRun(req: ControlRequest): string {
    const own = workflowInfo().workflowId;
    const forwarded = req.attestedFor;
    return forwarded && workflowInfo().parent && own.startsWith(`${forwarded}/`) ? forwarded : own;
  }

  /** Records who asked; returns how the request reads in notes (`alice via slack-bot`, `bob (unauthenticated)`). */
  private recordControl(action: ControlRecord['action'], req: ControlRequest, actor: Actor): string {
    const records = (this.progress.controlRequests ??= []);
    records.push({ action, by: actor.via ? `${actor.principal} via ${actor.via}` : actor.principal, authenticated: actor.authenticated, reason: req.reason ?? null, at: now() });
    if (records.length > CONTROL_RECORD_LIMIT) records.splice(0, records.length - CONTROL_RECORD_LIMIT);
    return renderActor(actor);
  }

  /** What a child gets: the request as sent, and the run its attestation is for. */
  private forwarded(req: ControlRequest): ControlRequest {
    return req.attestation ? { ...req, attestedFor: this.attestedRun(req) } : req;
  }

  private pause(req: ControlRequest, actor: Actor): ControlAck {
    this.progress.paused = true;
    this.forwardToChild(pauseSignal, this.forwarded(req));
    const by = this.recordControl('pause', req, actor);
    this.note(`pause requested by ${by}${req.reason ? `: ${req.reason}` : ''}; takes effect at the next step boundary`);
    this.publish();
    return { status: this.status(), message: 'the run pauses at the next step boundary' };
  }

  private resume(req: ControlRequest, actor: Actor): ControlAck {
    this.progress.paused = false;
    this.forwardToChild(resumeSignal, this.forwarded(req));
    const by = this.recordControl('resume', req, actor);
    this.note(`resumed by ${by}`);
    this.publish();
    return { status: this.status(), message: 'resumed' };
  }

  /** An abort by a human or bot (`actor`), or by a Cancel (no actor: `req.by` names it). */
  private abort(req: ControlRequest, actor?: Actor): ControlAck {
    if (this.progress.abort === null) {
      const by = actor ? this.recordControl('abort', req, actor) : req.by;
      this.progress.abort = { by, ...(req.reason !== undefined ? { reason: req.reason } : {}) };
      this.note(`abort requested by ${by}${req.reason ? `: ${req.reason}` : ''}`);
      this.forwardToChild(abortSignal, this.forwarded(req));
      for (const scope of this.interruptible) scope.cancel();
    }
    this.publish();
    return { status: this.status(), message: 'the run stops at the next safe point and runs its undo steps' };
  }

  private installHandlers(): void {
    const gateValidator = (accepting: boolean) => (a: GateAnswer) => this.validateGateAnswer(a, accepting);
    setHandler(approveUpdate, (a) => this.answer(a, 'approved'), { validator: gateValidator(true) });
    setHandler(rejectUpdate, (a) => this.answer(a, 'rejected'), { validator: gateValidator(false) });
    setHandler(pauseUpdate, (r) => this.control('pause', r), { validator: (r) => this.validateControl(r) });
    setHandler(resumeUpdate, (r) => this.control('resume', r), { validator: (r) => this.validateControl(r) });
    setHandler(abortUpdate, (r) => this.control('abort', r), { validator: (r) => this.validateControl(r) });
    // Signals cannot be refused: an invalid one is noted in the run's log and otherwise ignored.
    const viaSignal =
      <A>(validate: (a: A) => void, act: (a: A) => unknown, what: string) =>
      (a: A) => {
        const ignored = (err: unknown) => {
          this.note(`ignored ${what} signal: ${describe(err)}`);
          this.publish();
        };
        try {
          validate(a);
          const acted = act(a);
          // An attested answer is verified before it decides; a refusal then is noted like any other.
          if (acted instanceof Promise) acted.catch(ignored);
        } catch (err) {
          ignored(err);
        }
      };
    setHandler(approveSignal, viaSignal(gateValidator(true), (a: GateAnswer) => this.answer(a, 'approved'), 'approve'));
    setHandler(rejectSignal, viaSignal(gateValidator(false), (a: GateAnswer) => this.answer(a, 'rejected'), 'reject'));
    setHandler(pauseSignal, viaSignal((r: ControlRequest) => this.validateControl(r), (r: ControlRequest) => this.control('pause', r), 'pause'));
    setHandler(resumeSignal, viaSignal((r: ControlRequest) => this.validateControl(r), (r: ControlRequest) => this.control('resume', r), 'resume'));
    setHandler(abortSignal, viaSignal((r: ControlRequest) => this.validateControl(r), (r: ControlRequest) => this.control('abort', r), 'abort'));
    setHandler(childStateSignal, (state) => this.onChildState(state));
    setHandler(progressQuery, () => {
      const open = this.openGates();
      return { ...this.progress, status: this.status(), pendingGates: open, pendingGate: open[0] ?? null };
    });
  }

  private status(): RunbookStatus {
    if (this.terminal !== null) return this.terminal;
    if (this.progress.abort !== null) return RunbookStatus.Aborting;
    if (this.openGates().length > 0) return RunbookStatus.WaitingForApproval;
    if (this.progress.paused) return RunbookStatus.Paused;
    return RunbookStatus.Running;
  }

  /** Refreshes the UI details, and the search attributes when the status changed (each upsert is a history event). */
  private publish(): void {
    const status = this.status();
    this.progress.status = status;
    this.progress.pendingGates = this.openGates();
    this.progress.pendingGate = this.progress.pendingGates[0] ?? null;
    if (status !== this.publishedStatus && !TERMINAL.includes(this.publishedStatus as RunbookStatus)) {
      upsertSearchAttributes([
        { key: SA_CLUSTER, value: this.opts.cluster },
        { key: SA_RUNBOOK, value: this.opts.runbook },
        { key: SA_STATUS, value: status },
      ]);
      this.publishedStatus = status;
    }
    setCurrentDetails(this.renderDetails());
    this.reportToParent();
  }

  private renderDetails(): string {
    const p = this.progress;
    const id = workflowInfo().workflowId;
    const startedBy = this.starter ? renderActor(this.starter) : this.starterClaim;
    // Runbook, cluster, starter and what the run will do first, from the first task on: a run started from the
    // Web UI's form has no static details, so these lines are all it shows of who and what.
    const lines = [runHeader({ runbook: p.runbook, cluster: p.cluster, startedBy, intent: this.intent }, this.status())];
    if (p.paused && p.abort === null) lines.push(`\nPaused by ${this.lastControlBy('pause')}: the run waits at the next step boundary.`);
    if (p.abort) lines.push(`\n**Abort requested by ${p.abort.by}**${p.abort.reason ? `: ${p.abort.reason}` : ''}`);
    if (p.currentStep) lines.push(`\nStep: ${p.currentStep}`);
    if (p.detail) lines.push(`\n${p.detail}`);
    for (const g of p.pendingGates) {
      const where = g.workflowId === id ? '' : ` (in child workflow \`${g.workflowId}\`)`;
      lines.push(
        `\n**Waiting for approval at gate \`${g.name}\`** (${g.kind ?? 'ordinary'}; may answer: ${g.approvers ? g.approvers.join(', ') || 'nobody' : 'anyone'})${where}: ${g.prompt}`,
        g.choices ? `\nChoices: ${g.choices.join(', ')}` : '',
        `\nApprove: \`kafka-runbooks approve ${id} --gate ${g.name}${g.choices ? ' --choice <choice>' : ''} --as <you> --reason "..."\``,
        `or send Signal \`approve\` to \`${g.workflowId}\` with \`{"gate":"${g.name}","approver":"<you>","reason":"..."}\``,
      );
    }
    if (p.warnings.length > 0) lines.push(`\n**Warnings**:\n${p.warnings.map((w) => `- ${w}`).join('\n')}`);
    const done = p.steps.filter((s) => s.state === 'done').length;
    lines.push(`\nSteps done: ${done} of ${p.steps.length} started`);
    if (this.extraDetails) lines.push(`\n${this.extraDetails}`);
    const requests = p.controlRequests ?? [];
    if (requests.length > 0) {
      lines.push(`\nPause, resume and abort requests:\n${requests.slice(-10).map((r) => `- ${r.action} by ${r.by}${r.authenticated ? '' : ' (unauthenticated)'}${r.reason ? `: ${r.reason}` : ''}`).join('\n')}`);
    }
    lines.push(`\n${describePolicy(this.policy)}`);
    return lines.join('\n');
  }

  /** Who last asked for this (rendered, authenticated or not). */
  private lastControlBy(action: ControlRecord['action']): string {
    const r = [...(this.progress.controlRequests ?? [])].reverse().find((c) => c.action === action);
    return r ? `${r.by}${r.authenticated ? '' : ' (unauthenticated)'}` : 'unknown';
  }
}

/**
 * Like Promise.all, but waits for every promise to settle before rejecting (with the first rejection): parallel
 * nodes finish the step they are in, so undo never runs beside a change still in flight.
 */
export async function settleAll<T extends readonly unknown[]>(promises: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T>;
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]>;
export async function settleAll(promises: readonly Promise<unknown>[]): Promise<unknown[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value);
}

/**
 * An activity's typed failure (ClusterBusy, UnsafeToProceed, ...) arrives wrapped in an ActivityFailure.
 * Surface it as the run's own failure so the UI, the CLI and callers see what to do about it.
 */
function surfaceTypedFailure(err: unknown): unknown {
  const types: string[] = Object.values(FailureType);
  let cur: unknown = err;
  for (let depth = 0; cur instanceof TemporalFailure && depth < 5; depth++) {
    if (cur instanceof ApplicationFailure && cur.type && types.includes(cur.type)) return cur;
    if (!(cur instanceof ActivityFailure || cur instanceof ChildWorkflowFailure)) return err;
    cur = cur.cause;
  }
  return err;
}

/** Timer summaries are one line in the Web UI. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function now(): string {
  return new Date().toISOString();
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message && cause.message !== err.message ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/** Who an answer says it is: the attested principal (verified later, on the worker), else the typed name, unauthenticated. */
function claimedActor(answer: GateAnswer): Actor {
  const a = answer.attestation;
  if (!a) return unauthenticatedActor(answer.approver);
  return { principal: a.principal, ...(a.via !== undefined ? { via: a.via } : {}), authenticated: true };
}
