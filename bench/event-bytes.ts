// Event stream bytes per finished step (issue 20): a deploy of per-agent steps (three phases
// of one step per agent, then one verify step) on a real plan engine, agent registry,
// operator view and API server, followed by one client of /v1/events over a socket on
// 127.0.0.1. Target: at most 2 KB of stream per finished step, whatever the cluster's size.
//
// "before" is the same stream with each plan event as it was until issue 20: the whole plan
// view (counted from the engine's own plan views, which the view used to publish as they
// were). "after" is what the client received. Also: /v1/events/recent and a whole plan view
// as JSON, plain and compressed (Accept-Encoding br, gzip).
//
// Usage: [STEP_MS=20] npm run bench:events [-- 12 100]
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApiServer } from "../src/api/server.js";
import { Secret } from "../src/common/secret.js";
import type { OperatorEvent } from "../src/framework/events.js";
import { OperatorView } from "../src/framework/operator-view.js";
import type { PlanView } from "../src/framework/plan/types.js";
import {
  FrameworkScheduler,
  type Platform,
  type PlatformContext,
} from "../src/framework/scheduler.js";
import { parseFrames } from "../src/cli/operator/sse.js";
import { silentLogger } from "../src/mesos/logger.js";
import { FileStateStore } from "../src/store/file-store.js";
import { offer } from "../test/support/operator-fixture.js";

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [12, 100];
const TARGET = 2048;
/** How long a step works (ms, around this); longer deploys had more whole plan views. */
const STEP_MS = Number(process.env.STEP_MS ?? 20);

/** Steps that report progress twice and finish after a few milliseconds, as deploy steps do. */
class DeployLikePlatform implements Platform {
  readonly name = "bench";
  ctx!: PlatformContext;

  async start(ctx: PlatformContext): Promise<void> {
    this.ctx = ctx;
    const agents = ctx.agents.active();
    const perAgent = (phase: string, verb: string, dependsOn: string[]) => ({
      id: phase,
      name: phase,
      strategy: "parallel" as const,
      maxParallel: 20,
      dependsOn,
      steps: agents.map((a) => ({
        id: `${phase}/${a.agentId}`,
        name: `${verb} on ${a.hostname}`,
        asset: a.agentId,
        run: async (c: { progress(m: string): void }) => {
          c.progress(`${verb}: connecting to ${a.hostname}`);
          await new Promise((r) => setTimeout(r, (STEP_MS / 2) * (0.5 + Math.random())));
          c.progress(`${verb}: waiting for the node to report`);
          await new Promise((r) => setTimeout(r, (STEP_MS / 2) * (0.5 + Math.random())));
          return `${verb}: done in 2 attempts`;
        },
      })),
    });
    await ctx.engine.setPlan({
      id: "deploy",
      name: "Deploy",
      strategy: "serial",
      phases: [
        perAgent("packages", "install packages", []),
        perAgent("servers", "add the storage server", ["packages"]),
        perAgent("clients", "map the storage client", ["servers"]),
        {
          id: "verify",
          name: "verify",
          strategy: "serial",
          steps: [{ id: "verify/all", name: "verify the cluster", run: async () => "verified" }],
        },
      ],
    });
  }

  async recompute(): Promise<void> {}

  async stop(): Promise<void> {}
}

