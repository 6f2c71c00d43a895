// The plans: phases, steps, their statuses and the operator's controls. Buttons carry
// data-action/-plan/-phase/-step; app.js handles their clicks in one place.
//
// Drawn in place: a plan's and a phase's heading are updated where they are, and a step's row
// only when that step changed (its buttons stay the same elements). A phase's table is filled
// only while open, a page of rows at a time ("Show more"), with the steps the filter lets
// through; a phase finished when first drawn starts folded.
import { clock, h, idText, progressBar, statusBadge, statusWord } from "./dom.js";
import { stepOf } from "./model.js";

export const ROWS_PER_PAGE = 50;

function buttonKey(action, data) {
  // Pause and resume share a key: focus stays on the toggle when its label flips.
  const kind = action.replace(/^(pause|resume)-/, "toggle-");
  return [kind, data.plan, data.phase ?? "", data.step ?? ""].join("|");
}

export function button(action, label, accessibleName, data) {
  return h("button", {
    type: "button",
    class: action === "force-complete" ? "danger small" : "small",
    "data-action": action,
    "data-plan": data.plan,
    "data-phase": data.phase,
    "data-step": data.step,
    "data-key": buttonKey(action, data),
    "aria-label": accessibleName,
    text: label,
  });
}

/** Turns a pause/resume button into the other one, keeping the element (and its focus). */
function setToggle(btn, action, label, accessibleName) {
  if (btn.dataset.action === action) return;
  btn.dataset.action = action;
  btn.textContent = label;
  btn.setAttribute("aria-label", accessibleName);
}

function setBadge(badge, status) {
  if (badge.dataset.status === status) return;
  badge.dataset.status = status;
  badge.className = badge.className.replace(/status-[a-z_]+/, `status-${status.toLowerCase()}`);
  badge.textContent = statusWord(status);
}

function setProgress(el, complete, total) {
  const bar = el.querySelector("progress");
  const text = el.querySelector(".progress-text");
  const max = String(Math.max(total, 1));
  if (bar.getAttribute("max") !== max) bar.setAttribute("max", max);
  if (bar.getAttribute("value") !== String(complete)) bar.setAttribute("value", String(complete));
  const words = `${complete} of ${total}`;
  if (text.textContent !== words) text.textContent = words;
}

// ---- a step's row --------------------------------------------------------------------

function rowCells(step) {
  return [
    [
      idText(step.name),
      step.name !== step.id ? idText(step.id, "div", { class: "muted mono step-id" }) : null,
    ],
    [
      statusBadge(step.status, {
        class: `badge step-status status-${step.status.toLowerCase()}`,
      }),
      step.forced ? h("span", { class: "muted", text: " (forced)" }) : null,
    ],
    [
      step.message ?? "",
      step.attempts > 1 ? h("div", { class: "muted", text: `attempt ${step.attempts}` }) : null,
      step.retryAt && step.status === "ERROR"
        ? h("div", { class: "muted", text: `retry at ${clock(step.retryAt)}` })
        : null,
    ],
    [step.lastError ?? ""],
  ];
}

const signature = (s) =>
  [s.name, s.status, s.forced, s.message, s.attempts, s.retryAt, s.lastError].join("\u0000");

/** Fills a row's cells from its step, touching nothing when what it shows did not change. */
export function fillRow(tr, planId, phaseId, step) {
  const sig = signature(step);
  if (tr.sig === sig) return;
  tr.sig = sig;
  const cells = rowCells(step);
  for (let i = 0; i < 4; i++) tr.cells[i].replaceChildren(...cells[i].filter((c) => c !== null));
  tr.cells[3].className = step.lastError ? "error-text" : "";
  const actions = tr.cells[4];
  const data = { plan: planId, phase: phaseId, step: step.id };
  if (!actions.querySelector('[data-action="restart"]'))
    actions.append(button("restart", "Restart", `Restart step ${step.name}`, data));
  const force = actions.querySelector('[data-action="force-complete"]');
  if (step.status === "COMPLETE") force?.remove();
  else if (!force)
    actions.append(
      button("force-complete", "Force complete", `Force complete step ${step.name}`, data),
    );
}

