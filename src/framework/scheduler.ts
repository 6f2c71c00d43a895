// The framework's scheduler process, platform-neutral: subscribes to Mesos with a persisted
// framework id, learns agents from offers, reconciles tasks after every subscription, runs
// node steps through the node-task runner, drives plans with the plan engine, and lets the
// storage platform compute those plans from desired and observed state.
import type { MasterSource } from "../mesos/scheduler/master-source.js";
import { SchedulerClient } from "../mesos/scheduler/client.js";
import { TaskReconciler } from "../mesos/scheduler/reconciler.js";
import { SchedulerEventPipeline, acknowledgeStage } from "../mesos/scheduler/pipeline.js";
import type { Credential } from "../mesos/credentials.js";
import type { FrameworkInfo, Offer, TaskStatus } from "../mesos/types/common.js";
import type { FailureEvent, SchedulerMessageEvent } from "../mesos/types/scheduler.js";
import type { MesosLogger } from "../mesos/logger.js";
import type { StateStore } from "../store/store.js";
import type { PlatformHealth } from "./health/monitor.js";
import { AgentRegistry } from "./agents.js";
import { NodeTaskRunner, type NodeTaskRunnerOptions } from "./node-task/runner.js";
import { PlanEngine } from "./plan/engine.js";
import type { StepContext } from "./plan/types.js";
import { SecretVault } from "./secrets/vault.js";
import type { Secret } from "../common/secret.js";
import {
  InverseOfferResponder,
  type MaintenanceAnswer,
  type MaintenanceWindow,
  type NodeMaintenanceView,
} from "./maintenance/inverse-offers.js";
import { redactSecrets } from "../common/secret.js";
import type {
  DecommissionRequest,
  DecommissionStarted,
  NodeDecommission,
} from "./node-lifecycle.js";

export interface PlatformContext {
  engine: PlanEngine;
  agents: AgentRegistry;
  store: StateStore;
  logger: MesosLogger;
  /** Tells operators of a decision or happening (the event stream), with its reason. */
  notify?(level: "info" | "warn", message: string): void;
  /** Runs a node step of a plan step on an agent (secrets go by single-use token). */
  runNode(
    agentId: string,
    kind: string,
    params: unknown,
    ctx: StepContext,
    /** `maintenance`: a step of the agent's maintenance, launched inside its window too.
     *  `onHeld`: told when the agent's maintenance window holds the node step back. */
    opts?: { secrets?: string[]; maintenance?: boolean; onHeld?: (why: string) => void },
  ): Promise<unknown>;
  /** Resolves once a node step could start on the agent now (no maintenance window begins
   *  soon or is under way); meanwhile ctx.progress says why it waits. */
  nodeStartable?(agentId: string, ctx: StepContext): Promise<void>;
  /** Gives back the agent's executor and every reservation of ours there (a node leaving). */
  releaseAgent?(agentId: string, ctx: StepContext): Promise<void>;
}

/** How many of one kind of the platform's components there are, and how many serve. */
export interface ComponentCount {
  /** The platform's own name for the kind, shown as is (e.g. `server`, `client`). */
  kind: string;
  total: number;
  /** Those up and taking part (connected, in, serving). */
  ready: number;
}

/**
 * The platform's cluster as operators see it (the `cluster` part of the API summary), in
 * words any platform can fill; its own vocabulary goes in the values, never the shape.
 */
export interface ClusterView {
  systemId: string;
  systemName: string | null;
  /** The cluster's own word for its state, when it has one. */
  state?: string;
  components: ComponentCount[];
  capacity: { rawBytes: number; usableBytes: number; freeBytes: number };
  alerts: { type: string; severity: string; message?: string }[];
  observedAt: number;
  /** More facts worth showing, by label (e.g. how the control plane is laid out). */
  details?: Record<string, string>;
}

