// The CLI's nodes table says when a node is decommissioned (out for good, not on-boarded again),
// whatever its agent's state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatNodes } from "../../../src/cli/operator/format.js";
import type { NodeView } from "../../../src/framework/operator-view.js";

const node = (over: Partial<NodeView>): NodeView => ({
  agentId: "S1",
  hostname: "node-1",
  ip: "10.0.0.1",
  attributes: {},
  lost: false,
  lastSeen: 0,
  roles: ["sdc"],
  devices: [],
  steps: [],
  ...over,
});

test("a decommissioned node shows as such in the nodes table; one on its way out shows its step", () => {
  const out = formatNodes([
    node({ decommission: { state: "decommissioned", since: 1, removeClient: false } }),
    node({
      agentId: "S2",
      hostname: "node-2",
      decommission: { state: "decommissioning", since: 1, removeClient: false },
      steps: [
        {
          planId: "decommission",
          phaseId: "node/S2",
          stepId: "remove-sds/S2",
          name: "remove the SDS of node-2 (its data migrates)",
          status: "IN_PROGRESS",
          updatedAt: 1,
        },
      ],
    }),
  ]);
  const [, first, second] = out.split("\n");
  assert.match(first!, /^node-1 .* decommissioned/);
  assert.match(second!, /^node-2 .* remove the SDS of node-2/);
});
