// The node list's and a plan's filters over a stored copy of the leader's views, answering
// as the leader's NodeIndex does (same statuses, text matching, natural order, cursors of
// the same form): a standby has the views, not the engine and agents they were made from.
// A copy holds at most a few thousand nodes and steps: a scan per request is cheap.
import {
  byHost,
  decodeCursor,
  encodeCursor,
  NODE_STATUSES,
  textMatcher,
  type NodeQuery,
  type NodeStatus,
  type StepFilter,
} from "../framework/node-index.js";
import type { NodeView } from "../framework/operator-view.js";
import type { PlanView, StepView } from "../framework/plan/types.js";
import { agentOfStep } from "../framework/step-index.js";

/** error: a step failed; lost: Mesos lost the agent; in-progress: steps not done; ok: the rest. */
export function nodeStatus(n: NodeView): NodeStatus {
  let open = false;
  for (const s of n.steps) {
    if (s.status === "ERROR") return "error";
    if (s.status !== "COMPLETE") open = true;
  }
  if (n.lost) return "lost";
  return open ? "in-progress" : "ok";
}

const nodeMatcher = (text: string) => {
  const m = textMatcher(text);
  return (n: NodeView) => n.agentId === text || m(n.hostname) || m(n.ip) || m(n.agentId);
};

/** The nodes that match, one page of them, and the cursor of the next page. */
export function nodePage(nodes: NodeView[], q: NodeQuery): { nodes: NodeView[]; next?: string } {
  const sort = q.sort ?? "hostname";
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, sort);
  const limit = q.limit ?? Number.POSITIVE_INFINITY;
  const text = q.q === undefined ? undefined : nodeMatcher(q.q);
  const wanted = q.status ? new Set(q.status) : undefined;
  const rows = nodes
    .filter((n) => !text || text(n))
    .map((n) => ({ n, h: n.hostname, a: n.agentId, st: nodeStatus(n) }))
    .filter((x) => !wanted || wanted.has(x.st))
    .map((x) => ({ ...x, r: sort === "status" ? NODE_STATUSES.indexOf(x.st) : -1 }))
    .sort((x, y) => x.r - y.r || byHost(x, y));
  const afterRank = after?.r ?? -1;
  const start = after
    ? rows.findIndex((x) => x.r > afterRank || (x.r === afterRank && byHost(x, after) > 0))
    : 0;
  const page = start < 0 ? [] : rows.slice(start, start + Math.min(limit, rows.length));
  const more = start >= 0 && start + page.length < rows.length;
  const last = page[page.length - 1];
  return {
    nodes: page.map((x) => x.n),
    ...(more && last
      ? {
          next: encodeCursor({
            s: sort,
            h: last.h,
            a: last.a,
            ...(last.r >= 0 ? { r: last.r } : {}),
          }),
        }
      : {}),
  };
}

/** The step with the hostname of the node it belongs to, when that node is known. */
export function hostnamed(
  s: StepView,
  nodeById: Map<string, NodeView>,
): StepView & { hostname?: string } {
  const n = nodeById.get(agentOfStep(s));
  return n ? { ...s, hostname: n.hostname } : { ...s };
}

/**
 * A plan with only the steps that match (phases keep their shape; statuses and counts are
 * the whole plan's), each step with its node's hostname; no filter: every step.
 */
export function filteredPlan(
  p: PlanView,
  f: StepFilter,
  nodes: NodeView[],
  nodeById: Map<string, NodeView>,
): PlanView {
  const wanted = f.status ? new Set(f.status) : undefined;
  let agents: Set<string> | undefined;
  if (f.agent !== undefined) {
    const m = nodeMatcher(f.agent);
    agents = new Set(nodes.filter(m).map((n) => n.agentId));
  }
  return {
    ...p,
    phases: p.phases.map((ph) => ({
      ...ph,
      steps: ph.steps
        .filter((s) => (!wanted || wanted.has(s.status)) && (!agents || agents.has(agentOfStep(s))))
        .map((s) => hostnamed(s, nodeById)),
    })),
  };
}
