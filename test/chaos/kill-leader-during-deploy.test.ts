// Chaos with high availability: two real scheduler processes share their state in a real
// ZooKeeper, one leads and one stands by. While a 3-agent deploy runs, the leader is SIGKILLed
// at ten random moments (after a random number of its deploy step changes); each time the
// standby must lead (median within the session timeout + 2 s of the kill), subscribe as the
// same framework and carry on, and a fresh standby takes the killed one's place. The deploy
// must complete with exactly the expected ScaleIO objects, a clean Mesos, one framework id
// throughout, and nothing done twice: every MDM cluster member, protection domain, pool,
// SDS, device and probe volume added once, and no add refused as already there, as the
// emulator's model saw the calls. (A step cut by a kill runs again, as after any crash: its
// handler finds what the first run did.) CHAOS_SEED=<n> replays a run.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperServer } from "../support/zookeeper.js";
import {
  recordCreations,
  startDeployEnv,
  type DeployEnv,
  type SchedulerProc,
} from "../support/deploy-env.js";
import { assertExpectedObjects, assertMesosClean } from "../support/deploy-assertions.js";
import { seededRandom } from "../support/seeded-random.js";

const KILLS = 10;
const SESSION_MS = 4000;
/** How long after a kill the standby must be subscribed (issue 17: session timeout + 2 s). */
const TAKEOVER_MS = SESSION_MS + 2000;
/**
 * The bound of the median; a single takeover may take up to 2 s more on a loaded machine
 * (CI shares its cores: the new leader's start-up is CPU work), never more.
 */
const TAKEOVER_SLACK_MS = 2000;
/**
 * Each node-side command (rpm, scli, systemctl...) takes this long, as on a real host: steps
 * go on finishing during every takeover, and with instant commands ten kills one or two step
 * changes apart would not all fall inside the deploy.
 */
const NODE_COMMAND_MS = 250;
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);

/** A scheduler process with the moment it subscribed to Mesos (a standby never does). */
interface Candidate {
  name: string;
  proc: SchedulerProc;
  subscribed: Promise<{ at: number; frameworkId: string }>;
  /** The deploy plan's last status this process printed (a new leader may print COMPLETE at once). */
  deploy: string | undefined;
}

type Moment = "complete" | "kill";

/** Resolves after `changes` more deploy step lines of the leader, or when the deploy completes. */
function afterChanges(c: Candidate, changes: number, deadlineMs: number): Promise<Moment> {
  const proc = c.proc;
  if (c.deploy === "COMPLETE") return Promise.resolve("complete");
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
      reject(new Error(`leader ${c.name} exited on its own:\n${proc.stderr().slice(-4000)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      const last = proc.steps.slice(-10).map((s) => `${s.step} ${s.status} ${s.lastError ?? ""}`);
      reject(
        new Error(
          `no deploy progress of ${c.name} in ${deadlineMs} ms; last steps:\n${last.join("\n")}\n${proc.stderr().slice(-3000)}`,
        ),
      );
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

/** Resolves when the promise does, rejects after `ms` (the candidate's log in the message). */
function within<T>(p: Promise<T>, ms: number, what: string, c: Candidate): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: not within ${ms} ms\n${c.proc.stderr().slice(-4000)}`)),
        ms,
      );
    }),
  ]);
}

/** Delays the emulator's answer to each node-side command (the control endpoint awaits it). */
function slowNodeCommands(e: DeployEnv, ms: number): void {
  const tools = e.emulator.tools;
  const run = tools.run.bind(tools);
  (tools as unknown as { run: (...a: Parameters<typeof run>) => Promise<unknown> }).run = (
    ...args
  ) => new Promise((resolve) => setTimeout(() => resolve(run(...args)), ms));
}

let env: DeployEnv | undefined;
let zk: ZooKeeperServer | undefined;
const kills: string[] = [];
const takeovers: number[] = [];
/** Per takeover, ms after the kill: elected / serving / subscribed. */
const phases: string[] = [];
const marks = new Map<string, number>();
let addsSeen = new Map<string, number>();
let refusedSeen: string[] = [];
/** Steps the final leader counts more than one attempt of (a run cut by a kill runs again). */
let rerun = "";
after(async () => {
  await env?.stop();
  await zk?.destroy();
  const sorted = [...takeovers].sort((a, b) => a - b);
  console.log(
    `chaos: ${kills.length} leader SIGKILLs during a deploy (seed ${seed}); kill -> subscribed ms: ${takeovers.join(", ")}` +
      (sorted.length
        ? ` (median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)})`
        : "") +
      `; elected/serving/subscribed ms: ${phases.join(", ")}` +
      `; adds seen: ${addsSeen.size}, refused attempts: ${refusedSeen.length ? refusedSeen.join("; ") : "none"}` +
      `; steps run again (attempts): ${rerun || "none"}`,
  );
});

