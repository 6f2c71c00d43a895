// SDS instant maintenance (reference 6.5) for Mesos maintenance windows and operators: one
// SDS per protection domain at a time, never while a pool of that domain is degraded or a
// rebuild or critical condition holds the gate. Entering and leaving are steps of the
// `maintenance` plan (one phase per node), so they show in plans, events and the UI, can be
// paused, and survive a restart: what each node should be is persisted, the steps act on it.
// An MDM master's node first hands mastership to another manager.
import type { PlanEngine } from "../../../framework/plan/engine.js";
import type {
  PlanDefinition,
  PhaseDefinition,
  StepContext,
} from "../../../framework/plan/types.js";
import type { ConditionFinding } from "../../../framework/health/types.js";
import type { AgentRegistry } from "../../../framework/agents.js";
import type {
  MaintenanceAnswer,
  MaintenanceWindow,
  NodeMaintenanceView,
} from "../../../framework/maintenance/inverse-offers.js";
import type { StateStore } from "../../../store/store.js";
import type { MesosLogger } from "../../../mesos/logger.js";
import type { GatewayClient } from "../gateway/client.js";
import type { ObservedCluster, ObservedMdm, ObservedSds } from "../observe/model.js";
import { observedUntil, type ObservationSource } from "../observe/wait.js";
import { gateReason } from "./health-gate.js";

export const MAINTENANCE_PLAN_ID = "maintenance";
const KEY = "scaleio/maintenance";

/** The cluster-side calls maintenance needs (the REST gateway's, or a fake's). */
export interface MaintenanceGateway {
  enterMaintenance(sdsId: string): Promise<void>;
  exitMaintenance(sdsId: string): Promise<void>;
  /** Makes the manager `mdmId` the master. */
  changeMdmOwnership(systemId: string, mdmId: string): Promise<void>;
}

export function gatewayMaintenance(client: () => GatewayClient): MaintenanceGateway {
  return {
    enterMaintenance: async (id) => {
      await client().call("POST", `/api/instances/Sds::${id}/action/enterMaintenanceMode`, {});
    },
    exitMaintenance: async (id) => {
      await client().call("POST", `/api/instances/Sds::${id}/action/exitMaintenanceMode`, {});
    },
    changeMdmOwnership: async (systemId, mdmId) => {
      await client().call("POST", `/api/instances/System::${systemId}/action/changeMdmOwnership`, {
        id: mdmId,
      });
    },
  };
}

/** What a node should be, and who asked. */
export interface NodeMaintenance {
  agentId: string;
  hostname: string;
  ip: string;
  /** `in`: into maintenance (and stay); `out`: back into service. */
  want: "in" | "out";
  by: "mesos" | "operator";
  /** Counts the times the node was asked in: a new round runs the steps again. */
  round: number;
  since: number;
  window?: MaintenanceWindow;
}

export interface MaintenanceObserver extends ObservationSource {
  readonly latest: ObservedCluster | undefined;
  readonly findings: ConditionFinding[];
}

export interface MaintenanceHost {
  engine: PlanEngine;
  agents: AgentRegistry;
  store: StateStore;
  logger: MesosLogger;
  notify(level: "info" | "warn", message: string): void;
  observer: MaintenanceObserver;
  gateway: MaintenanceGateway;
  /** How long a step waits for the cluster to show a change (default 120 s). */
  settleTimeoutMs?: number;
  /**
   * How long before a Mesos window starts its SDS enters maintenance (default 10 min): in
   * maintenance, new writes have one copy, so the SDS goes no earlier than it must.
   */
  leadMs?: number;
  now?: () => number;
}

/** A refused request: the API answers it with this status and the reason. */
export class MaintenanceRefused extends Error {
  constructor(
    readonly statusCode: 404 | 409,
    readonly code: "UNKNOWN_AGENT" | "MAINTENANCE_REFUSED" | "NOT_IN_MAINTENANCE",
    message: string,
  ) {
    super(message);
    this.name = "MaintenanceRefused";
  }
}

