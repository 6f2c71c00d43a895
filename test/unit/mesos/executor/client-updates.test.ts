// Status updates: what the client fills in, what it refuses, and its two bookkeeping lists.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ExecutorUpdateRefusedError,
  MesosHttpError,
  NotSubscribedError,
} from "../../../../src/mesos/errors.js";
import { isStatusUuid } from "../../../../src/mesos/bytes.js";
import type { TaskStatus } from "../../../../src/mesos/types/common.js";
import { startFixture, taskInfo } from "../../../support/executor-fixture.js";
import { nextEvent, until } from "../../../support/wait.js";

async function launch(
  agent: Awaited<ReturnType<typeof startFixture>>["agent"],
  client: Awaited<ReturnType<typeof startFixture>>["client"],
  ...ids: string[]
) {
  for (const id of ids) {
    const launched = nextEvent(client, "launch");
    await agent.stream!.send({ type: "LAUNCH", launch: { task: taskInfo(id) } });
    await launched;
  }
}

function refused(reason: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ExecutorUpdateRefusedError, String(err));
    assert.equal(err.reason, reason);
    assert.equal(err.code, "UPDATE_REFUSED");
    return true;
  };
}

test("UPDATE carries a fresh 16-byte uuid, SOURCE_EXECUTOR, both ids and a timestamp", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  await launch(agent, client, "u-1");
  const before = Date.now() / 1000;
  const running = await client.update({
    task_id: { value: "u-1" },
    state: "TASK_RUNNING",
    healthy: true,
    data: Buffer.from('{"port":3260}'),
  });
  const finished = await client.update({ task_id: { value: "u-1" }, state: "TASK_FINISHED" });
  const calls = agent.callsOf("UPDATE");
  assert.deepEqual(
    calls.map((c) => c.status),
    [202, 202],
  );
  const body = calls[0]!.body;
  assert.deepEqual(body.executor_id, { value: agent.executorId });
  assert.deepEqual(body.framework_id, { value: agent.frameworkId });
  const status: TaskStatus = body.update.status;
  assert.deepEqual(status, running);
  assert.equal(status.source, "SOURCE_EXECUTOR");
  assert.deepEqual(status.executor_id, { value: agent.executorId });
  assert.ok(isStatusUuid(status.uuid!));
  assert.equal(Buffer.from(status.uuid!, "base64").length, 16);
  assert.ok(status.timestamp! >= before && status.timestamp! <= Date.now() / 1000);
  assert.equal(Buffer.from(status.data!, "base64").toString(), '{"port":3260}');
  assert.notEqual(running.uuid, finished.uuid);
  assert.deepEqual(agent.updates, [running, finished]);
});

test("refuses TASK_STAGING, TASK_KILLING without the capability, unknown tasks, updates after terminal", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  await launch(agent, client, "r-1");
  await assert.rejects(
    client.update({ task_id: { value: "r-1" }, state: "TASK_STAGING" }),
    refused("TASK_STAGING"),
  );
  await assert.rejects(
    client.update({ task_id: { value: "r-1" }, state: "TASK_KILLING" }),
    refused("TASK_KILLING_NOT_SUPPORTED"),
  );
  await assert.rejects(
    client.update({ task_id: { value: "nobody" }, state: "TASK_RUNNING" }),
    refused("UNKNOWN_TASK"),
  );
  await client.update({ task_id: { value: "r-1" }, state: "TASK_FAILED", message: "boom" });
  await assert.rejects(
    client.update({ task_id: { value: "r-1" }, state: "TASK_RUNNING" }),
    refused("AFTER_TERMINAL"),
  );
  await assert.rejects(
    client.update({ task_id: { value: "r-1" }, state: "TASK_KILLED" }),
    refused("AFTER_TERMINAL"),
  );
  assert.equal(agent.callsOf("UPDATE").length, 1, "only the valid update reached the agent");
  assert.deepEqual(client.activeTasks(), []);
});

test("TASK_KILLING is sent when the framework has TASK_KILLING_STATE", async (t) => {
  const { agent, client } = await startFixture(t, {
    agent: { capabilities: ["TASK_KILLING_STATE", "PARTITION_AWARE"] },
  });
  await nextEvent(client, "subscribed");
  await launch(agent, client, "kk-1");
  await client.update({ task_id: { value: "kk-1" }, state: "TASK_KILLING" });
  await client.update({ task_id: { value: "kk-1" }, state: "TASK_KILLED" });
  assert.deepEqual(
    agent.updates.map((s) => s.state),
    ["TASK_KILLING", "TASK_KILLED"],
  );
});

