// A scripted agent plus an ExecutorClient pointed at it, torn down after the test.
import type { TestContext } from "node:test";
import { ExecutorClient, type ExecutorClientOptions } from "../../src/mesos/executor/client.js";
import { readExecutorEnvironment } from "../../src/mesos/executor/environment.js";
import type { TaskInfo } from "../../src/mesos/types/common.js";
import { ScriptedAgent, type ScriptedAgentOptions } from "./scripted-agent.js";

export interface Fixture {
  agent: ScriptedAgent;
  client: ExecutorClient;
}

export async function startFixture(
  t: TestContext,
  opts: {
    agent?: ScriptedAgentOptions;
    env?: Record<string, string | undefined>;
    client?: Partial<ExecutorClientOptions>;
    start?: boolean;
  } = {},
): Promise<Fixture> {
  const agent = await ScriptedAgent.start(opts.agent);
  const env = readExecutorEnvironment({
    MESOS_FRAMEWORK_ID: agent.frameworkId,
    MESOS_EXECUTOR_ID: agent.executorId,
    MESOS_AGENT_ENDPOINT: agent.endpoint,
    MESOS_SANDBOX: "/tmp/sandbox",
    MESOS_CHECKPOINT: "1",
    MESOS_RECOVERY_TIMEOUT: "5secs",
    MESOS_SUBSCRIPTION_BACKOFF_MAX: "50ms",
    MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: "2secs",
    ...opts.env,
  });
  const client = new ExecutorClient({
    env,
    backoffInitialMs: 5,
    registrationTimeoutMs: 5000,
    callTimeoutMs: 5000,
    ...opts.client,
  });
  t.after(async () => {
    await client.stop();
    await agent.close();
  });
  if (opts.start !== false) client.start();
  return { agent, client };
}

export function taskInfo(id: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return {
    name: `task ${id}`,
    task_id: { value: id },
    agent_id: { value: "7c1e4f52-93ab-4d0e-8f6b-1a2b3c4d5e6f-S3" },
    resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
    executor: {
      type: "CUSTOM",
      executor_id: { value: "bs-exec-node-a" },
      command: { shell: false, value: "./bs-executor", arguments: ["bs-executor"] },
    },
    data: "eyJzdGVwIjoiaW5zdGFsbCJ9",
    ...extra,
  };
}
