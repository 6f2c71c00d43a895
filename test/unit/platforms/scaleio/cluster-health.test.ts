// ClusterHealth's recovery plan over observations (plan engine and store real; the observer,
// agents and node steps faked): an object that breaks again after its repair is repaired
// again, when its backoff allows, even though its step id never left the plan; a look that
// began before the repair finished does not count as breaking again; the platform's health
// is readable before the platform starts (the operator view's monitor is built first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { FileStateStore } from "../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../src/framework/plan/engine.js";
import type { AgentRegistry } from "../../../../src/framework/agents.js";
import type { ConditionFinding } from "../../../../src/framework/health/types.js";
import { ClusterHealth } from "../../../../src/platforms/scaleio/cluster-health.js";
import { RepairBackoff } from "../../../../src/platforms/scaleio/recovery-plan.js";
import type { ClusterObserver } from "../../../../src/platforms/scaleio/observe/observer.js";
import type { ObservedCluster } from "../../../../src/platforms/scaleio/observe/model.js";
import { ScaleIOPlatform } from "../../../../src/platforms/scaleio/platform.js";
import { waitUntil } from "../../../support/wait.js";

const IP = "10.0.0.1";

/** Observations on demand: the test says what each one saw. */
class FakeObserver extends EventEmitter {
  latest: ObservedCluster | undefined;
  findings: ConditionFinding[] = [];
  error: string | undefined;
  observed = () => this.latest !== undefined;
  observeSoon() {}
  start() {}
  async stop() {}
  look(connected: boolean, startedAt = Date.now()) {
    this.latest = {
      at: Date.now(),
      startedAt,
      sds: [{ id: "S1", ips: [IP], connected }],
      sdcs: [],
      pools: [],
      devices: [],
      alerts: [],
      mdm: { mode: "ThreeNodes", state: "ClusteredNormal", members: [] },
    } as unknown as ObservedCluster;
    this.findings = connected
      ? []
      : [{ type: "SdsDisconnected", severity: "warning", object: `sds/${IP}`, message: "down" }];
    this.emit("observed", this.latest, this.findings);
  }
}

