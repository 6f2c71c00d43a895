// Abuse of every route the API server registers (found through its onRoute hook, so a new
// route is abused too): ids named like prototype properties and other hostile ids, bodies
// that are null, arrays, bare values, deeply nested, huge or slow, bad and missing tokens,
// hostile query strings and headers, other methods, slow headers and a flood of connections.
// Whatever comes, the server answers below 500, unknown ids are 404, the built-in prototypes
// are untouched, the plan and nodes are as they were, and the server still works after.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { auth, operatorFixture, TOKEN, type OperatorFixture } from "../support/operator-fixture.js";
import { watchPrototypes } from "../support/prototypes.js";
import { head, rawConnect, type RawConnection } from "../support/raw-http.js";
import { waitUntil } from "../support/wait.js";

const watch = watchPrototypes();
const fixtures: OperatorFixture[] = [];
const conns: RawConnection[] = [];
let requests = 0;
const routesHit = new Set<string>();
let allRoutes = 0;
let passed = 0;
let tests = 0;

after(async () => {
  for (const c of conns) c.destroy();
  for (const f of fixtures) await f.close();
  watch.restore();
  console.log(
    `chaos: api: tried ${requests} requests on ${routesHit.size} of ${allRoutes} routes, ${passed === tests ? "held" : "broke"}`,
  );
});

/** A test that counts towards the closing line. */
function chaos(name: string, fn: () => Promise<void>): void {
  tests += 1;
  test(name, async () => {
    await fn();
    passed += 1;
  });
}

// Prototype names first: what a lookup in a plain object finds when it should find nothing.
const PROTO_IDS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "__defineGetter__",
  "__lookupSetter__",
  "toLocaleString",
];
/** Other ids nothing has: each must be a 404 like any unknown id. */
const ODD_IDS = [
  ...PROTO_IDS,
  "%5F%5Fproto%5F%5F",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "null",
  "undefined",
  "NaN",
  "-1",
  "1e999",
  "%5B%5D",
  "%7B%7D",
  "%F0%9F%92%A5",
  "a".repeat(99),
  "deploy%20",
  "agent-0%00",
];
/** Ids the router refuses before any handler: a bad escape (400), too long (414; a wildcard
 * has no length limit: just a file that is not there). */
const MALFORMED_IDS: [string, number[]][] = [
  ["%E0%A4%A", [400]],
  ["%", [400]],
  ["a".repeat(500), [414, 404]],
];

// What each POST route takes when its ids are real (so only the id is wrong in the id tests).
const VALID_BODY: Record<string, string | undefined> = {
  "/v1/plans/:planId/pause": "{}",
  "/v1/plans/:planId/resume": "{}",
  "/v1/plans/:planId/restart": '{"step":"install/agent-0"}',
  "/v1/plans/:planId/force-complete": '{"step":"install/agent-0"}',
  "/v1/nodes/:agentId/rescan": undefined,
  "/v1/nodes/:agentId/maintenance": '{"enter":true}',
  "/v1/nodes/:agentId/decommission": "{}",
  "/v1/nodes/:agentId/recommission": undefined,
  "/v1/nodes/:agentId/replace": "{}",
};

