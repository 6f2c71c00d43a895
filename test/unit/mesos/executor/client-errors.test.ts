// Bad bytes on the stream and unexpected status codes: typed errors, reconnection where it
// makes sense, never a crash or a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ExecutorDisconnectedError,
  ExecutorRecoveryTimeoutError,
  InvalidEventError,
  MesosHttpError,
  MesosProtocolError,
  MesosTimeoutError,
  RecordIOError,
} from "../../../../src/mesos/errors.js";
import type { ReconnectInfo } from "../../../../src/mesos/executor/client.js";
import { encodeRecord } from "../../../../src/mesos/recordio.js";
import { startFixture, taskInfo } from "../../../support/executor-fixture.js";
import { nextEvent, waitUntil } from "../../../support/wait.js";

const BAD_STREAMS: { name: string; bytes: string; check: (e: unknown) => boolean }[] = [
  {
    name: "garbage bytes",
    bytes: "<html>502 Bad Gateway</html>",
    check: (e) => e instanceof RecordIOError && e.code === "RECORDIO_BAD_HEADER",
  },
  {
    name: "a 10 GB length header",
    bytes: "10737418240\n{",
    check: (e) => e instanceof RecordIOError && e.code === "RECORDIO_TOO_LARGE",
  },
  {
    name: "a truncated record",
    bytes: '100\n{"type":"HEARTBEAT"',
    check: (e) => e instanceof RecordIOError && e.code === "RECORDIO_TRUNCATED",
  },
  {
    name: "a record that is not JSON",
    bytes: "5\nhello",
    check: (e) => e instanceof MesosProtocolError,
  },
  {
    name: "a record with invalid UTF-8",
    bytes: "",
    check: (e) => e instanceof MesosProtocolError && /UTF-8/.test(e.message),
  },
];

function payload(name: string, bytes: string): Buffer {
  // 0xff never occurs in UTF-8.
  if (name.includes("UTF-8")) return encodeRecord(Buffer.from('{"type":"A\xff"}', "latin1"));
  return Buffer.from(bytes, "utf8");
}

for (const bad of BAD_STREAMS) {
  test(`${bad.name}: typed error, then a resubscription (checkpointing)`, async (t) => {
    const { agent, client } = await startFixture(t);
    await nextEvent(client, "subscribed");
    const lost = nextEvent<[ReconnectInfo]>(client, "reconnecting");
    const again = nextEvent(client, "subscribed");
    const bytes = payload(bad.name, bad.bytes);
    await agent.stream!.sendRaw(bytes);
    if (bad.name.includes("truncated")) agent.stream!.end();
    const [info] = await lost;
    assert.ok(bad.check(info.error), `unexpected error: ${String(info.error)}`);
    await again;
    assert.equal(agent.callsOf("SUBSCRIBE").length, 2);
    assert.equal(client.state, "subscribed");
  });
}

test("malformed events of known types are skipped with a protocol error naming them; the stream carries on", async (t) => {
  const { agent, client } = await startFixture(t, { env: { MESOS_CHECKPOINT: "0" } });
  await nextEvent(client, "subscribed");
  const invalid: InvalidEventError[] = [];
  const launched: string[] = [];
  let lost = false;
  client.on("invalidEvent", (e) => invalid.push(e));
  client.on("launch", (task) => launched.push(task.task_id.value));
  client.on("reconnecting", () => (lost = true));
  client.on("disconnected", () => (lost = true));
  const stream = agent.stream!;
  await stream.send({ type: "LAUNCH" });
  await stream.send({ type: "LAUNCH", launch: { task: { name: "no id" } } });
  await stream.send({ type: "LAUNCH_GROUP", launch_group: { task_group: { tasks: [] } } });
  await stream.send({ type: "KILL", kill: { task_id: 7 } });
  await stream.send({ type: "ACKNOWLEDGED", acknowledged: { task_id: { value: "t" } } });
  await stream.send({ type: "MESSAGE", message: { data: ["x"] } });
  await stream.send({ type: "LAUNCH", launch: { task: taskInfo("good-1") } });
  await waitUntil(() => launched.length === 1, { what: "the good launch" });
  assert.deepEqual(launched, ["good-1"]);
  assert.deepEqual(
    invalid.map((e) => e.eventType),
    ["LAUNCH", "LAUNCH", "LAUNCH_GROUP", "KILL", "ACKNOWLEDGED", "MESSAGE"],
  );
  assert.ok(invalid.every((e) => e instanceof MesosProtocolError));
  assert.match(invalid[1]!.message, /^LAUNCH event: launch\.task\.task_id: /);
  assert.equal(lost, false, "no reconnection, and without checkpointing no fatal end");
  assert.equal(client.state, "subscribed");
  assert.equal(agent.callsOf("SUBSCRIBE").length, 1);
});

