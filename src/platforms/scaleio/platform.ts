// ScaleIO as a storage platform of the framework: it keeps the MDM placement and the host
// facts executors reported (persisted), computes the storage layout with the configured
// strategy, and (re)installs the `deploy` plan whenever agents or facts change; steps carry
// fingerprints of their inputs, so the engine runs again those whose inputs changed. Cluster-side
// operations (REST gateway) are given to it, so the same platform runs against a real
// gateway or the emulator.
import type {
  ClusterView,
  HistorySample,
  Platform,
  PoolView,
  PlatformContext,
  PlatformNodeInfo,
} from "../../framework/scheduler.js";
import type { ClusterSummary } from "./cluster/summary.js";
import type { StepContext } from "../../framework/plan/types.js";
import type { AgentRecord } from "../../framework/agents.js";
import {
  buildDeployPlan,
  type Component,
  type HostFacts,
  type IsolatorSettings,
  type RexraySettings,
} from "./deploy-plan.js";
import { drainAndRestart, type AgentRestartOptions } from "./agent-restart.js";
import { placeMdms, type MdmMember } from "./topology/mdm-placement.js";
import { planStorage, type StorageLayout, type StrategyInput } from "./topology/storage.js";
import { neededSpare, withSparePolicy } from "./topology/spare.js";
import { TopologyError, type AgentFacts, type DeviceFact } from "./topology/facts.js";
import { decodeDeviceReport, sameUsableDevices } from "./device-report.js";
import { LatestWriter } from "../../store/latest-writer.js";
import { CoalescedRunner } from "../../common/coalesced-runner.js";
import type { PlatformHealth } from "../../framework/health/monitor.js";
import { ClusterHealth, type ClusterHealthOptions } from "./cluster-health.js";
import { describeJob, NodeReplacer, REPLACE_PLAN } from "./lifecycle/replace.js";
import { AutoMdmReplace } from "./lifecycle/auto-replace.js";
import {
  TEARDOWN_PLAN,
  addedByFramework,
  buildTeardownPlan,
  checkTeardown,
  type TeardownClusterOps,
} from "./lifecycle/teardown.js";
import { TeardownRecords } from "./lifecycle/teardown-records.js";
import { Decommissions, type DecommissionOptions } from "./lifecycle/decommissions.js";
import { waitForGate } from "./lifecycle/health-gate.js";
import type { DecommissionRequest, DecommissionStarted } from "../../framework/node-lifecycle.js";
import { ScaleioUpgrades, type UpgradeRequest } from "./lifecycle/upgrade.js";
import type { GatewayClient } from "./gateway/client.js";
import {
  MaintenanceRefused,
  ScaleioMaintenance,
  type MaintenanceGateway,
} from "./lifecycle/maintenance.js";
import type {
  MaintenanceAnswer,
  MaintenanceWindow,
} from "../../framework/maintenance/inverse-offers.js";

export interface ClusterOps {
  /** Protection domains, fault sets and pools of the layout. */
  prepareDomains(layout: StorageLayout, ctx: StepContext): Promise<void>;
  /** One agent's SDS and devices (its own step: one agent's trouble is its own). */
  applyAgent(
    layout: StorageLayout,
    agentId: string,
    ipOf: (agentId: string) => string,
    ctx: StepContext,
  ): Promise<void>;
  verify(ctx: StepContext): Promise<void | string>;
  /** Reads the cluster for operators (summary and the SDCs' states). */
  observe?(): Promise<{ summary: ClusterSummary; sdcs: SdcState[] }>;
  /** Sets a pool's spare percentage (the spare policy's repair). */
  setSpare?(poolId: string, percent: number): Promise<void>;
}

export interface SdcState {
  ip?: string;
  guid?: string;
  state?: string;
}

export interface ScaleIOPlatformOptions {
  /** Provision a new cluster of this many MDMs, or attach to an existing one. */
  mode:
    | { provision: { size: 3 | 5; need: { cpus: number; memMb: number } } }
    | { existing: { managers: string[] } };
  strategy: StrategyInput;
  systemName: string;
  packageUrl(format: "deb" | "rpm", component: Component): string;
  /** Where SDC drivers for kernels the package lacks are (--sdc-driver-repo). */
  sdcDriverRepo?: string;
  rexray: RexraySettings;
  isolator?: IsolatorSettings;
  cluster: ClusterOps;
  /** Needed when `isolator.restartAgent` is on: the master's maintenance API. */
  agentRestart?: AgentRestartOptions;
  /** Observation, health conditions and repairs (none: the cluster is only summarised). */
  health?: Omit<ClusterHealthOptions, "provisioned">;
  /** Replacing lost or failing nodes (needs `health`): the gateway's removeSds, and after how
   *  long a lost MDM agent is replaced on its own (none: only on request). */
  replace?: {
    removeSds(sdsId: string): Promise<void>;
    removeSdc?(sdcId: string): Promise<void>;
    mdmReplaceAfterMs?: number;
  };
  /** Uninstall: the cluster-side removals (none: uninstall is refused). */
  teardown?: TeardownClusterOps;
  /** Decommissioning data nodes: the gateway (none: decommission is refused). */
  decommission?: DecommissionOptions;
  /** Rolling upgrades (need `health`): the gateway, and the canary of a configured upgrade. */
  upgrade?: {
    client: () => GatewayClient;
    system: { name?: string; id?: string };
    canary?: number;
  };
  /** SDS maintenance for Mesos maintenance windows and operators (needs `health`). */
  maintenance?: MaintenanceGateway;
}

