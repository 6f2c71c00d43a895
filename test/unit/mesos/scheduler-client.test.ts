import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  SchedulerClient,
  type SchedulerClientOptions,
} from "../../../src/mesos/scheduler/client.js";
import {
  FrameworkFailedOverError,
  FrameworkRemovedError,
  HeartbeatTimeoutError,
  MesosHttpError,
  MesosProtocolError,
  MesosTimeoutError,
  NotAMesosMasterError,
  NotSubscribedError,
  RecordIOError,
  SubscriptionRefusedError,
} from "../../../src/mesos/errors.js";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createDetector } from "../../../src/mesos/detector/index.js";
import { detectorSource } from "../../../src/mesos/scheduler/master-source.js";
import { loadCredential } from "../../../src/mesos/credentials.js";
import type { MesosLogger } from "../../../src/mesos/logger.js";
import type { Offer, TaskStatus } from "../../../src/mesos/types/index.js";
import { ScriptedMaster, subscribedEvent } from "../../support/scripted-master.js";
import { waitForEvent, withDeadline } from "../../support/wait.js";

const FID = "7c1e4f52-93ab-4d0e-8f6b-1a2b3c4d5e6f-0007";
const frameworkInfo = {
  user: "root",
  name: "test-scheduler",
  principal: "scaleio-fw",
  roles: ["scaleio"],
  checkpoint: true,
  failover_timeout: 604800,
  capabilities: [{ type: "MULTI_ROLE" as const }, { type: "PARTITION_AWARE" as const }],
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(extra: Partial<SchedulerClientOptions> = {}) {
  const master = await ScriptedMaster.start();
  const persisted: string[] = [];
  const client = new SchedulerClient({
    master: master.url,
    frameworkInfo,
    persistFrameworkId: async (id) => {
      persisted.push(id);
    },
    backoff: { initialMs: 5, maxMs: 20 },
    ...extra,
  });
  cleanups.push(async () => {
    await client.stop();
    await master.close();
  });
  return { master, client, persisted };
}

async function subscribe(master: ScriptedMaster, client: SchedulerClient, streamId = "stream-1") {
  const p = await master.next();
  const s = master.openStream(p, streamId);
  const subscribed = waitForEvent(client, "subscribed");
  s.send([subscribedEvent(FID, 15), { type: "HEARTBEAT" }]);
  await subscribed;
  return { p, s };
}

test("first SUBSCRIBE has no stream id and no framework id; the id is persisted before anyone hears of it; calls echo the stream id on another connection", async () => {
  const { master, client, persisted } = await setup();
  const order: string[] = [];
  client.on("subscribed", (info) =>
    order.push(`subscribed:${info.frameworkId}:${persisted.length}`),
  );
  client.start();
  const p = await master.next();
  assert.equal(p.req.method, "POST");
  assert.equal(p.req.url, "/api/v1/scheduler");
  assert.equal(p.headers["content-type"], "application/json");
  assert.equal(p.headers["accept"], "application/json");
  assert.equal(p.headers["mesos-stream-id"], undefined);
  assert.equal(p.json.framework_id, undefined);
  const sub = p.json.subscribe as { framework_info: Record<string, unknown> };
  assert.equal(sub.framework_info.id, undefined);
  assert.deepEqual(sub.framework_info.roles, ["scaleio"]);
  assert.equal(sub.framework_info.checkpoint, true);

  const s = master.openStream(p, "e2b9d1c4-stream");
  const subscribed = waitForEvent(client, "subscribed");
  // Cut inside the length digits of the first record and right after its newline.
  s.send([subscribedEvent(FID), { type: "HEARTBEAT" }], [1, 2, 4, 60]);
  const [info] = (await subscribed) as [
    { frameworkId: string; streamId: string; resubscribed: boolean },
  ];
  assert.equal(info.frameworkId, FID);
  assert.equal(info.streamId, "e2b9d1c4-stream");
  assert.equal(info.resubscribed, false);
  assert.deepEqual(persisted, [FID]);
  assert.deepEqual(order, [`subscribed:${FID}:1`]);

  await client.decline(["offer-1"], { refuse_seconds: 30 });
  const call = master.calls.at(-1)!;
  assert.equal(call.headers["mesos-stream-id"], "e2b9d1c4-stream");
  assert.deepEqual(call.json.framework_id, { value: FID });
  assert.deepEqual(call.json.decline, {
    offer_ids: [{ value: "offer-1" }],
    filters: { refuse_seconds: 30 },
  });
  assert.notEqual(call.socket, p.socket, "calls must not use the subscription connection");
});

test("every event type is dispatched; unknown types are ignored; 64-bit nanoseconds survive; multibyte text split across chunks", async () => {
  const { master, client } = await setup();
  client.start();
  const { s } = await subscribe(master, client);
  const got: Record<string, unknown[]> = {};
  const rec =
    (name: string) =>
    (...args: unknown[]) =>
      (got[name] ??= []).push(args[0]);
  for (const n of [
    "offers",
    "inverseOffers",
    "rescind",
    "rescindInverseOffer",
    "update",
    "operationStatus",
    "message",
    "failure",
    "heartbeat",
    "unknownEvent",
  ] as const) {
    client.on(n, rec(n));
  }
  const offer = `{"type":"OFFERS","offers":{"offers":[{"id":{"value":"o1"},"framework_id":{"value":"${FID}"},"agent_id":{"value":"a1"},"hostname":"node-a","allocation_info":{"role":"scaleio"},"unavailability":{"start":{"nanoseconds":1735689600000000123},"duration":{"nanoseconds":7200000000000}}}]}}`;
  const events = [
    offer,
    {
      type: "INVERSE_OFFERS",
      inverse_offers: {
        inverse_offers: [
          {
            id: { value: "io1" },
            framework_id: { value: FID },
            unavailability: { start: { nanoseconds: 1 } },
          },
        ],
      },
    },
    { type: "RESCIND", rescind: { offer_id: { value: "o1" } } },
    {
      type: "RESCIND_INVERSE_OFFER",
      rescind_inverse_offer: { inverse_offer_id: { value: "io1" } },
    },
    {
      type: "UPDATE",
      update: {
        status: {
          task_id: { value: "t1" },
          state: "TASK_RUNNING",
          message: "prêt à démarrer",
          uuid: "mz5afCHQT26KGyw9Tl9gcQ==",
          agent_id: { value: "a1" },
        },
      },
    },
    {
      type: "UPDATE_OPERATION_STATUS",
      update_operation_status: {
        status: { operation_id: { value: "op1" }, state: "OPERATION_FINISHED" },
      },
    },
    {
      type: "MESSAGE",
      message: { agent_id: { value: "a1" }, executor_id: { value: "e1" }, data: "aGk=" },
    },
    {
      type: "FAILURE",
      failure: { agent_id: { value: "a1" }, executor_id: { value: "e1" }, status: 256 },
    },
    { type: "SOMETHING_MESOS_2_0_ADDS", something_mesos_2_0_adds: { x: 1 } },
    { type: "HEARTBEAT" },
  ];
  const done = waitForEvent(client, "heartbeat", { filter: () => (got.failure?.length ?? 0) > 0 });
  // Find the byte offset of the "ê" in the update and cut through the middle of it.
  const wire = Buffer.concat(
    events.map((e) => Buffer.from(typeof e === "string" ? e : JSON.stringify(e))),
  );
  const multibyte = wire.indexOf(Buffer.from("ê")) + 1 + 5 * String(wire.length).length;
  s.send(events, [3, multibyte, multibyte + 1]);
  await done;
  const o = (got.offers![0] as Offer[])[0]!;
  assert.equal(o.unavailability!.start.nanoseconds, 1735689600000000123n);
  assert.equal(o.unavailability!.duration!.nanoseconds, 7200000000000);
  assert.equal((got.update![0] as TaskStatus).message, "prêt à démarrer");
  assert.deepEqual(got.rescind, [{ value: "o1" }]);
  assert.deepEqual(got.rescindInverseOffer, [{ value: "io1" }]);
  assert.equal((got.inverseOffers![0] as unknown[]).length, 1);
  assert.equal((got.operationStatus![0] as { state: string }).state, "OPERATION_FINISHED");
  assert.equal((got.message![0] as { data: string }).data, "aGk=");
  assert.equal((got.failure![0] as { status: number }).status, 256);
  assert.deepEqual(got.unknownEvent, ["SOMETHING_MESOS_2_0_ADDS"]);
  assert.equal(client.state, "subscribed", "an unknown event must not disturb the stream");
});

test("307 with a scheme-relative Location: the same body is re-POSTed to the leader, and calls follow", async () => {
  const leader = await ScriptedMaster.start();
  const { master: follower, client } = await setup();
  cleanups.push(() => leader.close());
  client.start();
  const first = await follower.next();
  const port = new URL(leader.url).port;
  first.res.writeHead(307, { Location: `//127.0.0.1:${port}/api/v1/scheduler` }).end();
  const second = await leader.next();
  assert.equal(second.body, first.body);
  const s = leader.openStream(second, "s-leader");
  const subscribed = waitForEvent<[{ masterUrl: string }]>(client, "subscribed");
  s.send([subscribedEvent(FID)]);
  const [info] = await subscribed;
  assert.equal(info.masterUrl, leader.url);
  await client.revive(["scaleio"]);
  assert.equal(leader.calls.at(-1)!.json.type, "REVIVE");
  assert.equal(follower.calls.length, 0);
});

test("503 (no leader yet) is retried with backoff until the master recovers", async () => {
  const { master, client } = await setup();
  const disconnects: (Error | undefined)[] = [];
  client.on("disconnected", (d) => disconnects.push(d.error));
  client.start();
  (await master.next()).res.writeHead(503).end("No leader elected");
  (await master.next()).res.writeHead(503).end("Master has not finished recovery");
  await subscribe(master, client);
  assert.equal(disconnects.length, 2);
  assert.ok(disconnects.every((e) => e instanceof MesosHttpError && e.status === 503));
  assert.match(disconnects[0]!.message, /No leader elected/);
});

test("heartbeats that stop: the watchdog closes the stream and the client resubscribes with its framework id and then uses the new stream id", async () => {
  const { master, client, persisted } = await setup({ heartbeatMisses: 3 });
  client.start();
  const p = await master.next();
  const s = master.openStream(p, "stream-1");
  const subscribed = waitForEvent(client, "subscribed");
  s.send([subscribedEvent(FID, 0.05), { type: "HEARTBEAT" }]);
  await subscribed;
  const [d] = await waitForEvent<[{ error: Error }]>(client, "disconnected", { timeoutMs: 3000 });
  assert.ok(d.error instanceof HeartbeatTimeoutError, String(d.error));
  const again = await master.next();
  assert.deepEqual(again.json.framework_id, { value: FID });
  assert.deepEqual(
    (again.json.subscribe as { framework_info: { id: unknown } }).framework_info.id,
    { value: FID },
  );
  assert.equal(again.headers["mesos-stream-id"], undefined);
  const s2 = master.openStream(again, "stream-2");
  const resub = waitForEvent<[{ resubscribed: boolean }]>(client, "subscribed");
  s2.send([subscribedEvent(FID, 15)]);
  assert.equal((await resub)[0].resubscribed, true);
  await client.kill("task-1", "agent-1");
  assert.equal(master.calls.at(-1)!.headers["mesos-stream-id"], "stream-2");
  assert.deepEqual(persisted, [FID], "the id is persisted once, not on every resubscription");
});

test("a stream that ends is resubscribed; held state is announced as disconnected", async () => {
  const { master, client } = await setup();
  client.start();
  const { s } = await subscribe(master, client);
  const disc = waitForEvent<[{ error: Error }]>(client, "disconnected");
  s.end();
  assert.match((await disc)[0].error.message, /closed the event stream/);
  await assert.rejects(client.decline(["o"]), NotSubscribedError);
  const again = await master.next();
  assert.deepEqual(again.json.framework_id, { value: FID });
});

test("ERROR 'Framework failed over' stops the client for good: it does not fight the newer instance", async () => {
  const { master, client } = await setup();
  client.start();
  const { s } = await subscribe(master, client);
  const fatal = waitForEvent<[Error]>(client, "fatal");
  s.send([{ type: "ERROR", error: { message: "Framework failed over" } }]);
  const [err] = await fatal;
  assert.ok(err instanceof FrameworkFailedOverError);
  await withDeadline(client.closed(), 2000, "client loop to end");
  assert.equal(client.state, "stopped");
  assert.equal(master.subscribes.length, 1);
});

test("ERROR 'Framework has been removed' is surfaced as FrameworkRemovedError", async () => {
  const { master, client } = await setup({ frameworkId: FID });
  client.start();
  const p = await master.next();
  assert.deepEqual(p.json.framework_id, { value: FID });
  const fatal = waitForEvent<[Error]>(client, "fatal");
  master.openStream(p).send([{ type: "ERROR", error: { message: "Framework has been removed" } }]);
  assert.ok((await fatal)[0] instanceof FrameworkRemovedError);
});

test("a subscription refused with 400 is fatal and says why", async () => {
  const { master, client } = await setup();
  client.start();
  const fatal = waitForEvent<[Error]>(client, "fatal");
  (await master.next()).res
    .writeHead(400)
    .end(
      "Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info.user",
    );
  const [err] = await fatal;
  assert.ok(err instanceof SubscriptionRefusedError);
  assert.match(err.message, /framework_info\.user/);
});

test("a wrong stream id answered 400 is a typed error carrying Mesos' message", async () => {
  const { master, client } = await setup();
  client.start();
  await subscribe(master, client, "mine");
  master.currentStreamId = "someone-else";
  await assert.rejects(
    client.suppress(),
    (e: unknown) =>
      e instanceof MesosHttpError && e.status === 400 && /didn't match/.test(e.message),
  );
  assert.equal(client.state, "subscribed");
});

test("403 on a call (master thinks we are gone) drops the subscription and resubscribes", async () => {
  const { master, client } = await setup();
  client.start();
  await subscribe(master, client);
  master.holdCalls = true;
  const call = client.reconcile([]);
  const held = await master.next("RECONCILE");
  held.res.writeHead(403).end("Framework is not subscribed");
  await assert.rejects(call, (e: unknown) => e instanceof MesosHttpError && e.status === 403);
  const again = await master.next();
  assert.deepEqual(again.json.framework_id, { value: FID });
});

test("every call has a timeout", async () => {
  const { master, client } = await setup({ callTimeoutMs: 200 });
  client.start();
  await subscribe(master, client);
  master.holdCalls = true;
  await assert.rejects(client.reconcile([{ taskId: "t1", agentId: "a1" }]), MesosTimeoutError);
});

test("bad bytes on the stream: typed errors, reconnection, no crash", async () => {
  const { master, client } = await setup();
  const errors: Error[] = [];
  client.on("disconnected", (d) => errors.push(d.error!));
  client.start();
  // 1. Garbage where a length should be.
  master.openStream(await master.next()).raw("hello mesos");
  // 2. A 10 GB length header.
  master.openStream(await master.next()).raw("10737418240\n");
  // 3. A truncated record, then the stream ends.
  const s3 = master.openStream(await master.next());
  s3.raw('50\n{"type":"SUBSCR');
  s3.end();
  // 4. A record that is not JSON.
  master.openStream(await master.next()).send(["{not json"]);
  // 5. A stream whose first event is not SUBSCRIBED.
  master.openStream(await master.next()).send([{ type: "HEARTBEAT" }]);
  // 6. Finally a good subscription.
  await subscribe(master, client);
  const codes = errors.map((e) => (e as { code?: string }).code);
  assert.deepEqual(codes, [
    "RECORDIO_BAD_HEADER",
    "RECORDIO_TOO_LARGE",
    "RECORDIO_TRUNCATED",
    "PROTOCOL",
    "PROTOCOL",
  ]);
  assert.ok(errors[0] instanceof RecordIOError);
  assert.ok(errors[3] instanceof MesosProtocolError);
});

test("unexpected status codes: 5xx is retried, other 4xx stop with a clear error", async () => {
  const { master, client } = await setup();
  client.start();
  (await master.next()).res.writeHead(500).end("boom");
  const fatal = waitForEvent<[Error]>(client, "fatal");
  (await master.next()).res.writeHead(418).end("I'm a teapot");
  const [err] = await fatal;
  assert.ok(err instanceof SubscriptionRefusedError);
  assert.match(err.message, /418/);
});

test("HTTP Basic authentication on every request; the secret never reaches a log line or a string form", async () => {
  const secret = "s3cr3t-t0ken-value";
  const credential = loadCredential({
    principal: "scaleio-fw",
    secretEnv: "TEST_MESOS_SECRET",
    env: { TEST_MESOS_SECRET: secret },
  });
  const lines: string[] = [];
  const capture = (obj: object, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? ""));
  const logger: MesosLogger = { debug: capture, info: capture, warn: capture, error: capture };
  const { master, client } = await setup({ credential, logger });
  client.start();
  const first = await master.next();
  const expected = `Basic ${Buffer.from(`scaleio-fw:${secret}`).toString("base64")}`;
  assert.equal(first.headers.authorization, expected);
  first.res.writeHead(401, { "WWW-Authenticate": 'Basic realm="mesos-master-scheduler"' }).end();
  await waitForEvent(client, "fatal");
  assert.ok(lines.length > 0);
  for (const text of [
    ...lines,
    JSON.stringify(credential),
    inspect(credential),
    String(credential),
    inspect(client, { depth: 5 }),
  ]) {
    assert.ok(!text.includes(secret), `secret leaked in: ${text.slice(0, 200)}`);
    assert.ok(
      !text.includes(Buffer.from(`scaleio-fw:${secret}`).toString("base64")),
      "encoded secret leaked",
    );
  }
});

