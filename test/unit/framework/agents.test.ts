import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../src/store/file-store.js";
import { AgentRegistry } from "../../../src/framework/agents.js";
import type { Offer } from "../../../src/mesos/types/index.js";

const offer = (agent: string, extra: Partial<Offer> = {}): Offer => ({
  id: { value: `o-${Math.random()}` },
  framework_id: { value: "f" },
  agent_id: { value: agent },
  hostname: `host-${agent}`,
  url: {
    scheme: "http",
    address: { hostname: `host-${agent}`, ip: `127.0.1.${agent.length}`, port: 5051 },
  },
  resources: [
    { name: "cpus", type: "SCALAR", scalar: { value: 4 } },
    { name: "mem", type: "SCALAR", scalar: { value: 8192 } },
    {
      name: "cpus",
      type: "SCALAR",
      scalar: { value: 1 },
      reservations: [{ type: "DYNAMIC", role: "scaleio" }],
    },
  ],
  attributes: [
    { name: "rack", type: "TEXT", text: { value: "r1" } },
    { name: "disks", type: "SCALAR", scalar: { value: 2 } },
    { name: "tags", type: "SET", set: { item: ["a", "b"] } },
  ],
  domain: { fault_domain: { region: { name: "east" }, zone: { name: "z1" } } },
  ...extra,
});

test("agents are learned from offers, with text attributes, domain and unreserved resources", async () => {
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "agents-")));
  const reg = new AgentRegistry(store);
  const seen: [string, boolean][] = [];
  reg.on("changed", (a, isNew) => seen.push([a.agentId, isNew]));
  await reg.observe(offer("S1"));
  await reg.observe(offer("S1"));
  await reg.observe(
    offer("S1", { attributes: [{ name: "rack", type: "TEXT", text: { value: "r2" } }] }),
  );
  const a = reg.get("S1")!;
  assert.deepEqual(a.attributes, { rack: "r2" });
  assert.deepEqual(a.faultDomain, { region: "east", zone: "z1" });
  assert.deepEqual(a.unreserved, { cpus: 4, memMb: 8192 });
  assert.equal(a.ip, "127.0.1.2");
  assert.deepEqual(
    seen,
    [
      ["S1", true],
      ["S1", false],
    ],
    "an unchanged offer is not news",
  );
  await store.close();
});

test("a lost agent is remembered across restarts and announced when it comes back", async () => {
  const dir = mkdtempSync(join(tmpdir(), "agents-"));
  let store = await FileStateStore.open(dir);
  let reg = new AgentRegistry(store);
  await reg.observe(offer("S1"));
  await reg.observe(offer("S22"));
  await reg.markLost("S1");
  assert.deepEqual(
    reg.active().map((a) => a.agentId),
    ["S22"],
  );
  await store.close();
  store = await FileStateStore.open(dir);
  reg = new AgentRegistry(store);
  await reg.load();
  assert.ok(reg.get("S1")!.lostSince);
  const back: string[] = [];
  const changed: string[] = [];
  reg.on("back", (a) => back.push(a.agentId));
  reg.on("changed", (a) => changed.push(a.agentId));
  await reg.observe(offer("S1"));
  assert.deepEqual(back, ["S1"]);
  assert.deepEqual(changed, [], "coming back is not a new agent");
  assert.equal(reg.get("S1")!.lostSince, undefined);
  const attrs = reg.get("S22")!.attributes;
  assert.deepEqual(attrs, { rack: "r1", disks: "2", tags: "a,b" });
  await store.close();
});
