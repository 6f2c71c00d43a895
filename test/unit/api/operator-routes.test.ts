// The operator API's routes over a real scheduler core (plan engine, agents, file store):
// answers, auth failures (401), bad bodies (400), unknown ids and routes (404), and the
// controls doing what they say.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  auth,
  operatorFixture,
  TOKEN,
  type OperatorFixture,
} from "../../support/operator-fixture.js";
import { watchPrototypes } from "../../support/prototypes.js";
import { waitUntil } from "../../support/wait.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});
async function setup(o: Parameters<typeof operatorFixture>[0] = {}) {
  const f = await operatorFixture(o);
  fixtures.push(f);
  return f;
}

test("summary, nodes and plans describe the scheduler's state", async () => {
  const { app, view } = await setup();
  await view.refresh();
  const s = (await app.inject({ url: "/v1/summary" })).json();
  assert.equal(s.platform, "gated");
  assert.deepEqual(s.framework, { subscribed: false, role: "scaleio", name: "scaleio-test" });
  assert.equal(s.health, "deploying");
  assert.ok(s.problems.includes("not subscribed to Mesos"));
  assert.equal(s.cluster.capacity.rawBytes, 2 ** 40);
  assert.deepEqual(s.plans, [{ id: "deploy", status: "IN_PROGRESS", complete: 0, total: 3 }]);

  const nodes = (await app.inject({ url: "/v1/nodes" })).json().nodes;
  assert.deepEqual(
    nodes.map((n: { hostname: string }) => n.hostname),
    ["host-0", "host-1"],
  );
  const n = (await app.inject({ url: "/v1/nodes/agent-1" })).json();
  assert.equal(n.agentId, "agent-1");
  assert.deepEqual(n.faultDomain, { region: "eu", zone: "z1" });
  assert.deepEqual(n.attributes, { rack: "r1" });
  assert.deepEqual(n.roles, ["sds", "sdc"]);
  assert.deepEqual(n.devices, [{ path: "/dev/sdb", domain: "pd1", pool: "pool1" }]);
  assert.deepEqual(n.client, { kind: "client", id: "guid-agent-1", state: "Connected" });
  assert.equal(n.lost, false);
  assert.deepEqual(
    n.steps.map((s: { stepId: string }) => s.stepId),
    ["install/agent-1"],
  );

  const plans = (await app.inject({ url: "/v1/plans" })).json().plans;
  assert.deepEqual(
    plans.map((p: { id: string }) => p.id),
    ["deploy"],
  );
  const plan = (await app.inject({ url: "/v1/plans/deploy" })).json();
  assert.deepEqual(
    plan.phases.map((p: { id: string }) => p.id),
    ["install", "verify"],
  );
});

test("unknown agents, plans and routes are 404 with a JSON error", async () => {
  const { app } = await setup();
  for (const url of ["/v1/nodes/nope", "/v1/plans/nope", "/v1/nope", "/v1/plans/deploy/x"]) {
    const r = await app.inject({ url });
    assert.equal(r.statusCode, 404, url);
    assert.match(r.headers["content-type"] as string, /application\/json/);
    assert.ok(r.json().error.length > 5, url);
  }
  assert.match((await app.inject({ url: "/v1/plans/nope" })).json().error, /no plan 'nope'/);
  assert.match((await app.inject({ url: "/v1/nodes/nope" })).json().error, /no agent 'nope'/);
  const post = await app.inject({
    method: "POST",
    url: "/v1/plans/nope/pause",
    headers: auth(),
    payload: {},
  });
  assert.equal(post.statusCode, 404);
});