test("if persisting the framework id fails, nothing acts on it; the next subscription carries it and persists it", async () => {
  let fail = true;
  const persisted: string[] = [];
  const { master, client } = await setup({
    persistFrameworkId: async (id) => {
      if (fail) throw new Error("disk full");
      persisted.push(id);
    },
  });
  let subscribedCount = 0;
  client.on("subscribed", () => subscribedCount++);
  client.start();
  const disc = waitForEvent<[{ error: Error }]>(client, "disconnected");
  master.openStream(await master.next()).send([subscribedEvent(FID)]);
  assert.match((await disc)[0].error.message, /disk full/);
  assert.equal(subscribedCount, 0);
  fail = false;
  const again = await master.next();
  assert.deepEqual(again.json.framework_id, { value: FID });
  const sub = waitForEvent(client, "subscribed");
  master.openStream(again).send([subscribedEvent(FID)]);
  await sub;
  assert.deepEqual(persisted, [FID]);
});

test("stop() closes the stream and ends the loop", async () => {
  const { master, client } = await setup();
  client.start();
  const { p } = await subscribe(master, client);
  const closed = new Promise((r) => p.res.on("close", r));
  await client.stop();
  await withDeadline(closed, 2000, "server to see the stream closed");
  assert.equal(client.state, "stopped");
  await assert.rejects(client.decline(["o"]), NotSubscribedError);
});