async function setup(o: { duringRestart?: (n: number) => Promise<void> } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cluster-health-"));
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const observer = new FakeObserver();
  const restarts: number[] = [];
  const agent = { agentId: "A1", hostname: "h1", ip: IP };
  const health = new ClusterHealth(
    {
      observer: observer as unknown as ClusterObserver,
      repair: "owned",
      provisioned: true,
      backoff: new RepairBackoff({ initialMs: 50 }),
    },
    {
      engine,
      agents: { all: () => [agent], get: () => agent } as unknown as AgentRegistry,
      logger: pino({ level: "silent" }),
      layout: () => undefined,
      neededSpare: () => new Map(),
      managers: () => [IP],
      runNode: async (_agentId, kind) => {
        assert.equal(kind, "scaleio.restart-service");
        restarts.push(Date.now());
        await o.duringRestart?.(restarts.length);
        return {};
      },
      setSpare: async () => {},
      rejoin: async () => {},
    },
  );
  engine.start();
  health.start();
  /** The repair waits for an observation showing the SDS back. */
  const waiting = () =>
    waitUntil(() => observer.listenerCount("observed") > 1, {
      timeoutMs: 5000,
      what: "the repair waiting for the SDS to be seen back",
    });
  const step = () => {
    if (!engine.planIds().includes("recovery")) return undefined;
    const steps = engine.view("recovery").phases[0]!.steps;
    return steps.find((s) => s.id === `repair/sds/${IP}`);
  };
  return {
    engine,
    observer,
    restarts,
    waiting,
    step,
    stop: async () => {
      await health.stop();
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("an SDS that breaks again after its repair is repaired again, after its backoff", async () => {
  const t = await setup();
  try {
    t.observer.look(false);
    await waitUntil(() => t.restarts.length === 1, { timeoutMs: 5000, what: "a first restart" });
    await t.waiting();
    // Seen back: the repair is done (and its condition gone from the plan's inputs).
    t.observer.look(true);
    await waitUntil(() => t.observer.listenerCount("observed") === 1, {
      timeoutMs: 5000,
      what: "the repair done",
    });
    // Killed again: the next look (begun after the repair ended, on a later clock tick)
    // sees it down.
    await new Promise((r) => setImmediate(r));
    const doneAt = Date.now();
    await waitUntil(() => Date.now() > doneAt, { timeoutMs: 1000, intervalMs: 1 });
    t.observer.look(false);
    await waitUntil(() => t.restarts.length === 2, { timeoutMs: 5000, what: "a second restart" });
    assert.ok(t.restarts[1]! - t.restarts[0]! >= 45, "after the 50 ms backoff");
    await t.waiting();
    t.observer.look(true);
    await t.engine.waitFor("recovery", (v) => v.progress.total === 0, 5000);
  } finally {
    await t.stop();
  }
});

test("seen back and killed again before the restart step reports: repaired, then repaired again", async () => {
  const late: { observer?: FakeObserver } = {};
  const t = await setup({
    duringRestart: async (n) => {
      if (n !== 1) return;
      // The process is back (an observation shows it), then dies again, all while the node
      // step is still on its way back.
      late.observer!.look(true);
      await new Promise((r) => setImmediate(r));
      late.observer!.look(false);
    },
  });
  late.observer = t.observer;
  try {
    t.observer.look(false);
    // Done at once (it was seen back), not after the 60 s wait; the next look, which a done
    // step asks for soon, finds it down again.
    await waitUntil(() => t.step()?.status === "COMPLETE", {
      timeoutMs: 5000,
      what: "the first repair done",
    });
    const doneAt = t.step()!.updatedAt;
    await waitUntil(() => Date.now() > doneAt, { timeoutMs: 1000, intervalMs: 1 });
    t.observer.look(false);
    await waitUntil(() => t.restarts.length === 2, { timeoutMs: 5000, what: "a second restart" });
    await t.waiting();
    t.observer.look(true);
    await t.engine.waitFor("recovery", (v) => v.progress.total === 0, 5000);
  } finally {
    await t.stop();
  }
});

test("a look that began before the repair finished does not repair it again", async () => {
  const t = await setup();
  try {
    const began = Date.now() - 60_000;
    t.observer.look(false, began);
    await waitUntil(() => t.restarts.length === 1, { timeoutMs: 5000, what: "a first restart" });
    await t.waiting();
    t.observer.look(true);
    await waitUntil(() => t.observer.listenerCount("observed") === 1, {
      timeoutMs: 5000,
      what: "the repair done",
    });
    await waitUntil(() => t.step()?.status !== "IN_PROGRESS", { timeoutMs: 5000 });
    // A look whose reads began long before (it saw the SDS still down): nothing new to do.
    t.observer.look(false, began);
    await t.engine.waitFor("recovery", (v) => v.progress.total === 1, 5000);
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(t.step()?.status, "COMPLETE");
    assert.equal(t.restarts.length, 1);
  } finally {
    await t.stop();
  }
});

test("the platform's health (its observer) is there before the platform starts", () => {
  const observer = new FakeObserver() as unknown as ClusterObserver;
  const platform = new ScaleIOPlatform({
    mode: { existing: { managers: ["10.0.0.9"] } },
    strategy: { strategy: "imperative" },
    systemName: "scaleio",
    packageUrl: (f: string, c: string) => `http://repo/EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.${f}`,
    rexray: { endpoint: "https://gw/api", insecure: false, thinOrThick: "ThinProvisioned" },
    cluster: { async prepareDomains() {}, async applyAgent() {}, async verify() {} },
    health: { observer, repair: "owned" },
  } as unknown as ConstructorParameters<typeof ScaleIOPlatform>[0]);
  assert.equal(platform.health, observer);
});

test("an observation of a large cluster looks at the deploy plan once, not once per agent", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cluster-health-"));
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store });
  engine.start();
  const ids = Array.from({ length: 200 }, (_, i) => `A${i}`);
  await engine.setPlan({
    id: "deploy",
    name: "deploy",
    strategy: "parallel",
    phases: ["facts", "join-sds"].map((kind) => ({
      id: kind,
      name: kind,
      strategy: "parallel" as const,
      steps: ids.map((id) => ({ id: `${kind}/${id}`, name: kind, asset: id, run: async () => {} })),
    })),
  });
  await engine.waitFor("deploy", (v) => v.status === "COMPLETE", 20_000);
  const agents = ids.map((agentId, i) => ({ agentId, hostname: agentId, ip: `10.0.${i}.1` }));
  const observer = new FakeObserver();
  const health = new ClusterHealth(
    { observer: observer as unknown as ClusterObserver, repair: "owned", provisioned: true },
    {
      engine,
      agents: {
        all: () => agents,
        get: (id: string) => agents.find((a) => a.agentId === id),
      } as unknown as AgentRegistry,
      logger: pino({ level: "silent" }),
      layout: () => ({
        domains: [],
        nodes: ids.map((agentId) => ({
          agentId,
          sds: { protectionDomain: "pd", pools: [{ pool: "p", devices: ["/dev/sdb"] }] },
          sdc: { protectionDomain: "pd", storagePool: "p" },
          problems: [],
        })),
      }),
      neededSpare: () => new Map(),
      managers: () => [],
      runNode: async () => ({}),
      setSpare: async () => {},
      rejoin: async () => {},
    },
  );
  let views = 0;
  const view = engine.view.bind(engine);
  engine.view = (planId: string) => {
    if (planId === "deploy") views += 1;
    return view(planId);
  };
  health.start();
  try {
    observer.look(true);
    await waitUntil(() => views > 0, { timeoutMs: 5000, what: "the recovery plan recomputed" });
    await new Promise((r) => setImmediate(r));
    assert.equal(views, 1, "one view of the deploy plan per observation");
  } finally {
    await health.stop();
    await engine.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
