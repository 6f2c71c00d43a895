// What the framework does when a pool runs almost full (CapacityAlmostFull), on any provider:
// first (with `--auto-grow devices`) it looks at the devices of the agents that serve the pool
// again, so that unused raw devices the strategy allows join it; when that adds nothing (or
// auto-grow is off) it asks the operator's capacity hook for storage, and after a hook that
// says it attached some, it looks at those agents again so the new devices are added. Each
// pool backs off on its own; every action is recorded for the operators' event log; the
// episode ends when the pool is no longer almost full.
import { Backoff } from "../../../mesos/backoff.js";
import type { ConditionFinding } from "../../../framework/health/types.js";
import type { ObservedCluster, ObservedPool } from "../observe/model.js";
import { poolObject } from "../observe/checks.js";
import {
  suggestedGrowthGb,
  type CapacityHook,
  type CapacityRequest,
  type HookCall,
} from "./capacity-hook.js";

export type AutoGrow = "devices" | "off";

export interface CandidateAgent {
  agentId: string;
  hostname: string;
  ip: string;
}

export type RemediationAction =
  /** Devices of the pool's agents looked at again. */
  | "rescan"
  /** The pool's raw capacity grew. */
  | "grew"
  /** A rescan added nothing (no unused device, or the hook's did not show up). */
  | "no-growth"
  /** The capacity hook was called; `hook` holds the request and the answer. */
  | "hook"
  /** Nothing more can be done: no unused device and no hook configured. */
  | "no-remedy"
  /** The pool is no longer almost full. */
  | "settled"
  /** A rescan could not be asked for (agent lost, not deployed yet). */
  | "rescan-failed";

export interface RemediationEvent {
  level: "info" | "warn";
  action: RemediationAction;
  /** `pool/<domain>/<pool>`, as the condition names it. */
  pool: string;
  message: string;
  hook?: { request: CapacityRequest; ok: boolean; answer: string; nextAt: number };
}

export interface CapacityRemediationOptions {
  autoGrow: AutoGrow;
  hook?: CapacityHook;
  /** The CapacityAlmostFull warning threshold; growth is suggested to 10 points under it. */
  warningPercent: number;
  /** A fixed growth to ask the hook for (GiB) instead of the computed one. */
  growthGb?: number;
  /** Looks at an agent's devices again: new usable devices join its SDS per the strategy. */
  rescan(agentId: string): Promise<void>;
  /** Every action, for the operators' event log. */
  record(e: RemediationEvent): void;
  /** Between device rescans for one pool while it stays almost full (default 10 min to 2 h). */
  rescanBackoff?: { initialMs?: number; maxMs?: number; random?: () => number };
  /** A rescan that has not grown the pool by then has found nothing (default 10 min). */
  growTimeoutMs?: number;
  now?: () => number;
}

/** What the remediation reads of the framework. */
export interface CapacityRemediationHost {
  agentByIp(ip: string): (CandidateAgent & { lost: boolean }) | undefined;
  /** Agents with deploy steps not complete (a rescan's own steps among them). */
  busyAgents(): ReadonlySet<string>;
}

interface Growing {
  since: number;
  /** The pool's raw capacity when the rescan was asked for. */
  maxKb: number;
  agents: string[];
  /** What comes next if nothing is added: the hook (after auto-grow) or waiting for it. */
  after: "auto" | "hook";
  /** Observations in a row with the rescanned agents' steps all done. */
  quiet: number;
}

interface PoolState {
  object: string;
  rescanBackoff: Backoff;
  nextRescanAt: number;
  growing?: Growing;
  /** Something was done in this episode (its end is then recorded too). */
  acted: boolean;
  /** A rescan for unused devices has been done in this episode. */
  searched: boolean;
  noRemedyRecorded: boolean;
}

/** Observations in a row with nothing running and nothing added that mean "nothing found". */
const QUIET_OBSERVATIONS = 2;
const GIB_KB = 2 ** 20;

const round1 = (n: number) => Math.round(n * 10) / 10;

export class CapacityRemediation {
  private readonly opts: CapacityRemediationOptions;
  private readonly host: CapacityRemediationHost;
  private readonly pools = new Map<string, PoolState>();
  private readonly aborter = new AbortController();

