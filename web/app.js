// The dashboard: loads a snapshot with fetch, then follows /v1/events. Views are drawn again
// (at most a few times a second) only when something they show changed, and the big ones (the
// topology, the plans, an agent's page) touch only the cards and rows that changed.
import { ApiError, getJson, getToken, planAction, setToken } from "./api.js";
import { createAgentView } from "./agent-view.js";
import { replaceContent } from "./dom.js";
import { connectEvents } from "./events.js";
import { followHealth } from "./health-feed.js";
import { renderHealth } from "./health-view.js";
import { createLogView } from "./log-view.js";
import {
  addSamples,
  applyEvent,
  planNeedsView,
  seedLog,
  setPlan,
  setPools,
  setSnapshot,
  state,
  stepNeedsView,
  takeChanges,
} from "./model.js";
import { renderPlots } from "./plot.js";
import { createPlansView } from "./plans-view.js";
import { drawPools } from "./pools-view.js";
import { renderSummary } from "./summary-view.js";
import { createTopologyView } from "./topology-view.js";

const $ = (id) => document.getElementById(id);

// ---- drawing --------------------------------------------------------------------------

/** Events come in bursts: drawing at most this often leaves the page free for the operator. */
const MIN_FRAME_GAP_MS = 150;

const dirty = new Set();
let frame = 0;
let timer = 0;
let lastFlush = 0;

function markDirty(views) {
  for (const v of views) dirty.add(v);
  if (frame || timer || !dirty.size) return;
  const wait = lastFlush + MIN_FRAME_GAP_MS - window.performance.now();
  if (wait <= 0) frame = requestAnimationFrame(flush);
  else
    timer = setTimeout(() => {
      timer = 0;
      frame = requestAnimationFrame(flush);
    }, wait);
}

const planStatuses = new Map();

function announcePlanChanges() {
  for (const plan of state.plans.values()) {
    const was = planStatuses.get(plan.id);
    const now = `${plan.status}${plan.paused ? " (paused)" : ""}`;
    if (was !== undefined && was !== now) announce(`Plan ${plan.name}: ${now.toLowerCase()}`);
    planStatuses.set(plan.id, now);
  }
}

const logView = createLogView($("log"), $("log-newest"), {
  level: $("log-level"),
  agent: $("log-agent"),
});
const topologyView = createTopologyView(
  {
    body: $("topology-body"),
    search: $("agent-search"),
    filters: $("agent-filters"),
    sort: $("agent-sort"),
    prev: $("agents-prev"),
    next: $("agents-next"),
    range: $("agents-range"),
  },
  () => state.nodes,
);
const plansView = createPlansView(
  { body: $("plans-body"), status: $("step-status"), search: $("step-search") },
  () => state.plans,
);
const agentView = createAgentView(
  { section: $("agent"), title: $("agent-h"), facts: $("agent-facts"), body: $("agent-body") },
  () => state.nodes,
);

function flush() {
  frame = 0;
  lastFlush = window.performance.now();
  const changes = takeChanges();
  if (dirty.has("health")) replaceContent($("health-body"), renderHealth(state.health));
  if (dirty.has("pools")) drawPools($("pools-body"), state.pools, state.health.conditions);
  // Only when samples arrived (or the pools' names changed): a redraw is a few SVG paths.
  if (dirty.has("plots")) replaceContent($("plots-body"), renderPlots(state.history, state.pools));
  if (dirty.has("summary")) replaceContent($("summary-body"), renderSummary(state.summary));
  if (dirty.has("topology")) topologyView.update(changes);
  if (dirty.has("plans")) {
    plansView.update(changes);
    announcePlanChanges();
  }
  if (dirty.has("topology") || dirty.has("plans")) agentView.update(changes);
  if (dirty.has("log")) logView.draw(state.log);
  dirty.clear();
}

// ---- pages: the dashboard, or one agent (#/agent/<id>) ---------------------------------

