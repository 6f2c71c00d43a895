// Runs plans: picks the steps whose turn it is (phase dependencies, serial or parallel
// strategies, operator pauses, busy assets), runs them, retries failures with exponential
// backoff, and persists every transition before acting on it. After a restart a step that
// was in progress is simply run again: steps are idempotent by contract.
import { EventEmitter } from "node:events";
import type { StateStore } from "../../store/store.js";
import { PlanProgressStore } from "./progress-store.js";
import { Backoff } from "../../mesos/backoff.js";
import {
  PermanentStepError,
  PlanError,
  stepIn,
  stepTable,
  type AggregateStatus,
  type PhaseDefinition,
  type PlanDefinition,
  type PlanProgress,
  type PlanView,
  type StepDefinition,
  type StepProgress,
  type StepView,
} from "./types.js";

export interface PlanEngineOptions {
  store: StateStore;
  /** Retry delays: initialMs doubling up to maxMs (defaults 1 s and 60 s). */
  retry?: { initialMs?: number; maxMs?: number };
  /** Scrubs secrets out of error messages before they are stored or shown. */
  redact?: (text: string) => string;
  now?: () => number;
  /**
   * Plan views that a finishing step triggers are sent at most this often per plan, the
   * latest one last (default 100 ms, longer for plans of more than 200 steps: 1 ms per 2
   * steps, at most 2 s): a view is the whole plan, and thousands of steps end in a large
   * deploy.
   * Operator actions send theirs at once. 0 sends every view at once.
   */
  planEventIntervalMs?: number;
}

export interface PlanEngineEvents {
  step: [planId: string, phaseId: string, step: StepView];
  plan: [view: PlanView];
  /** Internal trouble (e.g. the store failed to save; the scheduler logs it); the engine keeps going. */
  error: [error: Error];
}

type InterruptKind = "stop" | "restart" | "force" | "timeout";
class Interrupt extends Error {
  constructor(
    readonly kind: InterruptKind,
    message: string,
  ) {
    super(message);
  }
}

interface LivePlan {
  def: PlanDefinition;
  progress: PlanProgress;
  running: Map<string, AbortController>;
  /** Progress writes: per key one at a time, a burst of changes shares the next one. */
  writer: PlanProgressStore;
  /** Step id -> its phase and definition, so per-step work does not scan the whole plan. */
  stepOf: Map<string, { phase: PhaseDefinition; step: StepDefinition }>;
}

export class PlanEngine extends EventEmitter<PlanEngineEvents> {
  private readonly opts: PlanEngineOptions;
  private readonly plans = new Map<string, LivePlan>();
  private readonly busyAssets = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Throttled plan views waiting to be sent, and when each plan's last one went. */
  private readonly planEmits = new Map<string, NodeJS.Timeout>();
  private readonly lastPlanEmit = new Map<string, number>();
  private readonly inflight = new Set<Promise<void>>();
  /** Step outcomes the store refused, written again after a pause (plan/step -> timer). */
  private readonly unsaved = new Map<string, NodeJS.Timeout>();
  private tickPending: NodeJS.Immediate | undefined;
  private started = false;
  private stopping = false;

