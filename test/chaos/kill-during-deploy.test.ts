// Chaos: while a 3-agent deploy runs, SIGKILL the real scheduler process or one agent's
// executor at random moments (after a random number of step changes), a bounded number of
// times, then let the deploy finish. It must complete with exactly the expected ScaleIO
// objects and a clean Mesos (one framework, no task left, no stray reservation). The seed
// is printed; CHAOS_SEED=<n> replays a run's choices.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { freePort } from "../support/zookeeper.js";
import { startDeployEnv, type DeployEnv, type SchedulerProc } from "../support/deploy-env.js";
import { assertExpectedObjects, assertMesosClean } from "../support/deploy-assertions.js";
import { seededRandom } from "../support/seeded-random.js";

const KILLS = 8;
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);

type Moment = "complete" | "kill";

/** Resolves after `changes` more step lines of the deploy plan, or when it completes. */
function afterChanges(proc: SchedulerProc, changes: number, deadlineMs: number): Promise<Moment> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const finish = (m: Moment) => {
      cleanup();
      resolve(m);
    };
    const onStep = (s: { plan: string }) => {
      if (s.plan === "deploy" && ++seen >= changes) finish("kill");
    };
    const onPlan = (p: { plan: string; status: string }) => {
      if (p.plan === "deploy" && p.status === "COMPLETE") finish("complete");
    };
    const onExit = () => {
      cleanup();
      reject(new Error(`scheduler exited on its own:\n${proc.stderr().slice(-4000)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      const last = proc.steps.slice(-10).map((s) => `${s.step} ${s.status} ${s.lastError ?? ""}`);
      reject(new Error(`no deploy progress in ${deadlineMs} ms; last steps:\n${last.join("\n")}`));
    }, deadlineMs);
    const cleanup = () => {
      clearTimeout(timer);
      proc.off("step", onStep);
      proc.off("plan", onPlan);
      proc.child.off("exit", onExit);
    };
    proc.on("step", onStep);
    proc.on("plan", onPlan);
    proc.child.once("exit", onExit);
  });
}

let env: DeployEnv | undefined;
const kills: string[] = [];
after(async () => {
  await env?.stop();
  const sched = kills.filter((k) => k.startsWith("scheduler")).length;
  const missed = kills.filter((k) => k.endsWith("(none running)")).length;
  console.log(
    `chaos: random kills: tried ${sched} scheduler and ${kills.length - sched - missed} executor SIGKILLs during a deploy (seed ${seed}), held`,
  );
});

test(
  `SIGKILL of the scheduler or an executor at random moments of a deploy (seed ${seed}): the deploy completes with exactly the expected objects`,
  { timeout: 300_000 },
  async () => {
    const rnd = seededRandom(seed);
    env = await startDeployEnv({ agents: 3 });
    const port = await freePort();
    let proc = env.startScheduler(["--api-port", String(port)]);
    const context = () => `(seed ${seed}; kills: ${kills.join(", ")})`;
    let moment: Moment = "kill";
    while (kills.length < KILLS) {
      moment = await afterChanges(proc, 1 + Math.floor(rnd() * 8), 90_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${context()}`);
      });
      if (moment === "complete") break;
      if (rnd() < 0.5) {
        await proc.sigkill();
        kills.push(`scheduler after ${proc.steps.at(-1)?.step ?? "start"}`);
        proc = env.startScheduler(["--api-port", String(port)]);
        continue;
      }
      const frameworkId = (await env.mesosState()).frameworkIds[0];
      const agent = env.cluster.agents[Math.floor(rnd() * env.cluster.agents.length)]!;
      const agentId = await agent.id();
      // Before the first launch there is no executor to kill: that is a kill that missed.
      const hit = frameworkId ? await agent.killExecutor(frameworkId, `scaleio-${agentId}`) : false;
      kills.push(`executor on ${agent.host}${hit ? "" : " (none running)"}`);
    }
    if (moment !== "complete") {
      moment = await afterChanges(proc, Number.POSITIVE_INFINITY, 120_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${context()}`);
      });
    }
    assert.equal(moment, "complete");
    assertExpectedObjects(env);
    await assertMesosClean(env, context(), { executorsMayBeGone: true });
    await proc.stop();
  },
);
