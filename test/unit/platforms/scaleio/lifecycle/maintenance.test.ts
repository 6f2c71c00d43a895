// SDS maintenance decisions, against a fake cluster (observations built from its state) and
// a fake gateway: one SDS per protection domain, never while a pool of the domain is degraded
// or rebuilding, accepted once the SDS is seen in maintenance, mastership moved first from a
// master's node, back through exit and resync; the plan and the wishes survive a restart.
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../../src/framework/plan/engine.js";
import type { AgentRegistry } from "../../../../../src/framework/agents.js";
import type { ConditionFinding } from "../../../../../src/framework/health/types.js";
import type {
  ObservedCluster,
  ObservedPool,
  ObservedSds,
} from "../../../../../src/platforms/scaleio/observe/model.js";
import {
  MAINTENANCE_PLAN_ID,
  MaintenanceRefused,
  ScaleioMaintenance,
  enterRefusal,
  mdmRefusal,
} from "../../../../../src/platforms/scaleio/lifecycle/maintenance.js";
import { silentLogger } from "../../../../../src/mesos/logger.js";
import { waitUntil, withDeadline } from "../../../../support/wait.js";

const perf = {
  read: { iops: 0, kbPerSecond: 0 },
  write: { iops: 0, kbPerSecond: 0 },
  latencyMicros: 0,
};

function sds(n: number, pd = "pd1", maintenance = "NoMaintenance", connected = true): ObservedSds {
  return {
    id: `sds${n}`,
    name: `sds${n}`,
    ips: [`10.0.0.${n}`],
    protectionDomainId: pd,
    faultSetId: null,
    connected,
    state: "Normal",
    maintenance,
    performance: perf,
  };
}

function pool(pd = "pd1", extra: Partial<ObservedPool> = {}): ObservedPool {
  return {
    id: `pool-${pd}`,
    name: "p1",
    protectionDomainId: pd,
    protectionDomainName: pd === "pd1" ? "default" : pd,
    sparePercentage: 34,
    maxKb: 1,
    limitKb: 1,
    spareKb: 0,
    inUseKb: 0,
    usedPercent: 1,
    freeForVolumesKb: 1,
    degradedKb: 0,
    failedKb: 0,
    rebuildRemainingKb: 0,
    rebuildActiveKb: 0,
    rebalanceRemainingKb: 0,
    largestFaultUnitPercent: 34,
    faultUnits: 4,
    performance: perf,
    ...extra,
  };
}

/** The fake cluster: four SDSs in one domain, three MDMs (the master on 10.0.0.1). */
class Cluster {
  sds = [1, 2, 3, 4].map((n) => sds(n));
  pools = [pool()];
  master = "10.0.0.1";
  mdmIps = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
  mdmDown = new Set<string>();
  calls: string[] = [];
  cluster(): ObservedCluster {
    const ips = this.mdmIps;
    return {
      at: Date.now(),
      startedAt: Date.now(),
      systemId: "sys",
      systemName: "s",
      mdmMode: "ThreeNodes",
      mdm: {
        mode: "ThreeNodes",
        state: "ClusteredNormal",
        members: ips.map((ip, i) => ({
          id: `mdm${i + 1}`,
          name: `mdm${i + 1}`,
          ips: [ip],
          role: ip === this.master ? "master" : i === 2 ? "tieBreaker" : "slave",
          status: this.mdmDown.has(ip) ? "Disconnected" : "Normal",
        })),
      },
      capacityAlertThresholds: { high: 80, critical: 90 },
      pools: this.pools.map((p) => ({ ...p })),
      sds: this.sds.map((s) => ({ ...s })),
      devices: [],
      sdcs: [],
      alerts: [],
      requests: 1,
    };
  }
}

