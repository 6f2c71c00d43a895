// Small DOM and formatting helpers shared by the views.

/**
 * Creates an element. Props: class, text, data-* and aria-* and other attributes; children are
 * nodes or strings (null, undefined and false are skipped). Never parses HTML.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k === "value" && "value" in el) el.value = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Like h(), for SVG elements (attributes only; presentation attributes, never style). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replaces a container's content, keeping keyboard focus and <details> states by their keys. */
export function replaceContent(container, nodes) {
  const active = document.activeElement;
  const focusKey = container.contains(active) ? active?.getAttribute("data-key") : null;
  // What the operator opened or closed stays so; new ones keep their default.
  const open = new Map(
    [...container.querySelectorAll("details[data-key]")].map((d) => [d.dataset.key, d.open]),
  );
  container.replaceChildren(...nodes);
  for (const d of container.querySelectorAll("details[data-key]")) {
    const was = open.get(d.dataset.key);
    if (was !== undefined) d.open = was;
  }
  if (focusKey) {
    const again = container.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
}

const STATUS_WORDS = {
  COMPLETE: "Complete",
  IN_PROGRESS: "In progress",
  PENDING: "Pending",
  ERROR: "Error",
  WAITING: "Paused",
};

export function statusWord(status) {
  return STATUS_WORDS[status] ?? String(status ?? "unknown");
}

export function statusBadge(status, extra = {}) {
  return h("span", {
    class: `badge status-${String(status).toLowerCase()}`,
    "data-status": status,
    text: statusWord(status),
    ...extra,
  });
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function bytes(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "–";
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[u]}`;
}

export function clock(ms) {
  if (typeof ms !== "number") return "";
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** A native <progress> with a visible "n of m" and a label for assistive technology. */
export function progressBar(complete, total, label) {
  return h(
    "span",
    { class: "progress" },
    h("progress", { max: Math.max(total, 1), value: complete, "aria-label": label }),
    h("span", { class: "progress-text", text: `${complete} of ${total}` }),
  );
}

/** A long id as its first 8 and last 6 characters (Mesos agent ids are ~40 characters). */
export function shortId(id) {
  const s = String(id ?? "");
  return s.length > 18 ? `${s.slice(0, 8)}…${s.slice(-6)}` : s;
}

// Id-like words: long runs of letters, digits, "-" and "_" with a digit in them (agent ids,
// UUIDs); words and dotted host names are left alone.
const LONG_ID = /[A-Za-z0-9_-]{19,}/g;

/** The text with every long id in it shortened. */
export function shortenIds(text) {
  return String(text ?? "").replace(LONG_ID, (w) => (/\d/.test(w) ? shortId(w) : w));
}

/** An id (or a text with ids) shortened, with the full text on hover when it was. */
export function idText(text, tag = "span", props = {}) {
  const full = String(text ?? "");
  const short = shortenIds(full);
  return h(tag, { ...props, text: short, title: short === full ? undefined : full });
}
