// Uninstall, the framework's side (platform-neutral). Once the platform's teardown plan has
// removed what it built on the nodes, every agent's executor is shut down and every
// reservation of ours unreserved, the framework is torn down in Mesos (TEARDOWN) and its state
// deleted from the store; then the process may end. A record in the store says how far it
// got, so a scheduler that crashes at any point carries on where it was when it starts again:
// the teardown plan's progress is the engine's (persisted until the very end), releasing and
// TEARDOWN are safe to repeat, and the record itself is the last key deleted.
import { EventEmitter } from "node:events";
import type { MesosLogger } from "../mesos/logger.js";
import { FrameworkRemovedError, type MesosError } from "../mesos/errors.js";
import type { StateStore } from "../store/store.js";
import type { AgentRegistry } from "./agents.js";
import type { PlanEngine } from "./plan/engine.js";
import type { PlanView } from "./plan/types.js";
import type { Platform } from "./scheduler.js";

export const UNINSTALL_KEY = "framework/uninstall";
/**
 * Left behind by a finished uninstall: a scheduler started again on this state (Marathon
 * restarts an app whose process ended) must not deploy afresh by itself.
 */
export const UNINSTALLED_KEY = "framework/uninstalled";

/** What the tombstone of a finished uninstall says. */
export interface UninstalledMark {
  at: string;
  frameworkId?: string;
}
/** The plan a platform's uninstall runs (Platform.uninstall). */
export const TEARDOWN_PLAN_ID = "teardown";

export type UninstallPhase = "teardown" | "torn-down";

export interface UninstallRecord {
  phase: UninstallPhase;
  destroyData: boolean;
  planId: string;
  startedAt: number;
}

/** A refused or impossible uninstall request, with a stable code; the API answers statusCode. */
export class UninstallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = "UninstallError";
  }
}

/** What the uninstall needs of the scheduler (FrameworkScheduler provides all of it). */
export interface UninstallSource {
  readonly engine: PlanEngine;
  readonly agents: AgentRegistry;
  readonly store: StateStore;
  readonly platform: Platform;
  readonly frameworkInfo: { name: string };
  readonly frameworkId: string | undefined;
  readonly runner: {
    release(agentId: string, opts?: { signal?: AbortSignal }): Promise<void>;
  };
  readonly client: {
    readonly state: string;
    readonly fatal?: MesosError | undefined;
    start(): void;
    teardown(): Promise<void>;
    on(event: "subscribed" | "fatal", fn: (...args: never[]) => void): unknown;
    off(event: "subscribed" | "fatal", fn: (...args: never[]) => void): unknown;
  };
  stop(): Promise<void>;
}

export interface UninstallSummary {
  frameworkId: string | undefined;
  released: number;
  /** Agents still holding something of ours (lost, or not released in time), by host. */
  leftBehind: string[];
  tornDown: boolean;
  line: string;
}

export interface UninstallerOptions {
  logger: MesosLogger;
  /** Tells operators (the event stream). */
  notify?(level: "info" | "warn", message: string): void;
  /** How long releasing the agents may take before the rest is left behind (default 120 s). */
  releaseTimeoutMs?: number;
  /** How long to wait for Mesos to take the TEARDOWN after a restart (default 60 s). */
  mesosTimeoutMs?: number;
}

export class Uninstaller extends EventEmitter<{ finished: [UninstallSummary] }> {
  private record: UninstallRecord | undefined;
  private running: Promise<void> | undefined;
  private summary: UninstallSummary | undefined;
  private released = 0;
  private leftBehind: string[] = [];

  constructor(
    private readonly src: UninstallSource,
    private readonly opts: UninstallerOptions,
  ) {
    super();
  }

  /** Reads the record of an uninstall under way. */
  async load(): Promise<UninstallRecord | undefined> {
    this.record = await this.src.store.get<UninstallRecord>(UNINSTALL_KEY);
    return this.record;
  }

