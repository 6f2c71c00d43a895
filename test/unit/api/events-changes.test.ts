// The event stream sends plan changes, not whole plan views: a few hundred bytes per plan
// event and under 2 KB of stream per finished step, whatever the cluster's size. Answers are
// compressed when the client asks; the stream itself flows uncompressed.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { parseFrames } from "../../../src/cli/operator/sse.js";
import type { OperatorEvent } from "../../../src/framework/events.js";
import { operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";
import { withDeadline } from "../../support/wait.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** GET over a socket, the body as sent (not decompressed). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Reads /v1/events (raw bytes counted) until `done` says so. */
function stream(
  port: number,
  headers: Record<string, string>,
  done: (events: OperatorEvent[]) => boolean,
  onOpen?: () => void,
): Promise<{ events: OperatorEvent[]; bytes: number; encoding: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/v1/events", headers }, (res) => {
      const events: OperatorEvent[] = [];
      let bytes = 0;
      let buf = "";
      onOpen?.();
      res.on("data", (c: Buffer) => {
        bytes += c.length;
        buf += c.toString("utf8");
        const r = parseFrames(buf);
        buf = r.rest;
        events.push(...r.events);
        if (done(events)) {
          req.destroy();
          resolve({ events, bytes, encoding: res.headers["content-encoding"] });
        }
      });
      res.on("error", () => undefined); // destroyed on purpose once done
    });
    req.on("error", (err) => {
      if (!req.destroyed) reject(err);
    });
    req.end();
  });
}

async function deployWatched(agents: number) {
  const f = await operatorFixture({ agents, capacity: 5000 });
  fixtures.push(f);
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  const port = (f.app.server.address() as AddressInfo).port;
  const completed = (evs: OperatorEvent[]) =>
    evs.some((e) => e.type === "plan" && (e.data as { status: string }).status === "COMPLETE");
  const seen = await withDeadline(
    stream(port, {}, completed, () => {
      for (let i = 0; i < agents; i++) f.platform.release(`agent-${i}`);
    }),
    30_000,
    `the deploy of ${agents} agents completing on the stream`,
  );
  return { ...seen, f, port };
}

test("plan events carry status, counts and changed phases, never steps; small at any size", async () => {
  const small = await deployWatched(3);
  const large = await deployWatched(60);
  const planSizes = (evs: OperatorEvent[]) =>
    evs.filter((e) => e.type === "plan").map((e) => JSON.stringify(e.data).length);
  for (const run of [small, large]) {
    const plans = run.events.filter((e) => e.type === "plan");
    assert.ok(plans.length > 0, "plan events were sent");
    for (const p of plans) {
      const d = p.data as { phases: { steps?: unknown }[]; progress: unknown; status: string };
      assert.ok(d.progress && d.status, "status and counts");
      assert.ok(
        d.phases.every((ph) => ph.steps === undefined),
        `no steps in a plan event: ${JSON.stringify(d).slice(0, 200)}`,
      );
    }
    const last = plans.at(-1)!.data as { progress: { complete: number; total: number } };
    assert.deepEqual(last.progress, run.f.sched.engine.view("deploy").progress);
  }
  // The largest plan event does not grow with the cluster.
  assert.ok(Math.max(...planSizes(large.events)) <= Math.max(...planSizes(small.events)) + 20);
  assert.ok(Math.max(...planSizes(large.events)) < 600);
  // Bytes per finished step, as the client received them.
  const steps = large.f.sched.engine.view("deploy").progress.total;
  const perStep = large.bytes / steps;
  assert.ok(perStep <= 2048, `${perStep.toFixed(0)} bytes of stream per finished step`);
});

test("/v1/events/recent holds plan changes, not whole plans", async () => {
  const { port } = await deployWatched(20);
  const res = await get(port, "/v1/events/recent");
  const { events } = JSON.parse(res.body.toString()) as { events: OperatorEvent[] };
  const plans = events.filter((e) => e.type === "plan");
  assert.ok(plans.length > 0);
  assert.ok(!JSON.stringify(plans).includes('"steps"'), "no steps in a kept plan event");
});

test("answers are compressed when the client asks (br, gzip); the stream flows uncompressed", async () => {
  const f = await operatorFixture({ agents: 40 });
  fixtures.push(f);
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  const port = (f.app.server.address() as AddressInfo).port;
  const plain = await get(port, "/v1/plans/deploy");
  assert.equal(plain.headers["content-encoding"], undefined);
  const gz = await get(port, "/v1/plans/deploy", { "accept-encoding": "gzip" });
  assert.equal(gz.headers["content-encoding"], "gzip");
  assert.match(String(gz.headers.vary), /accept-encoding/i);
  // (Steps report progress meanwhile: the same plan, not the same bytes.)
  const shape = (text: string) => {
    const v = JSON.parse(text) as { id: string; progress: { total: number } };
    return [v.id, v.progress.total];
  };
  assert.deepEqual(shape(gunzipSync(gz.body).toString()), shape(plain.body.toString()));
  assert.ok(gz.body.length * 4 < plain.body.length, `${gz.body.length} of ${plain.body.length}`);
  const br = await get(port, "/v1/nodes", { "accept-encoding": "gzip, deflate, br" });
  assert.equal(br.headers["content-encoding"], "br");
  const nodes = JSON.parse(brotliDecompressSync(br.body).toString()) as { nodes: unknown[] };
  assert.equal(nodes.nodes.length, 40);
  // Unknown encodings only: sent as is.
  const other = await get(port, "/v1/plans/deploy", { "accept-encoding": "compress" });
  assert.equal(other.headers["content-encoding"], undefined);
  assert.deepEqual(shape(other.body.toString()), shape(plain.body.toString()));

  // The stream, asked for gzip, is sent as text and each event arrives as it happens.
  const live = await withDeadline(
    stream(
      port,
      { "accept-encoding": "gzip, br" },
      (evs) =>
        evs.some(
          (e) =>
            e.type === "step" &&
            (e.data as { step: { id: string; status: string } }).step.id === "install/agent-7" &&
            (e.data as { step: { status: string } }).step.status === "COMPLETE",
        ),
      () => f.platform.release("agent-7"),
    ),
    20_000,
    "agent-7's step completing on a stream asked for gzip",
  );
  assert.equal(live.encoding, undefined);

  // The recent events of a finished deploy, compressed.
  for (let i = 0; i < 40; i++) f.platform.release(`agent-${i}`);
  await f.sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 20_000);
  const recent = await get(port, "/v1/events/recent", { "accept-encoding": "gzip" });
  assert.equal(recent.headers["content-encoding"], "gzip");
  assert.ok(Array.isArray(JSON.parse(gunzipSync(recent.body).toString()).events));
});
