// Subscription and event stream of the executor client against the scripted agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TaskInfo } from "../../../../src/mesos/types/common.js";
import type { KillRequest } from "../../../../src/mesos/executor/client.js";
import { encodeRecord } from "../../../../src/mesos/recordio.js";
import { startFixture, taskInfo } from "../../../support/executor-fixture.js";
import { nextEvent, until } from "../../../support/wait.js";

test("subscribes at once with both ids, JSON headers and an empty subscribe body", async (t) => {
  const { agent, client } = await startFixture(t);
  const [info, meta] = await nextEvent(client, "subscribed");
  const call = agent.callsOf("SUBSCRIBE")[0]!;
  assert.equal(call.status, 200);
  assert.deepEqual(call.body, {
    executor_id: { value: agent.executorId },
    framework_id: { value: agent.frameworkId },
    type: "SUBSCRIBE",
    subscribe: {},
  });
  assert.equal(call.headers["content-type"], "application/json");
  assert.equal(call.headers.accept, "application/json");
  assert.equal(call.headers.authorization, undefined);
  assert.deepEqual(meta, { resubscribed: false });
  assert.equal(
    (info as { agent_info: { hostname: string } }).agent_info.hostname,
    "node-a.example.net",
  );
  assert.equal(client.state, "subscribed");
  assert.equal(client.subscription?.container_id?.value, "0f6c2d7e-41b8-4a5a-b1b0-9d4c3e2a1f77");
});

test("SUBSCRIBED then LAUNCH, with chunks split inside RecordIO headers and UTF-8 characters", async (t) => {
  const { agent, client } = await startFixture(t, { agent: { autoSubscribed: false } });
  const stream = await agent.waitForStream(1);
  const task = taskInfo("bs-osd-nœud-1", { name: "disque ☃ 𝄞 rôle" });
  const bytes = Buffer.concat([
    encodeRecord(JSON.stringify(agent.subscribedEvent())),
    encodeRecord(JSON.stringify({ type: "LAUNCH", launch: { task } })),
    encodeRecord('{"type":"HEARTBEAT"}'),
  ]);
  const firstLen = bytes.indexOf(0x0a); // end of the first header
  const heartbeatHeaderEnd = bytes.lastIndexOf(0x0a);
  const launchStart = bytes.lastIndexOf(Buffer.from("\n"), bytes.indexOf('{"type":"LAUNCH"')) + 1;
  const snowman = bytes.indexOf(Buffer.from("☃"));
  const clef = bytes.indexOf(Buffer.from("𝄞"));
  const cuts = [
    1, // inside the first header's digits
    firstLen, // just before the LF
    launchStart - 2, // inside the second header
    snowman + 1, // inside a 3-byte character
    clef + 2, // inside a 4-byte character
    clef + 3,
    heartbeatHeaderEnd - 1, // between the digits of "20"
  ];
  const launched = nextEvent<[TaskInfo]>(client, "launch");
  const beat = nextEvent(client, "heartbeat");
  await stream.sendRaw(bytes, cuts);
  const [got] = await launched;
  await beat;
  assert.deepEqual(got, task);
  assert.equal(got.name, "disque ☃ 𝄞 rôle");
  assert.deepEqual(client.unacknowledgedTasks(), [task]);
  assert.deepEqual(client.activeTasks(), [task]);
});

test("several records in one chunk, LAUNCH_GROUP, MESSAGE both ways, HEARTBEAT call", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  const a = taskInfo("g-1");
  const b = taskInfo("g-2");
  const group = nextEvent<[TaskInfo[]]>(client, "launchGroup");
  const msg = nextEvent<[Buffer]>(client, "message");
  await agent.stream!.sendRaw(
    Buffer.concat([
      encodeRecord(
        JSON.stringify({ type: "LAUNCH_GROUP", launch_group: { task_group: { tasks: [a, b] } } }),
      ),
      encodeRecord(
        JSON.stringify({
          type: "MESSAGE",
          message: { data: Buffer.from("prêt").toString("base64") },
        }),
      ),
    ]),
  );
  assert.deepEqual((await group)[0], [a, b]);
  assert.equal((await msg)[0].toString("utf8"), "prêt");

  await client.message("osd-1 ready");
  const sent = agent.callsOf("MESSAGE")[0]!;
  assert.equal(sent.status, 202);
  assert.equal(Buffer.from(sent.body.message.data, "base64").toString(), "osd-1 ready");
  assert.equal(sent.body.executor_id.value, agent.executorId);
  assert.equal(sent.body.framework_id.value, agent.frameworkId);

  await client.heartbeat();
  assert.equal(agent.callsOf("HEARTBEAT")[0]!.status, 202);
});

