// Failover benchmark (issue 17): how long the framework stands still when its leader dies.
//
// Set-up: a real ZooKeeper (test/support/zookeeper.ts, allowed to grant the session timeout
// asked for), the development Mesos cluster with 3 agents and the ScaleIO emulator as the e2e
// tests build them (test/support/deploy-env.ts), and two REAL scheduler processes (from
// dist/) with `--state zk://...` and the session timeout under test (default: the scheduler's
// default, 10 s). One leads and starts the deploy plan; the other stands by.
//
// One run: once the standby knows the leader, let the leader log a random number (0-3) of
// deploy step lines, then SIGKILL it right after its next step line that says IN_PROGRESS (a
// step is in flight, so the new leader always has a step to change). Measured: from the
// SIGKILL to the first step line the new leader logs (the log's own timestamp), i.e. the
// session expiring in ZooKeeper, the standby being elected, building the scheduler, loading
// the plans and the first step it changes (its subscription to Mesos with the same framework
// id goes on alongside: a step may start before it is done). That first line is mostly a step the dead leader had in flight taken up again
// (IN_PROGRESS, one attempt more), so the time to the first step the new leader COMPLETES is
// printed too, with the times of its election and of its subscription.
//
// Runs reuse the environment: after a run, a new standby joins and the next run kills the
// leader of the moment, while the deploy still has steps. When the deploy completes, the
// emulator must hold exactly the expected objects (nothing done twice) and a fresh
// environment (new cluster, emulator and ZooKeeper path) carries on until the runs are done.
//
// Verdict: median <= session timeout + 2 s (the target); exit 1 when missed or when a
// run or a deploy check failed.
//
// Usage: npm run bench:failover [-- --runs 10] [-- --zk-session-timeout-ms 10000] [-- --seed N]
import { loadavg } from "node:os";
import { assertExpectedObjects } from "../test/support/deploy-assertions.js";
import {
  startDeployEnv,
  type DeployEnv,
  type SchedulerProc,
  type StepLine,
} from "../test/support/deploy-env.js";
import { waitUntil } from "../test/support/wait.js";
import { fourLetterWord, ZooKeeperServer } from "../test/support/zookeeper.js";
import { seededRandom } from "../test/support/seeded-random.js";

const argv = process.argv.slice(2);
const arg = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const RUNS = Number(arg("--runs") ?? 10);
/** The scheduler's default `--zk-session-timeout-ms`. */
const SESSION_MS = Number(arg("--zk-session-timeout-ms") ?? 10_000);
const AGENTS = 3;
const TARGET_MS = SESSION_MS + 2000;
const seed = Number(arg("--seed") ?? Date.now() % 1_000_000);
/** How long one failover may take before the run counts as failed. */
const RUN_DEADLINE_MS = SESSION_MS + 90_000;

const rnd = seededRandom(seed);

interface Run {
  round: number;
  killedDuring: string;
  /** ms from the SIGKILL to the standby's election, subscription and first step line. */
  electedMs: number;
  subscribedMs: number;
  firstStepMs: number;
  firstStep: string;
  /** ms from the SIGKILL to the first step the new leader completed. */
  firstCompleteMs: number;
}

/** The log's own time of a line (pino's epoch ms), else now. */
const timeOf = (rec: Record<string, unknown>) =>
  typeof rec.time === "number" ? rec.time : Date.now();