const PLACEMENT_KEY = "scaleio/placement";
const FACTS_KEY = "scaleio/facts";
/** Agents the layout forgot once their node was replaced (their SDS removed). */
const RETIRED_KEY = "scaleio/retired";
/**
 * Written by versions before step fingerprints: the domains last given to `storage/domains`
 * and the agents whose new devices had still to join their SDS. Read once after an upgrade
 * (a change noticed but not yet acted on is acted on), then deleted.
 */
const LEGACY_DOMAINS_KEY = "scaleio/domains";
const LEGACY_DEVICES_CHANGED_KEY = "scaleio/devices-changed";
const PLAN_ID = "deploy";

export class RescanError extends Error {
  /** How the operator API answers it: unknown agent 404, otherwise a conflict (409). */
  readonly statusCode: number;
  constructor(
    readonly code: "UNKNOWN_AGENT" | "AGENT_LOST" | "NOT_READY",
    message: string,
  ) {
    super(message);
    this.name = "RescanError";
    this.statusCode = code === "UNKNOWN_AGENT" ? 404 : 409;
  }
}

export interface NodeProblem {
  agentId: string;
  problems: string[];
}

export class ScaleIOPlatform implements Platform {
  readonly name = "scaleio";
  private ctx!: PlatformContext;
  private readonly opts: ScaleIOPlatformOptions;
  private facts = new Map<string, HostFacts>();
  private placement: MdmMember[] | undefined;
  /**
   * Plan recomputations: serialised, and requests made before one begins share it. A plan's
   * computation costs O(steps) (and steps still running keep the definition they started
   * from), so a large plan is recomputed at most every steps/8 ms (7,000 steps: ~0.9 s).
   */
  private readonly recomputer = new CoalescedRunner(
    () => this.doRecompute(),
    () => Math.min(1000, this.planSteps / 8),
  );
  private planSteps = 0;
  private layout: StorageLayout | undefined;
  /** Spare the policy wants for pools the operator left without a value. */
  private spareNeeded: ReadonlyMap<string, number> = new Map();
  private clusterHealth: ClusterHealth | undefined;
  /** Replacement of lost or failing nodes (the `replace` plan), and its automatic trigger. */
  private replacer: NodeReplacer | undefined;
  private autoReplace: AutoMdmReplace | undefined;
  private retired = new Set<string>();
  /** The uninstall request and the packages the framework installed. */
  private teardown: TeardownRecords | undefined;
  /** Nodes decommissioned or on their way out: left out of the deploy plan. */
  private decommissions: Decommissions | undefined;
  /** Installed versions and the rolling upgrade (the `upgrade` plan). */
  private upgrades: ScaleioUpgrades | undefined;
  /** Nodes into and out of maintenance (the `maintenance` plan). */
  maintenance: ScaleioMaintenance | undefined;
  /** Agents our own drain restarts (only the Mesos agent restarts: the SDS stays up). */
  private readonly restartingAgents = new Set<string>();
  private sdcStates: SdcState[] = [];
  /** What a version before fingerprints left to do (see LEGACY_DOMAINS_KEY), until done. */
  private legacy: { domains?: string; devicesChanged: string[] } | undefined;
  private factsWriter!: LatestWriter;
  /** Why agents (or the whole cluster) cannot be deployed as asked; shown to operators. */
  agentProblems: NodeProblem[] = [];
  waitingFor: string | undefined;

  constructor(opts: ScaleIOPlatformOptions) {
    this.opts = opts;
  }

