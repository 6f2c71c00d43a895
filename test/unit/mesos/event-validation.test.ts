// The checks of the events the framework consumes: a malformed event of a known type is one
// InvalidEventError naming its type and the first bad field; a batch of offers loses only
// its bad offers; fields nobody reads are not checked; what is handed on is the decoded
// object itself. And bodies of error answers are cut for log lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkExecutorEvent, checkSchedulerEvent } from "../../../src/mesos/validation.js";
import { decodeSchedulerEvent } from "../../../src/mesos/scheduler/events.js";
import {
  InvalidEventError,
  MesosHttpError,
  MesosProtocolError,
  bodyExcerpt,
} from "../../../src/mesos/errors.js";

type Raw = { type: string } & Record<string, unknown>;

const goodOffer = (id: string, agent = `agent-${id}`) => ({
  id: { value: id },
  framework_id: { value: "fw" },
  agent_id: { value: agent },
  hostname: `${agent}.example.net`,
  url: { scheme: "http", address: { hostname: "h", ip: "10.0.0.1", port: 5051 } },
  domain: { fault_domain: { region: { name: "r1" }, zone: { name: "z1" } } },
  resources: [
    { name: "cpus", type: "SCALAR", scalar: { value: 4 }, allocation_info: { role: "r" } },
    {
      name: "mem",
      type: "SCALAR",
      scalar: { value: 512 },
      reservations: [
        { type: "DYNAMIC", role: "r", labels: { labels: [{ key: "k", value: "v" }] } },
      ],
    },
    { name: "ports", type: "RANGES", ranges: { range: [{ begin: 31000, end: 32000 }] } },
  ],
  attributes: [
    { name: "rack", type: "TEXT", text: { value: "r1" } },
    { name: "disks", type: "SET", set: { item: ["sdb"] } },
  ],
  executor_ids: [{ value: "scaleio-x" }],
  unavailability: { start: { nanoseconds: 1735689600000000123n } },
  a_field_from_mesos_2: { anything: true },
});

const UUID = "mz5afCHQT26KGyw9Tl9gcQ==";

function rejects(raw: Raw, type: string, where: RegExp): InvalidEventError {
  try {
    checkSchedulerEvent(raw);
  } catch (err) {
    assert.ok(err instanceof InvalidEventError, `not an InvalidEventError: ${String(err)}`);
    assert.ok(err instanceof MesosProtocolError);
    assert.equal(err.eventType, type);
    assert.match(err.problem, where);
    assert.equal(err.message, `${type} event: ${err.problem}`);
    return err;
  }
  assert.fail(
    `${JSON.stringify(raw, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))} was accepted`,
  );
}

test("valid events pass untouched: the same object, unknown fields and 64-bit values kept", () => {
  const raw = { type: "OFFERS", offers: { offers: [goodOffer("o1"), goodOffer("o2")] } };
  const { event, dropped } = checkSchedulerEvent(raw);
  assert.equal(event, raw);
  assert.deepEqual(dropped, []);
  for (const ok of [
    { type: "HEARTBEAT" },
    { type: "OFFERS", offers: {} },
    {
      type: "SUBSCRIBED",
      subscribed: { framework_id: { value: "f" }, heartbeat_interval_seconds: 15 },
    },
    {
      type: "UPDATE",
      update: {
        status: {
          task_id: { value: "t" },
          state: "TASK_FINISHED",
          uuid: UUID,
          agent_id: { value: "a" },
          source: "SOURCE_EXECUTOR",
          data: "eyJvayI6dHJ1ZX0=",
          timestamp: 1.7e9,
          labels: { labels: [] },
        },
      },
    },
    { type: "UPDATE", update: { status: { task_id: { value: "t" }, state: "TASK_LOST" } } },
    { type: "RESCIND", rescind: { offer_id: { value: "o1" } } },
    {
      type: "MESSAGE",
      message: { agent_id: { value: "a" }, executor_id: { value: "e" }, data: "aGk=" },
    },
    { type: "FAILURE", failure: { agent_id: { value: "a" } } },
    { type: "ERROR", error: { message: "Framework has been removed" } },
    {
      type: "UPDATE_OPERATION_STATUS",
      update_operation_status: { status: { state: "OPERATION_FINISHED" } },
    },
  ]) {
    assert.equal(checkSchedulerEvent(ok).event, ok, ok.type);
  }
});

