// The topology: agents grouped by fault domain (region/zone; else their rack attribute), each
// with its roles, devices, client, step progress and last error. A page of agents at a time,
// found by a search box and status filters; cards are keyed by agent and only the cards whose
// agent changed are touched (their "Steps" toggle and links stay the same elements, so a click
// on them is never lost to a redraw).
import { h, idText, progressBar, statusBadge } from "./dom.js";
import { nodeStatus } from "./model.js";
import { naturalCompare } from "./natural.js";

export const PAGE_SIZE = 50;

/** Failed first when ordering by status. */
const STATUS_RANK = { error: 0, lost: 1, "in-progress": 2, ok: 3 };

function domainOf(node) {
  if (node.faultDomain) return `Region ${node.faultDomain.region} · zone ${node.faultDomain.zone}`;
  if (node.attributes?.rack) return `Rack ${node.attributes.rack} (no fault domain)`;
  return "No fault domain";
}

export function agentHref(agentId) {
  return `#/agent/${encodeURIComponent(agentId)}`;
}

function titleOf(node) {
  return node.hostname === node.ip ? node.hostname : `${node.hostname} (${node.ip})`;
}

/** The part of a card that is drawn again when its agent changes. */
export function cardMain(node) {
  const steps = node.steps ?? [];
  const done = steps.filter((s) => s.status === "COMPLETE").length;
  return [
    h(
      "h4",
      {},
      titleOf(node),
      node.lost ? h("span", { class: "badge lost", text: "lost" }) : null,
      // Out (or on its way out) for good: not on-boarded again until recommissioned.
      node.decommission
        ? h("span", { class: "badge decommission", text: node.decommission.state })
        : null,
      node.maintenance
        ? h("span", { class: "badge maintenance", text: `maintenance: ${node.maintenance.state}` })
        : null,
    ),
    idText(node.agentId, "p", { class: "muted mono agent-id" }),
    h(
      "ul",
      { class: "roles", "aria-label": "Roles" },
      node.roles?.length
        ? node.roles.map((r) => h("li", { class: "role", text: r }))
        : h("li", { class: "muted", text: "no roles yet" }),
    ),
    h(
      "p",
      {},
      `${node.devices?.length ?? 0} device(s)`,
      node.client ? ` · ${node.client.kind ?? "client"} ${node.client.state ?? "unknown"}` : "",
    ),
    node.versions && Object.keys(node.versions).length
      ? h("p", {
          class: "muted versions",
          "aria-label": "Installed versions",
          text: Object.entries(node.versions)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([c, v]) => `${c} ${v}`)
            .join(" · "),
        })
      : null,
    steps.length
      ? progressBar(done, steps.length, `Steps complete on ${node.hostname}`)
      : h("p", { class: "muted", text: "no steps" }),
    node.lastError
      ? h(
          "p",
          { class: "error-text" },
          h("strong", { text: "Last error: " }),
          idText(node.lastError),
        )
      : null,
  ];
}

function stepItems(node) {
  return (node.steps ?? []).map((s) =>
    h(
      "li",
      {},
      statusBadge(s.status),
      " ",
      idText(s.name),
      s.message ? h("span", { class: "muted", text: ` — ${s.message}` }) : null,
    ),
  );
}

/** A card: its main part, then a "Steps" toggle (filled when opened) and a link to its page. */
function createCard(node) {
  const main = h("div", { class: "card-main" }, ...cardMain(node));
  const list = h("ul", { class: "node-steps" });
  const details = h(
    "details",
    { "data-key": `node-steps:${node.agentId}` },
    h("summary", { "data-key": `node-steps-summary:${node.agentId}`, text: "Steps" }),
    list,
  );
  details.addEventListener("toggle", () => {
    if (details.open) list.replaceChildren(...stepItems(card.node));
    else list.replaceChildren();
  });
  const link = h("a", {
    href: agentHref(node.agentId),
    class: "agent-link",
    "data-key": `agent-link:${node.agentId}`,
    text: "All its steps",
    "aria-label": `All steps of ${node.hostname}`,
  });
  const li = h(
    "li",
    { class: "agent", "data-agent": node.agentId, "data-status": nodeStatus(node) },
    h(
      "article",
      { "aria-label": `Agent ${titleOf(node)}` },
      main,
      details,
      h("p", { class: "card-links" }, link),
    ),
  );
  details.hidden = !(node.steps ?? []).length;
  const card = { li, main, details, list, node };
  return card;
}