  constructor(opts: PlanEngineOptions) {
    super();
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  // ---- plan definitions ------------------------------------------------------------------

  /**
   * Installs or replaces a plan definition. Progress is kept for steps whose ids remain,
   * loaded from the store the first time a plan is seen.
   */
  async setPlan(def: PlanDefinition): Promise<void> {
    validate(def);
    let live = this.plans.get(def.id);
    if (!live) {
      const stored = await PlanProgressStore.load(this.opts.store, def.id);
      const progress: PlanProgress = stored ?? {
        id: def.id,
        paused: false,
        pausedPhases: [],
        steps: stepTable(),
      };
      // Whatever was running when the previous process died runs again.
      for (const p of Object.values(progress.steps)) {
        if (p.status === "IN_PROGRESS") p.status = "PENDING";
      }
      const writer = new PlanProgressStore(this.opts.store, progress);
      live = { def, progress, running: new Map(), writer, stepOf: new Map() };
      this.plans.set(def.id, live);
    }
    live.def = def;
    live.stepOf = new Map(
      def.phases.flatMap((phase) => phase.steps.map((step) => [step.id, { phase, step }] as const)),
    );
    const ids = new Set(def.phases.flatMap((ph) => ph.steps.map((s) => s.id)));
    for (const id of Object.keys(live.progress.steps)) {
      if (!ids.has(id) && !live.running.has(id)) delete live.progress.steps[id];
    }
    for (const id of ids) {
      live.progress.steps[id] ??= { status: "PENDING", attempts: 0, updatedAt: this.now() };
    }
    live.progress.pausedPhases = live.progress.pausedPhases.filter((p) =>
      def.phases.some((ph) => ph.id === p),
    );
    const touched = this.reconcileFingerprints(live);
    await live.writer.saveAll();
    if (touched.length > 0) await live.writer.saveSteps(...touched.map((t) => t.id));
    for (const t of touched) if (t.reset) this.emitStep(live, t.id);
    this.emitPlan(def.id);
    this.startAllEligible();
  }

  /**
   * Level-based: a step whose definition's fingerprint differs from the one it last ran with
   * runs again. A finished step (force-completed ones too: an operator's force-complete
   * speaks of the inputs of its time) or a failed one goes back to pending with a fresh
   * count of attempts; a running one is interrupted and started again with the new
   * definition. A finished step without a recorded fingerprint (progress from before
   * fingerprints) adopts the current one instead of running again. Returns the steps changed.
   */
  private reconcileFingerprints(live: LivePlan): { id: string; reset: boolean }[] {
    const touched: { id: string; reset: boolean }[] = [];
    for (const [id, { step }] of live.stepOf) {
      const fp = step.fingerprint;
      const p = stepIn(live.progress.steps, id);
      if (fp === undefined || !p || p.status === "PENDING" || p.fingerprint === fp) continue;
      if (p.fingerprint === undefined && p.status === "COMPLETE") {
        p.fingerprint = fp;
        touched.push({ id, reset: false });
        continue;
      }
      // A step in progress or failed without a fingerprint started before fingerprints: it
      // runs (again) with the current definition anyway, and records the fingerprint then.
      if (p.fingerprint === undefined) continue;
      live.running.get(id)?.abort(new Interrupt("restart", "its inputs changed"));
      Object.assign(p, {
        status: "PENDING",
        attempts: 0,
        updatedAt: this.now(),
        message: "inputs changed: runs again",
      });
      delete p.lastError;
      delete p.retryAt;
      delete p.forced;
      delete p.failingSince;
      this.clearTimer(live.def.id, id);
      touched.push({ id, reset: true });
    }
    return touched;
  }

  /** Forgets a plan (its running steps are interrupted) and its stored progress. */
  async removePlan(planId: string): Promise<void> {
    const live = this.plans.get(planId);
    if (!live) return;
    for (const ac of live.running.values()) ac.abort(new Interrupt("stop", "plan removed"));
    this.plans.delete(planId);
    await live.writer.remove();
  }

  /**
   * A step's progress, also of one that left its plan's definition while it ran (kept until
   * the next definition once it ends); undefined when the engine has none.
   */
  progressOf(planId: string, stepId: string): Readonly<StepProgress> | undefined {
    const live = this.plans.get(planId);
    const p = live ? stepIn(live.progress.steps, stepId) : undefined;
    return p ? { ...p } : undefined;
  }

  planIds(): string[] {
    return [...this.plans.keys()];
  }

  // ---- lifecycle -------------------------------------------------------------------------

  start(): void {
    this.started = true;
    this.stopping = false;
    this.startAllEligible();
  }

  /** Interrupts running steps (they stay in progress in the store) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.tickPending) clearImmediate(this.tickPending);
    this.tickPending = undefined;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const t of this.unsaved.values()) clearTimeout(t);
    this.unsaved.clear();
    for (const [planId, t] of this.planEmits) {
      clearTimeout(t);
      this.planEmits.delete(planId);
      if (this.plans.has(planId)) this.emitPlan(planId);
    }
    for (const live of this.plans.values()) {
      for (const ac of live.running.values()) ac.abort(new Interrupt("stop", "engine stopped"));
    }
    await Promise.allSettled([...this.inflight]);
    await Promise.allSettled([...this.plans.values()].map((p) => p.writer.settled()));
    this.started = false;
  }

  // ---- operator controls -----------------------------------------------------------------

  private mustGet(planId: string): LivePlan {
    const live = this.plans.get(planId);
    if (!live) throw new PlanError("UNKNOWN_PLAN", `no plan '${planId}'`);
    return live;
  }

  private mustStep(live: LivePlan, stepId: string): StepProgress {
    // Own entries only: the id comes from an operator's request.
    const p = stepIn(live.progress.steps, stepId);
    if (!p) throw new PlanError("UNKNOWN_STEP", `plan '${live.def.id}' has no step '${stepId}'`);
    return p;
  }

  /** Pauses a plan, or one phase of it. Running steps finish; no new ones start. */
  async pause(planId: string, phaseId?: string): Promise<void> {
    const live = this.mustGet(planId);
    if (phaseId === undefined) live.progress.paused = true;
    else {
      if (!live.def.phases.some((p) => p.id === phaseId)) {
        throw new PlanError("UNKNOWN_PHASE", `plan '${planId}' has no phase '${phaseId}'`);
      }
      if (!live.progress.pausedPhases.includes(phaseId)) live.progress.pausedPhases.push(phaseId);
    }
    await live.writer.saveHeader();
    this.emitPlan(planId);
  }

  async resume(planId: string, phaseId?: string): Promise<void> {
    const live = this.mustGet(planId);
    if (phaseId === undefined) {
      live.progress.paused = false;
      live.progress.pausedPhases = [];
    } else {
      if (!live.def.phases.some((p) => p.id === phaseId)) {
        throw new PlanError("UNKNOWN_PHASE", `plan '${planId}' has no phase '${phaseId}'`);
      }
      live.progress.pausedPhases = live.progress.pausedPhases.filter((p) => p !== phaseId);
    }
    await live.writer.saveHeader();
    this.emitPlan(planId);
    this.startAllEligible();
  }

  /** Runs a step again from scratch (interrupting it if it is running). */
  async restartStep(planId: string, stepId: string): Promise<void> {
    const live = this.mustGet(planId);
    const p = this.mustStep(live, stepId);
    live.running.get(stepId)?.abort(new Interrupt("restart", "restarted by operator"));
    Object.assign(p, { status: "PENDING", attempts: 0, updatedAt: this.now() });
    delete p.lastError;
    delete p.retryAt;
    delete p.forced;
    delete p.message;
    delete p.failingSince;
    this.clearTimer(planId, stepId);
    await this.persist(live, stepId);
    this.emitStep(live, stepId);
    this.startAllEligible();
  }

  /** Marks a step complete without running it (interrupting it if it is running). */
  async forceComplete(planId: string, stepId: string): Promise<void> {
    const live = this.mustGet(planId);
    const p = this.mustStep(live, stepId);
    live.running.get(stepId)?.abort(new Interrupt("force", "force-completed by operator"));
    Object.assign(p, { status: "COMPLETE", forced: true, updatedAt: this.now() });
    delete p.retryAt;
    delete p.failingSince;
    // Done for the inputs of now: it stays done until they change.
    const fp = live.stepOf.get(stepId)?.step.fingerprint;
    if (fp !== undefined) p.fingerprint = fp;
    else delete p.fingerprint;
    this.clearTimer(planId, stepId);
    await this.persist(live, stepId);
    this.emitStep(live, stepId);
    this.startAllEligible();
  }

  // ---- views -----------------------------------------------------------------------------

  view(planId: string): PlanView {
    const live = this.mustGet(planId);
    const { def, progress } = live;
    const phases = def.phases.map((ph) => {
      const steps: StepView[] = ph.steps.map((s) => ({
        id: s.id,
        name: s.name,
        ...(s.asset !== undefined ? { asset: s.asset } : {}),
        ...(s.after?.length ? { after: s.after } : {}),
        ...progress.steps[s.id]!,
      }));
      const paused = progress.pausedPhases.includes(ph.id);
      return {
        id: ph.id,
        name: ph.name,
        strategy: ph.strategy,
        dependsOn: this.dependencies(def, ph),
        paused,
        status: aggregate(
          steps.map((s) => s.status),
          paused,
        ),
        steps,
      };
    });
    const all = phases.flatMap((p) => p.steps);
    const phaseStatuses = phases.map((p) => (p.status === "WAITING" ? "PENDING" : p.status));
    let status = aggregate(phaseStatuses as StepView["status"][], progress.paused);
    if (status !== "COMPLETE" && !progress.paused && phases.some((p) => p.status === "WAITING")) {
      status = all.some((s) => s.status !== "PENDING") ? "IN_PROGRESS" : "WAITING";
    }
    return {
      id: def.id,
      name: def.name,
      strategy: def.strategy,
      status,
      paused: progress.paused,
      phases,
      progress: { complete: all.filter((s) => s.status === "COMPLETE").length, total: all.length },
    };
  }

  /** Resolves with the plan's view once `done` holds; rejects after the timeout. */
  waitFor(planId: string, done: (v: PlanView) => boolean, timeoutMs = 60_000): Promise<PlanView> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!this.plans.has(planId)) return false;
        const v = this.view(planId);
        if (!done(v)) return false;
        cleanup();
        resolve(v);
        return true;
      };
      const onChange = () => void check();
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new PlanError(
            "TIMEOUT",
            `plan '${planId}' did not reach the expected state in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off("step", onChange);
        this.off("plan", onChange);
      };
      this.on("step", onChange);
      this.on("plan", onChange);
      check();
    });
  }

  // ---- scheduling ------------------------------------------------------------------------

  private dependencies(def: PlanDefinition, phase: PhaseDefinition): string[] {
    const deps = new Set(phase.dependsOn ?? []);
    const i = def.phases.indexOf(phase);
    if (def.strategy === "serial" && i > 0) deps.add(def.phases[i - 1]!.id);
    return [...deps];
  }

  /**
   * Starts what is eligible, soon: a look at every plan costs O(steps), and a large deploy
   * ends hundreds of steps in one burst of status updates, which share one look. (Starting,
   * a new plan and operator actions look at once.)
   */
  private tick(): void {
    if (this.tickPending) return;
    this.tickPending = setImmediate(() => {
      this.tickPending = undefined;
      this.startAllEligible();
    });
  }

  private startAllEligible(): void {
    if (!this.started || this.stopping) return;
    for (const live of this.plans.values()) {
      if (live.progress.paused) continue;
      const done = new Set(
        live.def.phases
          .filter((ph) => ph.steps.every((s) => live.progress.steps[s.id]?.status === "COMPLETE"))
          .map((ph) => ph.id),
      );
      for (const phase of live.def.phases) {
        if (done.has(phase.id) || live.progress.pausedPhases.includes(phase.id)) continue;
        if (!this.dependencies(live.def, phase).every((d) => done.has(d))) continue;
        this.startEligible(live, phase);
      }
    }
  }

  private startEligible(live: LivePlan, phase: PhaseDefinition): void {
    const now = this.now();
    const open = phase.steps.filter((s) => live.progress.steps[s.id]!.status !== "COMPLETE");
    const candidates = phase.strategy === "serial" ? open.slice(0, 1) : open;
    let slots =
      phase.strategy === "serial"
        ? 1
        : (phase.maxParallel ?? Number.POSITIVE_INFINITY) -
          open.filter((s) => live.progress.steps[s.id]!.status === "IN_PROGRESS").length;
    if (phase.strategy === "serial") slots -= open.filter((s) => live.running.has(s.id)).length;
    for (const step of candidates) {
      if (slots <= 0) break;
      const p = live.progress.steps[step.id]!;
      if (p.status === "IN_PROGRESS" || live.running.has(step.id)) continue;
      if (p.status === "ERROR") {
        if (p.retryAt === undefined) continue; // waits for an operator
        if (p.retryAt > now) {
          this.wakeAt(live.def.id, step.id, p.retryAt);
          continue;
        }
      }
      if (step.asset !== undefined && this.busyAssets.has(step.asset)) continue;
      if (step.after?.some((id) => live.progress.steps[id]?.status !== "COMPLETE")) continue;
      slots -= 1;
      this.launch(live, step);
    }
  }

  private wakeAt(planId: string, stepId: string, at: number): void {
    const key = `${planId}/${stepId}`;
    if (this.timers.has(key)) return;
    const t = setTimeout(
      () => {
        this.timers.delete(key);
        this.tick();
      },
      Math.max(0, at - this.now()),
    );
    this.timers.set(key, t);
  }

  private clearTimer(planId: string, stepId: string): void {
    const key = `${planId}/${stepId}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  private launch(live: LivePlan, step: StepDefinition): void {
    const ac = new AbortController();
    live.running.set(step.id, ac);
    if (step.asset !== undefined) this.busyAssets.add(step.asset);
    const run = this.execute(live, step, ac).finally(() => {
      this.inflight.delete(run);
      if (live.running.get(step.id) === ac) live.running.delete(step.id);
      if (step.asset !== undefined) this.busyAssets.delete(step.asset);
      this.tick();
    });
    this.inflight.add(run);
  }

  // Not given the phase: a running step would keep its phase's definition (a thousand
  // steps, from a plan recomputed since) alive until it ends.
  private async execute(live: LivePlan, step: StepDefinition, ac: AbortController): Promise<void> {
    const p = live.progress.steps[step.id]!;
    const now = this.now();
    Object.assign(p, {
      status: "IN_PROGRESS",
      attempts: p.attempts + 1,
      startedAt: now,
      updatedAt: now,
    });
    delete p.retryAt;
    delete p.message;
    // The inputs this run acts on, recorded with its start: a crash from here on runs it
    // again, and a change of inputs while it runs is seen as one.
    if (step.fingerprint !== undefined) p.fingerprint = step.fingerprint;
    else delete p.fingerprint;
    try {
      // Persisted before the work starts, so a crash from here on means "run it again".
      await this.persist(live, step.id);
    } catch (err) {
      p.status = "ERROR";
      p.attempts -= 1;
      p.lastError = `could not record the step start: ${(err as Error).message}`;
      p.retryAt = this.now() + this.retryDelay(1);
      this.storeFailed(err);
      this.emitStep(live, step.id);
      return;
    }
    // Stopped, restarted or force-completed while the start was being recorded.
    if (ac.signal.aborted) return;
    this.emitStep(live, step.id);
    let timer: NodeJS.Timeout | undefined;
    if (step.timeoutMs !== undefined) {
      timer = setTimeout(
        () => ac.abort(new Interrupt("timeout", `step timed out after ${step.timeoutMs} ms`)),
        step.timeoutMs,
      );
    }
    let failure: unknown;
    let ok = false;
    let result: void | string = undefined;
    try {
      result = await step.run({
        planId: live.def.id,
        stepId: step.id,
        signal: ac.signal,
        attempt: p.attempts,
        progress: (message) => {
          if (ac.signal.aborted) return;
          p.message = this.redact(message);
          p.updatedAt = this.now();
          this.emitStep(live, step.id);
        },
      });
      ok = !ac.signal.aborted;
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
    }
    const interrupt = ac.signal.aborted ? (ac.signal.reason as Interrupt) : undefined;
    // Restarted, force-completed or stopped: someone else owns the step's status now.
    if (interrupt && interrupt.kind !== "timeout") return;
    if (!this.plans.has(live.def.id) || live.progress.steps[step.id] !== p) return;
    const end = this.now();
    if (ok) {
      Object.assign(p, { status: "COMPLETE", updatedAt: end });
      delete p.lastError;
      delete p.failingSince;
      // The finished step's own words, not the last thing it said while working.
      if (typeof result === "string") p.message = this.redact(result);
      else delete p.message;
    } else {
      const err = interrupt ?? failure;
      p.status = "ERROR";
      p.updatedAt = end;
      p.failingSince ??= end;
      p.lastError = this.redact(err instanceof Error ? err.message : String(err));
      if (err instanceof PermanentStepError) delete p.retryAt;
      else p.retryAt = end + this.retryDelay(p.attempts);
    }
    try {
      await this.persist(live, step.id);
    } catch (err) {
      // The work is done: it is not done again here, and its outcome is written again
      // until stored (a process that dies first runs the step again, as after a crash).
      this.storeFailed(err);
      if (mayStoreLater(err)) this.saveLater(live, step.id);
    }
    this.emitStep(live, step.id);
    this.emitPlan(live.def.id, true);
  }

  /**
   * Reports a progress write the store refused. Never thrown: an "error" event nobody
   * listens to throws, and from here that ended the whole process.
   */
  private storeFailed(err: unknown): void {
    if (this.listenerCount("error") === 0) return;
    this.emit("error", err instanceof Error ? err : new Error(String(err)));
  }

  /** Writes a step's progress again after a pause, until the store takes it. */
  private saveLater(live: LivePlan, stepId: string, backoff?: Backoff): void {
    const key = `${live.def.id}/${stepId}`;
    if (this.stopping || this.unsaved.has(key)) return;
    const b =
      backoff ??
      new Backoff({
        initialMs: this.opts.retry?.initialMs ?? 1000,
        maxMs: Math.max(this.opts.retry?.maxMs ?? 60_000, this.opts.retry?.initialMs ?? 1000),
      });
    const t = setTimeout(() => {
      this.unsaved.delete(key);
      if (this.stopping || this.plans.get(live.def.id) !== live) return;
      live.writer.saveSteps(stepId).catch((err: unknown) => {
        this.storeFailed(err);
        if (mayStoreLater(err)) this.saveLater(live, stepId, b);
      });
    }, b.next());
    this.unsaved.set(key, t);
  }

  private retryDelay(attempts: number): number {
    const initial = this.opts.retry?.initialMs ?? 1000;
    const max = this.opts.retry?.maxMs ?? 60_000;
    return Math.min(max, initial * 2 ** Math.max(0, attempts - 1));
  }

  private redact(text: string): string {
    return this.opts.redact ? this.opts.redact(text) : text;
  }

  /** A plan view costs O(steps): built only when someone listens (not per step for nothing). */
  private emitPlan(planId: string, soon = false): void {
    if (this.listenerCount("plan") === 0) return;
    // A view costs O(steps) to build, scrub and send, and every step change has its own
    // event already: a large plan is viewed less often (steps/2 ms, at most every 2 s; a
    // 1,400-step deploy about every 0.7 s), so its cost per second stays flat and small.
    const steps = this.plans.get(planId)?.stepOf.size ?? 0;
    const interval = Math.max(this.opts.planEventIntervalMs ?? 100, Math.min(2000, steps / 2));
    const pending = this.planEmits.get(planId);
    if (!soon || (this.opts.planEventIntervalMs ?? 100) <= 0) {
      if (pending) clearTimeout(pending);
      this.planEmits.delete(planId);
      this.lastPlanEmit.set(planId, Date.now());
      this.emit("plan", this.view(planId));
      return;
    }
    if (pending) return;
    const wait = Math.max(0, (this.lastPlanEmit.get(planId) ?? 0) + interval - Date.now());
    const timer = setTimeout(() => {
      this.planEmits.delete(planId);
      if (this.plans.has(planId)) this.emitPlan(planId);
    }, wait);
    this.planEmits.set(planId, timer);
  }

  private emitStep(live: LivePlan, stepId: string): void {
    const found = live.stepOf.get(stepId);
    const phase = found?.phase;
    const def = found?.step;
    const p = stepIn(live.progress.steps, stepId);
    if (!phase || !def || !p) return;
    this.emit("step", live.def.id, phase.id, {
      id: def.id,
      name: def.name,
      ...(def.asset !== undefined ? { asset: def.asset } : {}),
      ...p,
    });
  }

  /**
   * Writes a step's progress; writes of one key are strictly ordered, and changes made
   * while a write is in flight share the next one (one fsync per burst, not per step).
   */
  private persist(live: LivePlan, stepId: string): Promise<void> {
    return live.writer.saveSteps(stepId);
  }
}

