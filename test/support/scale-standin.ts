// A stand-in operator API for the web UI at scale: the real web/ files (served as the scheduler
// serves them, with its Content-Security-Policy) and synthetic data in the real API's shapes
// (src/api/openapi.ts) for many agents, with a driver that changes steps at a set rate on the
// event stream (step events, throttled plan changes, a warning line per failure). Listens on
// 127.0.0.1 only.
import Fastify, { type FastifyInstance } from "fastify";
import type { ServerResponse } from "node:http";
import { registerUi } from "../../src/api/ui-routes.js";

type StepStatus = "PENDING" | "IN_PROGRESS" | "COMPLETE" | "ERROR";

interface Step {
  id: string;
  name: string;
  status: StepStatus;
  attempts: number;
  updatedAt: number;
  message?: string;
  lastError?: string;
  hostname?: string;
}

interface Phase {
  id: string;
  name: string;
  strategy: "serial" | "parallel";
  dependsOn: string[];
  status: string;
  paused: boolean;
  steps: Step[];
}

interface Plan {
  id: string;
  name: string;
  strategy: "serial" | "parallel";
  status: string;
  paused: boolean;
  phases: Phase[];
  progress: { complete: number; total: number };
}

interface NodeStep {
  planId: string;
  phaseId: string;
  stepId: string;
  name: string;
  status: StepStatus;
  message?: string;
  lastError?: string;
  updatedAt: number;
}

interface Node {
  agentId: string;
  hostname: string;
  ip: string;
  faultDomain: { region: string; zone: string };
  attributes: Record<string, string>;
  lost: boolean;
  lastSeen: number;
  roles: string[];
  devices: { path: string; domain: string; pool: string }[];
  client: { kind: string; id: string; state: string };
  versions: Record<string, string>;
  steps: NodeStep[];
  lastError?: string;
}

export interface StandinOptions {
  agents: number;
  /** Step changes per second once driving (each change is one step event). */
  stepsPerSecond: number;
  /** How many agents' steps fail while driving (spread over the run). */
  failures: number;
  /** The folder of UI files to serve (default: web/). */
  webRoot?: string;
}

export interface Standin {
  url: string;
  app: FastifyInstance;
  nodes: Node[];
  /** Starts changing steps at the set rate. */
  drive(): void;
  /** Stops changing steps. */
  pause(): void;
  /** Step changes sent so far. */
  readonly changes: number;
  /** Agents whose step failed so far. */
  readonly failed: string[];
  /** Every event and log line sent so far (bytes of `data`). */
  readonly bytes: number;
  close(): Promise<void>;
}

const PHASES = ["install", "sds", "sdc", "volumes"] as const;
const REGIONS = ["eu-west", "eu-central"];
const ZONES = ["a", "b", "c"];
const VERSION = "2.0-13000.211";

/** A Mesos-like agent id (about 40 characters), stable per index. */
function agentId(i: number): string {
  const hex = (n: number, w: number) => (n >>> 0).toString(16).padStart(w, "0").slice(-w);
  return `${hex(0x7d3f6a1c + i * 2654435761, 8)}-2b4e-4f3a-9c1d-${hex(i * 40503, 12)}-S${i}`;
}

function aggregate(statuses: string[], paused: boolean): string {
  if (statuses.every((s) => s === "COMPLETE")) return "COMPLETE";
  if (paused) return "WAITING";
  if (statuses.includes("ERROR")) return "ERROR";
  if (statuses.some((s) => s === "IN_PROGRESS" || s === "COMPLETE")) return "IN_PROGRESS";
  return "PENDING";
}