/** A subscribed client and an update of task t1 on agent a1 to acknowledge. */
async function subscribedWithUpdate(state: TaskStatus["state"]) {
  const { master, client } = await setup();
  client.start();
  await subscribe(master, client);
  const status: TaskStatus = {
    task_id: { value: "t1" },
    agent_id: { value: "a1" },
    state,
    uuid: "mz5afCHQT26KGyw9Tl9gcQ==",
  };
  return { master, client, status };
}

test("acknowledge echoes the uuid unchanged and refuses updates without one", async () => {
  const { master, client, status } = await subscribedWithUpdate("TASK_RUNNING");
  await client.acknowledge(status);
  assert.deepEqual(master.calls.at(-1)!.json.acknowledge, {
    agent_id: { value: "a1" },
    task_id: { value: "t1" },
    uuid: "mz5afCHQT26KGyw9Tl9gcQ==",
  });
  assert.equal(await client.acknowledgeIfNeeded({ ...status, uuid: undefined }), false);
  assert.throws(() => client.acknowledge({ ...status, uuid: undefined }), MesosProtocolError);
});

test("a resent update is not acknowledged again while its acknowledgement is on its way", async () => {
  const { master, client, status } = await subscribedWithUpdate("TASK_FINISHED");
  master.holdCalls = true;
  const first = client.acknowledgeIfNeeded(status);
  const held = await master.next("ACKNOWLEDGE");
  assert.equal(held.json.type, "ACKNOWLEDGE");
  assert.equal(await client.acknowledgeIfNeeded({ ...status }), false, "copy while in flight");
  const other = client.acknowledgeIfNeeded({ ...status, uuid: "AAAAAAAAAAAAAAAAAAAAAA==" });
  const second = await master.next("ACKNOWLEDGE");
  assert.equal((second.json.acknowledge as { uuid: string }).uuid, "AAAAAAAAAAAAAAAAAAAAAA==");
  held.res.writeHead(202).end();
  second.res.writeHead(202).end();
  assert.equal(await first, true);
  assert.equal(await other, true);
  // Once answered, a later copy (the answer got lost, the agent resent) is acknowledged again.
  master.holdCalls = false;
  assert.equal(await client.acknowledgeIfNeeded({ ...status }), true);
});

