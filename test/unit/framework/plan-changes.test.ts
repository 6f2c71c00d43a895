// Plan events carry changes: the plan's status and counts, and only the phases whose status
// or pause changed. The event buffer, keeping one plan event per plan, loses no phase change.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventHub } from "../../../src/framework/events.js";
import { PlanChangeTracker, type PlanChange } from "../../../src/framework/plan-changes.js";
import type { PhaseView, PlanView } from "../../../src/framework/plan/types.js";

function phase(id: string, status: PhaseView["status"], paused = false): PhaseView {
  return {
    id,
    name: `phase ${id}`,
    strategy: "parallel",
    dependsOn: [],
    status,
    paused,
    steps: [],
  };
}

function plan(phases: PhaseView[], complete: number, paused = false): PlanView {
  return {
    id: "deploy",
    name: "Deploy",
    strategy: "serial",
    status: complete === 10 ? "COMPLETE" : "IN_PROGRESS",
    paused,
    phases,
    progress: { complete, total: 10 },
  };
}

test("a plan is told of whole the first time, then only what changed", () => {
  const t = new PlanChangeTracker();
  const first = t.change(plan([phase("a", "IN_PROGRESS"), phase("b", "PENDING")], 0))!;
  assert.deepEqual(first.phases, [
    { id: "a", status: "IN_PROGRESS", paused: false, name: "phase a" },
    { id: "b", status: "PENDING", paused: false, name: "phase b" },
  ]);

  // A step finished: counts only.
  const counts = t.change(plan([phase("a", "IN_PROGRESS"), phase("b", "PENDING")], 1))!;
  assert.deepEqual(counts.progress, { complete: 1, total: 10 });
  assert.deepEqual(counts.phases, []);

  // Nothing changed: nothing to tell.
  assert.equal(t.change(plan([phase("a", "IN_PROGRESS"), phase("b", "PENDING")], 1)), undefined);

  // One phase finished, the next paused: those two, without names.
  const moved = t.change(plan([phase("a", "COMPLETE"), phase("b", "WAITING", true)], 5))!;
  assert.deepEqual(moved.phases, [
    { id: "a", status: "COMPLETE", paused: false },
    { id: "b", status: "WAITING", paused: true },
  ]);

  // A phase gone from the definition.
  const gone = t.change(plan([phase("a", "COMPLETE")], 5))!;
  assert.deepEqual(gone.removedPhases, ["b"]);
});

test("the buffer's one plan event per plan keeps the phase changes it replaced", () => {
  const hub = new EventHub({ capacity: 100 });
  const t = new PlanChangeTracker();
  const publish = (v: PlanView) => hub.publish("plan", t.change(v)!);
  const first = publish(plan([phase("a", "PENDING"), phase("b", "PENDING")], 0));
  const second = publish(plan([phase("a", "COMPLETE"), phase("b", "PENDING")], 5));
  const third = publish(plan([phase("a", "COMPLETE"), phase("b", "IN_PROGRESS")], 6));
  // Live clients got only what changed.
  assert.deepEqual(
    (third.data as PlanChange).phases.map((p) => p.id),
    ["b"],
  );
  // A replay from before the first: one plan event, saying all of it.
  const kept = hub.since(0).filter((e) => e.type === "plan");
  assert.equal(kept.length, 1);
  assert.equal(kept[0]!.id, third.id);
  assert.deepEqual((kept[0]!.data as PlanChange).phases, [
    { id: "a", status: "COMPLETE", paused: false, name: "phase a" },
    { id: "b", status: "IN_PROGRESS", paused: false, name: "phase b" },
  ]);
  assert.deepEqual((kept[0]!.data as PlanChange).progress, { complete: 6, total: 10 });
  assert.ok(first.id < second.id && second.id < third.id);
});
