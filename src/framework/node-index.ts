// Node and step queries for the operator surface: which agents match a status and a text,
// in natural order of hostnames, a page at a time behind an opaque cursor; and a plan's
// steps filtered by status and agent. Built on the StepIndex, so an answer costs what it
// returns (plus one cheap test per agent while looking for matches), not agents × steps.
import type { AgentRecord, AgentRegistry } from "./agents.js";
import type { PlanEngine } from "./plan/engine.js";
import type { PhaseView, PlanView, StepStatus, StepView } from "./plan/types.js";
import { naturalCompare } from "./natural-order.js";
import { agentOfStep, phaseStatus, planStatus, StepIndex, type IndexedStep } from "./step-index.js";

export const NODE_STATUSES = ["error", "lost", "in-progress", "ok"] as const;
/** error: a step failed; lost: Mesos lost the agent; in-progress: steps not done; ok: the rest. */
export type NodeStatus = (typeof NODE_STATUSES)[number];
export const NODE_SORTS = ["hostname", "status"] as const;
export type NodeSort = (typeof NODE_SORTS)[number];

export interface NodeQuery {
  status?: NodeStatus[];
  /** Text in the hostname, address or agent id (case-insensitive); `*` and `?` make it a pattern. */
  q?: string;
  sort?: NodeSort;
  limit?: number;
  cursor?: string;
}

export interface StepFilter {
  status?: StepStatus[];
  /** An agent id, or text (or a pattern) of the agent's hostname or address. */
  agent?: string;
}

/** A bad cursor (not one of ours, or of another sort order): the caller's mistake. */
export class CursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CursorError";
  }
}

