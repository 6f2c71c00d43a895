// Capacity per pool: a bar of used, spare and free, the figures, and rebuild progress. Cards
// are keyed by pool: a redraw replaces only the cards whose figures or conditions changed.
import { bytes, h, svg } from "./dom.js";

const SEVERITY_RANK = { critical: 2, warning: 1 };

/** The worst condition about this pool, if any. */
function worstCondition(pool, conditions) {
  let worst;
  for (const c of conditions)
    if (
      c.object === pool.object &&
      (SEVERITY_RANK[c.severity] ?? 0) > (SEVERITY_RANK[worst?.severity] ?? 0)
    )
      worst = c;
  return worst;
}

export const poolLabel = (p) => (p.group ? `${p.group} / ${p.name}` : p.name);

const pct = (part, total) => (total > 0 ? Math.max(0, Math.min(100, (part / total) * 100)) : 0);
const percentText = (v) => `${Number(v ?? 0).toFixed(1)} %`;

function legendItem(kind, term, value, severity) {
  const swatch = `swatch cap-${kind}${severity ? ` sev-${severity}` : ""}`;
  return h(
    "div",
    { class: "kv", "data-part": kind },
    h("dt", {}, h("span", { class: swatch, "aria-hidden": "true" }), term),
    h("dd", { text: value }),
  );
}

function poolCard(pool, severity) {
  const c = pool.capacity ?? {};
  const total = c.totalBytes ?? 0;
  const used = pct(c.usedBytes, total);
  const spare = pct(c.spareBytes, total);
  const free = pct(c.freeBytes, total);
  const label = poolLabel(pool);
  const bar = svg(
    "svg",
    {
      class: "capacity-bar",
      viewBox: "0 0 100 6",
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `${label}: ${percentText(used)} used, ${percentText(spare)} spare, ${percentText(free)} free of ${bytes(total)}`,
    },
    svg("rect", { class: "cap-track", x: 0, y: 0, width: 100, height: 6 }),
    svg("rect", {
      class: `cap-used${severity ? ` sev-${severity}` : ""}`,
      "data-part": "used",
      x: 0,
      y: 0,
      width: used.toFixed(2),
      height: 6,
    }),
    svg("rect", {
      class: "cap-spare",
      "data-part": "spare",
      x: used.toFixed(2),
      y: 0,
      width: spare.toFixed(2),
      height: 6,
    }),
    svg("rect", {
      class: "cap-free",
      "data-part": "free",
      x: (used + spare).toFixed(2),
      y: 0,
      width: free.toFixed(2),
      height: 6,
    }),
  );
  const rebuild = pool.rebuild;
  return h(
    "article",
    { class: "pool", "data-pool": pool.object, "aria-label": `Pool ${label}` },
    h(
      "h3",
      {},
      label,
      severity
        ? h("span", {
            class: `badge sev-${severity}`,
            text: severity === "critical" ? "critical" : "warning",
          })
        : null,
    ),
    bar,
    h(
      "dl",
      { class: "cap-legend" },
      legendItem(
        "used",
        "Used",
        `${bytes(c.usedBytes)} · ${percentText(pool.usedPercent)}`,
        severity,
      ),
      legendItem("spare", "Spare", `${bytes(c.spareBytes)} · ${pool.sparePercentage ?? 0} %`),
      legendItem("free", "Free", bytes(c.freeBytes)),
      legendItem("total", "Total", bytes(total)),
    ),
    rebuild
      ? h(
          "p",
          { class: "rebuild" },
          h("label", { for: `rebuild-${pool.id}`, text: "Rebuilding " }),
          h("progress", {
            id: `rebuild-${pool.id}`,
            max: 100,
            value: rebuild.progressPercent ?? 0,
          }),
          ` ${Math.floor(rebuild.progressPercent ?? 0)} % · ${bytes(rebuild.remainingBytes)} left`,
        )
      : null,
  );
}

const drawn = new WeakMap(); // container → Map<object, {key, el}>

/** Draws the pools into the container, replacing only the cards that changed. */
export function drawPools(container, pools, conditions) {
  if (pools.length === 0) {
    drawn.delete(container);
    container.replaceChildren(h("p", { class: "empty", text: "No pools observed yet." }));
    return;
  }
  const before = drawn.get(container) ?? new Map();
  const after = new Map();
  const sorted = pools.slice().sort((a, b) => poolLabel(a).localeCompare(poolLabel(b)));
  const els = sorted.map((p) => {
    const severity = worstCondition(p, conditions)?.severity;
    const key = JSON.stringify([p, severity]);
    const old = before.get(p.object);
    const el = old && old.key === key ? old.el : poolCard(p, severity);
    after.set(p.object, { key, el });
    return el;
  });
  drawn.set(container, after);
  const same =
    els.length === container.children.length && els.every((el, i) => container.children[i] === el);
  if (!same) container.replaceChildren(...els);
}