const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
/** Bodies none of which may change anything; [name, content type, payload, statuses allowed]. */
const HOSTILE_BODIES: [string, string, string | Buffer, number[]][] = [
  ["null", "application/json", "null", [400]],
  ["array", "application/json", "[]", [400]],
  ["array of a step", "application/json", '[{"step":"install/agent-0"}]', [400]],
  ["string", "application/json", '"deploy"', [400]],
  ["number", "application/json", "1", [400]],
  ["true", "application/json", "true", [400]],
  ["false", "application/json", "false", [400]],
  ["empty JSON", "application/json", "", [400]],
  ["broken JSON", "application/json", '{"step":', [400]],
  ["__proto__ key", "application/json", '{"__proto__":{"polluted":1}}', [400]],
  ["constructor.prototype", "application/json", '{"constructor":{"prototype":{"x":1}}}', [400]],
  ["step: object", "application/json", '{"step":{"__proto__":1}}', [400]],
  ["step: array", "application/json", '{"step":["install/agent-0"]}', [400]],
  ["step: null", "application/json", '{"step":null}', [400]],
  ["phase: null", "application/json", '{"phase":null}', [400]],
  ["extra key", "application/json", '{"step":"install/agent-0","force":true}', [400]],
  ["deep nesting", "application/json", `{"step":${deep(200_000)}}`, [400]],
  ["deep object", "application/json", `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`, [400]],
  ["huge", "application/json", `{"step":"${"x".repeat(2 * 1024 * 1024)}"}`, [413]],
  ["text", "text/plain", "step=install/agent-0", [400]],
  ["form", "application/x-www-form-urlencoded", "step=install%2Fagent-0", [415]],
  ["bytes", "application/octet-stream", Buffer.from([0, 1, 2, 255]), [415]],
  ...PROTO_IDS.flatMap((id): [string, string, string, number[]][] => [
    [`step ${id}`, "application/json", JSON.stringify({ step: id }), [404, 400]],
    [`phase ${id}`, "application/json", JSON.stringify({ phase: id }), [404, 400]],
  ]),
];
const BAD_TOKENS: [string, Record<string, string>][] = [
  ["none", {}],
  ["wrong", auth("wrong-token")],
  ["__proto__", auth("__proto__")],
  ["constructor", auth("constructor")],
  ["token and more", auth(`${TOKEN}x`)],
  ["prefix of the token", auth(TOKEN.slice(0, -1))],
  ["basic", { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` }],
  ["bare bearer", { authorization: "Bearer" }],
  ["two tokens", { authorization: `Bearer ${TOKEN} ${TOKEN}` }],
  ["long", { authorization: `Bearer ${"a".repeat(8000)}` }],
];
const HOSTILE_QUERIES = [
  "?__proto__[polluted]=1",
  "?__proto__.polluted=1",
  "?constructor[prototype][polluted]=1",
  "?constructor=1&prototype=2",
  "?n=__proto__",
  "?n=constructor",
  "?n=1&n=2",
  "?n=-1",
  "?n=99999999999",
  "?n=%00",
  "?history=__proto__",
  "?history=-1",
  "?history=1&history=2",
];

type Route = { method: string; url: string };

async function fixture(o: Parameters<typeof operatorFixture>[0] = {}) {
  const f = await operatorFixture({
    withRescan: true,
    ...o,
    server: {
      limits: { headersTimeoutMs: 400, requestTimeoutMs: 1000, maxConnections: 32 },
      // Healthy, so that every answer below 500 is the rule without exception.
      health: { subscribed: () => true, checkStore: async () => {} },
    },
  });
  fixtures.push(f);
  // Both install steps running and settled, so the plan stays still while it is abused.
  await waitUntil(
    () =>
      f.sched.engine
        .view("deploy")
        .phases[0]!.steps.every((s) => s.message === "waiting for the test"),
    { timeoutMs: 10_000, what: "the install steps running" },
  );
  const routes: Route[] = f.routes.map((r) => {
    const [method, url] = r.split(" ") as [string, string];
    return { method, url };
  });
  allRoutes = Math.max(allRoutes, new Set(f.routes).size);
  return { ...f, routeList: routes };
}

const isStream = (r: Route) => r.url === "/v1/events";
const hasParams = (r: Route) => /[:*]/.test(r.url);
const fill = (url: string, value: string) =>
  url.replace(/:[A-Za-z]+/g, value).replace(/\*$/, value);
const realIds = (url: string) =>
  url
    .replace(":planId", "deploy")
    .replace(":agentId", "agent-0")
    .replace(":version", "1.2.3")
    .replace(/\*$/, "index.html");

/** Sends one request; every answer must be below 500. */
async function send(
  f: OperatorFixture,
  route: Route,
  opts: InjectOptions,
  why: string,
): Promise<LightMyRequestResponse> {
  requests += 1;
  routesHit.add(`${route.method} ${route.url}`);
  const r = await f.app.inject(opts);
  assert.ok(
    r.statusCode < 500,
    `${why}: ${opts.method} ${opts.url} answered ${r.statusCode} ${r.body.slice(0, 200)}`,
  );
  return r;
}

function snapshot(f: OperatorFixture) {
  return {
    plans: JSON.stringify(f.view.plans()),
    nodes: JSON.stringify(f.view.nodes()),
    lastEvent: f.view.events.latestId,
  };
}

function assertUnchanged(f: OperatorFixture, before: ReturnType<typeof snapshot>): void {
  assert.deepEqual(watch.changes(), [], "the built-in prototypes are untouched");
  assert.equal(JSON.stringify(f.view.plans()), before.plans, "the plans are unchanged");
  assert.equal(JSON.stringify(f.view.nodes()), before.nodes, "the nodes are unchanged");
  const published = f.view.events.since(before.lastEvent).filter((e) => e.type !== "summary");
  assert.deepEqual(published, [], "no event was published");
  assert.deepEqual(f.platform.rescans, [], "no rescan was asked for");
}

chaos(
  "hostile ids in every route's parameters: 404 (or 400/414), 401 without the token",
  async () => {
    const f = await fixture();
    const before = snapshot(f);
    for (const route of f.routeList.filter(hasParams)) {
      const isWrite = route.method === "POST";
      const body = isWrite ? VALID_BODY[route.url] : undefined;
      const payload = body !== undefined ? { payload: body } : {};
      for (const id of ODD_IDS) {
        const url = fill(route.url, id);
        const base = { method: route.method as "GET", url, ...payload };
        const ok = await send(f, route, { ...base, headers: { ...auth(), ...ct(body) } }, id);
        assert.equal(ok.statusCode, 404, `${route.method} ${url}: ${ok.body.slice(0, 200)}`);
        if (isWrite) {
          const anon = await send(f, route, { ...base, headers: ct(body) }, id);
          assert.equal(anon.statusCode, 401, `${route.method} ${url} without a token`);
        }
      }
      for (const [id, statuses] of MALFORMED_IDS) {
        const url = fill(route.url, id);
        const r = await send(f, route, { method: route.method as "GET", url, headers: auth() }, id);
        const expected = route.url.endsWith("*") ? statuses.at(-1) : statuses[0];
        assert.equal(r.statusCode, expected, `${route.method} ${url}`);
      }
    }
    assertUnchanged(f, before);
  },
);

chaos("hostile bodies on every route that takes one: refused, nothing changes", async () => {
  const f = await fixture();
  const before = snapshot(f);
  const writes = f.routeList.filter((r) => r.method === "POST");
  assert.ok(writes.length >= 5, "the write routes were found");
  for (const route of writes) {
    const url = realIds(route.url);
    for (const [name, type, payload, allowed] of HOSTILE_BODIES) {
      const r = await send(
        f,
        route,
        { method: "POST", url, headers: { ...auth(), "content-type": type }, payload },
        name,
      );
      // A route without a body (rescan) refuses any body but {} with 400.
      const ok = route.url.endsWith("/rescan") && r.statusCode !== 413 && r.statusCode !== 415;
      assert.ok(
        allowed.includes(r.statusCode) || (ok && r.statusCode === 400),
        `${name} on ${url}: ${r.statusCode} ${r.body.slice(0, 200)}`,
      );
    }
  }
  assertUnchanged(f, before);
});

chaos(
  "bad tokens on every write route (and on reads when reads are protected): 401 first",
  async () => {
    for (const protectReads of [false, true]) {
      const f = await fixture({ protectReads });
      const before = snapshot(f);
      const guarded = f.routeList.filter(
        (r) =>
          r.method === "POST" ||
          (protectReads &&
            /^\/(v1\/(summary|nodes|plans|events)|metrics)/.test(r.url) &&
            r.method !== "HEAD"),
      );
      for (const route of guarded) {
        const url = realIds(route.url);
        const body = route.method === "POST" ? VALID_BODY[route.url] : undefined;
        for (const [name, headers] of BAD_TOKENS) {
          const r = await send(
            f,
            route,
            {
              method: route.method as "GET",
              url,
              headers: { ...headers, ...ct(body) },
              ...(body !== undefined ? { payload: body } : {}),
            },
            `token ${name}`,
          );
          assert.equal(r.statusCode, 401, `${route.method} ${url} with token ${name}`);
          assert.ok(!r.body.includes(TOKEN), "the token is never echoed");
        }
        if (route.method === "POST") {
          // A huge body without the token: refused for the token, not for its size (it is never read).
          const r = await send(
            f,
            route,
            {
              method: "POST",
              url,
              headers: { "content-type": "application/json" },
              payload: `{"step":"${"x".repeat(3 * 1024 * 1024)}"}`,
            },
            "huge body without a token",
          );
          assert.equal(r.statusCode, 401, `${url}: ${r.body.slice(0, 200)}`);
        }
      }
      assertUnchanged(f, before);
    }
  },
);

chaos("hostile query strings, Last-Event-ID values and methods on every route", async () => {
  const f = await fixture();
  const before = snapshot(f);
  for (const route of f.routeList.filter((r) => r.method === "GET" || r.method === "HEAD")) {
    const url = realIds(route.url);
    for (const q of HOSTILE_QUERIES) {
      // A stream that opens would never end here: streams are opened over sockets below.
      if (isStream(route) && !/history=(__proto__|-1|1&)/.test(q)) continue;
      const r = await send(f, route, { method: route.method as "GET", url: url + q }, q);
      if (isStream(route) && /history=/.test(q)) assert.equal(r.statusCode, 400, url + q);
      if (route.url === "/v1/events/recent" && /[?&]n=(?!1&)/.test(q))
        assert.equal(r.statusCode, 400, url + q);
    }
  }
  const stream = f.routeList.find((r) => isStream(r) && r.method === "GET")!;
  for (const id of ["__proto__", "constructor", "-1", "1e3", "99999999999", "0x10", " "]) {
    const r = await send(
      f,
      stream,
      { method: "GET", url: "/v1/events", headers: { "last-event-id": id } },
      `Last-Event-ID ${id}`,
    );
    assert.equal(r.statusCode, 400, `Last-Event-ID ${JSON.stringify(id)}`);
  }
  const urls = new Set(f.routeList.filter((r) => !isStream(r)).map((r) => realIds(r.url)));
  for (const url of urls)
    for (const method of ["PUT", "DELETE", "PATCH"] as const) {
      const route = { method, url };
      const r = await send(f, route, { method, url, headers: auth(), payload: "{}" }, method);
      assert.equal(r.statusCode, 404, `${method} ${url}`);
      routesHit.delete(`${method} ${url}`); // not a registered route
    }
  assertUnchanged(f, before);
});

chaos(
  "over sockets: hostile streams, slow bodies, slow headers, huge headers, a connection flood",
  async () => {
    const f = await fixture();
    const before = snapshot(f);
    await f.app.listen({ host: "127.0.0.1", port: 0 });
    const port = (f.app.server.address() as AddressInfo).port;
    const open = async () => {
      const c = await rawConnect(port);
      conns.push(c);
      requests += 1;
      return c;
    };
    const stream = { method: "GET", url: "/v1/events" };
    routesHit.add("GET /v1/events");

    // Streams with hostile but harmless extras open and are served.
    for (const q of ["?constructor=1", "?__proto__[x]=1&history=0", "?history=3&prototype=1"]) {
      const c = await open();
      c.write(head(stream.method, stream.url + q));
      await c.waitFor(/^HTTP\/1\.1 200 [\s\S]*: connected/, 5000, `a stream for ${q}`);
      c.destroy();
    }

    // A slow body with the token: cut off by the request timeout.
    const slow = await open();
    slow.write(
      head("POST", "/v1/plans/deploy/pause", {
        ...auth(),
        "content-type": "application/json",
        "content-length": "100",
      }),
    );
    const drip = setInterval(() => slow.isOpen && slow.write(" "), 100);
    try {
      await slow.waitFor(/^HTTP\/1\.1 408 /, 5000, "408 for a slow body");
      await slow.waitClosed(3000);
    } finally {
      clearInterval(drip);
    }

    // A slow body without the token: refused at once.
    const anon = await open();
    anon.write(
      head("POST", "/v1/plans/deploy/force-complete", {
        "content-type": "application/json",
        "content-length": "100000000",
      }),
    );
    await anon.waitFor(/^HTTP\/1\.1 401 /, 2000, "401 before the body");
    await anon.waitClosed(2000);

    // Headers that never end, and headers too large.
    const dribble = await open();
    dribble.write("GET /v1/plans HTTP/1.1\r\nhost: 127.0.0.1\r\n");
    await dribble.waitClosed(5000, "slow headers cut off");
    const big = await open();
    big.write(head("GET", "/v1/plans", { "x-big": "a".repeat(40_000) }));
    await big.waitFor(/^HTTP\/1\.1 431 /, 3000, "431 for huge headers");

    // A flood of connections beyond the cap: the extra ones are closed, the server answers.
    const flood: RawConnection[] = [];
    for (let i = 0; i < 40; i++) flood.push(await open());
    await waitUntil(() => flood.some((c) => !c.isOpen), { timeoutMs: 5000, what: "a refusal" });
    for (const c of flood) c.destroy();
    await waitUntil(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/version`).catch(() => undefined))?.ok ?? false,
      { timeoutMs: 5000, what: "the server answering after the flood" },
    );
    assertUnchanged(f, before);
  },
);

chaos("after all that, the server still works: controls, metrics, the plan goes on", async () => {
  const f = fixtures[0] ?? (await fixture());
  assert.deepEqual(watch.changes(), []);
  const post = (url: string, payload: object) =>
    f.app.inject({ method: "POST", url, headers: auth(), payload });
  requests += 4;
  const paused = await post("/v1/plans/deploy/pause", {});
  assert.equal(paused.statusCode, 200);
  assert.equal(paused.json().paused, true);
  const resumed = await post("/v1/plans/deploy/resume", {});
  assert.equal(resumed.statusCode, 200);
  assert.equal(resumed.json().paused, false);
  assert.equal((await f.app.inject({ url: "/metrics" })).statusCode, 200);
  assert.ok((await f.app.inject({ url: "/health" })).statusCode < 500);
  f.platform.release("agent-0");
  f.platform.release("agent-1");
  // The pending verify step starts and the plan completes.
  await f.sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
});

function ct(body: string | undefined): Record<string, string> {
  return body !== undefined ? { "content-type": "application/json" } : {};
}
