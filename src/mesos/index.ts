// Public surface of the Mesos v1 HTTP API library. It knows nothing of storage.
export * from "./types/index.js";
export * from "./errors.js";
export * from "./recordio.js";
export * from "./json.js";
export * from "./bytes.js";
export * from "./duration.js";
export * from "./backoff.js";
export * from "./credentials.js";
export * from "./http.js";
export * from "./logger.js";
export * as schedulerCalls from "./scheduler/calls.js";
export * from "./scheduler/events.js";
export * from "./scheduler/client.js";
export * from "./scheduler/master-source.js";
export * from "./scheduler/reconciler.js";
export * from "./executor/index.js";
export * from "./detector/index.js";
