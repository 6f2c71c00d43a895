// The ScaleIO platform as the cluster grows (plan engine, agent registry and store real; node
// steps and the gateway faked): a device report from an executor makes the agent's SDS step
// run again with the new device; a new pool in the declarative topology makes the domains
// step run again after a restart; rescan refuses unknown agents.
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

async function start(dir: string, pools: string[], devices: Map<string, ReturnType<typeof dev>[]>) {
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const agents = new AgentRegistry(store);
  await agents.load();
  const prepared: StorageLayout[] = [];
  const applied: { agentId: string; devices: string[] }[] = [];
  const platform = new ScaleIOPlatform({
    mode: { existing: { managers: ["10.0.0.9"] } },
    strategy: { strategy: "declarative", topology: topology(pools) },
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
  return { engine, platform, prepared, applied, stop: () => engine.stop() };
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
