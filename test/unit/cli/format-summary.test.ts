// The CLI's status text shows the platform's cluster in the platform's own words (its state,
// details and component kinds) from the platform-neutral summary.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatSummary } from "../../../src/cli/operator/format.js";
import type { Summary } from "../../../src/framework/operator-view.js";

const summary = (cluster?: Summary["cluster"]): Summary => ({
  platform: "scaleio",
  framework: { id: "fw-1", subscribed: true, role: "scaleio", name: "scaleio-framework" },
  health: "healthy",
  conditions: [],
  problems: [],
  ...(cluster ? { cluster } : {}),
  plans: [{ id: "deploy", status: "COMPLETE", complete: 40, total: 40 }],
});

test("status: the cluster's state, details and each kind of component with how many are ready", () => {
  const text = formatSummary(
    summary({
      systemId: "0123",
      systemName: "demo",
      state: "ClusteredNormal",
      components: [
        { kind: "SDS", total: 3, ready: 2 },
        { kind: "SDC", total: 3, ready: 3 },
      ],
      details: { "MDM cluster": "ThreeNodes" },
      capacity: { rawBytes: 2 ** 40, usableBytes: 2 ** 39, freeBytes: 2 ** 38 },
      alerts: [],
      observedAt: 0,
    }),
  );
  const lines = text.split("\n");
  assert.ok(lines.includes("cluster:    scaleio demo (0123), ClusteredNormal"), text);
  assert.ok(lines.includes("MDM cluster: ThreeNodes"), text);
  assert.ok(lines.includes("SDS:        2/3 ready"), text);
  assert.ok(lines.includes("SDC:        3/3 ready"), text);
  assert.match(text, /^capacity: +raw /m);
});

test("status: a cluster not observed yet says so", () => {
  assert.match(formatSummary(summary()), /^cluster: +scaleio, not observed yet$/m);
});
