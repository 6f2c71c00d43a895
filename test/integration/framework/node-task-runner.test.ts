// Node steps as Mesos tasks on the development cluster: reservations on first use, one
// executor per agent reused by later steps, results and failures carried by status
// updates, SUPPRESS when idle, kill on abort, launch intents recorded before ACCEPT.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/index.js";
import { SchedulerClient, type Operation } from "../../../src/mesos/index.js";
import { FileStateStore } from "../../../src/store/file-store.js";
import { NodeTaskError, NodeTaskRunner } from "../../../src/framework/node-task/runner.js";
import { PermanentStepError } from "../../../src/framework/plan/types.js";
import { waitForEvent } from "../../support/wait.js";

const script = fileURLToPath(new URL("./fixtures/protocol-executor.ts", import.meta.url));
const tsx = import.meta.resolve("tsx");
let cluster: DevCluster;
let client: SchedulerClient;
let store: FileStateStore;
let runner: NodeTaskRunner;
const calls: string[] = [];

before(async () => {
  cluster = await startDevCluster({
    agents: 2,
    master: { heartbeatIntervalMs: 500, allocationIntervalMs: 50 },
    agent: { statusUpdateRetryMs: 300 },
  });
  store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "runner-")));
  client = new SchedulerClient({
    master: cluster.masterUrl,
    frameworkInfo: {
      user: "root",
      name: "runner-test",
      roles: ["scaleio"],
      principal: "scaleio-fw",
      checkpoint: true,
      failover_timeout: 600,
      capabilities: [
        { type: "MULTI_ROLE" },
        { type: "PARTITION_AWARE" },
        { type: "RESERVATION_REFINEMENT" },
      ],
    },
    persistFrameworkId: () => {},
    backoff: { initialMs: 50, maxMs: 500 },
  });
  client.on("update", (s) => void client.acknowledgeIfNeeded(s).catch(() => {}));
  for (const name of ["revive", "suppress", "accept"] as const) {
    const orig = client[name] as (...a: unknown[]) => Promise<void>;
    (client as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
      calls.push(
        name === "accept" ? `accept:${(a[1] as Operation[]).map((o) => o.type).join("+")}` : name,
      );
      return orig(...a);
    };
  }
  runner = new NodeTaskRunner({
    client,
    store,
    role: "scaleio",
    principal: "scaleio-fw",
    owner: "runner-test",
    executorFor: (agentId) => ({
      info: {
        executor_id: { value: `scaleio-${agentId}` },
        name: "scaleio executor",
        command: {
          shell: false,
          value: process.execPath,
          arguments: [process.execPath, "--import", tsx, script],
        },
      },
      resources: { cpus: 0.5, memMb: 128 },
    }),
  });
  const subscribed = waitForEvent(client, "subscribed", { timeoutMs: 10_000 });
  client.start();
  await subscribed;
});

after(async () => {
  await client?.stop();
  await cluster?.stop();
  await store?.close();
});

const agentIds = async () => Promise.all(cluster.agents.map((a) => a.id()));

test(
  "a step runs on the agent's executor; resources are reserved once and the executor is reused",
  { timeout: 60_000 },
  async () => {
    const [a0] = await agentIds();
    const progress: string[] = [];
    const r1 = (await runner.run(
      a0!,
      { stepId: "facts/a0", attempt: 1, kind: "test.echo", params: { x: 1 } },
      { progress: (m) => progress.push(m) },
    )) as { params: unknown; pid: number };
    assert.deepEqual(r1.params, { x: 1 });
    assert.deepEqual(progress, ["running test.echo"]);
    const r2 = (await runner.run(a0!, {
      stepId: "facts/a0",
      attempt: 2,
      kind: "test.echo",
      params: { x: 2 },
    })) as { params: unknown; pid: number };
    assert.equal(r2.pid, r1.pid, "the second step ran on the same executor process");
    assert.deepEqual(
      calls.filter((c) => c.startsWith("accept")),
      ["accept:RESERVE+LAUNCH", "accept:LAUNCH"],
    );
    // Our reservation is visible in the master's state with our label.
    const state = (await (await fetch(`${cluster.masterUrl}/state`)).json()) as {
      slaves: {
        id: string;
        reserved_resources_full?: Record<
          string,
          { reservations?: { labels?: { labels: { key: string; value: string }[] } }[] }[]
        >;
      }[];
    };
    const agent = state.slaves.find((s) => s.id === a0);
    assert.ok(
      JSON.stringify(agent).includes('"scaleio-framework"'),
      "reservation labelled as ours",
    );
    assert.equal((await store.list("tasks")).length, 0, "finished tasks leave no launch record");
    await waitForEvent(client, "heartbeat", { timeoutMs: 5000 });
    assert.equal(calls.at(-1), "suppress", "no work left: offers suppressed");
  },
);

test("steps on different agents run side by side", { timeout: 60_000 }, async () => {
  const [a0, a1] = await agentIds();
  const [x, y] = await Promise.all([
    runner.run(a0!, { stepId: "par/a0", attempt: 1, kind: "test.echo", params: "a" }),
    runner.run(a1!, { stepId: "par/a1", attempt: 1, kind: "test.echo", params: "b" }),
  ]);
  assert.deepEqual(
    [(x as { params: unknown }).params, (y as { params: unknown }).params],
    ["a", "b"],
  );
});

test(
  "failures come back typed: retryable, or permanent for the plan engine",
  { timeout: 60_000 },
  async () => {
    const [a0] = await agentIds();
    await assert.rejects(
      runner.run(a0!, { stepId: "fail/a0", attempt: 1, kind: "test.fail", params: {} }),
      (e: unknown) =>
        e instanceof NodeTaskError &&
        !e.permanent &&
        e.state === "TASK_FAILED" &&
        /failed on purpose/.test(e.message),
    );
    await assert.rejects(
      runner.run(a0!, {
        stepId: "fail/a0",
        attempt: 2,
        kind: "test.fail",
        params: { permanent: true },
      }),
      (e: unknown) => e instanceof PermanentStepError && /failed on purpose/.test(e.message),
    );
  },
);

test("aborting a running step kills its task", { timeout: 60_000 }, async () => {
  const [a1] = (await agentIds()).slice(1);
  const ac = new AbortController();
  const killed = waitForEvent<[{ task_id: { value: string }; state: string }]>(client, "update", {
    timeoutMs: 20_000,
    filter: (s) => s.task_id.value === "hang_a1.1" && s.state === "TASK_KILLED",
  });
  const running = waitForEvent<[{ task_id: { value: string }; state: string }]>(client, "update", {
    timeoutMs: 20_000,
    filter: (s) => s.task_id.value === "hang_a1.1" && s.state === "TASK_RUNNING",
  });
  const p = runner.run(
    a1!,
    { stepId: "hang/a1", attempt: 1, kind: "test.hang", params: {} },
    { signal: ac.signal },
  );
  await running;
  assert.deepEqual(await store.list("tasks"), ["tasks/hang_a1.1"], "the launch was recorded");
  ac.abort(new Error("operator restarted the step"));
  await assert.rejects(p, /operator restarted the step/);
  await killed;
});
