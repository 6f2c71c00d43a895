// Time-series plots of the last hour (less while less was observed) as inline SVG: one path per pool for each metric, from
// the observation history. However many samples there are, each series is averaged into at
// most MAX_POINTS time buckets, so a plot costs the same at a 1 s or a 60 s interval.
import { bytes, clock, h, svg } from "./dom.js";

export const MAX_POINTS = 120;
export const WINDOW_MS = 3_600_000;

/** Small numbers with a decimal (0.5), others whole. */
const small = (v) => (v === 0 ? "0" : v < 10 ? v.toFixed(1) : String(Math.round(v)));

export const METRICS = [
  {
    key: "usedPercent",
    title: "Pool used",
    max: 100,
    format: (v) => `${v.toFixed(1)} %`,
    axis: (v) => `${Math.round(v)} %`,
  },
  {
    key: "iops",
    title: "IOPS",
    format: (v) => (v >= 10_000 ? `${Math.round(v / 1000)}k` : small(v)),
  },
  {
    key: "kbPerSecond",
    title: "Bandwidth",
    format: (v) => `${bytes(v * 1024)}/s`,
    // A round number of KiB, MiB, GiB… per second at the top.
    nice: (v) => {
      if (!(v > 0)) return 1;
      const unit = 1024 ** Math.max(0, Math.floor(Math.log(v * 1024) / Math.log(1024)));
      return (niceCeil((v * 1024) / unit) * unit) / 1024;
    },
  },
  {
    key: "latencyMicros",
    title: "Latency",
    format: (v) => (v >= 1000 ? `${(v / 1000).toFixed(1)} ms` : `${small(v)} µs`),
  },
];

// The drawing area inside the viewBox (which scales as a whole, text included).
const W = 480;
const H = 150;
const PAD = { left: 60, right: 10, top: 8, bottom: 18 };

/**
 * Points per series (pool object) of one metric, oldest first: the samples in the window
 * ending at `end`, averaged per bucket; a bucket's point is at its newest sample's time.
 * @returns {Map<string, {at: number, v: number}[]>}
 */
export function seriesOf(samples, metric, end, points = MAX_POINTS, windowMs = WINDOW_MS) {
  const start = end - windowMs;
  const width = windowMs / points;
  /** @type {Map<string, Map<number, {at: number, sum: number, n: number}>>} */
  const acc = new Map();
  for (const s of samples) {
    if (s.at < start || s.at > end) continue;
    const b = Math.min(points - 1, Math.floor((s.at - start) / width));
    for (const [object, figures] of Object.entries(s.pools ?? {})) {
      const v = figures?.[metric];
      if (typeof v !== "number" || !Number.isFinite(v)) continue;
      let buckets = acc.get(object);
      if (!buckets) acc.set(object, (buckets = new Map()));
      const cur = buckets.get(b);
      if (cur) {
        cur.sum += v;
        cur.n++;
        cur.at = Math.max(cur.at, s.at);
      } else buckets.set(b, { at: s.at, sum: v, n: 1 });
    }
  }
  const out = new Map();
  for (const [object, buckets] of acc)
    out.set(
      object,
      [...buckets.values()].sort((a, b) => a.at - b.at).map((x) => ({ at: x.at, v: x.sum / x.n })),
    );
  return out;
}

