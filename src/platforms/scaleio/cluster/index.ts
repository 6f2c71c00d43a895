// Cluster-side ScaleIO operations the scheduler runs against the REST gateway.
export { ClusterOpError, asClusterError } from "./errors.js";
export type { Ensured } from "./ensure.js";
export { findSystem } from "./system.js";
export {
  ensureProtectionDomain,
  ensureFaultSet,
  ensureStoragePool,
  type EnsuredPool,
  type CapacityAlertThresholds,
} from "./domains.js";
export { ensureSds, type SdsSpec, type EnsuredSds } from "./sds.js";
export { applyLayout, type LayoutResult, type DomainIds, type ApplyOptions } from "./layout.js";
export {
  clusterSummary,
  poolUsage,
  type ClusterSummary,
  type PoolUsage,
  type AlertSummary,
} from "./summary.js";
export { verifyVolumeLifecycle, PROBE_PREFIX, type ProbeResult } from "./volume-check.js";
