// Replacing a lost or failing node (reference 6.7): its MDM member moves to a new agent chosen by
// the first placement's rules (install the MDM with its role -> add it as standby ->
// replace_cluster_mdm -> remove the failed standby -> the placement names the new member), the
// components that name the managers by address follow (SDCs, the gateway; REX-Ray's step
// follows the gateway by its own fingerprint in the deploy plan), and an SDS on a lost agent is
// removed once its data has been rebuilt elsewhere, after which the layout forgets the node.
// The request is persisted, so the `replace` plan is set again after a restart and its steps
// (each idempotent) carry on where they were.
import type { AgentRecord, AgentRegistry } from "../../../framework/agents.js";
import type { PlanEngine } from "../../../framework/plan/engine.js";
import type {
  PhaseDefinition,
  PlanDefinition,
  StepContext,
} from "../../../framework/plan/types.js";
import type { PlatformContext } from "../../../framework/scheduler.js";
import type { StateStore } from "../../../store/store.js";
import type { MesosLogger } from "../../../mesos/logger.js";
import type { ConditionFinding } from "../../../framework/health/types.js";
import type { Component, HostFacts } from "../deploy-plan.js";
import type { ObservedCluster } from "../observe/model.js";
import { observedUntil, type ObservationSource } from "../observe/wait.js";
import type { AgentFacts } from "../topology/facts.js";
import { placeReplacement, type MdmMember } from "../topology/mdm-placement.js";

export const REPLACE_PLAN = "replace";
const JOB_KEY = "scaleio/replace";

export type ReplaceErrorCode =
  | "UNKNOWN_AGENT"
  | "AGENT_HEALTHY"
  | "NOTHING_TO_REPLACE"
  | "NO_ELIGIBLE_AGENT"
  | "NO_QUORUM"
  | "REPLACE_IN_PROGRESS"
  | "NOT_PROVISIONED";

/** A refusal: the operator API answers it with its status and stable code. */
export class ReplaceError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ReplaceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ReplaceError";
    this.statusCode = code === "UNKNOWN_AGENT" ? 404 : 409;
  }
}

/** What a replacement does, as decided when it was asked for (persisted). */
export interface ReplaceJob {
  agentId: string;
  hostname: string;
  ip: string;
  requestedAt: number;
  forced: boolean;
  /** Asked for by the automatic MDM replacement, not an operator. */
  auto: boolean;
  mdm?: {
    failed: MdmMember;
    added: MdmMember;
    /** The placement once done. */
    members: MdmMember[];
    /** Addresses of the managers once done (SDCs and the gateway are pointed at them). */
    managerIps: string[];
  };
  /** The agent's SDS is removed once its data is rebuilt elsewhere (lost agents only). */
  removeSds: boolean;
}

/** What the observer offers a replacement: the latest look and waits on the next ones. */
export interface ReplaceObserver extends ObservationSource {
  readonly latest: ObservedCluster | undefined;
  readonly error: string | undefined;
  readonly findings: ConditionFinding[];
}

export interface ReplaceDeps {
  engine: PlanEngine;
  agents: AgentRegistry;
  store: StateStore;
  logger: MesosLogger;
  notify?: PlatformContext["notify"];
  runNode: PlatformContext["runNode"];
  /** Provisioned clusters only: the MDM placement, and what an MDM node needs free. */
  provision?: { need: { cpus: number; memMb: number } };
  placement(): MdmMember[] | undefined;
  /** Persists the placement and recomputes the deploy plan with it. */
  savePlacement(members: MdmMember[]): Promise<void>;
  /** The layout forgets the agent (its SDS is gone). */
  forget(agentId: string): Promise<void>;
  facts(agentId: string): HostFacts | undefined;
  toFacts(agent: AgentRecord): AgentFacts;
  /** Agents the layout already forgot: never candidates. */
  retired(agentId: string): boolean;
  packageUrl(format: "deb" | "rpm", component: Component): string;
  observer?: ReplaceObserver;
  /** Gateway removeSds. */
  removeSds?(sdsId: string): Promise<void>;
  /** Gateway removeSdc (refused while volumes are mapped to it). */
  removeSdc?(sdcId: string): Promise<void>;
}

