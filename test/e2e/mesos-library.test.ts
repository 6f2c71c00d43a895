// End to end: a small scheduler on the project's Mesos library (scheduler client, ZooKeeper
// master detection, reconciliation) launches a custom executor, itself built on the
// library's executor client, on three agents of the development cluster; the tasks keep
// running through a master failover and an agent restart, then finish.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../sim/mesos/index.js";
import {
  SchedulerClient,
  TaskReconciler,
  ZooKeeperDetector,
  detectorSource,
  type Offer,
  type TaskInfo,
  type TaskStatus,
} from "../../src/mesos/index.js";
import { ZooKeeperServer } from "../support/zookeeper.js";
import { waitForEvent } from "../support/wait.js";

const executorScript = fileURLToPath(new URL("./fixtures/e2e-executor.ts", import.meta.url));
const tsxLoader = import.meta.resolve("tsx");

let zk: ZooKeeperServer | undefined;
let cluster: DevCluster | undefined;
let client: SchedulerClient | undefined;
let source: { close(): Promise<void> } | undefined;
after(async () => {
  await client?.stop();
  await source?.close();
  await cluster?.stop();
  await zk?.destroy();
});

function taskFor(offer: Offer): TaskInfo {
  const res = (name: string, value: number) => ({
    name,
    type: "SCALAR" as const,
    scalar: { value },
    allocation_info: offer.allocation_info!,
  });
  return {
    name: `e2e on ${offer.hostname}`,
    task_id: { value: `e2e-${offer.agent_id.value}` },
    agent_id: offer.agent_id,
    resources: [res("cpus", 0.1), res("mem", 32)],
    executor: {
      type: "CUSTOM",
      executor_id: { value: `e2e-executor-${offer.agent_id.value}` },
      name: "e2e executor",
      command: {
        shell: false,
        value: process.execPath,
        arguments: [process.execPath, "--import", tsxLoader, executorScript],
      },
      resources: [res("cpus", 0.1), res("mem", 64)],
    },
  };
}

test(
  "a scheduler and executor built on the library survive master failover and agent restart",
  { timeout: 120_000 },
  async () => {
    zk = await ZooKeeperServer.start();
    const zkUrl = zk.zkUrl("/mesos");
    cluster = await startDevCluster({
      agents: 3,
      zk: zkUrl,
      standbyMaster: true,
      master: { heartbeatIntervalMs: 500, allocationIntervalMs: 100 },
      agent: { statusUpdateRetryMs: 300, executorReregistrationTimeoutMs: 5000 },
    });

    let storedId: string | undefined;
    const statuses = new Map<string, TaskStatus>();
    const launched = new Set<string>();
    const updates: TaskStatus[] = [];
    const src = detectorSource(new ZooKeeperDetector(zkUrl, { sessionTimeoutMs: 4000 }));
    source = src;
    client = new SchedulerClient({
      master: src,
      frameworkInfo: {
        user: "root",
        name: "e2e",
        roles: ["*"],
        checkpoint: true,
        failover_timeout: 3600,
        capabilities: [{ type: "MULTI_ROLE" }, { type: "PARTITION_AWARE" }],
      },
      persistFrameworkId: (id) => {
        storedId = id;
      },
      heartbeatMisses: 4,
      backoff: { initialMs: 50, maxMs: 500 },
      callTimeoutMs: 5000,
    });
    const reconciler = new TaskReconciler(client, { backoff: { initialMs: 200, maxMs: 1000 } });
    client.on("subscribed", () => {
      void reconciler
        .run(
          [...launched]
            .filter((t) => statuses.get(t)?.state !== "TASK_FINISHED")
            .map((t) => ({ taskId: t })),
        )
        .catch(() => {});
    });
    client.on("offers", (offers) => {
      for (const offer of offers) {
        const taskId = `e2e-${offer.agent_id.value}`;
        if (launched.has(taskId) || launched.size >= 3) {
          void client!.decline([offer.id], { refuse_seconds: 3600 }).catch(() => {});
          continue;
        }
        launched.add(taskId);
        void client!.accept(
          [offer.id],
          [{ type: "LAUNCH", launch: { task_infos: [taskFor(offer)] } }],
          { refuse_seconds: 3600 },
        );
      }
    });
    client.on("update", (status) => {
      updates.push(status);
      statuses.set(status.task_id.value, status);
      void client!.acknowledgeIfNeeded(status).catch(() => {});
    });
    const allIn = (state: string) => () =>
      launched.size === 3 && [...launched].every((t) => statuses.get(t)?.state === state);
    const until = async (cond: () => boolean, what: string, timeoutMs = 30_000) => {
      if (cond()) return;
      await waitForEvent(client!, "update", { filter: () => cond(), timeoutMs }).catch(() => {
        throw new Error(
          `timed out waiting for ${what}; last states: ${JSON.stringify([...statuses].map(([k, v]) => [k, v.state]))}`,
        );
      });
    };

    const subscribed = waitForEvent<[{ frameworkId: string }]>(client, "subscribed", {
      timeoutMs: 20_000,
    });
    client.start();
    const [{ frameworkId }] = await subscribed;
    assert.equal(storedId, frameworkId);
    await until(allIn("TASK_RUNNING"), "three tasks running");
    const firstRunning = updates.filter((u) => u.state === "TASK_RUNNING");
    assert.ok(
      firstRunning.every((u) => u.source === "SOURCE_EXECUTOR" && u.uuid),
      "executor updates carry a uuid",
    );

    // Master failover: the detector follows ZooKeeper, the client resubscribes with its id.
    const resubscribed = waitForEvent<
      [{ frameworkId: string; resubscribed: boolean; masterUrl: string }]
    >(client, "subscribed", { timeoutMs: 30_000 });
    const oldMaster = client.masterUrl;
    const newMaster = await cluster.failoverMaster("redirect");
    const [again] = await resubscribed;
    assert.equal(again.frameworkId, frameworkId);
    assert.equal(again.resubscribed, true);
    assert.equal(again.masterUrl, newMaster.url);
    assert.notEqual(again.masterUrl, oldMaster);
    // Reconciliation through the new master reports the tasks still running.
    await until(
      () =>
        updates.filter((u) => u.reason === "REASON_RECONCILIATION" && u.state === "TASK_RUNNING")
          .length >= 3,
      "reconciliation answers after failover",
    );

    // Agent restart: the executor resubscribes to the restarted agent and keeps its task.
    await cluster.agents[0]!.restart();
    const agent0 = await cluster.agents[0]!.id();
    const task0 = `e2e-${agent0}`;
    assert.ok(launched.has(task0));

    // Finish every task through a MESSAGE to its executor. MESSAGE is best effort (an agent
    // that has not re-registered with the new master drops it), so unfinished tasks are asked
    // again at every heartbeat until they report.
    const deadline = Date.now() + 30_000;
    while (!allIn("TASK_FINISHED")() && Date.now() < deadline) {
      for (const taskId of launched) {
        if (statuses.get(taskId)?.state === "TASK_FINISHED") continue;
        const agentId = taskId.slice("e2e-".length);
        await client
          .message(agentId, `e2e-executor-${agentId}`, Buffer.from(`finish ${taskId}`))
          .catch(() => {});
      }
      await Promise.race([
        waitForEvent(client, "heartbeat", { timeoutMs: 5000 }),
        waitForEvent(client, "update", { timeoutMs: 5000, filter: () => allIn("TASK_FINISHED")() }),
      ]).catch(() => {});
    }
    await until(allIn("TASK_FINISHED"), "three tasks finished");
    assert.equal(statuses.get(task0)!.source, "SOURCE_EXECUTOR");
  },
);