function updateCard(card, node) {
  card.node = node;
  card.li.dataset.status = nodeStatus(node);
  card.li.firstElementChild.setAttribute("aria-label", `Agent ${titleOf(node)}`);
  card.main.replaceChildren(...cardMain(node));
  if (card.details.open) card.list.replaceChildren(...stepItems(node));
  card.details.hidden = !(node.steps ?? []).length;
}

/**
 * @param {{ body: HTMLElement, search: HTMLInputElement, filters: HTMLElement,
 *           sort: HTMLSelectElement, prev: HTMLButtonElement, next: HTMLButtonElement,
 *           range: HTMLElement }} el
 * @param {() => Map<string, any>} nodes
 */
export function createTopologyView(el, nodes) {
  /** @type {Map<string, ReturnType<typeof createCard>>} cards on the page shown */
  const cards = new Map();
  let filter = "all";
  let query = "";
  let sort = el.sort.value || "hostname";
  let page = 0;
  /** @type {string[]} ids on the page shown, in order */
  let shown = [];
  let listed = /** @type {string[]} */ ([]);
  /** Whether the list (membership or order) must be worked out again. */
  let stale = true;
  /** Natural rank of each agent (domain, then hostname, then address): sorted once per set. */
  let rank = new Map();
  const statuses = new Map();

  const rerank = () => {
    const all = [...nodes().values()];
    const key = new Map(all.map((n) => [n.agentId, domainOf(n)]));
    all.sort(
      (a, b) =>
        naturalCompare(key.get(a.agentId), key.get(b.agentId)) ||
        naturalCompare(a.hostname, b.hostname) ||
        naturalCompare(a.ip, b.ip) ||
        naturalCompare(a.agentId, b.agentId),
    );
    rank = new Map(all.map((n, i) => [n.agentId, i]));
  };

  const matches = (n) => {
    if (filter !== "all" && statuses.get(n.agentId) !== filter) return false;
    if (!query) return true;
    return (
      n.hostname.toLowerCase().includes(query) ||
      String(n.ip).toLowerCase().includes(query) ||
      n.agentId.toLowerCase().includes(query)
    );
  };

  const relist = () => {
    const all = nodes();
    if (rank.size !== all.size || [...all.keys()].some((id) => !rank.has(id))) rerank();
    const list = [...all.values()].filter(matches);
    const domains = new Map(list.map((n) => [n.agentId, domainOf(n)]));
    list.sort((a, b) => {
      if (sort === "status") {
        const d = naturalCompare(domains.get(a.agentId), domains.get(b.agentId));
        if (d) return d;
        const s = STATUS_RANK[statuses.get(a.agentId)] - STATUS_RANK[statuses.get(b.agentId)];
        if (s) return s;
      }
      return rank.get(a.agentId) - rank.get(b.agentId);
    });
    listed = list.map((n) => n.agentId);
    stale = false;
  };

  const showCounts = () => {
    const counts = { all: statuses.size, error: 0, lost: 0, "in-progress": 0, ok: 0 };
    for (const s of statuses.values()) counts[s]++;
    for (const b of el.filters.querySelectorAll("button[data-filter]")) {
      const text = String(counts[b.dataset.filter] ?? 0);
      const span = b.querySelector(".count");
      if (span && span.textContent !== text) span.textContent = text;
    }
  };

  const drawPage = () => {
    const all = nodes();
    const pages = Math.max(1, Math.ceil(listed.length / PAGE_SIZE));
    page = Math.min(page, pages - 1);
    const ids = listed.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    const from = listed.length ? page * PAGE_SIZE + 1 : 0;
    const range = listed.length
      ? `Agents ${from}–${from + ids.length - 1} of ${listed.length}`
      : "No agents match";
    if (el.range.textContent !== range) el.range.textContent = range;
    el.prev.disabled = page === 0;
    el.next.disabled = page >= pages - 1;
    /** @type {Set<any>} cards made for this page: drawn already */
    const created = new Set();
    if (ids.length === shown.length && ids.every((id, i) => id === shown[i])) return created;
    const active = document.activeElement;
    const focusKey = el.body.contains(active) ? active?.getAttribute("data-key") : null;
    const keep = new Set(ids);
    for (const id of cards.keys()) if (!keep.has(id)) cards.delete(id);
    // Agents per domain among those listed (the headings count them all, not just this page).
    const perDomain = new Map();
    for (const id of listed) {
      const d = domainOf(all.get(id));
      perDomain.set(d, (perDomain.get(d) ?? 0) + 1);
    }
    const sections = [];
    let current;
    for (const id of ids) {
      const node = all.get(id);
      const domain = domainOf(node);
      if (current?.domain !== domain) {
        current = { domain, list: h("ul", { class: "agents" }) };
        sections.push(
          h(
            "section",
            { class: "domain", "aria-label": domain },
            h("h3", { text: `${domain} — ${perDomain.get(domain)} agent(s)` }),
            current.list,
          ),
        );
      }
      let card = cards.get(id);
      if (!card) {
        cards.set(id, (card = createCard(node)));
        created.add(card);
      }
      current.list.append(card.li);
    }
    if (all.size === 0) sections.push(h("p", { class: "empty", text: "No agents seen yet." }));
    else if (!ids.length) sections.push(h("p", { class: "empty", text: "No agent matches." }));
    el.body.replaceChildren(...sections);
    shown = ids;
    if (focusKey && !el.body.contains(document.activeElement)) {
      const again = el.body.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
      if (again instanceof HTMLElement) again.focus();
    }
    return created;
  };

  const redraw = () => {
    stale = true;
    update({ all: false, nodes: new Set() });
  };

  /** @param {{all: boolean, nodes: Set<string>}} changes */
  function update(changes) {
    const all = nodes();
    if (changes.all) {
      statuses.clear();
      cards.clear();
      shown = [];
      rank = new Map();
      stale = true;
    }
    for (const n of all.values()) if (!statuses.has(n.agentId)) statuses.set(n.agentId, "");
    for (const id of statuses.keys()) if (!all.has(id)) statuses.delete(id);
    for (const [id, was] of statuses) {
      if (was && !changes.all && !changes.nodes.has(id)) continue;
      const now = nodeStatus(all.get(id));
      if (now !== was) {
        statuses.set(id, now);
        if (filter !== "all" || sort === "status" || !was) stale = true;
      }
    }
    if (changes.nodes.size && [...changes.nodes].some((id) => !rank.has(id))) stale = true;
    if (stale) relist();
    showCounts();
    const created = drawPage();
    for (const id of changes.nodes) {
      const card = cards.get(id);
      const node = all.get(id);
      if (card && node && !created.has(card)) updateCard(card, node);
    }
  }

  for (const b of el.filters.querySelectorAll("button[data-filter]"))
    b.addEventListener("click", () => {
      filter = b.dataset.filter;
      for (const o of el.filters.querySelectorAll("button[data-filter]"))
        o.setAttribute("aria-pressed", String(o === b));
      page = 0;
      redraw();
    });
  el.search.addEventListener("input", () => {
    query = el.search.value.trim().toLowerCase();
    page = 0;
    redraw();
  });
  el.sort.addEventListener("change", () => {
    sort = el.sort.value;
    redraw();
  });
  el.prev.addEventListener("click", () => {
    page = Math.max(0, page - 1);
    drawPage();
  });
  el.next.addEventListener("click", () => {
    page++;
    drawPage();
  });

  return { update };
}
