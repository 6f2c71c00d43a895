// The scheduler alone in its own process for bench/upgrade.ts (as bench:deploy runs it): it
// deploys the emulated cluster, asks for the upgrade through its API, times every upgrade step
// and reports over IPC. Started with fork() and one JSON argument; the scheduler's modules
// come from dist/ (plain JavaScript).
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { destination, pino } from "pino";
import type { StepView } from "../src/framework/plan/types.js";

export interface UpgradeBenchArgs {
  env: Record<string, string>;
  flags: Record<string, string | undefined>;
  agents: number;
  target: string;
  logFile?: string;
}

export interface UpgradeBenchReport {
  ok: boolean;
  error?: string;
  deployMs?: number;
  upgradeMs?: number;
  steps?: number;
  /** Per phase, in order: steps and wall time (from the previous phase's end to its last step's). */
  phases?: { id: string; steps: number; ms: number }[];
  /** Each SDS step's own time (start to end), ms. */
  sdsStepMs?: number[];
  cpuS?: number;
}

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = (p: string) => pathToFileURL(join(root, "dist", p)).href;

async function main(): Promise<UpgradeBenchReport> {
  const args = JSON.parse(process.argv[2]!) as UpgradeBenchArgs;
  const { startScheduler } = (await import(
    dist("src/cli/scheduler.js")
  )) as typeof import("../src/cli/scheduler.js");
  const { loadConfig } = (await import(
    dist("src/cli/config/load.js")
  )) as typeof import("../src/cli/config/load.js");
  const logger = pino({ level: "info" }, destination(args.logFile ?? "/dev/null"));
  const t0 = performance.now();
  const handle = await startScheduler(loadConfig({ env: args.env, flags: args.flags }), "bench", {
    logger,
    retry: { initialMs: 200, maxMs: 2000 },
  });
  const engine = handle.scheduler.engine;
  if (args.logFile)
    engine.on("step", (plan, phase, s) =>
      logger.info(
        { plan, phase, step: s.id, status: s.status, said: s.message, err: s.lastError },
        "step",
      ),
    );
  try {
    await engine.waitFor(
      "deploy",
      (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === args.agents,
      900_000,
    );
    const deployMs = performance.now() - t0;
    const began = new Map<string, number>();
    const took = new Map<string, { phase: string; ms: number; end: number }>();
    // The end is told by the step events themselves: the engine's waitFor builds a view of
    // the whole plan (O(steps)) at every step event, work of the measurement, not the framework.
    const completed = new Set<string>();
    let total = Infinity;
    let allDone: () => void = () => {};
    const finished = new Promise<void>((resolve) => (allDone = resolve));
    engine.on("step", (plan: string, phase: string, s: StepView) => {
      if (plan !== "upgrade") return;
      const now = performance.now();
      if (s.status === "IN_PROGRESS" && !began.has(s.id)) began.set(s.id, now);
      if (s.status === "COMPLETE" && began.has(s.id))
        took.set(s.id, { phase, ms: now - began.get(s.id)!, end: now });
      if (s.status === "COMPLETE") completed.add(s.id);
      else completed.delete(s.id);
      if (completed.size >= total) allDone();
    });
    const token = args.env.SCALEIO_FRAMEWORK_API_TOKEN;
    const start = performance.now();
    const r = await fetch(`${handle.apiUrl}/v1/plans/upgrade`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ version: args.target }),
    });
    if (r.status !== 202) throw new Error(`upgrade refused: ${r.status} ${await r.text()}`);
    // The plan is set before the answer.
    total = engine.view("upgrade").progress.total;
    if (completed.size >= total) allDone();
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise((_, reject) => {
        deadline = setTimeout(() => reject(new Error("upgrade not complete in 30 min")), 1_800_000);
      }),
    ]);
    clearTimeout(deadline);
    const upgradeMs = performance.now() - start;
    const done = engine.view("upgrade");
    if (done.status !== "COMPLETE")
      throw new Error(`upgrade plan ${done.status} with every step complete`);
    const phaseEnd = new Map<string, number>();
    for (const t of took.values())
      phaseEnd.set(t.phase, Math.max(phaseEnd.get(t.phase) ?? 0, t.end));
    let prev = start;
    const phases = done.phases.map((p) => {
      const end = phaseEnd.get(p.id) ?? prev;
      const row = { id: p.id, steps: p.steps.length, ms: end - prev };
      prev = end;
      return row;
    });
    return {
      ok: true,
      deployMs,
      upgradeMs,
      steps: done.progress.total,
      phases,
      sdsStepMs: [...took.values()]
        .filter((t) => t.phase === "sds" || t.phase === "sds-canary")
        .map((t) => t.ms),
      cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    };
  } finally {
    await handle.stop();
  }
}

process.on("disconnect", () => process.exit(0));
main().then(
  (report) => {
    process.send?.({ report });
    process.exit(0);
  },
  (err: unknown) => {
    process.send?.({ report: { ok: false, error: String(err) } });
    process.exit(1);
  },
);