/** The agent as a client of the storage (what maps volumes on it), as the cluster sees it. */
export interface NodeClient {
  /** The platform's name for it, shown as is. */
  kind?: string;
  /** Its identity in the cluster. */
  id?: string;
  state?: string;
}

/** What the platform knows of one agent (roles, devices, client state). */
export interface PlatformNodeInfo {
  roles: string[];
  devices: { path: string; domain?: string; pool?: string }[];
  client?: NodeClient;
  /** Why (part of) this agent is left out, in words. */
  problems?: string[];
  /** Set while the node is being, or has been, decommissioned. */
  decommission?: NodeDecommission;
  /** Installed software versions by component, in the platform's own names. */
  versions?: Record<string, string>;
  /** Set while the node is in maintenance, or on its way in or out. */
  maintenance?: NodeMaintenanceView;
}

export interface Platform {
  readonly name: string;
  start(ctx: PlatformContext): Promise<void>;
  /** Desired or observed state changed: recompute the plans. */
  recompute(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Reads the cluster from the platform (may be slow, may fail while it is not deployed).
   * The operator view caches it and calls it periodically and after plans change.
   */
  summary?(): Promise<ClusterView>;
  /** Roles, devices and client state of an agent, from the platform's own records. */
  nodeInfo?(agentId: string): PlatformNodeInfo;
  /** Why the cluster cannot be deployed as asked right now (e.g. waiting for agents). */
  problems?(): string[];
  /** Looks again at an agent's devices and adds new ones per the strategy
   *  (`POST /v1/nodes/{agentId}/rescan`). Rejects for an unknown or lost agent. */
  rescan?(agentId: string): Promise<void>;
  /** Plans a rolling upgrade of the cluster's software to a version (the `upgrade` plan);
   *  rejects with a 4xx `statusCode` and a stable `code` when refused (e.g. a downgrade). */
  upgrade?(request: { version: string; canary?: number }): Promise<void>;
  /** Moves a lost or failing node's roles to other agents (`POST /v1/nodes/{agentId}/replace`):
   *  the plan that does it, what it does, the agent taking over (if any); rejects with a 4xx
   *  `statusCode` and a stable `code` when refused. */
  replaceNode?(
    agentId: string,
    opts: { force?: boolean },
  ): Promise<{ plan: string; message: string; replacement?: string }>;
  /** A message an executor sent (Mesos MESSAGE), e.g. its host's devices. */
  onExecutorMessage?(agentId: string, data: Buffer): void;
  /** The platform's observation of its cluster and the conditions it finds there. */
  readonly health?: PlatformHealth | undefined;
  /** Capacity and plots per pool (or the platform's own unit of capacity). */
  pools?(): PoolView[];
  /** The last hour of observations, for the UI's plots. */
  history?(since?: number): HistorySample[];
  /** Takes a node out of the cluster for good (`POST /v1/nodes/{agentId}/decommission`);
   *  rejects with a NodeRequestRefused (its status, code and figures) when it may not go. */
  decommission?(agentId: string, req: DecommissionRequest): Promise<DecommissionStarted>;
  /** Lets a decommissioned node be on-boarded again (`POST /v1/nodes/{agentId}/recommission`). */
  recommission?(agentId: string): Promise<void>;
  /** Uninstall (`POST /v1/uninstall`): rejects with a 4xx `statusCode` and a `code` when
   *  refused (data would be lost); else ends all other plan work and runs its teardown plan. */
  uninstall?(opts: { destroyData: boolean }): Promise<{ planId: string }>;
  /** Mesos asks for the agent back (inverse offer): "accept" once it may go, else why not
   *  yet (declined; Mesos asks again soon). None: every inverse offer is accepted. */
  onInverseOffer?(agentId: string, window: MaintenanceWindow): Promise<MaintenanceAnswer>;
  /** The agent's maintenance window is over (it is offered again without unavailability). */
  onMaintenanceOver?(agentId: string): Promise<void>;
  /** An operator asks for a node into (`enter`) or out of maintenance
   *  (`POST /v1/nodes/{agentId}/maintenance`); rejects with a 4xx `statusCode` when refused. */
  setMaintenance?(agentId: string, enter: boolean): Promise<{ state: string; message: string }>;
}

/** One pool as operators see it (capacity in bytes). */
export interface PoolView {
  /** The object name conditions use for it (`pool/<domain>/<pool>`). */
  object: string;
  id: string;
  name: string;
  group: string;
  usedPercent: number;
  sparePercentage: number;
  capacity: { totalBytes: number; usedBytes: number; spareBytes: number; freeBytes: number };
  rebuild?: { remainingBytes: number; progressPercent: number };
}

/** One observation's figures per pool object: used %, IOPS, KB/s, latency (µs). */
export interface HistorySample {
  at: number;
  pools: Record<
    string,
    { usedPercent: number; iops: number; kbPerSecond: number; latencyMicros: number }
  >;
}

export interface FrameworkSchedulerOptions {
  master: string | MasterSource;
  frameworkInfo: Omit<FrameworkInfo, "id">;
  role: string;
  store: StateStore;
  platform: Platform;
  secrets: Record<string, Secret | undefined>;
  executorFor: NodeTaskRunnerOptions["executorFor"];
  credential?: Credential;
  logger: MesosLogger;
  /** Where maintenance decisions and platform happenings are told to operators. */
  notify?(level: "info" | "warn", message: string): void;
  /** How often a suppressed scheduler asks for offers to learn of new or returning agents
   *  (default 30 s; 0: never). */
  discoverAgentsEveryMs?: number;
  /** Test knobs. */
  retry?: { initialMs?: number; maxMs?: number };
  mesosBackoff?: { initialMs?: number; maxMs?: number };
  /** Awaited before every Mesos subscription (an elected scheduler proves it still leads). */
  beforeSubscribe?: () => Promise<void>;
}

const FRAMEWORK_ID_KEY = "framework/id";

export class FrameworkScheduler {
  readonly client: SchedulerClient;
  readonly engine: PlanEngine;
  readonly agents: AgentRegistry;
  readonly runner: NodeTaskRunner;
  /** Every Mesos event goes through it, stage by stage (see the constructor). */
  readonly pipeline: SchedulerEventPipeline;
  readonly vault: SecretVault;
  /** Answers Mesos' inverse offers with the platform's decisions. */
  readonly maintenance: InverseOfferResponder;
  readonly platform: Platform;
  readonly store: StateStore;
  readonly frameworkInfo: Omit<FrameworkInfo, "id">;
  private readonly opts: FrameworkSchedulerOptions;
  private readonly reconciler: TaskReconciler;
  private discoverTimer: NodeJS.Timeout | undefined;