  async start(ctx: PlatformContext): Promise<void> {
    this.ctx = ctx;
    this.facts = new Map((await ctx.store.get<[string, HostFacts][]>(FACTS_KEY)) ?? []);
    this.factsWriter = new LatestWriter(ctx.store, FACTS_KEY, () => [...this.facts]);
    if (this.opts.upgrade) {
      this.upgrades = this.newUpgrades(ctx, this.opts.upgrade);
      await this.upgrades.load();
    }
    this.placement = await ctx.store.get<MdmMember[]>(PLACEMENT_KEY);
    this.retired = new Set((await ctx.store.get<string[]>(RETIRED_KEY)) ?? []);
    this.teardown = new TeardownRecords(ctx.store, (err) =>
      ctx.logger.warn({ err: err.message }, "record of installed packages not saved"),
    );
    // Uninstalling: only the teardown plan runs (no deploy, repair, upgrade or maintenance).
    if (await this.teardown.load()) return this.recompute();
    const domains = await ctx.store.get<string>(LEGACY_DOMAINS_KEY);
    const devicesChanged = await ctx.store.get<string[]>(LEGACY_DEVICES_CHANGED_KEY);
    if (domains !== undefined || devicesChanged !== undefined)
      this.legacy = {
        ...(domains !== undefined ? { domains } : {}),
        devicesChanged: devicesChanged ?? [],
      };
    if (this.opts.decommission) {
      this.decommissions = this.newDecommissions(ctx, this.opts.decommission);
      await this.decommissions.load();
    }
    await this.recompute();
    if (this.opts.health) {
      this.clusterHealth = this.startHealth(this.opts.health);
      this.clusterHealth.start();
      if (this.opts.maintenance) {
        this.maintenance = new ScaleioMaintenance({
          engine: ctx.engine,
          agents: ctx.agents,
          store: ctx.store,
          logger: ctx.logger,
          notify: (level, msg) => (ctx.notify ?? ((l, m) => ctx.logger[l]({}, m)))(level, msg),
          observer: this.clusterHealth.observer,
          gateway: this.opts.maintenance,
        });
        await this.maintenance.start();
      }
    }
    await this.upgrades?.onStart();
    if (this.clusterHealth && this.opts.replace) await this.startReplace(ctx, this.opts.replace);
  }

  private newUpgrades(
    ctx: PlatformContext,
    o: NonNullable<ScaleIOPlatformOptions["upgrade"]>,
  ): ScaleioUpgrades {
    return new ScaleioUpgrades({
      ctx,
      configuredUrl: (fmt, c) => this.opts.packageUrl(fmt, c),
      ...(this.opts.sdcDriverRepo ? { sdcDriverRepo: this.opts.sdcDriverRepo } : {}),
      packageFormat: (agentId) => this.facts.get(agentId)?.packageFormat,
      mdms: () => ("provision" in this.opts.mode ? this.placement : undefined),
      sdsAgents: () =>
        (this.layout?.nodes ?? []).flatMap((n) =>
          n.sds ? [{ agentId: n.agentId, protectionDomain: n.sds.protectionDomain }] : [],
        ),
      managers: () => {
        const mode = this.opts.mode;
        if ("existing" in mode) return mode.existing.managers;
        return (this.placement ?? [])
          .filter((m) => m.role !== "tiebreaker")
          .map((m) => ctx.agents.get(m.agentId)?.ip ?? m.agentId);
      },
      observer: () => this.clusterHealth?.observer,
      client: o.client,
      system: o.system,
      ...(o.canary ? { canary: o.canary } : {}),
      nodeMaintenance: (agentId) => {
        const m = this.maintenance?.viewOf(agentId);
        if (!m) return undefined;
        const by = m.by === "mesos" ? "a Mesos maintenance window" : "the operator";
        return `${m.state} node maintenance (asked by ${by} at ${new Date(m.since).toISOString()})`;
      },
    });
  }

  /** Plans the rolling upgrade to a version (rejects with a 4xx `statusCode` when refused). */
  async upgrade(req: UpgradeRequest): Promise<void> {
    this.refuseWhileUninstalling();
    if (!this.upgrades) throw new Error("upgrades are not configured");
    await this.recomputer.settled();
    await this.upgrades.upgrade(req);
  }

  async stop(): Promise<void> {
    this.autoReplace?.stop();
    await this.clusterHealth?.stop();
    await this.recomputer.settled();
  }

  /** The observer, as the framework's health monitor reads it. */
  get health(): PlatformHealth | undefined {
    // The observer exists from construction: the operator view's monitor reads it before
    // start() (which only starts it), so it must not be undefined until then.
    return this.clusterHealth?.observer ?? this.opts.health?.observer;
  }

  /** Per pool: used ratio and rebuild progress, for metrics. */
  poolGauges(): { pool: string; usedRatio: number; rebuildProgress: number }[] {
    return this.clusterHealth?.poolGauges() ?? [];
  }

  private startHealth(o: Omit<ClusterHealthOptions, "provisioned">): ClusterHealth {
    const ctx = this.ctx;
    const ipOf = (id: string) => ctx.agents.get(id)?.ip ?? id;
    return new ClusterHealth(
      { ...o, provisioned: "provision" in this.opts.mode },
      {
        engine: ctx.engine,
        agents: ctx.agents,
        logger: ctx.logger,
        layout: () => this.layout,
        neededSpare: () => this.spareNeeded,
        managers: () => {
          const mode = this.opts.mode;
          if ("existing" in mode) return mode.existing.managers;
          return (this.placement ?? [])
            .filter((m) => m.role !== "tiebreaker")
            .map((m) => ipOf(m.agentId));
        },
        runNode: (agentId, kind, params, sctx) => ctx.runNode(agentId, kind, params, sctx),
        setSpare: async (poolId, pct, sctx) => {
          if (!this.opts.cluster.setSpare) throw new Error("the spare cannot be set here");
          sctx.progress(`setting the spare of pool ${poolId} to ${pct} %`);
          await this.opts.cluster.setSpare(poolId, pct);
        },
        rejoin: async (agentId, sctx) => {
          if (!this.layout) throw new Error("no storage layout yet");
          await this.opts.cluster.applyAgent(this.layout, agentId, ipOf, sctx);
        },
      },
    );
  }

