// ZooKeeper restarted in the middle of a deploy: a leader and a standby keep their state in
// a real ZooKeeper; a few step changes into the deploy the server stops, stays down for a
// few seconds (well below the session timeout) and starts again on the same port and data
// directory. The sessions survive, so the leader waits for its store, keeps leading and
// carries on: the deploy completes with exactly the expected objects, the leader never
// exits, and the standby never subscribes (one framework).
//
// The second test shows the other side: ZooKeeper away longer than the session timeout ends
// the sessions. The leader is deposed (its writes are fenced), stops and exits 6 (its
// supervisor starts it again as a standby); once ZooKeeper is back the standby joins the
// election again with a new session, leads, subscribes as the same framework and finishes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { ZooKeeperServer } from "../support/zookeeper.js";
import {
  recordCreations,
  startDeployEnv,
  waitForStep,
  type DeployEnv,
} from "../support/deploy-env.js";
import { assertExpectedObjects, assertMesosClean } from "../support/deploy-assertions.js";
import { waitUntil, withDeadline } from "../support/wait.js";
import { ZkStateStore } from "../../src/store/zk-store.js";
import { PlanProgressStore } from "../../src/framework/plan/progress-store.js";

/** Long enough for the outage plus a JVM start on a busy machine. */
const SESSION_MS = 20_000;
/** How long ZooKeeper stays down (the scenario's input, not a wait for something). */
const OUTAGE_MS = 3000;

let env: DeployEnv | undefined;
let zk: ZooKeeperServer | undefined;
let env2: DeployEnv | undefined;
let zk2: ZooKeeperServer | undefined;
after(async () => {
  await env?.stop();
  await zk?.destroy();
  await env2?.stop();
  await zk2?.destroy();
});

