export * from "./types.js";
export { ConditionTracker } from "./tracker.js";
export { healthStatus, type StatusInputs } from "./status.js";
export { SampleHistory, type Sample } from "./history.js";
