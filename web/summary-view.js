// The cluster summary: framework, MDM cluster, SDS/SDC, capacity, and problems that are not
// conditions (those are in the health panel).
import { bytes, clock, h } from "./dom.js";

function item(term, ...value) {
  return h("div", { class: "kv" }, h("dt", { text: term }), h("dd", {}, ...value));
}

function capacity(c) {
  const used = Math.max(0, c.usableBytes - c.freeBytes);
  const max = Math.max(c.usableBytes, 1);
  return h(
    "div",
    { class: "capacity" },
    h(
      "dl",
      { class: "grid" },
      item("Raw", bytes(c.rawBytes)),
      item("Usable", bytes(c.usableBytes)),
      item("Free", bytes(c.freeBytes)),
    ),
    h(
      "div",
      { class: "meter-row" },
      h("label", { for: "capacity-meter", text: "Usable capacity in use" }),
      h("meter", {
        id: "capacity-meter",
        min: 0,
        max,
        value: Math.min(used, max),
        low: max * 0.7,
        high: max * 0.85,
        optimum: 0,
      }),
      h("span", {
        class: "meter-text",
        text: `${bytes(used)} used of ${bytes(c.usableBytes)} (${Math.round((used / max) * 100)}%)`,
      }),
    ),
  );
}

export function renderSummary(s) {
  if (!s) return [h("p", { class: "empty", text: "No summary yet." })];
  const c = s.cluster;
  const fw = s.framework ?? {};
  const parts = [
    h("p", {
      class: "framework-line",
      text: `${fw.name ?? "framework"} ${fw.subscribed ? "subscribed to Mesos" : "not subscribed to Mesos"} (role ${fw.role ?? "?"})`,
    }),
  ];
  const conditionMessages = new Set((s.conditions ?? []).map((c) => c.message));
  const problems = (s.problems ?? []).filter((p) => !conditionMessages.has(p));
  if (problems.length) {
    parts.push(
      h(
        "ul",
        { class: "problems", "aria-label": "Problems" },
        problems.map((p) => h("li", { text: p })),
      ),
    );
  }
  if (!c) {
    parts.push(h("p", { class: "empty", text: "The ScaleIO system cannot be read yet." }));
  } else {
    parts.push(
      h(
        "dl",
        { class: "grid" },
        item("System", `${c.systemName ?? "(unnamed)"} · ${c.systemId}`),
        item("State", c.state ?? "?"),
        ...Object.entries(c.details ?? {}).map(([label, value]) => item(label, value)),
        ...(c.components ?? []).map((k) => item(`${k.kind} ready`, `${k.ready} of ${k.total}`)),
        item("Observed", clock(c.observedAt)),
      ),
      capacity(c.capacity),
    );
    if (c.alerts?.length) {
      parts.push(
        h("h3", { text: "Alerts" }),
        h(
          "ul",
          { class: "alerts" },
          c.alerts.map((a) =>
            h("li", { text: `${a.severity}: ${a.type}${a.message ? ` — ${a.message}` : ""}` }),
          ),
        ),
      );
    }
  }
  return parts;
}
