// Mesos may split one agent's resources over several offers. The node-task runner answers an
// agent's offers as one: a launch sees our reserved leftovers in the other offer (reusing them,
// reserving nothing anew, so no reservation beyond the executor and one task is left behind),
// and every offer id is in the answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { NodeTaskRunner } from "../../../src/framework/node-task/runner.js";
import { byAgent, idsOf } from "../../../src/framework/node-task/agent-offers.js";
import { reservedResources } from "../../../src/framework/resources.js";
import type { Offer, Operation, Resource } from "../../../src/mesos/types/common.js";
import type { SchedulerClient } from "../../../src/mesos/scheduler/client.js";
import { waitUntil } from "../../support/wait.js";

const scalar = (name: string, value: number): Resource => ({
  name,
  type: "SCALAR",
  scalar: { value },
  allocation_info: { role: "scaleio" },
});
const offer = (id: string, agentId: string, resources: Resource[], executor = false): Offer =>
  ({
    id: { value: id },
    framework_id: { value: "f" },
    agent_id: { value: agentId },
    hostname: agentId,
    resources,
    ...(executor ? { executor_ids: [{ value: `scaleio-${agentId}` }] } : {}),
  }) as Offer;

test("offers of one agent are merged; ids kept, other agents untouched", () => {
  const merged = byAgent([
    offer("o1", "A", [scalar("cpus", 1)]),
    offer("o2", "B", [scalar("cpus", 2)]),
    offer("o3", "A", [scalar("mem", 64)], true),
  ]);
  assert.equal(merged.length, 2);
  assert.deepEqual(
    idsOf(merged[0]!).map((i) => i.value),
    ["o1", "o3"],
  );
  assert.deepEqual(
    (merged[0]!.resources ?? []).map((r) => r.name),
    ["cpus", "mem"],
  );
  assert.deepEqual(merged[0]!.executor_ids, [{ value: "scaleio-A" }]);
  assert.deepEqual(
    idsOf(merged[1]!).map((i) => i.value),
    ["o2"],
  );
});

interface Answers {
  accepted: { ids: string[]; ops: Operation[] }[];
  declined: string[];
}

async function runnerWith(answers: Answers) {
  const client = {
    accept: async (ids: { value: string }[], ops: Operation[]) => {
      answers.accepted.push({ ids: ids.map((i) => i.value), ops });
    },
    decline: async (ids: { value: string }[]) => {
      answers.declined.push(...ids.map((i) => i.value));
    },
    revive: async () => {},
    suppress: async () => {},
    shutdown: async () => {},
    kill: async () => {},
    reconcile: async () => {},
  } as unknown as SchedulerClient;
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "agent-offers-")));
  const runner = new NodeTaskRunner({
    client,
    store,
    role: "scaleio",
    principal: "fw",
    owner: "test",
    // Long enough that no sweep declines a held offer during a test.
    holdIdleMs: 60_000,
    executorFor: (agentId) => ({
      info: {
        executor_id: { value: `scaleio-${agentId}` },
        name: "x",
        command: { value: "true" },
      },
      resources: { cpus: 0.5, memMb: 128 },
    }),
  });
  return { runner, stage: runner.stage(), store };
}

const oneTask = () => reservedResources({ cpus: 0.05, memMb: 32 }, "scaleio", "fw", "test");
const plain = () => [scalar("cpus", 2), scalar("mem", 4096)];

