// The health panel at the top: the cluster's status and its active conditions, critical
// first, each with its message, what it is about and since when.
import { clock, h, idText } from "./dom.js";

export const HEALTH_WORDS = {
  healthy: "Healthy",
  deploying: "Deploying",
  degraded: "Degraded",
  critical: "Critical",
  unknown: "Unknown",
};

/** Rows drawn at most: a thousand lost agents must not become a thousand rows here. */
export const CONDITIONS_SHOWN = 50;

const rank = (c) => (c.severity === "critical" ? 2 : 1);

/** Critical first, then the oldest first (as the API orders them; events keep that order). */
export function ordered(conditions) {
  return conditions
    .slice()
    .sort(
      (a, b) =>
        rank(b) - rank(a) ||
        (a.since ?? 0) - (b.since ?? 0) ||
        String(a.type).localeCompare(String(b.type)),
    );
}

function conditionItem(c) {
  return h(
    "li",
    {
      class: `condition sev-${c.severity}`,
      "data-severity": c.severity,
      "data-type": c.type,
      "data-object": c.object,
    },
    h("span", {
      class: `badge sev-${c.severity}`,
      text: c.severity === "critical" ? "Critical" : "Warning",
    }),
    " ",
    h("strong", { class: "condition-message", text: c.message }),
    h(
      "div",
      { class: "condition-meta muted" },
      h("span", { text: c.type }),
      " · ",
      idText(c.object, "span", { class: "mono" }),
      c.since ? ` · since ${clock(c.since)}` : "",
    ),
  );
}

export function renderHealth(health) {
  const list = ordered(health.conditions ?? []);
  const critical = list.filter((c) => c.severity === "critical").length;
  const head = h(
    "p",
    { class: "health-line" },
    h("span", {
      class: `badge health-${health.status}`,
      "data-health": health.status,
      id: "health",
      text: HEALTH_WORDS[health.status] ?? health.status,
    }),
    " ",
    h("span", {
      class: "condition-count",
      text:
        list.length === 0
          ? "No active conditions."
          : `${list.length} active condition${list.length === 1 ? "" : "s"}` +
            (critical ? `, ${critical} critical` : ""),
    }),
  );
  if (list.length === 0) return [head];
  const rest = list.length - CONDITIONS_SHOWN;
  return [
    head,
    h(
      "ol",
      { class: "conditions", "aria-label": "Active conditions" },
      list.slice(0, CONDITIONS_SHOWN).map(conditionItem),
    ),
    rest > 0
      ? h("p", { class: "muted", text: `…and ${rest} more (all of them: GET /v1/health).` })
      : null,
  ].filter(Boolean);
}
