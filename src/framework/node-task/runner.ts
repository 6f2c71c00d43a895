// Runs node steps as Mesos tasks on the agent's executor. It asks for offers only while it
// has work (REVIVE / SUPPRESS), reserves the resources the executor and its tasks need on
// first use (labelled, so they are recognised after any restart), records every launch
// before sending it, and turns status updates into step outcomes. Each agent runs one
// executor with an identical ExecutorInfo for all its tasks, as Mesos requires.
//
// One step task per agent at a time: package managers on a host do not run side by side,
// and it bounds what is reserved on an agent to the executor plus one task, whatever a crash
// left behind. A task of a killed scheduler process (an orphan) or an aborted one keeps its
// agent busy until it ends (30 s at most); reserved resources an offer shows beyond what the
// launch needs are unreserved in the same ACCEPT. The offer of a busy agent with a step
// waiting is declined with a short filter: it comes back soon, with what the task freed.
//
// Mesos events reach it through the scheduler's event pipeline (stage()): it sees offers and
// updates in order, and an update's outcome is durable before a later stage acknowledges it.
import { EventEmitter } from "node:events";
import { createHash } from "node:crypto";
import type { StateStore } from "../../store/store.js";
import type {
  ExecutorInfo,
  Offer,
  Operation,
  Resource,
  TaskInfo,
  TaskStatus,
} from "../../mesos/types/common.js";
import { isTerminalTaskState } from "../../mesos/types/common.js";
import type { PipelineStage } from "../../mesos/scheduler/pipeline.js";
import { PermanentStepError } from "../plan/types.js";
import {
  amountOf,
  covers,
  excessOf,
  isOurs,
  isUnreserved,
  reservedResources,
  takeFrom,
  type Amount,
} from "../resources.js";
import { NODE_TASK_PROTOCOL, decodeResult, encodeSpec, type NodeTaskSpec } from "./protocol.js";
import { CoalescedRunner } from "../../common/coalesced-runner.js";
import { byAgent, idsOf, mergeOffers } from "./agent-offers.js";
import { ShardedRecords } from "../../store/sharded-records.js";
import { windowOf } from "../maintenance/inverse-offers.js";

/** What the runner needs of the scheduler client (events come through stage()). */
export interface RunnerClient {
  accept(
    offerIds: { value: string }[],
    operations: Operation[],
    filters?: { refuse_seconds?: number },
  ): Promise<void>;
  decline(offerIds: { value: string }[], filters?: { refuse_seconds?: number }): Promise<void>;
  kill(taskId: string, agentId?: string): Promise<void>;
  shutdown(executorId: string, agentId: string): Promise<void>;
  revive(roles?: string[]): Promise<void>;
  suppress(roles?: string[]): Promise<void>;
}

export interface RunnerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface NodeTaskRunnerOptions {
  client: RunnerClient;
  store: StateStore;
  role: string;
  principal?: string;
  /** Labels our reservations (the framework name). */
  owner: string;
  /** The executor of an agent: same answer every time for the same agent. */
  executorFor(agentId: string): { info: Omit<ExecutorInfo, "resources">; resources: Amount };
  /** Resources of one step task (taken from the agent's reservation). */
  taskResources?: Amount;
  /** Seconds Mesos withholds offers we do not need. */
  declineSeconds?: number;
  /**
   * An offer of an agent with nothing to run is kept this long before it is declined (default
   * 1 s): an agent's next step usually becomes due just after its previous one ended, and its
   * offer arrives in between. Declining it would take a REVIVE to get it back, and a REVIVE
   * has the master offer every agent again.
   */
  holdIdleMs?: number;
  /** Offers are suppressed once nothing has waited for them this long (default 1 s). */
  suppressAfterMs?: number;
  /**
   * A launched task Mesos says nothing of for this long (no update at all: the launch was
   * lost between the master and the agent) is killed and the attempt fails, to be retried
   * under a new task id (default 120 s; Mesos gives an executor 60 s to register).
   */
  launchTimeoutMs?: number;
  /**
   * No new step is launched on an agent whose offers announce a maintenance window (their
   * `unavailability`) starting within this long, or begun and not over (default 5 min): the
   * machine may go down under it. Steps of the maintenance itself are launched anyway.
   */
  maintenanceLeadMs?: number;
  logger?: RunnerLogger;
}

export class NodeTaskError extends Error {
  readonly permanent: boolean;
  readonly state: string;
  constructor(message: string, state: string, permanent: boolean) {
    super(message);
    this.name = "NodeTaskError";
    this.state = state;
    this.permanent = permanent;
  }
}

/**
 * Why Mesos refused a launch, read from the update's structured fields (state, reason,
 * source), never from its text: the master validates each task of a LAUNCH and answers
 * TASK_ERROR with REASON_TASK_INVALID (or _UNAUTHORIZED; the group variants for
 * LAUNCH_GROUP), and fails every task of an invalid ACCEPT with REASON_INVALID_OFFERS.
 */
export type LaunchRefusal = "task-invalid" | "task-unauthorized" | "invalid-offers";