  constructor(opts: CapacityRemediationOptions, host: CapacityRemediationHost) {
    this.opts = opts;
    this.host = host;
  }

  /** Whether anything can be done at all (else the caller need not run it). */
  get enabled(): boolean {
    return this.opts.autoGrow === "devices" || this.opts.hook !== undefined;
  }

  /** Stops a hook call still running. */
  stop(): void {
    this.aborter.abort(new Error("the scheduler is stopping"));
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** One pass over an observation: one call at a time (the caller serialises them). */
  async onObserved(observed: ObservedCluster, findings: ConditionFinding[]): Promise<void> {
    if (this.aborter.signal.aborted) return;
    const full = new Map(
      findings.filter((f) => f.type === "CapacityAlmostFull").map((f) => [f.object, f] as const),
    );
    const fullPools = observed.pools.filter((p) => full.has(poolObject(p)));
    const stillFull = new Set(fullPools.map((p) => p.id));
    for (const [id, state] of this.pools) {
      if (stillFull.has(id)) continue;
      this.pools.delete(id);
      this.opts.hook?.settled(id);
      const seen = observed.pools.find((p) => p.id === id);
      if (state.growing && seen && seen.maxKb > state.growing.maxKb)
        this.recordGrowth(state.object, state.growing, seen);
      if (state.acted)
        this.record({
          level: "info",
          action: "settled",
          pool: state.object,
          message: `${this.name(state.object)} is no longer almost full`,
        });
    }
    for (const p of fullPools) await this.remediate(observed, p);
  }

  private async remediate(observed: ObservedCluster, p: ObservedPool): Promise<void> {
    const object = poolObject(p);
    let state = this.pools.get(p.id);
    if (!state) {
      state = {
        object,
        rescanBackoff: new Backoff({
          initialMs: this.opts.rescanBackoff?.initialMs ?? 10 * 60_000,
          maxMs: this.opts.rescanBackoff?.maxMs ?? 2 * 3_600_000,
          ...(this.opts.rescanBackoff?.random ? { random: this.opts.rescanBackoff.random } : {}),
        }),
        nextRescanAt: 0,
        acted: false,
        searched: false,
        noRemedyRecorded: false,
      };
      this.pools.set(p.id, state);
    }
    const now = this.now();
    const g = state.growing;
    if (g) {
      // Judged once the rescanned agents' steps have all been done for a while: devices join
      // one agent at a time, and the pool is not grown "enough" while some are on their way.
      const busy = this.host.busyAgents();
      g.quiet = g.agents.some((a) => busy.has(a)) ? 0 : g.quiet + 1;
      const timedOut = now - g.since >= (this.opts.growTimeoutMs ?? 10 * 60_000);
      if (g.quiet < QUIET_OBSERVATIONS && !timedOut) return;
      state.growing = undefined;
      if (p.maxKb > g.maxKb) {
        this.recordGrowth(object, g, p);
        // Still almost full: the devices found were not enough; the hook is next.
      } else {
        this.record({
          level: "info",
          action: "no-growth",
          pool: object,
          message: `${this.name(object)}: ${g.after === "auto" ? "no unused device" : "no new device"} found on ${g.agents.length} agent(s)${timedOut ? ` within ${Math.round((now - g.since) / 1000)} s` : ""}`,
        });
        // After the hook's own rescan the hook's backoff says when to ask again.
        if (g.after === "hook") return;
      }
      if (g.after === "auto") state.searched = true;
    } else if (this.opts.autoGrow === "devices" && now >= state.nextRescanAt) {
      const busy = this.host.busyAgents();
      const agents = this.candidates(observed, p).filter((a) => !busy.has(a.agentId));
      if (agents.length > 0) {
        state.nextRescanAt = now + state.rescanBackoff.next();
        await this.startGrowing(state, p, agents, "auto");
        if (state.growing) return;
      }
    }
    await this.askHook(state, observed, p);
  }

  private async askHook(state: PoolState, observed: ObservedCluster, p: ObservedPool) {
    const hook = this.opts.hook;
    if (!hook) {
      if (state.searched && !state.noRemedyRecorded && !state.growing) {
        state.noRemedyRecorded = true;
        state.acted = true;
        this.record({
          level: "warn",
          action: "no-remedy",
          pool: state.object,
          message: `${this.name(state.object)} is ${round1(p.usedPercent)} % used and no unused device is left: add storage, or set --capacity-hook to have it attached`,
        });
      }
      return;
    }
    if (!hook.due(p.id)) return;
    const candidates = this.candidates(observed, p);
    const request: CapacityRequest = {
      pool: p.name ?? p.id,
      poolId: p.id,
      protectionDomain: p.protectionDomainName ?? p.protectionDomainId,
      usedPercent: round1(p.usedPercent),
      suggestedGrowthGb:
        this.opts.growthGb ??
        suggestedGrowthGb({
          inUseKb: p.inUseKb,
          limitKb: p.limitKb,
          sparePercentage: p.sparePercentage,
          targetPercent: Math.max(this.opts.warningPercent / 2, this.opts.warningPercent - 10),
        }),
      candidateAgents: candidates,
    };
    const call: HookCall | undefined = await hook.call(request, this.aborter.signal);
    if (!call) return;
    state.acted = true;
    this.record({
      level: call.ok ? "info" : "warn",
      action: "hook",
      pool: state.object,
      message: `capacity hook ${call.ok ? "answered" : "failed"} for ${this.name(state.object)} (${request.usedPercent} % used, ${request.suggestedGrowthGb} GiB asked on ${candidates.length} agent(s)): ${call.answer}; next call not before ${new Date(call.nextAt).toISOString()}`,
      hook: { request, ok: call.ok, answer: call.answer, nextAt: call.nextAt },
    });
    if (call.ok && candidates.length > 0 && !this.aborter.signal.aborted)
      await this.startGrowing(state, p, candidates, "hook");
  }

  private async startGrowing(
    state: PoolState,
    p: ObservedPool,
    agents: CandidateAgent[],
    after: Growing["after"],
  ): Promise<void> {
    state.acted = true;
    const asked: string[] = [];
    for (const a of agents) {
      try {
        await this.opts.rescan(a.agentId);
        asked.push(a.agentId);
      } catch (err) {
        this.record({
          level: "warn",
          action: "rescan-failed",
          pool: state.object,
          message: `${this.name(state.object)}: the devices of ${a.hostname} could not be looked at again: ${(err as Error).message}`,
        });
      }
    }
    if (asked.length === 0) return;
    state.growing = { since: this.now(), maxKb: p.maxKb, agents: asked, after, quiet: 0 };
    const hosts = agents.filter((a) => asked.includes(a.agentId)).map((a) => a.hostname);
    this.record({
      level: "info",
      action: "rescan",
      pool: state.object,
      message: `${this.name(state.object)} is ${round1(p.usedPercent)} % used: looking for ${after === "auto" ? "unused" : "attached"} devices on ${hosts.join(", ")}`,
    });
  }

  /** Agents (not lost) whose SDSs serve the pool (with a device in it), else of its domain. */
  private candidates(o: ObservedCluster, p: ObservedPool): CandidateAgent[] {
    const serving = new Set(o.devices.filter((d) => d.poolId === p.id).map((d) => d.sdsId));
    const sds = o.sds.filter((s) =>
      serving.size > 0 ? serving.has(s.id) : s.protectionDomainId === p.protectionDomainId,
    );
    const out = new Map<string, CandidateAgent>();
    for (const s of sds)
      for (const ip of s.ips) {
        const a = this.host.agentByIp(ip);
        if (a && !a.lost && !out.has(a.agentId))
          out.set(a.agentId, { agentId: a.agentId, hostname: a.hostname, ip: a.ip });
      }
    return [...out.values()];
  }

  private recordGrowth(object: string, g: Growing, p: ObservedPool): void {
    this.record({
      level: "info",
      action: "grew",
      pool: object,
      message: `${this.name(object)} grew from ${gib(g.maxKb)} to ${gib(p.maxKb)} GiB raw (${round1(p.usedPercent)} % used now)`,
    });
  }

  private name(object: string): string {
    return object.replace(/^pool\//, "pool ");
  }

  private record(e: RemediationEvent): void {
    this.opts.record(e);
  }
}

function gib(kb: number): number {
  return round1(kb / GIB_KB);
}