const isIn = (s: Pick<ObservedSds, "maintenance">) =>
  s.maintenance !== undefined && s.maintenance !== "NoMaintenance";
const sdsName = (s: ObservedSds) => s.name ?? s.id;

export function sdsOf(o: ObservedCluster, ip: string): ObservedSds | undefined {
  return o.sds.find((s) => s.ips.includes(ip));
}

export function masterOn(o: ObservedCluster, ip: string): ObservedMdm | undefined {
  return o.mdm.members.find((m) => m.role === "master" && m.ips.includes(ip));
}

function domainName(o: ObservedCluster, pdId: string): string {
  return o.pools.find((p) => p.protectionDomainId === pdId)?.protectionDomainName ?? pdId;
}

/**
 * Why this SDS may not enter maintenance now (undefined: it may): another SDS of its domain
 * is in maintenance, entering it, or down; a pool of its domain is degraded; or the health
 * gate is held (a rebuild, a critical condition). `entering`: SDS ids others were let in for.
 */
export function enterRefusal(
  o: ObservedCluster,
  findings: readonly ConditionFinding[],
  sds: ObservedSds,
  entering: readonly string[] = [],
): string | undefined {
  const pd = domainName(o, sds.protectionDomainId);
  const peers = o.sds.filter((s) => s.protectionDomainId === sds.protectionDomainId && s !== sds);
  const busy = peers.find((s) => isIn(s));
  if (busy) return `SDS ${sdsName(busy)} of PD ${pd} is already in maintenance`;
  const coming = peers.find((s) => entering.includes(s.id));
  if (coming) return `SDS ${sdsName(coming)} of PD ${pd} is entering maintenance`;
  const down = peers.find((s) => !s.connected);
  if (down) return `SDS ${sdsName(down)} of PD ${pd} is disconnected`;
  if (!sds.connected) return `SDS ${sdsName(sds)} is disconnected`;
  for (const p of o.pools) {
    if (p.protectionDomainId !== sds.protectionDomainId) continue;
    if (p.failedKb > 0 || p.degradedKb > 0)
      return `pool ${pd}/${p.name ?? p.id} is degraded (${Math.round(
        (p.failedKb + p.degradedKb) / 1024,
      )} MiB with fewer than two copies)`;
  }
  return gateReason(findings);
}

/**
 * Why this node may not go down now for the MDM cluster's sake (undefined: it may): it holds
 * an MDM member and the cluster would be left without a majority, counting the members down
 * and those on nodes let into maintenance (`away`: their IPs). A 3-node cluster takes one
 * member away, a 5-node cluster two.
 */
export function mdmRefusal(
  o: ObservedCluster,
  ip: string,
  away: readonly string[] = [],
): string | undefined {
  const voting = o.mdm.members.filter((m) => m.role !== "standby");
  const mine = voting.find((m) => m.ips.includes(ip));
  if (!mine) return undefined;
  const gone = voting.filter(
    (m) => m !== mine && (m.status !== "Normal" || m.ips.some((x) => away.includes(x))),
  );
  const tolerated = Math.floor((voting.length - 1) / 2);
  if (gone.length + 1 <= tolerated) return undefined;
  const who = gone.map((m) => `${m.name ?? m.id} (${m.ips[0] ?? "?"})`).join(", ");
  return `the MDM cluster would lose its majority: ${who} ${gone.length > 1 ? "are" : "is"} already away`;
}