test("malformed but well-framed events are skipped with a protocol error naming their type; the stream carries on", async () => {
  const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
  const capture = (obj: object, msg?: string) =>
    lines.push({ obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) });
  const logger: MesosLogger = { debug: capture, info: capture, warn: capture, error: capture };
  const { master, client } = await setup({ logger });
  client.start();
  const { s } = await subscribe(master, client);
  const invalid: string[] = [];
  const events: string[] = [];
  const offers: Offer[][] = [];
  const updates: TaskStatus[] = [];
  client.on("invalidEvent", (e) => invalid.push(`${e.eventType}: ${e.problem}`));
  client.on("event", (e) => events.push(e.type));
  client.on("offers", (o) => offers.push(o));
  client.on("update", (u) => updates.push(u));
  const offer = (id: string, agent?: string) => ({
    id: { value: id },
    framework_id: { value: FID },
    ...(agent ? { agent_id: { value: agent } } : {}),
    hostname: "node-a",
  });
  const done = waitForEvent(client, "heartbeat");
  s.send([
    { type: "OFFERS", offers: { offers: "not an array" } },
    { type: "OFFERS", offers: { offers: [offer("o1")] } },
    { type: "UPDATE", update: {} },
    {
      type: "UPDATE",
      update: { status: { task_id: { value: "t1" }, state: "TASK_RUNNING", uuid: "bad" } },
    },
    { type: "RESCIND", rescind: {} },
    { type: "MESSAGE", message: { agent_id: { value: "a1" } } },
    { type: "ERROR", error: { text: "no message field" } },
    // A batch with one bad offer: the good ones are still handed on.
    { type: "OFFERS", offers: { offers: [offer("o2", "a2"), offer("o3"), offer("o4", "a4")] } },
    { type: "HEARTBEAT" },
  ]);
  await done;
  assert.deepEqual(
    invalid.map((l) => l.split(":")[0]),
    ["OFFERS", "OFFERS", "UPDATE", "UPDATE", "RESCIND", "MESSAGE", "ERROR"],
  );
  assert.match(invalid[0]!, /^OFFERS: offers\.offers: /);
  assert.match(invalid[2]!, /^UPDATE: update\.status: /);
  assert.deepEqual(events, ["OFFERS", "HEARTBEAT"]);
  assert.deepEqual(
    offers.map((batch) => batch.map((o) => o.id.value)),
    [["o2", "o4"]],
  );
  assert.deepEqual(updates, []);
  const skipped = lines.filter((l) => l.msg === "invalid mesos event skipped");
  assert.equal(skipped.length, 7);
  assert.equal(skipped[0]!.obj.event, "OFFERS");
  assert.ok(lines.some((l) => l.msg === "invalid offers left out of a mesos event"));
  assert.equal(client.state, "subscribed");
  assert.equal(master.subscribes.length, 1, "no resubscription");
});

