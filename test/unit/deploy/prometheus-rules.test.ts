// deploy/prometheus/alerts.yml: promtool accepts it and its unit tests pass; every condition
// type the framework and the ScaleIO checks can raise has a rule, and every metric a rule
// reads is one the scheduler exports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { Metrics } from "../../../src/api/metrics.js";
import { registerHealthMetrics } from "../../../src/api/health-metrics.js";
import { FRAMEWORK_CONDITION_TYPES } from "../../../src/framework/health/monitor.js";
import { SCALEIO_CONDITION_TYPES } from "../../../src/platforms/scaleio/observe/checks.js";

const DIR = fileURLToPath(new URL("../../../deploy/prometheus/", import.meta.url));
const RULES = readFileSync(`${DIR}alerts.yml`, "utf8");

/** Runs promtool; a missing promtool is a failure that says how to install it. */
function promtool(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("promtool", args, { cwd: DIR });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    p.once("error", (err) =>
      reject(new Error(`promtool could not run (${err.message}): apt-get install prometheus`)),
    );
    p.once("close", (code) => resolve({ code, out }));
  });
}

test("promtool checks the rules and passes their unit tests", async () => {
  const check = await promtool(["check", "rules", "alerts.yml"]);
  assert.equal(check.code, 0, check.out);
  const unit = await promtool(["test", "rules", "alerts.test.yml"]);
  assert.equal(unit.code, 0, unit.out);
  assert.match(unit.out, /SUCCESS/);
});

test("every condition type has an alert rule", () => {
  for (const t of [...FRAMEWORK_CONDITION_TYPES, ...SCALEIO_CONDITION_TYPES])
    assert.ok(RULES.includes(`type="${t}"`), `no rule for condition ${t}`);
});

test("every metric the rules read is exported by the scheduler", async () => {
  const registry = new Registry();
  registerHealthMetrics(registry, () => undefined);
  const names = new Set([
    ...(await registry.getMetricsAsJSON()).map((m) => m.name),
    ...(await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name),
  ]);
  const used = new Set(RULES.match(/scaleio_framework_[a-z_]+/g));
  assert.ok(used.size >= 4);
  for (const n of used) assert.ok(names.has(n), `${n} is read by a rule but not exported`);
});