/** The `maintenance` plan: per node, enter (and once it may leave, exit), in that order. */
export function buildMaintenancePlan(
  nodes: readonly NodeMaintenance[],
  run: {
    enter(agentId: string, ctx: StepContext): Promise<void>;
    exit(agentId: string, ctx: StepContext): Promise<void>;
  },
): PlanDefinition {
  const phases: PhaseDefinition[] = nodes.map((n) => {
    const enter = `enter/${n.agentId}`;
    return {
      id: `node/${n.agentId}`,
      name: `maintenance of ${n.hostname}`,
      strategy: "serial",
      steps: [
        {
          id: enter,
          name: `enter maintenance on ${n.hostname}`,
          fingerprint: String(n.round),
          run: (ctx) => run.enter(n.agentId, ctx),
        },
        ...(n.want === "out"
          ? [
              {
                id: `exit/${n.agentId}`,
                name: `exit maintenance on ${n.hostname} and resync`,
                fingerprint: String(n.round),
                after: [enter],
                run: (ctx: StepContext) => run.exit(n.agentId, ctx),
              },
            ]
          : []),
      ],
    };
  });
  return { id: MAINTENANCE_PLAN_ID, name: "maintenance", strategy: "parallel", phases };
}

export class ScaleioMaintenance {
  private readonly host: MaintenanceHost;
  private nodes = new Map<string, NodeMaintenance>();
  /** Decisions and plan changes one at a time: two requests never both see a free domain. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(host: MaintenanceHost) {
    this.host = host;
  }

  /** Loads what each node should be and puts the plan back (its steps resume). */
  async start(): Promise<void> {
    const saved = (await this.host.store.get<NodeMaintenance[]>(KEY)) ?? [];
    this.nodes = new Map(saved.map((n) => [n.agentId, n]));
    if (this.nodes.size > 0) await this.setPlan();
  }

  /** What each node under maintenance should be (for tests and views). */
  get records(): NodeMaintenance[] {
    return [...this.nodes.values()];
  }

