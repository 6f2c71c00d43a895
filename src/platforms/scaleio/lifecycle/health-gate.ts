// The health gate between lifecycle steps (upgrade, maintenance, decommission): no such step
// starts while the cluster is in a critical condition or rebuilding, and the step says why it
// waits. Rebalancing is not a gate (it moves data between healthy copies); a step that needs
// it finished waits for it itself.
import type { ConditionFinding } from "../../../framework/health/types.js";
import type { StepContext } from "../../../framework/plan/types.js";
import { observedUntil, type ObservationSource } from "../observe/wait.js";

export interface GateOptions {
  /** Findings that do not hold the gate (e.g. the object the step itself is about). */
  ignore?: (f: ConditionFinding) => boolean;
  /** An observation begun after this moment decides (the latest one included), e.g. the one
   *  that showed the previous step's result; default: one begun from now on. */
  since?: number;
}

/** Why a lifecycle step must wait, from one observation's findings; undefined: it may go. */
export function gateReason(
  findings: readonly ConditionFinding[],
  opts: GateOptions = {},
): string | undefined {
  const holding = findings.filter((f) => !opts.ignore?.(f));
  const rebuilding = holding.filter((f) => f.type === "Rebuilding" || f.type === "RebuildStuck");
  if (rebuilding.length > 0) {
    // One line per pool, the rebuild's own words (`pool p1 rebuilding 43 % (…)`).
    const seen = new Set<string>();
    const lines = rebuilding.filter((f) => !seen.has(f.object) && seen.add(f.object));
    return lines.map((f) => f.message).join("; ");
  }
  const critical = holding.filter((f) => f.severity === "critical");
  if (critical.length > 0)
    return `${critical.length} critical condition${critical.length > 1 ? "s" : ""}: ${critical
      .slice(0, 3)
      .map((f) => f.message)
      .join("; ")}${critical.length > 3 ? "; …" : ""}`;
  return undefined;
}

/**
 * Resolves once an observation begun from now on (or from `opts.since`) leaves the gate
 * open; until then the step shows `waiting: <why>` (updated when the reason changes). Ends
 * with the step's signal.
 */
export async function waitForGate(
  source: ObservationSource,
  ctx: Pick<StepContext, "signal" | "progress">,
  opts: GateOptions = {},
): Promise<void> {
  let said: string | undefined;
  await observedUntil(
    source,
    (_o, findings) => gateReason(findings, opts) === undefined,
    "the cluster healthy enough for the next step",
    ctx,
    undefined,
    (_o, findings) => {
      const why = gateReason(findings, opts);
      if (why !== undefined && why !== said) ctx.progress(`waiting: ${(said = why)}`);
    },
    opts.since,
  );
}
