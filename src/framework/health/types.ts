// The health vocabulary every platform speaks to the framework: conditions (a named, typed
// fact about one object that is wrong now), their severity, and the cluster's overall status.
// What a condition means is the platform's business; the framework only orders, counts,
// publishes and alerts on them.

export type Severity = "warning" | "critical";

export type HealthStatus = "healthy" | "degraded" | "critical" | "deploying" | "unknown";

/** A condition as a checker finds it, without history. */
export interface ConditionFinding {
  /** Stable, CamelCase: `CapacityAlmostFull`, `AgentLost`, … */
  type: string;
  severity: Severity;
  /** What it is about, as `<kind>/<name or id>` (`pool/default/p1`, `agent/S1`). */
  object: string;
  message: string;
  /** Numbers that go with it (used %, progress %), for metrics and the UI. */
  values?: Record<string, number>;
}

/** A condition that is active, with when it began (epoch ms). */
export interface Condition extends ConditionFinding {
  since: number;
}

/** What changed in the set of conditions after one look. */
export interface ConditionChange {
  kind: "raised" | "cleared" | "changed";
  condition: Condition;
  /** The severity before, for `changed`. */
  previous?: Severity;
}

export interface HealthReport {
  status: HealthStatus;
  conditions: Condition[];
}

export const severityRank = (s: Severity): number => (s === "critical" ? 2 : 1);
