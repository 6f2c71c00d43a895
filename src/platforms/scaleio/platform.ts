// ScaleIO as a storage platform of the framework: it keeps the MDM placement and the host
// facts executors reported (persisted), computes the storage layout with the configured
// strategy, and (re)installs the `deploy` plan whenever agents or facts change. Cluster-side
// operations (REST gateway) are given to it, so the same platform runs against a real
// gateway or the emulator.
import type {
  ClusterView,
  Platform,
  PlatformContext,
  PlatformNodeInfo,
} from "../../framework/scheduler.js";
import type { ClusterSummary } from "./cluster/summary.js";
import type { StepContext } from "../../framework/plan/types.js";
import type { AgentRecord } from "../../framework/agents.js";
import { buildDeployPlan, type Component, type HostFacts } from "./deploy-plan.js";
import { placeMdms, type MdmMember } from "./topology/mdm-placement.js";
import { planStorage, type StorageLayout, type StrategyInput } from "./topology/storage.js";
import { TopologyError, type AgentFacts } from "./topology/facts.js";

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
  verify(ctx: StepContext): Promise<void>;
  /** Reads the cluster for operators (summary and the SDCs' states). */
  observe?(): Promise<{ summary: ClusterSummary; sdcs: SdcState[] }>;
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
  rexray: {
    endpoint: string | (() => string);
    insecure: boolean;
    thinOrThick: "ThinProvisioned" | "ThickProvisioned";
  };
  isolator?: { isolatorPath: string; modulesFile: string };
  cluster: ClusterOps;
}

const PLACEMENT_KEY = "scaleio/placement";
const FACTS_KEY = "scaleio/facts";

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
  private chain: Promise<void> = Promise.resolve();
  private layout: StorageLayout | undefined;
  private sdcStates: SdcState[] = [];
  /** Why agents (or the whole cluster) cannot be deployed as asked; shown to operators. */
  agentProblems: NodeProblem[] = [];
  waitingFor: string | undefined;

  constructor(opts: ScaleIOPlatformOptions) {
    this.opts = opts;
  }

  async start(ctx: PlatformContext): Promise<void> {
    this.ctx = ctx;
    this.facts = new Map((await ctx.store.get<[string, HostFacts][]>(FACTS_KEY)) ?? []);
    this.placement = await ctx.store.get<MdmMember[]>(PLACEMENT_KEY);
    await this.recompute();
  }

  async stop(): Promise<void> {
    await this.chain.catch(() => {});
  }

  /** Recomputations are serialised: each sees the state left by the previous one. */
  recompute(): Promise<void> {
    const next = this.chain.catch(() => {}).then(() => this.doRecompute());
    this.chain = next;
    return next;
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
    const agents = this.ctx.agents.active().map((a) => this.toFacts(a));
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
    const layout = planStorage(agents, this.opts.strategy);
    this.layout = layout;
    this.agentProblems = layout.nodes
      .filter((n) => n.problems.length > 0)
      .map((n) => ({ agentId: n.agentId, problems: n.problems }));
    for (const p of this.agentProblems)
      this.ctx.logger.warn({ agentId: p.agentId, problems: p.problems }, "agent storage left out");
    const ipOf = (id: string) => agents.find((a) => a.agentId === id)?.ip ?? id;
    const plan = buildDeployPlan(
      {
        agents,
        facts: this.facts,
        ...(mdms
          ? { mdms }
          : { existingManagers: "existing" in mode ? mode.existing.managers : [] }),
        layout,
        systemName: this.opts.systemName,
        packageUrl: this.opts.packageUrl,
        rexray: this.opts.rexray,
        ...(this.opts.isolator ? { isolator: this.opts.isolator } : {}),
      },
      {
        node: (agentId, kind, params, ctx, o) => this.ctx.runNode(agentId, kind, params, ctx, o),
        saveFacts: async (agentId, f) => {
          this.facts.set(agentId, f);
          await this.ctx.store.set(FACTS_KEY, [...this.facts]);
          void this.recompute();
        },
        prepareDomains: (l, ctx) => this.opts.cluster.prepareDomains(l, ctx),
        applyAgent: (l, agentId, ctx) => this.opts.cluster.applyAgent(l, agentId, ipOf, ctx),
        verify: (ctx) => this.opts.cluster.verify(ctx),
      },
    );
    await this.ctx.engine.setPlan(plan);
  }

  /** The MDM members (empty until placed, or in existing-cluster mode). */
  get mdms(): MdmMember[] {
    return this.placement ?? [];
  }

  factsOf(agentId: string): HostFacts | undefined {
    return this.facts.get(agentId);
  }

  // ---- operator view ---------------------------------------------------------------------

  async summary(): Promise<ClusterView> {
    if (!this.opts.cluster.observe) throw new Error("the cluster cannot be observed");
    const { summary: s, sdcs } = await this.opts.cluster.observe();
    this.sdcStates = sdcs;
    const kb = (n: number) => n * 1024;
    return {
      systemId: s.systemId,
      systemName: s.systemName,
      ...(s.mdmMode ? { mdmMode: s.mdmMode } : {}),
      ...(s.clusterState ? { mdmState: s.clusterState } : {}),
      sds: { total: s.sdsTotal, connected: s.sdsConnected },
      sdc: { total: s.sdcTotal, connected: s.sdcConnected },
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
    if (agent && agent.lostSince === undefined) roles.push("sdc", "lia");
    const sdc = agent ? this.sdcStates.find((c) => c.ip === agent.ip) : undefined;
    return {
      roles,
      devices,
      ...(sdc
        ? {
            sdc: {
              ...(sdc.guid ? { guid: sdc.guid } : {}),
              ...(sdc.state ? { state: sdc.state } : {}),
            },
          }
        : {}),
      ...(node?.problems.length ? { problems: node.problems } : {}),
    };
  }

  problems(): string[] {
    const out: string[] = [];
    if (this.waitingFor) out.push(`waiting: ${this.waitingFor}`);
    for (const p of this.agentProblems) out.push(`agent ${p.agentId}: ${p.problems.join("; ")}`);
    return out;
  }
}
