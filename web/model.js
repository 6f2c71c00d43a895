// The dashboard's state: the latest snapshot plus every event applied to it. Each apply
// function returns the names of the views that need drawing again.
export const LOG_LIMIT = 200;
/** The plots show the last hour; older samples are dropped. */
export const HISTORY_WINDOW_MS = 3_600_000;
/** A hard bound on samples kept, whatever the observation interval. */
export const HISTORY_LIMIT = 4000;

export const state = {
  /** @type {any} */ summary: null,
  /** @type {Map<string, any>} */ nodes: new Map(),
  /** @type {Map<string, any>} */ plans: new Map(),
  /** @type {{seq: number, time: number, level: string, msg: string}[]} newest last */ log: [],
  /** The health report: the newest of the summary's and the health events'. */
  /** @type {{status: string, conditions: any[]}} */ health: { status: "unknown", conditions: [] },
  /** @type {any[]} GET /v1/pools */ pools: [],
  /** @type {{at: number, pools: Record<string, any>}[]} oldest first */ history: [],
};

let logSeq = 0;
let poolsKey = "";

/** Mirrors the engine: what a phase or plan is, given its parts' statuses. */
function aggregate(statuses, paused) {
  if (statuses.every((s) => s === "COMPLETE")) return "COMPLETE";
  if (paused) return "WAITING";
  if (statuses.includes("ERROR")) return "ERROR";
  if (statuses.some((s) => s === "IN_PROGRESS" || s === "COMPLETE")) return "IN_PROGRESS";
  return "PENDING";
}

function recompute(plan) {
  for (const ph of plan.phases)
    ph.status = aggregate(
      ph.steps.map((s) => s.status),
      ph.paused,
    );
  const all = plan.phases.flatMap((p) => p.steps);
  plan.progress = {
    complete: all.filter((s) => s.status === "COMPLETE").length,
    total: all.length,
  };
  const phaseStatuses = plan.phases.map((p) => (p.status === "WAITING" ? "PENDING" : p.status));
  let status = aggregate(phaseStatuses, plan.paused);
  if (status !== "COMPLETE" && !plan.paused && plan.phases.some((p) => p.status === "WAITING")) {
    status = all.some((s) => s.status !== "PENDING") ? "IN_PROGRESS" : "WAITING";
  }
  plan.status = status;
}

export function setSnapshot({ summary, nodes, plans }) {
  state.summary = summary;
  state.nodes = new Map(nodes.map((n) => [n.agentId, n]));
  state.plans = new Map(plans.map((p) => [p.id, p]));
  return ["summary", "topology", "plans", ...setHealth(summary)];
}

/** From a summary (`health`) or a health event (`status`); returns the views to draw. */
function setHealth(report) {
  const status = report?.status ?? report?.health;
  if (!status) return [];
  state.health = { status, conditions: Array.isArray(report.conditions) ? report.conditions : [] };
  // The pools' colours follow their conditions.
  return ["health", "pools"];
}

/** @param {any[]} pools @returns {boolean} whether anything changed */
export function setPools(pools) {
  const key = JSON.stringify(pools);
  if (key === poolsKey) return false;
  poolsKey = key;
  state.pools = pools;
  return true;
}

/**
 * Appends samples newer than the newest kept; keeps the last hour (of the newest sample's
 * clock: the scheduler's, not this browser's). @returns {boolean} whether any was added
 */
export function addSamples(samples, reset = false) {
  if (reset) state.history = [];
  const last = state.history.at(-1)?.at ?? -Infinity;
  const fresh = samples.filter((s) => typeof s?.at === "number" && s.at > last);
  if (fresh.length === 0) return reset;
  state.history.push(...fresh.sort((a, b) => a.at - b.at));
  const from = state.history.at(-1).at - HISTORY_WINDOW_MS;
  let drop = state.history.findIndex((s) => s.at >= from);
  drop = Math.max(drop, state.history.length - HISTORY_LIMIT);
  if (drop > 0) state.history.splice(0, drop);
  return true;
}

export function addLog(entry) {
  state.log.push({ ...entry, seq: ++logSeq });
  if (state.log.length > LOG_LIMIT) state.log.splice(0, state.log.length - LOG_LIMIT);
}

