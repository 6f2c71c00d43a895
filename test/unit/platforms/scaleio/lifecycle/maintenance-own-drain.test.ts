// The platform's own drain for an agent restart (isolator configuration) schedules a Mesos
// maintenance window for the agent: its inverse offers are accepted at once, and its SDS is
// not put into maintenance (only the Mesos agent restarts; the storage stays up). Another
// agent's window is still decided by the maintenance rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { FileStateStore } from "../../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../../src/framework/plan/engine.js";
import { AgentRegistry } from "../../../../../src/framework/agents.js";
import { ScaleIOPlatform } from "../../../../../src/platforms/scaleio/platform.js";
import type { ClusterObserver } from "../../../../../src/platforms/scaleio/observe/observer.js";
import type { ObservedCluster } from "../../../../../src/platforms/scaleio/observe/model.js";
import type { MaintenanceClient } from "../../../../../src/mesos/maintenance/client.js";
import type { StepContext } from "../../../../../src/framework/plan/types.js";
import type { Offer } from "../../../../../src/mesos/types/index.js";
import { waitUntil } from "../../../../support/wait.js";

const offer = (n: number): Offer => ({
  id: { value: `o-${n}` },
  framework_id: { value: "f" },
  agent_id: { value: `S${n}` },
  hostname: `node-${n}`,
  url: { scheme: "http", address: { hostname: `node-${n}`, ip: `10.0.0.${n}`, port: 5051 } },
  resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 4 } }],
});
const perf = {
  read: { iops: 0, kbPerSecond: 0 },
  write: { iops: 0, kbPerSecond: 0 },
  latencyMicros: 0,
};
const observed = (): ObservedCluster => ({
  at: Date.now(),
  startedAt: Date.now(),
  systemId: "sys",
  systemName: "s",
  mdmMode: "ThreeNodes",
  mdm: { mode: "ThreeNodes", state: "ClusteredNormal", members: [] },
  capacityAlertThresholds: { high: 80, critical: 90 },
  pools: [],
  sds: [1, 2, 3].map((n) => ({
    id: `sds${n}`,
    name: `sds${n}`,
    ips: [`10.0.0.${n}`],
    protectionDomainId: "pd1",
    faultSetId: null,
    connected: true,
    state: "Normal",
    maintenance: "NoMaintenance",
    performance: perf,
  })),
  devices: [],
  sdcs: [],
  alerts: [],
  requests: 1,
});

class FakeObserver extends EventEmitter {
  latest = observed();
  findings = [];
  start() {}
  async stop() {}
  observeSoon() {
    setTimeout(() => {
      this.latest = { ...this.latest, at: Date.now(), startedAt: Date.now() };
      this.emit("observed", this.latest, this.findings);
    }, 2);
  }
  samples() {
    return [];
  }
}

test("inverse offers of the platform's own drain are accepted at once, its SDS left alone", async () => {
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "own-drain-")));
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const agents = new AgentRegistry(store);
  let restartNow!: () => void;
  const restarting = new Promise<void>((r) => (restartNow = r));
  const entered: string[] = [];
  const platform = new ScaleIOPlatform({
    mode: { existing: { managers: ["10.0.0.9"] } },
    strategy: { strategy: "single-pool", protectionDomain: "pd1", storagePool: "sp1" },
    systemName: "scaleio",
    packageUrl: (f, c) => `http://repo/EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.${f}`,
    rexray: { endpoint: "https://gw/api", insecure: false, thinOrThick: "ThinProvisioned" },
    cluster: { async prepareDomains() {}, async applyAgent() {}, async verify() {} },
    health: { observer: new FakeObserver() as unknown as ClusterObserver, repair: "off" },
    maintenance: {
      enterMaintenance: async (id) => void entered.push(id),
      exitMaintenance: async () => {},
      changeMdmOwnership: async () => {},
    },
    agentRestart: {
      maintenance: {
        drain: async () => true,
        activeTasks: async () => [],
        release: async () => {},
      } as unknown as MaintenanceClient,
      frameworkId: () => "f",
    },
  });
  await platform.start({
    engine,
    agents,
    store,
    logger: pino({ level: "silent" }),
    async runNode(_agentId, kind) {
      if (kind === "scaleio.restart-agent") await restarting;
      return {};
    },
  });
  engine.start();
  try {
    for (const n of [1, 2]) await agents.observe(offer(n));
    const ac = new AbortController();
    const ctx: StepContext = {
      planId: "deploy",
      stepId: "restart-agent/S1",
      signal: ac.signal,
      attempt: 1,
      progress: () => {},
    };
    const restart = (
      platform as unknown as { restartAgent(id: string, c: StepContext): Promise<void> }
    ).restartAgent("S1", ctx);
    const window = { startMs: Date.now() };
    assert.equal(await platform.onInverseOffer("S1", window), "accept");
    // Another agent's window: the maintenance rules.
    assert.match(
      ((await platform.onInverseOffer("S2", window)) as { decline: string }).decline,
      /^entering maintenance: SDS sds2/,
    );
    await waitUntil(() => entered.includes("sds2"), { what: "sds2 into maintenance" });
    restartNow();
    await restart;
    assert.deepEqual(entered, ["sds2"], "the restarted agent's SDS was left alone");
    assert.deepEqual(
      platform.maintenance!.records.map((r) => r.agentId),
      ["S2"],
    );
  } finally {
    await engine.stop();
    await platform.stop();
    await store.close();
  }
});
