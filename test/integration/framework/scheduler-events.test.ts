// The platform-neutral scheduler's handling of Mesos events, against a scripted master that
// sends exactly what each test wants: malformed events are skipped without killing anything
// or changing any state; a status update is acknowledged only after its outcome is in the
// store (and not at all when it could not be written: the resent copy is); a launch Mesos
// refuses for the agent's running executor is recognised by its structured fields.
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { encodeResult } from "../../../src/framework/node-task/protocol.js";
import { launchRefusal } from "../../../src/framework/node-task/runner.js";
import type { SchedulerCall } from "../../../src/mesos/types/scheduler.js";
import type { TaskStatus } from "../../../src/mesos/types/common.js";
import {
  offer,
  startScriptedScheduler,
  type ScriptedScheduler,
} from "../../support/scripted-scheduler.js";
import { waitUntil } from "../../support/wait.js";

const UUID = "mz5afCHQT26KGyw9Tl9gcQ==";
type World = ScriptedScheduler;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function startWorld(opts: { runSteps?: boolean } = {}): Promise<World> {
  const world = await startScriptedScheduler(opts);
  cleanups.push(() => world.close());
  return world;
}

/** Sends events, then a HEARTBEAT, and waits until all of them have been handled. */
function sendAll(world: World, events: unknown[]): Promise<void> {
  return world.sendAll(events);
}

function finished(taskId: string, agentId: string, extra: Partial<TaskStatus> = {}) {
  return {
    type: "UPDATE",
    update: {
      status: {
        task_id: { value: taskId },
        agent_id: { value: agentId },
        executor_id: { value: `scaleio-${agentId}` },
        state: "TASK_FINISHED",
        source: "SOURCE_EXECUTOR",
        uuid: UUID,
        data: encodeResult({ ok: true, data: { echoed: agentId } }),
        ...extra,
      },
    },
  };
}

/** Waits for the launch on an agent; returns its task id. */
async function launchedTask(world: World, agentId: string): Promise<string> {
  let taskId: string | undefined;
  await waitUntil(
    () => {
      for (const c of world.callsOf("ACCEPT")) {
        const ops = (
          c.json.accept as {
            operations: {
              type: string;
              launch?: {
                task_infos: { task_id: { value: string }; agent_id: { value: string } }[];
              };
            }[];
          }
        ).operations;
        for (const op of ops) {
          const t = op.launch?.task_infos[0];
          if (t && t.agent_id.value === agentId) taskId = t.task_id.value;
        }
      }
      return taskId !== undefined;
    },
    { timeoutMs: 10_000, what: `a launch on ${agentId}` },
  );
  return taskId!;
}