/** Size of the answer to GET `path` with `encoding` asked for. */
function answerBytes(port: number, path: string, encoding?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        headers: encoding ? { "accept-encoding": encoding } : {},
      },
      (res) => {
        let n = 0;
        res.on("data", (c: Buffer) => (n += c.length));
        res.on("end", () => resolve(n));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

interface Result {
  agents: number;
  steps: number;
  events: number;
  afterBytes: number;
  beforeBytes: number;
  recent: { plain: number; gzip: number; br: number };
  planView: { plain: number; gzip: number; br: number };
  seconds: number;
}

async function run(agents: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "event-bytes-"));
  const store = await FileStateStore.open(join(dir, "state"));
  const platform = new DeployLikePlatform();
  const sched = await FrameworkScheduler.create({
    // Never started: nothing connects here.
    master: "http://127.0.0.1:9",
    frameworkInfo: { user: "root", name: "scaleio-bench", roles: ["scaleio"] },
    role: "scaleio",
    store,
    platform,
    secrets: { adminPassword: new Secret("bench-password", "bench") },
    executorFor: () => {
      throw new Error("no executors here");
    },
    logger: silentLogger,
  });
  for (let i = 0; i < agents; i++)
    await sched.agents.observe(
      offer(`5e8e2b1c-7f0a-4d3e-9a51-0c7d1e2f3a4b-S${i}`, `node-${i}.storage.example.net`),
    );
  const view = new OperatorView(sched, { capacity: 5000 });
  const app = buildApiServer({
    version: "bench",
    vault: sched.vault,
    health: { subscribed: () => true, checkStore: async () => {} },
    operator: view,
    apiToken: new Secret("bench-token-0123456789", "bench"),
    protectReads: false,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as AddressInfo).port;

  // The plan events as they were: the engine's whole views, one frame each.
  let oldPlanBytes = 0;
  const onPlan = (v: PlanView) =>
    (oldPlanBytes += Buffer.byteLength(`id: 00000\nevent: plan\ndata: ${JSON.stringify(v)}\n\n`));
  sched.engine.on("plan", onPlan);
  view.start();

  // One client, from before the deploy starts.
  let bytes = 0;
  let planBytes = 0;
  const received: OperatorEvent[] = [];
  let buf = "";
  const streamed = new Promise<() => void>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/v1/events" }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        bytes += Buffer.byteLength(chunk);
        buf += chunk;
        const r = parseFrames(buf);
        buf = r.rest;
        for (const e of r.events) {
          received.push(e);
          if (e.type === "plan")
            planBytes += Buffer.byteLength(
              `id: ${e.id}\nevent: plan\ndata: ${JSON.stringify(e.data)}\n\n`,
            );
        }
      });
      resolve(() => req.destroy());
    });
    req.on("error", reject);
    req.end();
  });
  const close = await streamed;

  const started = Date.now();
  await platform.start({
    engine: sched.engine,
    agents: sched.agents,
    store,
    logger: silentLogger,
    runNode: () => Promise.reject(new Error("no executors here")),
  });
  sched.engine.start();
  await sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 600_000);
  const seconds = (Date.now() - started) / 1000;
  // Until the client has the plan's completion and everything published up to now.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const last = received.at(-1)?.id ?? 0;
    const done = received.some(
      (e) => e.type === "plan" && (e.data as { status: string }).status === "COMPLETE",
    );
    if (done && last >= view.events.latestId) break;
    if (Date.now() > deadline) throw new Error("the stream did not catch up within 30 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  close();
  const steps = new Set(
    received
      .filter((e) => e.type === "step")
      .map((e) => e.data as { step: { id: string; status: string } })
      .filter((d) => d.step.status === "COMPLETE")
      .map((d) => d.step.id),
  ).size;
  const sizesOf = async (path: string) => ({
    plain: await answerBytes(port, path),
    gzip: await answerBytes(port, path, "gzip"),
    br: await answerBytes(port, path, "br"),
  });
  const recent = await sizesOf("/v1/events/recent");
  const planView = await sizesOf("/v1/plans/deploy");
  sched.engine.off("plan", onPlan);
  await view.stop();
  await app.close();
  await sched.engine.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    agents,
    steps,
    events: received.length,
    afterBytes: bytes,
    beforeBytes: bytes - planBytes + oldPlanBytes,
    recent,
    planView,
    seconds,
  };
}

const kb = (n: number) => `${(n / 1024).toFixed(2)} KB`;
let ok = true;
for (const n of SIZES) {
  const r = await run(n);
  const before = r.beforeBytes / r.steps;
  const after = r.afterBytes / r.steps;
  ok &&= after <= TARGET;
  console.log(
    `${String(r.agents).padStart(4)} agents: ${r.steps} finished steps, ${r.events} events in ${r.seconds.toFixed(1)} s; ` +
      `stream per finished step: before ${kb(before)}, after ${kb(after)} (target <= 2 KB)`,
  );
  console.log(
    `             /v1/events/recent: ${kb(r.recent.plain)} (gzip ${kb(r.recent.gzip)}, br ${kb(r.recent.br)}); ` +
      `GET /v1/plans/deploy: ${kb(r.planView.plain)} (gzip ${kb(r.planView.gzip)}, br ${kb(r.planView.br)})`,
  );
}
if (!ok) {
  console.log("over the target");
  process.exitCode = 1;
}
