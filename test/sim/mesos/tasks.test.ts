// Task lifecycle through the built-in command and default executors, LAUNCH_GROUP, kill
// with TASK_KILLING, failover_timeout with running tasks (11.6), and updates re-sent to a
// resubscribed framework (3.8).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startDevCluster, type DevCluster } from "../../../sim/mesos/cluster.js";
import { FRAMEWORK, Scheduler, openStream, until, type Ev } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/test-executor.mjs", import.meta.url));
let c: DevCluster;
let ids: string[];
const used = new Set<string>();

before(async () => {
  c = await startDevCluster({
    agents: 2,
    agentsPerProcess: 2,
    master: { allocationIntervalMs: 100 },
    agent: { statusUpdateRetryMs: 300, executorRegistrationTimeoutMs: 800 },
  });
  ids = await Promise.all(c.agents.map((a) => a.id()));
});
after(() => c.stop());

async function accept(s: Scheduler, agent: number, operations: object[]): Promise<void> {
  let offers: Ev[] = [];
  await until(
    async () => {
      offers = (await s.offers(1, 5000)).filter(
        (o) => o.agent_id.value === ids[agent] && !used.has(o.id.value),
      );
      return offers.length > 0;
    },
    10_000,
    "an offer",
  );
  for (const o of offers) used.add(o.id.value);
  const r = await s.call("ACCEPT", {
    offer_ids: offers.map((o) => o.id),
    operations,
    filters: { refuse_seconds: 0 },
  });
  assert.equal(r.status, 202);
}

const cmdTask = (id: string, agent: number, value: string) => ({
  name: id,
  task_id: { value: id },
  agent_id: { value: ids[agent] },
  resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
  command: { value },
});

test("command tasks: TASK_FAILED with the exit status; KILL gives TASK_KILLING then TASK_KILLED", async () => {
  const s = await Scheduler.subscribe(c.masterUrl, {
    ...FRAMEWORK,
    capabilities: [...FRAMEWORK.capabilities, { type: "TASK_KILLING_STATE" }],
  });
  try {
    await accept(s, 0, [
      {
        type: "LAUNCH",
        launch: { task_infos: [cmdTask("fail-t", 0, "exit 3"), cmdTask("long-t", 0, "sleep 60")] },
      },
    ]);
    const failed = await s.terminal("fail-t");
    assert.equal(failed.state, "TASK_FAILED");
    assert.equal(failed.message, "Command exited with status 3");
    await s.ack(await s.update((u) => u.task_id.value === "long-t" && u.state === "TASK_STARTING"));
    await s.ack(await s.update((u) => u.task_id.value === "long-t" && u.state === "TASK_RUNNING"));
    await s.call("KILL", { task_id: { value: "long-t" }, agent_id: { value: ids[0] } });
    await s.ack(await s.update((u) => u.task_id.value === "long-t" && u.state === "TASK_KILLING"));
    const killed = await s.update((u) => u.task_id.value === "long-t" && u.state === "TASK_KILLED");
    await s.ack(killed);
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});

test("LAUNCH_GROUP with the default executor and with a custom executor", async () => {
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    const group = (prefix: string, agent: number, executor: object, data?: object) => ({
      type: "LAUNCH_GROUP",
      launch_group: {
        executor,
        task_group: {
          tasks: [1, 2].map((n) => ({
            name: `${prefix}-${n}`,
            task_id: { value: `${prefix}-${n}` },
            agent_id: { value: ids[agent] },
            resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
            ...(data
              ? { data: Buffer.from(JSON.stringify(data)).toString("base64") }
              : { command: { value: "true" } }),
          })),
        },
      },
    });
    await accept(s, 1, [
      group("dflt", 1, {
        type: "DEFAULT",
        executor_id: { value: "default-1" },
        resources: [{ name: "mem", type: "SCALAR", scalar: { value: 32 } }],
      }),
      group(
        "cust",
        1,
        {
          type: "CUSTOM",
          executor_id: { value: "custom-g" },
          command: { shell: false, value: process.execPath, arguments: ["node", FIXTURE] },
        },
        { finish_ms: 10 },
      ),
      // A DEFAULT executor must not have a command.
      group("bad", 1, { type: "DEFAULT", executor_id: { value: "d2" }, command: { value: "x" } }),
    ]);
    for (const id of ["dflt-1", "dflt-2", "cust-1", "cust-2"]) {
      assert.equal((await s.terminal(id)).state, "TASK_FINISHED", id);
    }
    for (const id of ["bad-1", "bad-2"]) {
      const e = await s.update((u) => u.task_id.value === id);
      assert.equal(e.state, "TASK_ERROR");
      assert.equal(e.reason, "REASON_TASK_GROUP_INVALID");
    }
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});

test("3.8: an update not acknowledged before a disconnect is re-sent on the new subscription", async () => {
  let s = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, failover_timeout: 60 });
  try {
    await accept(s, 0, [
      { type: "LAUNCH", launch: { task_infos: [cmdTask("resend-t", 0, "sleep 60")] } },
    ]);
    const starting = await s.update((u) => u.task_id.value === "resend-t");
    s.close();
    s = await Scheduler.subscribe(c.masterUrl, {
      ...FRAMEWORK,
      failover_timeout: 60,
      id: { value: s.frameworkId },
    });
    const again = await s.update((u) => u.task_id.value === "resend-t");
    assert.equal(again.uuid, starting.uuid);
    await s.ack(again);
    await s.ack(
      await s.update((u) => u.task_id.value === "resend-t" && u.state === "TASK_RUNNING"),
    );
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});

