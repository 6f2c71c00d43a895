import { test } from "node:test";
import assert from "node:assert/strict";
import { ExecutorLedger } from "../../../../src/mesos/executor/ledger.js";
import { durationInfoMs } from "../../../../src/mesos/executor/events.js";
import type { TaskStatus } from "../../../../src/mesos/types/common.js";
import { taskInfo } from "../../../support/executor-fixture.js";

const status = (task: string, state: TaskStatus["state"], uuid: string): TaskStatus => ({
  task_id: { value: task },
  state,
  uuid,
  source: "SOURCE_EXECUTOR",
});

test("ledger: duplicates, terminal marking, retraction, acknowledgement, id reuse", () => {
  const l = new ExecutorLedger();
  assert.equal(l.launch(taskInfo("a")), "new");
  assert.equal(l.launch(taskInfo("a")), "duplicate");
  l.record(status("a", "TASK_RUNNING", "u1"));
  l.record(status("a", "TASK_FINISHED", "u2"));
  assert.equal(l.isTerminal("a"), true);
  l.retract("u2");
  assert.equal(l.isTerminal("a"), false, "a rejected terminal update does not count");
  l.record(status("a", "TASK_FAILED", "u3"));
  assert.deepEqual(
    l.unacknowledgedUpdates().map((s) => s.uuid),
    ["u1", "u3"],
  );
  assert.deepEqual(
    l.unacknowledgedTasks().map((t) => t.task_id.value),
    ["a"],
  );
  l.markDelivered(["u1", "nope"]);
  assert.equal(l.pending("u1")?.delivered, true);
  assert.equal(l.acknowledge("a", "u1")?.uuid, "u1");
  assert.equal(l.acknowledge("a", "u1"), undefined, "a second ACKNOWLEDGED is harmless");
  assert.deepEqual(l.unacknowledgedTasks(), []);
  assert.equal(l.unacknowledgedCount, 1);
  assert.deepEqual(l.activeTasks(), []);
  // A finished task id may be launched again.
  assert.equal(l.launch(taskInfo("a")), "new");
  assert.equal(l.isTerminal("a"), false);
});

test("durationInfoMs: numbers, bigints, unset", () => {
  assert.equal(durationInfoMs({ nanoseconds: 1_500_000 }), 1.5);
  assert.equal(durationInfoMs({ nanoseconds: 30_000_000_000n }), 30_000);
  assert.equal(durationInfoMs(undefined), undefined);
  assert.equal(durationInfoMs({ nanoseconds: -1 }), undefined);
});
