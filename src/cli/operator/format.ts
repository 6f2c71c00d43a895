// Human-readable renderings of the API's answers (the CLI prints these on a terminal).
import type { ConditionChange, HealthReport } from "../../framework/health/types.js";
import type { NodeView, Summary } from "../../framework/operator-view.js";
import type { PlanView } from "../../framework/plan/types.js";
import type { PlanChange } from "../../framework/plan-changes.js";
import type { OperatorEvent } from "../../framework/events.js";
import { bytes, clock, table } from "./table.js";

export function formatSummary(s: Summary): string {
  const out: string[] = [];
  const fw = s.framework;
  out.push(`health:     ${s.health}`);
  out.push(
    `framework:  ${fw.name}${fw.id ? ` (${fw.id})` : ""}, role ${fw.role}, ${fw.subscribed ? "subscribed" : "NOT subscribed"}`,
  );
  const c = s.cluster;
  if (c) {
    out.push(
      `cluster:    ${s.platform} ${c.systemName ?? "?"} (${c.systemId})${c.state ? `, ${c.state}` : ""}`,
    );
    // The platform's own words (its components' kinds, its details' labels), shown as is.
    for (const [label, value] of Object.entries(c.details ?? {})) out.push(labelled(label, value));
    for (const k of c.components) out.push(labelled(k.kind, `${k.ready}/${k.total} ready`));
    out.push(
      `capacity:   raw ${bytes(c.capacity.rawBytes)}, usable ${bytes(c.capacity.usableBytes)}, free ${bytes(c.capacity.freeBytes)}`,
    );
    if (c.alerts.length)
      out.push(`alerts:     ${c.alerts.map((a) => `${a.type} (${a.severity})`).join(", ")}`);
  } else out.push(`cluster:    ${s.platform}, not observed yet`);
  for (const [i, p] of s.plans.entries())
    out.push(
      `${i === 0 ? "plans:" : ""}`.padEnd(12) + `${p.id} ${p.status} ${p.complete}/${p.total}`,
    );
  if (s.plans.length === 0) out.push("plans:      none yet");
  for (const [i, p] of s.problems.entries())
    out.push(`${i === 0 ? "problems:" : ""}`.padEnd(12) + `- ${p}`);
  return out.join("\n");
}

/** `label:` in the first column (12 wide, or one space after a longer label), then the text. */
function labelled(label: string, text: string): string {
  return `${label}:`.padEnd(11) + ` ${text}`;
}

/** Installed versions, short: one version when all agree, else components per version. */
export function formatVersions(v: Record<string, string> | undefined): string {
  const by = new Map<string, string[]>();
  for (const [c, x] of Object.entries(v ?? {}).sort()) by.set(x, [...(by.get(x) ?? []), c]);
  if (by.size === 0) return "-";
  if (by.size === 1) return [...by.keys()][0]!;
  return [...by].map(([x, cs]) => `${cs.join(",")} ${x}`).join("; ");
}

export function formatNodes(nodes: NodeView[]): string {
  if (nodes.length === 0) return "no agents known yet";
  return table(
    ["HOST", "IP", "ROLES", "DEVICES", "VERSIONS", "STEPS", "STATE", "LAST ERROR"],
    nodes.map((n) => {
      const done = n.steps.filter((s) => s.status === "COMPLETE").length;
      const running = n.steps.find((s) => s.status === "IN_PROGRESS");
      const state = n.lost
        ? "lost"
        : n.steps.some((s) => s.status === "ERROR")
          ? "error"
          : running
            ? `${running.name}`
            : done === n.steps.length
              ? "done"
              : "pending";
      return [
        n.hostname,
        n.ip,
        n.roles.join(",") || "-",
        n.devices.map((d) => d.path).join(",") || "-",
        formatVersions(n.versions),
        `${done}/${n.steps.length}`,
        // Out for good: no longer on-boarded, whatever its agent does.
        n.decommission?.state === "decommissioned"
          ? "decommissioned"
          : n.maintenance
            ? `maintenance: ${n.maintenance.state}`
            : state,
        n.lastError ?? "",
      ];
    }),
  );
}

