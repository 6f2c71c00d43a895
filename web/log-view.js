// The event log: a fixed-height box, oldest at the top and newest at the bottom. New lines are
// appended and lines past the limit removed (nothing else is redrawn); the box follows the
// newest line unless the operator scrolled up to read, and a button brings it back. Finished
// steps come as one line per run of them ("12 steps done", opened to list them). The lines can
// be narrowed to a level and to an agent (its hostname, address or id); changing either draws
// the box again.
import { clock, h, shortenIds } from "./dom.js";

/** Within this many pixels of the bottom counts as "at the newest". */
const SLACK_PX = 8;

const LEVEL_RANK = { debug: 0, info: 1, warn: 2, error: 3 };

function doneItems(e, filter) {
  return filter.agent
    ? e.items.filter((i) => i.agent.toLowerCase().includes(filter.agent))
    : e.items;
}

function passes(e, filter) {
  if (filter.level === "done") return e.kind === "done" && doneItems(e, filter).length > 0;
  if (filter.level && (LEVEL_RANK[e.level] ?? 1) < LEVEL_RANK[filter.level]) return false;
  if (!filter.agent) return true;
  if (e.kind === "done") return doneItems(e, filter).length > 0;
  return String(e.msg).toLowerCase().includes(filter.agent);
}

function doneSummary(items) {
  return items.length === 1 ? `1 step done: ${items[0].text}` : `${items.length} steps done`;
}

function line(e, filter) {
  const time = h("time", { datetime: new Date(e.time).toISOString(), text: clock(e.time) });
  if (e.kind === "done") {
    const items = doneItems(e, filter);
    const list = h("div", { class: "done-items" });
    const summary = h("summary", { text: doneSummary(items) });
    const details = h("details", { class: "done-group" }, summary, list);
    details.addEventListener("toggle", () => {
      list.replaceChildren(
        ...(details.open
          ? doneItems(e, filter).map((i) => h("div", { text: shortenIds(i.text) }))
          : []),
      );
    });
    const li = h(
      "li",
      { class: "log-done", "data-seq": e.seq, "data-rev": e.rev },
      time,
      " ",
      h("span", { class: "level", text: "done" }),
      " ",
      details,
    );
    li.refresh = () => {
      const now = doneItems(e, filter);
      summary.textContent = doneSummary(now);
      if (details.open)
        list.replaceChildren(...now.map((i) => h("div", { text: shortenIds(i.text) })));
      li.dataset.rev = String(e.rev);
      return details.open; // an open list grew taller
    };
    return li;
  }
  const msg = shortenIds(e.msg);
  return h(
    "li",
    { class: `log-${e.level}`, "data-seq": e.seq, title: msg === e.msg ? undefined : e.msg },
    time,
    " ",
    h("span", { class: "level", text: e.level }),
    " ",
    msg,
  );
}

/**
 * @param {HTMLElement} box the scrolling list @param {HTMLButtonElement} jump "newest" button
 * @param {{ level?: HTMLSelectElement, agent?: HTMLInputElement }} [filters]
 */
export function createLogView(box, jump, filters = {}) {
  const atBottom = () => box.scrollHeight - box.scrollTop - box.clientHeight <= SLACK_PX;
  let following = true;
  let filter = { level: "", agent: "" };
  let entries = [];
  /** The newest entry looked at: later ones are new. */
  let lastSeq = 0;
  const showJump = () => (jump.hidden = following);
  box.addEventListener("scroll", () => {
    following = atBottom();
    showJump();
  });
  jump.addEventListener("click", () => {
    following = true;
    box.scrollTop = box.scrollHeight;
    showJump();
  });

  const view = {
    /** Brings the box in line with the entries (oldest first, each with a rising seq). */
    draw(all) {
      entries = all;
      const first = all[0]?.seq ?? Infinity;
      // Layout is read only when lines go or come (reading it forces the page's layout).
      const old = (el) => el && Number(el.dataset.seq) < first;
      let moved = false;
      if (old(box.firstElementChild)) {
        const heightBefore = following ? 0 : box.scrollHeight;
        // Lines that fell out of the kept entries (or all of them, after a fresh snapshot).
        while (old(box.firstElementChild)) box.firstElementChild.remove();
        // An operator reading older lines keeps them where they were on the screen.
        if (!following) box.scrollTop -= heightBefore - box.scrollHeight;
        moved = true;
      }
      if (all.length === 0 || (all.at(-1)?.seq ?? 0) < lastSeq) lastSeq = 0;
      const fresh = [];
      // The newest run of finished steps grows in place (or shows once an item passes).
      const last = all.at(-1);
      if (last?.kind === "done" && last.seq <= lastSeq) {
        const tail = box.lastElementChild;
        if (tail?.refresh && Number(tail.dataset.seq) === last.seq) {
          if (tail.dataset.rev !== String(last.rev)) moved = tail.refresh() || moved;
        } else if (passes(last, filter)) fresh.push(line(last, filter));
      }
      for (const e of all) {
        if (e.seq <= lastSeq) continue;
        if (passes(e, filter)) fresh.push(line(e, filter));
      }
      lastSeq = all.at(-1)?.seq ?? lastSeq;
      if (fresh.length) box.append(...fresh);
      if (following && (moved || fresh.length)) box.scrollTop = box.scrollHeight;
      showJump();
    },
    /** Draws every line again (the filter changed). */
    redraw() {
      box.replaceChildren();
      lastSeq = 0;
      view.draw(entries);
    },
    get following() {
      return following;
    },
  };

  const refilter = () => {
    filter = {
      level: filters.level?.value ?? "",
      agent: (filters.agent?.value ?? "").trim().toLowerCase(),
    };
    following = true;
    view.redraw();
  };
  filters.level?.addEventListener("change", refilter);
  filters.agent?.addEventListener("input", refilter);
  return view;
}
