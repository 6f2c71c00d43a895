// The event stream over a real socket: events arrive live as steps complete, a reconnect
// with Last-Event-ID replays exactly what was missed, and ?history=N replays the newest N.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EventStreams } from "../../../src/api/event-streams.js";
import { EventHub } from "../../../src/framework/events.js";
import { parseFrames } from "../../../src/cli/operator/sse.js";
import type { OperatorEvent } from "../../../src/framework/events.js";
import { operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";
import { withDeadline } from "../../support/wait.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

/** Reads a stream's events until `done` says so. */
async function readUntil(
  url: string,
  headers: Record<string, string>,
  done: (events: OperatorEvent[], raw: string) => boolean,
  onOpen?: () => void,
): Promise<{ events: OperatorEvent[]; raw: string; contentType: string | null }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  assert.equal(res.status, 200);
  onOpen?.();
  const events: OperatorEvent[] = [];
  let raw = "";
  let buf = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      raw += text;
      buf += text;
      const r = parseFrames(buf);
      buf = r.rest;
      events.push(...r.events);
      if (done(events, raw)) break;
    }
  } finally {
    ac.abort();
  }
  return { events, raw, contentType: res.headers.get("content-type") };
}

test("events arrive live as steps complete; Last-Event-ID replays what was missed", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}/v1/events`;
  const isDone = (agent: string) => (e: OperatorEvent) =>
    e.type === "step" &&
    (e.data as { step: { id: string; status: string } }).step.id === `install/${agent}` &&
    (e.data as { step: { status: string } }).step.status === "COMPLETE";

  // Live: the stream is open before the step completes.
  const live = await withDeadline(
    readUntil(
      url,
      {},
      (evs, raw) => evs.some(isDone("agent-0")) && raw.includes(": keep-alive"),
      () => f.platform.release("agent-0"),
    ),
    20_000,
    "the live completion event and a keep-alive",
  );
  assert.match(live.contentType ?? "", /^text\/event-stream/);
  const seen = live.events.find(isDone("agent-0"))!;
  const ids = live.events.map((e) => e.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
  );

  // While nobody listens, agent-1's step completes; a reconnect gets it from the buffer.
  f.platform.release("agent-1");
  await f.sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 20_000);
  const replay = await withDeadline(
    readUntil(url, { "last-event-id": String(seen.id) }, (evs) => evs.some(isDone("agent-1"))),
    20_000,
    "the replayed completion",
  );
  assert.ok(
    replay.events.every((e) => e.id > seen.id),
    "only events after Last-Event-ID",
  );
  // Exactly what the hub kept after it (a step's superseded progress events are not kept).
  assert.equal(replay.events[0]!.id, f.view.events.since(seen.id)[0]!.id, "nothing skipped");
  assert.ok(replay.events.some((e) => e.type === "plan"));

  // The newest three when the request was served. (A throttled plan view or a summary can
  // still be published meanwhile: the window is checked against what was kept, not "now".)
  const latestBefore = f.view.events.latestId;
  const hist = await withDeadline(
    readUntil(`${url}?history=3`, {}, (evs) => evs.length >= 3),
    20_000,
    "three replayed events",
  );
  const window = hist.events.slice(0, 3).map((e) => e.id);
  assert.deepEqual(
    window,
    [...window].sort((a, b) => a - b),
  );
  assert.ok(window[2]! >= latestBefore, `${window} ends at or after ${latestBefore}`);
  const keptBetween = f.view.events
    .since(window[0]!)
    .filter((e) => e.id < window[2]! && !window.includes(e.id));
  assert.deepEqual(keptBetween, [], "no kept event was left out of the window");
  const bad = await fetch(`${url}?history=abc`);
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /history/);
});

test("the event hub keeps the newest events with increasing ids and scrubs secrets", () => {
  const hub = new EventHub({ capacity: 3, redact: (t) => t.replaceAll("s3cret", "[redacted]") });
  for (let i = 0; i < 5; i++) hub.log("info", `line ${i} s3cret`);
  assert.deepEqual(
    hub.since().map((e) => e.id),
    [3, 4, 5],
  );
  assert.deepEqual(
    hub.since(4).map((e) => e.id),
    [5],
  );
  assert.deepEqual(
    hub.recent(2).map((e) => (e.data as { msg: string }).msg),
    ["line 3 [redacted]", "line 4 [redacted]"],
  );
});

test("secrets deep inside an event are scrubbed; the publisher's object is left as it was", () => {
  const hub = new EventHub({ redact: (t) => t.replaceAll("s3cret", "[redacted]") });
  const step = { id: "a", lastError: "login with s3cret refused", attempts: 2 };
  const plan = {
    id: "deploy",
    phases: [{ id: "p", steps: [{ id: "b", status: "COMPLETE" }, step] }],
    extra: { "key-s3cret": 1, when: new Date(0) },
  };
  const ev = hub.publish("plan", plan);
  const out = JSON.stringify(ev.data);
  assert.ok(!out.includes("s3cret"), out);
  assert.deepEqual(JSON.parse(out), {
    id: "deploy",
    phases: [
      {
        id: "p",
        steps: [
          { id: "b", status: "COMPLETE" },
          { id: "a", lastError: "login with [redacted] refused", attempts: 2 },
        ],
      },
    ],
    extra: { "key-[redacted]": 1, when: "1970-01-01T00:00:00.000Z" },
  });
  assert.equal(step.lastError, "login with s3cret refused");
  const clean = { id: "deploy", phases: [{ id: "p", steps: [{ id: "b" }] }] };
  assert.equal(hub.publish("plan", clean).data, clean, "nothing to scrub: no copy");
});

test("the buffer keeps only the newest plan, node and summary event of each object", () => {
  const hub = new EventHub({ capacity: 100 });
  hub.publish("plan", { id: "deploy", status: "PENDING" });
  hub.publish("node", { agentId: "a1", lost: false });
  hub.publish("step", { planId: "deploy", step: { id: "s1" } });
  hub.publish("plan", { id: "other", status: "PENDING" });
  hub.publish("plan", { id: "deploy", status: "IN_PROGRESS" });
  hub.publish("summary", { health: "deploying" });
  hub.publish("node", { agentId: "a1", lost: true });
  hub.publish("summary", { health: "healthy" });
  assert.deepEqual(
    hub.since().map((e) => [e.id, e.type]),
    [
      [3, "step"],
      [4, "plan"],
      [5, "plan"],
      [7, "node"],
      [8, "summary"],
    ],
  );
  assert.equal((hub.since(4)[0]!.data as { status: string }).status, "IN_PROGRESS");
});

/** A response whose socket the test fills and drains. */
class FakeResponse extends EventEmitter {
  frames: string[] = [];
  full = false;
  writableLength = 0;
  destroyed = false;
  write(text: string): boolean {
    this.frames.push(text);
    if (this.full) this.writableLength += Buffer.byteLength(text);
    return !this.full;
  }
  drain(): void {
    this.full = false;
    this.writableLength = 0;
    this.emit("drain");
  }
  destroy(): void {
    this.destroyed = true;
    this.emit("close");
  }
  end(): void {
    this.emit("close");
  }
  ids(): number[] {
    return this.frames.flatMap((f) =>
      /^id: (\d+)/.exec(f) ? [Number(/^id: (\d+)/.exec(f)![1])] : [],
    );
  }
}

test("a client whose socket is full is sent nothing more until it drains, then only what it missed", () => {
  const hub = new EventHub({ capacity: 20 });
  const drops: string[] = [];
  const streams = new EventStreams({
    maxBufferedBytes: 64 * 1024,
    onDrop: (remote, why) => drops.push(`${remote}: ${why}`),
  });
  const res = new FakeResponse();
  streams.attach(res as unknown as ServerResponse, hub, {
    afterId: 0,
    remote: "10.0.0.9",
    keepAliveMs: 60_000,
  });
  hub.log("info", "one");
  hub.log("info", "two");
  assert.deepEqual(res.ids(), [1, 2]);

  // The socket holds 70 kB the client has not taken: over the bound once more is written.
  res.full = true;
  res.writableLength = 70_000;
  hub.publish("plan", { id: "deploy", n: 1 }); // written; now over the bound
  for (let n = 2; n <= 8; n++) hub.publish("plan", { id: "deploy", n });
  hub.log("info", "three");
  assert.deepEqual(res.ids(), [1, 2, 3], "nothing queued behind a full socket");
  const held = streams.stats().clients[0]!;
  assert.equal(held.behind, true);
  assert.ok(held.bufferedBytes < 70_100, `${held.bufferedBytes} bytes held`);

  res.drain();
  // The newest plan view (id 10) once, then the log line it missed.
  assert.deepEqual(res.ids(), [1, 2, 3, 10, 11]);
  assert.match(res.frames.at(-2)!, /"n":8/);
  assert.equal(streams.stats().clients[0]!.behind, false);

  // Full again, and the hub lets go of events it was never sent: disconnected.
  res.full = true;
  res.writableLength = 70_000;
  for (let i = 0; i < 25; i++) hub.log("info", `flood ${i}`);
  assert.equal(res.destroyed, true);
  assert.equal(streams.stats().clients.length, 0);
  assert.equal(streams.stats().dropped, 1);
  assert.match(drops[0]!, /^10\.0\.0\.9: fell behind/);
  assert.equal(hub.listenerCount("event"), 0, "no listener left behind");
});

test("a reconnect with an id from a previous scheduler process replays all that is kept", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}/v1/events`;
  const kept = f.view.events.since();
  assert.ok(kept.length > 0);
  const { events } = await withDeadline(
    readUntil(url, { "last-event-id": String(f.view.events.latestId + 1000) }, (evs) =>
      evs.some((e) => e.id === kept.at(-1)!.id),
    ),
    10_000,
    "the kept events",
  );
  assert.equal(events[0]!.id, kept[0]!.id);
});

test("the hub tells how far it let go of events for room", () => {
  const hub = new EventHub({ capacity: 3 });
  hub.publish("plan", { id: "a" });
  hub.publish("plan", { id: "a" }); // replaces the first: not let go of for room
  hub.log("info", "x");
  hub.log("info", "y");
  assert.equal(hub.evictedUpTo, 0);
  hub.log("info", "z");
  assert.equal(hub.evictedUpTo, 2);
});
