// Section 11 items 1-5, 18, 19 and bad input: the scheduler endpoint's HTTP contract,
// driven with raw HTTP against a master without agents.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Master } from "../../../sim/mesos/master/master.js";
import { FRAMEWORK, Scheduler, http, openStream } from "./helpers.js";

let master: Master;
let url: string;

before(async () => {
  master = new Master({ host: "127.0.0.1", heartbeatIntervalMs: 200 });
  await master.start();
  url = master.url;
});
after(() => master.stop());

const api = () => `${url}/api/v1/scheduler`;

test("11.1: only POST with JSON is accepted", async () => {
  const get = await http(api(), { method: "GET" });
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, "POST");
  const noType = await http(api(), { body: "{}", headers: { "Content-Type": "" } });
  assert.equal(noType.status, 400);
  const xml = await http(api(), { body: "<x/>", headers: { "Content-Type": "text/xml" } });
  assert.equal(xml.status, 415);
  const sub = { type: "SUBSCRIBE", subscribe: { framework_info: FRAMEWORK } };
  const notAcceptable = await http(api(), { body: sub, headers: { Accept: "text/html" } });
  assert.equal(notAcceptable.status, 406);
});

test("11.2: SUBSCRIBE streams SUBSCRIBED, an immediate HEARTBEAT and one per interval", async () => {
  const s = await Scheduler.subscribe(url);
  try {
    assert.equal(s.stream.status, 200);
    assert.equal(s.stream.headers["content-type"], "application/json");
    assert.equal(s.stream.headers["transfer-encoding"], "chunked");
    assert.equal(s.stream.headers["content-length"], undefined);
    assert.match(s.stream.streamId, /^[0-9a-f-]{36}$/);
    const [first, second] = s.stream.events;
    assert.equal(first?.type, "SUBSCRIBED");
    assert.equal(first.subscribed.heartbeat_interval_seconds, 0.2);
    assert.equal(first.subscribed.master_info.id, master.id);
    assert.equal(first.subscribed.master_info.address.port, master.info.port);
    assert.match(first.subscribed.framework_id.value, new RegExp(`^${master.id}-\\d{4}$`));
    await s.stream.next((e) => e.type === "HEARTBEAT");
    assert.equal(
      second?.type ?? (await s.stream.next((e) => e.type === "HEARTBEAT")).type,
      "HEARTBEAT",
    );
    const t0 = Date.now();
    const count = () => s.stream.events.filter((e) => e.type === "HEARTBEAT").length;
    const before = count();
    while (count() < before + 2) await s.stream.next(() => false, 50).catch(() => undefined);
    assert.ok(Date.now() - t0 >= 300, "heartbeats follow the interval");
  } finally {
    s.close();
  }
});

test("11.3: an unacceptable subscription gets 200 and a single ERROR", async () => {
  const cases: [object, RegExp][] = [
    [{ ...FRAMEWORK, role: "x" }, /must not be set when the framework is MULTI_ROLE/],
    [{ ...FRAMEWORK, roles: ["a", "a"] }, /duplicate/],
    [{ ...FRAMEWORK, roles: ["/bad"] }, /Role '\/bad' is invalid/],
    [{ ...FRAMEWORK, failover_timeout: -1 }, /failover_timeout/],
  ];
  for (const [info, re] of cases) {
    const s = await openStream(api(), { type: "SUBSCRIBE", subscribe: { framework_info: info } });
    assert.equal(s.status, 200);
    await s.waitClosed();
    assert.equal(s.events.length, 1);
    assert.equal(s.events[0]!.type, "ERROR");
    assert.match(s.events[0]!.error.message, re);
  }
  const s = await openStream(api(), {
    type: "SUBSCRIBE",
    subscribe: { framework_info: FRAMEWORK, suppressed_roles: ["other"] },
  });
  await s.waitClosed();
  assert.match(s.events[0]!.error.message, /Suppressed role 'other'/);
});

