// The spare policy: at least the largest fault unit's share of a pool, from the layout's
// devices and their sizes; an operator's value wins; too few fault units say nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planStorage } from "../../../../src/platforms/scaleio/topology/storage.js";
import { neededSpare, withSparePolicy } from "../../../../src/platforms/scaleio/topology/spare.js";
import type { AgentFacts } from "../../../../src/platforms/scaleio/topology/facts.js";

const GB = 2 ** 30;
const agent = (
  i: number,
  sizes: number[],
  attributes: Record<string, string> = {},
): AgentFacts => ({
  agentId: `A${i}`,
  hostname: `h${i}`,
  ip: `127.0.0.${i + 1}`,
  attributes,
  resources: { cpus: 4, memMb: 8192 },
  devices: sizes.map((s, j) => ({ path: `/dev/sd${"bcdef"[j]}`, sizeBytes: s * GB, usable: true })),
});
const single = { strategy: "single-pool", protectionDomain: "pd", storagePool: "p" } as const;

test("three equal SDSs need 34 %; ten need 10 %; an unequal one sets the share", () => {
  const three = [0, 1, 2].map((i) => agent(i, [100, 100]));
  assert.equal(neededSpare(planStorage(three, single), three).get("pd/p"), 34);
  const ten = Array.from({ length: 10 }, (_, i) => agent(i, [100]));
  assert.equal(neededSpare(planStorage(ten, single), ten).get("pd/p"), 10);
  const uneven = [agent(0, [400]), agent(1, [100]), agent(2, [100]), agent(3, [200])];
  assert.equal(neededSpare(planStorage(uneven, single), uneven).get("pd/p"), 50);
});

test("fewer than three fault units, or no devices: no opinion", () => {
  const two = [agent(0, [100]), agent(1, [100]), agent(2, [])];
  assert.equal(neededSpare(planStorage(two, single), two).has("pd/p"), false);
});

test("the policy fills pools without a spare and keeps the operator's own value", () => {
  const three = [0, 1, 2].map((i) => agent(i, [100]));
  const layout = planStorage(three, single);
  const needed = neededSpare(layout, three);
  assert.equal(withSparePolicy(layout, needed).domains[0]!.pools[0]!.sparePercentage, 34);
  const own = {
    ...layout,
    domains: [{ ...layout.domains[0]!, pools: [{ name: "p", sparePercentage: 20 }] }],
  };
  assert.equal(withSparePolicy(own, needed).domains[0]!.pools[0]!.sparePercentage, 20);
  assert.equal(layout.domains[0]!.pools[0]!.sparePercentage, undefined, "input untouched");
});