  private constructor(opts: FrameworkSchedulerOptions, frameworkId: string | undefined) {
    this.opts = opts;
    this.platform = opts.platform;
    this.store = opts.store;
    this.frameworkInfo = opts.frameworkInfo;
    const secretList = Object.values(opts.secrets);
    const redact = (t: string) => redactSecrets(t, secretList);
    // Executors connect from their agent's address (the executor binds to it).
    this.vault = new SecretVault({
      secrets: opts.secrets,
      addressOf: (agentId) => this.agents.get(agentId)?.ip,
    });
    this.engine = new PlanEngine({
      store: opts.store,
      redact,
      ...(opts.retry ? { retry: opts.retry } : {}),
    });
    // A progress write the store refused (the engine writes it again; a crash reruns the step).
    this.engine.on("error", (err) =>
      opts.logger.warn({ err: redact(err.message) }, "plan progress not stored"),
    );
    this.agents = new AgentRegistry(opts.store);
    this.client = new SchedulerClient({
      master: opts.master,
      frameworkInfo: opts.frameworkInfo as FrameworkInfo,
      ...(frameworkId ? { frameworkId } : {}),
      persistFrameworkId: (id) => opts.store.set(FRAMEWORK_ID_KEY, { value: id }),
      ...(opts.credential ? { credential: opts.credential } : {}),
      ...(opts.mesosBackoff ? { backoff: opts.mesosBackoff } : {}),
      ...(opts.beforeSubscribe ? { beforeSubscribe: opts.beforeSubscribe } : {}),
      logger: opts.logger,
    });
    this.runner = new NodeTaskRunner({
      client: this.client,
      store: opts.store,
      role: opts.role,
      ...(opts.frameworkInfo.principal ? { principal: opts.frameworkInfo.principal } : {}),
      owner: opts.frameworkInfo.name,
      executorFor: opts.executorFor,
      logger: opts.logger,
    });
    this.maintenance = new InverseOfferResponder({
      party: {
        onInverseOffer: (agentId, w) =>
          opts.platform.onInverseOffer?.(agentId, w) ?? Promise.resolve("accept"),
        onMaintenanceOver: (agentId) =>
          opts.platform.onMaintenanceOver?.(agentId) ?? Promise.resolve(),
      },
      client: this.client,
      store: opts.store,
      logger: opts.logger,
      notify: (level, msg) => this.notify(level, msg),
      hostnameOf: (agentId) => this.agents.get(agentId)?.hostname,
      discover: () => void this.runner.discover(),
    });
    this.reconciler = new TaskReconciler(this.client, {
      backoff: { initialMs: 1000, maxMs: 30_000 },
    });
    // One ordered pipeline for every Mesos event, stages in this order: agents are learned
    // before the runner answers the same offers; an update's outcome is persisted (the
    // runner, the agent registry) before it is acknowledged. A failing stage is logged and
    // ends that event's run; the process carries on.
    this.pipeline = new SchedulerEventPipeline({
      logger: opts.logger,
      stages: [
        {
          name: "agents",
          on: {
            OFFERS: ({ offers }) => this.learnAgents(offers ?? []),
            FAILURE: (f) => this.onFailure(f),
          },
        },
        this.runner.stage(),
        this.maintenance.stage(),
        {
          name: "scheduler",
          on: {
            // Not awaited: reconciliation waits for the updates it asks for.
            SUBSCRIBED: () => void this.reconcile(),
            UPDATE: ({ status }) => this.agentLostBy(status),
            MESSAGE: (m) => this.onMessage(m),
          },
        },
        acknowledgeStage(this.client, opts.logger),
      ],
    });
    this.client.on("event", (e) => this.pipeline.push(e));
    this.client.on("disconnected", () => this.runner.onDisconnected());
    this.client.on("fatal", (err) =>
      opts.logger.error({ err: err.message, code: err.code }, "Mesos subscription ended for good"),
    );
    this.agents.on("changed", () => void this.recompute());
    this.agents.on("back", (a) => {
      this.runner.watch(a.agentId, false);
      void this.recompute();
    });
    this.agents.on("lost", (a) => {
      this.runner.watch(a.agentId, true);
      void this.recompute();
    });
  }