export function launchRefusal(status: TaskStatus): LaunchRefusal | undefined {
  if (status.source !== "SOURCE_MASTER") return undefined;
  if (status.state === "TASK_ERROR") {
    if (status.reason === "REASON_TASK_INVALID" || status.reason === "REASON_TASK_GROUP_INVALID") {
      return "task-invalid";
    }
    if (
      status.reason === "REASON_TASK_UNAUTHORIZED" ||
      status.reason === "REASON_TASK_GROUP_UNAUTHORIZED"
    ) {
      return "task-unauthorized";
    }
  }
  if (
    (status.state === "TASK_LOST" || status.state === "TASK_DROPPED") &&
    status.reason === "REASON_INVALID_OFFERS"
  ) {
    return "invalid-offers";
  }
  return undefined;
}

/** An ACCEPT that failed without an answer: Mesos may or may not have launched the task. */
class LaunchUnconfirmed extends Error {}

interface Pending {
  taskId: string;
  agentId: string;
  spec: NodeTaskSpec;
  launched: boolean;
  resolve(data: unknown): void;
  reject(err: Error): void;
  progress?: (message: string) => void;
  /** Armed at launch until Mesos's first word about the task. */
  silence?: NodeJS.Timeout;
  /** The launch went to an executor the offer showed running (not one started with it). */
  toRunningExecutor?: boolean;
  /** Part of the agent's maintenance: launched inside its window too. */
  maintenance?: boolean;
  /** Why it waits for the agent's maintenance window, as last told. */
  heldFor?: string;
  /** Launches nothing: resolves with the first offer a step could start with (startable()). */
  probe?: boolean;
  /** Told when the agent's maintenance window holds it back (once per reason). */
  onHeld?: (why: string) => void;
}

/** An agent whose executor and reservations are being given back (see release()). */
interface Releasing {
  resolve(): void;
  reject(err: Error): void;
  progress?: (message: string) => void;
  /** When we last asked its executor to shut down. */
  shutdownAt?: number;
}

/** What a launch leaves in the state store until its task ends. */
interface TaskRecord {
  agentId: string;
  stepId: string;
  kind: string;
  launchedAt: number;
}

/** A task of ours Mesos may still run: launched and not yet ended. */
interface LiveTask {
  agentId: string;
  /** Set when we asked for it to end (orphan of a previous process, aborted step). */
  killedAt?: number;
}

const TASK_ID_SAFE = /[^A-Za-z0-9_.-]/g;
/** How long a killed task keeps its agent busy before we stop waiting for its end. */
const KILL_WAIT_MS = 30_000;
/**
 * Filter for the offers of a busy agent (our task runs there, or an outdated executor is on
 * its way out). A filter only holds back offers that are a subset of what was refused: when
 * the task or executor ends, its resources join the agent's next offer, which passes at once.
 * So the filter can be long; a short one had the master re-offer every busy agent a few
 * times a second (7,000 offers for 1,200 launches in a 200-agent deploy).
 */
const BUSY_REFUSE_SECONDS = 5;

/** Identity of an ExecutorInfo: Mesos refuses a task whose executor differs from the running one. */
export function executorFingerprint(info: object): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash("sha256")
    .update(JSON.stringify(canon(info)))
    .digest("hex")
    .slice(0, 16);
}

export class NodeTaskRunner extends EventEmitter {
  private readonly opts: NodeTaskRunnerOptions;
  private readonly pending = new Map<string, Pending>();
  /** Numbers the probes of startable() (their ids are never task ids). */
  private probes = 0;
  private suppressed = false;
  /** Agents whose offers we declined with a filter since the last REVIVE. */
  private readonly filtered = new Set<string>();
  /** Lost agents whose return we want to hear of (their offers), even when idle. */
  private readonly watched = new Set<string>();
  /** Agents leaving the cluster: their offers are used to give back what we hold there. */
  private readonly releasing = new Map<string, Releasing>();
  /** Our tasks that may still hold resources, this process's and a previous one's. */
  private readonly live = new Map<string, LiveTask>();
  /** Fingerprint of the ExecutorInfo last launched on each agent (persisted). */
  private readonly executorFps = new Map<string, string>();
  /** DECLINEs with a long filter on their way: a REVIVE must not overtake them. */
  private readonly declining = new Set<Promise<void>>();
  /**
   * Revives or suppresses offers as the waiting steps need. Calls made while one is queued
   * share it (it reads the state when it runs): each caller waiting on the declines in
   * flight by itself piled up thousands of waiters on a busy master.
   */
  private readonly offerWants = new CoalescedRunner(() => this.reviveOrSuppress());
  /** Agents whose outdated executor we asked to shut down, and when. */
  private readonly replacing = new Map<string, number>();
  /** When a task of ours last ended on each agent (its resources come back in a new offer). */
  private readonly endedAt = new Map<string, number>();
  /** Offers of idle agents kept for a moment (holdIdleMs), by agent. */
  private readonly held = new Map<string, { offer: Offer; at: number }>();
  private heldSweep: NodeJS.Timeout | undefined;
  /** Since when nothing has waited for offers, and the timer that then suppresses them. */
  private quietSince: number | undefined;
  private suppressTimer: NodeJS.Timeout | undefined;
  /**
   * Launch records (written before each launch reaches Mesos, removed when the task ends:
   * what a restarted scheduler may have left running), and the ExecutorInfo fingerprint each
   * agent's executor was launched with. Sharded: a large deploy writes hundreds at once.
   */
  private readonly records: ShardedRecords<TaskRecord>;
  private readonly fingerprints: ShardedRecords<string>;

