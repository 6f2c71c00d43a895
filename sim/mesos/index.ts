// Entry point for tests and tools that need a Mesos-compatible cluster.
export { startDevCluster, waitFor } from "./cluster.js";
export type { AgentHandle, AgentSpec, DevCluster, DevClusterOptions } from "./cluster.js";
export { Master, MESOS_VERSION } from "./master/master.js";
export type { MasterOptions } from "./master/master.js";
export { Agent } from "./agent/agent.js";
export type { AgentOptions } from "./agent/agent.js";
