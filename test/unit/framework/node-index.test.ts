// The step index and node queries (issue 20): the node list built from the index is what
// scanning every step gave; filters, natural order and pages; cursors that stay valid when
// nodes join; a plan's steps filtered with the whole plan's statuses and counts.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { naturalCompare } from "../../../src/framework/natural-order.js";
import { textMatcher } from "../../../src/framework/node-index.js";
import type { NodeStep, NodeView } from "../../../src/framework/operator-view.js";
import { PermanentStepError, type StepView } from "../../../src/framework/plan/types.js";
import { offer, operatorFixture, type OperatorFixture } from "../../support/operator-fixture.js";
import { waitUntil } from "../../support/wait.js";

const fixtures: OperatorFixture[] = [];
after(async () => {
  for (const f of fixtures) await f.close();
});

/** What nodes() answered before the index: every step of every plan scanned per agent. */
function scanned(f: OperatorFixture): NodeStep[][] {
  const plans = f.sched.engine.planIds().map((id) => f.sched.engine.view(id));
  return f.sched.agents.all().map((a) => {
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
    return steps;
  });
}

test("natural order: numbers as numbers, addresses by their parts, a total order", () => {
  const hosts = ["127.151.1.10", "host-10", "127.151.1.4", "host-2", "Host-1", "127.151.2.1"];
  assert.deepEqual([...hosts].sort(naturalCompare), [
    "127.151.1.4",
    "127.151.1.10",
    "127.151.2.1",
    "Host-1",
    "host-2",
    "host-10",
  ]);
  assert.ok(naturalCompare("a01", "a1") !== 0, "ties broken, so cursors have one place");
  assert.ok(naturalCompare("n99999999999999999999", "n100000000000000000000") < 0);
});

test("text: a substring, or with * and ? a whole-name pattern, any case", () => {
  assert.equal(textMatcher("ost-1")("HOST-12"), true);
  assert.equal(textMatcher("host-1*")("host-12"), true);
  assert.equal(textMatcher("host-1?")("host-1"), false);
  assert.equal(textMatcher("*.1.4")("127.151.1.4"), true);
  assert.equal(textMatcher("*.1.4")("127.151.1.40"), false);
  assert.equal(textMatcher("a.c")("abc"), false, "a dot is a dot");
});

test("node steps from the index equal a scan of every plan, as steps change", async () => {
  const f = await operatorFixture({ agents: 6 });
  fixtures.push(f);
  // The index follows the engine's events: a step that has just started (its start being
  // recorded) shows once its event is out, a moment later.
  const check = async () => {
    await waitUntil(() =>
      isDeepStrictEqual(
        f.view.nodes().map((n) => n.steps),
        scanned(f),
      ),
    ).catch(() => undefined);
    assert.deepEqual(
      f.view.nodes().map((n) => n.steps),
      scanned(f),
    );
  };
  await waitUntil(() => f.view.nodes().every((n) => n.steps[0]?.status === "IN_PROGRESS"));
  await check();
  f.platform.release("agent-2");
  await waitUntil(() => f.view.node("agent-2")!.steps[0]!.status === "COMPLETE");
  await check();
  // A second plan with a step per agent that fails for one of them.
  await f.sched.engine.setPlan({
    id: "extra",
    name: "Extra",
    strategy: "serial",
    phases: [
      {
        id: "x",
        name: "x",
        strategy: "parallel",
        steps: f.sched.agents.all().map((a) => ({
          id: `x/${a.agentId}`,
          name: `x on ${a.hostname}`,
          asset: `other-${a.agentId}`,
          run: async () => {
            if (a.agentId === "agent-4") throw new PermanentStepError("disk on fire");
            return "x done";
          },
        })),
      },
    ],
  });
  await waitUntil(() =>
    f.sched.engine
      .view("extra")
      .phases[0]!.steps.every((s) => s.status !== "PENDING" && s.status !== "IN_PROGRESS"),
  );
  await check();
  // A new agent: the gated platform's plan grows by a step.
  await f.sched.agents.observe(offer("agent-6", "host-6"));
  await f.platform.recompute();
  await check();
  await f.sched.engine.removePlan("extra");
  await check();
});

