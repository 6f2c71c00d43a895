import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { TaskReconciler, type ReconcileChannel } from "../../../src/mesos/scheduler/reconciler.js";
import type { TaskStatus } from "../../../src/mesos/types/index.js";

class FakeChannel extends EventEmitter implements ReconcileChannel {
  readonly asked: string[][] = [];
  answer: (tasks: string[]) => void = () => {};
  async reconcile(tasks: { taskId: string }[]): Promise<void> {
    const ids = tasks.map((t) => t.taskId);
    this.asked.push(ids);
    queueMicrotask(() => this.answer(ids));
  }
  update(taskId: string, state: TaskStatus["state"]) {
    this.emit("update", {
      task_id: { value: taskId },
      state,
      source: "SOURCE_MASTER",
      reason: "REASON_RECONCILIATION",
    });
  }
}

test("explicit rounds re-ask only silent tasks, then one implicit reconciliation", async () => {
  const ch = new FakeChannel();
  let round = 0;
  ch.answer = (ids) => {
    round++;
    if (ids.length === 0) return;
    if (round === 1) ch.update("t1", "TASK_RUNNING"); // t2 stays silent (agent recovering)
    if (round === 2) ch.update("t2", "TASK_LOST");
  };
  const r = new TaskReconciler(ch, { backoff: { initialMs: 5, maxMs: 20 } });
  const res = await r.run([{ taskId: "t1", agentId: "a1" }, { taskId: "t2" }]);
  assert.deepEqual(ch.asked, [["t1", "t2"], ["t2"], []]);
  assert.equal(res.answered.get("t1")!.state, "TASK_RUNNING");
  assert.equal(res.answered.get("t2")!.state, "TASK_LOST");
  assert.deepEqual(res.silent, []);
  assert.equal(r.running, false);
});

test("with nothing believed running, only the implicit reconciliation is sent", async () => {
  const ch = new FakeChannel();
  const res = await new TaskReconciler(ch).run([]);
  assert.deepEqual(ch.asked, [[]]);
  assert.equal(res.rounds, 0);
});

test("maxRounds bounds the explicit phase and reports silent tasks", async () => {
  const ch = new FakeChannel();
  const res = await new TaskReconciler(ch, {
    maxRounds: 2,
    backoff: { initialMs: 2, maxMs: 4 },
  }).run([{ taskId: "ghost" }]);
  assert.deepEqual(ch.asked, [["ghost"], ["ghost"], []]);
  assert.deepEqual(res.silent, ["ghost"]);
});

test("a new run cancels the one in progress", async () => {
  const ch = new FakeChannel();
  const r = new TaskReconciler(ch, { backoff: { initialMs: 60_000, maxMs: 60_000 } });
  const first = r.run([{ taskId: "t1" }]);
  const second = r.run([]);
  await assert.rejects(first, /superseded/);
  await second;
});

test("a failing RECONCILE call rejects the run", async () => {
  const ch = new FakeChannel();
  ch.reconcile = async () => {
    throw new Error("not subscribed");
  };
  await assert.rejects(new TaskReconciler(ch).run([{ taskId: "t1" }]), /not subscribed/);
});