function applyStep({ planId, phaseId, step }) {
  const changed = ["plans"];
  const plan = state.plans.get(planId);
  const phase = plan?.phases.find((p) => p.id === phaseId);
  const i = phase ? phase.steps.findIndex((s) => s.id === step.id) : -1;
  const before = i >= 0 ? phase.steps[i] : undefined;
  if (before && (before.updatedAt ?? 0) > (step.updatedAt ?? 0)) return []; // stale
  if (phase && i >= 0) phase.steps[i] = step;
  else if (phase) phase.steps.push(step);
  if (plan) recompute(plan);
  // The node that runs the step shows its progress too.
  for (const node of state.nodes.values()) {
    const s = node.steps?.find((x) => x.planId === planId && x.stepId === step.id);
    if (!s) continue;
    Object.assign(s, {
      status: step.status,
      message: step.message,
      lastError: step.lastError,
      updatedAt: step.updatedAt,
    });
    // As the API computes it: the newest error of a step not complete.
    const fromSteps = node.steps
      .filter((x) => x.lastError && x.status !== "COMPLETE")
      .sort((a, b) => (b.updatedAt ?? 0) - (a.updatedAt ?? 0))[0]?.lastError;
    if (fromSteps) node.lastError = fromSteps;
    else if (node.lastError && node.lastError === before?.lastError) delete node.lastError;
    changed.push("topology");
  }
  return changed;
}

/** A whole plan view (GET /v1/plans/{id}, or a control's answer). */
export function setPlan(view) {
  state.plans.set(view.id, view);
  return ["plans"];
}

/**
 * Whether the plan as held here cannot take a change without its whole view: unknown, or a
 * phase or a count of steps it does not have (the plan's definition changed).
 */
export function planNeedsView(change) {
  const plan = state.plans.get(change.id);
  if (!plan) return true;
  if ((change.phases ?? []).some((c) => !plan.phases.some((p) => p.id === c.id))) return true;
  const held = plan.phases.reduce((n, p) => n + p.steps.length, 0);
  return change.progress !== undefined && change.progress.total !== held;
}

/** Whether a step's plan or phase is not held here (a new plan, or its definition changed). */
export function stepNeedsView({ planId, phaseId }) {
  const plan = state.plans.get(planId);
  return !plan || !plan.phases.some((p) => p.id === phaseId);
}

/** A plan event: its status and counts, and the phases that changed (not a whole view). */
function applyPlan(data) {
  // A whole view lists its phases with their steps. A change that changed no phase has an
  // empty list, which is not a view of a plan without phases.
  const phases = data.phases;
  if (Array.isArray(phases) && phases.length > 0 && phases.every((p) => Array.isArray(p.steps)))
    return setPlan(data);
  const plan = state.plans.get(data.id);
  if (!plan) return []; // the caller GETs the whole view
  if (data.name !== undefined) plan.name = data.name;
  plan.status = data.status;
  plan.paused = data.paused;
  if (data.progress) plan.progress = { ...data.progress };
  for (const c of data.phases ?? []) {
    const phase = plan.phases.find((p) => p.id === c.id);
    if (phase) Object.assign(phase, { status: c.status, paused: c.paused });
  }
  const gone = new Set(data.removedPhases ?? []);
  if (gone.size) plan.phases = plan.phases.filter((p) => !gone.has(p.id));
  return ["plans"];
}

/** @param {string} type @param {any} data */
export function applyEvent(type, data) {
  switch (type) {
    case "plan":
      return applyPlan(data);
    case "step":
      return applyStep(data);
    case "node":
      state.nodes.set(data.agentId, data);
      return ["topology"];
    case "summary":
      state.summary = data;
      return ["summary", ...setHealth(data)];
    case "health":
      return setHealth(data);
    case "log":
      addLog(data);
      return ["log"];
    default:
      return [];
  }
}

/** The log as it was before the page opened, from `/v1/events/recent`. */
export function seedLog(events) {
  state.log = [];
  for (const e of events) if (e.type === "log") addLog(e.data);
}