  /** The node's maintenance as operators see it; undefined once it is back in service. */
  viewOf(agentId: string): NodeMaintenanceView | undefined {
    const n = this.nodes.get(agentId);
    if (!n) return undefined;
    const done = (id: string) => this.stepStatus(`${id}/${agentId}`).status === "COMPLETE";
    const state = n.want === "in" ? (done("enter") ? "in" : "entering") : "exiting";
    if (n.want === "out" && done("exit")) return undefined;
    return { state, by: n.by, since: n.since };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    // The caller gets the outcome (errors included); the queue only waits for it to settle.
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private describe(agentId: string): string {
    const a = this.host.agents.get(agentId);
    return a ? `${agentId} (${a.hostname})` : agentId;
  }

  private stepStatus(stepId: string): { status?: string; message?: string } {
    const p = this.host.engine.progressOf(MAINTENANCE_PLAN_ID, stepId);
    return p ? { status: p.status, ...(p.message ? { message: p.message } : {}) } : {};
  }

  /** SDS ids that were let in and are not observed in maintenance yet. */
  private entering(o: ObservedCluster, except: string): string[] {
    const out: string[] = [];
    for (const n of this.nodes.values()) {
      if (n.agentId === except || n.want !== "in") continue;
      const s = sdsOf(o, n.ip);
      if (s && !isIn(s)) out.push(s.id);
    }
    return out;
  }

  /** Mesos asks for the agent: accept once its SDS is in maintenance (or it has nothing). */
  onInverseOffer(agentId: string, window: MaintenanceWindow): Promise<MaintenanceAnswer> {
    return this.serial(async () => {
      const n = this.nodes.get(agentId);
      if (n?.want === "in") {
        const s = this.stepStatus(`enter/${agentId}`);
        if (s.status === "COMPLETE") return "accept";
        // A node with nothing to move (no SDS, not the master) may go as soon as it is counted.
        const o = this.host.observer.latest;
        if (o && !sdsOf(o, n.ip) && !masterOn(o, n.ip)) return "accept";
        return {
          decline: `entering maintenance${s.message ? `: ${s.message}` : ` (step ${s.status?.toLowerCase() ?? "pending"})`}`,
        };
      }
      const r = this.decideEnter(agentId);
      if (r.kind === "nothing") return "accept";
      if (r.kind === "refused") return { decline: r.reason };
      const from = window.startMs - (this.host.leadMs ?? 600_000);
      if (!r.instant && (this.host.now?.() ?? Date.now()) < from)
        return {
          decline: `the window starts at ${new Date(window.startMs).toISOString()}: ${r.what} from ${new Date(from).toISOString()}`,
        };
      await this.record(agentId, "mesos", window);
      if (r.instant) return "accept";
      return { decline: `entering maintenance: ${r.what}` };
    });
  }

  /** The window is over: a node Mesos put in maintenance comes back into service. */
  onMaintenanceOver(agentId: string): Promise<void> {
    return this.serial(async () => {
      const n = this.nodes.get(agentId);
      if (!n || n.want !== "in" || n.by !== "mesos") return;
      await this.setWant(n, "out");
      this.host.notify(
        "info",
        `agent ${this.describe(agentId)} is back from maintenance: leaving maintenance mode`,
      );
    });
  }

  /** An operator's request (`POST /v1/nodes/{agentId}/maintenance`). */
  setMaintenance(agentId: string, enter: boolean): Promise<{ state: string; message: string }> {
    return this.serial(async () => {
      const agent = this.host.agents.get(agentId);
      if (!agent) throw new MaintenanceRefused(404, "UNKNOWN_AGENT", `no agent '${agentId}'`);
      const who = this.describe(agentId);
      const n = this.nodes.get(agentId);
      if (enter) {
        if (n?.want === "in")
          return { state: "entering", message: `agent ${who} is already asked into maintenance` };
        const r = this.decideEnter(agentId);
        if (r.kind === "refused") {
          this.host.notify("info", `refused maintenance of agent ${who}: ${r.reason}`);
          throw new MaintenanceRefused(409, "MAINTENANCE_REFUSED", r.reason);
        }
        if (r.kind === "nothing") return { state: "none", message: `agent ${who}: ${r.reason}` };
        await this.record(agentId, "operator");
        return { state: "entering", message: `agent ${who}: entering maintenance: ${r.what}` };
      }
      const o = this.host.observer.latest;
      const sds = o ? sdsOf(o, agent.ip) : undefined;
      if (n?.want === "in") {
        await this.setWant(n, "out");
        this.host.notify("info", `operator asked agent ${who} out of maintenance`);
        return { state: "exiting", message: `agent ${who}: leaving maintenance` };
      }
      if (sds && isIn(sds)) {
        // Put in maintenance by someone else: the exit step takes it out all the same.
        await this.record(agentId, "operator");
        await this.setWant(this.nodes.get(agentId)!, "out");
        return { state: "exiting", message: `agent ${who}: leaving maintenance` };
      }
      throw new MaintenanceRefused(409, "NOT_IN_MAINTENANCE", `agent ${who} is not in maintenance`);
    });
  }

  private decideEnter(
    agentId: string,
  ):
    | { kind: "nothing"; reason: string }
    | { kind: "refused"; reason: string }
    | { kind: "go"; what: string; instant?: boolean } {
    const agent = this.host.agents.get(agentId);
    const o = this.host.observer.latest;
    if (!agent) return { kind: "nothing", reason: "unknown to the framework" };
    if (!o) return { kind: "refused", reason: "the cluster has not been observed yet" };
    const sds = sdsOf(o, agent.ip);
    const master = masterOn(o, agent.ip);
    if (sds && !isIn(sds)) {
      const why = enterRefusal(o, this.host.observer.findings, sds, this.entering(o, agentId));
      if (why) return { kind: "refused", reason: why };
    }
    const away = [...this.nodes.values()]
      .filter((n) => n.want === "in" && n.agentId !== agentId)
      .map((n) => n.ip);
    const quorum = mdmRefusal(o, agent.ip, away);
    if (quorum) return { kind: "refused", reason: quorum };
    const member = o.mdm.members.find((m) => m.role !== "standby" && m.ips.includes(agent.ip));
    if (!sds && !master) {
      if (!member) return { kind: "nothing", reason: "no SDS and no MDM member on it" };
      // Nothing to move, but it is counted as away (another member's node then waits).
      return {
        kind: "go",
        what: `MDM ${member.role} ${member.name ?? member.id} goes away (no SDS)`,
        instant: true,
      };
    }
    const pd = sds ? domainName(o, sds.protectionDomainId) : undefined;
    const what = [
      ...(master ? ["MDM mastership moves to another manager"] : []),
      ...(sds ? [`SDS ${sdsName(sds)} of PD ${pd} enters instant maintenance mode`] : []),
    ].join(", then ");
    return { kind: "go", what };
  }

  private async record(
    agentId: string,
    by: NodeMaintenance["by"],
    window?: MaintenanceWindow,
  ): Promise<void> {
    const agent = this.host.agents.get(agentId)!;
    const prev = this.nodes.get(agentId);
    this.nodes.set(agentId, {
      agentId,
      hostname: agent.hostname,
      ip: agent.ip,
      want: "in",
      by,
      round: (prev?.round ?? 0) + 1,
      since: Date.now(),
      ...(window ? { window } : {}),
    });
    await this.save();
    await this.setPlan();
  }

  private async setWant(n: NodeMaintenance, want: NodeMaintenance["want"]): Promise<void> {
    n.want = want;
    await this.save();
    await this.setPlan();
  }

  private async save(): Promise<void> {
    await this.host.store.set(KEY, [...this.nodes.values()]);
  }

  private async setPlan(): Promise<void> {
    await this.host.engine.setPlan(
      buildMaintenancePlan([...this.nodes.values()], {
        enter: (id, ctx) => this.enter(id, ctx),
        exit: (id, ctx) => this.exit(id, ctx),
      }),
    );
  }

  // ---- the steps --------------------------------------------------------------------------

  private until(
    ok: (o: ObservedCluster, f: ConditionFinding[]) => boolean,
    what: string,
    ctx: StepContext,
    onMiss?: (o: ObservedCluster, f: ConditionFinding[]) => void,
    timeoutMs = this.host.settleTimeoutMs ?? 120_000,
  ): Promise<void> {
    return observedUntil(this.host.observer, ok, what, ctx, timeoutMs, onMiss);
  }

  private async current(ctx: StepContext): Promise<ObservedCluster> {
    let seen: ObservedCluster | undefined;
    await this.until(
      (o) => {
        seen = o;
        return true;
      },
      "an observation of the cluster",
      ctx,
    );
    return seen!;
  }

  /** Mastership away (when master), then the SDS into maintenance, seen so. Idempotent. */
  private async enter(agentId: string, ctx: StepContext): Promise<void> {
    const n = this.nodes.get(agentId);
    // Asked out meanwhile: nothing to enter (the exit step follows this one).
    const wanted = () => this.nodes.get(agentId)?.want === "in";
    if (!n || !wanted()) return;
    let o = await this.current(ctx);
    const master = masterOn(o, n.ip);
    if (master) {
      const next = o.mdm.members.find(
        (m) => m.role === "slave" && m.status === "Normal" && !m.ips.includes(n.ip),
      );
      if (!next) throw new Error(`no other manager is up to take over mastership from ${n.ip}`);
      ctx.progress(`moving MDM mastership to ${next.name ?? next.id} (${next.ips[0] ?? "?"})`);
      await this.host.gateway.changeMdmOwnership(o.systemId, next.id);
      await this.until((x) => !masterOn(x, n.ip), `MDM mastership away from ${n.ip}`, ctx);
      this.host.notify(
        "info",
        `MDM mastership moved from ${n.hostname} to ${next.name ?? next.id} before its maintenance`,
      );
      o = await this.current(ctx);
    }
    const sds = sdsOf(o, n.ip);
    if (!sds) return;
    if (!isIn(sds)) {
      // Level-based: the domain may have changed since the decision (another SDS went down).
      let said: string | undefined;
      await this.until(
        (x, f) => {
          const s = sdsOf(x, n.ip);
          return (
            !wanted() ||
            !s ||
            isIn(s) ||
            enterRefusal(x, f, s, this.entering(x, agentId)) === undefined
          );
        },
        `SDS ${sdsName(sds)} free to enter maintenance`,
        ctx,
        (x, f) => {
          const s = sdsOf(x, n.ip);
          const why = s ? enterRefusal(x, f, s, this.entering(x, agentId)) : undefined;
          if (why && why !== said) ctx.progress(`waiting: ${(said = why)}`);
        },
        // A gate may hold for long (a rebuild): the step keeps waiting, saying why.
        24 * 3600_000,
      );
      if (!wanted()) return;
      ctx.progress(`SDS ${sdsName(sds)} enters instant maintenance mode`);
      await this.host.gateway.enterMaintenance(sds.id);
      await this.until(
        (x) => {
          const s = sdsOf(x, n.ip);
          return !s || isIn(s);
        },
        `SDS ${sdsName(sds)} in maintenance`,
        ctx,
      );
      this.host.notify(
        "info",
        `SDS ${sdsName(sds)} of PD ${domainName(o, sds.protectionDomainId)} on ${n.hostname} entered maintenance mode`,
      );
    }
    ctx.progress(`SDS ${sdsName(sds)} is in maintenance`);
  }

  /** Back in service: the agent and its SDS back, maintenance exited, resync done. */
  private async exit(agentId: string, ctx: StepContext): Promise<void> {
    const n = this.nodes.get(agentId);
    if (!n) return;
    let said: string | undefined;
    const say = (why: string) => {
      if (why !== said) ctx.progress(`waiting: ${(said = why)}`);
    };
    // Back as itself, or (a machine taken down usually returns so) as a new agent of its IP.
    const agentBack = () =>
      this.host.agents.get(agentId)?.lostSince === undefined ||
      this.host.agents.active().some((a) => a.ip === n.ip);
    // The machine may still be down: its agent and SDS come back first (no time limit: a
    // maintenance lasts what it lasts; the step says what it waits for).
    await this.until(
      (o) => agentBack() && (sdsOf(o, n.ip)?.connected ?? true),
      `${n.hostname} back`,
      ctx,
      (o) =>
        say(
          !agentBack()
            ? `agent ${n.hostname} is not back yet`
            : `SDS ${sdsOf(o, n.ip)?.name ?? n.ip} is not connected yet`,
        ),
      24 * 3600_000,
    );
    const o = await this.current(ctx);
    const sds = sdsOf(o, n.ip);
    if (!sds) return;
    const pd = domainName(o, sds.protectionDomainId);
    if (isIn(sds)) {
      ctx.progress(`SDS ${sdsName(sds)} exits maintenance mode`);
      await this.host.gateway.exitMaintenance(sds.id);
      this.host.notify(
        "info",
        `SDS ${sdsName(sds)} of PD ${pd} on ${n.hostname} exited maintenance mode: resynchronising`,
      );
    }
    // The writes it missed are copied back to it (a backward rebuild), then it is healthy.
    await this.until(
      (x) => {
        const s = sdsOf(x, n.ip);
        if (s && isIn(s)) return false;
        return !x.pools.some(
          (p) => p.protectionDomainId === sds.protectionDomainId && p.rebuildRemainingKb > 0,
        );
      },
      `SDS ${sdsName(sds)} resynchronised`,
      ctx,
      (x) => {
        const left = x.pools
          .filter((p) => p.protectionDomainId === sds.protectionDomainId)
          .reduce((t, p) => t + p.rebuildRemainingKb, 0);
        if (left > 0) ctx.progress(`resync: ${Math.round(left / 1024)} MiB left`);
      },
      24 * 3600_000,
    );
    this.host.notify(
      "info",
      `SDS ${sdsName(sds)} of PD ${pd} on ${n.hostname} is back in service: resync done`,
    );
  }
}
