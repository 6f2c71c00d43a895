// Executor side of the Mesos v1 HTTP API: the MESOS_* environment and the client.
//
//   const client = new ExecutorClient({ env: readExecutorEnvironment() });
//   client.on("launch", (task) => run(task, (s) => client.update(s)));
//   client.on("kill", ({ taskId, gracePeriodMs }) => stop(taskId, gracePeriodMs));
//   client.on("shutdown", () => client.shutdownTasks(killTask).finally(exit));
//   client.on("disconnected", (err) => killAllAndExit(err)); // fatal
//   client.start();
export * from "./environment.js";
export * from "./client.js";
export { ExecutorLedger, type UpdateEntry } from "./ledger.js";
export { durationInfoMs, toExecutorEvent, type DecodedExecutorEvent } from "./events.js";
