// The topology: agents grouped by fault domain (region/zone; else their rack attribute),
// each with its roles, devices, SDC, step progress and last error.
import { h, idText, progressBar, statusBadge } from "./dom.js";

function domainOf(node) {
  if (node.faultDomain) return `Region ${node.faultDomain.region} · zone ${node.faultDomain.zone}`;
  if (node.attributes?.rack) return `Rack ${node.attributes.rack} (no fault domain)`;
  return "No fault domain";
}

function nodeCard(node) {
  const steps = node.steps ?? [];
  const done = steps.filter((s) => s.status === "COMPLETE").length;
  const title = node.hostname === node.ip ? node.hostname : `${node.hostname} (${node.ip})`;
  return h(
    "li",
    { class: "agent", "data-agent": node.agentId },
    h(
      "article",
      { "aria-label": `Agent ${title}` },
      h(
        "h4",
        {},
        title,
        node.lost ? h("span", { class: "badge lost", text: "lost" }) : null,
        // Out (or on its way out) for good: not on-boarded again until recommissioned.
        node.decommission
          ? h("span", { class: "badge decommission", text: node.decommission.state })
          : null,
        node.maintenance
          ? h("span", {
              class: "badge maintenance",
              text: `maintenance: ${node.maintenance.state}`,
            })
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
      steps.length
        ? h(
            "details",
            { "data-key": `node-steps:${node.agentId}` },
            h("summary", { "data-key": `node-steps-summary:${node.agentId}`, text: "Steps" }),
            h(
              "ul",
              { class: "node-steps" },
              steps.map((s) =>
                h(
                  "li",
                  {},
                  statusBadge(s.status),
                  " ",
                  idText(s.name),
                  s.message ? h("span", { class: "muted", text: ` — ${s.message}` }) : null,
                ),
              ),
            ),
          )
        : null,
    ),
  );
}

export function renderTopology(nodes) {
  if (nodes.size === 0) return [h("p", { class: "empty", text: "No agents seen yet." })];
  const groups = new Map();
  for (const n of [...nodes.values()].sort((a, b) => a.hostname.localeCompare(b.hostname))) {
    const key = domainOf(n);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(n);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([domain, list]) =>
      h(
        "section",
        { class: "domain", "aria-label": domain },
        h("h3", { text: `${domain} — ${list.length} agent(s)` }),
        h("ul", { class: "agents" }, list.map(nodeCard)),
      ),
    );
}
