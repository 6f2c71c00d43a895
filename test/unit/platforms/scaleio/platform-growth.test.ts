// The ScaleIO platform as the cluster grows (plan engine, agent registry and store real; node
// steps and the gateway faked): a device report from an executor makes the agent's SDS step
// run again with the new device; a new pool in the declarative topology makes the domains
// step run again after a restart; a new SDS changes the spare, and the domains step runs
// again with it; an upgrade from a version before step fingerprints re-runs nothing, except
// a change that version had noticed and not yet acted on; rescan refuses unknown agents.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { FileStateStore } from "../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../src/framework/plan/engine.js";
import { AgentRegistry } from "../../../../src/framework/agents.js";
import { ScaleIOPlatform, RescanError } from "../../../../src/platforms/scaleio/platform.js";
import { parseDeclarativeTopology } from "../../../../src/platforms/scaleio/topology/declarative.js";
import type { StorageLayout } from "../../../../src/platforms/scaleio/topology/storage.js";
import { encodeDeviceReport } from "../../../../src/platforms/scaleio/device-report.js";
import type { Offer } from "../../../../src/mesos/types/index.js";
import { waitUntil } from "../../../support/wait.js";

const offer = (n: number): Offer => ({
  id: { value: `o-${Math.random()}` },
  framework_id: { value: "f" },
  agent_id: { value: `S${n}` },
  hostname: `node-${n}`,
  url: { scheme: "http", address: { hostname: `node-${n}`, ip: `10.0.0.${n}`, port: 5051 } },
  resources: [
    { name: "cpus", type: "SCALAR", scalar: { value: 4 } },
    { name: "mem", type: "SCALAR", scalar: { value: 8192 } },
  ],
  attributes: [],
});
const dev = (path: string) => ({ path, sizeBytes: 2 ** 37, usable: true });
const topology = (pools: string[]) =>
  parseDeclarativeTopology(
    `protectionDomains:\n  - name: pd1\n    pools:\n${pools
      .map(
        (p, i) =>
          `      - name: ${p}\n        devices:\n          - agents: {hostname: "node-${i + 1}"}\n`,
      )
      .join("")}`,
  );

async function start(
  dir: string,
  pools: string[],
  devices: Map<string, ReturnType<typeof dev>[]>,
  o: { provision?: boolean; before?: (store: FileStateStore) => Promise<void> } = {},
) {
  const store = await FileStateStore.open(dir);
  await o.before?.(store);
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const agents = new AgentRegistry(store);
  await agents.load();
  const prepared: StorageLayout[] = [];
  const applied: { agentId: string; devices: string[] }[] = [];
  const platform = new ScaleIOPlatform({
    mode: o.provision
      ? { provision: { size: 3, need: { cpus: 1, memMb: 1024 } } }
      : { existing: { managers: ["10.0.0.9"] } },
    strategy: o.provision
      ? { strategy: "single-pool", protectionDomain: "pd1", storagePool: "sp1" }
      : { strategy: "declarative", topology: topology(pools) },
    systemName: "scaleio",
    packageUrl: (f, c) => `http://repo/EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.${f}`,
    rexray: { endpoint: "https://gw/api", insecure: false, thinOrThick: "ThinProvisioned" },
    cluster: {
      async prepareDomains(layout) {
        prepared.push(layout);
      },
      async applyAgent(layout, agentId) {
        const n = layout.nodes.find((x) => x.agentId === agentId)!;
        applied.push({ agentId, devices: n.sds!.pools.flatMap((p) => p.devices) });
      },
      async verify() {},
    },
  });
  await platform.start({
    engine,
    agents,
    store,
    logger: pino({ level: "silent" }),
    async runNode(agentId, kind) {
      if (kind === "scaleio.host-facts")
        return { packageFormat: "rpm", devices: devices.get(agentId) ?? [], installed: {} };
      return {};
    },
  });
  agents.on("changed", () => void platform.recompute());
  engine.start();
  for (const n of [1, 2, 3]) await agents.observe(offer(n));
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE" && v.progress.total > 10, 20_000);
  return {
    engine,
    agents,
    store,
    platform,
    prepared,
    applied,
    stop: async () => {
      await engine.stop();
      await platform.stop();
      await store.close();
    },
  };
}

test("a device report adds the new device to that agent's SDS; rescan refuses unknown agents", async () => {
  const dir = mkdtempSync(join(tmpdir(), "growth-"));
  const devices = new Map([
    ["S1", [dev("/dev/sdb")]],
    ["S2", [dev("/dev/sdb")]],
    ["S3", [dev("/dev/sdb")]],
  ]);
  const p = await start(dir, ["pool1", "pool2", "pool3"], devices);
  try {
    assert.deepEqual(p.applied.find((a) => a.agentId === "S1")?.devices, ["/dev/sdb"]);
    const count = p.applied.length;
    p.platform.onExecutorMessage(
      "S1",
      Buffer.from(encodeDeviceReport([dev("/dev/sdb"), dev("/dev/sdd")])),
    );
    await waitUntil(() => p.applied.length > count, { timeoutMs: 10_000, what: "SDS step again" });
    assert.deepEqual(p.applied.at(-1), { agentId: "S1", devices: ["/dev/sdb", "/dev/sdd"] });
    // The same report again changes nothing.
    p.platform.onExecutorMessage(
      "S1",
      Buffer.from(encodeDeviceReport([dev("/dev/sdd"), dev("/dev/sdb")])),
    );
    await p.platform.recompute();
    assert.equal(p.applied.length, count + 1);
    await assert.rejects(
      p.platform.rescan("S9"),
      (e: Error) => e instanceof RescanError && e.code === "UNKNOWN_AGENT",
    );
  } finally {
    await p.stop();
  }
});