function route() {
  const m = /^#\/agent\/(.+)$/.exec(window.location.hash);
  let agentId = null;
  try {
    agentId = m ? decodeURIComponent(m[1]) : null;
  } catch {
    agentId = null;
  }
  document.body.dataset.view = agentId === null ? "dashboard" : "agent";
  if (agentId !== null) {
    agentView.show(agentId);
    window.scrollTo(0, 0);
  } else if (!$("agent").hidden) {
    agentView.hide();
    // Back where the operator left: the agent's card, when it is on the page shown.
    const from = sessionStorage.getItem("scaleio-framework.from-agent");
    const link = from && document.querySelector(`a[data-key="agent-link:${CSS.escape(from)}"]`);
    if (link instanceof HTMLElement) link.focus();
  }
}
window.addEventListener("hashchange", route);
document.addEventListener("click", (e) => {
  const a = e.target instanceof Element ? e.target.closest("a.agent-link") : null;
  const key = a?.getAttribute("data-key");
  if (key) sessionStorage.setItem("scaleio-framework.from-agent", key.slice("agent-link:".length));
});
route();

// ---- messages -------------------------------------------------------------------------

function announce(text) {
  // Cleared first so the same words are announced again.
  const el = $("announce");
  el.textContent = "";
  requestAnimationFrame(() => (el.textContent = text));
}

function showNotice(text, kind = "error") {
  const el = $("notice");
  el.dataset.kind = kind;
  el.textContent = text;
  el.hidden = false;
}

function clearNotice() {
  $("notice").hidden = true;
  $("notice").textContent = "";
}

function describeFailure(err, what) {
  if (err instanceof ApiError && err.status === 401) {
    return `Not authorized (401): ${err.message}. ${
      getToken() ? "The API token was refused; enter the right one" : "Enter the API token"
    } in the token field at the top, then try again.`;
  }
  if (err instanceof ApiError) return `Could not ${what} (${err.status}): ${err.message}`;
  return `Could not ${what}: ${err.message ?? err}`;
}

// ---- loading and live updates ---------------------------------------------------------

let loading = null;
let queued = [];

async function loadSnapshot(withLog) {
  const [summary, nodes, plans, recent] = await Promise.all([
    getJson("/v1/summary"),
    getJson("/v1/nodes"),
    getJson("/v1/plans"),
    withLog ? getJson("/v1/events/recent").catch(() => ({ events: [] })) : null,
  ]);
  markDirty(setSnapshot({ summary, nodes: nodes.nodes, plans: plans.plans }));
  if (recent) {
    seedLog(recent.events);
    markDirty(["log"]);
  }
}

function reload(withLog) {
  // Events that arrive while the snapshot loads are applied after it.
  queued = [];
  loading = loadSnapshot(withLog)
    .then(() => {
      clearNoticeIfLoadError();
      for (const [type, data] of queued) applyLive(type, data);
    })
    .catch((err) => {
      loadError = true;
      showNotice(describeFailure(err, "load the cluster state"));
    })
    .finally(() => {
      loading = null;
      queued = [];
    });
}

// Plan events carry changes only: a plan first seen (or whose phases or steps changed) is
// read whole once, and the events that arrive meanwhile are applied after it.
const planReads = new Map();

function readPlan(planId, first) {
  const waiting = [first];
  planReads.set(planId, waiting);
  getJson(`/v1/plans/${encodeURIComponent(planId)}`)
    .then((view) => markDirty(setPlan(view)))
    .catch((err) => {
      if (err instanceof ApiError && err.status === 404 && state.plans.delete(planId))
        markDirty(["plans"]);
      else console.warn(`plan ${planId} not read:`, err);
    })
    .finally(() => {
      planReads.delete(planId);
      for (const [type, data] of waiting) markDirty(applyEvent(type, data));
    });
}

function applyLive(type, data) {
  const planId = type === "plan" ? data.id : type === "step" ? data.planId : undefined;
  if (planId !== undefined) {
    const waiting = planReads.get(planId);
    if (waiting) return void waiting.push([type, data]);
    if (type === "plan" ? planNeedsView(data) : stepNeedsView(data))
      return readPlan(planId, [type, data]);
  }
  markDirty(applyEvent(type, data));
}

let loadError = false;
function clearNoticeIfLoadError() {
  if (loadError) clearNotice();
  loadError = false;
}

const CONNECTION_WORDS = {
  connecting: "Connecting to the scheduler…",
  live: "Live: updates as they happen",
  reconnecting: "Connection lost; reconnecting…",
  unauthorized: "Not connected: this scheduler wants the API token for reads",
};

const healthFeed = followHealth({
  samples: () => state.history,
  newestSample: () => state.history.at(-1)?.at,
  onPools: (pools) => {
    const names = state.pools.map((p) => p.object + p.name).join();
    if (!setPools(pools)) return;
    markDirty(["pools"]);
    if (state.pools.map((p) => p.object + p.name).join() !== names) markDirty(["plots"]);
  },
  onSamples: (samples, reset) => {
    if (addSamples(samples, reset)) markDirty(["plots"]);
  },
  onProblem: (err) => console.warn("pools and history not read:", err),
});