test("changes need the bearer token: none or a wrong one is 401 with WWW-Authenticate", async () => {
  const { app, sched } = await setup();
  const routes = [
    ["/v1/plans/deploy/pause", {}],
    ["/v1/plans/deploy/resume", {}],
    ["/v1/plans/deploy/restart", { step: "verify/all" }],
    ["/v1/plans/deploy/force-complete", { step: "verify/all" }],
    ["/v1/nodes/agent-0/rescan", {}],
  ] as const;
  for (const [url, payload] of routes) {
    for (const headers of [
      {},
      auth("wrong-token"),
      { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` },
      { authorization: "Bearer" },
    ]) {
      const r = await app.inject({ method: "POST", url, headers, payload });
      assert.equal(r.statusCode, 401, `${url} ${JSON.stringify(headers)}`);
      assert.equal(r.headers["www-authenticate"], 'Bearer realm="scaleio-framework"');
      assert.ok(r.json().error);
      assert.ok(!r.body.includes(TOKEN));
    }
  }
  // Nothing changed.
  assert.equal(sched.engine.view("deploy").paused, false);
});

test("without a configured token every change is refused", async () => {
  const { app } = await setup({ token: null });
  const r = await app.inject({
    method: "POST",
    url: "/v1/plans/deploy/pause",
    headers: auth(),
    payload: {},
  });
  assert.equal(r.statusCode, 401);
  assert.match(r.json().error, /no API token is configured/);
});

test("malformed bodies are 400 and say what is wrong", async () => {
  const { app } = await setup();
  const cases: [string, string, string | object, RegExp][] = [
    ["pause", "application/json", "{not json", /JSON|json/],
    ["pause", "application/json", { phase: 3 }, /phase/],
    ["pause", "application/json", { plan: "x" }, /plan|unrecognized/i],
    ["resume", "application/json", { phase: "" }, /phase/],
    ["restart", "application/json", {}, /step/],
    ["restart", "application/json", { step: ["a"] }, /step/],
    ["force-complete", "application/json", "[]", /body/],
    ["force-complete", "application/json", "null", /step|body/],
  ];
  for (const [verb, type, payload, why] of cases) {
    const r = await app.inject({
      method: "POST",
      url: `/v1/plans/deploy/${verb}`,
      headers: { ...auth(), "content-type": type },
      payload: typeof payload === "string" ? payload : JSON.stringify(payload),
    });
    assert.equal(r.statusCode, 400, `${verb} ${JSON.stringify(payload)}: ${r.body}`);
    assert.match(r.json().error, why);
  }
  const form = await app.inject({
    method: "POST",
    url: "/v1/plans/deploy/pause",
    headers: { ...auth(), "content-type": "text/plain" },
    payload: "phase=x",
  });
  assert.ok(form.statusCode >= 400 && form.statusCode < 500, form.body);
  const history = await app.inject({ url: "/v1/events/recent?n=-1" });
  assert.equal(history.statusCode, 400);
});

test("pause and resume a plan or a phase; unknown phases and steps are 404", async () => {
  const { app, sched } = await setup();
  const post = (verb: string, payload: object) =>
    app.inject({ method: "POST", url: `/v1/plans/deploy/${verb}`, headers: auth(), payload });
  let r = await post("pause", {});
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().paused, true);
  assert.equal(r.json().status, "WAITING");
  r = await post("resume", {});
  assert.equal(r.json().paused, false);
  r = await post("pause", { phase: "verify" });
  assert.equal(r.json().phases[1].paused, true);
  r = await post("resume", { phase: "verify" });
  assert.equal(r.json().phases[1].paused, false);
  r = await post("pause", { phase: "nope" });
  assert.equal(r.statusCode, 404);
  assert.match(r.json().error, /no phase 'nope'/);
  r = await post("restart", { step: "nope/x" });
  assert.equal(r.statusCode, 404);
  assert.match(r.json().error, /no step 'nope\/x'/);
  r = await post("force-complete", { step: "install/agent-0" });
  assert.equal(r.statusCode, 200);
  const step = r.json().phases[0].steps.find((s: { id: string }) => s.id === "install/agent-0");
  assert.equal(step.status, "COMPLETE");
  assert.equal(step.forced, true);
  r = await post("restart", { step: "install/agent-0" });
  assert.equal(r.statusCode, 200);
  await waitUntil(
    () =>
      sched.engine.view("deploy").phases[0]!.steps.find((s) => s.id === "install/agent-0")!
        .status === "IN_PROGRESS",
    { timeoutMs: 10_000, what: "the restarted step to run again" },
  );
});

test("ids named like prototype properties are unknown: 404, nothing changes, the plan still works", async () => {
  const watch = watchPrototypes();
  try {
    const { app, sched, view, platform } = await setup({ withRescan: true });
    const post = (url: string, payload?: object) =>
      app.inject({
        method: "POST",
        url,
        headers: auth(),
        ...(payload ? { payload } : {}),
      });
    assert.equal((await post("/v1/plans/deploy/pause", {})).statusCode, 200);
    await waitUntil(
      () =>
        sched.engine
          .view("deploy")
          .phases[0]!.steps.every((s) => s.message === "waiting for the test"),
      { timeoutMs: 10_000, what: "both install steps running" },
    );
    const before = JSON.stringify(sched.engine.view("deploy"));
    const lastEvent = view.events.latestId;
    const names = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty"];
    for (const name of names) {
      for (const verb of ["restart", "force-complete"]) {
        const r = await post(`/v1/plans/deploy/${verb}`, { step: name });
        assert.equal(r.statusCode, 404, `${verb} ${name}: ${r.body}`);
        assert.equal(r.json().error, `plan 'deploy' has no step '${name}'`);
      }
      for (const verb of ["pause", "resume"]) {
        const r = await post(`/v1/plans/deploy/${verb}`, { phase: name });
        assert.equal(r.statusCode, 404, `${verb} ${name}: ${r.body}`);
      }
      const id = encodeURIComponent(name);
      for (const r of [
        await app.inject({ url: `/v1/plans/${id}` }),
        await app.inject({ url: `/v1/nodes/${id}` }),
        await post(`/v1/plans/${id}/pause`, {}),
        await post(`/v1/nodes/${id}/rescan`),
      ])
        assert.equal(r.statusCode, 404, `${name}: ${r.body}`);
    }
    assert.deepEqual(watch.changes(), [], "no built-in object was touched");
    assert.equal(JSON.stringify(sched.engine.view("deploy")), before, "the plan is unchanged");
    assert.deepEqual(
      view.events.since(lastEvent).filter((e) => e.type !== "summary"),
      [],
      "no event was published for a refused request",
    );
    assert.deepEqual(platform.rescans, []);

    // Everything still works: metrics, resuming the paused plan, the pending step starting.
    assert.equal((await app.inject({ url: "/metrics" })).statusCode, 200);
    const resumed = await post("/v1/plans/deploy/resume", {});
    assert.equal(resumed.statusCode, 200, resumed.body);
    assert.equal(resumed.json().paused, false);
    platform.release("agent-0");
    platform.release("agent-1");
    await sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
  } finally {
    watch.restore();
  }
});

test("a body that is not a JSON object is 400 and changes nothing", async () => {
  const { app, sched, platform } = await setup({ withRescan: true });
  const urls = [
    "/v1/plans/deploy/pause",
    "/v1/plans/deploy/resume",
    "/v1/plans/deploy/restart",
    "/v1/plans/deploy/force-complete",
    "/v1/nodes/agent-0/rescan",
  ];
  for (const url of urls)
    for (const payload of ["null", "[]", '[{"step":"verify/all"}]', '"deploy"', "1", "true"]) {
      const r = await app.inject({
        method: "POST",
        url,
        headers: { ...auth(), "content-type": "application/json" },
        payload,
      });
      assert.equal(r.statusCode, 400, `${url} ${payload}: ${r.body}`);
      assert.match(r.json().error, /must be a JSON object/);
    }
  const v = sched.engine.view("deploy");
  assert.equal(v.paused, false, "a null body no longer pauses the plan");
  assert.equal(v.phases[1]!.steps[0]!.status, "PENDING");
  assert.deepEqual(platform.rescans, []);
  // No body at all, or {}, still works.
  const r = await app.inject({ method: "POST", url: "/v1/nodes/agent-0/rescan", headers: auth() });
  assert.equal(r.statusCode, 202);
});

test("rescan: 202 when the platform can, 501 when it cannot, 404 for unknown agents", async () => {
  const can = await setup({ withRescan: true });
  const r = await can.app.inject({
    method: "POST",
    url: "/v1/nodes/agent-1/rescan",
    headers: auth(),
  });
  assert.equal(r.statusCode, 202);
  assert.deepEqual(r.json(), { accepted: true });
  assert.deepEqual(can.platform.rescans, ["agent-1"]);
  const unknown = await can.app.inject({
    method: "POST",
    url: "/v1/nodes/nope/rescan",
    headers: auth(),
  });
  assert.equal(unknown.statusCode, 404);
  const cannot = await setup();
  const no = await cannot.app.inject({
    method: "POST",
    url: "/v1/nodes/agent-1/rescan",
    headers: auth(),
  });
  assert.equal(no.statusCode, 501);
  assert.match(no.json().error, /cannot rescan/);
});

test("rescan: a platform's refusal (agent lost) answers 409 with its reason", async () => {
  const { app, platform } = await setup({ withRescan: true });
  platform.rescan = () =>
    Promise.reject(
      Object.assign(new Error("agent 'agent-1' (host-1) is lost"), { statusCode: 409 }),
    );
  const r = await app.inject({ method: "POST", url: "/v1/nodes/agent-1/rescan", headers: auth() });
  assert.equal(r.statusCode, 409);
  assert.match(r.json().error, /is lost/);
});

test("--api-protect-reads: reads need the token; health and version stay open", async () => {
  const { app } = await setup({ protectReads: true });
  for (const url of [
    "/v1/summary",
    "/v1/nodes",
    "/v1/nodes/agent-0",
    "/v1/plans",
    "/v1/plans/deploy",
    "/v1/events/recent",
    "/v1/events",
    "/metrics",
  ]) {
    const r = await app.inject({ url });
    assert.equal(r.statusCode, 401, url);
    assert.equal((await app.inject({ url, headers: auth("nope") })).statusCode, 401, url);
    if (url !== "/v1/events")
      assert.equal((await app.inject({ url, headers: auth() })).statusCode, 200, url);
  }
  assert.equal((await app.inject({ url: "/version" })).statusCode, 200);
  // Not subscribed here, so unhealthy, but answered without a token.
  assert.equal((await app.inject({ url: "/health" })).statusCode, 503);
});

test("recent events hold plan and step changes and operator actions, newest last", async () => {
  const { app, platform } = await setup();
  await app.inject({
    method: "POST",
    url: "/v1/plans/deploy/pause",
    headers: auth(),
    payload: { phase: "verify" },
  });
  platform.release("agent-0");
  await waitUntil(
    async () =>
      (await app.inject({ url: "/v1/events/recent" }))
        .json()
        .events.some(
          (e: { type: string; data: { step?: { id: string; status: string } } }) =>
            e.type === "step" &&
            e.data.step?.id === "install/agent-0" &&
            e.data.step.status === "COMPLETE",
        ),
    { timeoutMs: 10_000, what: "the step's completion in the recent events" },
  );
  const events = (await app.inject({ url: "/v1/events/recent" })).json().events as {
    id: number;
    type: string;
    data: { msg?: string };
  }[];
  const ids = events.map((e) => e.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
  );
  assert.ok(
    events.some(
      (e) => e.type === "log" && /operator paused deploy phase verify/.test(e.data.msg ?? ""),
    ),
  );
  assert.equal((await app.inject({ url: "/v1/events/recent?n=2" })).json().events.length, 2);
});

test("/health answers the scheduler's liveness and, in its body, the cluster's health from /v1/health", async () => {
  const { app, view } = await setup();
  await view.source.agents.markLost("agent-1");
  const h = (await app.inject({ url: "/v1/health" })).json<{
    status: string;
    conditions: { type: string; object: string; severity: string }[];
  }>();
  assert.ok(h.conditions.some((c) => c.type === "AgentLost" && c.object === "agent/host-1"));
  const live = await app.inject({ url: "/health" });
  // Not subscribed: the scheduler is not live; the cluster's own health rides along.
  assert.equal(live.statusCode, 503);
  const body = live.json<{ cluster: { status: string; conditions: string[] } }>();
  assert.equal(body.cluster.status, h.status);
  assert.ok(body.cluster.conditions.includes("warning AgentLost agent/host-1"));
});
