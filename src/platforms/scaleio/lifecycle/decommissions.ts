// The platform's record of decommissioned nodes (persisted) and the operator requests that
// change it: a decommission is refused with the figures when the node may not go, otherwise
// recorded at once (the deploy plan then leaves the node out, and the spare policy counts one
// SDS fewer) and carried out by the `decommission` plan; a recommission drops the record, so
// the deploy plan on-boards the node again.
import type { PlatformContext } from "../../../framework/scheduler.js";
import type { StepContext } from "../../../framework/plan/types.js";
import {
  NodeRequestRefused,
  type DecommissionRequest,
  type DecommissionStarted,
  type NodeDecommission,
} from "../../../framework/node-lifecycle.js";
import type { GatewayClient } from "../gateway/client.js";
import type { Component } from "../node/common.js";
import {
  buildDecommissionPlan,
  DECOMMISSION_PLAN,
  poolRoom,
  readDecommissionFacts,
  type DecommissionTarget,
  type PoolRoom,
} from "./decommission.js";

const KEY = "scaleio/decommissions";

/** What decommission needs of the cluster side. */
export interface DecommissionOptions {
  client: () => GatewayClient;
  system: { name?: string; id?: string };
  /** How often a removal in progress is looked at (default 2 s). */
  pollMs?: number;
}

export interface DecommissionHost {
  ctx: PlatformContext;
  opts: DecommissionOptions;
  /** Agents that are MDM members by the framework's placement. */
  mdmAgents(): string[];
  /** The spare percentage per `<domain>/<pool>` the framework would set without this agent. */
  spareWithout(agentId: string): Map<string, number>;
  /** The deploy plan is computed again (it leaves decommissioned nodes out). */
  recompute(): Promise<void>;
  /** The health gate, when the cluster is observed. */
  gate?(ctx: StepContext): Promise<void>;
  /** Of `among`, what the framework added on the agent (the uninstall's rule). */
  added(agentId: string, among: Component[]): Component[];
  /** The module description the isolator step writes (module mode). */
  modulesFile?: string;
}

interface DecommissionRecord extends NodeDecommission {
  hostname: string;
  ip: string;
}

const bytes = (kb: number) => kb * 1024;

/** A pool's figures as the API shows them (bytes). */
function poolFigures(r: PoolRoom) {
  return {
    pool: r.pool,
    nodeUsedBytes: bytes(r.sdsUsedKb),
    freeAfterBytes: bytes(r.freeAfterKb),
    spareAfterBytes: bytes(r.spareAfterKb),
    sparePercentAfter: r.sparePercentAfter,
    faultUnitsAfter: r.faultUnitsAfter,
  };
}

export class Decommissions {
  private readonly records = new Map<string, DecommissionRecord>();

  constructor(private readonly host: DecommissionHost) {}

  async load(): Promise<void> {
    const saved = (await this.host.ctx.store.get<Record<string, DecommissionRecord>>(KEY)) ?? {};
    for (const [id, r] of Object.entries(saved)) this.records.set(id, r);
    await this.installPlan();
  }

  /** Left out of the deploy plan: being decommissioned, or decommissioned. */
  excludes(agentId: string): boolean {
    return this.records.has(agentId);
  }

  stateOf(agentId: string): NodeDecommission | undefined {
    const r = this.records.get(agentId);
    return r ? { state: r.state, since: r.since, removeClient: r.removeClient } : undefined;
  }