export function stepRow(planId, phaseId, step, extraCells = []) {
  const tr = h(
    "tr",
    { "data-step-row": `${planId}|${step.id}` },
    ...extraCells,
    h("th", { scope: "row" }),
    h("td"),
    h("td"),
    h("td"),
    h("td", { class: "actions" }),
  );
  return tr;
}

// ---- a phase ---------------------------------------------------------------------------

function matchesFilter(step, filter) {
  if (filter.status && step.status !== filter.status) return false;
  if (!filter.query) return true;
  const q = filter.query;
  return (
    String(step.name).toLowerCase().includes(q) ||
    String(step.id).toLowerCase().includes(q) ||
    String(step.hostname ?? "")
      .toLowerCase()
      .includes(q)
  );
}

function createPhase(plan, phase, wasOpen, view) {
  const headingId = `phase-${plan.id}-${phase.id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const badge = statusBadge(phase.status);
  const progress = progressBar(0, 0, `Steps complete in phase ${phase.name}`);
  const toggle = button("pause-phase", "Pause phase", `Pause phase ${phase.name}`, {
    plan: plan.id,
    phase: phase.id,
  });
  const summary = h("summary", { "data-key": `steps-summary:${plan.id}|${phase.id}` });
  const tbody = h("tbody");
  const more = h("button", {
    type: "button",
    class: "small show-more",
    "data-key": `more:${plan.id}|${phase.id}`,
    hidden: true,
  });
  const shownText = h("p", { class: "muted rows-shown", "aria-live": "polite" });
  const details = h(
    "details",
    { class: "phase-steps", "data-key": `steps:${plan.id}|${phase.id}` },
    summary,
    h(
      "table",
      { class: "steps" },
      h("caption", { class: "visually-hidden", text: `Steps of phase ${phase.name}` }),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Step", "Status", "Detail", "Last error", "Actions"].map((c) =>
            h("th", { scope: "col", text: c }),
          ),
        ),
      ),
      tbody,
    ),
    shownText,
    more,
  );
  details.open = wasOpen ?? phase.status !== "COMPLETE";
  const section = h(
    "section",
    { class: "phase", "aria-labelledby": headingId, "data-phase": phase.id },
    h(
      "div",
      { class: "phase-head" },
      h("h4", { id: headingId, text: `Phase ${phase.name}` }),
      badge,
      h("span", { class: "muted", text: `${phase.strategy}` }),
      progress,
      toggle,
    ),
    details,
  );
  const p = {
    planId: plan.id,
    phase,
    section,
    badge,
    progress,
    toggle,
    summary,
    details,
    tbody,
    more,
    shownText,
    limit: ROWS_PER_PAGE,
    /** Whether the operator opened or closed the phase himself. */
    touched: false,
    /** @type {string | undefined} the phase's status when last drawn */
    drawnStatus: undefined,
    /** @type {Map<string, HTMLTableRowElement>} */ rows: new Map(),
    /** @type {string[]} */ ids: [],
  };
  details.addEventListener("toggle", () => drawRows(p, view.filter));
  // The operator's own choice (a click, or Enter/Space, on the summary) is kept from then on.
  summary.addEventListener("click", () => {
    p.touched = true;
  });
  more.addEventListener("click", () => {
    p.limit += ROWS_PER_PAGE;
    drawRows(p, view.filter);
  });
  updatePhaseHead(p, phase);
  return p;
}

function updatePhaseHead(p, phase) {
  p.phase = phase;
  // A phase that finishes while watched folds, unless the operator opened or closed it
  // himself: a long deploy's finished tables would otherwise fill the page. (The model
  // changes phases in place: the status last drawn is kept here.)
  const was = p.drawnStatus;
  p.drawnStatus = phase.status;
  if (was !== undefined && was !== "COMPLETE" && phase.status === "COMPLETE" && !p.touched)
    p.details.open = false;
  setBadge(p.badge, phase.status);
  let done = 0;
  for (const s of phase.steps) if (s.status === "COMPLETE") done++;
  setProgress(p.progress, done, phase.steps.length);
  const words = `${phase.steps.length} step(s)`;
  if (p.summary.textContent !== words) p.summary.textContent = words;
  // A finished phase has nothing left to hold: no pause offered (resume stays, if paused).
  if (phase.paused)
    setToggle(p.toggle, "resume-phase", "Resume phase", `Resume phase ${phase.name}`);
  else setToggle(p.toggle, "pause-phase", "Pause phase", `Pause phase ${phase.name}`);
  // Out of the page (not just hidden): nothing can find or press it.
  if (!phase.paused && phase.status === "COMPLETE") p.toggle.remove();
  else if (!p.toggle.isConnected) p.progress.after(p.toggle);
}

/** The rows of an open phase: the first `limit` steps the filter lets through, keyed. */
function drawRows(p, filter) {
  if (!p.details.open) {
    if (p.rows.size) {
      p.tbody.replaceChildren();
      p.rows.clear();
      p.ids = [];
    }
    p.more.hidden = true;
    p.shownText.textContent = "";
    return;
  }
  const matching = p.phase.steps.filter((s) => matchesFilter(s, filter));
  const steps = matching.slice(0, p.limit);
  const ids = steps.map((s) => s.id);
  const same = ids.length === p.ids.length && ids.every((id, i) => id === p.ids[i]);
  if (!same) {
    const rows = new Map();
    for (const s of steps) {
      let tr = p.rows.get(s.id);
      if (!tr) tr = stepRow(p.planId, p.phase.id, s);
      fillRow(tr, p.planId, p.phase.id, s);
      rows.set(s.id, tr);
    }
    // Rows still shown keep their elements (and focus) as the others come and go.
    const active = document.activeElement;
    p.tbody.replaceChildren(...rows.values());
    if (active instanceof HTMLElement && active.isConnected && document.activeElement !== active)
      active.focus();
    p.rows = rows;
    p.ids = ids;
  }
  const rest = matching.length - steps.length;
  p.more.hidden = rest <= 0;
  const moreText = `Show ${Math.min(rest, ROWS_PER_PAGE)} more`;
  if (rest > 0 && p.more.textContent !== moreText) p.more.textContent = moreText;
  let shown = "";
  if (matching.length === 0) shown = "No step of this phase matches.";
  else if (matching.length < p.phase.steps.length || rest > 0)
    shown = `${steps.length} of ${matching.length} matching step(s) shown`;
  if (p.shownText.textContent !== shown) p.shownText.textContent = shown;
  p.tbody.parentElement.hidden = matching.length === 0;
}

// ---- a plan ----------------------------------------------------------------------------

function createPlan(plan, opened, view) {
  const headingId = `plan-${plan.id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const badge = statusBadge(plan.status, {
    class: `badge plan-status status-${plan.status.toLowerCase()}`,
  });
  const pausedBadge = h("span", { class: "badge paused", text: "paused by operator" });
  const progress = progressBar(0, 0, `Steps complete in plan ${plan.name}`);
  const toggle = button("pause-plan", "Pause plan", `Pause plan ${plan.name}`, { plan: plan.id });
  const phases = new Map(
    plan.phases.map((ph) => [
      ph.id,
      createPhase(plan, ph, opened.get(`steps:${plan.id}|${ph.id}`), view),
    ]),
  );
  const article = h(
    "article",
    { class: "plan", "aria-labelledby": headingId, "data-plan": plan.id },
    h(
      "div",
      { class: "plan-head" },
      h("h3", { id: headingId, text: `Plan ${plan.name}` }),
      badge,
      pausedBadge,
      progress,
      toggle,
    ),
    [...phases.values()].map((p) => p.section),
  );
  const p = { plan, article, badge, pausedBadge, progress, toggle, phases };
  updatePlanHead(p, plan);
  return p;
}

function updatePlanHead(p, plan) {
  p.plan = plan;
  setBadge(p.badge, plan.status);
  p.pausedBadge.hidden = !plan.paused;
  setProgress(p.progress, plan.progress?.complete ?? 0, plan.progress?.total ?? 0);
  if (plan.paused) setToggle(p.toggle, "resume-plan", "Resume plan", `Resume plan ${plan.name}`);
  else setToggle(p.toggle, "pause-plan", "Pause plan", `Pause plan ${plan.name}`);
  for (const ph of plan.phases) {
    const phase = p.phases.get(ph.id);
    if (phase) updatePhaseHead(phase, ph);
  }
}

/**
 * @param {{ body: HTMLElement, status: HTMLSelectElement, search: HTMLInputElement }} el
 * @param {() => Map<string, any>} plans
 */
export function createPlansView(el, plans) {
  /** @type {Map<string, ReturnType<typeof createPlan>>} */
  const drawn = new Map();
  const view = { filter: { status: "", query: "" } };
  let empty = null;

  const rebuild = (plan) => {
    const old = drawn.get(plan.id);
    const opened = new Map();
    if (old)
      for (const ph of old.phases.values()) opened.set(ph.details.dataset.key, ph.details.open);
    const active = document.activeElement;
    const focusKey = old?.article.contains(active) ? active?.getAttribute("data-key") : null;
    const made = createPlan(plan, opened, view);
    for (const ph of made.phases.values()) {
      const before = old?.phases.get(ph.phase.id);
      if (before) {
        ph.limit = before.limit;
        ph.touched = before.touched;
        // Finished while the plan was rebuilt: folds as a phase finishing in place does.
        const justDone = before.drawnStatus !== "COMPLETE" && ph.phase.status === "COMPLETE";
        if (justDone && !ph.touched) ph.details.open = false;
      }
      drawRows(ph, view.filter);
    }
    if (old) old.article.replaceWith(made.article);
    else el.body.append(made.article);
    drawn.set(plan.id, made);
    if (focusKey) {
      const again = made.article.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
      if (again instanceof HTMLElement) again.focus();
    }
  };

  /** @param {{all: boolean, steps: Set<string>, plans: Set<string>, whole: Set<string>}} c */
  function update(c) {
    const all = plans();
    for (const [id, p] of drawn)
      if (!all.has(id)) {
        p.article.remove();
        drawn.delete(id);
      }
    if (all.size === 0) {
      empty ??= h("p", { class: "empty", text: "No plans yet." });
      el.body.replaceChildren(empty);
      return;
    }
    empty?.remove();
    el.body.querySelector(":scope > p.empty")?.remove();
    const phasesToRedraw = new Set();
    for (const plan of all.values()) {
      const p = drawn.get(plan.id);
      if (!p || c.all || c.whole.has(plan.id) || p.plan !== plan) {
        rebuild(plan);
        continue;
      }
      if (c.plans.has(plan.id)) updatePlanHead(p, plan);
    }
    // Changed steps: their rows where shown; a phase whose filtered rows may differ is redrawn.
    for (const key of c.steps) {
      const bar = key.indexOf("|");
      const p = drawn.get(key.slice(0, bar));
      if (!p || c.whole.has(p.plan.id) || c.all) continue;
      const stepId = key.slice(bar + 1);
      const step = stepOf(p.plan.id, stepId);
      for (const ph of p.phases.values()) {
        const tr = ph.rows.get(stepId);
        if (tr && step) fillRow(tr, p.plan.id, ph.phase.id, step);
        // Which steps a status filter lets through changes with their statuses.
        if (ph.details.open && view.filter.status) phasesToRedraw.add(ph);
      }
    }
    for (const ph of phasesToRedraw) drawRows(ph, view.filter);
    // Plans in the order they came.
    const order = [...all.keys()];
    const now = [...el.body.children].map((a) => a.getAttribute("data-plan"));
    if (order.join("\u0000") !== now.join("\u0000"))
      el.body.replaceChildren(...order.map((id) => drawn.get(id).article));
  }

  const refilter = () => {
    view.filter = {
      status: el.status.value,
      query: el.search.value.trim().toLowerCase(),
    };
    for (const p of drawn.values())
      for (const ph of p.phases.values()) {
        ph.limit = ROWS_PER_PAGE;
        drawRows(ph, view.filter);
      }
  };
  el.status.addEventListener("change", refilter);
  el.search.addEventListener("input", refilter);

  return { update };
}
