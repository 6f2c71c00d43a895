// The steps of every plan, indexed by agent and by status, kept current from the engine's
// events: a node's steps, or a plan's failed steps, are found without scanning every step
// of every plan (at 1,000 agents that scan cost about 0.1 s per node list). A plan view
// (sent when a plan is set, paused or resumed, and throttled while steps finish) rebuilds
// that plan's entry; a step event updates one step. Not following the engine (a view never
// started), every read rebuilds from the engine's views: correct, at the old cost.
import type { PlanEngine } from "./plan/engine.js";
import {
  STEP_STATUSES,
  type AggregateStatus,
  type PlanView,
  type StepStatus,
  type StepView,
} from "./plan/types.js";

export interface IndexedStep {
  view: StepView;
  phase: IndexedPhase;
  /** Position in its phase (definition order). */
  pos: number;
  /** The agent the step belongs to (its asset, or the last part of its id), if any. */
  agent: string;
}

export interface IndexedPhase {
  id: string;
  name: string;
  strategy: PlanView["strategy"];
  dependsOn: string[];
  paused: boolean;
  steps: IndexedStep[];
  byStatus: Record<StepStatus, Set<IndexedStep>>;
}

export interface IndexedPlan {
  id: string;
  name: string;
  strategy: PlanView["strategy"];
  paused: boolean;
  phases: IndexedPhase[];
  byId: Map<string, IndexedStep>;
  byAgent: Map<string, IndexedStep[]>;
}

/** The agent a step acts on: its asset, else the last part of its id (`install/<agent>`). */
export function agentOfStep(s: { id: string; asset?: string }): string {
  return s.asset ?? s.id.slice(s.id.lastIndexOf("/") + 1);
}

const emptyByStatus = (): Record<StepStatus, Set<IndexedStep>> =>
  Object.fromEntries(STEP_STATUSES.map((s) => [s, new Set<IndexedStep>()])) as Record<
    StepStatus,
    Set<IndexedStep>
  >;

export class StepIndex {
  private readonly engine: PlanEngine;
  private readonly plans = new Map<string, IndexedPlan>();
  private following = false;

  constructor(engine: PlanEngine) {
    this.engine = engine;
  }

  /** Keeps the index current from the engine's events; returns the way to stop. */
  follow(): () => void {
    const onPlan = (v: PlanView) => this.rebuild(v);
    const onStep = (planId: string, _phaseId: string, step: StepView) => this.update(planId, step);
    this.engine.on("plan", onPlan);
    this.engine.on("step", onStep);
    this.following = true;
    this.plans.clear();
    this.sync();
    return () => {
      this.engine.off("plan", onPlan);
      this.engine.off("step", onStep);
      this.following = false;
    };
  }

  /** The engine's plans, in its order, indexed. */
  all(): IndexedPlan[] {
    this.sync();
    const out: IndexedPlan[] = [];
    for (const id of this.engine.planIds()) {
      const p = this.plans.get(id);
      if (p) out.push(p);
    }
    return out;
  }

  plan(planId: string): IndexedPlan | undefined {
    this.sync();
    return this.plans.get(planId);
  }

  /** An agent's steps across plans, in plan, phase and step order. */
  stepsOf(agentId: string): { planId: string; step: IndexedStep }[] {
    const out: { planId: string; step: IndexedStep }[] = [];
    for (const p of this.all())
      for (const step of p.byAgent.get(agentId) ?? []) out.push({ planId: p.id, step });
    return out;
  }

  /** Plans the engine forgot are dropped; plans not indexed (or all, when not following) built. */
  private sync(): void {
    // The engine says nothing when it forgets a plan: O(plans) to notice.
    const ids = this.engine.planIds();
    const live = new Set(ids);
    for (const id of this.plans.keys()) if (!live.has(id)) this.plans.delete(id);
    for (const id of ids)
      if (!this.following || !this.plans.has(id)) this.rebuild(this.engine.view(id));
  }

  private rebuild(v: PlanView): void {
    const plan: IndexedPlan = {
      id: v.id,
      name: v.name,
      strategy: v.strategy,
      paused: v.paused,
      phases: [],
      byId: new Map(),
      byAgent: new Map(),
    };
    for (const ph of v.phases) {
      const phase: IndexedPhase = {
        id: ph.id,
        name: ph.name,
        strategy: ph.strategy,
        dependsOn: ph.dependsOn,
        paused: ph.paused,
        steps: [],
        byStatus: emptyByStatus(),
      };
      for (const [pos, view] of ph.steps.entries()) {
        const s: IndexedStep = { view, phase, pos, agent: agentOfStep(view) };
        phase.steps.push(s);
        phase.byStatus[view.status].add(s);
        plan.byId.set(view.id, s);
        const mine = plan.byAgent.get(s.agent);
        if (mine) mine.push(s);
        else plan.byAgent.set(s.agent, [s]);
      }
      plan.phases.push(phase);
    }
    this.plans.set(v.id, plan);
  }

  private update(planId: string, view: StepView): void {
    // A step of a definition not indexed yet: the plan view that follows brings it.
    const s = this.plans.get(planId)?.byId.get(view.id);
    if (!s) return;
    s.phase.byStatus[s.view.status].delete(s);
    s.view = { ...view, ...(s.view.after ? { after: s.view.after } : {}) };
    s.phase.byStatus[view.status].add(s);
  }
}

/** Mirrors the engine: a phase's or plan's status from its parts' statuses. */
function aggregate(
  count: (s: StepStatus) => number,
  total: number,
  paused: boolean,
): AggregateStatus {
  if (total === 0 || count("COMPLETE") === total) return "COMPLETE";
  if (paused) return "WAITING";
  if (count("ERROR") > 0) return "ERROR";
  if (count("IN_PROGRESS") + count("COMPLETE") > 0) return "IN_PROGRESS";
  return "PENDING";
}

export function phaseStatus(ph: IndexedPhase): AggregateStatus {
  return aggregate((s) => ph.byStatus[s].size, ph.steps.length, ph.paused);
}

/** The plan's status and whole counts, as the engine's view has them, in O(phases). */
export function planStatus(p: IndexedPlan): {
  status: AggregateStatus;
  progress: { complete: number; total: number };
} {
  const statuses = p.phases.map(phaseStatus);
  const tally = (s: StepStatus) =>
    statuses.filter((x) => (x === "WAITING" ? "PENDING" : x) === s).length;
  let status = aggregate(tally, statuses.length, p.paused);
  let complete = 0;
  let total = 0;
  let pending = 0;
  for (const ph of p.phases) {
    complete += ph.byStatus.COMPLETE.size;
    pending += ph.byStatus.PENDING.size;
    total += ph.steps.length;
  }
  if (status !== "COMPLETE" && !p.paused && statuses.includes("WAITING"))
    status = total - pending > 0 ? "IN_PROGRESS" : "WAITING";
  return { status, progress: { complete, total } };
}