const ipsOf = (o: ObservedCluster, ip: string) => ({
  mdm: o.mdm.members.find((m) => m.ips.includes(ip)),
  sds: o.sds.find((s) => s.ips.includes(ip)),
});

/** Voting members answering, and how many a majority needs. */
export function quorumOf(o: ObservedCluster): { alive: number; voters: number; needed: number } {
  const voters = o.mdm.members.filter((m) => m.role !== "standby");
  const alive = voters.filter((m) => m.status === "Normal").length;
  return { alive, voters: voters.length, needed: Math.floor(voters.length / 2) + 1 };
}

export class NodeReplacer {
  private job: ReplaceJob | undefined;

  constructor(private readonly deps: ReplaceDeps) {}

  /** Sets the plan again for a replacement asked for before a restart. */
  async start(): Promise<void> {
    this.job = await this.deps.store.get<ReplaceJob>(JOB_KEY);
    if (this.job) await this.deps.engine.setPlan(this.plan(this.job));
  }

  get current(): ReplaceJob | undefined {
    return this.job;
  }

  /** True while a replacement's plan has work left. */
  busy(): boolean {
    if (!this.job || !this.deps.engine.planIds().includes(REPLACE_PLAN)) return false;
    return this.deps.engine.view(REPLACE_PLAN).status !== "COMPLETE";
  }

  /** Decides what replacing the agent means, refuses what cannot be done, and plans it. */
  async request(
    agentId: string,
    opts: { force?: boolean; auto?: boolean } = {},
  ): Promise<ReplaceJob> {
    const d = this.deps;
    const agent = d.agents.get(agentId);
    if (!agent) throw new ReplaceError("UNKNOWN_AGENT", `no agent '${agentId}'`);
    const name = `${agent.hostname} (${agentId})`;
    if (this.busy() && this.job!.agentId !== agentId)
      throw new ReplaceError(
        "REPLACE_IN_PROGRESS",
        `the replacement of ${this.job!.hostname} is still under way; one node is replaced at a time`,
      );
    const o = d.observer?.latest;
    if (!o || d.observer?.error) {
      throw new ReplaceError(
        "NO_QUORUM",
        `the MDM cluster does not answer${d.observer?.error ? `: ${d.observer.error}` : ""}; nothing can be replaced without quorum`,
      );
    }
    const q = quorumOf(o);
    if (q.alive < q.needed)
      throw new ReplaceError(
        "NO_QUORUM",
        `the MDM cluster has no quorum (${q.alive} of ${q.voters} members answer, ${q.needed} needed): restore a member first`,
      );
    const lost = agent.lostSince !== undefined;
    const seen = ipsOf(o, agent.ip);
    const failing =
      (seen.mdm !== undefined && seen.mdm.status !== "Normal") ||
      (seen.sds !== undefined && !seen.sds.connected);
    if (!lost && !failing && !opts.force)
      throw new ReplaceError(
        "AGENT_HEALTHY",
        `${name} is neither lost nor failing (its MDM and SDS answer); send {"force": true} to replace it anyway`,
      );

    const placement = d.placement();
    const member = placement?.find((m) => m.agentId === agentId);
    let mdm: ReplaceJob["mdm"];
    if (member) {
      if (!d.provision)
        throw new ReplaceError(
          "NOT_PROVISIONED",
          "the MDM cluster was not provisioned by the framework: replace its members with its own tools",
        );
      const r = placeReplacement({
        agents: d.agents
          .active()
          .filter((a) => !d.retired(a.agentId))
          .map((a) => d.toFacts(a)),
        members: placement!,
        failedAgentId: agentId,
        need: d.provision.need,
      });
      if (!r.ok) throw new ReplaceError("NO_ELIGIBLE_AGENT", r.reason);
      for (const w of r.warnings) d.logger.warn({ warning: w }, "MDM replacement placement");
      const ipOf = (id: string) => d.agents.get(id)?.ip ?? id;
      mdm = {
        failed: r.failed,
        added: r.added,
        members: r.members,
        managerIps: r.members.filter((m) => m.role !== "tiebreaker").map((m) => ipOf(m.agentId)),
      };
    }
    const removeSds = lost && seen.sds !== undefined;
    if (!mdm && !removeSds)
      throw new ReplaceError(
        "NOTHING_TO_REPLACE",
        lost
          ? `${name} holds no MDM member and no SDS of the cluster: nothing to replace`
          : `${name} holds no MDM member; an SDS is removed only from a lost agent (decommission a live one)`,
      );
    const job: ReplaceJob = {
      agentId,
      hostname: agent.hostname,
      ip: agent.ip,
      requestedAt: Date.now(),
      forced: !lost && !failing,
      auto: opts.auto === true,
      ...(mdm ? { mdm } : {}),
      removeSds,
    };
    await d.store.set(JOB_KEY, job);
    this.job = job;
    // A new replacement starts from nothing (step ids may repeat those of an earlier one).
    await d.engine.removePlan(REPLACE_PLAN);
    await d.engine.setPlan(this.plan(job));
    const msg = `${opts.auto ? "automatic replacement" : "replacement"} planned: ${describeJob(job).message}`;
    if (d.notify) d.notify("info", msg);
    else d.logger.info({ agentId }, msg);
    return job;
  }

