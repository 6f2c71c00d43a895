// Agent restarts, recovery timeout, MESOS_CHECKPOINT=0, SHUTDOWN.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ExecutorDisconnectedError,
  ExecutorRecoveryTimeoutError,
  ExecutorUpdateRefusedError,
} from "../../../../src/mesos/errors.js";
import type { ReconnectInfo, ShutdownRequest } from "../../../../src/mesos/executor/client.js";
import type { TaskInfo } from "../../../../src/mesos/types/common.js";
import { startFixture, taskInfo } from "../../../support/executor-fixture.js";
import type { ScriptedAgent } from "../../../support/scripted-agent.js";
import { nextEvent, until } from "../../../support/wait.js";

type Client = Awaited<ReturnType<typeof startFixture>>["client"];

async function launch(agent: ScriptedAgent, client: Client, ...tasks: TaskInfo[]) {
  for (const task of tasks) {
    const launched = nextEvent(client, "launch");
    await agent.stream!.send({ type: "LAUNCH", launch: { task } });
    await launched;
  }
}

test("agent restart: 503 while recovering, then a resubscription carrying unacknowledged tasks and updates", async (t) => {
  const { agent, client } = await startFixture(t, {
    env: { MESOS_SUBSCRIPTION_BACKOFF_MAX: "50ms", MESOS_RECOVERY_TIMEOUT: "10secs" },
  });
  await nextEvent(client, "subscribed");
  const t1 = taskInfo("t-1");
  const t2 = taskInfo("t-2", { name: "t-2 ☃" });
  const t3 = taskInfo("t-3");
  await launch(agent, client, t1, t2, t3);
  const s1 = await client.update({ task_id: t1.task_id, state: "TASK_RUNNING" });
  const s2 = await client.update({ task_id: t2.task_id, state: "TASK_RUNNING" });
  const acked = nextEvent(client, "acknowledged");
  await agent.stream!.send({
    type: "ACKNOWLEDGED",
    acknowledged: { task_id: t1.task_id, uuid: s1.uuid },
  });
  await acked;

  const reconnecting: ReconnectInfo[] = [];
  client.on("reconnecting", (r) => reconnecting.push(r));
  const lost = nextEvent<[ReconnectInfo]>(client, "reconnecting");
  agent.restart(4); // the stream dies; the next 4 calls get 503
  await lost;
  assert.equal(client.state, "subscribing");
  // The task ends while the agent is away: the update waits for the resubscription.
  const s3Promise = client.update({ task_id: t3.task_id, state: "TASK_FINISHED" });

  const [, meta] = await nextEvent(client, "subscribed");
  assert.deepEqual(meta, { resubscribed: true });
  const s3 = await s3Promise;
  const subs = agent.callsOf("SUBSCRIBE");
  assert.deepEqual(
    subs.map((c) => c.status),
    [200, 503, 503, 503, 503, 200],
  );
  const body = subs.at(-1)!.body;
  assert.deepEqual(body.executor_id, { value: agent.executorId });
  assert.deepEqual(body.framework_id, { value: agent.frameworkId });
  assert.deepEqual(body.subscribe.unacknowledged_tasks, [t2, t3], "full TaskInfos, t-1 was acked");
  assert.deepEqual(body.subscribe.unacknowledged_updates, [{ status: s2 }, { status: s3 }]);
  // s3 was carried by the SUBSCRIBE, so it is not POSTed again.
  assert.ok(!agent.callsOf("UPDATE").some((c) => c.body.update.status.uuid === s3.uuid));
  // Every pause the client scheduled stayed within MESOS_SUBSCRIPTION_BACKOFF_MAX (wall-clock
  // gaps are not asserted: a loaded test machine stretches them).
  // (The first attempt after a loss is immediate only if the stream had lived longer than
  // the backoff max, which depends on the machine's speed here.)
  assert.equal(reconnecting.length, 5);
  assert.ok(reconnecting.every((r) => r.delayMs >= 0 && r.delayMs <= 50));
  assert.ok(reconnecting.slice(1).every((r) => r.delayMs > 0));

  // The agent acknowledges the replayed updates: both lists empty out.
  for (const s of [s2, s3]) {
    await agent.stream!.send({
      type: "ACKNOWLEDGED",
      acknowledged: { task_id: s.task_id, uuid: s.uuid },
    });
  }
  await until(client, ["acknowledged"], () => client.unacknowledgedUpdates().length === 0);
  assert.deepEqual(client.unacknowledgedTasks(), []);
  assert.deepEqual(
    client.activeTasks().map((x) => x.task_id.value),
    ["t-1", "t-2"],
  );
});