test("a launch from an agent's split offers reuses our reserved leftovers and answers both", async () => {
  const answers: Answers = { accepted: [], declined: [] };
  const { accepted, declined } = answers;
  const { runner, stage, store } = await runnerWith(answers);
  // No update ever comes here: the step is stopped at the end.
  const stop = new AbortController();
  const run = runner.run(
    "A",
    { stepId: "s", attempt: 1, kind: "t.step", params: {} },
    { signal: stop.signal },
  );
  // The executor runs; a finished task's reservation comes back in its own offer, beside one
  // with unreserved resources.
  await stage.on.OFFERS!({
    offers: [offer("plain", "A", plain(), true), offer("ours", "A", oneTask(), true)],
  } as never);
  await waitUntil(() => accepted.length === 1, { timeoutMs: 5000, what: "the launch" });
  assert.deepEqual(accepted[0]!.ids.sort(), ["ours", "plain"], "both offers in one answer");
  assert.deepEqual(
    accepted[0]!.ops.map((o) => o.type),
    ["LAUNCH"],
    "nothing reserved anew: the leftovers cover the task",
  );
  assert.deepEqual(declined, []);
  stop.abort(new Error("test over"));
  await assert.rejects(run, /test over/);
  await store.close();
});

test("an idle agent's offers are held together; a step due later launches from both", async () => {
  const answers: Answers = { accepted: [], declined: [] };
  const { runner, stage, store } = await runnerWith(answers);
  // Nothing waits: both offers of agent A are held (the second does not push out the first).
  await stage.on.OFFERS!({ offers: [offer("ours", "A", oneTask(), true)] } as never);
  await stage.on.OFFERS!({ offers: [offer("plain", "A", plain(), true)] } as never);
  assert.deepEqual(answers.declined, [], "no held offer declined");
  assert.deepEqual([...runner.heldOffers().keys()], ["A"]);

  const stop = new AbortController();
  const run = runner.run(
    "A",
    { stepId: "s", attempt: 1, kind: "t.step", params: {} },
    { signal: stop.signal },
  );
  await waitUntil(() => answers.accepted.length === 1, { timeoutMs: 5000, what: "the launch" });
  assert.deepEqual(answers.accepted[0]!.ids.sort(), ["ours", "plain"]);
  assert.deepEqual(
    answers.accepted[0]!.ops.map((o) => o.type),
    ["LAUNCH"],
    "the held leftovers cover the task",
  );
  stop.abort(new Error("test over"));
  await assert.rejects(run, /test over/);
  await store.close();
});

test("an idle agent's reservations beyond the executor and one task are given back", async () => {
  const answers: Answers = { accepted: [], declined: [] };
  const { runner, stage, store } = await runnerWith(answers);
  // Two tasks' worth of ours came back in two offers (a task ended while another offer was
  // out): one is kept for the agent's next step, the other unreserved.
  await stage.on.OFFERS!({ offers: [offer("first", "A", oneTask(), true)] } as never);
  assert.equal(answers.accepted.length, 0, "one task's worth is what the agent keeps");
  await stage.on.OFFERS!({
    offers: [offer("second", "A", [...oneTask(), ...plain()], true)],
  } as never);
  await waitUntil(() => answers.accepted.length === 1, { timeoutMs: 5000, what: "the unreserve" });
  const [answer] = answers.accepted;
  assert.deepEqual(answer!.ids.sort(), ["first", "second"]);
  assert.deepEqual(
    answer!.ops.map((o) => o.type),
    ["UNRESERVE"],
  );
  const op = answer!.ops[0]!;
  assert.ok(op.type === "UNRESERVE");
  const given = op.unreserve.resources;
  const sum = (name: string) =>
    given.filter((r) => r.name === name).reduce((n, r) => n + (r.scalar?.value ?? 0), 0);
  assert.equal(sum("cpus"), 0.05);
  assert.equal(sum("mem"), 32);
  assert.ok(
    given.every((r) => (r.reservations ?? []).length > 0),
    "only reserved resources are given back",
  );
  assert.equal(runner.heldOffers().size, 0, "the answered offers are not held");

  // Without the executor running, its reservation is kept too: nothing to give back.
  const exec = reservedResources({ cpus: 0.5, memMb: 128 }, "scaleio", "fw", "test");
  await stage.on.OFFERS!({ offers: [offer("cold", "B", [...exec, ...oneTask()])] } as never);
  assert.equal(answers.accepted.length, 1);
  assert.deepEqual([...runner.heldOffers().keys()], ["B"]);
  await store.close();
});
