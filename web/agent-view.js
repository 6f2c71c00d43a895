// One agent's page (#/agent/<id>): what the topology card says, and every step it runs across
// all plans in one table, with the same controls as the plans. Rows are keyed by plan and step
// and drawn again only when their step changed.
import { h, statusBadge } from "./dom.js";
import { nodeStatus, stepOf } from "./model.js";
import { fillRow, stepRow } from "./plans-view.js";
import { cardMain } from "./topology-view.js";

const STATUS_WORDS = { error: "Error", lost: "Lost", "in-progress": "In progress", ok: "OK" };
/** Coloured as the step statuses they come from. */
const STATUS_LOOK = {
  error: "ERROR",
  lost: "WAITING",
  "in-progress": "IN_PROGRESS",
  ok: "COMPLETE",
};

/**
 * @param {{ section: HTMLElement, title: HTMLElement, facts: HTMLElement, body: HTMLElement }} el
 * @param {() => Map<string, any>} nodes
 */
export function createAgentView(el, nodes) {
  let current = "";
  /** @type {Map<string, HTMLTableRowElement>} */
  let rows = new Map();
  let table = null;
  let shownNode = null;

  const stepView = (s) => {
    const full = stepOf(s.planId, s.stepId);
    return (
      full ?? {
        id: s.stepId,
        name: s.name,
        status: s.status,
        message: s.message,
        lastError: s.lastError,
        attempts: 0,
      }
    );
  };

  const fill = (tr, s) => {
    fillRow(tr, s.planId, s.phaseId, stepView(s));
    const th = tr.cells[0];
    if (!th.querySelector(".where"))
      th.append(h("div", { class: "muted where", text: `plan ${s.planId} · phase ${s.phaseId}` }));
  };

  function draw() {
    const node = nodes().get(current);
    shownNode = node;
    if (!node) {
      const loading = nodes().size === 0;
      el.title.textContent = loading ? "Agent" : "Unknown agent";
      el.facts.replaceChildren(
        h("p", {
          class: "empty",
          text: loading ? "Loading…" : `No agent ${current} is known.`,
        }),
      );
      el.body.replaceChildren();
      rows = new Map();
      table = null;
      return;
    }
    const title = node.hostname === node.ip ? node.hostname : `${node.hostname} (${node.ip})`;
    el.title.textContent = `Agent ${title}`;
    el.facts.replaceChildren(
      h(
        "p",
        {},
        "State: ",
        statusBadge(STATUS_LOOK[nodeStatus(node)], {
          text: STATUS_WORDS[nodeStatus(node)],
          "data-agent-status": nodeStatus(node),
        }),
      ),
      ...cardMain(node).slice(1),
    );
    const steps = node.steps ?? [];
    if (!steps.length) {
      el.body.replaceChildren(h("p", { class: "empty", text: "No steps on this agent." }));
      rows = new Map();
      table = null;
      return;
    }
    const next = new Map();
    for (const s of steps) {
      const key = `${s.planId}|${s.stepId}`;
      const tr = rows.get(key) ?? stepRow(s.planId, s.phaseId, stepView(s));
      fill(tr, s);
      next.set(key, tr);
    }
    const same = next.size === rows.size && [...next.keys()].every((k) => rows.has(k));
    rows = next;
    if (same && table) return;
    const tbody = h("tbody", {}, ...rows.values());
    table = h(
      "table",
      { class: "steps agent-steps" },
      h("caption", { class: "visually-hidden", text: `Steps on ${node.hostname}, all plans` }),
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
    );
    const active = document.activeElement;
    el.body.replaceChildren(table);
    if (active instanceof HTMLElement && active.isConnected && document.activeElement !== active)
      active.focus();
  }

  return {
    /** Shows an agent's page. */
    show(agentId) {
      if (agentId !== current) {
        rows = new Map();
        table = null;
      }
      current = agentId;
      el.section.hidden = false;
      draw();
      el.title.focus();
    },
    hide() {
      current = "";
      el.section.hidden = true;
      rows = new Map();
      table = null;
      el.body.replaceChildren();
    },
    /** @param {{all: boolean, nodes: Set<string>, steps: Set<string>}} c */
    update(c) {
      if (!current) return;
      const node = nodes().get(current);
      if (c.all || c.nodes.has(current) || node !== shownNode) draw();
      else if (node)
        for (const key of c.steps) {
          const tr = rows.get(key);
          const s = tr && node.steps.find((x) => `${x.planId}|${x.stepId}` === key);
          if (s) fill(tr, s);
        }
    },
  };
}
