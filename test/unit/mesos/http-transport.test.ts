// The HTTP transport's connection limit: calls beyond it wait in line (nothing is sent for
// them yet), each within its own deadline, and a caller can give up on a waiting call.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpTransport } from "../../../src/mesos/http.js";
import { MesosConnectionError, MesosTimeoutError } from "../../../src/mesos/errors.js";

const held: ServerResponse[] = [];
let seen = 0;
let concurrent = 0;
let maxConcurrent = 0;
const order: string[] = [];
const server = createServer((req, res) => {
  seen += 1;
  order.push(String(req.headers["x-call"]));
  concurrent += 1;
  maxConcurrent = Math.max(maxConcurrent, concurrent);
  res.on("close", () => (concurrent -= 1));
  req.resume();
  req.on("end", () => held.push(res));
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/scheduler`;
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function heldCount(n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (held.length < n) {
    if (Date.now() > deadline) throw new Error(`server holds ${held.length} requests, not ${n}`);
    await new Promise((r) => setImmediate(r));
  }
}

function reset() {
  held.splice(0);
  order.splice(0);
  seen = 0;
  maxConcurrent = 0;
}

test("calls beyond the connection limit wait their turn and all complete", async () => {
  reset();
  const t = new HttpTransport({ maxConnections: 3, callTimeoutMs: 10_000 });
  const calls = Array.from({ length: 5 }, (_, i) => t.post(url, `{"n":${i}}`));
  await heldCount(2);
  assert.equal(seen, 2, "two calls on the wire (one connection stays for the event stream)");
  for (let done = 0; done < 5; done++) {
    await heldCount(1);
    held.shift()!.end("ok");
  }
  const answers = await Promise.all(calls);
  assert.deepEqual(
    answers.map((a) => [a.status, a.text]),
    Array(5).fill([200, "ok"]),
  );
  assert.equal(maxConcurrent, 2);
  await t.close();
});

test("a waiting call times out at its own deadline; an aborted one leaves the line", async () => {
  reset();
  const t = new HttpTransport({ maxConnections: 2, callTimeoutMs: 400 });
  const first = t.post(url, "{}", {}, { timeoutMs: 60_000 });
  await heldCount(1);
  const queued = t.post(url, "{}");
  await assert.rejects(queued, MesosTimeoutError);
  const ac = new AbortController();
  const gaveUp = t.post(url, "{}", {}, { timeoutMs: 60_000, signal: ac.signal });
  ac.abort(new Error("no longer needed"));
  await assert.rejects(gaveUp, /no longer needed/);
  assert.equal(seen, 1, "neither waiting call reached the server");
  held.shift()!.end("first");
  assert.equal((await first).text, "first");
  // The slot came back: the next call goes through.
  const next = t.post(url, "{}");
  await heldCount(1);
  held.shift()!.end("next");
  assert.equal((await next).text, "next");
  await t.close();
});

test("closing the transport fails the calls still waiting", async () => {
  reset();
  const t = new HttpTransport({ maxConnections: 2, callTimeoutMs: 60_000 });
  const first = t.post(url, "{}").catch((e: unknown) => e);
  await heldCount(1);
  const waiting = t.post(url, "{}").catch((e: unknown) => e);
  await t.close();
  assert.ok((await waiting) instanceof MesosConnectionError);
  assert.ok((await first) instanceof Error);
});

test("urgent calls (acknowledgements) go ahead of the others waiting", async () => {
  reset();
  const t = new HttpTransport({ maxConnections: 2, callTimeoutMs: 10_000 });
  const post = (name: string, urgent = false) => t.post(url, "{}", { "x-call": name }, { urgent });
  const calls = [post("first"), post("accept-1"), post("accept-2"), post("ack", true)];
  await heldCount(1);
  for (let i = 0; i < 4; i++) {
    await heldCount(1);
    held.shift()!.end("ok");
  }
  await Promise.all(calls);
  assert.deepEqual(order, ["first", "ack", "accept-1", "accept-2"]);
  await t.close();
});
