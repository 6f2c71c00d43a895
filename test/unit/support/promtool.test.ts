// The e2e tests' promtool check fails at once, with the reason, when promtool is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { promtoolCheckMetrics } from "../../support/promtool.js";
import { withDeadline } from "../../support/wait.js";

test("a missing promtool is a clear failure at once, not a hang", async () => {
  await assert.rejects(
    withDeadline(
      promtoolCheckMetrics("x 1\n", { command: "promtool-that-is-not-installed" }),
      5000,
      "the promtool check",
    ),
    /promtool-that-is-not-installed is not installed \(Debian package "prometheus"/,
  );
});

test("promtool's verdict and output come back", async (t) => {
  const r = await promtoolCheckMetrics(
    "# HELP x_total A counter.\n# TYPE x_total counter\nx_total 1\n",
  ).catch((err: Error) => err);
  if (r instanceof Error) return t.skip(r.message);
  assert.equal(r.code, 0, r.out);
  const bad = await promtoolCheckMetrics("x{ 1\n");
  assert.notEqual(bad.code, 0);
  assert.ok(bad.out.length > 0);
});
