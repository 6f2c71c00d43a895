// ScaleIO as a storage platform of the framework: it keeps the MDM placement and the host
// facts executors reported (persisted), computes the storage layout with the configured
// strategy, and (re)installs the `deploy` plan whenever agents or facts change. Cluster-side
// operations (REST gateway) are given to it, so the same platform runs against a real
// gateway or the emulator.
import type { Platform, PlatformContext } from "../../framework/scheduler.js";
import type { StepContext } from "../../framework/plan/types.js";
import type { AgentRecord } from "../../framework/agents.js";
import { buildDeployPlan, type Component, type HostFacts } from "./deploy-plan.js";
import { placeMdms, type MdmMember } from "./topology/mdm-placement.js";
import { planStorage, type StorageLayout, type StrategyInput } from "./topology/storage.js";
import { TopologyError, type AgentFacts } from "./topology/facts.js";
import { LatestWriter } from "../../store/latest-writer.js";

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
  /** A recomputation asked for and not begun yet: later requests share it. */
  private queued: Promise<void> | undefined;
  private factsWriter!: LatestWriter;
  /** Why agents (or the whole cluster) cannot be deployed as asked; shown to operators. */
  problems: NodeProblem[] = [];
  waitingFor: string | undefined;

  constructor(opts: ScaleIOPlatformOptions) {
    this.opts = opts;
  }

  async start(ctx: PlatformContext): Promise<void> {
    this.ctx = ctx;
    this.facts = new Map((await ctx.store.get<[string, HostFacts][]>(FACTS_KEY)) ?? []);
    this.factsWriter = new LatestWriter(ctx.store, FACTS_KEY, () => [...this.facts]);
    this.placement = await ctx.store.get<MdmMember[]>(PLACEMENT_KEY);
    await this.recompute();
  }

  async stop(): Promise<void> {
    await this.chain.catch(() => {});
  }

  /**
   * Recomputations are serialised: each sees the state left by the previous one. Requests
   * made before the queued one begins share it (a burst of new agents or facts costs one
   * plan computation, not one per agent).
   */
  recompute(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.chain
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        return this.doRecompute();
      });
    this.queued = next;
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
    this.problems = layout.nodes
      .filter((n) => n.problems.length > 0)
      .map((n) => ({ agentId: n.agentId, problems: n.problems }));
    for (const p of this.problems)
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
          await this.factsWriter.save();
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
}
