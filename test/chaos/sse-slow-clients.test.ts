// Event-stream clients that stall or crawl, over real sockets, while the plan changes hundreds
// of times: twenty clients that never read, one that stops reading for the whole storm and
// then reconnects with Last-Event-ID when it finds itself cut off, and one that keeps up.
// The bound is read from the server's own accounting (bytes each client holds, clients
// dropped), not from the process's memory: what a stalled client holds stays about one
// event's frame, the stalled ones are dropped once they fall behind the replay buffer, the
// reader that keeps up is never dropped and sees every event in order, and the reconnecting
// one ends with the plan as it really is.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { get, type IncomingMessage } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { EventStreams } from "../../src/api/event-streams.js";
import { parseFrames } from "../../src/cli/operator/sse.js";
import type { OperatorEvent } from "../../src/framework/events.js";
import { auth, operatorFixture, type OperatorFixture } from "../support/operator-fixture.js";
import { head } from "../support/raw-http.js";
import { waitUntil, withDeadline } from "../support/wait.js";

const STALLED = 20;
const CHANGES = 300;
const fixtures: OperatorFixture[] = [];
const sockets: Socket[] = [];
const responses: IncomingMessage[] = [];
let summary = "";

after(async () => {
  for (const s of sockets) s.destroy();
  for (const r of responses) r.destroy();
  for (const f of fixtures) await f.close();
  console.log(summary || "chaos: event stream: the slow-client test did not finish, broke");
});

/** A stream read with node:http (it decodes the chunks); pausable, and it records frames. */
function openStream(port: number, lastEventId?: number) {
  const events: OperatorEvent[] = [];
  let buf = "";
  let ended = false;
  const opened = new Promise<IncomingMessage>((resolve, reject) => {
    const req = get(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/events",
        headers: lastEventId !== undefined ? { "last-event-id": String(lastEventId) } : {},
      },
      (res) => {
        responses.push(res);
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          const r = parseFrames(buf + chunk);
          buf = r.rest;
          events.push(...r.events);
        });
        const end = () => (ended = true);
        res.on("end", end);
        res.on("close", end);
        res.on("error", end);
        resolve(res);
      },
    );
    req.on("error", reject);
  });
  return {
    events,
    opened,
    get ended() {
      return ended;
    },
    lastId: () => events.at(-1)?.id,
  };
}