  /**
   * A rejection handler for calls whose failure the runner recovers from by itself (a kill
   * Mesos did not take is sent again on the task's next update or reconcile; a lost decline
   * lets the offer time out): logged, never silent.
   */
  private bestEffort(what: string, fields: object = {}): (err: unknown) => void {
    return (err) =>
      this.opts.logger?.warn(
        { ...fields, err: (err as Error)?.message ?? String(err) },
        `${what} failed`,
      );
  }

  constructor(opts: NodeTaskRunnerOptions) {
    super();
    this.opts = opts;
    this.records = new ShardedRecords(opts.store, {
      prefix: "task-records",
      shards: 16,
      legacyPrefix: "tasks",
    });
    this.fingerprints = new ShardedRecords(opts.store, {
      prefix: "executor-fingerprints",
      shards: 4,
      legacyPrefix: "executors",
    });
  }

  /**
   * The runner's stage of the scheduler's event pipeline. SUBSCRIBED resolves once the
   * runner's records are loaded (later events wait for it); an UPDATE once the task's end
   * is durable (it rejects when it is not, so the update is not acknowledged and Mesos
   * resends it).
   */
  stage(): PipelineStage {
    return {
      name: "node tasks",
      on: {
        SUBSCRIBED: () => this.onSubscribed(),
        OFFERS: (body) => this.onOffers(body.offers ?? []),
        UPDATE: (body) => this.onUpdate(body.status),
        RESCIND: (body) => this.onRescind(body.offer_id),
      },
    };
  }

  /** The subscription ended: the offers it brought are void. */
  onDisconnected(): void {
    this.dropHeld();
  }

  private onRescind(id: { value: string }): void {
    for (const [agentId, h] of this.held) {
      const ids = idsOf(h.offer);
      if (!ids.some((i) => i.value === id.value)) continue;
      this.held.delete(agentId);
      // The agent's other offers held with it are still ours to answer.
      const rest = ids.filter((i) => i.value !== id.value);
      if (rest.length > 0)
        void this.opts.client
          .decline(rest, { refuse_seconds: 1 })
          .catch((err: Error) =>
            this.opts.logger?.warn({ err: err.message, agentId }, "held offers not declined"),
          );
    }
  }

  /** The tasks a scheduler process launched and has not seen end (for reconciliation). */
  async launchRecords(): Promise<{ taskId: string; agentId: string }[]> {
    await this.records.load();
    return this.records.all().map(([taskId, rec]) => ({ taskId, agentId: rec.agentId }));
  }

  private get taskResources(): Amount {
    return this.opts.taskResources ?? { cpus: 0.05, memMb: 32 };
  }

  /** Task id of a step attempt: readable, unique, valid as a Mesos id. */
  static taskIdFor(stepId: string, attempt: number): string {
    return `${stepId.replace(TASK_ID_SAFE, "_")}.${attempt}`.slice(0, 250);
  }

  /**
   * Runs one node step on an agent; resolves with the handler's result data. Rejects with
   * NodeTaskError (permanent when retrying cannot help) or the signal's reason.
   */
  run(
    agentId: string,
    spec: Omit<NodeTaskSpec, "protocol">,
    opts: {
      signal?: AbortSignal;
      progress?: (message: string) => void;
      /** A step of the agent's maintenance: not held back by its maintenance window. */
      maintenance?: boolean;
      /** Told when the agent's maintenance window holds the step back (once per reason). */
      onHeld?: (why: string) => void;
    } = {},
  ): Promise<unknown> {
    const full: NodeTaskSpec = { protocol: NODE_TASK_PROTOCOL, ...spec };
    const taskId = NodeTaskRunner.taskIdFor(spec.stepId, spec.attempt);
    return this.enqueue(agentId, taskId, full, opts);
  }

  /**
   * Resolves with the agent's first offer that a new step could start with now: no
   * maintenance window of the agent begins within maintenanceLeadMs or is under way, and no
   * task of ours runs there. Meanwhile `progress` says why it waits (the window, as for a
   * step). Launches nothing; the offer is kept for the step that follows.
   */
  startable(
    agentId: string,
    opts: { signal?: AbortSignal; progress?: (message: string) => void } = {},
  ): Promise<void> {
    const taskId = `probe:${agentId}:${++this.probes}`;
    const spec: NodeTaskSpec = {
      protocol: NODE_TASK_PROTOCOL,
      stepId: taskId,
      attempt: 0,
      kind: "probe",
      params: {},
    };
    return this.enqueue(agentId, taskId, spec, { ...opts, probe: true }).then(() => undefined);
  }

