// What operators see: the cluster summary and the per-agent node view, assembled from the
// scheduler (plans, agents, subscription) and the platform (cluster observation, roles,
// devices). The platform's cluster is read periodically and after plans change, never per
// request; every change is published on the event hub for the event stream.
import type { AgentRecord, AgentRegistry } from "./agents.js";
import type { PlanEngine } from "./plan/engine.js";
import type { AggregateStatus, PlanView, StepStatus } from "./plan/types.js";
import type { ClusterView, NodeClient, Platform } from "./scheduler.js";
import type { NodeDecommission } from "./node-lifecycle.js";
import type { NodeMaintenanceView } from "./maintenance/inverse-offers.js";
import { EventHub } from "./events.js";
import { PlanChangeTracker } from "./plan-changes.js";
import { NodeIndex, type NodeQuery } from "./node-index.js";
import { HealthMonitor } from "./health/monitor.js";
import type { Condition, HealthReport, HealthStatus } from "./health/types.js";

export type Health = HealthStatus;

export interface Summary {
  platform: string;
  framework: { id?: string; subscribed: boolean; role: string; name: string };
  health: Health;
  /** Active health conditions, critical first (the same as GET /v1/health). */
  conditions: Condition[];
  problems: string[];
  cluster?: ClusterView;
  plans: { id: string; status: AggregateStatus; complete: number; total: number }[];
}

export interface NodeStep {
  planId: string;
  phaseId: string;
  stepId: string;
  name: string;
  status: StepStatus;
  message?: string;
  lastError?: string;
  updatedAt: number;
}

export interface NodeView {
  agentId: string;
  hostname: string;
  ip: string;
  faultDomain?: { region: string; zone: string };
  attributes: Record<string, string>;
  lost: boolean;
  lostSince?: number;
  lastSeen: number;
  roles: string[];
  devices: { path: string; domain?: string; pool?: string }[];
  client?: NodeClient;
  /** Set while the node is being, or has been, decommissioned (not on-boarded again). */
  decommission?: NodeDecommission;
  /** Installed software versions by component (the platform's names). */
  versions?: Record<string, string>;
  /** Set while the node is in maintenance, or on its way in or out. */
  maintenance?: NodeMaintenanceView;
  steps: NodeStep[];
  lastError?: string;
}

/** What the view reads; FrameworkScheduler provides all of it. */
export interface OperatorSource {
  engine: PlanEngine;
  agents: AgentRegistry;
  platform: Platform;
  readonly subscribed: boolean;
  readonly frameworkId: string | undefined;
  readonly role: string;
  readonly frameworkInfo: { name: string };
  redact(text: string): string;
}

export interface OperatorViewOptions {
  /** How often the platform's cluster is read (default 10 s). */
  refreshMs?: number;
  /** Wait after a plan change before reading the cluster again (default 5 s; plans change
   * often while deploying, and each read is several gateway calls). */
  settleMs?: number;
  capacity?: number;
  now?: () => number;
  /** The hub to publish on (e.g. one the logger already feeds); default: a new one. */
  events?: EventHub;
}

export class OperatorView {
  readonly events: EventHub;
  readonly source: OperatorSource;
  private readonly opts: OperatorViewOptions;
  private cluster: ClusterView | undefined;
  private clusterError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  /** When the plans last changed, and when the latest successful cluster read began. */
  private plansChangedAt = 0;
  private clusterReadAt = 0;
  private stopped = false;
  private lastSummary = "";
  private lastSummaryAt = 0;
  private readonly detach: (() => void)[] = [];
  private readonly planChanges = new PlanChangeTracker();
  readonly health: HealthMonitor;
  /** Steps by agent and status, agents in natural order: node lists and filters cost what they return. */
  readonly index: NodeIndex;