test("stalled and slow event-stream clients: memory per client stays bounded, laggards are dropped", async () => {
  const streams = new EventStreams();
  // 150 agents; plan events carry changes (a few hundred bytes), so each change of the storm
  // comes with a 30 kB log line: megabytes per client, as whole plan views used to be.
  const f = await operatorFixture({
    agents: 150,
    capacity: 100,
    server: { eventStreams: streams },
  });
  fixtures.push(f);
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  const port = (f.app.server.address() as AddressInfo).port;

  // Twenty clients that send the request and never read a byte of the answer.
  const stalledPorts = new Set<number>();
  for (let i = 0; i < STALLED; i++) {
    const s = connect({ host: "127.0.0.1", port });
    sockets.push(s);
    s.on("error", () => {}); // reset when dropped: expected
    s.pause();
    await new Promise<void>((r) => s.once("connect", () => r()));
    stalledPorts.add(s.localPort!);
    s.write(head("GET", "/v1/events"));
  }
  const reader = openStream(port);
  await reader.opened;
  const slow = openStream(port);
  const slowRes = await slow.opened;
  await waitUntil(() => streams.stats().clients.length === STALLED + 2, {
    timeoutMs: 10_000,
    what: "every client attached",
  });
  const firstId = f.view.events.latestId;
  slowRes.pause(); // the slow client stops reading for the whole storm

  // The storm: 300 plan changes through the API, each with a bulky line on the stream.
  let maxHeldMidway = 0;
  for (let i = 0; i < CHANGES; i++) {
    const verb = i % 2 === 0 ? "pause" : "resume";
    const r = await f.app.inject({
      method: "POST",
      url: `/v1/plans/deploy/${verb}`,
      headers: auth(),
      payload: {},
    });
    assert.equal(r.statusCode, 200);
    f.view.events.log("info", `storm ${i}: ${"x".repeat(30_000)}`);
    // One turn of the event loop, so the reader that keeps up gets to read.
    await new Promise((resolve) => setImmediate(resolve));
    for (const c of streams.stats().clients)
      if (stalledPorts.has(Number(c.remote.split(":").at(-1))))
        maxHeldMidway = Math.max(maxHeldMidway, c.bufferedBytes);
  }
  const stats = streams.stats();
  const bound = stats.maxBufferedBytes + stats.largestFrameBytes;
  const published = f.view.events.latestId - firstId;
  const frameKb = Math.round(stats.largestFrameBytes / 1024);

  // Every stalled client was dropped; none held more than about one frame meanwhile.
  await waitUntil(
    () =>
      !streams.stats().clients.some((c) => stalledPorts.has(Number(c.remote.split(":").at(-1)))),
    { timeoutMs: 10_000, what: "the stalled clients dropped" },
  );
  assert.ok(streams.stats().dropped >= STALLED, `${streams.stats().dropped} dropped`);
  assert.ok(
    maxHeldMidway <= bound,
    `a stalled client held ${maxHeldMidway} bytes (bound ${bound})`,
  );
  assert.ok(
    stats.peakBufferedBytes <= bound,
    `the most any client held: ${stats.peakBufferedBytes} bytes (bound ${bound})`,
  );

  // The reader that keeps up saw every event, in order, and was never dropped.
  await waitUntil(() => reader.lastId() === f.view.events.latestId, {
    timeoutMs: 10_000,
    what: "the reader caught up",
  });
  assert.equal(reader.ended, false, "the reader was not dropped");
  const ids = reader.events.map((e) => e.id).filter((id) => id > firstId);
  assert.ok(ids.length >= published);
  assert.deepEqual(
    ids,
    Array.from({ length: ids.length }, (_, i) => firstId + 1 + i),
    "every event, in order",
  );

  // The slow client reads again: whatever it still gets, and if it was cut off, it reconnects
  // with Last-Event-ID. Either way it ends with the plan as it is.
  slowRes.resume();
  await waitUntil(() => slow.ended || slow.lastId() === f.view.events.latestId, {
    timeoutMs: 10_000,
    what: "the slow client caught up or cut off",
  });
  let final = slow;
  if (slow.ended) {
    final = openStream(port, slow.lastId());
    await final.opened;
    await waitUntil(() => final.lastId() === f.view.events.latestId, {
      timeoutMs: 10_000,
      what: "the reconnected client caught up",
    });
  }
  const plans = [...slow.events, ...final.events].filter((e) => e.type === "plan");
  const lastPlan = plans.at(-1)!.data as { paused: boolean };
  assert.equal(lastPlan.paused, f.sched.engine.view("deploy").paused);

  // The server's own gauges agree: two clients left, the dropped ones counted.
  const metrics = await withDeadline(
    f.app.inject({ url: "/metrics" }).then((r) => r.body),
    5000,
    "metrics",
  );
  assert.match(metrics, /^scaleio_framework_event_stream_clients 2$/m);
  const droppedTotal = Number(
    /^scaleio_framework_event_stream_clients_dropped_total (\d+)$/m.exec(metrics)?.[1],
  );
  assert.ok(droppedTotal >= STALLED, `${droppedTotal} dropped`);

  summary =
    `chaos: event stream: tried ${STALLED} stalled clients, one that stalled and came back` +
    `${slow.ended ? " with Last-Event-ID" : ""} and one reader through ${CHANGES} plan changes` +
    ` (${published} events, frames up to ${frameKb} kB): at most ${Math.round(stats.peakBufferedBytes / 1024)} kB` +
    ` held per client, ${droppedTotal} dropped, held`;
});