test("an UPDATE whose POST fails is carried in the next SUBSCRIBE", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  const task = taskInfo("p-1");
  await launch(agent, client, task);
  agent.forced.push({ type: "UPDATE", status: 0, times: 1000 });
  const pending = client.update({ task_id: task.task_id, state: "TASK_RUNNING" });
  await agent.waitForCall((c) => c.type === "UPDATE");
  agent.forced.length = 0;
  agent.restart(0);
  const status = await pending;
  const sub = agent.callsOf("SUBSCRIBE").at(-1)!;
  assert.equal(sub.status, 200);
  assert.deepEqual(sub.body.subscribe.unacknowledged_updates, [{ status }]);
  assert.ok(agent.callsOf("UPDATE").every((c) => c.status === 0));
});

test("recovery timeout: the agent stays unavailable, the client gives up with a typed error", async (t) => {
  const { agent, client } = await startFixture(t, {
    env: { MESOS_RECOVERY_TIMEOUT: "400ms", MESOS_SUBSCRIPTION_BACKOFF_MAX: "40ms" },
  });
  await nextEvent(client, "subscribed");
  await launch(agent, client, taskInfo("rt-1"));
  const pauses: number[] = [];
  client.on("reconnecting", (r) => pauses.push(r.delayMs));
  const lostAt = Date.now();
  const fatal = nextEvent<[Error]>(client, "disconnected", 5000);
  agent.restart(Infinity);
  const [err] = await fatal;
  const elapsed = Date.now() - lostAt;
  assert.ok(err instanceof ExecutorRecoveryTimeoutError, String(err));
  assert.equal(err.code, "RECOVERY_TIMEOUT");
  assert.equal(err.timeoutMs, 400);
  assert.ok(elapsed >= 390, `gave up after ${elapsed} ms`);
  assert.equal(client.state, "stopped");
  const attempts = agent.callsOf("SUBSCRIBE").length - 1;
  assert.ok(attempts >= 2, `only ${attempts} attempts`);
  assert.ok(
    pauses.every((ms) => ms >= 0 && ms <= 40),
    `pauses ${pauses.join(",")}`,
  );
  // Every attempt carried the unacknowledged task.
  assert.ok(
    agent
      .callsOf("SUBSCRIBE")
      .slice(1)
      .every((c) => c.body.subscribe.unacknowledged_tasks?.[0]?.task_id.value === "rt-1"),
  );
  await assert.rejects(
    client.update({ task_id: { value: "rt-1" }, state: "TASK_KILLED" }),
    ExecutorUpdateRefusedError,
  );
});

test("recovery timeout with the agent gone (connection refused)", async (t) => {
  const { agent, client } = await startFixture(t, {
    env: { MESOS_RECOVERY_TIMEOUT: "300ms", MESOS_SUBSCRIPTION_BACKOFF_MAX: "30ms" },
  });
  await nextEvent(client, "subscribed");
  const errors: unknown[] = [];
  client.on("reconnecting", (r) => errors.push(r.error));
  const fatal = nextEvent<[Error]>(client, "disconnected", 5000);
  await agent.close();
  const [err] = await fatal;
  assert.ok(err instanceof ExecutorRecoveryTimeoutError);
  assert.ok(errors.length >= 3);
  assert.ok(errors.slice(1).every((e) => (e as { code?: string }).code === "CONNECTION"));
});

test("MESOS_CHECKPOINT=0: no reconnection, a fatal 'disconnected'", async (t) => {
  const { agent, client } = await startFixture(t, { env: { MESOS_CHECKPOINT: "0" } });
  await nextEvent(client, "subscribed");
  const fatal = nextEvent<[Error]>(client, "disconnected");
  agent.stream!.end();
  const [err] = await fatal;
  assert.ok(err instanceof ExecutorDisconnectedError, String(err));
  assert.equal(err.code, "EXECUTOR_DISCONNECTED");
  assert.match(err.message, /MESOS_CHECKPOINT=0/);
  assert.equal(client.state, "stopped");
  await client.stop(); // the subscription loop has ended: no attempt can follow
  assert.equal(agent.callsOf("SUBSCRIBE").length, 1);
});