class Observer extends EventEmitter {
  latest: ObservedCluster | undefined;
  findings: ConditionFinding[] = [];
  private pending = false;
  constructor(private readonly c: Cluster) {
    super();
    this.look();
  }
  look(): void {
    this.latest = this.c.cluster();
    this.emit("observed", this.latest, this.findings);
  }
  observeSoon(): void {
    if (this.pending) return;
    this.pending = true;
    setTimeout(() => {
      this.pending = false;
      this.look();
    }, 2);
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(dir = mkdtempSync(join(tmpdir(), "maint-")), c = new Cluster()) {
  const store = await FileStateStore.open(dir);
  const engine = new PlanEngine({ store, retry: { initialMs: 5, maxMs: 20 } });
  const observer = new Observer(c);
  const lost = new Set<string>();
  /** Agents that came back under a new id (a machine taken down), by new id: the old one. */
  const reborn = new Map<string, string>();
  const get = (id: string) => {
    const n = Number((reborn.get(id) ?? id).replace("agent", ""));
    return n >= 1 && n <= 6
      ? {
          agentId: id,
          hostname: `node${n}`,
          ip: `10.0.0.${n}`,
          ...(lost.has(id) ? { lostSince: 1 } : {}),
        }
      : undefined;
  };
  const agents = {
    get,
    active: () =>
      [1, 2, 3, 4, 5, 6, ...reborn.keys()]
        .map((n) => get(typeof n === "number" ? `agent${n}` : n)!)
        .filter((a) => a.lostSince === undefined),
  } as unknown as AgentRegistry;
  const events: string[] = [];
  const m = new ScaleioMaintenance({
    engine,
    agents,
    store,
    logger: silentLogger,
    notify: (_l, msg) => events.push(msg),
    observer,
    gateway: {
      enterMaintenance: async (id) => {
        c.calls.push(`enter ${id}`);
        c.sds.find((s) => s.id === id)!.maintenance = "InMaintenance";
      },
      exitMaintenance: async (id) => {
        c.calls.push(`exit ${id}`);
        c.sds.find((s) => s.id === id)!.maintenance = "NoMaintenance";
        c.pools[0]!.rebuildRemainingKb = 4096; // the resync
      },
      changeMdmOwnership: async (_sys, mdmId) => {
        c.calls.push(`master ${mdmId}`);
        c.master = `10.0.0.${mdmId.replace("mdm", "")}`;
      },
    },
  });
  engine.start();
  await m.start();
  cleanups.push(async () => {
    await engine.stop();
    await store.close();
  });
  return { m, engine, c, observer, events, dir, lost, reborn };
}

const window = { startMs: Date.now() };
const stepDone = (engine: PlanEngine, id: string) =>
  waitUntil(() => engine.progressOf(MAINTENANCE_PLAN_ID, id)?.status === "COMPLETE", {
    timeoutMs: 5000,
    what: `${id} complete`,
  });

test("refusals: a peer in maintenance, entering or down; a degraded pool; the health gate", () => {
  const c = new Cluster();
  const o = () => c.cluster();
  const me = c.sds[3]!;
  assert.equal(enterRefusal(o(), [], me), undefined);
  c.sds[1]!.maintenance = "InMaintenance";
  assert.equal(enterRefusal(o(), [], me), "SDS sds2 of PD default is already in maintenance");
  c.sds[1]!.maintenance = "NoMaintenance";
  assert.equal(
    enterRefusal(o(), [], me, ["sds3"]),
    "SDS sds3 of PD default is entering maintenance",
  );
  c.sds[0]!.connected = false;
  assert.equal(enterRefusal(o(), [], me), "SDS sds1 of PD default is disconnected");
  c.sds[0]!.connected = true;
  c.pools[0]!.degradedKb = 2048;
  assert.match(enterRefusal(o(), [], me) ?? "", /^pool default\/p1 is degraded/);
  c.pools[0]!.degradedKb = 0;
  const rebuilding: ConditionFinding = {
    type: "Rebuilding",
    severity: "warning",
    object: "pool/default/p1",
    message: "pool default/p1 rebuilding 40 %",
  };
  assert.equal(enterRefusal(o(), [rebuilding], me), "pool default/p1 rebuilding 40 %");
  // Another domain's SDS in maintenance is no reason.
  c.sds.push(sds(5, "pd2", "InMaintenance"));
  c.pools.push(pool("pd2"));
  assert.equal(enterRefusal(o(), [], me), undefined);
});

test("an inverse offer for an SDS agent: declined while it enters, accepted once in maintenance; a second SDS of the domain is declined meanwhile; an agent without SDS is accepted at once", async () => {
  const { m, engine, c, events } = await setup();
  assert.equal(m.viewOf("agent4"), undefined);
  const first = await m.onInverseOffer("agent4", window);
  assert.equal(m.viewOf("agent4")?.state, "entering");
  assert.equal(m.viewOf("agent4")?.by, "mesos");
  assert.deepEqual(first, {
    decline: "entering maintenance: SDS sds4 of PD default enters instant maintenance mode",
  });
  const other = await m.onInverseOffer("agent2", window);
  assert.deepEqual(other, { decline: "SDS sds4 of PD default is entering maintenance" });
  await stepDone(engine, "enter/agent4");
  assert.deepEqual(c.calls, ["enter sds4"]);
  assert.equal(m.viewOf("agent4")?.state, "in");
  assert.equal(await m.onInverseOffer("agent4", window), "accept");
  assert.deepEqual(await m.onInverseOffer("agent2", window), {
    decline: "SDS sds4 of PD default is already in maintenance",
  });
  assert.equal(await m.onInverseOffer("agent6", window), "accept", "no SDS, no master");
  assert.ok(events.some((e) => /SDS sds4 of PD default on node4 entered maintenance mode/.test(e)));
  // The window is over: exit, then the resync drains, then done.
  await m.onMaintenanceOver("agent4");
  await waitUntil(() => c.calls.includes("exit sds4"), { what: "exit called" });
  assert.equal(m.viewOf("agent4")?.state, "exiting");
  await new Promise((r) => setTimeout(r, 30));
  assert.notEqual(
    engine.progressOf(MAINTENANCE_PLAN_ID, "exit/agent4")?.status,
    "COMPLETE",
    "waits for the resync",
  );
  assert.match(
    engine.progressOf(MAINTENANCE_PLAN_ID, "exit/agent4")?.message ?? "",
    /resync: 4 MiB left/,
  );
  c.pools[0]!.rebuildRemainingKb = 0;
  await stepDone(engine, "exit/agent4");
  assert.ok(events.some((e) => /back in service: resync done/.test(e)));
  assert.equal(m.viewOf("agent4"), undefined, "back in service");
  // The domain is free again.
  assert.deepEqual(await m.onInverseOffer("agent2", window), {
    decline: "entering maintenance: SDS sds2 of PD default enters instant maintenance mode",
  });
});

test("the MDM master's node hands mastership to a slave before its SDS enters maintenance", async () => {
  const { m, engine, c, events } = await setup();
  const a = await m.onInverseOffer("agent1", window);
  assert.match(
    (a as { decline: string }).decline,
    /MDM mastership moves to another manager, then SDS sds1/,
  );
  await stepDone(engine, "enter/agent1");
  assert.deepEqual(c.calls, ["master mdm2", "enter sds1"]);
  assert.equal(c.master, "10.0.0.2");
  assert.ok(events.some((e) => /MDM mastership moved from node1 to mdm2/.test(e)));
});

test("operator: 409 with the reason when refused, 404 for an unknown agent, exit of a node not in maintenance refused", async () => {
  const { m, engine, c } = await setup();
  const r = await m.setMaintenance("agent3", true);
  assert.equal(r.state, "entering");
  await stepDone(engine, "enter/agent3");
  await assert.rejects(m.setMaintenance("agent2", true), (e: MaintenanceRefused) => {
    assert.equal(e.statusCode, 409);
    assert.equal(e.message, "SDS sds3 of PD default is already in maintenance");
    return true;
  });
  await assert.rejects(
    m.setMaintenance("agent9", true),
    (e: MaintenanceRefused) => e.statusCode === 404,
  );
  await assert.rejects(
    m.setMaintenance("agent2", false),
    (e: MaintenanceRefused) => e.code === "NOT_IN_MAINTENANCE",
  );
  // A Mesos window's end does not take out what an operator put in.
  await m.onMaintenanceOver("agent3");
  assert.equal(m.records.find((n) => n.agentId === "agent3")?.want, "in");
  assert.equal((await m.setMaintenance("agent3", false)).state, "exiting");
  await waitUntil(() => c.calls.includes("exit sds3"), { what: "exit" });
  c.pools[0]!.rebuildRemainingKb = 0;
  await stepDone(engine, "exit/agent3");
});

test("the wishes and the plan survive a restart; the exit waits for the machine to be back", async () => {
  const first = await setup();
  await first.m.onInverseOffer("agent4", window);
  await stepDone(first.engine, "enter/agent4");
  await first.engine.stop();
  const again = await setup(first.dir, first.c);
  assert.equal(again.engine.progressOf(MAINTENANCE_PLAN_ID, "enter/agent4")?.status, "COMPLETE");
  assert.equal(await again.m.onInverseOffer("agent4", window), "accept");
  // The machine is down (its agent lost, its SDS disconnected) when the window ends.
  again.lost.add("agent4");
  again.c.sds[3]!.connected = false;
  await again.m.onMaintenanceOver("agent4");
  await waitUntil(
    () =>
      /agent node4 is not back yet/.test(
        again.engine.progressOf(MAINTENANCE_PLAN_ID, "exit/agent4")?.message ?? "",
      ),
    { what: "the exit step waiting for the agent" },
  );
  again.lost.delete("agent4");
  await waitUntil(
    () =>
      /SDS sds4 is not connected yet/.test(
        again.engine.progressOf(MAINTENANCE_PLAN_ID, "exit/agent4")?.message ?? "",
      ),
    { what: "the exit step waiting for the SDS" },
  );
  assert.deepEqual(again.c.calls, ["enter sds4"], "no exit before the SDS is back");
  again.c.sds[3]!.connected = true;
  await waitUntil(() => again.c.calls.includes("exit sds4"), { what: "exit" });
  again.c.pools[0]!.rebuildRemainingKb = 0;
  await withDeadline(stepDone(again.engine, "exit/agent4"), 5000, "exit done");
});

test("the MDM cluster keeps its majority: a member's node is refused while another member is away; a tie-breaker without SDS is accepted at once and counted", async () => {
  const c = new Cluster();
  c.mdmDown.add("10.0.0.2");
  assert.equal(
    mdmRefusal(c.cluster(), "10.0.0.1"),
    "the MDM cluster would lose its majority: mdm2 (10.0.0.2) is already away",
  );
  assert.equal(mdmRefusal(c.cluster(), "10.0.0.4"), undefined, "no MDM member there");
  c.mdmDown.clear();
  assert.equal(mdmRefusal(c.cluster(), "10.0.0.1"), undefined);
  // Five members take two away.
  c.mdmIps = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.5", "10.0.0.6"];
  c.mdmDown.add("10.0.0.2");
  assert.equal(mdmRefusal(c.cluster(), "10.0.0.1"), undefined);
  assert.match(mdmRefusal(c.cluster(), "10.0.0.1", ["10.0.0.3"]) ?? "", /lose its majority/);

  const t = new Cluster();
  t.mdmIps = ["10.0.0.1", "10.0.0.2", "10.0.0.5"];
  const { m } = await setup(undefined, t);
  assert.equal(await m.onInverseOffer("agent5", window), "accept", "a tie-breaker, no SDS");
  assert.equal(await m.onInverseOffer("agent5", window), "accept");
  assert.deepEqual(await m.onInverseOffer("agent2", window), {
    decline: "the MDM cluster would lose its majority: mdm3 (10.0.0.5) is already away",
  });
  // A node without any MDM member is not held by it.
  assert.match(
    ((await m.onInverseOffer("agent4", window)) as { decline: string }).decline,
    /^entering maintenance: SDS sds4/,
  );
});

test("a window that starts later: the SDS enters maintenance only shortly before it (writes have one copy meanwhile)", async () => {
  const { m, c } = await setup();
  const start = Date.now() + 3_600_000;
  const later = await m.onInverseOffer("agent4", { startMs: start });
  assert.match(
    (later as { decline: string }).decline,
    new RegExp(
      `^the window starts at ${new Date(start).toISOString()}: SDS sds4 of PD default enters instant maintenance mode from ${new Date(start - 600_000).toISOString()}$`,
    ),
  );
  assert.deepEqual(m.records, [], "nothing recorded, nothing entered");
  assert.deepEqual(c.calls, []);
  assert.match(
    ((await m.onInverseOffer("agent4", { startMs: Date.now() + 300_000 })) as { decline: string })
      .decline,
    /^entering maintenance/,
    "within the lead time",
  );
});

test("asked out while still waiting to enter: the SDS never enters, the node is back at once", async () => {
  const { m, engine, c, observer } = await setup();
  c.pools[0]!.degradedKb = 1024;
  observer.look();
  await assert.rejects(m.setMaintenance("agent4", true), /degraded/);
  c.pools[0]!.degradedKb = 0;
  observer.look();
  assert.equal((await m.setMaintenance("agent4", true)).state, "entering");
  // The domain changes before the step acts: another SDS goes down, the step waits.
  c.sds[0]!.connected = false;
  observer.look();
  await waitUntil(
    () =>
      /waiting: SDS sds1 of PD default is disconnected/.test(
        engine.progressOf(MAINTENANCE_PLAN_ID, "enter/agent4")?.message ?? "",
      ),
    { what: "the enter step waiting" },
  );
  assert.equal((await m.setMaintenance("agent4", false)).state, "exiting");
  await stepDone(engine, "exit/agent4");
  assert.deepEqual(c.calls, [], "never entered, so never exited");
});

test("a machine back under a new agent id (as Mesos does after a machine was down): the exit goes on", async () => {
  const { m, engine, c, lost, reborn } = await setup();
  await m.onInverseOffer("agent4", window);
  await stepDone(engine, "enter/agent4");
  lost.add("agent4");
  await m.onMaintenanceOver("agent4");
  await waitUntil(
    () =>
      /agent node4 is not back yet/.test(
        engine.progressOf(MAINTENANCE_PLAN_ID, "exit/agent4")?.message ?? "",
      ),
    { what: "the exit step waiting for the agent" },
  );
  // The old id stays lost for good; the machine registers as agent4-new.
  reborn.set("agent4-new", "agent4");
  await waitUntil(() => c.calls.includes("exit sds4"), { what: "exit" });
  c.pools[0]!.rebuildRemainingKb = 0;
  await stepDone(engine, "exit/agent4");
});