test("a pool added to the declarative topology is prepared after a restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "growth-"));
  const devices = new Map([
    ["S1", [dev("/dev/sdb")]],
    ["S2", [dev("/dev/sdb")]],
    ["S3", [dev("/dev/sdb")]],
  ]);
  const first = await start(dir, ["pool1", "pool2"], devices);
  assert.deepEqual(
    first.prepared.at(-1)!.domains.map((d) => d.pools.map((x) => x.name)),
    [["pool1", "pool2"]],
  );
  await first.stop();
  const second = await start(dir, ["pool1", "pool2", "pool3"], devices);
  try {
    await waitUntil(() => second.prepared.length > 0, { timeoutMs: 10_000, what: "domains again" });
    assert.deepEqual(
      second.prepared.at(-1)!.domains.map((d) => d.pools.map((x) => x.name)),
      [["pool1", "pool2", "pool3"]],
    );
  } finally {
    await second.stop();
  }
});

test("a new SDS changes the pools' spare: the domains step runs again with it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "growth-"));
  const devices = new Map(["S1", "S2", "S3", "S4"].map((a) => [a, [dev("/dev/sdb")]]));
  const p = await start(dir, [], devices, { provision: true });
  try {
    const spare = (l: StorageLayout) => l.domains[0]!.pools[0]!.sparePercentage;
    assert.equal(spare(p.prepared.at(-1)!), 34, "three equal SDSs: a third of it as spare");
    const count = p.prepared.length;
    await p.agents.observe(offer(4));
    await waitUntil(() => p.applied.some((a) => a.agentId === "S4"), {
      timeoutMs: 10_000,
      what: "the fourth SDS",
    });
    await p.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
    assert.equal(p.prepared.length, count + 1, "the domains prepared once more");
    assert.equal(spare(p.prepared.at(-1)!), 25);
  } finally {
    await p.stop();
  }
});

/** The deploy plan's stored progress as a version before fingerprints left it. */
async function withoutFingerprints(store: FileStateStore): Promise<void> {
  for (const key of await store.list("plans/deploy/steps")) {
    const shard = (await store.get<Record<string, { fingerprint?: string }>>(key)) ?? {};
    for (const p of Object.values(shard)) delete p.fingerprint;
    await store.set(key, shard);
  }
}

test("after an upgrade from before fingerprints nothing runs again but what was left to do", async () => {
  const dir = mkdtempSync(join(tmpdir(), "growth-"));
  const devices = new Map(["S1", "S2", "S3"].map((a) => [a, [dev("/dev/sdb")]]));
  const first = await start(dir, ["pool1", "pool2", "pool3"], devices);
  const layout = first.prepared.at(-1)!;
  await first.stop();
  // Upgraded with nothing left to do: every finished step stays finished.
  const second = await start(dir, ["pool1", "pool2", "pool3"], devices, {
    before: async (store) => {
      await withoutFingerprints(store);
      await store.set("scaleio/domains", JSON.stringify(layout.domains));
    },
  });
  assert.deepEqual([second.prepared.length, second.applied.length], [0, 0]);
  assert.equal(await second.store.get("scaleio/domains"), undefined, "the old record is gone");
  await second.stop();
  // Upgraded after S2's new device was noticed, but before its SDS step ran again.
  devices.set("S2", [dev("/dev/sdb"), dev("/dev/sdc")]);
  const third = await start(dir, ["pool1", "pool2", "pool3"], devices, {
    before: async (store) => {
      await withoutFingerprints(store);
      const facts = (await store.get<[string, { devices: unknown[] }][]>("scaleio/facts"))!;
      facts.find(([id]) => id === "S2")![1].devices = devices.get("S2")!;
      await store.set("scaleio/facts", facts);
      await store.set("scaleio/domains", JSON.stringify(layout.domains));
      await store.set("scaleio/devices-changed", ["S2"]);
    },
  });
  try {
    await waitUntil(() => third.applied.length > 0, { timeoutMs: 10_000, what: "S2's SDS step" });
    await third.engine.waitFor("deploy", (v) => v.status === "COMPLETE", 10_000);
    assert.deepEqual(third.applied, [{ agentId: "S2", devices: ["/dev/sdb", "/dev/sdc"] }]);
    assert.equal(third.prepared.length, 0);
    assert.equal(await third.store.get("scaleio/devices-changed"), undefined);
  } finally {
    await third.stop();
  }
});