  /** The `replace` plan of a job. */
  plan(job: ReplaceJob): PlanDefinition {
    const phases: PhaseDefinition[] = [];
    if (job.mdm) phases.push(...this.mdmPhases(job, job.mdm));
    if (job.removeSds) phases.push(this.sdsPhase(job));
    return { id: REPLACE_PLAN, name: `Replace ${job.hostname}`, strategy: "serial", phases };
  }

  private mdmPhases(job: ReplaceJob, m: NonNullable<ReplaceJob["mdm"]>): PhaseDefinition[] {
    const d = this.deps;
    const ipOf = (id: string) => d.agents.get(id)?.ip ?? id;
    const host = (id: string) => d.agents.get(id)?.hostname ?? id;
    const newId = m.added.agentId;
    const role = m.failed.role === "tiebreaker" ? "tiebreaker" : "manager";
    // scli runs on a manager that stays (a live one when there is one).
    const managers = m.members.filter((x) => x.role !== "tiebreaker" && x.agentId !== newId);
    const runner =
      managers.find((x) => d.agents.get(x.agentId)?.lostSince === undefined) ?? managers[0]!;
    const phases: PhaseDefinition[] = [
      {
        id: "mdm",
        name: `Replace MDM ${m.failed.name}`,
        strategy: "serial",
        steps: [
          {
            id: `install-mdm/${newId}`,
            name: `install the MDM (${role}) on ${host(newId)}`,
            asset: newId,
            run: async (ctx) => {
              const facts = d.facts(newId);
              if (!facts) throw new Error(`no host facts for ${host(newId)} yet`);
              await d.runNode(
                newId,
                "scaleio.install-package",
                { component: "mdm", mdmRole: role, url: d.packageUrl(facts.packageFormat, "mdm") },
                ctx,
              );
            },
          },
          {
            id: `swap-mdm/${job.agentId}`,
            name: `${m.added.name} replaces ${m.failed.name} in the MDM cluster`,
            asset: runner.agentId,
            run: async (ctx) => {
              await d.runNode(
                runner.agentId,
                "scaleio.mdm-replace",
                {
                  failed: { name: m.failed.name, ip: job.ip },
                  replacement: { name: m.added.name, ip: ipOf(newId) },
                  role,
                },
                ctx,
                { secrets: ["adminPassword"] },
              );
              await this.observedMembers(m, ctx);
            },
          },
          {
            id: `placement/${job.agentId}`,
            name: `the placement names ${m.added.name} on ${host(newId)}`,
            run: async (ctx) => {
              ctx.progress("recording the new placement");
              await d.savePlacement(m.members);
            },
          },
        ],
      },
    ];
    // A tie-breaker has no address that SDCs or the gateway know.
    if (role === "manager") {
      const primary = m.members.find((x) => x.role === "primary")!;
      const clients = d.agents
        .active()
        .filter((a) => a.agentId !== job.agentId && !d.retired(a.agentId));
      phases.push({
        id: "addresses",
        name: "Point SDCs and the gateway at the new managers",
        strategy: "parallel",
        dependsOn: ["mdm"],
        steps: [
          {
            id: `gateway/${primary.agentId}`,
            name: `the gateway's MDM addresses on ${host(primary.agentId)}`,
            asset: primary.agentId,
            run: async (ctx) => {
              await d.runNode(
                primary.agentId,
                "scaleio.gateway-mdms",
                { mdmIps: m.managerIps },
                ctx,
              );
            },
          },
          ...clients.map((a) => ({
            id: `sdc/${a.agentId}`,
            name: `the SDC on ${a.hostname} knows the new managers`,
            asset: a.agentId,
            run: async (ctx: StepContext) => {
              await d.runNode(a.agentId, "scaleio.sdc-mdms", { mdmIps: m.managerIps }, ctx);
            },
          })),
          {
            id: "rexray",
            name: "REX-Ray's configuration follows the gateway",
            run: async (ctx) => {
              // The deploy plan's REX-Ray steps carry the gateway endpoint as fingerprint: they
              // are written again when it moved (a replaced primary); this waits for them.
              ctx.progress("waiting for the deploy plan's REX-Ray steps");
              await rexrayWritten(d.engine, ctx);
            },
          },
        ],
      });
    }
    return phases;
  }