test("11.6: after failover_timeout the framework is removed and its tasks killed", async () => {
  const s = await Scheduler.subscribe(c.masterUrl, { ...FRAMEWORK, failover_timeout: 0.5 });
  await accept(s, 1, [
    { type: "LAUNCH", launch: { task_infos: [cmdTask("orphan-t", 1, "sleep 60")] } },
  ]);
  await s.ack(await s.update((u) => u.task_id.value === "orphan-t" && u.state === "TASK_STARTING"));
  await s.ack(await s.update((u) => u.task_id.value === "orphan-t" && u.state === "TASK_RUNNING"));
  const pid = ((await c.agents[1]!.state()) as Ev).frameworks
    .find((f: Ev) => f.id === s.frameworkId)
    .executors.find((e: Ev) => e.id === "orphan-t").pid as number;
  s.close();
  await until(
    () => c.master.removedFrameworks.has(s.frameworkId),
    5000,
    "the framework to be removed",
  );
  await until(
    async () => {
      const st = (await c.agents[1]!.state()) as Ev;
      return !st.frameworks.some((f: Ev) => f.id === s.frameworkId);
    },
    5000,
    "the agent to shut the framework down",
  );
  await until(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    5000,
    "the task's process to be killed",
  );
  const again = await openStream(`${c.masterUrl}/api/v1/scheduler`, {
    type: "SUBSCRIBE",
    framework_id: { value: s.frameworkId },
    subscribe: { framework_info: { ...FRAMEWORK, id: { value: s.frameworkId } } },
  });
  await again.waitClosed();
  assert.equal(again.events[0]!.error.message, "Framework has been removed");
});

test("an executor that never subscribes is destroyed: REASON_EXECUTOR_REGISTRATION_TIMEOUT", async () => {
  const s = await Scheduler.subscribe(c.masterUrl);
  try {
    await accept(s, 0, [
      {
        type: "LAUNCH",
        launch: {
          task_infos: [
            {
              name: "mute",
              task_id: { value: "mute-t" },
              agent_id: { value: ids[0] },
              resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 0.1 } }],
              executor: { executor_id: { value: "mute-e" }, command: { value: "sleep 60" } },
            },
          ],
        },
      },
    ]);
    const failed = await s.terminal("mute-t");
    assert.equal(failed.state, "TASK_FAILED");
    assert.equal(failed.reason, "REASON_EXECUTOR_REGISTRATION_TIMEOUT");
    const failure = await s.stream.next(
      (e) => e.type === "FAILURE" && e.failure.executor_id?.value === "mute-e",
    );
    assert.equal(failure.failure.status & 0x7f, 9);
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});
