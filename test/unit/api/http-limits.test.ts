// The API server's HTTP limits over real sockets: the token is checked before a body is read,
// slow headers and slow bodies are cut off by their timeouts, and beyond the connection cap
// new connections are closed at once while the server keeps answering.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import {
  DEFAULT_HTTP_LIMITS,
  resolveHttpLimits,
  type HttpLimits,
} from "../../../src/api/http-limits.js";
import { auth, operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";
import { head, rawConnect, type RawConnection } from "../../support/raw-http.js";
import { waitUntil } from "../../support/wait.js";

const fixtures: OperatorFixture[] = [];
const conns: RawConnection[] = [];
after(async () => {
  for (const c of conns) c.destroy();
  for (const f of fixtures) await f.close();
});

async function listening(limits: Partial<HttpLimits> = {}) {
  const f = await operatorFixture({ server: { limits } });
  fixtures.push(f);
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  const port = (f.app.server.address() as AddressInfo).port;
  const open = async () => {
    const c = await rawConnect(port);
    conns.push(c);
    return c;
  };
  return { ...f, port, open };
}

test("a change without the token is refused before its body is read, and the connection closed", async () => {
  // Long timeouts: what closes the connection here is the refusal, not a limit.
  const f = await listening();
  for (const headers of [{}, auth("wrong-token")]) {
    const c = await f.open();
    const started = Date.now();
    c.write(
      head("POST", "/v1/plans/deploy/pause", {
        "content-type": "application/json",
        "content-length": String(50 * 1024 * 1024),
        ...headers,
      }),
    );
    c.write('{"phase":');
    await c.waitFor(/^HTTP\/1\.1 401 /, 3000, "a 401 before the body is sent");
    await c.waitClosed(3000);
    assert.match(c.received, /www-authenticate: Bearer/i);
    assert.ok(Date.now() - started < 3000);
  }
  assert.equal(f.sched.engine.view("deploy").paused, false);
});

test("a body that trickles in is cut off by the request timeout (408), and nothing changes", async () => {
  const f = await listening({ headersTimeoutMs: 300, requestTimeoutMs: 800 });
  const c = await f.open();
  const started = Date.now();
  c.write(
    head("POST", "/v1/plans/deploy/pause", {
      "content-type": "application/json",
      "content-length": "1000",
      ...auth(),
    }),
  );
  // One byte at a time: the connection is never idle, the request just never completes.
  const drip = setInterval(() => c.isOpen && c.write(" "), 100);
  try {
    await c.waitFor(/^HTTP\/1\.1 408 /, 5000, "a 408");
    await c.waitClosed(3000);
  } finally {
    clearInterval(drip);
  }
  assert.ok(Date.now() - started < 4000, `${Date.now() - started} ms`);
  assert.equal(f.sched.engine.view("deploy").paused, false);
});

test("headers that never end are cut off by the headers timeout", async () => {
  const f = await listening({ headersTimeoutMs: 300, requestTimeoutMs: 800 });
  const c = await f.open();
  const started = Date.now();
  c.write("GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: ");
  const drip = setInterval(() => c.isOpen && c.write("a"), 50);
  try {
    await c.waitClosed(5000);
  } finally {
    clearInterval(drip);
  }
  assert.match(c.received, /^HTTP\/1\.1 408 /);
  assert.ok(Date.now() - started < 4000, `${Date.now() - started} ms`);
});

test("an event stream outlives the request and idle timeouts (its request has arrived)", async () => {
  const f = await listening({ headersTimeoutMs: 200, requestTimeoutMs: 400, idleTimeoutMs: 600 });
  const c = await f.open();
  c.write(head("GET", "/v1/events"));
  // Keep-alives every 200 ms: eight of them take four times the request timeout.
  await c.waitFor(/(: keep-alive[\s\S]*){8}/, 10_000, "eight keep-alives");
  assert.equal(c.isOpen, true);
  assert.match(c.received, /^HTTP\/1\.1 200 /);
});

test("beyond the connection cap new connections are closed at once; the server still answers", async () => {
  const f = await listening({ maxConnections: 4 });
  const held: RawConnection[] = [];
  for (let i = 0; i < 4; i++) held.push(await f.open());
  const count = () =>
    new Promise<number>((resolve, reject) =>
      f.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
  await waitUntil(async () => (await count()) === 4, { what: "4 connections on the server" });
  const refused = await f.open();
  await refused.waitClosed(3000, "the fifth connection closed at once");
  assert.equal(refused.received, "");
  const metrics = (await f.app.inject({ url: "/metrics" })).body;
  assert.match(metrics, /^scaleio_framework_http_connections_refused_total 1$/m);

  held[0]!.destroy();
  await waitUntil(async () => (await count()) < 4, { what: "a connection slot free again" });
  const res = await fetch(`http://127.0.0.1:${f.port}/version`);
  assert.equal(res.status, 200);
});

test("the limits reach the server; contradictory limits are refused", async () => {
  const f = await operatorFixture({
    server: {
      limits: {
        headersTimeoutMs: 1234,
        requestTimeoutMs: 5678,
        idleTimeoutMs: 40_000,
        keepAliveTimeoutMs: 4321,
        maxRequestsPerSocket: 7,
        maxConnections: 9,
      },
    },
  });
  fixtures.push(f);
  const s = f.app.server;
  assert.equal(s.headersTimeout, 1234);
  assert.equal(s.requestTimeout, 5678);
  assert.equal(s.timeout, 40_000);
  assert.equal(s.keepAliveTimeout, 4321);
  assert.equal(s.maxRequestsPerSocket, 7);
  assert.equal(s.maxConnections, 9);

  assert.deepEqual(resolveHttpLimits(), DEFAULT_HTTP_LIMITS);
  assert.throws(
    () => resolveHttpLimits({ headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 }),
    /headersTimeoutMs \(20000\) must not exceed requestTimeoutMs \(10000\)/,
  );
  assert.throws(() => resolveHttpLimits({ maxConnections: -1 }), /maxConnections/);
  assert.throws(() => resolveHttpLimits({ headersTimeoutMs: 0 }), /headersTimeoutMs/);
});