  /**
   * After the platform started: a teardown plan without our record (a crash between the
   * platform's start of it and the record) is an uninstall under way too; carries it on.
   */
  async adopt(): Promise<void> {
    if (this.record || !this.src.engine.planIds().includes(TEARDOWN_PLAN_ID)) return;
    this.opts.logger.warn({}, "a teardown plan without an uninstall record: carrying it on");
    await this.request({ destroyData: false });
  }

  get active(): boolean {
    return this.record !== undefined;
  }

  /** Under way and past TEARDOWN: the scheduler must not subscribe as itself again. */
  get tornDown(): boolean {
    return this.record?.phase === "torn-down";
  }

  status(): {
    state: "none" | UninstallPhase | "finished";
    destroyData?: boolean;
    plan?: PlanView;
  } {
    if (this.summary) return { state: "finished" };
    if (!this.record) return { state: "none" };
    const plan = this.src.engine.planIds().includes(this.record.planId)
      ? this.src.engine.view(this.record.planId)
      : undefined;
    return {
      state: this.record.phase,
      destroyData: this.record.destroyData,
      ...(plan ? { plan } : {}),
    };
  }

  /** Calls fn with the summary once finished (at once when it already is). */
  onFinished(fn: (s: UninstallSummary) => void): void {
    if (this.summary) fn(this.summary);
    else this.once("finished", fn);
  }

  /**
   * An operator's request: the platform checks it (a refusal rejects with its code and
   * status) and starts its teardown; then the rest follows on its own.
   */
  async request(o: { destroyData: boolean }): Promise<UninstallRecord> {
    if (this.record?.phase === "torn-down") return this.record;
    const platform = this.src.platform;
    if (!platform.uninstall)
      throw new UninstallError(
        "UNINSTALL_UNSUPPORTED",
        `the ${platform.name} platform cannot be uninstalled`,
        501,
      );
    const { planId } = await platform.uninstall({ destroyData: o.destroyData });
    const record: UninstallRecord = {
      phase: "teardown",
      destroyData: o.destroyData || (this.record?.destroyData ?? false),
      planId,
      startedAt: this.record?.startedAt ?? Date.now(),
    };
    await this.src.store.set(UNINSTALL_KEY, record);
    this.record = record;
    if (!this.running) {
      this.opts.notify?.(
        "warn",
        `uninstall started${record.destroyData ? " (volumes and their data are destroyed)" : ""}`,
      );
    }
    this.resume();
    return record;
  }

  /** Carries on with a recorded uninstall (after a restart); a no-op without one. */
  resume(): void {
    if (!this.record || this.running) return;
    this.running = this.run().catch((err: Error) => {
      // Only the store can fail here for good; a restart carries on from the record.
      this.opts.logger.error({ err: err.message }, "uninstall interrupted; it resumes at restart");
      this.running = undefined;
    });
  }

  private async run(): Promise<void> {
    const rec = this.record!;
    if (rec.phase === "teardown") {
      await this.planComplete(rec.planId);
      this.info("teardown plan complete: releasing every agent's executor and reservations");
      await this.releaseAgents();
      const next: UninstallRecord = { ...rec, phase: "torn-down" };
      // Recorded first: a restart from here never runs the framework as itself again, it
      // only repeats the TEARDOWN (Mesos tells a removed framework so) and deletes the state.
      await this.src.store.set(UNINSTALL_KEY, next);
      this.record = next;
    }
    const tornDown = await this.teardownInMesos();
    await this.src
      .stop()
      .catch((err: Error) =>
        this.opts.logger.warn({ err: err.message }, "scheduler stop during uninstall"),
      );
    await this.deleteState();
    const fw = this.src.frameworkId;
    const left = this.leftBehind.length
      ? `; still holding resources of ours (lost or not released in time): ${this.leftBehind.join(", ")}`
      : "";
    const line = `uninstall complete: framework ${fw ?? "(unknown)"} ${tornDown ? "torn down in Mesos" : "NOT confirmed torn down (Mesos removes it after its failover timeout)"}, ${this.released} agent(s) released, state deleted${left}`;
    this.summary = {
      frameworkId: fw,
      released: this.released,
      leftBehind: this.leftBehind,
      tornDown,
      line,
    };
    this.emit("finished", this.summary);
  }

