// The plans: phases, steps, their statuses and the operator's controls. Buttons carry
// data-action/-plan/-phase/-step; app.js handles their clicks in one place.
import { clock, h, idText, progressBar, statusBadge } from "./dom.js";

function button(action, label, accessibleName, data) {
  // Pause and resume share a key: focus stays on the toggle when its label flips.
  const kind = action.replace(/^(pause|resume)-/, "toggle-");
  const key = [kind, data.plan, data.phase ?? "", data.step ?? ""].join("|");
  return h("button", {
    type: "button",
    class: action === "force-complete" ? "danger small" : "small",
    "data-action": action,
    "data-plan": data.plan,
    "data-phase": data.phase,
    "data-step": data.step,
    "data-key": key,
    "aria-label": accessibleName,
    text: label,
  });
}

function stepRow(plan, phase, step) {
  return h(
    "tr",
    { "data-step-row": `${plan.id}|${step.id}` },
    h(
      "th",
      { scope: "row" },
      idText(step.name),
      step.name !== step.id ? idText(step.id, "div", { class: "muted mono step-id" }) : null,
    ),
    h(
      "td",
      {},
      statusBadge(step.status, { class: `badge step-status status-${step.status.toLowerCase()}` }),
      step.forced ? h("span", { class: "muted", text: " (forced)" }) : null,
    ),
    h(
      "td",
      {},
      step.message ?? "",
      step.attempts > 1 ? h("div", { class: "muted", text: `attempt ${step.attempts}` }) : null,
      step.retryAt && step.status === "ERROR"
        ? h("div", { class: "muted", text: `retry at ${clock(step.retryAt)}` })
        : null,
    ),
    h("td", { class: step.lastError ? "error-text" : "" }, step.lastError ?? ""),
    h(
      "td",
      { class: "actions" },
      button("restart", "Restart", `Restart step ${step.name}`, {
        plan: plan.id,
        phase: phase.id,
        step: step.id,
      }),
      step.status !== "COMPLETE"
        ? button("force-complete", "Force complete", `Force complete step ${step.name}`, {
            plan: plan.id,
            phase: phase.id,
            step: step.id,
          })
        : null,
    ),
  );
}

function phaseSection(plan, phase) {
  const done = phase.steps.filter((s) => s.status === "COMPLETE").length;
  const headingId = `phase-${plan.id}-${phase.id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return h(
    "section",
    { class: "phase", "aria-labelledby": headingId, "data-phase": phase.id },
    h(
      "div",
      { class: "phase-head" },
      h("h4", { id: headingId, text: `Phase ${phase.name}` }),
      statusBadge(phase.status),
      h("span", { class: "muted", text: `${phase.strategy}` }),
      progressBar(done, phase.steps.length, `Steps complete in phase ${phase.name}`),
      // A finished phase has nothing left to hold: no pause offered (resume stays, if paused).
      phase.paused
        ? button("resume-phase", "Resume phase", `Resume phase ${phase.name}`, {
            plan: plan.id,
            phase: phase.id,
          })
        : phase.status === "COMPLETE"
          ? null
          : button("pause-phase", "Pause phase", `Pause phase ${phase.name}`, {
              plan: plan.id,
              phase: phase.id,
            }),
    ),
    h(
      "details",
      {
        class: "phase-steps",
        "data-key": `steps:${plan.id}|${phase.id}`,
        open: phase.status !== "COMPLETE",
      },
      h("summary", {
        "data-key": `steps-summary:${plan.id}|${phase.id}`,
        text: `${phase.steps.length} step(s)`,
      }),
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
        h(
          "tbody",
          {},
          phase.steps.map((s) => stepRow(plan, phase, s)),
        ),
      ),
    ),
  );
}

function planArticle(plan) {
  const headingId = `plan-${plan.id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return h(
    "article",
    { class: "plan", "aria-labelledby": headingId, "data-plan": plan.id },
    h(
      "div",
      { class: "plan-head" },
      h("h3", { id: headingId, text: `Plan ${plan.name}` }),
      statusBadge(plan.status, { class: `badge plan-status status-${plan.status.toLowerCase()}` }),
      plan.paused ? h("span", { class: "badge paused", text: "paused by operator" }) : null,
      progressBar(
        plan.progress.complete,
        plan.progress.total,
        `Steps complete in plan ${plan.name}`,
      ),
      plan.paused
        ? button("resume-plan", "Resume plan", `Resume plan ${plan.name}`, { plan: plan.id })
        : button("pause-plan", "Pause plan", `Pause plan ${plan.name}`, { plan: plan.id }),
    ),
    plan.phases.map((ph) => phaseSection(plan, ph)),
  );
}

export function renderPlans(plans) {
  if (plans.size === 0) return [h("p", { class: "empty", text: "No plans yet." })];
  return [...plans.values()].map(planArticle);
}
