// ScaleIO's side of "watch the cluster and keep it healthy": runs the observer, observes
// again soon after every step the framework finishes, and after each observation recomputes
// the `recovery` plan from what it found — only for what the framework made (or, with
// `--repair existing`, what the operator handed over) and only for agents whose own deploy
// steps are done.
import type { PlanEngine } from "../../framework/plan/engine.js";
import type { StepContext, StepView } from "../../framework/plan/types.js";
import type { AgentRegistry } from "../../framework/agents.js";
import type { MesosLogger } from "../../mesos/logger.js";
import { CoalescedRunner } from "../../common/coalesced-runner.js";
import type { ClusterObserver } from "./observe/observer.js";
import type { ObservedCluster } from "./observe/model.js";
import { observedUntil } from "./observe/wait.js";
import { poolObject } from "./observe/checks.js";
import {
  RECOVERY_PLAN_ID,
  RepairBackoff,
  buildRecoveryPlan,
  type RecoveryAgent,
} from "./recovery-plan.js";
import type { StorageLayout } from "./topology/storage.js";
import type { ClusterView, HistorySample, PoolView } from "../../framework/scheduler.js";
import {
  CapacityRemediation,
  type CapacityRemediationOptions,
} from "./remediate/capacity-remediation.js";

export type RepairScope = "owned" | "existing" | "off";

export interface ClusterHealthOptions {
  observer: ClusterObserver;
  /** `owned`: repair what the framework made (provisioned clusters); `existing`: also an
   *  existing cluster handed over; `off`: report only. */
  repair: RepairScope;
  /** The framework provisioned this cluster (else it attached to an existing one). */
  provisioned: boolean;
  maxParallel?: number;
  backoff?: RepairBackoff;
  settleTimeoutMs?: number;
  /** What to do when a pool runs almost full (auto-grow, capacity hook); nothing when absent. */
  capacity?: CapacityRemediationOptions;
}

/** What the health side reads from and asks of the platform. */
export interface ClusterHealthHost {
  engine: PlanEngine;
  agents: AgentRegistry;
  logger: MesosLogger;
  layout(): StorageLayout | undefined;
  /** Spare the policy wants, by `<domain>/<pool>` (pools the operator left without a value). */
  neededSpare(): ReadonlyMap<string, number>;
  managers(): string[];
  runNode(agentId: string, kind: string, params: unknown, ctx: StepContext): Promise<unknown>;
  setSpare(poolId: string, percent: number, ctx: StepContext): Promise<void>;
  rejoin(agentId: string, ctx: StepContext): Promise<void>;
}

const DEPLOY = "deploy";

export class ClusterHealth {
  readonly observer: ClusterObserver;
  private readonly opts: ClusterHealthOptions;
  private readonly host: ClusterHealthHost;
  private readonly backoff: RepairBackoff;
  private readonly planner: CoalescedRunner;
  private readonly capacity: CapacityRemediation | undefined;
  private readonly remediator: CoalescedRunner;
  private readonly detach: (() => void)[] = [];
  /** By recovery step id: when its object's current break began (see noteBreaks). */
  private readonly brokenSince = new Map<string, number>();

  constructor(opts: ClusterHealthOptions, host: ClusterHealthHost) {
    this.opts = opts;
    this.host = host;
    this.observer = opts.observer;
    this.backoff = opts.backoff ?? new RepairBackoff();
    this.planner = new CoalescedRunner(() => this.replan());
    const capacity = opts.capacity
      ? new CapacityRemediation(opts.capacity, {
          agentByIp: (ip) => {
            const a = host.agents.all().find((x) => x.ip === ip);
            return a
              ? { agentId: a.agentId, hostname: a.hostname, ip, lost: a.lostSince !== undefined }
              : undefined;
          },
          busyAgents: () => this.agentsWithOpenSteps(),
        })
      : undefined;
    this.capacity = capacity?.enabled ? capacity : undefined;
    // Its own runner: a slow capacity hook never holds up the recovery plan.
    this.remediator = new CoalescedRunner(async () => {
      const o = this.observer.latest;
      if (o && this.capacity) await this.capacity.onObserved(o, this.observer.findings);
    });
  }

