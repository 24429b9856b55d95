/**
 * Controls every runbook shares: approval gates, pause/resume at step boundaries, abort with undo steps,
 * a progress query, live details for the Web UI, typed search attributes and the per-cluster lock.
 *
 * Guarantees:
 * - a step never starts while the run is paused, and never after an abort was requested;
 * - an abort interrupts only steps marked interruptible (waits), never a step that is changing the cluster;
 * - undo steps run in reverse order on failure, abort and cancellation alike, and cannot be cancelled;
 * - every gate decision records who decided and why.
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
} from '@temporalio/workflow';
import { type Duration, msToNumber } from '@temporalio/common/lib/time';
import { aborted, FailureType, gateRejected } from '../src/errors';
import {
  abortSignal,
  abortUpdate,
  approveSignal,
  approveUpdate,
  type ControlAck,
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
}

export interface GatePolicy {
  /** How long to wait for an answer; absent waits until someone answers. */
  timeout?: Duration;
  /** What an unanswered gate means when the timeout passes. Rejecting is the safe default. */
  onTimeout?: 'reject' | 'approve';
  /** Overrides the run's approvers for this gate. */
  approvers?: string[];
  /** Offer choices; an approval must name one of them. */
  choices?: string[];
}

interface Undo {
  name: string;
  run: () => Promise<void>;
}

const LOG_LIMIT = 50;
const TERMINAL: RunbookStatus[] = [RunbookStatus.Completed, RunbookStatus.Failed, RunbookStatus.Aborted];

export class RunbookControls {
  private readonly progress: RunbookProgress;
  private pending: { gate: PendingGate; decision: GateDecision | null } | null = null;
  private readonly undo: Undo[] = [];
  /** Every wait in flight: batches restart nodes in parallel, so several can be waiting at once. */
  private readonly interruptible = new Set<CancellationScope>();
  private terminal: RunbookStatus | null = null;
  private publishedStatus: RunbookStatus | null = null;

