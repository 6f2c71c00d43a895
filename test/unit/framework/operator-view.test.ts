// The operator view's health verdicts and the logger tee that puts warnings on the event
// stream (once per quiet period, secrets scrubbed).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { EventHub, teeToHub } from "../../../src/framework/events.js";
import { silentLogger } from "../../../src/mesos/logger.js";
import type { Summary } from "../../../src/framework/operator-view.js";
import {
  GatedPlatform,
  operatorFixture,
  type OperatorFixture,
} from "../../support/operator-fixture.js";
import { waitUntil } from "../../support/wait.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

/**
 * The summary once its health is `want`. Plan views come throttled, after their steps'
 * events, and one that arrives after a cluster read makes that read stale: the view then says
 * "deploying" (waiting for a read) until it reads again. On a loaded machine such a view can
 * land after any read a test makes, so the verdict is awaited, read after read.
 */
async function settlesAt(f: OperatorFixture, want: string): Promise<Summary> {
  let s = f.view.summary();
  try {
    await waitUntil(
      async () => {
        await f.view.refresh();
        s = f.view.summary();
        return s.health === want;
      },
      { timeoutMs: 10_000, what: `health ${want}` },
    );
  } catch {
    assert.fail(`health stayed ${s.health}, not ${want}: ${s.problems.join("; ")}`);
  }
  return s;
}

test("health: deploying while steps run, degraded with a lost agent, healthy when done", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  // Pretend to be subscribed: health also needs Mesos.
  Object.defineProperty(f.sched, "subscribed", { get: () => true });
  await f.view.refresh();
  assert.equal(f.view.summary().health, "deploying");
  f.platform.release("agent-0");
  f.platform.release("agent-1");
  await f.sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 20_000);
  const s = await settlesAt(f, "healthy");
  assert.deepEqual(s.problems, []);
  await f.sched.agents.markLost("agent-1");
  const lost = await settlesAt(f, "degraded");
  assert.match(lost.problems.join(), /agent host-1 \(agent-1\) is lost/);
  assert.equal(f.view.node("agent-1")!.lost, true);
  // Agent events reach the stream.
  assert.ok(
    f.view.events
      .since()
      .some(
        (e) => e.type === "log" && /host-1 \(agent-1\) lost/.test((e.data as { msg: string }).msg),
      ),
  );
  assert.ok(f.view.events.since().some((e) => e.type === "node"));
});

test("warnings and errors of the logger reach the hub once per quiet period, scrubbed", () => {
  const hub = new EventHub({ redact: (t) => t.replaceAll("pw-123", "[redacted]") });
  const log = teeToHub(silentLogger, hub, 60_000);
  log.info({ a: 1 }, "routine");
  log.warn({ agentId: "a1", problems: ["no device"] }, "agent storage left out");
  log.warn({ agentId: "a1", problems: ["no device"] }, "agent storage left out");
  log.error({ err: "login with pw-123 refused" }, "gateway");
  const msgs = hub.since().map((e) => e.data as { level: string; msg: string });
  assert.deepEqual(
    msgs.map((m) => m.level),
    ["warn", "error"],
  );
  assert.equal(msgs[0]!.msg, 'agent storage left out: agentId=a1, problems=["no device"]');
  assert.equal(msgs[1]!.msg, "gateway: err=login with [redacted] refused");
});

test("a step that waits for an operator degrades the cluster; one that will retry does not", async () => {
  const f = await operatorFixture({ agents: 0 });
  fixtures.push(f);
  Object.defineProperty(f.sched, "subscribed", { get: () => true });
  const { PermanentStepError } = await import("../../../src/framework/plan/types.js");
  await f.sched.engine.setPlan({
    id: "flaky",
    name: "Flaky",
    strategy: "serial",
    phases: [
      {
        id: "p",
        name: "p",
        strategy: "serial",
        steps: [
          {
            id: "again",
            name: "try again",
            run: async () => {
              throw new Error("gateway busy");
            },
          },
        ],
      },
    ],
  });
  await f.view.refresh();
  // Read at once: the retry comes within the engine's backoff (at least 50 ms here).
  await f.sched.engine.waitFor("flaky", (v) => v.status === "ERROR", 20_000);
  let s = f.view.summary();
  assert.equal(s.health, "deploying");
  assert.ok(
    s.problems.some((p) => /try again failed: gateway busy \(will retry\)/.test(p)),
    s.problems.join("\n"),
  );
  await f.sched.engine.setPlan({
    id: "flaky",
    name: "Flaky",
    strategy: "serial",
    phases: [
      {
        id: "p",
        name: "p",
        strategy: "serial",
        steps: [
          {
            id: "again",
            name: "try again",
            run: async () => {
              throw new PermanentStepError("device /dev/sdb holds a file system");
            },
          },
        ],
      },
    ],
  });
  await f.sched.engine.waitFor(
    "flaky",
    (v) => v.phases[0]!.steps[0]!.lastError === "device /dev/sdb holds a file system",
    20_000,
  );
  s = f.view.summary();
  assert.equal(s.health, "degraded");
  assert.ok(
    s.problems.includes(
      "flaky: try again failed and waits for an operator: device /dev/sdb holds a file system",
    ),
    s.problems.join("\n"),
  );
  assert.deepEqual(
    s.conditions.map((c) => `${c.type} ${c.severity} ${c.object}`),
    ["StepFailed warning step/flaky/again"],
  );
});