  get repairs(): boolean {
    return (
      this.opts.repair === "existing" || (this.opts.repair === "owned" && this.opts.provisioned)
    );
  }

  start(): void {
    const onObserved = () => {
      void this.planner
        .run()
        .catch((err: Error) =>
          this.host.logger.error({ err: err.message }, "recovery plan not computed"),
        );
      if (this.capacity)
        void this.remediator
          .run()
          .catch((err: Error) =>
            this.host.logger.error({ err: err.message }, "capacity remediation failed"),
          );
    };
    const onFailed = (err: Error) =>
      this.host.logger.debug({ err: err.message }, "cluster not observable yet");
    // Every change the framework makes is looked at soon after, not at the next interval.
    const onStep = (_plan: string, _phase: string, s: { status: string }) => {
      if (s.status === "COMPLETE") this.observer.observeSoon();
    };
    this.observer.on("observed", onObserved);
    this.observer.on("failed", onFailed);
    this.host.engine.on("step", onStep);
    this.detach.push(
      () => this.observer.off("observed", onObserved),
      () => this.observer.off("failed", onFailed),
      () => this.host.engine.off("step", onStep),
    );
    this.observer.start();
  }

  async stop(): Promise<void> {
    for (const d of this.detach.splice(0)) d();
    this.capacity?.stop();
    await this.observer.stop();
    await this.planner.settled();
    await this.remediator.settled();
  }

  /** The deploy plan's steps, from one view: a view costs O(steps), so one per recompute
   *  (one per agent made an idle 1,000-agent observation cost seconds of CPU). */
  private deploySteps(): StepView[] {
    if (!this.host.engine.planIds().includes(DEPLOY)) return [];
    return this.host.engine.view(DEPLOY).phases.flatMap((ph) => ph.steps);
  }

  /** Agents with a deploy step not complete, by the step's asset or its `<kind>/<agent>` id. */
  private agentsWithOpenSteps(): Set<string> {
    const open = new Set<string>();
    if (!this.host.engine.planIds().includes(DEPLOY)) return open;
    for (const ph of this.host.engine.view(DEPLOY).phases)
      for (const s of ph.steps) {
        if (s.status === "COMPLETE") continue;
        if (s.asset) open.add(s.asset);
        const slash = s.id.indexOf("/");
        if (slash > 0 && this.host.agents.get(s.id.slice(slash + 1)))
          open.add(s.id.slice(slash + 1));
      }
    return open;
  }

  private async replan(): Promise<void> {
    const observed = this.observer.latest;
    if (!observed || !this.repairs) return;
    const steps = this.deploySteps();
    const done = new Set(steps.filter((s) => s.status === "COMPLETE").map((s) => s.id));
    // Agents with deploy steps not yet complete (repairs wait for those).
    const busy = new Set(steps.flatMap((s) => (s.asset && !done.has(s.id) ? [s.asset] : [])));
    const agentByIp = new Map<string, RecoveryAgent>();
    for (const a of this.host.agents.all())
      agentByIp.set(a.ip, {
        agentId: a.agentId,
        hostname: a.hostname,
        // An agent still being deployed is not repaired: its deploy steps own it.
        lost: a.lostSince !== undefined || busy.has(a.agentId),
      });
    const spare = done.has("storage/domains") ? this.host.neededSpare() : new Map();
    this.noteBreaks(observed);
    const plan = buildRecoveryPlan(
      {
        findings: this.observer.findings,
        observed,
        agentByIp,
        managers: this.host.managers(),
        neededSpare: spare,
        missingDevices: this.missingDevices(observed, busy, done),
        backoff: this.backoff,
        brokenSince: (id) => this.breakOf(id, observed.startedAt ?? observed.at),
        ...(this.opts.maxParallel !== undefined ? { maxParallel: this.opts.maxParallel } : {}),
        ...(this.opts.settleTimeoutMs !== undefined
          ? { settleTimeoutMs: this.opts.settleTimeoutMs }
          : {}),
      },
      {
        node: (agentId, kind, params, ctx) => this.host.runNode(agentId, kind, params, ctx),
        observedUntil: (ok, what, ctx, timeoutMs) =>
          observedUntil(this.observer, (o) => ok(o), what, ctx, timeoutMs),
        setSpare: (poolId, pct, ctx) => this.host.setSpare(poolId, pct, ctx),
        rejoin: (agentId, ctx) => this.host.rejoin(agentId, ctx),
      },
    );
    const had = this.host.engine.planIds().includes(RECOVERY_PLAN_ID);
    // No plan until there is something to repair; once there, it stays (empty when healthy).
    if (!had && plan.phases[0]!.steps.length === 0) return;
    await this.host.engine.setPlan(plan);
  }