  /**
   * Recomputations are serialised: each sees the state left by the previous one. Requests
   * made before the queued one begins share it (a burst of new agents or facts costs one
   * plan computation, not one per agent).
   */
  recompute(): Promise<void> {
    return this.recomputer.run();
  }

  private toFacts(a: AgentRecord): AgentFacts {
    const f = this.facts.get(a.agentId);
    return {
      agentId: a.agentId,
      hostname: a.hostname,
      ip: a.ip,
      attributes: a.attributes,
      ...(a.faultDomain ? { faultDomain: a.faultDomain } : {}),
      resources: a.unreserved,
      ...(f ? { devices: f.devices } : {}),
    };
  }

  private async doRecompute(): Promise<void> {
    if (this.teardown?.active) return this.recomputeTeardown();
    const agents = this.ctx.agents
      .active()
      .filter((a) => !this.retired.has(a.agentId))
      .filter((a) => !this.decommissions?.excludes(a.agentId))
      .map((a) => this.toFacts(a));
    const mode = this.opts.mode;
    let mdms: MdmMember[] | undefined;
    if ("provision" in mode) {
      let result;
      try {
        result = placeMdms({
          agents,
          size: mode.provision.size,
          need: mode.provision.need,
          ...(this.placement ? { previous: this.placement } : {}),
        });
      } catch (err) {
        if (err instanceof TopologyError) {
          this.waitingFor = err.message;
          this.ctx.logger.error({ err: err.message }, "MDM placement refused");
          return;
        }
        throw err;
      }
      if (!result.ok) {
        this.waitingFor = result.reason;
        return;
      }
      for (const w of result.placement.warnings)
        this.ctx.logger.warn({ warning: w }, "MDM placement");
      if (!this.placement) {
        // Chosen once, kept for the life of the cluster.
        await this.ctx.store.set(PLACEMENT_KEY, result.placement.members);
        this.placement = result.placement.members;
      }
      mdms = this.placement;
    }
    this.waitingFor = undefined;
    let layout = planStorage(agents, this.opts.strategy);
    if ("provision" in mode) {
      // Spare for the largest fault unit, counting agents that are away too (their SDSs
      // still hold data): a lost agent must not make the spare jump and fall back.
      const everyone = this.ctx.agents
        .all()
        .filter((a) => !this.retired.has(a.agentId))
        .filter((a) => !this.decommissions?.excludes(a.agentId))
        .map((a) => this.toFacts(a));
      const needed = neededSpare(planStorage(everyone, this.opts.strategy), everyone);
      layout = withSparePolicy(layout, needed);
      // Only pools whose spare the policy sets: an operator's own value is never repaired.
      const own = new Set(
        layout.domains.flatMap((d) =>
          d.pools
            .filter((p) => p.sparePercentage !== needed.get(`${d.name}/${p.name}`))
            .map((p) => `${d.name}/${p.name}`),
        ),
      );
      this.spareNeeded = new Map([...needed].filter(([k]) => !own.has(k)));
    }
    this.layout = layout;
    this.agentProblems = layout.nodes
      .filter((n) => n.problems.length > 0)
      .map((n) => ({ agentId: n.agentId, problems: n.problems }));
    for (const p of this.agentProblems)
      this.ctx.logger.warn({ agentId: p.agentId, problems: p.problems }, "agent storage left out");
    const addresses = new Map(
      this.ctx.agents
        .all()
        .filter((a) => !this.retired.has(a.agentId))
        .map((a) => [a.agentId, a.ip]),
    );
    const ipOf = (id: string) => addresses.get(id) ?? id;
    const plan = buildDeployPlan(
      {
        agents,
        addresses,
        facts: this.facts,
        ...(mdms
          ? { mdms }
          : { existingManagers: "existing" in mode ? mode.existing.managers : [] }),
        layout,
        systemName: this.opts.systemName,
        packageUrl: (fmt, c) => this.upgrades?.packageUrl(fmt, c) ?? this.opts.packageUrl(fmt, c),
        ...(this.opts.sdcDriverRepo ? { sdcDriverRepo: this.opts.sdcDriverRepo } : {}),
        rexray: this.opts.rexray,
        ...(this.opts.isolator ? { isolator: this.opts.isolator } : {}),
      },
      {
        node: async (agentId, kind, params, ctx, o) => {
          const r = await this.ctx.runNode(agentId, kind, params, ctx, o);
          this.upgrades?.noteResult(agentId, kind, r); // installed versions, for operators
          await this.teardown?.noteInstall(agentId, kind, r); // what an uninstall may remove
          return r;
        },
        saveFacts: (agentId, f) => this.saveFacts(agentId, f),
        prepareDomains: (l, ctx) =>
          this.recordingCreated(() => this.opts.cluster.prepareDomains(l, ctx)),
        applyAgent: (l, agentId, ctx) => this.opts.cluster.applyAgent(l, agentId, ipOf, ctx),
        verify: (ctx) => this.opts.cluster.verify(ctx),
        ...(this.opts.agentRestart
          ? { restartAgent: (agentId, ctx) => this.restartAgent(agentId, ctx) }
          : {}),
      },
    );
    this.planSteps = plan.phases.reduce((n, ph) => n + ph.steps.length, 0);
    await this.ctx.engine.setPlan(plan);
    if (this.legacy) await this.finishLegacyWork(this.legacy, layout);
    await this.upgrades?.recompute();
  }