test("status, text, natural order and pages; cursors survive agents joining", async () => {
  const f = await operatorFixture({ agents: 12 });
  fixtures.push(f);
  await waitUntil(() => f.view.nodes().every((n) => n.steps[0]?.status === "IN_PROGRESS"));
  for (const id of ["agent-3", "agent-10", "agent-11"]) f.platform.release(id);
  await waitUntil(() => f.view.index.page({ status: ["ok"] }).agents.length === 3);
  await f.sched.agents.markLost("agent-5");
  const hosts = (q: Parameters<typeof f.view.nodePage>[0]) =>
    f.view.nodePage(q).nodes.map((n: NodeView) => n.hostname);
  assert.deepEqual(hosts({ status: ["ok"] }), ["host-3", "host-10", "host-11"]);
  assert.deepEqual(hosts({ status: ["lost"] }), ["host-5"], "lost, its step not failed");
  assert.deepEqual(hosts({ q: "host-1" }), ["host-1", "host-10", "host-11"]);
  assert.deepEqual(hosts({ q: "HOST-1?" }), ["host-10", "host-11"]);
  assert.deepEqual(hosts({ sort: "status", limit: 5 }), [
    "host-5",
    "host-0",
    "host-1",
    "host-2",
    "host-4",
  ]);

  // Pages of 5 in natural order; a node joining before the cursor does not shift later pages.
  const p1 = f.view.nodePage({ limit: 5 });
  assert.deepEqual(
    p1.nodes.map((n) => n.hostname),
    ["host-0", "host-1", "host-2", "host-3", "host-4"],
  );
  assert.ok(p1.next);
  await f.sched.agents.observe(offer("agent-12", "host-2a"));
  const p2 = f.view.nodePage({ limit: 5, cursor: p1.next! });
  assert.deepEqual(
    p2.nodes.map((n) => n.hostname),
    ["host-5", "host-6", "host-7", "host-8", "host-9"],
  );
  await f.sched.agents.observe(offer("agent-13", "host-99"));
  const p3 = f.view.nodePage({ limit: 5, cursor: p2.next! });
  assert.deepEqual(
    p3.nodes.map((n) => n.hostname),
    ["host-10", "host-11", "host-99"],
  );
  assert.equal(p3.next, undefined, "the last page has no next");
  // Exactly a page's worth: no next.
  const oks = f.view.nodePage({ status: ["ok"], q: "host-1", limit: 2 });
  assert.deepEqual(
    oks.nodes.map((n) => n.hostname),
    ["host-10", "host-11"],
  );
  assert.equal(oks.next, undefined);

  // Sorted by status, paged: each node once, failed first.
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const pg = f.view.nodePage({ sort: "status", limit: 4, ...(cursor ? { cursor } : {}) });
    seen.push(...pg.nodes.map((n) => n.hostname));
    cursor = pg.next;
  } while (cursor);
  assert.equal(seen.length, 14);
  assert.equal(new Set(seen).size, 14);
  assert.equal(seen[0], "host-5");
  for (const done of ["host-3", "host-10", "host-11"])
    assert.ok(
      seen.indexOf(done) > seen.indexOf("host-0"),
      `${done}, finished, after host-0, at work`,
    );
  assert.throws(() => f.view.nodePage({ sort: "status", cursor: p1.next! }), /pages sort=hostname/);
  assert.throws(() => f.view.nodePage({ cursor: "nonsense" }), /bad cursor/);
});

test("a plan filtered by status and agent keeps its phases, statuses and whole counts", async () => {
  const f = await operatorFixture({ agents: 4 });
  fixtures.push(f);
  await waitUntil(() => f.view.nodes().every((n) => n.steps[0]?.status === "IN_PROGRESS"));
  f.platform.release("agent-1");
  await waitUntil(() => f.view.node("agent-1")!.steps[0]!.status === "COMPLETE");
  const whole = f.sched.engine.view("deploy");
  const done = f.view.index.plan("deploy", { status: ["COMPLETE"] })!;
  assert.equal(done.status, whole.status);
  assert.deepEqual(done.progress, whole.progress);
  assert.deepEqual(
    done.phases.map((p) => [p.id, p.status, p.paused, p.dependsOn]),
    whole.phases.map((p) => [p.id, p.status, p.paused, p.dependsOn]),
  );
  assert.deepEqual(
    done.phases[0]!.steps.map((s) => s.id),
    ["install/agent-1"],
  );
  assert.deepEqual(done.phases[1]!.steps, []);
  assert.equal((done.phases[0]!.steps[0] as { hostname?: string }).hostname, "host-1");
  const running = f.view.index.plan("deploy", { status: ["IN_PROGRESS"], agent: "host-*" })!;
  assert.deepEqual(
    running.phases[0]!.steps.map((s) => s.id),
    ["install/agent-0", "install/agent-2", "install/agent-3"],
  );
  assert.deepEqual(
    f.view.index.plan("deploy", { agent: "agent-2" })!.phases[0]!.steps.map((s) => s.id),
    ["install/agent-2"],
  );
  // Everything unfiltered: the engine's view, each agent's step with its hostname.
  const all = f.view.index.plan("deploy", {})!;
  assert.deepEqual(
    all.phases.map((p) => ({
      ...p,
      steps: p.steps.map((x) => {
        const s: Partial<StepView & { hostname: string }> = { ...x };
        delete s.hostname;
        return s;
      }),
    })),
    whole.phases,
  );
  await f.sched.engine.pause("deploy", "install");
  const paused = f.view.index.plan("deploy", { status: ["ERROR"] })!;
  assert.equal(paused.phases[0]!.paused, true);
  assert.equal(paused.status, f.sched.engine.view("deploy").status);
  assert.equal(paused.phases[0]!.status, f.sched.engine.view("deploy").phases[0]!.status);
  assert.equal(f.view.index.plan("nope", {}), undefined);
  // A plan the engine forgets (it says nothing) is gone from the index too.
  await f.sched.engine.setPlan({ id: "other", name: "o", strategy: "serial", phases: [] });
  assert.ok(f.view.index.plan("other", {}));
  await f.sched.engine.removePlan("other");
  await f.sched.engine.setPlan({ id: "third", name: "t", strategy: "serial", phases: [] });
  assert.equal(f.view.index.plan("other", {}), undefined);
});