  constructor(src: OperatorSource, opts: OperatorViewOptions = {}) {
    this.source = src;
    this.opts = opts;
    this.index = new NodeIndex(src.engine, src.agents);
    this.health = new HealthMonitor({
      ...(src.platform.health ? { platform: src.platform.health } : {}),
      agents: src.agents,
      deploying: () => this.deploying(),
      noPlans: () => src.engine.planIds().length === 0,
      ...(opts.now ? { now: opts.now } : {}),
    });
    this.events =
      opts.events ??
      new EventHub({
        redact: (t) => src.redact(t),
        ...(opts.capacity ? { capacity: opts.capacity } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      });
  }

  /** Follows the engine and the agents, and starts reading the platform's cluster. */
  start(): void {
    const { engine, agents } = this.source;
    // Before the view's own listeners: what they publish reads the index.
    this.detach.push(this.index.follow());
    const onPlan = (v: PlanView) => {
      this.plansChangedAt = this.now();
      // Its status, counts and changed phases: the whole view is GET /v1/plans/{id}.
      const change = this.planChanges.change(v);
      if (change) this.events.publish("plan", change);
      this.refreshSoon();
    };
    const onStep = (planId: string, phaseId: string, step: PlanView["phases"][0]["steps"][0]) => {
      // A step's change is a plan change (plan events come throttled, after their steps').
      this.plansChangedAt = this.now();
      this.events.publish("step", { planId, phaseId, step });
      // A finished step is its step event, once; a failure gets a warning line as well.
      if (step.status === "ERROR" && step.lastError)
        this.events.log("warn", `${planId}: ${step.name} failed: ${step.lastError}`);
    };
    const onChanged = (a: AgentRecord, isNew: boolean) => {
      this.publishNode(a.agentId);
      if (isNew) this.events.log("info", `agent ${a.hostname} (${a.agentId}) joined`);
    };
    const onLost = (a: AgentRecord) => {
      this.publishNode(a.agentId);
      this.events.log("warn", `agent ${a.hostname} (${a.agentId}) lost`);
    };
    const onBack = (a: AgentRecord) => {
      this.publishNode(a.agentId);
      this.events.log("info", `agent ${a.hostname} (${a.agentId}) back`);
    };
    const onHealth = (changes: import("./health/types.js").ConditionChange[]) => {
      for (const c of changes) {
        const x = c.condition;
        const level = c.kind === "cleared" ? "info" : x.severity === "critical" ? "error" : "warn";
        const what =
          c.kind === "cleared"
            ? `cleared: ${x.type} on ${x.object}`
            : c.kind === "changed"
              ? `${x.severity} (was ${c.previous}): ${x.message}`
              : `${x.severity}: ${x.message}`;
        this.events.log(level, `health ${what}`);
      }
      this.events.publish("health", { ...this.healthReport(), changes });
    };
    this.health.on("change", onHealth);
    this.health.start();
    this.detach.push(
      () => this.health.off("change", onHealth),
      () => this.health.stop(),
    );
    engine.on("plan", onPlan);
    engine.on("step", onStep);
    agents.on("changed", onChanged);
    agents.on("lost", onLost);
    agents.on("back", onBack);
    this.detach.push(
      () => engine.off("plan", onPlan),
      () => engine.off("step", onStep),
      () => agents.off("changed", onChanged),
      () => agents.off("lost", onLost),
      () => agents.off("back", onBack),
    );
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 10_000);
    this.timer.unref();
    void this.refresh();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.detach.splice(0)) d();
    clearInterval(this.timer);
    clearTimeout(this.settle);
    await this.refreshing;
  }

  private refreshSoon(): void {
    if (this.stopped || this.settle) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      void this.refresh();
    }, this.opts.settleMs ?? 5000);
    this.settle.unref();
  }

  private publishNode(agentId: string): void {
    const n = this.node(agentId);
    if (n) this.events.publish("node", n);
  }

  /** Reads the platform's cluster now (one read at a time) and publishes the summary. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private async doRefresh(): Promise<void> {
    const read = this.source.platform.summary;
    if (read && !this.stopped) {
      const startedAt = this.now();
      try {
        this.cluster = await read.call(this.source.platform);
        // An observation older than this read (a platform that observes on its own) counts
        // from when it was made.
        this.clusterReadAt = Math.min(startedAt, this.cluster.observedAt);
        this.clusterError = undefined;
      } catch (err) {
        const msg = this.source.redact((err as Error).message);
        // Before the cluster was ever read (it is being created) that is expected: news, not
        // a warning. Once it was readable, losing it is one.
        if (msg !== this.clusterError)
          this.events.log(
            this.cluster === undefined ? "info" : "warn",
            `cluster not readable${this.cluster === undefined ? " yet" : ""}: ${msg}`,
          );
        this.clusterError = msg;
      }
    }
    if (this.stopped) return;
    // Unchanged summaries are published once a minute only: the replay buffer is for news.
    const summary = this.summary();
    const key = JSON.stringify({ ...summary, cluster: { ...summary.cluster, observedAt: 0 } });
    const now = this.opts.now?.() ?? Date.now();
    if (key === this.lastSummary && now - this.lastSummaryAt < 60_000) return;
    this.lastSummary = key;
    this.lastSummaryAt = now;
    this.events.publish("summary", summary);
  }

  plans(): PlanView[] {
    return this.source.engine.planIds().map((id) => this.source.engine.view(id));
  }

  /** Work is under way: a plan is not complete and has no step waiting for an operator. */
  private deploying(plans = this.plans()): boolean {
    return plans.some(
      (p) =>
        p.status !== "COMPLETE" &&
        !p.phases.some((ph) =>
          ph.steps.some((s) => s.status === "ERROR" && s.retryAt === undefined),
        ),
    );
  }

  /** Steps that failed and wait for an operator, as conditions of the framework's own. */
  private stepConditions(plans: PlanView[]): Condition[] {
    const out: Condition[] = [];
    for (const p of plans)
      for (const ph of p.phases)
        for (const s of ph.steps)
          if (s.status === "ERROR" && s.retryAt === undefined)
            out.push({
              type: "StepFailed",
              severity: "warning",
              object: `step/${p.id}/${s.id}`,
              message: `${p.id}: ${s.name} failed and waits for an operator${s.lastError ? `: ${s.lastError}` : ""}`,
              since: s.updatedAt,
            });
    return out;
  }

  /** The cluster's health: the same for /v1/health, /health, the summary, metrics and the CLI. */
  healthReport(plans = this.plans()): HealthReport {
    const r = this.health.report();
    const conditions = [...r.conditions, ...this.stepConditions(plans)];
    let status = r.status;
    if (status !== "critical" && conditions.length > r.conditions.length) status = "degraded";
    return { status, conditions };
  }

  summary(): Summary {
    const plans = this.plans();
    const report = this.healthReport(plans);
    const problems: string[] = [];
    if (!this.source.subscribed) problems.push("not subscribed to Mesos");
    for (const p of this.source.platform.problems?.() ?? []) problems.push(p);
    // Failed steps that will be retried are part of deploying; those that wait for an
    // operator are conditions (StepFailed).
    for (const p of plans)
      for (const ph of p.phases)
        for (const st of ph.steps)
          if (st.status === "ERROR" && st.retryAt !== undefined)
            problems.push(
              `${p.id}: ${st.name} failed${st.lastError ? `: ${st.lastError}` : ""} (will retry)`,
            );
    for (const cond of report.conditions) problems.push(cond.message);
    const c = this.cluster;
    // A platform without health checks still has its alerts counted: never plain healthy.
    if (c && !this.source.platform.health)
      for (const a of c.alerts)
        problems.push(`alert ${a.type} (${a.severity})${a.message ? `: ${a.message}` : ""}`);
    if (!c && this.clusterError && plans.every((p) => p.status === "COMPLETE"))
      problems.push(`cluster not readable: ${this.clusterError}`);
    const allDone = plans.length > 0 && plans.every((p) => p.status === "COMPLETE");
    let health: Health = report.status;
    if (plans.length === 0) health = "unknown";
    else if (health === "healthy" || health === "deploying" || health === "unknown") {
      if (!allDone) health = "deploying";
      else if (this.source.platform.summary && !c) health = "unknown";
      else if (this.source.platform.summary && this.clusterReadAt < this.plansChangedAt) {
        // The cluster was read before the plans last moved: it may not show their work yet.
        health = "deploying";
        problems.push("waiting for a read of the cluster made after the plans last changed");
        this.refreshSoon();
      } else health = problems.length === 0 ? "healthy" : "degraded";
    }
    const fwId = this.source.frameworkId;
    return {
      platform: this.source.platform.name,
      framework: {
        ...(fwId ? { id: fwId } : {}),
        subscribed: this.source.subscribed,
        role: this.source.role,
        name: this.source.frameworkInfo.name,
      },
      health,
      conditions: report.conditions,
      problems,
      ...(c ? { cluster: c } : {}),
      plans: plans.map((p) => ({ id: p.id, status: p.status, ...p.progress })),
    };
  }

  nodes(): NodeView[] {
    return this.index.allAgents().map((a) => this.build(a));
  }

  /** The nodes that match, one page of them, and the cursor of the next page. */
  nodePage(q: NodeQuery): { nodes: NodeView[]; next?: string } {
    const page = this.index.page(q);
    return {
      nodes: page.agents.map((a) => this.build(a)),
      ...(page.next ? { next: page.next } : {}),
    };
  }

  node(agentId: string): NodeView | undefined {
    const a = this.source.agents.get(agentId);
    return a ? this.build(a) : undefined;
  }

  private build(a: AgentRecord): NodeView {
    const info = this.source.platform.nodeInfo?.(a.agentId);
    const steps: NodeStep[] = this.index.steps.stepsOf(a.agentId).map(({ planId, step }) => {
      const s = step.view;
      return {
        planId,
        phaseId: step.phase.id,
        stepId: s.id,
        name: s.name,
        status: s.status,
        ...(s.message !== undefined ? { message: s.message } : {}),
        ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
        updatedAt: s.updatedAt,
      };
    });
    const newestError = steps
      .filter((s) => s.lastError && s.status !== "COMPLETE")
      .sort((x, y) => y.updatedAt - x.updatedAt)[0]?.lastError;
    const lastError = newestError ?? info?.problems?.[0];
    return {
      agentId: a.agentId,
      hostname: a.hostname,
      ip: a.ip,
      ...(a.faultDomain ? { faultDomain: a.faultDomain } : {}),
      attributes: a.attributes,
      lost: a.lostSince !== undefined,
      ...(a.lostSince !== undefined ? { lostSince: a.lostSince } : {}),
      lastSeen: a.lastSeen,
      roles: info?.roles ?? [],
      devices: info?.devices ?? [],
      ...(info?.client ? { client: info.client } : {}),
      ...(info?.decommission ? { decommission: info.decommission } : {}),
      ...(info?.versions ? { versions: info.versions } : {}),
      ...(info?.maintenance ? { maintenance: info.maintenance } : {}),
      steps,
      ...(lastError ? { lastError } : {}),
    };
  }
}