  /**
   * Once after an upgrade from a version before fingerprints: the engine takes the current
   * fingerprint for a finished step it has none for, so a change that version had noticed
   * but not yet acted on (it crashed in between) would be lost; it is acted on here instead.
   */
  private async finishLegacyWork(
    legacy: { domains?: string; devicesChanged: string[] },
    layout: StorageLayout,
  ): Promise<void> {
    const stale: string[] = [];
    // That version's own signature of the domains: the plain JSON of the layout's.
    if (legacy.domains !== undefined && legacy.domains !== JSON.stringify(layout.domains))
      stale.push("storage/domains");
    for (const agentId of legacy.devicesChanged) stale.push(`join-sds/${agentId}`);
    const steps = new Map(
      this.ctx.engine
        .view(PLAN_ID)
        .phases.flatMap((p) => p.steps)
        .map((s) => [s.id, s.status]),
    );
    for (const stepId of stale) {
      const status = steps.get(stepId);
      // Absent (no SDS yet: its step, when it comes, is new) or pending: nothing to redo.
      if (status === undefined || status === "PENDING") continue;
      this.ctx.logger.info({ stepId }, "a change from before the upgrade: the step runs again");
      await this.ctx.engine.restartStep(PLAN_ID, stepId);
    }
    await this.ctx.store.delete(LEGACY_DOMAINS_KEY);
    await this.ctx.store.delete(LEGACY_DEVICES_CHANGED_KEY);
    this.legacy = undefined;
  }

  private async restartAgent(agentId: string, ctx: StepContext): Promise<void> {
    const a = this.ctx.agents.get(agentId);
    if (!a) throw new Error(`no agent '${agentId}'`);
    this.restartingAgents.add(agentId);
    try {
      await drainAndRestart(
        { agentId, hostname: a.hostname, ip: a.ip },
        async () => {
          await this.ctx.runNode(agentId, "scaleio.restart-agent", {}, ctx);
        },
        this.opts.agentRestart!,
        ctx,
      );
    } finally {
      this.restartingAgents.delete(agentId);
    }
  }

  /** New devices change the agent's SDS assignment: its step's fingerprint says so. */
  private async saveFacts(agentId: string, f: HostFacts): Promise<void> {
    this.facts.set(agentId, f);
    await this.upgrades?.record(agentId, f.installed);
    await this.factsWriter.save();
    // The facts step ends only once the plan holds what the facts call for: otherwise the
    // plan could look complete for a moment without this agent's steps and the verify step.
    await this.recompute().catch((err: Error) =>
      this.ctx.logger.error({ agentId, err: err.message }, "plan recompute failed"),
    );
  }

  /**
   * Looks at the agent's devices again (its host-facts step runs again); new usable devices
   * then join its SDS in the pool the strategy assigns. Rejects for an unknown or lost agent.
   */
  /**
   * Uninstall: refuses (TeardownRefused, 409) while volumes exist unless `destroyData`; then
   * records the request, ends deploying, repairs, upgrades and maintenance, and runs the
   * teardown plan. Asked again, it carries on (with destroyData once it was given).
   */
  async uninstall(opts: { destroyData: boolean }): Promise<{ planId: string }> {
    const ops = this.opts.teardown;
    if (!ops || !this.teardown) throw new Error("uninstall is not configured");
    const provisioned = "provision" in this.opts.mode;
    const destroyData = opts.destroyData || this.teardown.destroyData;
    // Nothing placed yet: no cluster, so no volume to lose.
    const exists = !provisioned || this.placement !== undefined;
    await checkTeardown(ops, { provisioned, agents: this.teardownAgents(), destroyData }, exists);
    await this.teardown.begin(destroyData);
    this.ctx.logger.warn({ destroyData }, "uninstall asked for: tearing down");
    await this.recomputer.settled();
    this.autoReplace?.stop();
    await this.clusterHealth?.stop();
    for (const id of this.ctx.engine.planIds())
      if (id !== TEARDOWN_PLAN) await this.ctx.engine.removePlan(id);
    await this.recompute();
    return { planId: TEARDOWN_PLAN };
  }