test("a master URL answering 404 on the scheduler API is not a Mesos master: fatal at once, one clear message", async () => {
  const { master, client } = await setup();
  client.start();
  const fatal = waitForEvent<[Error]>(client, "fatal");
  (await master.next()).res
    .writeHead(404, { "Content-Type": "text/html" })
    .end(`<html><head><title>404 Not Found</title></head><body>${"x".repeat(5000)}</body></html>`);
  const [err] = await fatal;
  assert.ok(err instanceof NotAMesosMasterError);
  assert.equal(err.code, "NOT_A_MESOS_MASTER");
  assert.equal(err.message, `${master.url} is not a Mesos master: HTTP 404 on /api/v1/scheduler`);
  await withDeadline(client.closed(), 2000, "client loop to end");
  assert.equal(master.subscribes.length, 1, "not retried");
});

test("a 200 answer to SUBSCRIBE without a stream id (a web server answering any path) is not a Mesos master", async () => {
  const { master, client } = await setup();
  client.start();
  const fatal = waitForEvent<[Error]>(client, "fatal");
  (await master.next()).res
    .writeHead(200, { "Content-Type": "text/html" })
    .end("<html>hello</html>");
  const [err] = await fatal;
  assert.ok(err instanceof NotAMesosMasterError);
  assert.match(err.message, /^http:\/\/127\.0\.0\.1:\d+ is not a Mesos master: .*Mesos-Stream-Id/);
});