test("ACKNOWLEDGED drops the update and covers the task", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  await launch(agent, client, "a-1", "a-2");
  const s1 = await client.update({ task_id: { value: "a-1" }, state: "TASK_RUNNING" });
  const s2 = await client.update({ task_id: { value: "a-2" }, state: "TASK_STARTING" });
  assert.deepEqual(client.unacknowledgedUpdates(), [s1, s2]);
  assert.deepEqual(
    client.unacknowledgedTasks().map((x) => x.task_id.value),
    ["a-1", "a-2"],
  );
  const acked = nextEvent<[{ uuid: string; status: TaskStatus | undefined }]>(
    client,
    "acknowledged",
  );
  await agent.stream!.send({
    type: "ACKNOWLEDGED",
    acknowledged: { task_id: { value: "a-1" }, uuid: s1.uuid },
  });
  const [ack] = await acked;
  assert.equal(ack.uuid, s1.uuid);
  assert.deepEqual(ack.status, s1);
  assert.deepEqual(client.unacknowledgedUpdates(), [s2]);
  assert.deepEqual(
    client.unacknowledgedTasks().map((x) => x.task_id.value),
    ["a-2"],
  );
  // An ACKNOWLEDGED for an unknown uuid changes nothing else.
  const stray = nextEvent(client, "acknowledged");
  await agent.stream!.send({
    type: "ACKNOWLEDGED",
    acknowledged: { task_id: { value: "a-2" }, uuid: "AAAAAAAAAAAAAAAAAAAAAA==" },
  });
  await stray;
  assert.deepEqual(client.unacknowledgedUpdates(), [s2]);
  assert.deepEqual(client.unacknowledgedTasks(), [], "a-2 is now covered by an ACKNOWLEDGED");
});

test("updates are sent in order, one at a time", async (t) => {
  const { agent, client } = await startFixture(t, { agent: { autoAck: true } });
  await nextEvent(client, "subscribed");
  await launch(agent, client, "o-1");
  const all = await Promise.all([
    client.update({ task_id: { value: "o-1" }, state: "TASK_STARTING" }),
    client.update({ task_id: { value: "o-1" }, state: "TASK_RUNNING" }),
    client.update({ task_id: { value: "o-1" }, state: "TASK_FINISHED" }),
  ]);
  assert.deepEqual(
    agent.updates.map((s) => s.uuid),
    all.map((s) => s.uuid),
  );
  await until(client, ["acknowledged"], () => client.unacknowledgedUpdates().length === 0);
  assert.deepEqual(client.unacknowledgedTasks(), []);
});

test("a 4xx answer to UPDATE is a MesosHttpError with the body; the update is forgotten", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  await launch(agent, client, "h-1");
  agent.forced.push({ type: "UPDATE", status: 400, body: "Failed to validate: bad things" });
  await assert.rejects(
    client.update({ task_id: { value: "h-1" }, state: "TASK_FINISHED" }),
    (err: unknown) => {
      assert.ok(err instanceof MesosHttpError);
      assert.equal(err.status, 400);
      assert.equal(err.body, "Failed to validate: bad things");
      assert.match(err.message, /bad things/);
      return true;
    },
  );
  assert.deepEqual(client.unacknowledgedUpdates(), []);
  // The rejected terminal update did not count: a corrected one may follow.
  await client.update({ task_id: { value: "h-1" }, state: "TASK_FINISHED" });
  assert.equal(agent.updates.length, 1);
});

test("503 on UPDATE and MESSAGE is retried with the same uuid", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  await launch(agent, client, "s-1");
  agent.forced.push({ type: "UPDATE", status: 503, body: "recovering", times: 3 });
  agent.forced.push({ type: "MESSAGE", status: 503, times: 2 });
  const status = await client.update({ task_id: { value: "s-1" }, state: "TASK_RUNNING" });
  const calls = agent.callsOf("UPDATE");
  assert.deepEqual(
    calls.map((c) => c.status),
    [503, 503, 503, 202],
  );
  assert.ok(calls.every((c) => c.body.update.status.uuid === status.uuid));
  await client.message("hello");
  assert.deepEqual(
    agent.callsOf("MESSAGE").map((c) => c.status),
    [503, 503, 202],
  );
});

test("other answers to MESSAGE are typed errors; MESSAGE needs a subscription", async (t) => {
  const { agent, client } = await startFixture(t, { start: false });
  await assert.rejects(client.message("early"), NotSubscribedError);
  client.start();
  await nextEvent(client, "subscribed");
  agent.forced.push({ type: "MESSAGE", status: 403, body: "Executor is not subscribed" });
  await assert.rejects(client.message("x"), (err: unknown) => {
    assert.ok(err instanceof MesosHttpError);
    assert.equal(err.status, 403);
    assert.equal(err.body, "Executor is not subscribed");
    return true;
  });
  agent.forced.push({ type: "MESSAGE", status: 500, body: "oops" });
  await assert.rejects(
    client.message("x"),
    (err: unknown) => (err as MesosHttpError).status === 500,
  );
});

test("an UPDATE whose POST dies is resent (same uuid) while the stream lives", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  await launch(agent, client, "c-1");
  agent.forced.push({ type: "UPDATE", status: 0, times: 2 });
  const warnings: Error[] = [];
  client.on("warning", (e) => warnings.push(e));
  const status = await client.update({ task_id: { value: "c-1" }, state: "TASK_RUNNING" });
  const calls = agent.callsOf("UPDATE");
  assert.deepEqual(
    calls.map((c) => c.status),
    [0, 0, 202],
  );
  assert.ok(calls.every((c) => c.body.update.status.uuid === status.uuid));
  assert.ok(warnings.length >= 2);
  assert.deepEqual(client.unacknowledgedUpdates(), [status]);
});
