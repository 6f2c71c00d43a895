export * from "./common.js";
export * from "./scheduler.js";
export * from "./executor.js";
export * from "./maintenance.js";