test(
  `SIGKILL of the leader at ${KILLS} random moments of a deploy (seed ${seed}): a standby takes over each time and the deploy completes with exactly the expected objects`,
  { timeout: 420_000 },
  async () => {
    const rnd = seededRandom(seed);
    zk = await ZooKeeperServer.start();
    env = await startDeployEnv({ agents: 3 });
    slowNodeCommands(env, NODE_COMMAND_MS);
    const { adds, refused } = recordCreations(env.emulator.sys);
    addsSeen = adds;
    refusedSeen = refused;
    const state = zk.zkUrl("/scaleio-framework-chaos");
    let started = 0;
    const start = (): Candidate => {
      const name = `s${++started}`;
      const proc = env!.startScheduler([
        "--state",
        state,
        "--zk-session-timeout-ms",
        String(SESSION_MS),
      ]);
      const subscribed = new Promise<{ at: number; frameworkId: string }>((resolve) => {
        const onLine = (rec: Record<string, unknown>) => {
          // The scheduler's own times, to say where a slow takeover spent its time.
          if (typeof rec.msg === "string" && typeof rec.time === "number")
            marks.set(`${name} ${rec.msg}`, rec.time);
          if (rec.msg !== "subscribed to mesos" || typeof rec.frameworkId !== "string") return;
          proc.off("line", onLine);
          resolve({ at: Date.now(), frameworkId: rec.frameworkId });
        };
        proc.on("line", onLine);
      });
      const c: Candidate = { name, proc, subscribed, deploy: undefined };
      proc.on("plan", (p) => {
        if (p.plan === "deploy") c.deploy = p.status;
      });
      return c;
    };
    const context = () => `(seed ${seed}; kills: ${kills.join(", ")})`;

    let leader = start();
    const first = await within(leader.subscribed, 60_000, "the first leader subscribes", leader);
    const frameworkId = first.frameworkId;
    let standby = start();
    let moment: Moment = "kill";
    while (kills.length < KILLS) {
      // A kill while the standby is still starting would leave none to take over.
      await within(
        new Promise<void>((resolve) => {
          const ready = () => (standby.proc.apiUrl() ? resolve() : setTimeout(ready, 50));
          ready();
        }),
        60_000,
        "the standby serves its API",
        standby,
      );
      moment = await afterChanges(leader, 1 + Math.floor(rnd() * 2), 90_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${context()}`);
      });
      if (moment === "complete") break;
      const killedAt = Date.now();
      await leader.proc.sigkill();
      kills.push(`${leader.name} after ${leader.proc.steps.at(-1)?.step ?? "start"}`);
      const next = standby;
      const sub = await within(
        next.subscribed,
        60_000,
        `the standby ${next.name} subscribes after kill ${kills.length}`,
        next,
      );
      takeovers.push(sub.at - killedAt);
      const mark = (m: string) => (marks.get(`${next.name} ${m}`) ?? NaN) - killedAt;
      phases.push(
        `${mark("elected leader: subscribing to Mesos")}/${mark("serving")}/${sub.at - killedAt}`,
      );
      // A fresh standby in the killed one's place (once the takeover is measured: starting a
      // process costs CPU the takeover would share).
      standby = start();
      assert.equal(sub.frameworkId, frameworkId, `the same framework after kill ${kills.length}`);
      leader = next;
    }
    if (moment !== "complete") {
      moment = await afterChanges(leader, Number.POSITIVE_INFINITY, 120_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${context()}`);
      });
    }
    assert.equal(moment, "complete");
    assert.equal(kills.length, KILLS, `the deploy completed before ${KILLS} kills ${context()}`);
    assertExpectedObjects(env);
    await assertMesosClean(env, context(), { executorsMayBeGone: true });
    const view = (await (await fetch(`${leader.proc.apiUrl()}/v1/plans/deploy`)).json()) as {
      phases: { steps: { id: string; attempts: number }[] }[];
    };
    rerun = view.phases
      .flatMap((ph) => ph.steps)
      .filter((st) => st.attempts > 1)
      // The agent's short name (S0...) instead of its whole id.
      .map((st) => `${st.id.replace(/[0-9a-f-]{36}-(S\d+)$/, "$1")} x${st.attempts}`)
      .join(", ");
    const twice = [...adds].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
    assert.deepEqual(twice, [], `added more than once ${context()}`);
    // A step run again after a kill looks before it adds: nothing was even tried twice.
    assert.deepEqual(refused, [], `creations refused (tried again) ${context()}`);
    const median = [...takeovers].sort((a, b) => a - b)[Math.floor(takeovers.length / 2)]!;
    assert.ok(
      median <= TAKEOVER_MS,
      `median takeover ${median} ms > ${TAKEOVER_MS} ms ${context()}`,
    );
    for (const [i, ms] of takeovers.entries()) {
      const bound = TAKEOVER_MS + TAKEOVER_SLACK_MS;
      assert.ok(ms <= bound, `takeover ${i + 1}: ${ms} ms > ${bound} ms ${context()}`);
    }
    // The standby left running never subscribed.
    assert.equal(
      await Promise.race([standby.subscribed.then(() => true), Promise.resolve(false)]),
      false,
    );
    // The standby first: stopping the leader first would hand it the lead.
    await standby.proc.stop();
    await leader.proc.stop();
  },
);
