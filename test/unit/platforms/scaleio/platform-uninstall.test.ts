// The ScaleIO platform asked to uninstall (plan engine, agent registry and store real; node
// steps and the gateway faked): refused with VOLUMES_EXIST while a volume exists and nothing
// changes; accepted, the deploy plan is gone and only the teardown plan runs, to completion;
// requests that would start other plan work (rescan, maintenance) are refused with
// UNINSTALLING, inverse offers are accepted; a restarted platform builds the teardown plan
// again from its record instead of deploying; the packages its installs reported are recorded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { FileStateStore } from "../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../src/framework/plan/engine.js";
import { AgentRegistry } from "../../../../src/framework/agents.js";
import { ScaleIOPlatform } from "../../../../src/platforms/scaleio/platform.js";
import type {
  TeardownClusterOps,
  TeardownVolume,
} from "../../../../src/platforms/scaleio/lifecycle/teardown.js";
import type { Offer } from "../../../../src/mesos/types/index.js";

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

function fakeCluster(volumes: TeardownVolume[]): TeardownClusterOps & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    volumes: async () => volumes,
    unmapVolume: async () => {},
    removeVolume: async (id) => void log.push(`remove-volume ${id}`),
    sdss: async () => [],
    removeSds: async () => {},
    storage: async () => ({ pools: [], faultSets: [], domains: [] }),
    removePool: async () => {},
    removeFaultSet: async () => {},
    removeDomain: async () => {},
    sdcs: async () => [],
    removeSdc: async () => {},
  };
}

async function start(dir: string, volumes: TeardownVolume[], nodeLog: string[]) {
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const agents = new AgentRegistry(store);
  await agents.load();
  const teardown = fakeCluster(volumes);
  const platform = new ScaleIOPlatform({
    mode: { provision: { size: 3, need: { cpus: 1, memMb: 1024 } } },
    strategy: { strategy: "single-pool", protectionDomain: "pd1", storagePool: "sp1" },
    systemName: "scaleio",
    packageUrl: (f, c) => `http://repo/EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.${f}`,
    rexray: { endpoint: "https://gw/api", insecure: false, thinOrThick: "ThinProvisioned" },
    cluster: { async prepareDomains() {}, async applyAgent() {}, async verify() {} },
    teardown,
  });
  await platform.start({
    engine,
    agents,
    store,
    logger: pino({ level: "silent" }),
    async runNode(agentId, kind, params) {
      nodeLog.push(`${kind} ${agentId}`);
      if (kind === "scaleio.host-facts")
        return {
          packageFormat: "rpm",
          devices: [{ path: "/dev/sdb", sizeBytes: 2 ** 37, usable: true }],
          installed: {},
        };
      if (kind === "scaleio.install-packages")
        return (params as { packages: { component: string }[] }).packages.map((p) => ({
          component: p.component,
          changed: true,
        }));
      return {};
    },
  });
  agents.on("changed", () => void platform.recompute());
  engine.start();
  return {
    engine,
    agents,
    store,
    platform,
    teardown,
    stop: async () => {
      await engine.stop();
      await platform.stop();
      await store.close();
    },
  };
}

test("uninstall: refused while volumes exist, then only the teardown plan runs; a restart resumes it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "uninstall-platform-"));
  const volumes: TeardownVolume[] = [{ id: "v1", name: "pg", mapped: [] }];
  const nodeLog: string[] = [];
  let p = await start(dir, volumes, nodeLog);
  try {
    for (const n of [1, 2, 3]) await p.agents.observe(offer(n));
    await p.engine.waitFor(
      "deploy",
      (v) => v.status === "COMPLETE" && v.progress.total > 10,
      20_000,
    );
    assert.deepEqual(
      (await p.store.get<Record<string, string[]>>("scaleio/installed"))?.S1?.includes("sds"),
      true,
      "the packages the deploy installed are recorded",
    );

    await assert.rejects(
      p.platform.uninstall({ destroyData: false }),
      (e: Error & { code?: string; statusCode?: number }) =>
        e.code === "VOLUMES_EXIST" && e.statusCode === 409,
    );
    assert.deepEqual(p.engine.planIds(), ["deploy"], "refused: nothing changed");
    assert.equal(await p.store.get("scaleio/uninstall"), undefined);

    volumes.length = 0;
    assert.deepEqual(await p.platform.uninstall({ destroyData: false }), { planId: "teardown" });
    assert.deepEqual(p.engine.planIds(), ["teardown"], "the deploy plan is gone");
    await assert.rejects(
      p.platform.rescan("S1"),
      (e: Error & { code?: string }) => e.code === "UNINSTALLING",
    );
    await assert.rejects(
      p.platform.setMaintenance("S1", true),
      (e: Error & { code?: string }) => e.code === "UNINSTALLING",
    );
    assert.equal(
      await p.platform.onInverseOffer("S1", { start: 0 } as never),
      "accept",
      "an agent may go while uninstalling",
    );
    // A new agent is not on-boarded: no deploy step runs for it.
    const before = nodeLog.length;
    await p.agents.observe(offer(4));
    const v = await p.engine.waitFor("teardown", (x) => x.status === "COMPLETE", 20_000);
    assert.ok(
      !nodeLog.slice(before).some((l) => /host-facts|install|prereq/.test(l)),
      nodeLog.slice(before).join("\n"),
    );
    const steps = v.phases.flatMap((ph) => ph.steps.map((s) => s.id));
    assert.ok(steps.includes("consumers/S4"), "its configuration is cleaned like the others'");
    assert.deepEqual(
      v.phases.map((ph) => ph.id),
      ["data", "consumers", "storage", "packages", "clients", "mdm"],
    );
    await p.stop();

    // Restarted: the record makes it a teardown again, not a deploy.
    p = await start(dir, volumes, nodeLog);
    assert.deepEqual(p.engine.planIds(), ["teardown"]);
    await p.engine.waitFor("teardown", (x) => x.status === "COMPLETE", 20_000);
  } finally {
    await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