  /**
   * Existing-cluster mode: the pools, fault sets and domains that preparing the layout
   * creates are recorded (a listing before and after), for an uninstall to remove them.
   */
  private async recordingCreated(fn: () => Promise<void>): Promise<void> {
    const t = this.opts.teardown;
    const records = this.teardown;
    if (!t || !records || "provision" in this.opts.mode) return fn();
    const before = await t.storage();
    try {
      await fn();
    } finally {
      await t
        .storage()
        .then((after) => records.noteCreated(before, after))
        .catch((err: Error) =>
          this.ctx.logger.warn({ err: err.message }, "record of created pools not saved"),
        );
    }
  }

  /** Requests that would start other plan work are refused once an uninstall began. */
  private refuseWhileUninstalling(): void {
    if (this.teardown?.active) throw this.uninstalling();
  }

  private uninstalling(): Error {
    return Object.assign(new Error("the framework is being uninstalled"), {
      statusCode: 409,
      code: "UNINSTALLING",
    });
  }

  private teardownAgents(): { agentId: string; ip: string; hostname: string }[] {
    return this.ctx.agents
      .active()
      .map((a) => ({ agentId: a.agentId, ip: a.ip, hostname: a.hostname }));
  }

  /** The module description the isolator step writes (module mode), for taking it away. */
  private get isolatorModulesFile(): string | undefined {
    return this.opts.isolator && this.opts.isolator.mode !== "docker-volume"
      ? (this.opts.isolator.modulesFile ?? "/usr/lib/dvdi-mod.json")
      : undefined;
  }

  private async recomputeTeardown(): Promise<void> {
    if (!this.opts.teardown || !this.teardown) return;
    const modulesFile = this.isolatorModulesFile;
    const plan = buildTeardownPlan(
      {
        provisioned: "provision" in this.opts.mode,
        destroyData: this.teardown.destroyData,
        agents: this.teardownAgents(),
        mdms: this.placement ?? [],
        installed: this.teardown.installed,
        created: this.teardown.created,
        ...(modulesFile ? { modulesFile } : {}),
      },
      {
        cluster: this.opts.teardown,
        node: (agentId, kind, params, ctx) => this.ctx.runNode(agentId, kind, params, ctx),
      },
    );
    await this.ctx.engine.setPlan(plan);
  }

  async rescan(agentId: string): Promise<void> {
    this.refuseWhileUninstalling();
    const agent = this.ctx.agents.get(agentId);
    if (!agent) throw new RescanError("UNKNOWN_AGENT", `no agent '${agentId}'`);
    if (agent.lostSince !== undefined)
      throw new RescanError("AGENT_LOST", `agent '${agentId}' (${agent.hostname}) is lost`);
    await this.recomputer.settled();
    const has = this.ctx.engine.planIds().includes(PLAN_ID)
      ? this.ctx.engine
          .view(PLAN_ID)
          .phases.some((p) => p.steps.some((s) => s.id === `facts/${agentId}`))
      : false;
    if (!has)
      throw new RescanError("NOT_READY", `agent '${agentId}' is not part of the deploy plan yet`);
    this.ctx.logger.info({ agentId }, "device rescan requested");
    await this.ctx.engine.restartStep(PLAN_ID, `facts/${agentId}`);
  }

  /** An executor's own report of its host's devices (periodic rescan). */
  onExecutorMessage(agentId: string, data: Buffer): void {
    const report = decodeDeviceReport(data);
    if (!report) return;
    void this.observeDevices(agentId, report.devices).catch((err: Error) =>
      this.ctx.logger.warn({ agentId, err: err.message }, "device report not recorded"),
    );
  }

  private async observeDevices(agentId: string, devices: DeviceFact[]): Promise<void> {
    const prev = this.facts.get(agentId);
    // Before the host-facts step reported, the plan discovers the agent on its own.
    if (!prev || sameUsableDevices(prev.devices, devices)) return;
    this.ctx.logger.info({ agentId, devices: devices.length }, "executor reported new devices");
    await this.saveFacts(agentId, { ...prev, devices });
  }

  // ---- maintenance ------------------------------------------------------------------------

  /** Without SDS maintenance (no observation), Mesos gets its agents back at once. */
  onInverseOffer(agentId: string, window: MaintenanceWindow): Promise<MaintenanceAnswer> {
    // Our own drain for an agent restart: the storage stays up, nothing to do.
    if (this.restartingAgents.has(agentId)) return Promise.resolve("accept");
    // Uninstalling: nothing here is to be kept, the agent may go.
    if (this.teardown?.active) return Promise.resolve("accept");
    return this.maintenance?.onInverseOffer(agentId, window) ?? Promise.resolve("accept");
  }

  async onMaintenanceOver(agentId: string): Promise<void> {
    await this.maintenance?.onMaintenanceOver(agentId);
  }