test("11.4: 400/403/202 on calls", async () => {
  const s = await Scheduler.subscribe(url);
  try {
    // Stream id on SUBSCRIBE.
    const withId = await http(api(), {
      headers: { "Mesos-Stream-Id": "x" },
      body: { type: "SUBSCRIBE", subscribe: { framework_info: FRAMEWORK } },
    });
    assert.equal(withId.status, 400);
    assert.equal(withId.body, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    const missing = await s.call("REVIVE", undefined, { streamId: null });
    assert.equal(missing.status, 400);
    assert.match(missing.body, /should include the 'Mesos-Stream-Id' header/);
    const stale = await s.call("REVIVE", undefined, { streamId: "not-it" });
    assert.equal(stale.status, 400);
    assert.match(stale.body, /didn't match the stream ID/);
    const noBody = await s.call("DECLINE");
    assert.equal(noBody.status, 400);
    assert.equal(
      noBody.body,
      "Failed to validate scheduler::Call: Expecting 'decline' to be present",
    );
    const badUuid = await s.call("ACKNOWLEDGE", {
      agent_id: { value: "a" },
      task_id: { value: "t" },
      uuid: Buffer.alloc(8).toString("base64"),
    });
    assert.equal(badUuid.status, 400);
    assert.match(badUuid.body, /Not a valid UUID/);
    const noFid = await http(api(), {
      headers: { "Mesos-Stream-Id": s.stream.streamId },
      body: { type: "REVIVE" },
    });
    assert.equal(noFid.status, 400);
    assert.match(noFid.body, /Expecting 'framework_id' to be present/);
    const unknown = await http(api(), {
      headers: { "Mesos-Stream-Id": s.stream.streamId },
      body: { type: "REVIVE", framework_id: { value: "nope" } },
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body, "Framework cannot be found");
    const mismatch = await http(api(), {
      body: {
        type: "SUBSCRIBE",
        framework_id: { value: "a" },
        subscribe: { framework_info: { ...FRAMEWORK, id: { value: "b" } } },
      },
    });
    assert.equal(mismatch.status, 400);
    assert.match(mismatch.body, /'framework_id' differs from 'subscribe.framework_info.id'/);
    for (const type of ["REVIVE", "SUPPRESS", "TEARDOWN"]) {
      // body may be omitted for these; TEARDOWN is checked last
      if (type === "TEARDOWN") continue;
      assert.equal((await s.call(type)).status, 202);
    }
    assert.equal((await s.call("RECONCILE", { tasks: [] })).status, 202);
    assert.equal((await s.call("REQUEST", { requests: [] })).status, 202);
    // Known but disconnected -> 403.
    const sid = s.stream.streamId;
    const fid = s.frameworkId;
    s.close();
    await until403(fid, sid);
  } finally {
    s.close();
  }
});

async function until403(fid: string, sid: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await http(api(), {
      headers: { "Mesos-Stream-Id": sid },
      body: { type: "REVIVE", framework_id: { value: fid } },
    });
    if (r.status === 403) {
      assert.equal(r.body, "Framework is not subscribed");
      return;
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  assert.fail("disconnected framework never got 403");
}

test("11.5: one subscription per framework: the old stream gets 'Framework failed over'", async () => {
  const a = await Scheduler.subscribe(url);
  const b = await Scheduler.subscribe(url, { ...FRAMEWORK, id: { value: a.frameworkId } });
  try {
    assert.equal(b.frameworkId, a.frameworkId);
    assert.notEqual(b.stream.streamId, a.stream.streamId);
    const err = await a.stream.next((e) => e.type === "ERROR");
    assert.equal(err.error.message, "Framework failed over");
    await a.stream.waitClosed();
    // The old stream id is now stale.
    assert.equal((await a.call("REVIVE")).status, 400);
    assert.equal((await b.call("REVIVE")).status, 202);
  } finally {
    a.close();
    b.close();
  }
});

test("11.6: failover_timeout 0 removes the framework at disconnect; its id is dead", async () => {
  const s = await Scheduler.subscribe(url, { ...FRAMEWORK, failover_timeout: 0 });
  s.close();
  for (let i = 0; i < 100 && !master.removedFrameworks.has(s.frameworkId); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const again = await openStream(api(), {
    type: "SUBSCRIBE",
    framework_id: { value: s.frameworkId },
    subscribe: { framework_info: { ...FRAMEWORK, id: { value: s.frameworkId } } },
  });
  await again.waitClosed();
  assert.deepEqual(again.events, [
    { type: "ERROR", error: { message: "Framework has been removed" } },
  ]);
});

test("TEARDOWN closes the stream and kills the id", async () => {
  const s = await Scheduler.subscribe(url);
  assert.equal((await s.call("TEARDOWN")).status, 202);
  await s.stream.waitClosed();
  const again = await openStream(api(), {
    type: "SUBSCRIBE",
    framework_id: { value: s.frameworkId },
    subscribe: { framework_info: { ...FRAMEWORK, id: { value: s.frameworkId } } },
  });
  await again.waitClosed();
  assert.equal(again.events[0]!.error.message, "Framework has been removed");
});

test("bad input gets Mesos' status codes and the master survives", async () => {
  const bodies: [string, number, RegExp][] = [
    ["not json", 400, /^Failed to parse body into JSON/],
    ["[]", 400, /^Failed to convert JSON into Call protobuf/],
    [
      '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u"}}}',
      400,
      /Missing required fields: subscribe.framework_info.name/,
    ],
    [
      '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":1,"name":"n"}}}',
      400,
      /Not a string/,
    ],
    ['{"type":"UNKNOWN","framework_id":{"value":"x"}}', 501, /UNKNOWN/],
    ['{"framework_id":{"value":"x"}}', 400, /Expecting 'type' to be present/],
    [
      '{"type":"KILL","framework_id":{"value":"x"},"kill":{}}',
      400,
      /Missing required fields: kill.task_id/,
    ],
    [
      '{"type":"ACCEPT","framework_id":{"value":"x"},"accept":{"offer_ids":"o"}}',
      400,
      /Not an array/,
    ],
    [
      '{"type":"MESSAGE","framework_id":{"value":"x"},"message":{"agent_id":{"value":"a"},"executor_id":{"value":"e"},"data":"***"}}',
      400,
      /base64/,
    ],
  ];
  for (const [body, status, re] of bodies) {
    const r = await http(api(), { body });
    assert.equal(r.status, status, body);
    assert.match(r.body, re, body);
  }
  const huge = await http(api(), { body: `{"type":"SUBSCRIBE","x":"${"a".repeat(100)}"` });
  assert.equal(huge.status, 400);
  assert.equal((await http(`${url}/version`, { method: "GET" })).status, 200);
});

test("GET /version, /redirect and the operator GET_MASTER answer as Mesos does", async () => {
  const v = JSON.parse((await http(`${url}/version`, { method: "GET" })).body);
  assert.equal(v.version, "1.11.0");
  assert.equal(typeof v.git_sha, "string");
  const r = await http(`${url}/redirect`, { method: "GET" });
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, `//${master.info.hostname}:${master.info.port}`);
  const gm = await http(`${url}/api/v1`, { body: { type: "GET_MASTER" } });
  assert.equal(gm.status, 200);
  const info = JSON.parse(gm.body).get_master.master_info;
  assert.equal(info.id, master.id);
  assert.equal(info.address.ip, "127.0.0.1");
  assert.equal(info.ip, 0x0100007f);
});

test("11.19: HTTP Basic authentication with the realm header and principal checks", async () => {
  const m = new Master({ host: "127.0.0.1", credentials: [{ principal: "fw", secret: "s3cret" }] });
  await m.start();
  try {
    const api2 = `${m.url}/api/v1/scheduler`;
    const body = { type: "SUBSCRIBE", subscribe: { framework_info: FRAMEWORK } };
    const none = await http(api2, { body });
    assert.equal(none.status, 401);
    assert.equal(none.headers["www-authenticate"], 'Basic realm="mesos-master-scheduler"');
    const wrong = await http(api2, {
      body,
      headers: { Authorization: `Basic ${Buffer.from("fw:nope").toString("base64")}` },
    });
    assert.equal(wrong.status, 401);
    const auth = { Authorization: `Basic ${Buffer.from("fw:s3cret").toString("base64")}` };
    const other = await http(api2, {
      body: {
        type: "SUBSCRIBE",
        subscribe: { framework_info: { ...FRAMEWORK, principal: "other" } },
      },
      headers: auth,
    });
    assert.equal(other.status, 400);
    assert.match(other.body, /does not match principal 'other'/);
    const s = await Scheduler.subscribe(m.url, FRAMEWORK, { headers: auth });
    try {
      assert.ok(s.frameworkId);
      const state = JSON.parse((await http(`${m.url}/state`, { method: "GET" })).body);
      assert.equal(state.frameworks[0].principal, "fw", "the master fills the principal in");
      assert.equal((await s.call("REVIVE")).status, 202);
      const noAuth = await http(api2, {
        headers: { "Mesos-Stream-Id": s.stream.streamId },
        body: { type: "REVIVE", framework_id: { value: s.frameworkId } },
      });
      assert.equal(noAuth.status, 401);
    } finally {
      s.close();
    }
  } finally {
    await m.stop();
  }
});

test("UPDATE_FRAMEWORK: 200 when valid, 400 when it changes user or mismatches ids", async () => {
  const s = await Scheduler.subscribe(url);
  try {
    const info = { ...FRAMEWORK, id: { value: s.frameworkId } };
    const ok = await s.call("UPDATE_FRAMEWORK", {
      framework_info: { ...info, name: "renamed", roles: ["storage", "storage/backup"] },
      suppressed_roles: ["storage/backup"],
    });
    assert.equal(ok.status, 200);
    const st = JSON.parse((await http(`${url}/state`, { method: "GET" })).body);
    const fw = st.frameworks.find((f: { id: string }) => f.id === s.frameworkId);
    assert.equal(fw.name, "renamed");
    assert.deepEqual(fw.suppressed_roles, ["storage/backup"]);
    const user = await s.call("UPDATE_FRAMEWORK", { framework_info: { ...info, user: "root" } });
    assert.equal(user.status, 400);
    assert.match(user.body, /user/);
    const ids = await s.call("UPDATE_FRAMEWORK", {
      framework_info: { ...info, id: { value: "other" } },
    });
    assert.equal(ids.status, 400);
    assert.match(ids.body, /differs/);
  } finally {
    await s.call("TEARDOWN");
    s.close();
  }
});
