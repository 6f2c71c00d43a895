// Operator API at scale (issue 20): GET /v1/nodes over 1,000 agents and a deploy plan of
// five steps per agent (5,001 steps) on a real plan engine, agent registry, operator view and
// API server. Most agents are done, 12 failed in their second step (three more waiting
// behind it), 30 are at work on their last step.
//
// "before" is the node list as it was built until issue 20 (every plan viewed, every step
// scanned for every agent; the code is copied below), serialised as JSON; a filtered page
// then cost the same, filtered afterwards. "after" is the API's answer through the server
// (fastify inject: routing, validation, JSON), for the whole list and for one filtered page.
// Medians (and 90th percentiles) of repeated runs, in ms.
//
// Usage: npm run bench:api [-- --agents 1000] [--runs 30]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApiServer } from "../src/api/server.js";
import { Secret } from "../src/common/secret.js";
import type { AgentRecord } from "../src/framework/agents.js";
import { OperatorView, type NodeStep, type NodeView } from "../src/framework/operator-view.js";
import { PermanentStepError, type PlanView } from "../src/framework/plan/types.js";
import {
  FrameworkScheduler,
  type Platform,
  type PlatformContext,
  type PlatformNodeInfo,
} from "../src/framework/scheduler.js";
import { silentLogger } from "../src/mesos/logger.js";
import { FileStateStore } from "../src/store/file-store.js";
import { offer } from "../test/support/operator-fixture.js";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number) =>
  argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt;
const AGENTS = arg("--agents", 1000);
const RUNS = arg("--runs", 30);
const PHASES = ["facts", "packages", "servers", "clients", "consumers"];
const FAILED = 12;
const AT_WORK = 30;