function announceHealth(data) {
  const raised = (data.changes ?? []).filter(
    (c) => c.kind !== "cleared" && c.condition?.severity === "critical",
  );
  if (raised.length) announce(`Critical: ${raised.map((c) => c.condition.message).join("; ")}`);
}

let opened = 0;
const events = connectEvents("/v1/events", {
  onOpen: () => {
    reload(opened++ === 0);
    healthFeed.restart();
  },
  onEvent: (type, data) => {
    if (type === "health") {
      announceHealth(data);
      healthFeed.soon();
    }
    if (loading) queued.push([type, data]);
    else applyLive(type, data);
  },
  onRefused: (err) => showNotice(describeFailure(err, "follow the cluster")),
  onState: (s) => {
    const el = $("connection");
    if (el.dataset.state === s) return;
    el.dataset.state = s;
    el.textContent = CONNECTION_WORDS[s];
  },
});

// ---- the token ------------------------------------------------------------------------

const tokenInput = $("token");
function showTokenState() {
  tokenInput.placeholder = getToken() ? "token set for this tab" : "not set";
}
tokenInput.value = getToken();
showTokenState();
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  setToken(tokenInput.value.trim());
  showTokenState();
  clearNotice();
  announce(getToken() ? "API token set for this tab." : "API token cleared.");
  // Reads protected by the token: try again with it now.
  if ($("connection").dataset.state === "unauthorized") events.reconnect();
});
$("token-forget").addEventListener("click", () => {
  tokenInput.value = "";
  setToken("");
  showTokenState();
  announce("API token forgotten.");
});

// ---- the controls ---------------------------------------------------------------------

function confirmForce(stepName) {
  const dialog = $("confirm");
  $("confirm-text").textContent =
    `Step ${stepName} will be marked complete without running it. Use this only when the ` +
    `work was done by hand; later steps rely on it.`;
  return new Promise((resolve) => {
    const done = (ok) => {
      $("confirm-ok").removeEventListener("click", yes);
      $("confirm-cancel").removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      dialog.close();
      resolve(ok);
    };
    const yes = () => done(true);
    const no = () => done(false);
    $("confirm-ok").addEventListener("click", yes);
    $("confirm-cancel").addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

const ACTIONS = {
  "pause-plan": (d) => [
    planAction(d.plan, "pause", {}),
    `Paused plan ${d.plan}.`,
    "pause the plan",
  ],
  "resume-plan": (d) => [
    planAction(d.plan, "resume", {}),
    `Resumed plan ${d.plan}.`,
    "resume the plan",
  ],
  "pause-phase": (d) => [
    planAction(d.plan, "pause", { phase: d.phase }),
    `Paused phase ${d.phase}.`,
    "pause the phase",
  ],
  "resume-phase": (d) => [
    planAction(d.plan, "resume", { phase: d.phase }),
    `Resumed phase ${d.phase}.`,
    "resume the phase",
  ],
  restart: (d) => [
    planAction(d.plan, "restart", { step: d.step }),
    `Restarted step ${d.step}.`,
    "restart the step",
  ],
  "force-complete": (d) => [
    planAction(d.plan, "force-complete", { step: d.step }),
    `Force-completed step ${d.step}.`,
    "force-complete the step",
  ],
};

async function onAction(e) {
  const btn = e.target instanceof Element ? e.target.closest("button[data-action]") : null;
  if (!btn || btn.disabled) return;
  const d = { ...btn.dataset };
  const make = ACTIONS[d.action];
  if (!make) return;
  if (d.action === "force-complete") {
    const name = btn.getAttribute("aria-label")?.replace(/^Force complete step /, "") ?? d.step;
    if (!(await confirmForce(name))) return;
  }
  btn.disabled = true;
  btn.setAttribute("aria-busy", "true");
  const [request, done, what] = make(d);
  try {
    const plan = await request;
    clearNotice();
    announce(done);
    if (plan && plan.id) markDirty(applyEvent("plan", plan));
  } catch (err) {
    showNotice(describeFailure(err, what));
  } finally {
    btn.disabled = false;
    btn.removeAttribute("aria-busy");
  }
}
$("plans-body").addEventListener("click", onAction);
$("agent-body").addEventListener("click", onAction);