/** Resolves with the first log line of `proc` that matches, or rejects on exit or deadline. */
function nextLine(
  proc: SchedulerProc,
  match: (rec: Record<string, unknown>) => boolean,
  timeoutMs: number,
  what: string,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      proc.off("line", onLine);
      proc.child.off("exit", onExit);
    };
    const onLine = (rec: Record<string, unknown>) => {
      if (!match(rec)) return;
      done();
      resolve(rec);
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`scheduler exited (${code}) while waiting for ${what}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    proc.on("line", onLine);
    proc.child.once("exit", onExit);
  });
}

const isDeployStep = (rec: Record<string, unknown>) => rec.msg === "step" && rec.plan === "deploy";
const deployDone = (rec: Record<string, unknown>) =>
  rec.msg === "plan" && rec.plan === "deploy" && rec.status === "COMPLETE";

/** Schedulers whose deploy plan completed (its line may come while the bench looks away). */
const deployed = new WeakSet<SchedulerProc>();
function start(env: DeployEnv, flags: string[]): SchedulerProc {
  const proc = env.startScheduler(flags);
  proc.on("line", (r) => {
    if (deployDone(r)) deployed.add(proc);
  });
  return proc;
}

/**
 * After `skip` deploy step lines, the next IN_PROGRESS one: the moment to kill. "complete"
 * when the deploy completes first.
 */
async function killMoment(proc: SchedulerProc, skip: number): Promise<StepLine | "complete"> {
  if (deployed.has(proc)) return "complete";
  let seen = 0;
  const rec = await nextLine(
    proc,
    (r) => deployDone(r) || (isDeployStep(r) && ++seen > skip && r.status === "IN_PROGRESS"),
    180_000,
    "a deploy step in progress",
  );
  return deployDone(rec) ? "complete" : (rec as unknown as StepLine);
}

async function startStandby(env: DeployEnv, flags: string[], leader: SchedulerProc) {
  const proc = start(env, flags);
  const leaderApi = leader.apiUrl();
  // In the election once it names the leader (its candidate znode exists by then).
  await waitUntil(
    async () => {
      const api = proc.apiUrl();
      if (!api) return false;
      const res = await fetch(`${api}/v1/leader`).catch(() => undefined);
      if (!res?.ok) return false;
      const body = (await res.json()) as { leader: boolean; api: string | null };
      return !body.leader && body.api === leaderApi;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: "the new standby to know the leader" },
  );
  return proc;
}

/** Negotiated session timeouts of the server's client connections (`cons`: to=<ms>). */
async function negotiatedTimeouts(zk: ZooKeeperServer): Promise<number[]> {
  const cons = await fourLetterWord(zk.port, "cons");
  return [...cons.matchAll(/\bto=(\d+)/g)].map((m) => Number(m[1]));
}

const runs: Run[] = [];
const failures: string[] = [];
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

console.log(
  `failover: ${RUNS} runs, ZooKeeper session timeout ${SESSION_MS} ms, ${AGENTS}-agent deploy, ` +
    `seed ${seed} (--seed ${seed} replays the kill moments); load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
);
// The server grants what the scheduler asks (its default range is 2-20 ticks of 200 ms).
const zk = await ZooKeeperServer.start({
  minSessionTimeoutMs: Math.min(SESSION_MS, 400),
  maxSessionTimeoutMs: Math.max(SESSION_MS, 4000),
});
let env: DeployEnv | undefined;
try {
  for (let round = 1; runs.length + failures.length < RUNS; round++) {
    env = await startDeployEnv({ agents: AGENTS });
    const flags = [
      "--state",
      zk.zkUrl(`/scaleio-failover-${round}`),
      "--zk-session-timeout-ms",
      String(SESSION_MS),
    ];
    let leader = start(env, flags);
    await nextLine(leader, (r) => r.msg === "subscribed to mesos", 60_000, "the first leader");
    let standby = await startStandby(env, flags, leader);
    if (round === 1) {
      const granted = await negotiatedTimeouts(zk);
      console.log(`negotiated session timeouts (ZooKeeper cons): ${granted.join(", ")} ms`);
    }
    let completed = false;
    while (runs.length + failures.length < RUNS) {
      let moment: StepLine | "complete";
      try {
        moment = await killMoment(leader, Math.floor(rnd() * 4));
      } catch (err) {
        failures.push((err as Error).message);
        console.log(`FAILED: ${(err as Error).message}\n${leader.stderr().slice(-3000)}`);
        break;
      }
      if (moment === "complete") {
        completed = true;
        break;
      }
      const killedDuring = `${moment.step} (attempt ${moment.attempts})`;
      const elected = nextLine(
        standby,
        (r) => r.msg === "elected leader: subscribing to Mesos",
        RUN_DEADLINE_MS,
        "the election",
      );
      const subscribed = nextLine(
        standby,
        (r) => r.msg === "subscribed to mesos",
        RUN_DEADLINE_MS,
        "the subscription",
      );
      const firstStep = nextLine(standby, isDeployStep, RUN_DEADLINE_MS, "the first step line");
      const firstComplete = nextLine(
        standby,
        (r) => isDeployStep(r) && r.status === "COMPLETE",
        RUN_DEADLINE_MS,
        "the first step completed",
      );
      const killedAt = Date.now();
      await leader.sigkill();
      try {
        const [e, sub, st, done] = await Promise.all([
          elected,
          subscribed,
          firstStep,
          firstComplete,
        ]);
        const run: Run = {
          round,
          killedDuring,
          electedMs: timeOf(e) - killedAt,
          subscribedMs: timeOf(sub) - killedAt,
          firstStepMs: timeOf(st) - killedAt,
          firstStep: `${String(st.step)} ${String(st.status)} (attempt ${String(st.attempts)})`,
          firstCompleteMs: timeOf(done) - killedAt,
        };
        runs.push(run);
        console.log(
          `run ${runs.length + failures.length}: kill -> first step ${s(run.firstStepMs)} ` +
            `(elected ${s(run.electedMs)}, subscribed ${s(run.subscribedMs)}, first step ` +
            `completed ${s(run.firstCompleteMs)}); killed during ` +
            `${killedDuring}; the new leader's first step: ${run.firstStep}`,
        );
      } catch (err) {
        failures.push((err as Error).message);
        console.log(
          `run ${runs.length + failures.length}: FAILED: ${(err as Error).message}\n` +
            standby.stderr().slice(-3000),
        );
        break;
      }
      leader = standby;
      standby = await startStandby(env, flags, leader);
    }
    if (!completed && failures.length === 0) {
      // The runs are done: let the deploy finish to check it.
      if (!deployed.has(leader))
        await nextLine(leader, deployDone, 300_000, "the deploy to complete").catch((err: Error) =>
          failures.push(err.message),
        );
      completed = deployed.has(leader);
    }
    if (completed) {
      try {
        assertExpectedObjects(env);
        console.log(`round ${round}: deploy complete with exactly the expected objects`);
      } catch (err) {
        failures.push(`round ${round}: ${(err as Error).message}`);
        console.log(`round ${round}: deploy complete, WRONG objects: ${(err as Error).message}`);
      }
    }
    await env.stop();
    env = undefined;
    if (failures.length > 0) break;
  }
} finally {
  await env?.stop();
  await zk.destroy();
}

/** Median, min and max of some figures (ms). */
function spread(values: number[]): { median: number; min: number; max: number } {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length / 2;
  const median =
    v.length === 0 ? NaN : v.length % 2 ? v[Math.floor(mid)]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0] ?? NaN, max: v.at(-1) ?? NaN };
}
const first = spread(runs.map((r) => r.firstStepMs));
const fmt = (x: ReturnType<typeof spread>) =>
  `median ${s(x.median)}, min ${s(x.min)}, max ${s(x.max)}`;
const ok = failures.length === 0 && runs.length === RUNS && first.median <= TARGET_MS;
console.log(
  `elected: ${fmt(spread(runs.map((r) => r.electedMs)))}; subscribed: ` +
    `${fmt(spread(runs.map((r) => r.subscribedMs)))}; first step completed: ` +
    fmt(spread(runs.map((r) => r.firstCompleteMs))),
);
console.log(
  `failover over ${runs.length} runs (kill -> the new leader's first step): ${fmt(first)}; ` +
    `target median <= session timeout + 2 s = ${s(TARGET_MS)}: ${ok ? "ok" : "MISSED"}` +
    (failures.length > 0 ? ` (${failures.length} failed)` : ""),
);
process.exit(ok ? 0 : 1);
