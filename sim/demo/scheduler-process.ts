// The scheduler alone in its own process, for the deploy benchmark (bench/deploy.ts): so its
// time and memory are not mixed with the emulator's or the Mesos master's. Started with
// fork() and one JSON argument; reports over IPC once the deploy plan covers every agent and
// is complete, then stops on {stop: true}.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { destination, pino } from "pino";
import { loadConfig } from "../../src/cli/config/load.js";
import { startScheduler } from "../../src/cli/scheduler.js";
import type { PlanView } from "../../src/framework/plan/types.js";

export interface SchedulerProcessArgs {
  env: Record<string, string>;
  flags: Record<string, string | undefined>;
  /** The deploy plan must cover this many agents. */
  agents: number;
  deadlineMs: number;
  logFile?: string;
}

export interface SchedulerProcessReport {
  ok: boolean;
  error?: string;
  /** startScheduler() called to deploy plan complete. */
  deployMs: number;
  /** Process start (before its modules loaded) to deploy plan complete. */
  processMs: number;
  steps: number;
  heapPeakMb: number;
  /** Peak resident set (VmHWM) of this process. */
  rssPeakMb: number;
  /** CPU time (user + system) the scheduler process used. */
  cpuS: number;
}

const heapUsed = () => getHeapStatistics().used_heap_size;

function vmHwmMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]!) as SchedulerProcessArgs;
  let heapPeak = 0;
  // Cheap (no RSS read): the peak RSS comes from the kernel's high-water mark at the end.
  // BENCH_HEAP_SNAPSHOT_OVER_MB=N (with BENCH_HEAP_SNAPSHOT=<file>.over): one snapshot the
  // first time the used heap passes N MB (a snapshot collects garbage first: what is live).
  const overMb = Number(process.env.BENCH_HEAP_SNAPSHOT_OVER_MB ?? 0);
  let overTaken = false;
  const sample = () => {
    const used = heapUsed();
    heapPeak = Math.max(heapPeak, used);
    if (overMb > 0 && !overTaken && used > overMb * 2 ** 20 && process.env.BENCH_HEAP_SNAPSHOT) {
      overTaken = true;
      writeHeapSnapshot(`${process.env.BENCH_HEAP_SNAPSHOT}.over`);
    }
  };
  const sampler = setInterval(sample, 50);
  const logger = pino({ level: "info" }, destination(args.logFile ?? "/dev/null"));
  const t0 = performance.now();
  const handle = await startScheduler(loadConfig({ env: args.env, flags: args.flags }), "bench", {
    logger,
    retry: { initialMs: 200, maxMs: 2000 },
  });
  const engine = handle.scheduler.engine;
  if (args.logFile) {
    // With a log file, step transitions are logged too (where does the time go?).
    engine.on("step", (plan, phase, s) =>
      logger.info({ plan, phase, step: s.id, status: s.status, err: s.lastError }, "step"),
    );
  }
  const report = (ok: boolean, steps: number, error?: string) => {
    sample();
    // BENCH_HEAP_SNAPSHOT=<file>: what the scheduler holds once the deploy is over.
    if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT);
    const r: SchedulerProcessReport = {
      ok,
      ...(error ? { error } : {}),
      deployMs: performance.now() - t0,
      processMs: performance.now(),
      steps,
      heapPeakMb: heapPeak / 2 ** 20,
      rssPeakMb: vmHwmMb(),
      cpuS: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    };
    process.send?.({ report: r });
  };
  try {
    // Complete when the last phase's step completes and the plan covers every agent: one
    // view then, so the bench adds no per-step work to the process it measures.
    const v = await new Promise<PlanView>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`deploy not complete within ${args.deadlineMs} ms`)),
        args.deadlineMs,
      );
      engine.on("step", (plan, phase, s) => {
        if (plan !== "deploy" || phase !== "verify" || s.status !== "COMPLETE") return;
        const p = engine.view("deploy");
        if (p.status !== "COMPLETE" || p.phases[0]!.steps.length !== args.agents) return;
        clearTimeout(timer);
        resolve(p);
      });
    });
    report(true, v.progress.total);
  } catch (err) {
    const v = engine.planIds().includes("deploy") ? engine.view("deploy") : undefined;
    const open = v
      ? v.phases
          .flatMap((p) => p.steps)
          .filter((s) => s.status !== "COMPLETE")
          .slice(0, 5)
          .map((s) => `${s.id} ${s.status}${s.lastError ? `: ${s.lastError}` : ""}`)
      : [];
    report(
      false,
      v?.progress.complete ?? 0,
      `${(err as Error).message}; facts steps ${v?.phases[0]?.steps.length ?? 0}; not done: ${open.join("; ")}`,
    );
  }
  process.on("message", (m: { stop?: boolean }) => {
    if (!m.stop) return;
    clearInterval(sampler);
    void handle.stop().finally(() => process.exit(0));
  });
}

process.on("disconnect", () => process.exit(0));
main().catch((err: unknown) => {
  process.send?.({ report: { ok: false, error: String(err) } });
  process.exit(1);
});