test("an HTML error page is cut to its title in errors and log lines", async () => {
  const lines: string[] = [];
  const capture = (obj: object, msg?: string) => lines.push(`${msg} ${JSON.stringify(obj)}`);
  const logger: MesosLogger = { debug: capture, info: capture, warn: capture, error: capture };
  const { master, client } = await setup({ logger });
  const errors: Error[] = [];
  client.on("disconnected", (d) => errors.push(d.error!));
  client.start();
  const page = `<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>${"<p>the proxy is sad</p>".repeat(400)}</body></html>`;
  (await master.next()).res.writeHead(503, { "Content-Type": "text/html" }).end(page);
  await subscribe(master, client);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /HTTP 503: 503 Service Unavailable$/);
  for (const line of lines) {
    assert.ok(!line.includes("<html") && !line.includes("proxy is sad"), line.slice(0, 300));
  }
});

test("while no leading master is known: a line after the first wait, then one per interval, with the source's problem", async () => {
  const lines: { obj: Record<string, unknown>; msg?: string; at: number }[] = [];
  const capture = (obj: object, msg?: string) =>
    lines.push({ obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}), at: Date.now() });
  const logger: MesosLogger = { debug: capture, info: capture, warn: capture, error: capture };
  const source = {
    label: "zk://zk1:2181/mesos",
    leader: (signal: AbortSignal) =>
      new Promise<string>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }),
      ),
    problem: () => "cannot connect to ZooKeeper (zk://zk1:2181/mesos) within 10000 ms; retrying",
  };
  const client = new SchedulerClient({
    master: source,
    frameworkInfo,
    persistFrameworkId: () => {},
    leaderNotice: { afterMs: 100, everyMs: 300 },
    logger,
  });
  cleanups.push(() => client.stop());
  const started = Date.now();
  client.start();
  const notices = () =>
    lines.filter((l) => l.msg === "no leading Mesos master known yet; still looking");
  const waitFor = (n: number) =>
    withDeadline(
      new Promise<void>((resolve) => {
        const check = () => (notices().length >= n ? resolve() : setTimeout(check, 10));
        check();
      }),
      5000,
      `${n} notices`,
    );
  await waitFor(3);
  const [a, b, c] = notices();
  assert.ok(a!.at - started >= 90, "not before the first wait");
  assert.ok(b!.at - a!.at >= 280 && c!.at - b!.at >= 280, "at most one line per interval");
  assert.equal(a!.obj.master, "zk://zk1:2181/mesos");
  assert.match(String(a!.obj.problem), /cannot connect to ZooKeeper/);
});

