// An agent whose offers announce a Mesos maintenance window (their `unavailability`): the
// node-task runner starts no new step there when the window begins soon (within its lead) or
// has begun and not ended; the offer is declined and the step says why it waits. A step of
// the maintenance itself is launched anyway; a window far ahead or over holds nothing; once
// the agent is offered without the window, the waiting step launches.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { NodeTaskRunner } from "../../../src/framework/node-task/runner.js";
import { byAgent } from "../../../src/framework/node-task/agent-offers.js";
import type { Offer, Operation, Resource } from "../../../src/mesos/types/common.js";
import type { SchedulerClient } from "../../../src/mesos/scheduler/client.js";
import { waitUntil } from "../../support/wait.js";

const MIN = 60_000;
const scalar = (name: string, value: number): Resource => ({
  name,
  type: "SCALAR",
  scalar: { value },
  allocation_info: { role: "scaleio" },
});
// As the scheduler's JSON decoder gives Int64s: a bigint (a string lost precision on the way).
const ns = (ms: number) => BigInt(Math.round(ms)) * 1_000_000n;

/** An offer of agent A (host node-a), with a maintenance window from `startMs` for `forMs`. */
function offer(id: string, window?: { startMs: number; forMs?: number }): Offer {
  return {
    id: { value: id },
    framework_id: { value: "f" },
    agent_id: { value: "A" },
    hostname: "node-a",
    resources: [scalar("cpus", 2), scalar("mem", 4096)],
    ...(window
      ? {
          unavailability: {
            start: { nanoseconds: ns(window.startMs) },
            ...(window.forMs !== undefined ? { duration: { nanoseconds: ns(window.forMs) } } : {}),
          },
        }
      : {}),
  } as Offer;
}

async function setup() {
  const accepted: { ids: string[]; ops: Operation[] }[] = [];
  const declined: string[] = [];
  const client = {
    accept: async (ids: { value: string }[], ops: Operation[]) =>
      void accepted.push({ ids: ids.map((i) => i.value), ops }),
    decline: async (ids: { value: string }[]) => void declined.push(...ids.map((i) => i.value)),
    revive: async () => {},
    suppress: async () => {},
    shutdown: async () => {},
    kill: async () => {},
    reconcile: async () => {},
  } as unknown as SchedulerClient;
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "node-task-maint-")));
  const runner = new NodeTaskRunner({
    client,
    store,
    role: "scaleio",
    principal: "fw",
    owner: "test",
    holdIdleMs: 60_000,
    maintenanceLeadMs: 5 * MIN,
    executorFor: (agentId) => ({
      info: { executor_id: { value: `x-${agentId}` }, name: "x", command: { value: "true" } },
      resources: { cpus: 0.5, memMb: 128 },
    }),
  });
  const stop = new AbortController();
  const said: string[] = [];
  const start = (stepId: string, maintenance = false) =>
    runner
      .run(
        "A",
        { stepId, attempt: 1, kind: "t.step", params: {} },
        {
          signal: stop.signal,
          progress: (m) => said.push(m),
          ...(maintenance ? { maintenance } : {}),
        },
      )
      .catch(() => undefined);
  const offers = (o: Offer) => runner.stage().on.OFFERS!({ offers: [o] } as never);
  const launched = () =>
    accepted.filter((a) => a.ops.some((op) => op.type === "LAUNCH")).map((a) => a.ids[0]);
  const close = async () => {
    stop.abort(new Error("test over"));
    await store.close();
  };
  return { runner, start, offers, launched, declined, said, close };
}