export async function startScaleStandin(opts: StandinOptions): Promise<Standin> {
  const now = Date.now();
  const nodes: Node[] = [];
  for (let i = 1; i <= opts.agents; i++) {
    const region = REGIONS[i % REGIONS.length]!;
    const zone = ZONES[Math.floor(i / REGIONS.length) % ZONES.length]!;
    const ip = `127.151.${Math.floor((i - 1) / 250)}.${((i - 1) % 250) + 1}`;
    nodes.push({
      agentId: agentId(i),
      hostname: `storage-${i}.dc1.example`,
      ip,
      faultDomain: { region, zone },
      attributes: { rack: `r${i % 40}` },
      lost: false,
      lastSeen: now,
      roles: i <= 3 ? ["mdm", "sds", "sdc"] : ["sds", "sdc"],
      devices: [{ path: "/dev/sdb", domain: "pd1", pool: "sp1" }],
      client: { kind: "SDC", id: `sdc-${i}`, state: "connected" },
      versions: { sds: VERSION, sdc: VERSION },
      steps: [],
    });
  }
  // The deploy: installs done, the rest to do (phase after phase, as the driver goes).
  const phases: Phase[] = PHASES.map((p, k) => ({
    id: p,
    name: p,
    strategy: "parallel",
    dependsOn: k ? [PHASES[k - 1]!] : [],
    status: "PENDING",
    paused: false,
    steps: nodes.map((n) => ({
      id: `${p}/${n.agentId}`,
      name: `${p} on ${n.hostname}`,
      status: p === "install" ? "COMPLETE" : "PENDING",
      attempts: p === "install" ? 1 : 0,
      updatedAt: now,
      hostname: n.hostname,
      ...(p === "install" ? { message: "installed" } : {}),
    })),
  }));
  const plan: Plan = {
    id: "deploy",
    name: "deploy",
    strategy: "serial",
    status: "IN_PROGRESS",
    paused: false,
    phases,
    progress: { complete: 0, total: 0 },
  };
  const byAgent = new Map(nodes.map((n) => [n.agentId, n]));
  const recompute = () => {
    for (const ph of phases)
      ph.status = aggregate(
        ph.steps.map((s) => s.status),
        ph.paused,
      );
    const all = phases.flatMap((p) => p.steps);
    plan.progress = {
      complete: all.filter((s) => s.status === "COMPLETE").length,
      total: all.length,
    };
    plan.status = aggregate(
      phases.map((p) => p.status),
      plan.paused,
    );
  };
  const nodeStepOf = (phase: Phase, step: Step) => {
    const agent = step.id.slice(phase.id.length + 1);
    return byAgent.get(agent)!.steps.find((s) => s.stepId === step.id)!;
  };
  for (const ph of phases)
    for (const s of ph.steps) {
      const node = byAgent.get(s.id.slice(ph.id.length + 1))!;
      node.steps.push({
        planId: plan.id,
        phaseId: ph.id,
        stepId: s.id,
        name: s.name,
        status: s.status,
        ...(s.message ? { message: s.message } : {}),
        updatedAt: s.updatedAt,
      });
    }
  recompute();

  // ---- events ----
  const streams = new Set<ServerResponse>();
  const recent: { id: number; type: string; time: number; data: unknown }[] = [];
  let seq = 0;
  let bytes = 0;
  const publish = (type: string, data: unknown) => {
    const e = { id: ++seq, type, time: Date.now(), data };
    recent.push(e);
    if (recent.length > 500) recent.shift();
    const text = JSON.stringify(data);
    bytes += text.length;
    const frame = `id: ${e.id}\nevent: ${type}\ndata: ${text}\n\n`;
    for (const s of streams) s.write(frame);
  };
  const log = (level: string, msg: string) => publish("log", { time: Date.now(), level, msg });

  const summary = () => ({
    platform: "scaleio",
    framework: { id: "fw-1", subscribed: true, role: "scaleio", name: "scaleio" },
    health: failed.length ? "degraded" : plan.status === "COMPLETE" ? "healthy" : "deploying",
    conditions: [],
    problems: [],
    cluster: {
      systemId: "a1b2c3d4e5f60718",
      systemName: "stand-in",
      state: "normal",
      components: [
        { kind: "SDS", total: nodes.length, ready: nodes.length - failed.length },
        { kind: "SDC", total: nodes.length, ready: nodes.length },
      ],
      details: { "MDM cluster": "3 nodes" },
      capacity: { rawBytes: 2 ** 50, usableBytes: 2 ** 49, freeBytes: 2 ** 48 },
      alerts: [],
      observedAt: Date.now(),
    },
    plans: [
      {
        id: plan.id,
        status: plan.status,
        complete: plan.progress.complete,
        total: plan.progress.total,
      },
    ],
  });

  // ---- the driver: steps go PENDING → IN_PROGRESS → COMPLETE, phase after phase ----
  const failed: string[] = [];
  let changes = 0;
  let timer: NodeJS.Timeout | undefined;
  let planTimer: NodeJS.Timeout | undefined;
  let credit = 0;
  let lastTick = 0;
  const changedPhases = new Set<string>();
  const work: { phase: Phase; step: Step }[] = [];
  for (const ph of phases.slice(1)) for (const step of ph.steps) work.push({ phase: ph, step });
  let next = 0; // the next step to start
  let finished = 0;
  const running: { phase: Phase; step: Step }[] = [];
  // Failures spread over the run: every so many started steps, one fails (a different agent).
  const failEvery = Math.max(1, Math.floor(400 / Math.max(opts.failures, 1)));

  const change = (
    phase: Phase,
    step: Step,
    status: StepStatus,
    message: string,
    error?: string,
  ) => {
    step.status = status;
    step.updatedAt = Date.now();
    step.message = message;
    if (status === "IN_PROGRESS") step.attempts++;
    if (error) step.lastError = error;
    const ns = nodeStepOf(phase, step);
    Object.assign(ns, { status, message, updatedAt: step.updatedAt });
    if (error) ns.lastError = error;
    const node = byAgent.get(step.id.slice(phase.id.length + 1))!;
    if (error) node.lastError = error;
    const before = phase.status;
    phase.status = aggregate(
      phase.steps.map((s) => s.status),
      phase.paused,
    );
    if (phase.status !== before) changedPhases.add(phase.id);
    changes++;
    publish("step", { planId: plan.id, phaseId: phase.id, step: { ...step } });
    if (error) log("warn", `${plan.id}: ${step.name} failed: ${error}`);
  };

  const tick = () => {
    // From the clock, so that a late timer (a busy machine) catches up rather than slows.
    const now = Date.now();
    credit += ((now - lastTick) * opts.stepsPerSecond) / 1000;
    lastTick = now;
    while (credit >= 1) {
      credit--;
      // Finish the oldest running step, or start the next one (keeps about 40 running).
      if (running.length > 40 || (next >= work.length && running.length)) {
        const { phase, step } = running.shift()!;
        const fails = failed.length < opts.failures && ++finished % failEvery === 5 % failEvery;
        if (fails) {
          const agent = step.id.slice(phase.id.length + 1);
          failed.push(agent);
          change(
            phase,
            step,
            "ERROR",
            "failed",
            `device /dev/sdb on ${byAgent.get(agent)!.hostname} is read-only`,
          );
        } else change(phase, step, "COMPLETE", "done");
      } else if (next < work.length) {
        const w = work[next++]!;
        running.push(w);
        change(w.phase, w.step, "IN_PROGRESS", "running");
      } else return;
    }
  };

  const planChange = () => {
    const before = plan.status;
    recompute();
    if (!changedPhases.size && before === plan.status) return;
    publish("plan", {
      id: plan.id,
      name: plan.name,
      status: plan.status,
      paused: plan.paused,
      progress: plan.progress,
      phases: phases
        .filter((p) => changedPhases.has(p.id))
        .map((p) => ({ id: p.id, status: p.status, paused: p.paused })),
    });
    changedPhases.clear();
  };

  const stop = () => {
    clearInterval(timer);
    clearInterval(planTimer);
    timer = planTimer = undefined;
  };

  // ---- routes ----
  const app = Fastify({ logger: false, bodyLimit: 1 << 20 });
  registerUi(app, opts.webRoot ? { root: opts.webRoot } : {});
  app.get("/v1/summary", async () => summary());
  app.get("/v1/nodes", async () => ({ nodes }));
  app.get("/v1/plans", async () => {
    recompute();
    return { plans: [plan] };
  });
  app.get<{ Params: { id: string } }>("/v1/plans/:id", async (req, reply) => {
    if (req.params.id !== plan.id) return reply.code(404).send({ error: "unknown plan" });
    recompute();
    return plan;
  });
  for (const verb of ["pause", "resume", "restart", "force-complete"])
    app.post<{ Params: { id: string } }>(`/v1/plans/:id/${verb}`, async (_req, reply) =>
      reply.code(401).send({ error: "missing or wrong bearer token", code: "UNAUTHORIZED" }),
    );
  app.get("/v1/health", async () => ({ status: summary().health, conditions: [] }));
  app.get("/v1/pools", async () => ({
    pools: [
      {
        object: "pool/pd1/sp1",
        id: "id-sp1",
        name: "sp1",
        group: "pd1",
        usedPercent: 41.5,
        sparePercentage: 10,
        capacity: {
          totalBytes: 2 ** 49,
          usedBytes: 2 ** 47,
          spareBytes: 2 ** 45,
          freeBytes: 2 ** 48,
        },
      },
    ],
  }));
  app.get("/v1/health/history", async () => ({ samples: [] }));
  app.get("/v1/events/recent", async () => ({ events: recent }));
  app.get("/v1/events", async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    res.write(": connected\n\n");
    streams.add(res);
    req.raw.on("close", () => streams.delete(res));
  });
  app.addHook("preClose", async () => {
    for (const s of streams) s.end();
    streams.clear();
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.server.address() as { port: number }).port;
  log("info", `stand-in with ${nodes.length} agents ready`);

  return {
    url: `http://127.0.0.1:${port}`,
    app,
    nodes,
    drive() {
      if (!timer) lastTick = Date.now();
      timer ??= setInterval(tick, 50);
      planTimer ??= setInterval(planChange, 500);
    },
    pause: stop,
    get changes() {
      return changes;
    },
    get failed() {
      return failed;
    },
    get bytes() {
      return bytes;
    },
    async close() {
      stop();
      await app.close();
    },
  };
}
