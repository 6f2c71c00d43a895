export * from "./types.js";
export { ConditionTracker } from "./tracker.js";
export { healthStatus, type StatusInputs } from "./status.js";
export { SampleHistory, type Sample } from "./history.js";
export {
  HealthMonitor,
  type PlatformHealth,
  type AgentsForHealth,
  type HealthMonitorOptions,
} from "./monitor.js";