test("malformed events are skipped: the scheduler stays subscribed, nothing changes, and it keeps working", async () => {
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);
  process.on("unhandledRejection", onRejection);
  cleanups.push(async () => process.off("unhandledRejection", onRejection));
  const world = await startWorld();
  const { sched } = world;
  const writesBefore = world.writes.length;
  const ok = offer("o-ok", "a-ok");
  await sendAll(world, [
    { type: "OFFERS", offers: { offers: "not an array" } },
    { type: "OFFERS", offers: { offers: [{ ...ok, agent_id: undefined }] } },
    { type: "OFFERS", offers: { offers: [{ ...ok, resources: [{ name: "cpus" }] }] } },
    { type: "OFFERS", offers: { offers: [{ ...ok, domain: { fault_domain: {} } }] } },
    { type: "OFFERS", offers: [ok] },
    { type: "UPDATE", update: {} },
    { type: "UPDATE", update: { status: { state: "TASK_UNREACHABLE", source: "SOURCE_MASTER" } } },
    {
      type: "UPDATE",
      update: { status: { task_id: { value: "t" }, state: "TASK_LOST", uuid: UUID } },
    },
    { type: "FAILURE", failure: { agent_id: "a-ok" } },
    { type: "MESSAGE", message: { agent_id: { value: "a-ok" }, executor_id: { value: "e" } } },
    { type: "RESCIND", rescind: { offer_id: 5 } },
    { type: "SUBSCRIBED", subscribed: {} },
  ]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(rejections, [], "no handler rejection escaped");
  assert.equal(sched.client.state, "subscribed");
  assert.equal(world.master.subscribes.length, 1, "the stream was kept");
  assert.deepEqual(world.writes.slice(writesBefore), [], "nothing was written");
  assert.deepEqual(sched.agents.all(), [], "no agent learned");
  assert.deepEqual(world.platform.messages, []);
  for (const type of ["ACCEPT", "DECLINE", "ACKNOWLEDGE", "SHUTDOWN", "KILL"]) {
    assert.deepEqual(world.callsOf(type), [], `no ${type}`);
  }
  const skipped = world.logs.filter((l) => l.msg === "invalid mesos event skipped");
  assert.equal(skipped.length, 12);
  assert.deepEqual(
    [...new Set(skipped.map((l) => l.obj.event))],
    ["OFFERS", "UPDATE", "FAILURE", "MESSAGE", "RESCIND", "SUBSCRIBED"],
  );
  assert.equal(sched.pipeline.failures, 0);
  // And it keeps working: a good offer teaches it an agent, a good message arrives.
  await sendAll(world, [
    { type: "OFFERS", offers: { offers: [ok] } },
    {
      type: "MESSAGE",
      message: { agent_id: { value: "a-ok" }, executor_id: { value: "e" }, data: "aGk=" },
    },
  ]);
  await waitUntil(() => sched.agents.get("a-ok") !== undefined, { what: "the agent learned" });
  assert.deepEqual(world.platform.messages, ["a-ok: hi"]);
  assert.ok(world.writes.includes("agents"), "the agent was recorded");
});

test("a status update is acknowledged only after its outcome is in the store", async () => {
  const world = await startWorld({ runSteps: true });
  const { sched, platform } = world;
  await sendAll(world, [{ type: "OFFERS", offers: { offers: [offer("o1", "a1")] } }]);
  const taskId = await launchedTask(world, "a1");
  const order: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  // The write that removes the task's launch record (its end, durable) is held until the
  // MESSAGE sent after the update has been handled: events after the update go on.
  world.beforeWrite = async (key, value) => {
    if (!key.startsWith("task-records/") || JSON.stringify(value).includes(taskId)) return;
    order.push("outcome write started");
    await released;
    order.push("outcome write done");
  };
  platform.onMessage = () => {
    order.push("later event handled");
    release();
  };
  const call = sched.client.call.bind(sched.client);
  sched.client.call = (c: SchedulerCall) => {
    if (c.type === "ACKNOWLEDGE") order.push("acknowledge sent");
    return call(c);
  };
  world.stream.send([
    finished(taskId, "a1"),
    {
      type: "MESSAGE",
      message: { agent_id: { value: "a1" }, executor_id: { value: "scaleio-a1" }, data: "aGk=" },
    },
  ]);
  await waitUntil(() => world.callsOf("ACKNOWLEDGE").length === 1, {
    timeoutMs: 10_000,
    what: "the ACKNOWLEDGE at the master",
  });
  // The write was held while later events were handled; the acknowledgement waited for it.
  assert.deepEqual(order.slice(-2), ["outcome write done", "acknowledge sent"], order.join(", "));
  assert.deepEqual(order.slice(0, 2).sort(), ["later event handled", "outcome write started"]);
  assert.deepEqual(world.callsOf("ACKNOWLEDGE")[0]!.json.acknowledge, {
    agent_id: { value: "a1" },
    task_id: { value: taskId },
    uuid: UUID,
  });
  await sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
  assert.deepEqual(platform.results.get("a1"), { echoed: "a1" });
});