  setMaintenance(agentId: string, enter: boolean): Promise<{ state: string; message: string }> {
    if (this.teardown?.active) return Promise.reject(this.uninstalling());
    if (!this.maintenance)
      return Promise.reject(
        new MaintenanceRefused(409, "MAINTENANCE_REFUSED", "maintenance needs cluster observation"),
      );
    return this.maintenance.setMaintenance(agentId, enter);
  }

  // ---- replacement -----------------------------------------------------------------------

  private async startReplace(
    ctx: PlatformContext,
    o: NonNullable<ScaleIOPlatformOptions["replace"]>,
  ): Promise<void> {
    const mode = this.opts.mode;
    this.replacer = new NodeReplacer({
      engine: ctx.engine,
      agents: ctx.agents,
      store: ctx.store,
      logger: ctx.logger,
      ...(ctx.notify ? { notify: ctx.notify } : {}),
      runNode: (agentId, kind, params, sctx, opts) =>
        ctx.runNode(agentId, kind, params, sctx, opts),
      ...("provision" in mode ? { provision: { need: mode.provision.need } } : {}),
      placement: () => this.placement,
      savePlacement: async (members) => {
        await ctx.store.set(PLACEMENT_KEY, members);
        this.placement = members;
        await this.recompute();
      },
      forget: async (agentId) => {
        this.retired.add(agentId);
        await ctx.store.set(RETIRED_KEY, [...this.retired]);
        await this.recompute();
      },
      facts: (agentId) => this.facts.get(agentId),
      toFacts: (a) => this.toFacts(a),
      retired: (agentId) => this.retired.has(agentId),
      packageUrl: (fmt, c) => this.opts.packageUrl(fmt, c),
      observer: this.clusterHealth!.observer,
      removeSds: (id) => o.removeSds(id),
      ...(o.removeSdc ? { removeSdc: o.removeSdc } : {}),
    });
    await this.replacer.start();
    if (o.mdmReplaceAfterMs !== undefined && "provision" in mode) {
      this.autoReplace = new AutoMdmReplace({
        afterMs: o.mdmReplaceAfterMs,
        agents: ctx.agents,
        placement: () => this.placement,
        replacer: this.replacer,
        logger: ctx.logger,
        ...(ctx.notify ? { notify: ctx.notify } : {}),
      });
      this.autoReplace.start();
    }
  }

  /**
   * Replaces a lost or failing node (the `replace` plan): its MDM member on a new agent, its
   * SDS removed once rebuilt elsewhere. Rejects with a ReplaceError (404/409, stable code).
   */
  async replaceNode(
    agentId: string,
    opts: { force?: boolean } = {},
  ): Promise<{ plan: string; message: string; replacement?: string }> {
    this.refuseWhileUninstalling();
    if (!this.replacer) throw new Error("node replacement is not configured");
    await this.recomputer.settled();
    const job = await this.replacer.request(agentId, opts);
    return { plan: REPLACE_PLAN, ...describeJob(job) };
  }

  // ---- decommission ----------------------------------------------------------------------

  private newDecommissions(ctx: PlatformContext, o: DecommissionOptions): Decommissions {
    return new Decommissions({
      ctx,
      opts: o,
      mdmAgents: () => (this.placement ?? []).map((m) => m.agentId),
      spareWithout: (agentId) => this.spareWithout(agentId),
      recompute: () => this.recompute(),
      // Only what the framework added goes, as at uninstall (existing-cluster mode).
      added: (agentId, among) =>
        addedByFramework(
          { provisioned: "provision" in this.opts.mode, installed: this.teardown?.installed ?? {} },
          agentId,
          among,
        ),
      ...(this.isolatorModulesFile ? { modulesFile: this.isolatorModulesFile } : {}),
      ...(this.opts.health
        ? {
            gate: (sctx: StepContext) =>
              this.clusterHealth
                ? waitForGate(this.clusterHealth.observer, sctx)
                : Promise.resolve(),
          }
        : {}),
    });
  }

  /** The spare each pool gets (policy or operator) once this agent's SDS has gone. */
  private spareWithout(agentId: string): Map<string, number> {
    if (!("provision" in this.opts.mode)) return new Map();
    const rest = this.ctx.agents
      .all()
      .filter((a) => a.agentId !== agentId && !this.decommissions?.excludes(a.agentId))
      .map((a) => this.toFacts(a));
    const layout = planStorage(rest, this.opts.strategy);
    const spared = withSparePolicy(layout, neededSpare(layout, rest));
    return new Map(
      spared.domains.flatMap((d) =>
        d.pools.flatMap((p) =>
          p.sparePercentage !== undefined
            ? [[`${d.name}/${p.name}`, p.sparePercentage] as const]
            : [],
        ),
      ),
    );
  }