test("malformed events of each type are InvalidEventErrors naming the type and the field", () => {
  rejects({ type: "OFFERS", offers: { offers: "x" } }, "OFFERS", /^offers\.offers: /);
  rejects({ type: "OFFERS" }, "OFFERS", /^offers: /);
  rejects({ type: "OFFERS", offers: [] }, "OFFERS", /^offers: /);
  rejects({ type: "UPDATE", update: {} }, "UPDATE", /^update\.status: /);
  rejects(
    { type: "UPDATE", update: { status: { task_id: {}, state: "TASK_RUNNING" } } },
    "UPDATE",
    /^update\.status\.task_id\.value: /,
  );
  rejects(
    { type: "UPDATE", update: { status: { task_id: { value: "t" }, state: 7 } } },
    "UPDATE",
    /^update\.status\.state: /,
  );
  rejects(
    {
      type: "UPDATE",
      update: { status: { task_id: { value: "t" }, state: "TASK_RUNNING", uuid: "short" } },
    },
    "UPDATE",
    /^update\.status\.uuid: .*16 bytes/,
  );
  rejects(
    {
      type: "UPDATE",
      update: { status: { task_id: { value: "t" }, state: "TASK_RUNNING", uuid: UUID } },
    },
    "UPDATE",
    /^update\.status\.agent_id: .*agent/,
  );
  rejects({ type: "SUBSCRIBED", subscribed: {} }, "SUBSCRIBED", /^subscribed\.framework_id: /);
  rejects({ type: "RESCIND", rescind: { offer_id: "o1" } }, "RESCIND", /^rescind\.offer_id: /);
  rejects(
    { type: "MESSAGE", message: { agent_id: { value: "a" }, executor_id: { value: "e" } } },
    "MESSAGE",
    /^message\.data: /,
  );
  rejects({ type: "FAILURE", failure: { agent_id: 3 } }, "FAILURE", /^failure\.agent_id: /);
  rejects({ type: "ERROR", error: {} }, "ERROR", /^error\.message: /);
});

test("a batch of offers loses only its bad offers, each reported; all bad is an invalid event", () => {
  const noAgent = { ...goodOffer("o2"), agent_id: undefined };
  const badResource = goodOffer("o3");
  (badResource.resources[0] as { scalar: unknown }).scalar = { value: "4" };
  const badDomain = { ...goodOffer("o4"), domain: { fault_domain: { region: { name: "r" } } } };
  const raw = {
    type: "OFFERS",
    offers: { offers: [goodOffer("o1"), noAgent, badResource, badDomain, goodOffer("o5")] },
  };
  const { event, dropped } = checkSchedulerEvent(raw);
  assert.notEqual(event, raw);
  const offers = (event as { offers: { offers: { id: { value: string } }[] } }).offers.offers;
  assert.deepEqual(
    offers.map((o) => o.id.value),
    ["o1", "o5"],
  );
  assert.equal(offers[0], raw.offers.offers[0], "kept offers are the decoded objects");
  assert.equal(dropped.length, 3);
  assert.match(dropped[0]!, /^offers\.offers\[1\]\.agent_id: /);
  assert.match(dropped[1]!, /^offers\.offers\[2\]\.resources\[0\]\.scalar\.value: /);
  assert.match(dropped[2]!, /^offers\.offers\[3\]\.domain\.fault_domain\.zone: /);
  assert.deepEqual(raw.offers.offers.length, 5, "the decoded event is not changed");
  rejects(
    { type: "OFFERS", offers: { offers: [noAgent, 42] } },
    "OFFERS",
    /^offers\.offers\[0\]\.agent_id: .*\(and 1 more\)$/,
  );
});

