// The dashboard's model applies plan events that carry changes to the plan it holds. A change
// that changed no phase (only the plan's status or counts) must leave the phases as they are:
// taken for a whole view, it emptied the plan, and the page lost its phases (and which of
// them the operator had open) until the next read.
import { test } from "node:test";
import assert from "node:assert/strict";
// @ts-expect-error: the web UI is plain JavaScript without type declarations.
import { applyEvent, setPlan, state } from "../../../web/model.js";

interface HeldPlan {
  status: string;
  phases: { id: string; status: string; steps: { id: string }[] }[];
  progress: { complete: number; total: number };
}

const view = () => ({
  id: "deploy",
  name: "Deploy",
  status: "IN_PROGRESS",
  paused: false,
  progress: { complete: 1, total: 2 },
  phases: [
    { id: "a", name: "A", status: "COMPLETE", paused: false, steps: [{ id: "a1" }] },
    { id: "b", name: "B", status: "PENDING", paused: false, steps: [{ id: "b1" }] },
  ],
});

test("a plan change naming no phase keeps the held phases", () => {
  setPlan(view());
  const drawn = applyEvent("plan", {
    id: "deploy",
    status: "WAITING",
    paused: true,
    progress: { complete: 1, total: 2 },
    phases: [],
  });
  assert.deepEqual(drawn, ["plans"]);
  const plan = state.plans.get("deploy") as HeldPlan;
  assert.equal(plan.status, "WAITING");
  assert.deepEqual(
    plan.phases.map((p) => p.id),
    ["a", "b"],
  );
  assert.deepEqual(plan.phases[1]!.steps, [{ id: "b1" }]);
});

test("a plan change updates the phases it names, and a whole view replaces the plan", () => {
  setPlan(view());
  applyEvent("plan", {
    id: "deploy",
    status: "COMPLETE",
    paused: false,
    progress: { complete: 2, total: 2 },
    phases: [{ id: "b", status: "COMPLETE", paused: false }],
  });
  const changed = state.plans.get("deploy") as HeldPlan;
  assert.deepEqual(
    changed.phases.map((p) => p.status),
    ["COMPLETE", "COMPLETE"],
  );
  assert.deepEqual(changed.progress, { complete: 2, total: 2 });

  const whole = { ...view(), phases: [view().phases[0]!] };
  applyEvent("plan", whole);
  assert.deepEqual(
    (state.plans.get("deploy") as HeldPlan).phases.map((p) => p.id),
    ["a"],
  );
});
