// Crash anywhere: the real scheduler process is SIGKILLed right after each step of the deploy
// plan completes (and a few times while a step is in progress), restarted on the same state
// directory each time, and the deploy still completes with exactly the expected ScaleIO
// objects (nothing duplicated, no probe volume left) and no reservation Mesos holds for the
// role that the framework does not use.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import {
  startDeployEnv,
  type DeployEnv,
  type SchedulerProc,
  type StepLine,
} from "../support/deploy-env.js";
import { assertExpectedObjects, assertMesosClean } from "../support/deploy-assertions.js";
import { freePort } from "../support/zookeeper.js";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

let env: DeployEnv | undefined;
after(async () => {
  await env?.stop();
});

/** Steps killed while IN_PROGRESS once each (cluster-side and node-side ones). */
const MID_STEP = ["mdm-cluster/", "gateway/", "storage/domains", "join-sds/", "verify/"];

type Outcome = { kind: "complete" } | { kind: "boundary" | "mid"; step: string };

/** Resolves at the next kill point of this process, or when the deploy plan is complete. */
function nextKillPoint(
  proc: SchedulerProc,
  completed: Set<string>,
  midDone: Set<string>,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const done = (o: Outcome) => {
      clearTimeout(timer);
      proc.off("step", onStep);
      proc.off("plan", onPlan);
      proc.child.off("exit", onExit);
      resolve(o);
    };
    const onStep = (s: StepLine) => {
      if (s.plan !== "deploy") return;
      if (s.status === "COMPLETE" && !completed.has(s.step))
        return done({ kind: "boundary", step: s.step });
      const mid = MID_STEP.find((p) => s.step.startsWith(p));
      if (s.status === "IN_PROGRESS" && mid && !midDone.has(mid)) {
        midDone.add(mid);
        done({ kind: "mid", step: s.step });
      }
    };
    const onPlan = (p: { plan: string; status: string }) => {
      if (p.plan === "deploy" && p.status === "COMPLETE") done({ kind: "complete" });
    };
    const onExit = () => {
      clearTimeout(timer);
      reject(new Error(`scheduler exited on its own:\n${proc.stderr().slice(-4000)}`));
    };
    const timer = setTimeout(() => {
      proc.off("step", onStep);
      proc.off("plan", onPlan);
      proc.child.off("exit", onExit);
      const last = proc.steps.slice(-10).map((s) => `${s.step} ${s.status} ${s.lastError ?? ""}`);
      reject(new Error(`no progress in 90 s; last steps:\n${last.join("\n")}`));
    }, 90_000);
    proc.on("step", onStep);
    proc.on("plan", onPlan);
    proc.child.once("exit", onExit);
  });
}

test(
  "SIGKILL of the scheduler at every deploy step boundary: the deploy completes, nothing twice, no orphaned reservation",
  { timeout: 420_000 },
  async () => {
    const started = Date.now();
    env = await startDeployEnv({ agents: 3 });
    const completed = new Set<string>();
    const midDone = new Set<string>();
    const kills: string[] = [];
    const cycleMs: number[] = [];
    let cycleStart = Date.now();
    // The first process listens on a random port, the later ones on a fixed one: the first
    // restart finds executors launched with another scheduler URL (stale ExecutorInfo), the
    // later ones find executors they can keep using.
    const port = await freePort();
    let proc = env.startScheduler();
    let final: SchedulerProc | undefined;
    for (;;) {
      const o = await nextKillPoint(proc, completed, midDone).catch((err: Error) => {
        const tail = proc.stderr().trim().split("\n").slice(-15).join("\n");
        const open = Object.entries(storedSteps(env!.stateDir))
          .filter(([, v]) => v.status !== "COMPLETE")
          .map(([k, v]) => `${k} ${v.status} ${v.lastError ?? ""}`);
        throw new Error(
          `${err.message}\nkills so far: ${kills.join(", ")}\nopen steps: ${open.join("; ")}\nlog tail:\n${tail}`,
        );
      });
      if (o.kind === "complete") {
        final = proc;
        break;
      }
      await proc.sigkill();
      kills.push(`${o.kind === "mid" ? "during" : "after"} ${o.step}`);
      cycleMs.push(Date.now() - cycleStart);
      cycleStart = Date.now();
      if (process.env.CRASH_LOG_DIR)
        writeFileSync(join(process.env.CRASH_LOG_DIR, `${kills.length}.log`), proc.stderr());
      for (const s of proc.steps) if (s.status === "COMPLETE") completed.add(s.step);
      proc = env.startScheduler(["--api-port", String(port)]);
    }
    const deployMs = Date.now() - started;

    // Every step of the final plan was complete when some process was killed, or completed
    // in the last one; every boundary was a kill point except those that completed together.
    for (const s of final.steps) if (s.status === "COMPLETE") completed.add(s.step);
    const boundaries = kills.filter((k) => k.startsWith("after ")).length;
    const mids = kills.filter((k) => k.startsWith("during ")).length;
    console.log(
      `# ${kills.length} SIGKILLs (${boundaries} after a step, ${mids} during one) over ${completed.size} steps; deploy complete in ${(deployMs / 1000).toFixed(1)} s; per restart ${cycleMs.join(" ")} ms`,
    );
    assert.ok(boundaries >= 20, `killed at ${boundaries} boundaries only: ${kills.join(", ")}`);
    assert.equal(mids, MID_STEP.length, `mid-step kills: ${kills.join(", ")}`);

    assertExpectedObjects(env);
    await assertMesosClean(env, `(kills ${kills.length})`);
    await final.stop();
  },
);

/** The deploy plan's stored step progress, read from the state directory's shard files. */
function storedSteps(stateDir: string): Record<string, { status: string; lastError?: string }> {
  const dir = join(stateDir, "plans", "deploy", "steps");
  const out = {};
  for (const f of existsSync(dir) ? readdirSync(dir) : [])
    if (f.endsWith(".json")) Object.assign(out, JSON.parse(readFileSync(join(dir, f), "utf8")));
  return out;
}
