// The framework's health vocabulary: conditions keep their start across looks, clear when
// they stop holding, report severity changes; one status for the whole cluster; a bounded
// history of samples.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConditionTracker,
  SampleHistory,
  healthStatus,
} from "../../../src/framework/health/index.js";
import type { ConditionFinding } from "../../../src/framework/health/index.js";

const full = (severity: "warning" | "critical", used: number): ConditionFinding => ({
  type: "CapacityAlmostFull",
  severity,
  object: "pool/pd/p1",
  message: `p1 is ${used} % used`,
  values: { usedPercent: used },
});

test("a condition keeps its start while it holds, changes severity in place, and clears", () => {
  let now = 1000;
  const t = new ConditionTracker(() => now);
  assert.deepEqual(
    t.update("platform", [full("warning", 85)]).map((c) => c.kind),
    ["raised"],
  );
  now = 2000;
  assert.deepEqual(t.update("platform", [full("warning", 86)]), [], "unchanged: no news");
  assert.equal(t.active()[0]!.since, 1000);
  assert.equal(t.active()[0]!.message, "p1 is 86 % used", "the newest words are kept");
  now = 3000;
  const changed = t.update("platform", [full("critical", 93)]);
  assert.equal(changed[0]!.kind, "changed");
  assert.equal(changed[0]!.previous, "warning");
  assert.equal(changed[0]!.condition.since, 1000, "a severity change is the same condition");
  now = 4000;
  const cleared = t.update("platform", []);
  assert.deepEqual(
    cleared.map((c) => [c.kind, c.condition.type]),
    [["cleared", "CapacityAlmostFull"]],
  );
  assert.deepEqual(t.active(), []);
});

test("sources are independent; critical conditions come first, then the oldest", () => {
  let now = 1;
  const t = new ConditionTracker(() => now);
  t.update("agents", [
    { type: "AgentLost", severity: "warning", object: "agent/a1", message: "a1 lost" },
  ]);
  now = 2;
  t.update("platform", [full("critical", 95)]);
  assert.deepEqual(
    t.active().map((c) => c.type),
    ["CapacityAlmostFull", "AgentLost"],
  );
  t.update("platform", []);
  assert.deepEqual(
    t.active().map((c) => c.type),
    ["AgentLost"],
    "one source's look does not clear another's conditions",
  );
});

test("the same type and object twice in one look is one condition", () => {
  const t = new ConditionTracker(() => 5);
  const changes = t.update("platform", [full("warning", 81), full("critical", 91)]);
  assert.equal(changes.length, 1);
  assert.equal(t.active().length, 1);
  assert.equal(t.active()[0]!.severity, "warning");
});

test("health status: critical beats all, conditions make it degraded, work under way is deploying", () => {
  const c = (severity: "warning" | "critical") => ({ ...full(severity, 1), since: 0 });
  assert.equal(healthStatus({ conditions: [], observed: true, deploying: false }), "healthy");
  assert.equal(
    healthStatus({ conditions: [c("warning")], observed: true, deploying: false }),
    "degraded",
  );
  assert.equal(
    healthStatus({ conditions: [c("critical")], observed: true, deploying: true }),
    "critical",
  );
  assert.equal(healthStatus({ conditions: [], observed: true, deploying: true }), "deploying");
  assert.equal(
    healthStatus({ conditions: [c("warning")], observed: false, deploying: true }),
    "degraded",
  );
  assert.equal(healthStatus({ conditions: [], observed: false, deploying: false }), "unknown");
  assert.equal(
    healthStatus({ conditions: [], observed: true, deploying: false, noPlans: true }),
    "unknown",
  );
});

test("sample history keeps the newest samples up to its capacity, oldest first", () => {
  const h = new SampleHistory<number>(3);
  assert.equal(h.latest(), undefined);
  for (let i = 1; i <= 5; i++) h.push(i * 10, i);
  assert.equal(h.length, 3);
  assert.deepEqual(
    h.list().map((s) => s.value),
    [3, 4, 5],
  );
  assert.deepEqual(
    h.list(40).map((s) => s.value),
    [4, 5],
  );
  assert.equal(h.latest()!.value, 5);
  assert.throws(() => new SampleHistory(0), RangeError);
});