  async decommission(
    agentId: string,
    req: DecommissionRequest,
  ): Promise<DecommissionStarted & { pools: ReturnType<typeof poolFigures>[] }> {
    const { ctx } = this.host;
    const agent = ctx.agents.get(agentId);
    if (!agent) throw new NodeRequestRefused(404, "UNKNOWN_AGENT", `no agent '${agentId}'`);
    const who = `agent ${agentId} (${agent.hostname})`;
    const known = this.records.get(agentId);
    if (known)
      throw new NodeRequestRefused(
        409,
        known.state === "decommissioned" ? "ALREADY_DECOMMISSIONED" : "DECOMMISSION_RUNNING",
        `${who} is already ${known.state}`,
      );
    const running = [...this.records.values()].find((r) => r.state === "decommissioning");
    if (running)
      throw new NodeRequestRefused(
        409,
        "DECOMMISSION_RUNNING",
        `${running.hostname} is being decommissioned: one node at a time (the room left in its pools changes)`,
      );
    if (agent.lostSince !== undefined)
      throw new NodeRequestRefused(
        409,
        "AGENT_LOST",
        `${who} is lost: its data cannot be moved off it gracefully; replace it instead`,
      );
    const mdmRefusal = (role: string) =>
      new NodeRequestRefused(
        409,
        "MDM_MEMBER",
        `${who} is an MDM member (${role}): replace it first (POST /v1/nodes/${agentId}/replace), then decommission it`,
        { mdmRole: role },
      );
    if (this.host.mdmAgents().includes(agentId)) throw mdmRefusal("placed by the framework");
    const spare = this.host.spareWithout(agentId);
    let facts;
    try {
      facts = await readDecommissionFacts(
        this.host.opts.client(),
        this.host.opts.system,
        agent.ip,
        (pool) => spare.get(pool),
      );
    } catch (err) {
      throw new NodeRequestRefused(
        503,
        "CLUSTER_UNREADABLE",
        `the cluster cannot be read to check the room left without ${agent.hostname}: ${(err as Error).message}`,
      );
    }
    if (facts.mdmRole) throw mdmRefusal(facts.mdmRole);
    // An SDS the framework did not add stays (existing cluster): its pools lose nothing.
    const sdsStays = facts.sds !== undefined && this.host.added(agentId, ["sds"]).length === 0;
    const rooms = sdsStays ? [] : facts.pools.map(poolRoom);
    const problems = rooms.flatMap((r) => r.problems);
    if (problems.length > 0)
      throw new NodeRequestRefused(
        409,
        "INSUFFICIENT_CAPACITY",
        `${who} cannot be decommissioned: ${problems.join("; ")}`,
        { pools: rooms.map(poolFigures) },
      );
    this.records.set(agentId, {
      state: "decommissioning",
      since: Date.now(),
      removeClient: req.removeClient,
      hostname: agent.hostname,
      ip: agent.ip,
    });
    await this.save();
    ctx.logger.info(
      { agentId, removeClient: req.removeClient, pools: rooms.map(poolFigures) },
      "decommission accepted",
    );
    await this.installPlan();
    await this.host.recompute();
    const sds = facts.sds
      ? `SDS ${facts.sds.name ?? facts.sds.id}${sdsStays ? " kept: the framework did not install it" : ""}`
      : "no SDS";
    return {
      planId: DECOMMISSION_PLAN,
      phaseId: `node/${agentId}`,
      message: `decommissioning ${agent.hostname} (${sds}${req.removeClient ? ", SDC removed too" : ""})`,
      pools: rooms.map(poolFigures),
    };
  }

  async recommission(agentId: string): Promise<void> {
    const { ctx } = this.host;
    const agent = ctx.agents.get(agentId);
    if (!agent) throw new NodeRequestRefused(404, "UNKNOWN_AGENT", `no agent '${agentId}'`);
    const r = this.records.get(agentId);
    if (!r)
      throw new NodeRequestRefused(
        409,
        "NOT_DECOMMISSIONED",
        `agent ${agentId} (${agent.hostname}) is not decommissioned`,
      );
    const removal = ctx.engine.progressOf(DECOMMISSION_PLAN, `remove-sds/${agentId}`);
    if (r.state === "decommissioning" && removal?.status === "IN_PROGRESS")
      throw new NodeRequestRefused(
        409,
        "DECOMMISSION_RUNNING",
        `the SDS of ${agent.hostname} is being removed (the MDM cannot stop that): recommission it once the step is done`,
      );
    this.records.delete(agentId);
    await this.save();
    ctx.logger.info({ agentId }, "recommissioned: on-boarded again by the deploy plan");
    await this.installPlan();
    await this.host.recompute();
  }

  private async finished(agentId: string): Promise<void> {
    const r = this.records.get(agentId);
    if (!r) return;
    r.state = "decommissioned";
    await this.save();
  }

  private save(): Promise<void> {
    return this.host.ctx.store.set(KEY, Object.fromEntries(this.records));
  }

  private async installPlan(): Promise<void> {
    const { ctx } = this.host;
    const targets: DecommissionTarget[] = [...this.records].map(([agentId, r]) => ({
      agentId,
      hostname: r.hostname,
      ip: r.ip,
      removeSdc: r.removeClient,
    }));
    if (targets.length === 0) {
      if (ctx.engine.planIds().includes(DECOMMISSION_PLAN))
        await ctx.engine.removePlan(DECOMMISSION_PLAN);
      return;
    }
    const release = ctx.releaseAgent;
    await ctx.engine.setPlan(
      buildDecommissionPlan(targets, {
        gateway: () => this.host.opts.client(),
        system: this.host.opts.system,
        node: (agentId, kind, params, sctx) => ctx.runNode(agentId, kind, params, sctx),
        release: (agentId, sctx) => {
          if (!release) throw new Error("this scheduler cannot release an agent's reservations");
          return release(agentId, sctx);
        },
        finished: (agentId) => this.finished(agentId),
        added: (agentId, among) => this.host.added(agentId, among),
        ...(this.host.modulesFile ? { modulesFile: this.host.modulesFile } : {}),
        ...(this.host.gate ? { gate: this.host.gate } : {}),
        ...(this.host.opts.pollMs !== undefined ? { pollMs: this.host.opts.pollMs } : {}),
      }),
    );
  }
}
