// Executor side of the Mesos v1 HTTP API: the MESOS_* environment and the client.
export * from "./environment.js";
export * from "./client.js";
export { ExecutorLedger } from "./ledger.js";
export { durationInfoMs } from "./events.js";