  /** Loads persisted state and builds the scheduler (not started). */
  static async create(opts: FrameworkSchedulerOptions): Promise<FrameworkScheduler> {
    const stored = await opts.store.get<{ value: string }>(FRAMEWORK_ID_KEY);
    const s = new FrameworkScheduler(opts, stored?.value);
    await s.agents.load();
    await s.maintenance.load();
    for (const a of s.agents.all()) if (a.lostSince !== undefined) s.runner.watch(a.agentId, true);
    return s;
  }

  async start(): Promise<void> {
    await this.opts.platform.start({
      engine: this.engine,
      agents: this.agents,
      store: this.opts.store,
      logger: this.opts.logger,
      notify: (level, msg) => this.notify(level, msg),
      runNode: (agentId, kind, params, ctx, o) => {
        // Bound to the task id the runner will launch this attempt under, and to its agent.
        const stepId = `${ctx.planId}/${ctx.stepId}`;
        const secretToken = o?.secrets?.length
          ? this.vault.issue(o.secrets, stepId, {
              taskId: NodeTaskRunner.taskIdFor(stepId, ctx.attempt),
              agentId,
            })
          : undefined;
        return this.runner.run(
          agentId,
          {
            stepId,
            attempt: ctx.attempt,
            kind,
            params,
            ...(secretToken ? { secretToken } : {}),
          },
          {
            signal: ctx.signal,
            progress: ctx.progress,
            ...(o?.maintenance ? { maintenance: true } : {}),
            ...(o?.onHeld ? { onHeld: o.onHeld } : {}),
          },
        );
      },
      nodeStartable: (agentId, ctx) =>
        this.runner.startable(agentId, { signal: ctx.signal, progress: ctx.progress }),
      releaseAgent: (agentId, ctx) =>
        this.runner.release(agentId, { signal: ctx.signal, progress: ctx.progress }),
    });
    this.engine.start();
    this.client.start();
    // Mesos sends a suppressed framework no offers, and offers are how agents are learned.
    const every = this.opts.discoverAgentsEveryMs ?? 30_000;
    if (every > 0) {
      this.discoverTimer = setInterval(() => {
        if (this.subscribed) void this.runner.discover();
      }, every);
      this.discoverTimer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.discoverTimer);
    this.maintenance.stop();
    this.reconciler.cancel();
    await this.engine.stop();
    await this.opts.platform.stop();
    await this.client.stop();
    await this.pipeline.settled();
  }