  constructor(private readonly opts: RunbookOptions) {
    this.progress = {
      runbook: opts.runbook,
      cluster: opts.cluster,
      status: RunbookStatus.Running,
      currentStep: null,
      steps: [],
      pendingGate: null,
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
    let locked = false;
    try {
      if (this.opts.lock) {
        const lock = this.opts.lock;
        await this.step('take the cluster lock', () => lock.acquire());
        locked = true;
      }
      const result = await body();
      this.finish(RunbookStatus.Completed);
      return result;
    } catch (err) {
      const wasAbort = this.progress.abort !== null || isCancellation(err);
      if (this.undo.length > 0) await this.runUndo();
      this.finish(wasAbort ? RunbookStatus.Aborted : RunbookStatus.Failed, err);
      throw surfaceTypedFailure(err);
    } finally {
      if (locked && this.opts.lock) {
        const lock = this.opts.lock;
        await CancellationScope.nonCancellable(() => lock.release());
      }
      await condition(allHandlersFinished);
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
      const result = opts.interruptible ? await this.runInterruptible(fn) : await fn();
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
    const onTimeout = policy.onTimeout ?? 'reject';
    const deadline = policy.timeout === undefined ? null : new Date(Date.now() + msToNumber(policy.timeout)).toISOString();
    this.pending = {
      gate: {
        name,
        prompt,
        since: now(),
        deadline,
        onTimeout,
        approvers: policy.approvers ?? this.opts.approvers ?? null,
        choices: policy.choices ?? null,
      },
      decision: null,
    };
    this.note(`waiting for approval at gate "${name}": ${prompt}`);
    this.publish();
    const pending = this.pending;
    try {
      const answered = () => pending.decision !== null || this.progress.abort !== null;
      const inTime = policy.timeout === undefined ? (await condition(answered), true) : await condition(answered, policy.timeout);
      if (pending.decision === null && this.progress.abort !== null) throw this.abortFailure();
      const decision: GateDecision = pending.decision ?? {
        gate: name,
        outcome: onTimeout === 'approve' ? 'approved' : 'rejected',
        approver: 'timeout-policy',
        reason: `no answer within ${String(policy.timeout)}; the gate's policy is to ${onTimeout} on timeout`,
        choice: null,
        at: now(),
      };
      if (!inTime && pending.decision === null) this.recordDecision(decision);
      return decision;
    } finally {
      this.pending = null;
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

  /** Markdown appended under the status block in the UI (e.g. a report). */
  extraDetails = '';

  // ---- internals ----

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

  private validateGateAnswer(answer: GateAnswer, accepting: boolean): void {
    if (!answer || typeof answer !== 'object') throw new Error('malformed request: expected { gate, approver, reason? }');
    if (typeof answer.gate !== 'string' || answer.gate.length === 0) throw new Error('malformed request: "gate" is required');
    if (typeof answer.approver !== 'string' || answer.approver.trim().length === 0) throw new Error('malformed request: "approver" is required');
    const p = this.pending;
    if (!p || p.decision !== null) throw new Error(`no gate is waiting for approval (asked for "${answer.gate}")`);
    if (p.gate.name !== answer.gate) throw new Error(`unknown gate "${answer.gate}": the run is waiting at "${p.gate.name}"`);
    if (p.gate.approvers && !p.gate.approvers.includes(answer.approver)) {
      throw new Error(`"${answer.approver}" may not decide gate "${p.gate.name}" (allowed: ${p.gate.approvers.join(', ')})`);
    }
    if (accepting && p.gate.choices && (answer.choice === undefined || !p.gate.choices.includes(answer.choice))) {
      throw new Error(`gate "${p.gate.name}" needs a choice, one of: ${p.gate.choices.join(', ')}`);
    }
  }

  private decide(answer: GateAnswer, outcome: 'approved' | 'rejected'): GateDecision {
    const decision: GateDecision = {
      gate: answer.gate,
      outcome,
      approver: answer.approver,
      reason: answer.reason ?? null,
      choice: outcome === 'approved' ? (answer.choice ?? null) : null,
      at: now(),
    };
    if (this.pending) this.pending.decision = decision;
    this.recordDecision(decision);
    return decision;
  }

  private recordDecision(decision: GateDecision): void {
    this.progress.gates.push(decision);
    this.note(`gate "${decision.gate}" ${decision.outcome} by ${decision.approver}${decision.reason ? `: ${decision.reason}` : ''}`);
    this.publish();
  }

  private validateControl(req: ControlRequest): void {
    if (!req || typeof req !== 'object' || typeof req.by !== 'string' || req.by.trim().length === 0) {
      throw new Error('malformed request: expected { by, reason? }');
    }
    if (this.terminal !== null) throw new Error(`the run has already ended (${this.terminal})`);
  }

  private pause(req: ControlRequest): ControlAck {
    this.progress.paused = true;
    this.note(`pause requested by ${req.by}${req.reason ? `: ${req.reason}` : ''}; takes effect at the next step boundary`);
    this.publish();
    return { status: this.status(), message: 'the run pauses at the next step boundary' };
  }

  private resume(req: ControlRequest): ControlAck {
    this.progress.paused = false;
    this.note(`resumed by ${req.by}`);
    this.publish();
    return { status: this.status(), message: 'resumed' };
  }

  private abort(req: ControlRequest): ControlAck {
    if (this.progress.abort === null) {
      this.progress.abort = { by: req.by, reason: req.reason };
      this.note(`abort requested by ${req.by}${req.reason ? `: ${req.reason}` : ''}`);
      for (const scope of this.interruptible) scope.cancel();
    }
    this.publish();
    return { status: this.status(), message: 'the run stops at the next safe point and runs its undo steps' };
  }

  private installHandlers(): void {
    const gateValidator = (accepting: boolean) => (a: GateAnswer) => this.validateGateAnswer(a, accepting);
    setHandler(approveUpdate, (a) => this.decide(a, 'approved'), { validator: gateValidator(true) });
    setHandler(rejectUpdate, (a) => this.decide(a, 'rejected'), { validator: gateValidator(false) });
    setHandler(pauseUpdate, (r) => this.pause(r), { validator: (r) => this.validateControl(r) });
    setHandler(resumeUpdate, (r) => this.resume(r), { validator: (r) => this.validateControl(r) });
    setHandler(abortUpdate, (r) => this.abort(r), { validator: (r) => this.validateControl(r) });
    // Signals cannot be refused: an invalid one is noted in the run's log and otherwise ignored.
    const viaSignal =
      <A>(validate: (a: A) => void, act: (a: A) => unknown, what: string) =>
      (a: A) => {
        try {
          validate(a);
          act(a);
        } catch (err) {
          this.note(`ignored ${what} signal: ${describe(err)}`);
          this.publish();
        }
      };
    setHandler(approveSignal, viaSignal(gateValidator(true), (a: GateAnswer) => this.decide(a, 'approved'), 'approve'));
    setHandler(rejectSignal, viaSignal(gateValidator(false), (a: GateAnswer) => this.decide(a, 'rejected'), 'reject'));
    setHandler(pauseSignal, viaSignal((r: ControlRequest) => this.validateControl(r), (r: ControlRequest) => this.pause(r), 'pause'));
    setHandler(resumeSignal, viaSignal((r: ControlRequest) => this.validateControl(r), (r: ControlRequest) => this.resume(r), 'resume'));
    setHandler(abortSignal, viaSignal((r: ControlRequest) => this.validateControl(r), (r: ControlRequest) => this.abort(r), 'abort'));
    setHandler(progressQuery, () => ({ ...this.progress, status: this.status(), pendingGate: this.pending?.gate ?? null }));
  }

  private status(): RunbookStatus {
    if (this.terminal !== null) return this.terminal;
    if (this.progress.abort !== null) return RunbookStatus.Aborting;
    if (this.pending !== null) return RunbookStatus.WaitingForApproval;
    if (this.progress.paused) return RunbookStatus.Paused;
    return RunbookStatus.Running;
  }

  /** Refreshes the UI details, and the search attributes when the status changed (each upsert is a history event). */
  private publish(): void {
    const status = this.status();
    this.progress.status = status;
    this.progress.pendingGate = this.pending?.gate ?? null;
    if (status !== this.publishedStatus && !TERMINAL.includes(this.publishedStatus as RunbookStatus)) {
      upsertSearchAttributes([
        { key: SA_CLUSTER, value: this.opts.cluster },
        { key: SA_RUNBOOK, value: this.opts.runbook },
        { key: SA_STATUS, value: status },
      ]);
      this.publishedStatus = status;
    }
    setCurrentDetails(this.renderDetails());
  }

  private renderDetails(): string {
    const p = this.progress;
    const id = workflowInfo().workflowId;
    const lines = [`**${p.runbook}** on cluster \`${p.cluster}\`: **${this.status()}**`];
    if (p.currentStep) lines.push(`\nStep: ${p.currentStep}`);
    if (p.detail) lines.push(`\n${p.detail}`);
    const g = this.pending?.gate;
    if (g) {
      lines.push(
        `\n**Waiting for approval at gate \`${g.name}\`**: ${g.prompt}`,
        g.choices ? `\nChoices: ${g.choices.join(', ')}` : '',
        `\nApprove: \`kafka-runbooks approve ${id} --gate ${g.name}${g.choices ? ' --choice <choice>' : ''} --as <you> --reason "..."\``,
        `or send Signal \`approve\` with \`{"gate":"${g.name}","approver":"<you>","reason":"..."}\``,
      );
    }
    const done = p.steps.filter((s) => s.state === 'done').length;
    lines.push(`\nSteps done: ${done} of ${p.steps.length} started`);
    if (this.extraDetails) lines.push(`\n${this.extraDetails}`);
    return lines.join('\n');
  }
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
