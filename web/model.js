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

/** Consecutive finished steps share one log line, up to this many. */
export const DONE_GROUP_LIMIT = 200;

/**
 * What changed since the views last drew, finer than the view names the apply functions
 * return: the views touch only these rows and cards. `all`: a new snapshot (draw everything).
 */
let changes = freshChanges();
function freshChanges() {
  return {
    all: false,
    /** @type {Set<string>} agent ids */ nodes: new Set(),
    /** @type {Set<string>} "planId|stepId" */ steps: new Set(),
    /** @type {Set<string>} plans whose status, counts or phases' statuses changed */
    plans: new Set(),
    /** @type {Set<string>} plans read whole (phases or steps added or removed) */
    whole: new Set(),
  };
}

/** The changes since the last call (the views drew them). */
export function takeChanges() {
  const c = changes;
  changes = freshChanges();
  return c;
}

// Indexes, so that a step event costs O(1) lookups rather than scans of every node and step.
/** @type {Map<string, {phase: any, i: number}>} "planId|stepId" → where the step is */
const stepAt = new Map();
/** @type {Map<string, any>} "planId|stepId" → the node that runs the step */
const nodeOfStep = new Map();

function indexPlan(plan) {
  for (const key of [...stepAt.keys()]) if (key.startsWith(`${plan.id}|`)) stepAt.delete(key);
  for (const phase of plan.phases)
    phase.steps.forEach((s, i) => stepAt.set(`${plan.id}|${s.id}`, { phase, i }));
}

function indexNode(node, previous) {
  for (const s of previous?.steps ?? []) {
    const key = `${s.planId}|${s.stepId}`;
    if (nodeOfStep.get(key) === previous) nodeOfStep.delete(key);
  }
  for (const s of node.steps ?? []) nodeOfStep.set(`${s.planId}|${s.stepId}`, node);
}

/** A plan's step by its id (O(1)). */
export function stepOf(planId, stepId) {
  const at = stepAt.get(`${planId}|${stepId}`);
  return at ? at.phase.steps[at.i] : undefined;
}

/** An agent's state as the API's `status` filter has it: error, lost, in-progress or ok. */
export function nodeStatus(node) {
  let open = false;
  for (const s of node.steps ?? []) {
    if (s.status === "ERROR") return "error";
    if (s.status !== "COMPLETE") open = true;
  }
  if (node.lost) return "lost";
  return open ? "in-progress" : "ok";
}

/** Mirrors the engine: what a phase or plan is, given its parts' statuses. */
function aggregate(statuses, paused) {
  let all = true;
  let error = false;
  let started = false;
  for (const s of statuses) {
    if (s !== "COMPLETE") all = false;
    if (s === "ERROR") error = true;
    if (s === "IN_PROGRESS" || s === "COMPLETE") started = true;
  }
  if (all) return "COMPLETE";
  if (paused) return "WAITING";
  if (error) return "ERROR";
  return started ? "IN_PROGRESS" : "PENDING";
}

function recomputePhase(ph) {
  ph.status = aggregate(
    ph.steps.map((s) => s.status),
    ph.paused,
  );
}

function recomputePlanStatus(plan) {
  const phaseStatuses = plan.phases.map((p) => (p.status === "WAITING" ? "PENDING" : p.status));
  let status = aggregate(phaseStatuses, plan.paused);
  if (status !== "COMPLETE" && !plan.paused && plan.phases.some((p) => p.status === "WAITING")) {
    const started = plan.phases.some((p) => p.steps.some((s) => s.status !== "PENDING"));
    status = started ? "IN_PROGRESS" : "WAITING";
  }
  plan.status = status;
}

export function setSnapshot({ summary, nodes, plans }) {
  state.summary = summary;
  state.nodes = new Map(nodes.map((n) => [n.agentId, n]));
  state.plans = new Map(plans.map((p) => [p.id, p]));
  stepAt.clear();
  nodeOfStep.clear();
  for (const p of state.plans.values()) indexPlan(p);
  for (const n of state.nodes.values()) indexNode(n);
  changes = freshChanges();
  changes.all = true;
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
  const views = ["plans"];
  const key = `${planId}|${step.id}`;
  const plan = state.plans.get(planId);
  const phase = plan?.phases.find((p) => p.id === phaseId);
  const at = stepAt.get(key);
  const i = phase && at?.phase === phase ? at.i : -1;
  const before = i >= 0 ? phase.steps[i] : undefined;
  if (before && (before.updatedAt ?? 0) > (step.updatedAt ?? 0)) return []; // stale
  if (phase && i >= 0) phase.steps[i] = step;
  else if (phase) {
    phase.steps.push(step);
    stepAt.set(key, { phase, i: phase.steps.length - 1 });
    changes.whole.add(planId);
  }
  if (plan && phase) {
    recomputePhase(phase);
    const was = before?.status === "COMPLETE" ? 1 : 0;
    const now = step.status === "COMPLETE" ? 1 : 0;
    plan.progress = {
      complete: (plan.progress?.complete ?? 0) + now - was,
      total: (plan.progress?.total ?? 0) + (before ? 0 : 1),
    };
    recomputePlanStatus(plan);
    changes.steps.add(key);
    changes.plans.add(planId);
  }
  // The node that runs the step shows its progress too.
  const node = nodeOfStep.get(key);
  const s = node?.steps?.find((x) => x.planId === planId && x.stepId === step.id);
  if (node && s) {
    const hadError = s.lastError;
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
    else if (node.lastError && node.lastError === (before?.lastError ?? hadError))
      delete node.lastError;
    changes.nodes.add(node.agentId);
    views.push("topology");
  }
  if (step.status === "COMPLETE" && before?.status !== "COMPLETE") {
    addDone(planId, step, node);
    views.push("log");
  }
  return views;
}

/** A finished step: a line of its own in the log, grouped with the finished steps before it. */
function addDone(planId, step, node) {
  const host = node?.hostname;
  const text = `${planId}: ${step.name}${host && !String(step.name).includes(host) ? ` on ${host}` : ""}`;
  const item = { text, agent: node ? `${node.hostname} ${node.ip} ${node.agentId}` : "" };
  const last = state.log.at(-1);
  if (last?.kind === "done" && last.items.length < DONE_GROUP_LIMIT) {
    last.items.push(item);
    last.rev++;
    last.time = step.updatedAt ?? last.time;
    return;
  }
  addLog({
    time: step.updatedAt ?? Date.now(),
    level: "info",
    msg: "",
    kind: "done",
    items: [item],
    rev: 1,
  });
}

/** A whole plan view (GET /v1/plans/{id}, or a control's answer). */
export function setPlan(view) {
  state.plans.set(view.id, view);
  indexPlan(view);
  changes.whole.add(view.id);
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
  if (gone.size) {
    plan.phases = plan.phases.filter((p) => !gone.has(p.id));
    indexPlan(plan);
    changes.whole.add(plan.id);
  }
  changes.plans.add(plan.id);
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
      indexNode(data, state.nodes.get(data.agentId));
      state.nodes.set(data.agentId, data);
      changes.nodes.add(data.agentId);
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
  for (const e of events) {
    if (e.type === "log") addLog(e.data);
    else if (e.type === "step" && e.data?.step?.status === "COMPLETE") {
      const { planId, step } = e.data;
      addDone(planId, step, nodeOfStep.get(`${planId}|${step.id}`));
    }
  }
}