test("garbage on the stream without checkpointing: fatal 'disconnected' with the cause", async (t) => {
  const { agent, client } = await startFixture(t, { env: { MESOS_CHECKPOINT: "0" } });
  await nextEvent(client, "subscribed");
  const fatal = nextEvent<[ExecutorDisconnectedError]>(client, "disconnected");
  await agent.stream!.sendRaw("99999999999999999999\n");
  const [err] = await fatal;
  assert.ok(err instanceof ExecutorDisconnectedError);
  assert.ok(err.cause instanceof RecordIOError);
  assert.equal((err.cause as RecordIOError).code, "RECORDIO_TOO_LARGE");
});

test("a stream whose first record is not SUBSCRIBED is dropped and retried", async (t) => {
  const { agent, client } = await startFixture(t, { agent: { autoSubscribed: false } });
  const stream = await agent.waitForStream(1);
  const retry = nextEvent<[ReconnectInfo]>(client, "reconnecting");
  await stream.send({ type: "HEARTBEAT" });
  const [info] = await retry;
  assert.ok(info.error instanceof MesosProtocolError);
  assert.match(String(info.error), /expected SUBSCRIBED/);
  const second = await agent.waitForStream(2);
  const subscribed = nextEvent(client, "subscribed");
  await second.send(agent.subscribedEvent());
  await subscribed;
});

test("a 4xx answer to SUBSCRIBE is fatal: MesosHttpError with the body text", async (t) => {
  const { agent, client } = await startFixture(t, { start: false });
  agent.forced.push({
    type: "SUBSCRIBE",
    status: 400,
    body: "Framework 'x' or executor 'y' is unknown",
  });
  const fatal = nextEvent<[MesosHttpError]>(client, "disconnected");
  client.start();
  const [err] = await fatal;
  assert.ok(err instanceof MesosHttpError);
  assert.equal(err.status, 400);
  assert.equal(err.body, "Framework 'x' or executor 'y' is unknown");
  assert.equal(err.code, "HTTP_400");
  assert.equal(client.state, "stopped");
});

test("5xx answers to SUBSCRIBE are retried with backoff", async (t) => {
  const { agent, client } = await startFixture(t, { start: false });
  agent.forced.push({ type: "SUBSCRIBE", status: 500, body: "internal", times: 2 });
  agent.unavailable = 2;
  const errors: unknown[] = [];
  client.on("reconnecting", (r) => errors.push(r.error));
  client.start();
  await nextEvent(client, "subscribed");
  assert.deepEqual(
    agent.callsOf("SUBSCRIBE").map((c) => c.status),
    [500, 500, 503, 503, 200],
  );
  assert.deepEqual(
    errors.map((e) => (e as MesosHttpError).status),
    [500, 500, 503, 503],
  );
});

test("the first subscription gives up after the registration window", async (t) => {
  const { agent, client } = await startFixture(t, {
    start: false,
    client: { registrationTimeoutMs: 200 },
  });
  agent.unavailable = Infinity;
  const fatal = nextEvent<[ExecutorRecoveryTimeoutError]>(client, "disconnected");
  client.start();
  const [err] = await fatal;
  assert.ok(err instanceof ExecutorRecoveryTimeoutError);
  assert.equal(err.timeoutMs, 200);
  // The last attempt either got its 503 or was cut off by the deadline.
  assert.ok(
    err.cause instanceof MesosHttpError || err.cause instanceof MesosTimeoutError,
    String(err.cause),
  );
  assert.ok(agent.callsOf("SUBSCRIBE").length >= 1);
  assert.ok(agent.callsOf("SUBSCRIBE").every((c) => c.status === 503));
});

test("Bearer authentication with MESOS_EXECUTOR_AUTHENTICATION_TOKEN on every call", async (t) => {
  const token = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl";
  const { agent, client } = await startFixture(t, {
    agent: { token },
    env: { MESOS_EXECUTOR_AUTHENTICATION_TOKEN: token },
  });
  await nextEvent(client, "subscribed");
  await client.heartbeat();
  await client.message("hi");
  assert.ok(agent.calls.every((c) => c.headers.authorization === `Bearer ${token}`));
  assert.ok(agent.calls.every((c) => c.status === 200 || c.status === 202));
});

test("a wrong token: 401 is fatal, the token is not in the error", async (t) => {
  const { client } = await startFixture(t, {
    agent: { token: "right-token" },
    env: { MESOS_EXECUTOR_AUTHENTICATION_TOKEN: "wrong-token-value" },
  });
  const [err] = await nextEvent<[MesosHttpError]>(client, "disconnected");
  assert.ok(err instanceof MesosHttpError);
  assert.equal(err.status, 401);
  assert.ok(!err.message.includes("wrong-token-value"));
});

test("a 200 answer that never sends SUBSCRIBED does not hold the client past its window", async (t) => {
  const { agent, client } = await startFixture(t, {
    agent: { autoSubscribed: false },
    client: { registrationTimeoutMs: 300 },
  });
  const [err] = await nextEvent<[ExecutorRecoveryTimeoutError]>(client, "disconnected");
  assert.ok(err instanceof ExecutorRecoveryTimeoutError);
  assert.ok(err.cause instanceof MesosTimeoutError, String(err.cause));
  assert.equal(agent.callsOf("SUBSCRIBE").length, 1);
});