test("zk:// with no ZooKeeper reachable: a log line within 2 s", { timeout: 15_000 }, async () => {
  // A port on loopback that nothing listens on.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
  const capture = (obj: object, msg?: string) =>
    lines.push({ obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) });
  const logger: MesosLogger = { debug: capture, info: capture, warn: capture, error: capture };
  const zk = `zk://127.0.0.1:${port}/mesos`;
  const source = detectorSource(createDetector(zk), zk);
  const client = new SchedulerClient({
    master: source,
    frameworkInfo,
    persistFrameworkId: () => {},
    logger,
  });
  cleanups.push(async () => {
    await client.stop();
    await source.close();
  });
  const started = Date.now();
  client.start();
  await withDeadline(
    new Promise<void>((resolve) => {
      const check = () => (lines.length > 0 ? resolve() : setTimeout(check, 20));
      check();
    }),
    2500,
    "a log line",
  );
  assert.ok(Date.now() - started <= 2300, `first line after ${Date.now() - started} ms`);
  assert.equal(lines[0]!.msg, "no leading Mesos master known yet; still looking");
  assert.equal(lines[0]!.obj.master, zk);
});

test("beforeSubscribe: nothing is sent while it refuses (retried with backoff); once it agrees, the client subscribes", async () => {
  let refusals = 2;
  const { master, client } = await setup({
    beforeSubscribe: async () => {
      if (refusals-- > 0) throw new Error("not the leader yet");
    },
  });
  const disconnects: (Error | undefined)[] = [];
  client.on("disconnected", (d) => disconnects.push(d.error));
  client.start();
  await subscribe(master, client);
  assert.equal(disconnects.length, 2, "two refused attempts, each a failed attempt");
  assert.ok(disconnects.every((e) => /not the leader yet/.test(e?.message ?? "")));
  assert.equal(master.subscribes.length, 1, "a single SUBSCRIBE reached the master");
});