  private enqueue(
    agentId: string,
    taskId: string,
    full: NodeTaskSpec,
    opts: {
      signal?: AbortSignal;
      progress?: (message: string) => void;
      maintenance?: boolean;
      onHeld?: (why: string) => void;
      probe?: boolean;
    },
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const p: Pending = {
        taskId,
        agentId,
        spec: full,
        launched: false,
        resolve,
        reject,
        ...(opts.progress ? { progress: opts.progress } : {}),
        ...(opts.maintenance ? { maintenance: true } : {}),
        ...(opts.onHeld ? { onHeld: opts.onHeld } : {}),
        ...(opts.probe ? { probe: true } : {}),
      };
      const abort = () => {
        this.pending.delete(taskId);
        clearTimeout(p.silence);
        if (p.launched) {
          const t = this.live.get(taskId);
          if (t) t.killedAt = Date.now();
          void this.opts.client
            .kill(taskId, agentId)
            .catch(this.bestEffort("kill", { taskId, agentId }));
        }
        reject(opts.signal!.reason);
        // Perhaps nothing waits for offers any more.
        void this.wantOffers();
      };
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      opts.signal?.addEventListener("abort", abort, { once: true });
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => {
          opts.signal?.removeEventListener("abort", abort);
          fn(v);
        };
      p.resolve = settle(resolve);
      p.reject = settle(reject);
      this.pending.set(taskId, p);
      const h = this.held.get(agentId);
      // A held offer from before our last task there ended lacks what that task freed (its
      // reservation comes back in an offer of its own): launched from it, the step would
      // reserve anew. The agent's next offer is answered together with the held one.
      if (h && h.at >= (this.endedAt.get(agentId) ?? 0)) {
        this.held.delete(agentId);
        this.onOffers([h.offer]).catch((err: Error) =>
          this.opts.logger?.warn({ err: err.message, agentId }, "held offer not used"),
        );
      } else void this.wantOffers();
    });
  }

  /**
   * Keeps offers coming while an agent is lost: its first offer after it returns is how the
   * framework learns it is back. Off again once it is.
   */
  watch(agentId: string, on: boolean): void {
    if (on === this.watched.has(agentId)) return;
    if (on) this.watched.add(agentId);
    else this.watched.delete(agentId);
    void this.wantOffers();
  }

  private wantOffers(): Promise<void> {
    return this.offerWants.run();
  }

  private async reviveOrSuppress(): Promise<void> {
    // A REVIVE the master handled before a DECLINE sent earlier would be undone by it.
    while (this.declining.size > 0) await Promise.all([...this.declining]);
    let waiting = false;
    let blocked = false;
    for (const p of this.pending.values()) {
      if (p.launched) continue;
      waiting = true;
      // A decline filter on an agent we now need would withhold its offers: REVIVE clears it.
      if (this.filtered.has(p.agentId)) {
        blocked = true;
        break;
      }
    }
    const want = waiting || this.watched.size > 0 || this.releasing.size > 0;
    if (!blocked) for (const a of this.watched) if (this.filtered.has(a)) blocked = true;
    if (!blocked) for (const a of this.releasing.keys()) if (this.filtered.has(a)) blocked = true;
    if (want) {
      clearTimeout(this.suppressTimer);
      this.suppressTimer = undefined;
    }
    try {
      if (want && (this.suppressed || blocked)) {
        this.suppressed = false;
        this.filtered.clear();
        await this.opts.client.revive([this.opts.role]);
      } else if (!want && !this.suppressed) {
        // Only after a quiet moment: between two steps nothing may wait for a few
        // milliseconds, and a REVIVE right after a SUPPRESS has the master offer every agent.
        const since = this.quietSince ?? Date.now();
        this.quietSince = since;
        const wait = since + (this.opts.suppressAfterMs ?? 1000) - Date.now();
        if (wait > 0) {
          this.suppressTimer ??= setTimeout(() => {
            this.suppressTimer = undefined;
            void this.wantOffers();
          }, wait).unref();
          return;
        }
        this.suppressed = true;
        await this.opts.client.suppress([this.opts.role]);
      }
      if (want) this.quietSince = undefined;
    } catch {
      // Not subscribed right now: the next subscription starts unsuppressed.
      this.suppressed = false;
    }
  }

  /**
   * Asks Mesos for offers once (REVIVE) so that agents that joined or came back while the
   * runner was suppressed are seen; with nothing to launch it suppresses again afterwards.
   */
  async discover(): Promise<void> {
    if (!this.suppressed && this.filtered.size === 0) return;
    this.suppressed = false;
    this.filtered.clear();
    await this.opts.client.revive([this.opts.role]).catch(this.bestEffort("revive"));
  }

  private async onSubscribed(): Promise<void> {
    this.dropHeld();
    this.suppressed = false;
    this.filtered.clear();
    // Launches of a previous scheduler process that nobody waits for any more are killed:
    // their steps run again under new task ids.
    await this.records
      .load()
      .catch((err: Error) =>
        this.opts.logger?.warn({ err: err.message }, "launch records not readable"),
      );
    for (const [taskId, rec] of this.records.all()) {
      if (this.pending.has(taskId)) continue;
      this.live.set(taskId, { agentId: rec.agentId, killedAt: Date.now() });
      void this.opts.client
        .kill(taskId, rec.agentId)
        .catch(this.bestEffort("kill", { taskId, agentId: rec.agentId }));
    }
    await this.fingerprints
      .load()
      .catch((err: Error) =>
        this.opts.logger?.warn({ err: err.message }, "executor fingerprints not readable"),
      );
    for (const [agentId, fp] of this.fingerprints.all()) this.executorFps.set(agentId, fp);
    // Not awaited: events after SUBSCRIBED wait for this stage, not for a REVIVE's answer.
    void this.wantOffers();
  }

  private async onOffers(batch: Offer[]): Promise<void> {
    // An agent's offers in one batch are one answer (see agent-offers.ts), and so is one it
    // arrives beside, still held.
    const offers = byAgent(batch).map((o) => {
      const h = this.held.get(o.agent_id.value);
      if (!h || idsOf(h.offer).some((id) => idsOf(o).some((x) => x.value === id.value))) return o;
      this.held.delete(o.agent_id.value);
      return mergeOffers(h.offer, o);
    });
    // Offers of different agents are answered side by side (each launch waits for its record
    // to be durable); what each offer is for is decided synchronously first.
    const work: Promise<void>[] = [];
    const idle: Offer[] = [];
    const busy: Offer[] = [];
    // One pass over the tasks for the whole batch: a large cluster sends offers of
    // hundreds of agents at once while as many steps wait.
    const waitingOn = new Map<string, Pending>();
    const busyAgents = this.busyAgents();
    for (const p of this.pending.values()) {
      if (p.launched) continue;
      // A step of the agent's maintenance goes first (the others may wait for its window).
      const first = waitingOn.get(p.agentId);
      // A step also goes before a probe (the probe's answer can wait for the next offer).
      if (!first || (p.maintenance && !first.maintenance) || (first.probe && !p.probe))
        waitingOn.set(p.agentId, p);
    }
    for (const offer of offers) {
      const agentId = offer.agent_id.value;
      const waiting = waitingOn.get(agentId);
      const leaving = this.releasing.get(agentId);
      if (!waiting && leaving) work.push(this.releaseWith(offer, leaving));
      else if (!waiting) idle.push(offer);
      else if (busyAgents.has(agentId)) busy.push(offer);
      else if (!waiting.maintenance && this.heldForMaintenance(offer)) busy.push(offer);
      else if (waiting.probe) {
        // Nothing to launch: the offer waits for the step the caller starts next.
        this.pending.delete(waiting.taskId);
        waiting.resolve(undefined);
        idle.push(offer);
      } else {
        busyAgents.add(agentId); // a second offer of this agent in the batch waits
        // Claimed before the first await: offers arriving meanwhile must not launch the same
        // task id a second time (Mesos answers TASK_ERROR "duplicate ID" to the second one).
        waiting.launched = true;
        work.push(
          this.launch(offer, waiting).then(
            (launched) => {
              if (!launched) waiting.launched = false;
            },
            (err: Error) => {
              this.opts.logger?.warn({ err: err.message, agentId }, "launch failed");
              if (!(err instanceof LaunchUnconfirmed)) {
                waiting.launched = false;
                return;
              }
              // Mesos may have the task: its id is never used again. The step's next attempt
              // runs under a new one once the kill of this one has settled.
              if (this.pending.get(waiting.taskId) !== waiting) return;
              this.pending.delete(waiting.taskId);
              waiting.reject(new NodeTaskError(err.message, "TASK_ERROR", false));
            },
          ),
        );
      }
    }
    if (busy.length > 0) {
      // Back soon: the running task's resources join the offer once it ends.
      work.push(
        this.opts.client
          .decline(busy.flatMap(idsOf), { refuse_seconds: BUSY_REFUSE_SECONDS })
          .catch(this.bestEffort("decline of busy agents' offers")),
      );
    }
    if (idle.length > 0) this.hold(idle);
    // The steps just given an offer wait no more: the quiet time before offers are
    // suppressed starts now, not after the launches' round trips.
    if (work.length > 0) void this.wantOffers();
    await Promise.all(work);
    await this.wantOffers();
  }

  /**
   * Whether the offer announces a maintenance window of its agent that a step started now
   * would run into (it begins within maintenanceLeadMs, or has begun and not ended). The steps
   * waiting there are told why they wait; the offer is declined like a busy agent's, so the
   * question comes back soon.
   */
  private heldForMaintenance(offer: Offer): boolean {
    if (!offer.unavailability) return false;
    const w = windowOf({ unavailability: offer.unavailability });
    const now = Date.now();
    if (w.endMs !== undefined && now >= w.endMs) return false;
    if (now + (this.opts.maintenanceLeadMs ?? 300_000) < w.startMs) return false;
    const agentId = offer.agent_id.value;
    const iso = (ms: number) => new Date(ms).toISOString();
    const why = `waiting: ${offer.hostname} has a maintenance window from ${iso(w.startMs)}${
      w.endMs !== undefined ? ` until ${iso(w.endMs)}` : " (no end set)"
    }; no new step starts there before it is over`;
    for (const p of this.pending.values()) {
      if (p.agentId !== agentId || p.launched || p.maintenance || p.heldFor === why) continue;
      p.heldFor = why;
      p.progress?.(why);
      p.onHeld?.(why);
      this.opts.logger?.info({ agentId, stepId: p.spec.stepId }, why);
    }
    return true;
  }

  /**
   * Gives back everything this framework holds on an agent that leaves the cluster: its
   * executor is shut down and the reservations its offers show are unreserved. Resolves once
   * an offer of the agent shows neither; rejects with the signal's reason when aborted.
   */
  release(
    agentId: string,
    opts: { signal?: AbortSignal; progress?: (message: string) => void } = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) return reject(opts.signal.reason as Error);
      const abort = () => {
        if (this.releasing.get(agentId) === r) this.releasing.delete(agentId);
        reject(opts.signal!.reason as Error);
        void this.wantOffers();
      };
      const r: Releasing = {
        resolve: () => {
          opts.signal?.removeEventListener("abort", abort);
          resolve();
        },
        reject: (err) => {
          opts.signal?.removeEventListener("abort", abort);
          reject(err);
        },
        ...(opts.progress ? { progress: opts.progress } : {}),
      };
      opts.signal?.addEventListener("abort", abort, { once: true });
      this.releasing.get(agentId)?.reject(new Error("a newer release of the agent took over"));
      this.releasing.set(agentId, r);
      const h = this.held.get(agentId);
      if (h) {
        this.held.delete(agentId);
        this.onOffers([h.offer]).catch((err: Error) =>
          this.opts.logger?.warn({ err: err.message, agentId }, "held offer not used"),
        );
      } else void this.wantOffers();
    });
  }

  /** One offer of an agent being released: one more move towards holding nothing there. */
  private async releaseWith(offer: Offer, r: Releasing): Promise<void> {
    const agentId = offer.agent_id.value;
    const executorId = this.opts.executorFor(agentId).info.executor_id.value;
    if ((offer.executor_ids ?? []).some((e) => e.value === executorId)) {
      // Its resources come back (still reserved) in an offer once it has gone.
      if (r.shutdownAt === undefined || Date.now() - r.shutdownAt > KILL_WAIT_MS) {
        r.shutdownAt = Date.now();
        r.progress?.("shutting down the executor");
        await this.opts.client.shutdown(executorId, agentId).catch((err: Error) => {
          this.opts.logger?.warn({ err: err.message, agentId }, "shutdown not sent");
        });
      }
      await this.opts.client
        .decline(idsOf(offer), { refuse_seconds: 1 })
        .catch(this.bestEffort("decline", { agentId: offer.agent_id.value }));
      return;
    }
    const ours = (offer.resources ?? []).filter((x) => isOurs(x, this.opts.role, this.opts.owner));
    if (ours.length > 0) {
      const amount = amountOf(ours, () => true);
      r.progress?.(`unreserving ${amount.cpus} cpus and ${amount.memMb} MB`);
      // The next offer of the agent says whether it took.
      await this.opts.client
        .accept(idsOf(offer), [{ type: "UNRESERVE", unreserve: { resources: ours } }], {
          refuse_seconds: 1,
        })
        .catch((err: Error) =>
          this.opts.logger?.warn({ err: err.message, agentId }, "unreserve not confirmed"),
        );
      return;
    }
    if (this.releasing.get(agentId) !== r) return;
    this.releasing.delete(agentId);
    this.opts.logger?.info({ agentId }, "agent released: no executor, no reservation");
    r.resolve();
    this.hold([offer]);
  }

  /** The offers kept for steps that may become due, by agent. */
  heldOffers(): Map<string, string> {
    return new Map([...this.held].map(([agentId, h]) => [agentId, h.offer.id.value]));
  }

  /** Keeps idle agents' offers for holdIdleMs; a sweep declines those still unused. */
  private hold(offers: Offer[]): void {
    const holdMs = this.opts.holdIdleMs ?? 1000;
    if (holdMs <= 0) {
      void this.declineIdle(offers);
      return;
    }
    const now = Date.now();
    const busy = this.busyAgents();
    for (const offer of offers) {
      const agentId = offer.agent_id.value;
      // A second offer of a held agent joins it: both are answered together.
      const before = this.held.get(agentId);
      const merged = before ? mergeOffers(before.offer, offer) : offer;
      // Reserved leftovers a launch would have given back (a crash, an offer split when a
      // task ended) are given back now: the agent's last step may be behind it.
      const extra = busy.has(agentId) ? [] : this.reservedBeyondNeed(merged);
      if (extra.length > 0) {
        this.held.delete(agentId);
        void this.giveBack(merged, extra);
        continue;
      }
      // The hold starts again: the agent's newest resources are as fresh as a new offer.
      this.held.set(agentId, { offer: merged, at: now });
    }
    this.heldSweep ??= setTimeout(() => this.sweepHeld(holdMs), holdMs).unref();
  }

  private sweepHeld(holdMs: number): void {
    this.heldSweep = undefined;
    const due = Date.now() - holdMs;
    const stale: Offer[] = [];
    for (const [agentId, h] of this.held) {
      if (h.at > due) continue;
      this.held.delete(agentId);
      stale.push(h.offer);
    }
    if (stale.length > 0) void this.declineIdle(stale).then(() => this.wantOffers());
    if (this.held.size > 0) {
      const next = Math.min(...[...this.held.values()].map((h) => h.at)) + holdMs - Date.now();
      this.heldSweep = setTimeout(() => this.sweepHeld(holdMs), Math.max(10, next)).unref();
    }
  }

  private dropHeld(): void {
    this.held.clear();
    clearTimeout(this.heldSweep);
    this.heldSweep = undefined;
  }

  /**
   * What we keep reserved on an agent between steps, as its offers show it: one task's
   * resources, and the executor's too while the executor is not running.
   */
  private reservationNeed(agentId: string, executorRunning: boolean): Amount {
    if (executorRunning) return this.taskResources;
    const exec = this.opts.executorFor(agentId).resources;
    return {
      cpus: exec.cpus + this.taskResources.cpus,
      memMb: exec.memMb + this.taskResources.memMb,
    };
  }

  /** Our reserved resources in an (agent's) offer beyond what the agent keeps between steps. */
  private reservedBeyondNeed(offer: Offer): Resource[] {
    const agentId = offer.agent_id.value;
    const executorId = this.opts.executorFor(agentId).info.executor_id.value;
    const running = (offer.executor_ids ?? []).some((e) => e.value === executorId);
    const mine = (r: Resource) => isOurs(r, this.opts.role, this.opts.owner);
    const resources = offer.resources ?? [];
    const excess = excessOf(amountOf(resources, mine), this.reservationNeed(agentId, running));
    return takeFrom(resources, mine, excess);
  }

  /** Unreserves leftovers from an idle agent's offer (the rest of the offer goes back). */
  private async giveBack(offer: Offer, extra: Resource[]): Promise<void> {
    const agentId = offer.agent_id.value;
    const amount = amountOf(extra, () => true);
    this.opts.logger?.info(
      { agentId, cpus: amount.cpus, memMb: amount.memMb },
      "reserved leftovers given back",
    );
    await this.opts.client
      .accept(idsOf(offer), [{ type: "UNRESERVE", unreserve: { resources: extra } }], {
        refuse_seconds: 1,
      })
      .catch((err: Error) =>
        this.opts.logger?.warn({ err: err.message, agentId }, "leftovers not given back"),
      );
  }

  /** Declines offers nothing here needs, with the long filter (a REVIVE lifts it). */
  private declineIdle(offers: Offer[]): Promise<void> {
    for (const o of offers) this.filtered.add(o.agent_id.value);
    const sent: Promise<void> = this.opts.client
      .decline(offers.flatMap(idsOf), { refuse_seconds: this.opts.declineSeconds ?? 120 })
      .catch(this.bestEffort("decline"))
      .finally(() => this.declining.delete(sent));
    this.declining.add(sent);
    return sent;
  }

  /**
   * The agents where one of our tasks runs or is being launched, or where a killed one has
   * not ended yet (for a while).
   */
  private busyAgents(): Set<string> {
    const out = new Set<string>();
    for (const p of this.pending.values()) if (p.launched) out.add(p.agentId);
    const now = Date.now();
    for (const t of this.live.values()) {
      if (t.killedAt === undefined || now - t.killedAt < KILL_WAIT_MS) out.add(t.agentId);
    }
    return out;
  }

  /** Launches the step's task with this offer; false when the offer cannot hold it. */
  private async launch(offer: Offer, p: Pending): Promise<boolean> {
    const { role, owner, principal } = this.opts;
    const resources = offer.resources ?? [];
    const exec = this.opts.executorFor(p.agentId);
    const executorId = exec.info.executor_id.value;
    const fp = executorFingerprint(exec.info);
    const running = (offer.executor_ids ?? []).some((e) => e.value === executorId);
    const known = this.executorFps.get(p.agentId);
    if (running && known !== undefined && known !== fp) {
      // The agent runs our executor as an older scheduler launched it (another address or
      // version): Mesos would refuse the task. Shut it down and launch once it has gone.
      const asked = this.replacing.get(p.agentId);
      if (asked === undefined || Date.now() - asked > KILL_WAIT_MS) {
        this.replacing.set(p.agentId, Date.now());
        this.opts.logger?.warn(
          { agentId: p.agentId, executorId },
          "replacing an outdated executor",
        );
        await this.opts.client
          .shutdown(executorId, p.agentId)
          .catch(this.bestEffort("executor shutdown", { agentId: p.agentId, executorId }));
      }
      await this.opts.client.decline(idsOf(offer), { refuse_seconds: BUSY_REFUSE_SECONDS });
      return false;
    }
    if (!running) this.replacing.delete(p.agentId);
    const need = this.reservationNeed(p.agentId, running);
    const mine = (r: Resource) => isOurs(r, role, owner);
    const have = amountOf(resources, mine);
    const operations: Operation[] = [];
    // Nothing else of ours runs here (one task per agent): reserved resources on offer
    // beyond this launch are left over from a crash or an older layout. Give them back.
    const extra = takeFrom(resources, mine, excessOf(have, need));
    if (extra.length > 0) operations.push({ type: "UNRESERVE", unreserve: { resources: extra } });
    if (!covers(have, need)) {
      const missing = excessOf(need, have);
      const free = amountOf(resources, isUnreserved);
      if (!covers(free, missing)) {
        this.opts.logger?.warn(
          { agentId: p.agentId, need, reserved: have, unreserved: free },
          "agent does not offer enough resources for the step yet",
        );
        await this.opts.client.decline(idsOf(offer), { refuse_seconds: 1 });
        return false;
      }
      operations.push({
        type: "RESERVE",
        reserve: { resources: reservedResources(missing, role, principal, owner) },
      });
    }
    const executor: ExecutorInfo = {
      ...exec.info,
      type: "CUSTOM",
      resources: reservedResources(exec.resources, role, principal, owner),
    };
    const task: TaskInfo = {
      name: `${p.spec.kind} (${p.spec.stepId})`,
      task_id: { value: p.taskId },
      agent_id: offer.agent_id,
      resources: reservedResources(this.taskResources, role, principal, owner) as Resource[],
      executor,
      data: encodeSpec(p.spec),
      labels: { labels: [{ key: "step", value: p.spec.stepId }] },
    };
    operations.push({ type: "LAUNCH", launch: { task_infos: [task] } });
    // The intent is durable before Mesos hears of it.
    const rec: TaskRecord = {
      agentId: p.agentId,
      stepId: p.spec.stepId,
      kind: p.spec.kind,
      launchedAt: Date.now(),
    };
    await this.records.load();
    await this.records.set(p.taskId, rec);
    if (known !== fp) {
      await this.fingerprints.load();
      await this.fingerprints.set(p.agentId, fp);
      this.executorFps.set(p.agentId, fp);
    }
    this.live.set(p.taskId, { agentId: p.agentId });
    p.toRunningExecutor = running;
    try {
      await this.opts.client.accept(idsOf(offer), operations, { refuse_seconds: 1 });
    } catch (err) {
      // Sent but unanswered (a timeout, a dropped connection): it may have launched.
      const t = this.live.get(p.taskId);
      if (t) t.killedAt = Date.now();
      void this.opts.client
        .kill(p.taskId, p.agentId)
        .catch(this.bestEffort("kill", { taskId: p.taskId, agentId: p.agentId }));
      throw new LaunchUnconfirmed(
        `launch of ${p.taskId} not confirmed by Mesos: ${(err as Error).message}`,
      );
    }
    this.opts.logger?.info(
      {
        taskId: p.taskId,
        agentId: p.agentId,
        ops: operations.map((o) => o.type).join("+"),
      },
      "node step launched",
    );
    p.silence = setTimeout(() => this.launchLost(p), this.opts.launchTimeoutMs ?? 120_000);
    p.silence.unref();
    return true;
  }

  /** Mesos never said a word about a launched task: give up on it, retry the step. */
  private launchLost(p: Pending): void {
    if (this.pending.get(p.taskId) !== p) return;
    const seconds = Math.round((this.opts.launchTimeoutMs ?? 120_000) / 1000);
    this.opts.logger?.warn({ taskId: p.taskId, agentId: p.agentId }, "no word of a launched task");
    this.pending.delete(p.taskId);
    const t = this.live.get(p.taskId);
    if (t) t.killedAt = Date.now();
    void this.opts.client
      .kill(p.taskId, p.agentId)
      .catch(this.bestEffort("kill", { taskId: p.taskId, agentId: p.agentId }));
    p.reject(
      new NodeTaskError(
        `no status update for ${p.taskId} in ${seconds} s after its launch (still staging)`,
        "TASK_STAGING",
        false,
      ),
    );
  }

  private async onUpdate(status: TaskStatus): Promise<void> {
    const taskId = status.task_id.value;
    const p = this.pending.get(taskId);
    if (p?.silence) {
      clearTimeout(p.silence);
      delete p.silence;
    }
    if (!isTerminalTaskState(status.state)) {
      if (
        p &&
        status.message &&
        (status.state === "TASK_RUNNING" || status.state === "TASK_STARTING")
      ) {
        p.progress?.(status.message);
      }
      return;
    }
    const endedOn = this.live.get(taskId)?.agentId ?? p?.agentId;
    if (endedOn !== undefined) this.endedAt.set(endedOn, Date.now());
    this.live.delete(taskId);
    this.pending.delete(taskId);
    let unsaved: unknown;
    try {
      await this.forgetLaunch(taskId);
    } catch (err) {
      unsaved = err;
    }
    // The step learns its outcome either way; only the acknowledgement waits for the store.
    if (p) await this.settle(p, status);
    // The agent is free again: a step waiting for it asks for its offer.
    void this.wantOffers();
    if (unsaved !== undefined) throw unsaved;
  }

  /**
   * Removes an ended task's launch record, durably. When the write fails the record is put
   * back, so that the update Mesos resends (this one is not acknowledged) removes it again.
   */
  private async forgetLaunch(taskId: string): Promise<void> {
    const rec = this.records.get(taskId);
    if (rec === undefined) return;
    try {
      await this.records.delete(taskId);
    } catch (err) {
      if (this.records.get(taskId) === undefined) {
        this.records
          .set(taskId, rec)
          .catch((e: Error) =>
            this.opts.logger?.warn({ err: e.message, taskId }, "launch record not written back"),
          );
      }
      throw err;
    }
  }

  /** Hands a task's end to the step waiting for it. */
  private async settle(p: Pending, status: TaskStatus): Promise<void> {
    const taskId = p.taskId;
    const result = decodeResult(status.data);
    if (status.state === "TASK_FINISHED") {
      if (result && result.ok) p.resolve(result.data);
      else p.reject(new NodeTaskError(`${taskId} finished without a result`, status.state, false));
      return;
    }
    const message =
      (result && !result.ok ? result.error : undefined) ??
      status.message ??
      `${status.state}${status.reason ? ` (${status.reason})` : ""}`;
    // Mesos refused a task for an executor the agent runs: that executor was launched with
    // an older ExecutorInfo (a scheduler restarted on another address or port, or
    // upgraded). Shut it down, and the step's retry starts a current one.
    if (launchRefusal(status) === "task-invalid" && p.toRunningExecutor) {
      const executorId = this.opts.executorFor(p.agentId).info.executor_id.value;
      this.opts.logger?.warn(
        { agentId: p.agentId, executorId, reason: status.reason },
        "replacing a stale executor",
      );
      // Until it has gone, offers still list it: launch nothing there meanwhile.
      this.executorFps.set(p.agentId, "outdated");
      this.replacing.set(p.agentId, Date.now());
      await this.opts.client.shutdown(executorId, p.agentId).catch((err: Error) => {
        this.opts.logger?.warn({ err: err.message, agentId: p.agentId }, "shutdown not sent");
      });
    }
    // Mesos refusing a launch (TASK_ERROR) is retried too: the runner builds every task
    // itself, so a refusal comes from a race (the executor ended between the offer and
    // the ACCEPT, resources moved), which the next attempt, under a new task id, avoids.
    // Only the step itself says when retrying cannot help.
    const permanent = result !== undefined && !result.ok && result.permanent === true;
    const err = new NodeTaskError(message, status.state, permanent);
    p.reject(permanent ? Object.assign(new PermanentStepError(message), { cause: err }) : err);
  }

  /** Steps waiting for an offer or running. */
  get inFlight(): number {
    return this.pending.size;
  }
}