  /** Waits until the gateway shows the new member voting and the failed one gone. */
  private async observedMembers(
    m: NonNullable<ReplaceJob["mdm"]>,
    ctx: StepContext,
  ): Promise<void> {
    const obs = this.deps.observer;
    if (!obs) return;
    const newIp = this.deps.agents.get(m.added.agentId)?.ip;
    const oldIp = this.job?.ip;
    ctx.progress("waiting for the cluster to show the new member");
    await observedUntil(
      obs,
      (o) =>
        o.mdm.members.some((x) => newIp && x.ips.includes(newIp) && x.role !== "standby") &&
        !o.mdm.members.some((x) => oldIp && x.ips.includes(oldIp)),
      "the new MDM member in the cluster",
      ctx,
      5 * 60_000,
    );
  }

  private sdsPhase(job: ReplaceJob): PhaseDefinition {
    const d = this.deps;
    return {
      id: "storage",
      name: `Remove the SDS of ${job.hostname}`,
      strategy: "serial",
      steps: [
        {
          id: `remove-sds/${job.agentId}`,
          name: `remove the SDS of ${job.hostname} once its data is rebuilt elsewhere`,
          run: (ctx) => this.removeSds(job, ctx),
        },
        {
          id: `forget/${job.agentId}`,
          name: `the layout forgets ${job.hostname}`,
          run: async (ctx) => {
            await this.removeLostSdc(job, ctx);
            await d.forget(job.agentId);
          },
        },
      ],
    };
  }

  /**
   * The lost node's SDC goes too (a disconnected SDC would hold every later verification of
   * the cluster), unless volumes are still mapped to it: then it stays, and the step says so.
   */
  private async removeLostSdc(job: ReplaceJob, ctx: StepContext): Promise<void> {
    const d = this.deps;
    const sdc = d.observer?.latest?.sdcs.find((c) => c.ip === job.ip);
    if (!sdc || sdc.connected || !d.removeSdc) return;
    try {
      await d.removeSdc(sdc.id);
      ctx.progress(`removed the SDC of ${job.hostname}`);
    } catch (err) {
      const why = (err as Error).message;
      d.logger.warn({ agentId: job.agentId, err: why }, "the lost node's SDC stays");
      ctx.progress(`the SDC of ${job.hostname} stays: ${why}`);
    }
  }