const idOf = (i: number) => `5e8e2b1c-7f0a-4d3e-9a51-0c7d1e2f3a4b-S${i}`;
const hostOf = (i: number) => `127.151.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;

class BenchPlatform implements Platform {
  readonly name = "bench";
  /** Released at the end: the steps of agents at work. */
  private release!: () => void;
  private readonly held = new Promise<void>((r) => (this.release = r));

  async start(ctx: PlatformContext): Promise<void> {
    const agents = ctx.agents.active();
    // Every 83rd agent fails its second step; every 31st (not failing) is at work on its last.
    const fails = new Set(
      agents
        .filter((_, i) => i % 83 === 5)
        .slice(0, FAILED)
        .map((a) => a.agentId),
    );
    const works = new Set(
      agents
        .filter((a, i) => i % 31 === 7 && !fails.has(a.agentId))
        .slice(0, AT_WORK)
        .map((a) => a.agentId),
    );
    await ctx.engine.setPlan({
      id: "deploy",
      name: "Deploy",
      strategy: "parallel",
      phases: [
        ...PHASES.map((phase, k) => ({
          id: phase,
          name: phase,
          strategy: "parallel" as const,
          steps: agents.map((a) => ({
            id: `${phase}/${a.agentId}`,
            name: `${phase} on ${a.hostname}`,
            asset: a.agentId,
            ...(k > 0 ? { after: [`${PHASES[k - 1]}/${a.agentId}`] } : {}),
            run: async (c: { progress(m: string): void }) => {
              c.progress(`${phase}: talking to ${a.hostname}`);
              if (k === 1 && fails.has(a.agentId))
                throw new PermanentStepError(`${phase}: ${a.hostname} refused the package`);
              if (k === PHASES.length - 1 && works.has(a.agentId)) await this.held;
              return `${phase}: done`;
            },
          })),
        })),
        {
          id: "verify",
          name: "verify",
          strategy: "serial",
          dependsOn: PHASES,
          steps: [{ id: "verify/all", name: "verify the cluster", run: async () => "verified" }],
        },
      ],
    });
  }

  finish(): void {
    this.release();
  }

  async recompute(): Promise<void> {}
  async stop(): Promise<void> {}

  nodeInfo(agentId: string): PlatformNodeInfo {
    return {
      roles: ["sds", "sdc", "lia"],
      devices: [{ path: "/dev/sdb", domain: "pd1", pool: "pool1" }],
      client: { kind: "SDC", id: `guid-${agentId}`, state: "Connected" },
    };
  }
}

/** The node list as it was built before the index (copied from operator-view.ts). */
function nodesBefore(view: OperatorView): NodeView[] {
  const src = view.source;
  const plans: PlanView[] = src.engine.planIds().map((id) => src.engine.view(id));
  const build = (a: AgentRecord): NodeView => {
    const info = src.platform.nodeInfo?.(a.agentId);
    const steps: NodeStep[] = [];
    for (const p of plans)
      for (const ph of p.phases)
        for (const s of ph.steps)
          if (s.asset === a.agentId || (s.asset === undefined && s.id.endsWith(`/${a.agentId}`)))
            steps.push({
              planId: p.id,
              phaseId: ph.id,
              stepId: s.id,
              name: s.name,
              status: s.status,
              ...(s.message !== undefined ? { message: s.message } : {}),
              ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
              updatedAt: s.updatedAt,
            });
    const newestError = steps
      .filter((s) => s.lastError && s.status !== "COMPLETE")
      .sort((x, y) => y.updatedAt - x.updatedAt)[0]?.lastError;
    const lastError = newestError ?? info?.problems?.[0];
    return {
      agentId: a.agentId,
      hostname: a.hostname,
      ip: a.ip,
      ...(a.faultDomain ? { faultDomain: a.faultDomain } : {}),
      attributes: a.attributes,
      lost: a.lostSince !== undefined,
      ...(a.lostSince !== undefined ? { lostSince: a.lostSince } : {}),
      lastSeen: a.lastSeen,
      roles: info?.roles ?? [],
      devices: info?.devices ?? [],
      ...(info?.client ? { client: info.client } : {}),
      steps,
      ...(lastError ? { lastError } : {}),
    };
  };
  return src.agents.all().map(build);
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `median ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms`;
}

async function time(fn: () => unknown | Promise<unknown>, runs = RUNS): Promise<number[]> {
  await fn(); // warm up
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "operator-api-"));
  const store = await FileStateStore.open(join(dir, "state"));
  const platform = new BenchPlatform();
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
  await Promise.all(
    Array.from({ length: AGENTS }, (_, i) => sched.agents.observe(offer(idOf(i), hostOf(i)))),
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
  view.start();
  const t0 = Date.now();
  await platform.start({
    engine: sched.engine,
    agents: sched.agents,
    store,
    logger: silentLogger,
    runNode: () => Promise.reject(new Error("no executors here")),
  });
  sched.engine.start();
  const failed = Math.min(FAILED, Math.ceil((AGENTS - 5) / 83));
  await sched.engine.waitFor(
    "deploy",
    (v) => {
      const all = v.phases.flatMap((p) => p.steps);
      const n = (s: string) => all.filter((x) => x.status === s).length;
      return n("ERROR") === failed && n("PENDING") === failed * 3 + 1 && n("IN_PROGRESS") > 0;
    },
    300_000,
  );
  // Let the last step events and the throttled plan view settle.
  await new Promise((r) => setTimeout(r, 2500));
  const steps = sched.engine.view("deploy").progress.total;
  console.log(
    `world: ${AGENTS} agents, deploy plan of ${steps} steps (${failed} agents failed, some at work), built in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );

  const get = async (url: string) => {
    const r = await app.inject({ url });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`);
    return r;
  };
  const same = JSON.stringify(nodesBefore(view)) === (await get("/v1/nodes")).body.slice(9, -1);
  console.log(`unfiltered answer identical to the old one: ${same}`);
  const errors = JSON.parse((await get("/v1/nodes?status=error&limit=50")).body) as {
    nodes: NodeView[];
  };
  const page = "/v1/nodes?status=error&limit=50";
  const textPage = "/v1/nodes?q=127.151.3.*&limit=50";
  const before = await time(() => JSON.stringify({ nodes: nodesBefore(view) }));
  const beforePage = await time(() =>
    JSON.stringify({
      nodes: nodesBefore(view)
        .filter((n) => n.steps.some((s) => s.status === "ERROR"))
        .slice(0, 50),
    }),
  );
  const whole = await time(() => get("/v1/nodes"));
  const wholeModel = await time(() => JSON.stringify({ nodes: view.nodes() }));
  const filtered = await time(() => get(page));
  const textFiltered = await time(() => get(textPage));
  const sorted = await time(() => get("/v1/nodes?sort=status&limit=50"));
  const planWhole = await time(() => get("/v1/plans/deploy"));
  const planErrors = await time(() => get("/v1/plans/deploy?status=ERROR"));
  const planHost = await time(() => get("/v1/plans/deploy?agent=127.151.2.17"));
  console.log(`GET /v1/nodes, ${AGENTS} agents, ${RUNS} runs each:`);
  console.log(`  before, whole list (old scan + JSON):            ${stats(before)}`);
  console.log(`  before, failed nodes (old scan, then filtered):  ${stats(beforePage)}`);
  console.log(`  after,  whole list (view.nodes() + JSON):        ${stats(wholeModel)}`);
  console.log(`  after,  GET /v1/nodes (through the server):      ${stats(whole)}`);
  console.log(`  after,  GET ${page} (${errors.nodes.length} nodes): ${stats(filtered)}`);
  console.log(`  after,  GET ${textPage}:     ${stats(textFiltered)}`);
  console.log(`  after,  GET /v1/nodes?sort=status&limit=50:      ${stats(sorted)}`);
  console.log(`GET /v1/plans/deploy (${steps} steps):`);
  console.log(`  whole:                                           ${stats(planWhole)}`);
  console.log(`  ?status=ERROR:                                   ${stats(planErrors)}`);
  console.log(`  ?agent=127.151.2.17:                             ${stats(planHost)}`);

  platform.finish();
  await view.stop();
  await app.close();
  await sched.engine.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
