// One answer to "how is the cluster?", used by /v1/health, /health, the summary, the CLI and
// the demo alike: any critical condition makes it critical, any warning degraded, work still
// under way deploying, no look at the cluster yet unknown.
import type { Condition, HealthStatus } from "./types.js";

export interface StatusInputs {
  conditions: readonly Condition[];
  /** The platform has been observed at least once (a reading of the cluster exists). */
  observed: boolean;
  /** Plans still have work to do (not counting steps that wait for an operator). */
  deploying: boolean;
  /** No plan exists yet (nothing asked of the cluster). */
  noPlans?: boolean;
}

export function healthStatus(i: StatusInputs): HealthStatus {
  if (i.conditions.some((c) => c.severity === "critical")) return "critical";
  if (i.deploying) return i.conditions.length ? "degraded" : "deploying";
  if (i.noPlans) return "unknown";
  if (!i.observed) return "unknown";
  return i.conditions.length ? "degraded" : "healthy";
}