  private async removeSds(job: ReplaceJob, ctx: StepContext): Promise<void> {
    const d = this.deps;
    const obs = d.observer;
    if (!obs || !d.removeSds)
      throw new Error("the cluster is not observed: SDSs cannot be removed");
    let said: string | undefined;
    const say = (why: string) => {
      if (why !== said) ctx.progress((said = why));
    };
    // 1. Its data rebuilt elsewhere: no pool of its domain degraded, failed or rebuilding.
    await observedUntil(
      obs,
      (o, findings) => rebuildReason(o, findings, job.ip) === undefined,
      "the lost SDS's data rebuilt elsewhere",
      ctx,
      undefined,
      (o, findings) => say(`waiting: ${rebuildReason(o, findings, job.ip)}`),
    );
    // 2. Removed (gracefully: nothing is left on it to move).
    const sds = obs.latest ? ipsOf(obs.latest, job.ip).sds : undefined;
    if (sds && !/removal|removing/i.test(sds.state ?? "")) {
      ctx.progress(`removing SDS ${sds.name ?? sds.id}`);
      try {
        await d.removeSds(sds.id);
      } catch (err) {
        // Asked before a crash: the removal is under way, which is what is wanted.
        if (!/already in progress/i.test((err as Error).message)) throw err;
        d.logger.info({ sds: sds.id }, "SDS removal already under way");
      }
    }
    await observedUntil(
      obs,
      (o) => ipsOf(o, job.ip).sds === undefined,
      "the SDS removed",
      ctx,
      30 * 60_000,
      () => say("waiting: the MDM removes the SDS"),
    );
  }
}

/** Resolves once every REX-Ray step of the deploy plan is complete (none, or no plan: at once). */
function rexrayWritten(engine: PlanEngine, ctx: StepContext): Promise<void> {
  const done = () =>
    !engine.planIds().includes("deploy") ||
    engine
      .view("deploy")
      .phases.flatMap((p) => p.steps)
      .filter((s) => s.id.startsWith("rexray/"))
      .every((s) => s.status === "COMPLETE");
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!done()) return;
      stop();
      resolve();
    };
    const onAbort = () => {
      stop();
      reject(ctx.signal.reason as Error);
    };
    const stop = () => {
      engine.off("step", check);
      engine.off("plan", check);
      ctx.signal.removeEventListener("abort", onAbort);
    };
    engine.on("step", check);
    engine.on("plan", check);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    if (ctx.signal.aborted) return onAbort();
    check();
  });
}

/** Why the data of the SDS at `ip` is not rebuilt elsewhere yet; undefined once it is. */
export function rebuildReason(
  o: ObservedCluster,
  findings: readonly ConditionFinding[],
  ip: string,
): string | undefined {
  const sds = o.sds.find((s) => s.ips.includes(ip));
  if (!sds) return undefined;
  const pools = o.pools.filter((p) => p.protectionDomainId === sds.protectionDomainId);
  const names = new Set(pools.map((p) => `pool/${p.protectionDomainName}/${p.name}`));
  const rebuilding = findings.filter(
    (f) => (f.type === "Rebuilding" || f.type === "RebuildStuck") && names.has(f.object),
  );
  if (rebuilding.length > 0) return rebuilding.map((f) => f.message).join("; ");
  const busy = pools.filter((p) => p.degradedKb > 0 || p.failedKb > 0 || p.rebuildRemainingKb > 0);
  if (busy.length > 0)
    return busy
      .map(
        (p) =>
          `pool ${p.name}: ${Math.ceil((p.degradedKb + p.rebuildRemainingKb) / 1024)} MB still to rebuild${p.failedKb > 0 ? `, ${Math.ceil(p.failedKb / 1024)} MB with no copy left` : ""}`,
      )
      .join("; ");
  return undefined;
}

/** A job in words for operators (the API's answer), and the agent taking over, if any. */
export function describeJob(job: ReplaceJob): { message: string; replacement?: string } {
  const parts: string[] = [];
  if (job.mdm)
    parts.push(
      `MDM ${job.mdm.failed.name} (${job.mdm.failed.role}) is replaced by ${job.mdm.added.name} on agent ${job.mdm.added.agentId}`,
    );
  if (job.removeSds) parts.push("its SDS is removed once its data is rebuilt elsewhere");
  return {
    message: `${job.hostname}: ${parts.join("; ")}`,
    ...(job.mdm ? { replacement: job.mdm.added.agentId } : {}),
  };
}