test("a window beginning within the lead: the step waits, says why once, and launches when the agent is offered without it", async () => {
  const t = await setup();
  try {
    const run = t.start("deploy/s");
    const startMs = Date.now() + 2 * MIN;
    await t.offers(offer("o1", { startMs, forMs: 30 * MIN }));
    assert.deepEqual(t.launched(), [], "not launched into the window");
    assert.deepEqual(t.declined, ["o1"], "the offer goes back");
    assert.deepEqual(t.said, [
      `waiting: node-a has a maintenance window from ${new Date(startMs).toISOString()} until ${new Date(startMs + 30 * MIN).toISOString()}; no new step starts there before it is over`,
    ]);
    await t.offers(offer("o2", { startMs, forMs: 30 * MIN }));
    assert.deepEqual(t.launched(), []);
    assert.equal(t.said.length, 1, "said once while nothing changes");

    // The window is over (the machine is back, the schedule cleared): it launches.
    await t.offers(offer("o3"));
    await waitUntil(() => t.launched().length === 1, { timeoutMs: 5000, what: "the launch" });
    assert.deepEqual(t.launched(), ["o3"]);
    void run;
  } finally {
    await t.close();
  }
});

test("a window begun and open-ended holds steps; a step of the maintenance itself launches there", async () => {
  const t = await setup();
  try {
    void t.start("deploy/s");
    await t.offers(offer("o1", { startMs: Date.now() - MIN }));
    assert.deepEqual(t.launched(), []);
    assert.match(t.said[0]!, /^waiting: node-a has a maintenance window from \S+ \(no end set\)/);
    void t.start("maintenance/s", true);
    await t.offers(offer("o2", { startMs: Date.now() - MIN }));
    await waitUntil(() => t.launched().length === 1, { timeoutMs: 5000, what: "the launch" });
    assert.deepEqual(t.launched(), ["o2"], "the maintenance step went first");
  } finally {
    await t.close();
  }
});

test("a window far ahead, or already over, holds nothing", async () => {
  for (const window of [
    { startMs: Date.now() + 60 * MIN, forMs: 30 * MIN },
    { startMs: Date.now() - 60 * MIN, forMs: 30 * MIN },
  ]) {
    const t = await setup();
    try {
      void t.start("deploy/s");
      await t.offers(offer("o1", window));
      await waitUntil(() => t.launched().length === 1, { timeoutMs: 5000, what: "the launch" });
      assert.deepEqual(t.said, []);
    } finally {
      await t.close();
    }
  }
});

test("an agent's offers taken together carry the later offer's window", () => {
  const soon = { startMs: Date.now() + MIN, forMs: MIN };
  assert.ok(byAgent([offer("a"), offer("b", soon)])[0]!.unavailability, "announced by the later");
  assert.equal(byAgent([offer("a", soon), offer("b")])[0]!.unavailability, undefined);
});

test("startable(): waits with the window's words while it holds the agent, launches nothing, and resolves once the agent is offered without it", async () => {
  const t = await setup();
  try {
    const stop = new AbortController();
    const said: string[] = [];
    let ready = false;
    const probe = t.runner
      .startable("A", { signal: stop.signal, progress: (m) => said.push(m) })
      .then(() => (ready = true));
    const startMs = Date.now() + 2 * MIN;
    await t.offers(offer("o1", { startMs, forMs: 30 * MIN }));
    assert.match(said[0] ?? "", /^waiting: node-a has a maintenance window from /);
    assert.equal(ready, false);
    await t.offers(offer("o2"));
    await probe;
    assert.deepEqual(t.launched(), [], "a probe launches nothing");
    // The offer is kept for the step that follows: it launches without a new one.
    void t.start("upgrade/s");
    await waitUntil(() => t.launched().length === 1, { timeoutMs: 5000, what: "the launch" });
    assert.deepEqual(t.launched(), ["o2"]);
  } finally {
    await t.close();
  }
});

test("a step held by its agent's window tells onHeld once", async () => {
  const t = await setup();
  try {
    const held: string[] = [];
    const stop = new AbortController();
    void t.runner
      .run(
        "A",
        { stepId: "upgrade/s", attempt: 1, kind: "t.step", params: {} },
        { signal: stop.signal, onHeld: (why) => held.push(why) },
      )
      .catch(() => undefined);
    const w = { startMs: Date.now() - MIN, forMs: 30 * MIN };
    await t.offers(offer("o1", w));
    await t.offers(offer("o2", w));
    assert.equal(held.length, 1);
    assert.match(held[0]!, /^waiting: node-a has a maintenance window/);
    stop.abort(new Error("test over"));
  } finally {
    await t.close();
  }
});