  /** The framework id Mesos gave us, once subscribed (or persisted from before). */
  get frameworkId(): string | undefined {
    return this.client.frameworkId;
  }

  get role(): string {
    return this.opts.role;
  }

  /** Scrubs the configured secrets out of a text. */
  redact(text: string): string {
    return redactSecrets(text, Object.values(this.opts.secrets));
  }

  get subscribed(): boolean {
    return this.client.state === "subscribed";
  }

  private notify(level: "info" | "warn", message: string): void {
    if (this.opts.notify) this.opts.notify(level, message);
    else this.opts.logger[level]({}, message);
  }

  private async recompute(): Promise<void> {
    try {
      await this.opts.platform.recompute();
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, "plan recompute failed");
    }
  }

  private async reconcile(): Promise<void> {
    const tasks = await this.runner.launchRecords().catch((err: Error) => {
      this.opts.logger.warn({ err: err.message }, "launch records not readable");
      return [];
    });
    try {
      await this.reconciler.run(tasks);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, "reconciliation interrupted");
    }
  }

  /**
   * Learns agents from offers. Their records are written in the background: the runner
   * does not need them durable, and an offer it does not answer stays held at the master.
   */
  private learnAgents(offers: Offer[]): void {
    for (const o of offers) {
      this.agents
        .observe(o)
        .catch((err: Error) =>
          this.opts.logger.error(
            { err: err.message, agentId: o.agent_id.value },
            "agent record failed",
          ),
        );
    }
  }

  private async onFailure(f: FailureEvent): Promise<void> {
    if (f.agent_id && !f.executor_id) await this.agents.markLost(f.agent_id.value);
  }

  /** The master says a task is unreachable or gone: so is its agent (persisted before the ack). */
  private async agentLostBy(status: TaskStatus): Promise<void> {
    if (
      status.agent_id &&
      (status.state === "TASK_UNREACHABLE" || status.state === "TASK_GONE_BY_OPERATOR") &&
      status.source === "SOURCE_MASTER"
    ) {
      await this.agents.markLost(status.agent_id.value);
    }
  }

  private onMessage(m: SchedulerMessageEvent): void {
    try {
      this.opts.platform.onExecutorMessage?.(m.agent_id.value, Buffer.from(m.data, "base64"));
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, "executor message refused");
    }
  }
}