test("decodeSchedulerEvent: unknown types pass as unknown, known ones are checked", () => {
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const unknown = decodeSchedulerEvent(enc({ type: "NEW_IN_MESOS_2", x: 1 }));
  assert.equal(unknown.known, false);
  assert.throws(() => decodeSchedulerEvent(enc({ type: "UPDATE", update: {} })), InvalidEventError);
  assert.throws(
    () => decodeSchedulerEvent(new TextEncoder().encode("{nope")),
    (e: unknown) => e instanceof MesosProtocolError && !(e instanceof InvalidEventError),
  );
});

test("executor events: what the executor reads is checked, the rest passes", () => {
  const task = {
    task_id: { value: "t1" },
    data: "e30=",
    kill_policy: { grace_period: { nanoseconds: 5e9 } },
  };
  for (const ok of [
    {
      type: "SUBSCRIBED",
      subscribed: { framework_info: { capabilities: [{ type: "TASK_KILLING_STATE" }] } },
    },
    { type: "LAUNCH", launch: { task } },
    { type: "LAUNCH_GROUP", launch_group: { task_group: { tasks: [task, task] } } },
    { type: "KILL", kill: { task_id: { value: "t1" } } },
    { type: "ACKNOWLEDGED", acknowledged: { task_id: { value: "t1" }, uuid: UUID } },
    { type: "MESSAGE", message: { data: "aGk=" } },
    { type: "SHUTDOWN" },
    { type: "HEARTBEAT" },
  ]) {
    assert.equal(checkExecutorEvent(ok), ok, ok.type);
  }
  for (const [bad, where] of [
    [{ type: "LAUNCH", launch: {} }, /^launch\.task: /],
    [{ type: "LAUNCH", launch: { task: { ...task, data: 5 } } }, /^launch\.task\.data: /],
    [
      { type: "LAUNCH_GROUP", launch_group: { task_group: { tasks: [] } } },
      /^launch_group\.task_group\.tasks: /,
    ],
    [{ type: "KILL", kill: { task_id: { value: "" } } }, /^kill\.task_id\.value: /],
    [
      {
        type: "KILL",
        kill: { task_id: { value: "t" }, kill_policy: { grace_period: { nanoseconds: "5" } } },
      },
      /^kill\.kill_policy\.grace_period\.nanoseconds: /,
    ],
    [{ type: "SUBSCRIBED", subscribed: {} }, /^subscribed\.framework_info: /],
  ] as [Raw, RegExp][]) {
    assert.throws(
      () => checkExecutorEvent(bad),
      (e: unknown) =>
        e instanceof InvalidEventError && e.eventType === bad.type && where.test(e.problem),
      JSON.stringify(bad),
    );
  }
});

test("an HTML error page never reaches a message whole: its title, at most 200 characters", () => {
  const page = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head><body><h1>Bad Gateway</h1>${"<p>filler</p>".repeat(500)}</body></html>`;
  assert.equal(bodyExcerpt(page), "502 Bad Gateway");
  const untitled = `<html><body><h1>Oops</h1>${"<p>word</p>\n".repeat(300)}</body></html>`;
  const cut = bodyExcerpt(untitled);
  assert.ok(cut.length <= 200, `${cut.length} characters`);
  assert.ok(!cut.includes("<"), cut);
  assert.ok(cut.startsWith("Oops word word"));
  assert.equal(bodyExcerpt("x".repeat(1000)).length, 200);
  const err = new MesosHttpError(503, page, "SUBSCRIBE to http://127.0.0.1:5050");
  assert.equal(err.message, "SUBSCRIBE to http://127.0.0.1:5050: HTTP 503: 502 Bad Gateway");
  assert.equal(err.body, page, "the whole body stays available to code");
});