/** The typical time between samples (median of the last few), or undefined. */
export function typicalSpacing(samples) {
  const gaps = [];
  for (let i = Math.max(1, samples.length - 11); i < samples.length; i++)
    gaps.push(samples[i].at - samples[i - 1].at);
  if (gaps.length === 0) return undefined;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

/** 1, 2 or 5 times a power of ten, at least v. */
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** A path's `d`: lines between points, a new segment after a gap (no observations). */
export function pathOf(points, x, y, gapMs) {
  let d = "";
  let prev;
  for (const p of points) {
    const cmd = prev === undefined || p.at - prev > gapMs ? "M" : "L";
    d += `${cmd}${x(p.at).toFixed(1)} ${y(p.v).toFixed(1)}`;
    prev = p.at;
  }
  return d;
}

/** Colours by position among the pools (CSS classes series-0 … series-7). */
export const seriesClass = (i) => `series-${i % 8}`;

/**
 * One figure: the metric's plot over the last hour and its legend with each pool's latest
 * value. `order` maps pool objects to their position (so a pool keeps its colour).
 */
export function chart(metric, samples, labels, order) {
  const end = samples.at(-1)?.at ?? 0;
  // Less than an hour observed (a young scheduler): the plot spans what there is.
  const span = Math.max(60_000, Math.min(WINDOW_MS, end - (samples[0]?.at ?? end)));
  const start = end - span;
  const series = seriesOf(samples, metric.key, end, MAX_POINTS, span);
  let top = metric.max ?? 0;
  if (!metric.max) for (const pts of series.values()) for (const p of pts) top = Math.max(top, p.v);
  top = metric.max ?? (metric.nice ?? niceCeil)(top);
  const x = (at) => PAD.left + ((at - start) / span) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (Math.min(v, top) / top) * (H - PAD.top - PAD.bottom);
  // A line breaks where observations stopped for longer than a few intervals.
  const gapMs = Math.max(3 * (span / MAX_POINTS), 3 * (typicalSpacing(samples) ?? 0));
  const objects = [...series.keys()].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  // The legend gives the newest observation itself, not its bucket's average.
  const latest = (object) => {
    for (let i = samples.length - 1; i >= 0; i--) {
      const v = samples[i].pools?.[object]?.[metric.key];
      if (typeof v === "number" && Number.isFinite(v)) return v;
    }
    return undefined;
  };

  const grid = [0, 0.5, 1].map((f) =>
    svg(
      "g",
      { class: "grid-line" },
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(top * f), y2: y(top * f) }),
      svg("text", {
        x: PAD.left - 4,
        y: y(top * f) + 3,
        "text-anchor": "end",
        text: (metric.axis ?? metric.format)(top * f),
      }),
    ),
  );
  const axis = [
    svg("text", {
      class: "axis",
      x: PAD.left,
      y: H - 4,
      "text-anchor": "start",
      text: clock(start),
    }),
    svg("text", {
      class: "axis",
      x: W - PAD.right,
      y: H - 4,
      "text-anchor": "end",
      text: clock(end),
    }),
  ];
  const paths = objects.map((object) =>
    svg("path", {
      class: `series ${seriesClass(order.get(object) ?? 0)}`,
      "data-series": object,
      d: pathOf(series.get(object), x, y, gapMs),
    }),
  );
  const summary = objects
    .map((o) => `${labels.get(o) ?? o} ${latest(o) === undefined ? "–" : metric.format(latest(o))}`)
    .join(", ");
  return h(
    "figure",
    { class: "plot", "data-metric": metric.key },
    h("figcaption", { text: metric.title }),
    svg(
      "svg",
      {
        viewBox: `0 0 ${W} ${H}`,
        role: "img",
        "aria-label": `${metric.title}, latest: ${summary || "no data"}`,
      },
      grid,
      axis,
      paths,
    ),
    h(
      "ul",
      { class: "plot-legend" },
      objects.map((o) =>
        h(
          "li",
          {},
          h("span", { class: `swatch ${seriesClass(order.get(o) ?? 0)}`, "aria-hidden": "true" }),
          `${labels.get(o) ?? o}: `,
          h("span", {
            class: "plot-latest",
            text: latest(o) === undefined ? "–" : metric.format(latest(o)),
          }),
        ),
      ),
    ),
  );
}

/** Every metric's figure, or a line saying there is nothing to plot yet. */
export function renderPlots(samples, pools) {
  if (samples.length === 0) return [h("p", { class: "empty", text: "No observations yet." })];
  const labels = new Map(pools.map((p) => [p.object, p.group ? `${p.group} / ${p.name}` : p.name]));
  const objects = new Set(samples.flatMap((s) => Object.keys(s.pools ?? {})));
  for (const p of pools) objects.add(p.object);
  const order = new Map([...objects].sort().map((o, i) => [o, i]));
  return METRICS.map((m) => chart(m, samples, labels, order));
}
