// The event log: a fixed-height box, oldest at the top and newest at the bottom. New lines are
// appended and lines past the limit removed (nothing else is redrawn); the box follows the
// newest line unless the operator scrolled up to read, and a button brings it back.
import { clock, h, shortenIds } from "./dom.js";

/** Within this many pixels of the bottom counts as "at the newest". */
const SLACK_PX = 8;

function line(e) {
  const msg = shortenIds(e.msg);
  return h(
    "li",
    { class: `log-${e.level}`, "data-seq": e.seq, title: msg === e.msg ? undefined : e.msg },
    h("time", { datetime: new Date(e.time).toISOString(), text: clock(e.time) }),
    " ",
    h("span", { class: "level", text: e.level }),
    " ",
    msg,
  );
}

/** @param {HTMLElement} box the scrolling list @param {HTMLButtonElement} jump "newest" button */
export function createLogView(box, jump) {
  const atBottom = () => box.scrollHeight - box.scrollTop - box.clientHeight <= SLACK_PX;
  let following = true;
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

  return {
    /** Brings the box in line with the entries (oldest first, each with a rising seq). */
    draw(entries) {
      const first = entries[0]?.seq ?? Infinity;
      const heightBefore = box.scrollHeight;
      // Lines that fell out of the kept entries (or all of them, after a fresh snapshot).
      while (box.firstElementChild && Number(box.firstElementChild.dataset.seq) < first)
        box.firstElementChild.remove();
      // An operator reading older lines keeps them where they were on the screen.
      if (!following) box.scrollTop -= heightBefore - box.scrollHeight;
      const last = Number(box.lastElementChild?.dataset.seq ?? 0);
      const fresh = entries.filter((e) => e.seq > last).map(line);
      if (fresh.length) box.append(...fresh);
      if (following) box.scrollTop = box.scrollHeight;
      showJump();
    },
    get following() {
      return following;
    },
  };
}