test("health: a cluster read made before the plans finished does not count as healthy", async () => {
  const f = await operatorFixture();
  fixtures.push(f);
  Object.defineProperty(f.sched, "subscribed", { get: () => true });
  let sds = 0;
  const read = async () => ({
    systemId: "s1",
    systemName: "scaleio",
    state: "ClusteredNormal",
    components: [
      { kind: "server", total: sds, ready: sds },
      { kind: "client", total: 2, ready: 2 },
    ],
    capacity: { rawBytes: 0, usableBytes: 0, freeBytes: 0 },
    alerts: [],
    observedAt: Date.now(),
  });
  Object.assign(f.platform, { summary: read });
  await f.view.refresh(); // read while the deploy runs: no SDS yet
  f.platform.release("agent-0");
  f.platform.release("agent-1");
  await f.sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 20_000);
  const stale = f.view.summary();
  assert.equal(stale.health, "deploying");
  assert.match(stale.problems.join(), /waiting for a read of the cluster/);
  sds = 2;
  const fresh = await settlesAt(f, "healthy");
  assert.equal(fresh.cluster?.components[0]?.ready, 2);
});

test("a cluster not readable yet (being created) is news; one that was readable and is lost is a warning", async () => {
  let fail: string | undefined = "login: MDM cluster is not configured";
  // The platform fails its reads from the start: the view has never read the cluster.
  const platform = new GatedPlatform();
  platform.summary = async () => {
    if (fail) throw new Error(fail);
    return {
      systemId: "s1",
      systemName: "scaleio",
      components: [],
      capacity: { rawBytes: 0, usableBytes: 0, freeBytes: 0 },
      alerts: [],
      observedAt: Date.now(),
    };
  };
  const f = await operatorFixture({ platform });
  fixtures.push(f);
  const logs = () =>
    f.view.events
      .since()
      .filter((e) => e.type === "log")
      .map((e) => e.data as { level: string; msg: string })
      .filter((d) => d.msg.startsWith("cluster not readable"));
  // A read under way when the test began may predate the failing reader: read until seen.
  const readUntil = (n: number) =>
    waitUntil(
      async () => {
        await f.view.refresh();
        return logs().length >= n;
      },
      { timeoutMs: 10_000, what: `${n} cluster-read log line(s)` },
    );
  await readUntil(1);
  assert.deepEqual(logs(), [
    {
      ...logs()[0]!,
      level: "info",
      msg: "cluster not readable yet: login: MDM cluster is not configured",
    },
  ]);
  fail = undefined;
  await f.view.refresh();
  fail = "connect ECONNREFUSED";
  await readUntil(2);
  assert.deepEqual(
    logs().map((d) => [d.level, d.msg]),
    [
      ["info", "cluster not readable yet: login: MDM cluster is not configured"],
      ["warn", "cluster not readable: connect ECONNREFUSED"],
    ],
  );
});

test("a finished step appears once in the event stream (its step event), a failed one also as a warning", async () => {
  const f = await operatorFixture({ agents: 1 });
  fixtures.push(f);
  f.platform.release("agent-0");
  await f.sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
  await waitUntil(
    () =>
      f.view.events
        .since()
        .some(
          (e) => e.type === "step" && (e.data as { step: { id: string } }).step.id === "verify/all",
        ),
    { timeoutMs: 5000, what: "the verify step's event" },
  );
  const about = (id: string) =>
    f.view.events.since().filter((e) => JSON.stringify(e.data).includes(id) && e.type !== "plan");
  const finished = about("install on host-0").filter(
    (e) => e.type === "log" || (e.data as { step: { status: string } }).step.status === "COMPLETE",
  );
  assert.deepEqual(
    finished.map((e) => e.type),
    ["step"],
  );
});