  /**
   * Takes a data node out for good (the `decommission` plan): refused with the figures when
   * the rest of a pool cannot hold its data or it is an MDM member (NodeRequestRefused).
   */
  async decommission(agentId: string, req: DecommissionRequest): Promise<DecommissionStarted> {
    this.refuseWhileUninstalling();
    if (!this.decommissions)
      throw new RescanError("NOT_READY", "decommission is not configured for this cluster");
    await this.recomputer.settled();
    return this.decommissions.decommission(agentId, req);
  }

  /** Lets a decommissioned node back in: the deploy plan on-boards it again. */
  async recommission(agentId: string): Promise<void> {
    if (!this.decommissions)
      throw new RescanError("NOT_READY", "decommission is not configured for this cluster");
    await this.decommissions.recommission(agentId);
  }

  /** The MDM members (empty until placed, or in existing-cluster mode). */
  get mdms(): MdmMember[] {
    return this.placement ?? [];
  }

  factsOf(agentId: string): HostFacts | undefined {
    return this.facts.get(agentId);
  }

  // ---- operator view ---------------------------------------------------------------------

  pools(): PoolView[] {
    return this.clusterHealth?.poolViews() ?? [];
  }

  history(since?: number): HistorySample[] {
    return this.clusterHealth?.historySamples(since) ?? [];
  }

  async summary(): Promise<ClusterView> {
    if (this.clusterHealth) {
      // The observer reads the cluster anyway (on its interval and soon after every change):
      // the summary costs no request of its own, except the very first.
      if (!this.clusterHealth.observer.latest) await this.clusterHealth.observer.observe();
      const v = this.clusterHealth.clusterView();
      if (!v)
        throw new Error(this.clusterHealth.observer.error ?? "the cluster is not observed yet");
      this.sdcStates = this.clusterHealth.sdcStates();
      return v;
    }
    if (!this.opts.cluster.observe) throw new Error("the cluster cannot be observed");
    const { summary: s, sdcs } = await this.opts.cluster.observe();
    this.sdcStates = sdcs;
    const kb = (n: number) => n * 1024;
    return {
      systemId: s.systemId,
      systemName: s.systemName,
      ...(s.clusterState ? { state: s.clusterState } : {}),
      components: [
        { kind: "SDS", total: s.sdsTotal, ready: s.sdsConnected },
        { kind: "SDC", total: s.sdcTotal, ready: s.sdcConnected },
      ],
      ...(s.mdmMode ? { details: { "MDM cluster": s.mdmMode } } : {}),
      capacity: {
        rawBytes: kb(s.rawCapacityKb),
        usableBytes: kb(s.usableCapacityKb),
        freeBytes: kb(s.freeCapacityKb),
      },
      alerts: s.alerts.map((a) => ({
        type: a.type,
        severity: a.severity,
        ...(a.objectType ? { message: `${a.objectType} ${a.objectId ?? ""}`.trim() } : {}),
      })),
      observedAt: Date.now(),
    };
  }

  nodeInfo(agentId: string): PlatformNodeInfo {
    const roles: string[] = [];
    const mdm = this.placement?.find((m) => m.agentId === agentId);
    if (mdm) roles.push(mdm.role === "tiebreaker" ? "mdm-tiebreaker" : "mdm-manager");
    if (mdm?.role === "primary") roles.push("gateway");
    const node = this.layout?.nodes.find((n) => n.agentId === agentId);
    const devices: PlatformNodeInfo["devices"] = [];
    if (node?.sds) {
      roles.push("sds");
      for (const p of node.sds.pools)
        for (const path of p.devices)
          devices.push({ path, domain: node.sds.protectionDomain, pool: p.pool });
    }
    const agent = this.ctx?.agents.get(agentId);
    const out = this.decommissions?.stateOf(agentId);
    if (agent && agent.lostSince === undefined && !out) roles.push("sdc", "lia");
    else if (agent && out && !out.removeClient) roles.push("sdc");
    const sdc = agent ? this.sdcStates.find((c) => c.ip === agent.ip) : undefined;
    return {
      roles,
      devices,
      ...(sdc
        ? {
            client: {
              kind: "SDC",
              ...(sdc.guid ? { id: sdc.guid } : {}),
              ...(sdc.state ? { state: sdc.state } : {}),
            },
          }
        : {}),
      ...(node?.problems.length ? { problems: node.problems } : {}),
      ...(this.maintenance?.viewOf(agentId)
        ? { maintenance: this.maintenance.viewOf(agentId)! }
        : {}),
      ...(out ? { decommission: out } : {}),
      ...(this.upgrades && Object.keys(this.upgrades.versionsOf(agentId)).length
        ? { versions: { ...this.upgrades.versionsOf(agentId) } as Record<string, string> }
        : {}),
    };
  }

  problems(): string[] {
    const out: string[] = [];
    if (this.waitingFor) out.push(`waiting: ${this.waitingFor}`);
    for (const p of this.agentProblems) out.push(`agent ${p.agentId}: ${p.problems.join("; ")}`);
    return out;
  }
}