  /**
   * Every step of the plan stands for an object broken in this observation. A repair that
   * finished before the observation began, its object still broken, means the object broke
   * again since (a flapping process, or one killed while its step was finishing): a new break,
   * a new input of its step, so the engine runs it again when its backoff allows. A look that
   * began while the repair ran says nothing new. Kept per step id while the engine keeps the
   * step's progress (a step that left the plan while running keeps it until it ends), so a
   * repair under way is never interrupted by a look at its object. An operator's
   * force-complete is left alone.
   */
  private noteBreaks(observed: ObservedCluster): void {
    if (!this.host.engine.planIds().includes(RECOVERY_PLAN_ID)) return;
    const began = observed.startedAt ?? observed.at;
    const ids = new Set(this.brokenSince.keys());
    for (const ph of this.host.engine.view(RECOVERY_PLAN_ID).phases)
      for (const s of ph.steps) ids.add(s.id);
    for (const id of ids) {
      const p = this.host.engine.progressOf(RECOVERY_PLAN_ID, id);
      // Forgotten by the engine: when the object breaks again, its step starts afresh.
      if (!p) this.brokenSince.delete(id);
      else if (p.status === "COMPLETE" && !p.forced && p.updatedAt < began)
        this.brokenSince.set(id, began);
    }
  }

  /** When the object of a repair step broke; an object not broken before breaks now. */
  private breakOf(stepId: string, began: number): number {
    let since = this.brokenSince.get(stepId);
    if (since === undefined) this.brokenSince.set(stepId, (since = began));
    return since;
  }