test("an update whose outcome cannot be written is not acknowledged; the copy Mesos resends is", async () => {
  const world = await startWorld({ runSteps: true });
  const { sched } = world;
  await sendAll(world, [{ type: "OFFERS", offers: { offers: [offer("o1", "a1")] } }]);
  const taskId = await launchedTask(world, "a1");
  let failing = true;
  world.beforeWrite = async (key) => {
    if (failing && key.startsWith("task-records/")) throw new Error("EIO: disk on fire");
  };
  await sendAll(world, [finished(taskId, "a1")]);
  assert.deepEqual(world.callsOf("ACKNOWLEDGE"), [], "not acknowledged");
  const failed = world.logs.find(
    (l) => l.msg === "mesos event handling failed; its later stages are skipped",
  );
  assert.ok(failed, "the failure is logged");
  assert.equal(failed.obj.event, "UPDATE");
  assert.equal(failed.obj.stage, "node tasks");
  assert.equal(failed.obj.task, taskId);
  // The step has its outcome all the same.
  await sched.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
  // The store works again; the agent resends the unacknowledged update.
  failing = false;
  await sendAll(world, [finished(taskId, "a1")]);
  await waitUntil(() => world.callsOf("ACKNOWLEDGE").length === 1, { what: "the ACKNOWLEDGE" });
  assert.deepEqual(await sched.runner.launchRecords(), [], "the launch record is gone");
  const onDisk: string[] = [];
  for (const key of await world.store.list("task-records"))
    onDisk.push(...Object.keys((await world.store.get<Record<string, unknown>>(key)) ?? {}));
  assert.deepEqual(onDisk, [], "and gone durably");
});

test("a launch refused by the master for the agent's running executor (by reason, whatever the text) replaces that executor", async () => {
  const world = await startWorld({ runSteps: true });
  // The agent runs our executor, started by an earlier scheduler this one knows nothing of.
  await sendAll(world, [
    {
      type: "OFFERS",
      offers: { offers: [offer("o1", "a2", { executor_ids: [{ value: "scaleio-a2" }] })] },
    },
  ]);
  const taskId = await launchedTask(world, "a2");
  const refusal = {
    task_id: { value: taskId },
    agent_id: { value: "a2" },
    state: "TASK_ERROR",
    source: "SOURCE_MASTER",
    reason: "REASON_TASK_INVALID",
    message: "Executor 'scaleio-a2' of this task differs from the one running on the agent",
  } as const;
  assert.equal(launchRefusal(refusal), "task-invalid");
  await sendAll(world, [{ type: "UPDATE", update: { status: refusal } }]);
  await waitUntil(() => world.callsOf("SHUTDOWN").length === 1, { what: "the SHUTDOWN" });
  assert.deepEqual(world.callsOf("SHUTDOWN")[0]!.json.shutdown, {
    executor_id: { value: "scaleio-a2" },
    agent_id: { value: "a2" },
  });
  assert.deepEqual(
    world.callsOf("ACKNOWLEDGE"),
    [],
    "a master's refusal has no uuid to acknowledge",
  );
});

test("refusals are read from state, reason and source only", () => {
  const base = { task_id: { value: "t" }, source: "SOURCE_MASTER" } as const;
  assert.equal(
    launchRefusal({ ...base, state: "TASK_ERROR", reason: "REASON_TASK_GROUP_INVALID" }),
    "task-invalid",
  );
  assert.equal(
    launchRefusal({ ...base, state: "TASK_ERROR", reason: "REASON_TASK_UNAUTHORIZED" }),
    "task-unauthorized",
  );
  assert.equal(
    launchRefusal({ ...base, state: "TASK_DROPPED", reason: "REASON_INVALID_OFFERS" }),
    "invalid-offers",
  );
  assert.equal(
    launchRefusal({ ...base, state: "TASK_LOST", reason: "REASON_INVALID_OFFERS" }),
    "invalid-offers",
  );
  assert.equal(
    launchRefusal({
      ...base,
      source: "SOURCE_EXECUTOR",
      state: "TASK_ERROR",
      reason: "REASON_TASK_INVALID",
    }),
    undefined,
    "an executor's word is not the master's refusal",
  );
  assert.equal(
    launchRefusal({
      ...base,
      state: "TASK_ERROR",
      message: "ExecutorInfo is not compatible with existing ExecutorInfo",
    }),
    undefined,
    "the message text alone means nothing",
  );
});