test("SHUTDOWN: deadline from the grace period, tasks killed and reported, no launch afterwards", async (t) => {
  const { agent, client } = await startFixture(t, {
    agent: { autoAck: true },
    env: { MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: "1.5secs" },
  });
  await nextEvent(client, "subscribed");
  await launch(agent, client, taskInfo("sd-1"), taskInfo("sd-2"), taskInfo("sd-3"));
  await client.update({ task_id: { value: "sd-3" }, state: "TASK_FINISHED" });
  const shutdown = nextEvent<[ShutdownRequest]>(client, "shutdown");
  const sentAt = Date.now();
  await agent.stream!.send({ type: "SHUTDOWN" });
  const [req] = await shutdown;
  assert.equal(req.gracePeriodMs, 1500);
  assert.ok(Math.abs(req.deadline - (sentAt + 1500)) < 200);
  assert.equal(client.shutdownDeadline, req.deadline);
  assert.equal(client.shuttingDown, true);

  // A LAUNCH after SHUTDOWN is refused: no 'launch', a TASK_KILLED instead.
  let launchedLate = false;
  client.on("launch", () => (launchedLate = true));
  await agent.stream!.send({ type: "LAUNCH", launch: { task: taskInfo("late") } });
  await agent.waitForCall(
    (c) => c.type === "UPDATE" && c.body.update.status.task_id.value === "late",
  );

  const killedTasks: string[] = [];
  const summary = await client.shutdownTasks(async (task, signal) => {
    assert.equal(signal.aborted, false);
    killedTasks.push(task.task_id.value);
    if (task.task_id.value === "sd-2") {
      // The caller may report the kill itself; the helper then adds nothing.
      await client.update({ task_id: task.task_id, state: "TASK_KILLED", message: "by caller" });
    }
  });
  assert.ok(Date.now() < req.deadline, "finished within the grace period");
  assert.equal(launchedLate, false);
  assert.deepEqual(killedTasks.sort(), ["sd-1", "sd-2"]);
  assert.deepEqual(summary.killed.sort(), ["sd-1", "sd-2"]);
  assert.deepEqual(summary.failed, []);
  assert.equal(summary.unacknowledged, 0);
  const byTask = new Map(agent.updates.map((s) => [s.task_id.value, s]));
  assert.equal(byTask.get("sd-1").state, "TASK_KILLED");
  assert.equal(byTask.get("sd-2").message, "by caller");
  assert.equal(byTask.get("late").state, "TASK_KILLED");
  assert.equal(agent.updates.filter((s) => s.task_id.value === "sd-2").length, 1);
  assert.deepEqual(client.activeTasks(), []);
});

test("shutdownTasks reports TASK_FAILED when a kill fails", async (t) => {
  const { agent, client } = await startFixture(t, { agent: { autoAck: true } });
  await nextEvent(client, "subscribed");
  await launch(agent, client, taskInfo("f-1"));
  const summary = await client.shutdownTasks(async () => {
    throw new Error("process would not die");
  });
  assert.deepEqual(summary.failed, ["f-1"]);
  assert.equal(agent.updates[0].state, "TASK_FAILED");
  assert.match(agent.updates[0].message, /would not die/);
});

test("shutdownTasks returns by the deadline even if a kill hangs", async (t) => {
  const { agent, client } = await startFixture(t, {
    agent: { autoAck: true },
    env: { MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: "300ms" },
  });
  await nextEvent(client, "subscribed");
  await launch(agent, client, taskInfo("hang-1"), taskInfo("quick-1"));
  let sawAbort = false;
  const summary = await client.shutdownTasks((task, signal) =>
    task.task_id.value === "quick-1"
      ? Promise.resolve()
      : new Promise<void>(() => signal.addEventListener("abort", () => (sawAbort = true))),
  );
  assert.ok(Date.now() >= client.shutdownDeadline! - 5);
  assert.ok(sawAbort, "the kill signal aborted before the deadline");
  assert.deepEqual(summary.killed, ["quick-1"]);
  assert.deepEqual(summary.failed, ["hang-1"]);
  assert.deepEqual(
    agent.updates.map((s) => [s.task_id.value, s.state]),
    [["quick-1", "TASK_KILLED"]],
  );
});

test("after a fatal disconnect, shutdownTasks still kills every task and returns at once", async (t) => {
  const { agent, client } = await startFixture(t, { env: { MESOS_CHECKPOINT: "0" } });
  await nextEvent(client, "subscribed");
  await launch(agent, client, taskInfo("d-1"), taskInfo("d-2"));
  const fatal = nextEvent(client, "disconnected");
  agent.stream!.destroy();
  await fatal;
  const killedTasks: string[] = [];
  const summary = await client.shutdownTasks(async (task) => {
    killedTasks.push(task.task_id.value);
  });
  assert.deepEqual(killedTasks.sort(), ["d-1", "d-2"]);
  assert.deepEqual(summary.killed.sort(), ["d-1", "d-2"]);
  assert.ok(Date.now() < client.shutdownDeadline!);
});

test("after a long-lived stream is lost, the first resubscription is immediate", async (t) => {
  const { agent, client } = await startFixture(t, {
    env: { MESOS_SUBSCRIPTION_BACKOFF_MAX: "1us" },
  });
  await nextEvent(client, "subscribed");
  const lost = nextEvent<[ReconnectInfo]>(client, "reconnecting");
  const again = nextEvent(client, "subscribed");
  // A heartbeat round trip outlasts the 1 µs backoff max.
  const beat = nextEvent(client, "heartbeat");
  await agent.stream!.send({ type: "HEARTBEAT" });
  await beat;
  agent.stream!.end();
  assert.equal((await lost)[0].delayMs, 0);
  await again;
});