  /** Devices the layout gives an agent's SDS that the observed SDS no longer has. */
  private missingDevices(
    observed: ObservedCluster,
    busy: Set<string>,
    done: Set<string>,
  ): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const layout = this.host.layout();
    if (!layout) return out;
    // Indexed once: a search per node is quadratic in a large cluster.
    const sdsByIp = new Map(observed.sds.flatMap((s) => s.ips.map((ip) => [ip, s] as const)));
    const pathsBySds = new Map<string, Set<string | undefined>>();
    for (const d of observed.devices) {
      const paths = pathsBySds.get(d.sdsId) ?? new Set();
      paths.add(d.path);
      pathsBySds.set(d.sdsId, paths);
    }
    for (const n of layout.nodes) {
      if (!n.sds || busy.has(n.agentId) || !done.has(`join-sds/${n.agentId}`)) continue;
      const ip = this.host.agents.get(n.agentId)?.ip;
      const sds = ip !== undefined ? sdsByIp.get(ip) : undefined;
      if (!sds || !sds.connected) continue;
      const have = pathsBySds.get(sds.id) ?? new Set();
      const missing = n.sds.pools.flatMap((p) => p.devices).filter((d) => !have.has(d));
      if (missing.length) out.set(n.agentId, missing);
    }
    return out;
  }

  /** Per pool: used ratio and rebuild progress, for metrics. */
  poolGauges(): { pool: string; usedRatio: number; rebuildProgress: number }[] {
    const o = this.observer.latest;
    if (!o) return [];
    return o.pools.map((p) => {
      const rebuilding = this.observer.findings.find(
        (f) => f.type === "Rebuilding" && f.object === poolObject(p),
      );
      return {
        pool: poolObject(p),
        usedRatio: p.usedPercent / 100,
        rebuildProgress: rebuilding ? (rebuilding.values?.progressPercent ?? 0) / 100 : 1,
      };
    });
  }

  /** Pools with capacity in bytes, for the API and the UI. */
  poolViews(): PoolView[] {
    const o = this.observer.latest;
    if (!o) return [];
    const kb = (n: number) => n * 1024;
    return o.pools.map((p) => {
      const object = poolObject(p);
      const rebuilding = this.observer.findings.find(
        (f) => f.type === "Rebuilding" && f.object === object,
      );
      return {
        object,
        id: p.id,
        name: p.name ?? p.id,
        group: p.protectionDomainName ?? p.protectionDomainId,
        usedPercent: p.usedPercent,
        sparePercentage: p.sparePercentage,
        capacity: {
          totalBytes: kb(p.limitKb),
          usedBytes: kb(p.inUseKb),
          spareBytes: kb(p.spareKb),
          freeBytes: kb(Math.max(0, p.limitKb - p.spareKb - p.inUseKb)),
        },
        ...(p.rebuildRemainingKb > 0
          ? {
              rebuild: {
                remainingBytes: kb(p.rebuildRemainingKb),
                progressPercent: rebuilding?.values?.progressPercent ?? 0,
              },
            }
          : {}),
      };
    });
  }

  historySamples(since?: number): HistorySample[] {
    return this.observer.samples(since).map((s) => ({
      at: s.at,
      pools: Object.fromEntries(
        Object.entries(s.value).map(([k, v]) => [
          k,
          {
            usedPercent: v.usedPercent,
            iops: v.iops,
            kbPerSecond: v.kbPerSecond,
            latencyMicros: v.latencyMicros,
          },
        ]),
      ),
    }));
  }

  /** The operators' summary of the cluster, from the latest observation (no extra reads). */
  clusterView(): ClusterView | undefined {
    const o = this.observer.latest;
    if (!o) return undefined;
    const kb = (n: number) => n * 1024;
    const floor8Gb = (k: number) => Math.floor(k / 8_388_608) * 8_388_608;
    return {
      systemId: o.systemId,
      systemName: o.systemName,
      state: o.mdm.state,
      components: [
        { kind: "SDS", total: o.sds.length, ready: o.sds.filter((x) => x.connected).length },
        { kind: "SDC", total: o.sdcs.length, ready: o.sdcs.filter((x) => x.connected).length },
      ],
      ...(o.mdmMode ? { details: { "MDM cluster": o.mdmMode } } : {}),
      capacity: {
        rawBytes: kb(o.pools.reduce((a, p) => a + p.maxKb, 0)),
        usableBytes: kb(
          o.pools.reduce((a, p) => a + floor8Gb(Math.max(0, p.limitKb - p.spareKb) / 2), 0),
        ),
        freeBytes: kb(o.pools.reduce((a, p) => a + p.freeForVolumesKb, 0)),
      },
      alerts: o.alerts.map((a) => ({
        type: a.type,
        severity: a.severity,
        ...(a.objectType ? { message: `${a.objectType} ${a.objectId ?? ""}`.trim() } : {}),
      })),
      observedAt: o.at,
    };
  }

  /** SDC states by address (the node view shows them). */
  sdcStates(): { ip?: string; guid?: string; state?: string }[] {
    return (this.observer.latest?.sdcs ?? []).map((c) => ({
      ...(c.ip ? { ip: c.ip } : {}),
      ...(c.guid ? { guid: c.guid } : {}),
      state: c.connected ? "Connected" : "Disconnected",
    }));
  }
}