/** Fenced (no longer the leader) or closed: this process will never store anything again. */
function mayStoreLater(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code !== "FENCED" && code !== "CLOSED";
}

function aggregate(statuses: StepProgress["status"][], paused: boolean): AggregateStatus {
  if (statuses.length > 0 && statuses.every((s) => s === "COMPLETE")) return "COMPLETE";
  if (statuses.length === 0) return "COMPLETE";
  if (paused) return "WAITING";
  if (statuses.includes("ERROR")) return "ERROR";
  if (statuses.some((s) => s === "IN_PROGRESS" || s === "COMPLETE")) return "IN_PROGRESS";
  return "PENDING";
}

function validate(def: PlanDefinition): void {
  if (!def.id) throw new PlanError("INVALID_PLAN", "plan without id");
  const phaseIds = new Set<string>();
  const stepIds = new Set<string>();
  for (const ph of def.phases) {
    if (phaseIds.has(ph.id))
      throw new PlanError("INVALID_PLAN", `duplicate phase '${ph.id}' in plan '${def.id}'`);
    phaseIds.add(ph.id);
    for (const s of ph.steps) {
      if (stepIds.has(s.id))
        throw new PlanError("INVALID_PLAN", `duplicate step '${s.id}' in plan '${def.id}'`);
      stepIds.add(s.id);
    }
  }
  for (const ph of def.phases) {
    for (const d of ph.dependsOn ?? []) {
      if (!phaseIds.has(d)) {
        throw new PlanError("INVALID_PLAN", `phase '${ph.id}' depends on unknown phase '${d}'`);
      }
    }
  }
  for (const ph of def.phases) {
    for (const s of ph.steps) {
      for (const a of s.after ?? []) {
        if (!stepIds.has(a)) {
          throw new PlanError("INVALID_PLAN", `step '${s.id}' waits for unknown step '${a}'`);
        }
      }
    }
  }
  checkStepCycles(def);
  // Cycle check over explicit dependencies (serial order only points backwards).
  const state = new Map<string, 1 | 2>();
  const byId = new Map(def.phases.map((p) => [p.id, p]));
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 2) return;
    if (state.get(id) === 1) {
      throw new PlanError("INVALID_PLAN", `phase dependency cycle: ${[...path, id].join(" -> ")}`);
    }
    state.set(id, 1);
    for (const d of byId.get(id)!.dependsOn ?? []) visit(d, [...path, id]);
    state.set(id, 2);
  };
  for (const ph of def.phases) visit(ph.id, []);
}

/** A step that (through others) waits for itself would never start: refused. */
function checkStepCycles(def: PlanDefinition): void {
  const after = new Map<string, string[]>();
  for (const ph of def.phases)
    for (const s of ph.steps) if (s.after?.length) after.set(s.id, s.after);
  const state = new Map<string, 1 | 2>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 2) return;
    if (state.get(id) === 1) {
      throw new PlanError("INVALID_PLAN", `step dependency cycle: ${[...path, id].join(" -> ")}`);
    }
    state.set(id, 1);
    for (const d of after.get(id) ?? []) visit(d, [...path, id]);
    state.set(id, 2);
  };
  for (const id of after.keys()) visit(id, []);
}