test(
  "ZooKeeper stopped and started again mid-deploy: the leader waits for its store and the deploy completes",
  { timeout: 300_000 },
  async () => {
    // The test server's default bounds (20 ticks of 200 ms) would clamp the session to 4 s.
    zk = await ZooKeeperServer.start({ maxSessionTimeoutMs: 60_000 });
    env = await startDeployEnv({ agents: 3 });
    const { adds, refused } = recordCreations(env.emulator.sys);
    const stateUrl = zk.zkUrl("/scaleio-framework-restart");
    const flags = ["--state", stateUrl, "--zk-session-timeout-ms", String(SESSION_MS)];
    const subscriptions: { who: string; frameworkId: unknown }[] = [];
    const start = (who: string) => {
      const proc = env!.startScheduler(flags);
      proc.on("line", (rec) => {
        if (rec.msg === "subscribed to mesos")
          subscriptions.push({ who, frameworkId: rec.frameworkId });
      });
      return proc;
    };
    const leader = start("leader");
    await waitUntil(() => subscriptions.length === 1, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `the leader subscribes (stderr: ${leader.stderr().slice(-2000)})`,
    });
    const standby = start("standby");
    await waitUntil(() => standby.apiUrl() !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "the standby serves its API",
    });

    // When the leader printed each step line (its own clock, the machine's): a step's
    // change is printed once it is stored.
    const arrivals: { step: string; status: string; at: number }[] = [];
    leader.on("step", (s) => {
      const at = (s as { time?: unknown }).time;
      if (s.plan === "deploy" && typeof at === "number")
        arrivals.push({ step: s.step, status: s.status, at });
    });
    // A few step changes in, as a node step (its id ends with the agent's) starts,
    // ZooKeeper goes away: that step ends while the leader cannot record it.
    let changes = 0;
    await waitForStep(
      leader,
      (s) =>
        s.plan === "deploy" &&
        ++changes >= 4 &&
        s.status === "IN_PROGRESS" &&
        /-S\d+$/.test(s.step),
      90_000,
      "a node step of the deploy starting",
    );
    let completedAt: number | undefined;
    const done = new Promise<void>((resolve, reject) => {
      leader.on("plan", (p) => {
        if (p.plan !== "deploy" || p.status !== "COMPLETE") return;
        completedAt = Date.now();
        resolve();
      });
      leader.child.once("exit", (code) =>
        reject(new Error(`the leader exited (${code}):\n${leader.stderr().slice(-4000)}`)),
      );
    });
    const stepsBefore = leader.steps.length;
    const running = new Map<string, string>();
    for (const s of leader.steps) if (s.plan === "deploy") running.set(s.step, s.status);
    const inProgress = [...running].filter(([, st]) => st === "IN_PROGRESS").map(([id]) => id);
    const stopping = Date.now();
    await zk.stop();
    const outage = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const starting = Date.now();
    await zk.start();
    const restarted = Date.now();
    const downMs = restarted - stopping;
    assert.ok(downMs < SESSION_MS, `ZooKeeper was down ${downMs} ms, past the session timeout`);
    console.log(`ha-zk-restart: ZooKeeper down ${downMs} ms (session timeout ${SESSION_MS} ms)`);

    await withDeadline(done, 180_000, "the deploy completes after the restart").catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${leader.stderr().slice(-4000)}`);
      },
    );
    assert.ok(completedAt! > outage, "the deploy was still under way when ZooKeeper stopped");
    assert.ok(leader.steps.length > stepsBefore, "steps moved on after the restart");
    // Nothing completed while ZooKeeper was not running, and a step under way at the stop
    // completed after the restart: the leader waited for its store.
    const duringOutage = arrivals.filter(
      (a) => a.status === "COMPLETE" && a.at > outage && a.at < starting,
    );
    assert.deepEqual(duringOutage, [], "no step completion recorded without ZooKeeper");
    const resumed = inProgress.filter((id) =>
      arrivals.some((a) => a.step === id && a.status === "COMPLETE" && a.at >= starting),
    );
    console.log(
      `ha-zk-restart: in progress at the stop: ${inProgress.join(", ")}; completed after the restart: ${resumed.join(", ")}`,
    );
    assert.ok(resumed.length > 0, `a step under way at the stop completed after the restart`);
    assert.equal(
      leader.child.exitCode,
      null,
      `the leader did not exit:\n${leader.stderr().slice(-3000)}`,
    );
    assert.equal(standby.child.exitCode, null, "the standby still stands by");
    assert.deepEqual(
      subscriptions.map((s) => s.who),
      ["leader"],
      "only the leader subscribed, once",
    );
    assertExpectedObjects(env);
    const twice = [...adds].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
    assert.deepEqual(twice, [], "nothing added twice");
    assert.deepEqual(refused, [], "no creation tried twice");
    console.log(
      `ha-zk-restart: creations: ${adds.size}, refused attempts: ${refused.join("; ") || "none"}`,
    );
    // What the outage cost the deploy (for the record): steps that failed and were retried.
    const failed = leader.steps.slice(stepsBefore).filter((s) => s.lastError);
    console.log(
      `ha-zk-restart: step failures after the outage: ${failed.map((s) => `${s.step}: ${s.lastError}`).join("; ") || "none"}`,
    );
    await assertMesosClean(env);
    assert.equal((await env.mesosState()).frameworkIds[0], subscriptions[0]!.frameworkId);
    // The leader's writes after the restart landed: the stored deploy is complete too.
    // The standby first: stopping the leader first would hand it the lead.
    await standby.stop();
    await leader.stop();
    const store = await ZkStateStore.open(stateUrl);
    try {
      const stored = await PlanProgressStore.load(store, "deploy");
      const open = Object.entries(stored?.steps ?? {}).filter(([, p]) => p.status !== "COMPLETE");
      assert.ok(stored, "the deploy's progress is in ZooKeeper");
      assert.deepEqual(open, [], "every stored step is COMPLETE");
    } finally {
      await store.close();
    }
  },
);

test(
  "ZooKeeper away past the session timeout mid-deploy: the leader exits 6, the standby leads as the same framework and completes the deploy",
  { timeout: 300_000 },
  async () => {
    const sessionMs = 4000;
    zk2 = await ZooKeeperServer.start();
    env2 = await startDeployEnv({ agents: 3 });
    const { adds, refused } = recordCreations(env2.emulator.sys);
    const flags = [
      "--state",
      zk2.zkUrl("/scaleio-framework-expiry"),
      "--zk-session-timeout-ms",
      String(sessionMs),
    ];
    const subscriptions: { who: string; frameworkId: unknown }[] = [];
    const start = (who: string) => {
      const proc = env2!.startScheduler(flags);
      proc.on("line", (rec) => {
        if (rec.msg === "subscribed to mesos")
          subscriptions.push({ who, frameworkId: rec.frameworkId });
      });
      return proc;
    };
    const leader = start("leader");
    await waitUntil(() => subscriptions.length === 1, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `the leader subscribes (stderr: ${leader.stderr().slice(-2000)})`,
    });
    const standby = start("standby");
    await waitUntil(() => standby.apiUrl() !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: "the standby serves its API",
    });
    let changes = 0;
    await waitForStep(leader, (s) => s.plan === "deploy" && ++changes >= 4, 90_000, "deploy steps");
    let standbyDone = false;
    standby.on("plan", (p) => {
      if (p.plan === "deploy" && p.status === "COMPLETE") standbyDone = true;
    });

    // Down until the leader has given up: its session is over, it stops and exits 6.
    const stopped = Date.now();
    await zk2.stop();
    const code = await withDeadline(leader.exited, 60_000, "the deposed leader's exit");
    const exitedMs = Date.now() - stopped;
    assert.equal(code, 6, `exit code of the deposed leader:\n${leader.stderr().slice(-3000)}`);
    assert.match(leader.stderr(), /no longer the leader \(ZooKeeper session ended\)/);
    await zk2.start();
    console.log(
      `ha-zk-restart: ZooKeeper stopped; the leader exited 6 after ${exitedMs} ms (session timeout ${sessionMs} ms)`,
    );

    await waitUntil(() => standbyDone, {
      timeoutMs: 180_000,
      intervalMs: 200,
      what: `the standby leads and completes the deploy (stderr: ${standby.stderr().slice(-3000)})`,
    });
    assert.deepEqual(
      subscriptions.map((s) => s.who),
      ["leader", "standby"],
    );
    assert.equal(subscriptions[1]!.frameworkId, subscriptions[0]!.frameworkId, "same framework");
    assertExpectedObjects(env2);
    const twice = [...adds].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
    assert.deepEqual(twice, [], "nothing added twice");
    assert.deepEqual(refused, [], "no creation tried twice");
    await assertMesosClean(env2);
    assert.deepEqual((await env2.mesosState()).frameworkIds, [subscriptions[0]!.frameworkId]);
    await standby.stop();
  },
);