/** Case-insensitive text match: a substring, or with `*`/`?` a whole-string pattern. */
export function textMatcher(text: string): (value: string) => boolean {
  const t = text.toLowerCase();
  if (!/[*?]/.test(t)) return (v) => v.toLowerCase().includes(t);
  const re = new RegExp(
    `^${t
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return (v) => re.test(v.toLowerCase());
}

const agentMatcher = (text: string) => {
  const m = textMatcher(text);
  return (a: AgentRecord) => a.agentId === text || m(a.hostname) || m(a.ip) || m(a.agentId);
};

/** What a page's `next` cursor holds: the sort, and the last node's place in it. */
export interface CursorKey {
  s: NodeSort;
  h: string;
  a: string;
  r?: number;
}

export function encodeCursor(k: CursorKey): string {
  return Buffer.from(JSON.stringify(k)).toString("base64url");
}

export function decodeCursor(c: string, sort: NodeSort): CursorKey {
  let k: Partial<CursorKey>;
  try {
    k = JSON.parse(Buffer.from(c, "base64url").toString("utf8")) as Partial<CursorKey>;
  } catch {
    throw new CursorError("bad cursor: use the `next` of a previous answer");
  }
  if (
    typeof k !== "object" ||
    k === null ||
    typeof k.h !== "string" ||
    typeof k.a !== "string" ||
    !NODE_SORTS.includes(k.s as NodeSort) ||
    (k.s === "status" && typeof k.r !== "number")
  )
    throw new CursorError("bad cursor: use the `next` of a previous answer");
  if (k.s !== sort) throw new CursorError(`bad cursor: it pages sort=${k.s}, not sort=${sort}`);
  return k as CursorKey;
}

/** Natural order of hostnames, then agent ids: the order of pages. */
export const byHost = (x: { h: string; a: string }, y: { h: string; a: string }) =>
  naturalCompare(x.h, y.h) || (x.a < y.a ? -1 : x.a > y.a ? 1 : 0);

export class NodeIndex {
  readonly steps: StepIndex;
  private readonly agents: AgentRegistry;
  /** Agent ids in the registry's order, and in natural order of hostnames (until one changes). */
  private registryOrder: string[] | undefined;
  private naturalOrder: { h: string; a: string }[] | undefined;
  private following = false;

  constructor(engine: PlanEngine, agents: AgentRegistry) {
    this.steps = new StepIndex(engine);
    this.agents = agents;
  }

  follow(): () => void {
    const stopSteps = this.steps.follow();
    // New agents and changed hostnames change the orders; lost and back change no order.
    const onChanged = () => {
      this.registryOrder = undefined;
      this.naturalOrder = undefined;
    };
    this.agents.on("changed", onChanged);
    this.following = true;
    onChanged();
    return () => {
      stopSteps();
      this.agents.off("changed", onChanged);
      this.following = false;
    };
  }

  /** Every agent, in the registry's order (that of an unfiltered node list). */
  allAgents(): AgentRecord[] {
    if (!this.following) return this.agents.all();
    this.registryOrder ??= this.agents.all().map((a) => a.agentId);
    return this.present(this.registryOrder);
  }

  private present(ids: string[]): AgentRecord[] {
    const out: AgentRecord[] = [];
    for (const id of ids) {
      const a = this.agents.get(id);
      if (a) out.push(a);
    }
    return out;
  }

  private natural(): { h: string; a: string }[] {
    const build = () =>
      this.agents
        .all()
        .map((a) => ({ h: a.hostname, a: a.agentId }))
        .sort(byHost);
    if (!this.following) return build();
    this.naturalOrder ??= build();
    return this.naturalOrder;
  }

  /** What state an agent is in, from its steps (O(its steps)). */
  statusOf(a: AgentRecord): NodeStatus {
    let open = false;
    for (const { step } of this.steps.stepsOf(a.agentId)) {
      if (step.view.status === "ERROR") return "error";
      if (step.view.status !== "COMPLETE") open = true;
    }
    if (a.lostSince !== undefined) return "lost";
    return open ? "in-progress" : "ok";
  }

  /** The agents of one page, and the cursor of the next page when there is one. */
  page(q: NodeQuery): { agents: AgentRecord[]; next?: string } {
    const sort = q.sort ?? "hostname";
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, sort);
    const limit = q.limit ?? Number.POSITIVE_INFINITY;
    const text = q.q === undefined ? undefined : agentMatcher(q.q);
    const wanted = q.status ? new Set(q.status) : undefined;
    const order = this.natural();
    const out: { a: AgentRecord; r: number }[] = [];
    let more = false;
    // Sorted by status: one pass over the natural order per status, failed first.
    const ranks = sort === "status" ? NODE_STATUSES.map((_, i) => i) : [-1];
    outer: for (const r of ranks) {
      if (after?.r !== undefined && r < after.r) continue;
      if (r >= 0 && wanted && !wanted.has(NODE_STATUSES[r]!)) continue;
      // Starts after the cursor's key: binary search, so a page costs no scan of earlier ones.
      let i = 0;
      if (after && (after.r === undefined || after.r === r)) {
        let lo = 0;
        let hi = order.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (byHost(order[mid]!, after) <= 0) lo = mid + 1;
          else hi = mid;
        }
        i = lo;
      }
      for (; i < order.length; i++) {
        const a = this.agents.get(order[i]!.a);
        if (!a || (text && !text(a))) continue;
        if (wanted || r >= 0) {
          const st = this.statusOf(a);
          if (wanted && !wanted.has(st)) continue;
          if (r >= 0 && NODE_STATUSES[r] !== st) continue;
        }
        if (out.length >= limit) {
          more = true;
          break outer;
        }
        out.push({ a, r });
      }
    }
    const last = out[out.length - 1];
    return {
      agents: out.map((x) => x.a),
      ...(more && last
        ? {
            next: encodeCursor({
              s: sort,
              h: last.a.hostname,
              a: last.a.agentId,
              ...(last.r >= 0 ? { r: last.r } : {}),
            }),
          }
        : {}),
    };
  }

  /**
   * A plan with only the steps that match (phases keep their shape; statuses and counts are
   * the whole plan's); steps that belong to a known agent carry its hostname. Undefined: no
   * such plan.
   */
  plan(planId: string, f: StepFilter): PlanView | undefined {
    const p = this.steps.plan(planId);
    if (!p) return undefined;
    const wanted = f.status ? new Set(f.status) : undefined;
    let chosen: Set<IndexedStep> | undefined;
    if (f.agent !== undefined) {
      // The agents that match, then their steps in this plan.
      const m = agentMatcher(f.agent);
      chosen = new Set();
      for (const a of this.agents.all())
        if (m(a))
          for (const s of p.byAgent.get(a.agentId) ?? [])
            if (!wanted || wanted.has(s.view.status)) chosen.add(s);
    }
    const phases: PhaseView[] = p.phases.map((ph) => {
      let steps: IndexedStep[];
      if (chosen) steps = [...chosen].filter((s) => s.phase === ph);
      else if (wanted) steps = [...wanted].flatMap((st) => [...ph.byStatus[st]]);
      else steps = ph.steps;
      if (steps !== ph.steps) steps = [...steps].sort((x, y) => x.pos - y.pos);
      return {
        id: ph.id,
        name: ph.name,
        strategy: ph.strategy,
        dependsOn: ph.dependsOn,
        status: phaseStatus(ph),
        paused: ph.paused,
        steps: steps.map((s) => this.withHostname(s)),
      };
    });
    const whole = planStatus(p);
    return {
      id: p.id,
      name: p.name,
      strategy: p.strategy,
      status: whole.status,
      paused: p.paused,
      phases,
      progress: whole.progress,
    };
  }

  private withHostname(s: IndexedStep): StepView & { hostname?: string } {
    return this.hostnamed(s.view);
  }

  /** The step with the hostname of the agent it belongs to, when that agent is known. */
  hostnamed(s: StepView): StepView & { hostname?: string } {
    const a = this.agents.get(agentOfStep(s));
    return a ? { ...s, hostname: a.hostname } : { ...s };
  }
}