/** The plan paused as a whole, or the phases paused in it (a paused phase holds it too). */
function pausedOf(p: PlanView): string {
  if (p.paused) return "yes";
  const phases = p.phases.filter((ph) => ph.paused).map((ph) => ph.id);
  return phases.length > 0 ? `phase ${phases.join(", ")}` : "no";
}

export function formatPlans(plans: PlanView[]): string {
  if (plans.length === 0) return "no plans yet";
  return table(
    ["PLAN", "STATUS", "PROGRESS", "PAUSED", "NAME"],
    plans.map((p) => [
      p.id,
      p.status,
      `${p.progress.complete}/${p.progress.total}`,
      pausedOf(p),
      p.name,
    ]),
  );
}

/** A plan's phases and steps; an agent's step shows its hostname. Filtered: only matching steps. */
export function formatPlan(p: PlanView, filtered = false): string {
  const out = [
    `plan ${p.id} (${p.name}): ${p.status}${p.paused ? " (paused)" : ""}, ${p.progress.complete}/${p.progress.total} steps complete`,
  ];
  if (filtered) {
    const n = p.phases.reduce((k, ph) => k + ph.steps.length, 0);
    out.push(`${n} step${n === 1 ? "" : "s"} match`);
  }
  for (const ph of p.phases) {
    out.push("");
    out.push(
      `phase ${ph.id} (${ph.name}): ${ph.status}${ph.paused ? " (paused)" : ""}, ${ph.strategy}${ph.dependsOn.length ? `, after ${ph.dependsOn.join(", ")}` : ""}`,
    );
    if (ph.steps.length === 0) continue;
    out.push(
      table(
        ["  HOST", "STEP", "STATUS", "TRIES", "DETAIL"],
        ph.steps.map((s) => [
          `  ${(s as { hostname?: string }).hostname ?? "-"}`,
          s.id,
          s.status + (s.forced ? " (forced)" : ""),
          String(s.attempts),
          s.lastError && s.status !== "COMPLETE" ? `error: ${s.lastError}` : (s.message ?? s.name),
        ]),
      ),
    );
  }
  return out.join("\n");
}

/** Status, then one line per condition: severity, type, object, since, message. */
export function formatHealth(h: HealthReport): string {
  const lines = [`health: ${h.status}`];
  if (h.conditions.length === 0) lines.push("no active conditions");
  for (const c of h.conditions)
    lines.push(
      `${c.severity.padEnd(8)} ${c.type.padEnd(26)} ${c.object}  since ${clock(c.since)}  ${c.message}`,
    );
  return lines.join("\n");
}

export function formatEvent(e: OperatorEvent): string {
  const t = clock(e.time);
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case "log":
      return `${t} ${String(d.level).padEnd(5)} ${String(d.msg)}`;
    case "step": {
      const s = d.step as { name: string; status: string; lastError?: string; message?: string };
      const detail = s.status === "ERROR" ? s.lastError : s.message;
      return `${t} step  ${String(d.planId)}: ${s.name} ${s.status}${detail ? ` (${detail})` : ""}`;
    }
    case "plan": {
      // A change: the plan's status and counts, and the phases that changed.
      const p = d as unknown as PlanChange;
      const phases = (p.phases ?? []).map(
        (ph) => `${ph.id} ${ph.status}${ph.paused ? " paused" : ""}`,
      );
      return `${t} plan  ${p.id} ${p.status} ${p.progress.complete}/${p.progress.total}${p.paused ? " paused" : ""}${phases.length ? ` (${phases.join(", ")})` : ""}`;
    }
    case "node": {
      const n = d as unknown as NodeView;
      return `${t} node  ${n.hostname} (${n.agentId})${n.lost ? " lost" : ""}`;
    }
    case "summary": {
      const s = d as unknown as Summary;
      return `${t} summary health ${s.health}${s.problems.length ? `: ${s.problems.join("; ")}` : ""}`;
    }
    case "health": {
      const h = d as unknown as HealthReport & { changes?: ConditionChange[] };
      const what = (h.changes ?? [])
        .map((c) => `${c.kind} ${c.condition.type} ${c.condition.object}`)
        .join("; ");
      return `${t} health ${h.status}${what ? `: ${what}` : ""}`;
    }
  }
}