  /** Resolves when the teardown plan is complete (it may not be installed yet). */
  private planComplete(planId: string): Promise<void> {
    const engine = this.src.engine;
    return new Promise((resolve) => {
      const done = (v: PlanView) => v.id === planId && v.status === "COMPLETE";
      const onPlan = (v: PlanView) => {
        if (!done(v)) return;
        engine.off("plan", onPlan);
        resolve();
      };
      engine.on("plan", onPlan);
      if (engine.planIds().includes(planId) && done(engine.view(planId)))
        onPlan(engine.view(planId));
    });
  }

  private async releaseAgents(): Promise<void> {
    const agents = this.src.agents.all();
    const lost = agents.filter((a) => a.lostSince !== undefined);
    const reachable = agents.filter((a) => a.lostSince === undefined);
    const ac = new AbortController();
    const ms = this.opts.releaseTimeoutMs ?? 120_000;
    const timer = setTimeout(
      () => ac.abort(new Error(`not released within ${Math.round(ms / 1000)} s`)),
      ms,
    );
    timer.unref();
    const results = await Promise.allSettled(
      reachable.map((a) => this.src.runner.release(a.agentId, { signal: ac.signal })),
    );
    clearTimeout(timer);
    this.released = results.filter((r) => r.status === "fulfilled").length;
    this.leftBehind = [
      ...lost.map((a) => a.hostname),
      ...reachable.filter((_, i) => results[i]!.status === "rejected").map((a) => a.hostname),
    ];
    for (const h of this.leftBehind)
      this.opts.notify?.("warn", `agent ${h} could not be released: its reservations stay`);
  }

  /** TEARDOWN; true once Mesos took it (or says the framework is gone already). */
  private async teardownInMesos(): Promise<boolean> {
    const client = this.src.client;
    if (client.fatal instanceof FrameworkRemovedError) return true;
    if (client.state !== "subscribed") {
      // After a restart: subscribe only to say TEARDOWN (nothing else of ours runs).
      const outcome = await new Promise<"subscribed" | "removed" | "timeout" | "fatal">(
        (resolve) => {
          const onSub = () => finish("subscribed");
          const onFatal = (err: MesosError) =>
            finish(err instanceof FrameworkRemovedError ? "removed" : "fatal");
          const timer = setTimeout(() => finish("timeout"), this.opts.mesosTimeoutMs ?? 60_000);
          const finish = (r: "subscribed" | "removed" | "timeout" | "fatal") => {
            clearTimeout(timer);
            client.off("subscribed", onSub);
            client.off("fatal", onFatal as (...args: never[]) => void);
            resolve(r);
          };
          client.on("subscribed", onSub);
          client.on("fatal", onFatal as (...args: never[]) => void);
          if (client.state === "idle") client.start();
        },
      );
      if (outcome === "removed") return true;
      if (outcome !== "subscribed") {
        this.opts.logger.warn({ outcome }, "could not reach Mesos to tear the framework down");
        return false;
      }
    }
    try {
      await client.teardown();
      this.info("framework torn down in Mesos");
      return true;
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, "TEARDOWN not confirmed");
      return false;
    }
  }

  /**
   * Every key of ours, the uninstall record last (a crash meanwhile resumes the deletion),
   * leaving only the tombstone, written first.
   */
  private async deleteState(): Promise<void> {
    const store = this.src.store;
    if ((await store.get(UNINSTALLED_KEY)) === undefined) {
      const mark: UninstalledMark = {
        at: new Date().toISOString(),
        ...(this.src.frameworkId ? { frameworkId: this.src.frameworkId } : {}),
      };
      await store.set(UNINSTALLED_KEY, mark);
    }
    for (const key of await store.list("")) {
      if (key !== UNINSTALL_KEY && key !== UNINSTALLED_KEY) await store.delete(key);
    }
    await store.delete(UNINSTALL_KEY);
  }

  private info(message: string): void {
    this.opts.logger.info({}, message);
    this.opts.notify?.("info", message);
  }
}