test("unknown event types are ignored (surfaced as 'unknown') and the stream goes on", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  const unknown = nextEvent<[string, Record<string, unknown>]>(client, "unknown");
  const launched = nextEvent<[TaskInfo]>(client, "launch");
  await agent.stream!.send({ type: "RECONFIGURE_EVERYTHING", reconfigure: { x: 1 } });
  await agent.stream!.send({ type: "LAUNCH", launch: { task: taskInfo("after-unknown") } });
  const [type, event] = await unknown;
  assert.equal(type, "RECONFIGURE_EVERYTHING");
  assert.deepEqual(event.reconfigure, { x: 1 });
  assert.equal((await launched)[0].task_id.value, "after-unknown");
  assert.equal(agent.callsOf("SUBSCRIBE").length, 1);
});

test("KILL surfaces the task id and the kill-policy grace period in ms", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  const task = taskInfo("k-1", { kill_policy: { grace_period: { nanoseconds: 30_000_000_000 } } });
  const launched = nextEvent(client, "launch");
  await agent.stream!.send({ type: "LAUNCH", launch: { task } });
  await launched;

  let kill = nextEvent<[KillRequest]>(client, "kill");
  await agent.stream!.send({ type: "KILL", kill: { task_id: { value: "k-1" } } });
  let [k] = await kill;
  assert.equal(k.taskId.value, "k-1");
  assert.equal(k.gracePeriodMs, 30_000, "falls back to the task's kill policy");
  assert.equal(k.repeated, false);
  assert.deepEqual(k.task, task);

  // A repeated KILL with a shorter policy means escalate.
  kill = nextEvent<[KillRequest]>(client, "kill");
  await agent.stream!.sendRaw(
    encodeRecord(
      '{"type":"KILL","kill":{"task_id":{"value":"k-1"},"kill_policy":{"grace_period":{"nanoseconds":2000000000}}}}',
    ),
  );
  [k] = await kill;
  assert.equal(k.gracePeriodMs, 2000);
  assert.equal(k.repeated, true);

  // A KILL for a task this executor never saw, with a 64-bit nanosecond count.
  kill = nextEvent<[KillRequest]>(client, "kill");
  await agent.stream!.sendRaw(
    encodeRecord(
      '{"type":"KILL","kill":{"task_id":{"value":"ghost"},"kill_policy":{"grace_period":{"nanoseconds":9007199254740993000}}}}',
    ),
  );
  [k] = await kill;
  assert.equal(k.task, undefined);
  assert.equal(k.gracePeriodMs, 9007199254740);
});

test("ERROR event: reported, then the stream is dropped and the executor resubscribes", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  const err = nextEvent<[string]>(client, "agentError");
  const again = nextEvent(client, "subscribed");
  await agent.stream!.send({ type: "ERROR", error: { message: "rôle refusé" } });
  assert.equal((await err)[0], "rôle refusé");
  const [, meta] = await again;
  assert.deepEqual(meta, { resubscribed: true });
  assert.equal(agent.callsOf("SUBSCRIBE").length, 2);
});

test("a listener that throws does not break the stream", async (t) => {
  const { agent, client } = await startFixture(t);
  await nextEvent(client, "subscribed");
  client.once("launch", () => {
    throw new Error("handler bug");
  });
  const warning = nextEvent<[Error]>(client, "warning");
  await agent.stream!.send({ type: "LAUNCH", launch: { task: taskInfo("t-throw") } });
  assert.match((await warning)[0].message, /handler bug/);
  const beat = nextEvent(client, "heartbeat");
  await agent.stream!.send({ type: "HEARTBEAT" });
  await beat;
  await until(client, [], () => client.state === "subscribed");
});
