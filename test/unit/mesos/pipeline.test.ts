// The scheduler's event pipeline: stages in order and awaited, a failing stage logged with
// the event type and contained, updates of one task one after the other (of different
// tasks side by side), and every event after a SUBSCRIBED waiting for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  SchedulerEventPipeline,
  acknowledgeStage,
  type PipelineStage,
} from "../../../src/mesos/scheduler/pipeline.js";
import type { SchedulerEvent } from "../../../src/mesos/types/scheduler.js";
import type { TaskStatus } from "../../../src/mesos/types/common.js";
import { withDeadline } from "../../support/wait.js";

function update(taskId: string, state = "TASK_RUNNING"): SchedulerEvent {
  return {
    type: "UPDATE",
    update: { status: { task_id: { value: taskId }, state } as TaskStatus },
  };
}

/** A promise with its resolve function, for stages a test releases by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

function recordingLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    lines.push({ level, obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) });
  return {
    lines,
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
  };
}

test("stages run in order for each event, each awaited before the next", async () => {
  const seen: string[] = [];
  const first = gate();
  const stages: PipelineStage[] = [
    {
      name: "persist",
      on: {
        UPDATE: async ({ status }) => {
          seen.push(`persist ${status.task_id.value} start`);
          await first.promise;
          seen.push(`persist ${status.task_id.value} done`);
        },
      },
    },
    { name: "ack", on: { UPDATE: ({ status }) => void seen.push(`ack ${status.task_id.value}`) } },
  ];
  const pipeline = new SchedulerEventPipeline({ stages });
  pipeline.push(update("t1"));
  // The first stage began synchronously, in push().
  assert.deepEqual(seen, ["persist t1 start"]);
  await Promise.resolve();
  assert.deepEqual(seen, ["persist t1 start"], "the ack waits for the persisting stage");
  first.open();
  await pipeline.settled();
  assert.deepEqual(seen, ["persist t1 start", "persist t1 done", "ack t1"]);
});

test("a failing stage is logged with the event type and stage, ends that event only, and nothing escapes", async () => {
  const { lines, logger } = recordingLogger();
  const acked: string[] = [];
  const offersSeen: number[] = [];
  const failures: string[] = [];
  const rejections: unknown[] = [];
  const onRejection = (r: unknown) => rejections.push(r);
  process.on("unhandledRejection", onRejection);
  try {
    const pipeline = new SchedulerEventPipeline({
      logger,
      onStageError: (_err, event, stage) => failures.push(`${event.type}/${stage}`),
      stages: [
        {
          name: "runner",
          on: {
            UPDATE: async ({ status }) => {
              if (status.task_id.value === "bad") throw new Error("store is full");
            },
            OFFERS: ({ offers }) => {
              if (!offers) throw new TypeError("synchronous mistake");
              offersSeen.push(offers.length);
            },
          },
        },
        { name: "ack", on: { UPDATE: ({ status }) => void acked.push(status.task_id.value) } },
      ],
    });
    pipeline.push(update("bad"));
    pipeline.push(update("good"));
    pipeline.push({ type: "OFFERS", offers: {} });
    pipeline.push({ type: "OFFERS", offers: { offers: [] } });
    await pipeline.settled();
    // Rejections surface on the next turns of the event loop.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(acked, ["good"], "the failed update is not acknowledged");
    assert.deepEqual(offersSeen, [0]);
    assert.deepEqual(failures.sort(), ["OFFERS/runner", "UPDATE/runner"]);
    assert.equal(pipeline.failures, 2);
    const errors = lines.filter((l) => l.level === "error");
    assert.equal(errors.length, 2);
    const onUpdate = errors.find((l) => l.obj.event === "UPDATE")!;
    assert.equal(onUpdate.obj.stage, "runner");
    assert.equal(onUpdate.obj.task, "bad");
    assert.match(String((onUpdate.obj.err as { message: string }).message), /store is full/);
    assert.ok(errors.some((l) => l.obj.event === "OFFERS" && l.obj.stage === "runner"));
    assert.deepEqual(rejections, []);
  } finally {
    process.off("unhandledRejection", onRejection);
  }
});

test("updates of one task are handled one after the other; other tasks and offers go on meanwhile", async () => {
  const seen: string[] = [];
  const held = gate();
  const pipeline = new SchedulerEventPipeline({
    stages: [
      {
        name: "runner",
        on: {
          UPDATE: async ({ status }) => {
            seen.push(`${status.task_id.value} ${status.state}`);
            if (status.task_id.value === "t1" && status.state === "TASK_RUNNING") {
              await held.promise;
            }
          },
          OFFERS: ({ offers }) => void seen.push(`offers ${offers?.length ?? 0}`),
        },
      },
    ],
  });
  pipeline.push(update("t1", "TASK_RUNNING"));
  pipeline.push(update("t1", "TASK_FINISHED"));
  pipeline.push(update("t2", "TASK_FINISHED"));
  pipeline.push({ type: "OFFERS", offers: { offers: [] } });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ["t1 TASK_RUNNING", "t2 TASK_FINISHED", "offers 0"]);
  held.open();
  await pipeline.settled();
  assert.deepEqual(seen, ["t1 TASK_RUNNING", "t2 TASK_FINISHED", "offers 0", "t1 TASK_FINISHED"]);
});

test("events after a SUBSCRIBED wait for its stages, in arrival order", async () => {
  const seen: string[] = [];
  const loading = gate();
  const pipeline = new SchedulerEventPipeline({
    stages: [
      {
        name: "runner",
        on: {
          SUBSCRIBED: async () => {
            seen.push("subscribed start");
            await loading.promise;
            seen.push("subscribed done");
          },
          OFFERS: ({ offers }) => void seen.push(`offers ${offers?.length}`),
          UPDATE: ({ status }) => void seen.push(`update ${status.task_id.value}`),
        },
      },
    ],
  });
  pipeline.push({ type: "SUBSCRIBED", subscribed: { framework_id: { value: "f" } } });
  pipeline.push({ type: "OFFERS", offers: { offers: [] } });
  pipeline.push(update("t1"));
  pipeline.push({ type: "OFFERS", offers: { offers: [] } });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ["subscribed start"]);
  loading.open();
  await withDeadline(pipeline.settled(), 2000, "pipeline to settle");
  assert.deepEqual(seen, [
    "subscribed start",
    "subscribed done",
    "offers 0",
    "update t1",
    "offers 0",
  ]);
});

test("the acknowledgement stage acknowledges, and a failed acknowledgement is a warning, not an error", async () => {
  const { lines, logger } = recordingLogger();
  const acked: string[] = [];
  let fail = true;
  const client = {
    acknowledgeIfNeeded: async (s: TaskStatus) => {
      if (fail) throw new Error("not subscribed");
      acked.push(s.task_id.value);
      return true;
    },
  };
  const pipeline = new SchedulerEventPipeline({ stages: [acknowledgeStage(client, logger)] });
  pipeline.push(update("t1"));
  await pipeline.settled();
  fail = false;
  pipeline.push(update("t1"));
  await pipeline.settled();
  assert.deepEqual(acked, ["t1"]);
  assert.equal(lines.filter((l) => l.level === "warn").length, 1);
  assert.equal(pipeline.failures, 0);
});
