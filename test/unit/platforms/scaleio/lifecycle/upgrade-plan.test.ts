// The upgrade plan against a fake cluster: the documented order (gateway, LIA, tie-breaker and
// slave, mastership moved, former master, SDSs one at a time in maintenance, SDCs), never two
// SDSs of a domain in maintenance, a rebuild holds the next step (which says so), components
// at the target are left alone, an SDC with mapped volumes waits, a canary pauses, and a
// downgrade is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStateStore } from "../../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../../src/framework/plan/engine.js";
import type { ConditionFinding } from "../../../../../src/framework/health/types.js";
import type { ObservedCluster } from "../../../../../src/platforms/scaleio/observe/model.js";
import type { ObservedDomain } from "../../../../../src/platforms/scaleio/observe/domain.js";
import {
  buildUpgradePlan,
  CANARY_HOLD_PHASE,
  newerThan,
  type UpgradeInput,
  type UpgradePorts,
  type Versions,
} from "../../../../../src/platforms/scaleio/lifecycle/upgrade-plan.js";
import { packageUrlAt } from "../../../../../src/platforms/scaleio/lifecycle/upgrade.js";
import { waitUntil } from "../../../../support/wait.js";

const OLD = "2.0-6035.0";
const NEW = "2.0-13000.211";
const all = (v: string): Versions => ({ mdm: v, sds: v, sdc: v, lia: v, gateway: v });

/** A cluster of three MDM nodes (m1 master, m2 slave, m3 tie-breaker) and SDS nodes. */
class FakeCluster extends EventEmitter {
  log: string[] = [];
  findings: ConditionFinding[] = [];
  maxInMaintenancePerPd = 0;
  mapped = new Map<string, number>();
  versions = new Map<string, Versions>();
  sds: { id: string; ip: string; pd: string; maintenance: boolean }[] = [];
  mdms = [
    { id: "M1", ip: "10.0.0.1", name: "mdm1", role: "master" },
    { id: "M2", ip: "10.0.0.2", name: "mdm2", role: "slave" },
    { id: "M3", ip: "10.0.0.3", name: "tb1", role: "tieBreaker" },
  ];
  /** Left to rebuild (KB) in pool pd2/p2, another domain's (a rebuild anywhere holds an SDS
   *  step; one in its own domain holds the last step's resync too). */
  rebuildKb = 0;
  private pending = false;
  /** Looks of the whole cluster taken so far, and targeted reads of a domain. */
  looks = 0;
  reads = 0;

  domain(pdId: string): ObservedDomain {
    const now = Date.now();
    this.reads++;
    const o = this.observed();
    return {
      startedAt: now,
      at: now,
      protectionDomainId: pdId,
      sds: o.sds.filter((s) => s.protectionDomainId === pdId),
      pools: o.pools,
    };
  }

  observeSoon(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      this.looks++;
      this.emit("observed", this.observed(), this.findings);
    });
  }

  observed(): ObservedCluster {
    const now = Date.now();
    return {
      at: now,
      startedAt: now,
      mdm: {
        mode: "ThreeNodes",
        state: "ClusteredNormal",
        members: this.mdms.map((m) => ({
          id: m.id,
          name: m.name,
          ips: [m.ip],
          role: m.role,
          status: "Normal",
        })),
      },
      pools: [
        {
          id: "P1",
          name: "p1",
          protectionDomainId: "pd1",
          protectionDomainName: "pd1",
          rebuildRemainingKb: 0,
          rebalanceRemainingKb: 0,
          degradedKb: 0,
        },
        {
          id: "P2",
          name: "p2",
          protectionDomainId: "pd2",
          protectionDomainName: "pd2",
          rebuildRemainingKb: this.rebuildKb,
          rebalanceRemainingKb: 0,
          degradedKb: 0,
        },
      ],
      sds: this.sds.map((s) => ({
        id: s.id,
        name: `sds-${s.ip}`,
        ips: [s.ip],
        protectionDomainId: s.pd,
        connected: true,
        maintenance: s.maintenance ? "InMaintenance" : "NoMaintenance",
      })),
    } as unknown as ObservedCluster;
  }
}

interface Setup {
  engine: PlanEngine;
  cluster: FakeCluster;
  input: UpgradeInput;
  ports: UpgradePorts;
  progress: Map<string, string[]>;
}

async function setup(
  opts: {
    sdsCount?: number;
    versions?: (agentId: string) => Versions;
    canary?: number;
    /** The observer keeps its latest look (as the cluster's observer does). */
    keepsLatest?: boolean;
  } = {},
): Promise<Setup> {
  const cluster = new FakeCluster();
  let latest: ObservedCluster | undefined;
  let latestFindings: ConditionFinding[] = [];
  // Registered first: kept before any waiting step hears of the look.
  if (opts.keepsLatest)
    cluster.on("observed", (o: ObservedCluster, f: ConditionFinding[]) => {
      latest = o;
      latestFindings = f;
    });
  const observer: UpgradePorts["observer"] = opts.keepsLatest
    ? {
        on: (e, fn) => cluster.on(e, fn),
        off: (e, fn) => cluster.off(e, fn),
        observeSoon: () => cluster.observeSoon(),
        get latest() {
          return latest;
        },
        get findings() {
          return latestFindings;
        },
      }
    : cluster;
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "upgrade-")));
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const agents = [
    { agentId: "a1", hostname: "h1", ip: "10.0.0.1" },
    { agentId: "a2", hostname: "h2", ip: "10.0.0.2" },
    { agentId: "a3", hostname: "h3", ip: "10.0.0.3" },
  ];
  for (let i = 0; i < (opts.sdsCount ?? 4); i++)
    agents.push({ agentId: `d${i}`, hostname: `data${i}`, ip: `10.0.1.${i}` });
  for (const a of agents) {
    cluster.versions.set(a.agentId, opts.versions?.(a.agentId) ?? all(OLD));
    if (a.agentId.startsWith("d"))
      cluster.sds.push({ id: `S-${a.agentId}`, ip: a.ip, pd: "pd1", maintenance: false });
  }
  const recorded = new Map<string, Versions>();
  const progress = new Map<string, string[]>();
  engine.on("step", (_plan, _phase, s) => {
    if (s.message) progress.set(s.id, [...(progress.get(s.id) ?? []), s.message]);
  });
  const input: UpgradeInput = {
    target: NEW,
    agents,
    mdms: [
      { agentId: "a1", role: "primary", name: "mdm1" },
      { agentId: "a2", role: "secondary", name: "mdm2" },
      { agentId: "a3", role: "tiebreaker", name: "tb1" },
    ],
    sdsAgents: agents
      .filter((a) => a.agentId.startsWith("d"))
      .map((a) => ({ agentId: a.agentId, protectionDomain: "pd1" })),
    managers: ["10.0.0.1", "10.0.0.2"],
    packageUrl: (_agentId, c) => `http://repo/EMC-ScaleIO-${c}-${NEW}.el7.x86_64.rpm`,
    ...(opts.canary ? { canary: opts.canary } : {}),
  };
  const ports: UpgradePorts = {
    async node(agentId, kind, params) {
      const p = params as { component?: string; version?: string };
      if (kind === "scaleio.installed-versions") return cluster.versions.get(agentId);
      if (kind === "scaleio.install-package") {
        cluster.log.push(`install ${p.component} ${agentId}`);
        cluster.versions.get(agentId)![p.component as "sds"] = p.version!;
        return { component: p.component, version: p.version, changed: true };
      }
      if (kind === "scaleio.upgrade-sdc") {
        cluster.log.push(`sdc ${agentId}`);
        return { version: p.version, reloaded: true, mappedVolumes: 0 };
      }
      throw new Error(`unexpected node step ${kind}`);
    },
    versionsOf: (agentId) => recorded.get(agentId) ?? {},
    async recordVersions(agentId, v) {
      recorded.set(agentId, { ...recorded.get(agentId), ...v });
    },
    observer,
    async enterMaintenance(sdsId) {
      const s = cluster.sds.find((x) => x.id === sdsId)!;
      s.maintenance = true;
      cluster.log.push(`enter ${sdsId}`);
      const inPd = cluster.sds.filter((x) => x.pd === s.pd && x.maintenance).length;
      cluster.maxInMaintenancePerPd = Math.max(cluster.maxInMaintenancePerPd, inPd);
    },
    async exitMaintenance(sdsId) {
      cluster.sds.find((x) => x.id === sdsId)!.maintenance = false;
      cluster.log.push(`exit ${sdsId}`);
    },
    async moveMastership(mdmId) {
      for (const m of cluster.mdms) {
        if (m.role === "master") m.role = "slave";
        if (m.id === mdmId) m.role = "master";
      }
      cluster.log.push(`master ${mdmId}`);
    },
    mappedVolumes: async (ip) => cluster.mapped.get(ip) ?? 0,
    readDomain: async (pdId) => cluster.domain(pdId),
  };
  return { engine, cluster, input, ports, progress };
}

const kinds = (log: string[]) => log.map((l) => l.split(" ").slice(0, 2).join(" "));

test("the documented order: gateway, LIA everywhere, TB, slave, mastership, former master, SDSs one at a time, SDCs", async () => {
  const { engine, cluster, input, ports } = await setup();
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  const v = await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.deepEqual(
    v.phases.map((p) => p.id),
    ["versions", "gateway", "lia", "mdm", "sds", "sdc"],
  );
  const log = cluster.log;
  const at = (entry: string) => {
    const i = log.indexOf(entry);
    assert.ok(i >= 0, `${entry} in ${log.join(", ")}`);
    return i;
  };
  assert.equal(log[0], "install gateway a1");
  assert.deepEqual(kinds(log.slice(1, 8)), Array(7).fill("install lia"));
  assert.ok(at("install mdm a3") < at("install mdm a2"), "tie-breaker before the slave");
  assert.ok(at("install mdm a2") < at("master M2"), "mastership moves to the upgraded slave");
  assert.ok(at("master M2") < at("install mdm a1"), "then the former master");
  for (let i = 0; i < 4; i++) {
    const enter = at(`enter S-d${i}`);
    assert.equal(log[enter + 1], `install sds d${i}`);
    assert.equal(log[enter + 2], `exit S-d${i}`);
    if (i > 0) assert.ok(at(`exit S-d${i - 1}`) < enter, "one SDS at a time");
  }
  assert.equal(cluster.maxInMaintenancePerPd, 1, "never two SDSs of a domain in maintenance");
  assert.ok(at("exit S-d3") < at("sdc d0"), "SDCs after every SDS");
  assert.equal(log.filter((l) => l.startsWith("sdc ")).length, 7);
});

for (const keepsLatest of [false, true])
  test(`a rebuild holds the next SDS step, which says why, until it is over${keepsLatest ? " (an observer that keeps its latest look)" : ""}`, async () => {
    const { engine, cluster, input, ports, progress } = await setup({ sdsCount: 3, keepsLatest });
    // The first SDS's exit starts a rebuild elsewhere in the cluster.
    const exit = ports.exitMaintenance;
    let held = false;
    ports.exitMaintenance = async (id) => {
      await exit(id);
      if (id === "S-d0") {
        held = true;
        cluster.rebuildKb = 10_240;
        cluster.findings = [
          {
            type: "Rebuilding",
            severity: "warning",
            object: "pool/pd2/p2",
            message: "pool pd2/p2 rebuilding 43 %",
          },
        ];
      }
    };
    await engine.setPlan(buildUpgradePlan(input, ports));
    engine.start();
    await waitUntil(
      // The observer's words when it has seen the rebuild, the read's otherwise.
      () => (progress.get("sds/d1") ?? []).some((m) => /^waiting: pool pd2\/p2 rebuilding/.test(m)),
      { timeoutMs: 5000, what: "the next SDS step says it waits for the rebuild" },
    );
    assert.ok(held);
    assert.ok(!cluster.log.includes("enter S-d1"), "nothing done while the rebuild runs");
    cluster.rebuildKb = 0;
    cluster.findings = [];
    await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
    await engine.stop();
    assert.ok(cluster.log.includes("enter S-d1"));
  });

test("SDS steps read their domain instead of looking at the whole cluster (a look at most per step, for its critical conditions)", async () => {
  const { engine, cluster, input, ports } = await setup({ sdsCount: 4, keepsLatest: true });
  // Looks of the whole cluster asked for while an SDS step runs.
  let inSds = false;
  let looksInSds = 0;
  cluster.on("observed", () => {
    if (inSds) looksInSds++;
  });
  engine.on("step", (_plan, phase, s) => {
    if (phase === "sds") inSds = s.status === "IN_PROGRESS";
  });
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  // Critical conditions come from a look begun after the previous step ended: here (nothing
  // else looks) the observer's next one, asked again while one begins in the same millisecond.
  assert.ok(looksInSds > 0);
  // Per SDS: one read for the gate, one that shows it resynchronised.
  assert.equal(cluster.reads, 8);
  assert.equal(cluster.maxInMaintenancePerPd, 1, "never two SDSs of a domain in maintenance");
});

test("a rebuild the domain's read shows holds the SDS step before the observer has seen it; an older look's rebuild does not", async () => {
  const { engine, cluster, input, ports, progress } = await setup({
    sdsCount: 2,
    keepsLatest: true,
  });
  const exit = ports.exitMaintenance;
  ports.exitMaintenance = async (id) => {
    await exit(id);
    if (id === "S-d0") cluster.rebuildKb = 3 * 1024;
  };
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await waitUntil(
    () => (progress.get("sds/d1") ?? []).includes("waiting: pool pd2/p2 rebuilding (3 MiB left)"),
    { timeoutMs: 5000, what: "the next SDS step says it waits for the rebuild" },
  );
  assert.ok(!cluster.log.includes("enter S-d1"), "nothing done while the rebuild runs");
  // Over: the observer's findings still say rebuilding (no look since), the read does not.
  cluster.findings = [
    {
      type: "Rebuilding",
      severity: "warning",
      object: "pool/pd2/p2",
      message: "pool pd2/p2 rebuilding 99 %",
    },
  ];
  cluster.rebuildKb = 0;
  await waitUntil(() => cluster.log.includes("enter S-d1"), {
    timeoutMs: 5000,
    what: "the step going on once the read shows the rebuild over",
  });
  cluster.findings = []; // the observer's next look
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
});

test("a critical condition in the observer's latest look holds the SDS step, which says why", async () => {
  const { engine, cluster, input, ports, progress } = await setup({
    sdsCount: 2,
    keepsLatest: true,
  });
  const exit = ports.exitMaintenance;
  ports.exitMaintenance = async (id) => {
    await exit(id);
    if (id !== "S-d0") return;
    cluster.findings = [
      {
        type: "CapacityAlmostFull",
        severity: "critical",
        object: "pool/pd1/p1",
        message: "pool pd1/p1 is 93 % used",
      },
    ];
    // The observer has looked since (it looks soon after every change and on its interval).
    cluster.observeSoon();
    await new Promise((r) => setImmediate(r));
  };
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await waitUntil(
    () =>
      (progress.get("sds/d1") ?? []).includes(
        "waiting: 1 critical condition: pool pd1/p1 is 93 % used",
      ),
    { timeoutMs: 5000, what: "the next SDS step says it waits for the critical condition" },
  );
  assert.ok(!cluster.log.includes("enter S-d1"));
  cluster.findings = [];
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.ok(cluster.log.includes("enter S-d1"));
});

test("a critical condition arising after the previous SDS step holds the next one though the latest look predates it", async () => {
  const { engine, cluster, input, ports, progress } = await setup({
    sdsCount: 2,
    keepsLatest: true,
  });
  const exit = ports.exitMaintenance;
  ports.exitMaintenance = async (id) => {
    await exit(id);
    // Arises now; the observer has not looked since (its latest look is older).
    if (id === "S-d0")
      cluster.findings = [
        {
          type: "CapacityAlmostFull",
          severity: "critical",
          object: "pool/pd1/p1",
          message: "pool pd1/p1 is 93 % used",
        },
      ];
  };
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await waitUntil(
    () =>
      (progress.get("sds/d1") ?? []).includes(
        "waiting: 1 critical condition: pool pd1/p1 is 93 % used",
      ) || cluster.log.includes("enter S-d1"),
    { timeoutMs: 5000, what: "the next SDS step deciding" },
  );
  assert.ok(!cluster.log.includes("enter S-d1"), "not entered on a look from before");
  cluster.findings = [];
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.ok(cluster.log.includes("enter S-d1"));
});

const WINDOW =
  "waiting: data1 has a maintenance window from 2026-12-03T18:00:00.000Z until 2026-12-03T20:00:00.000Z; no new step starts there before it is over";

test("an agent's maintenance window holds the SDS step before its SDS enters maintenance mode", async () => {
  const { engine, cluster, input, ports, progress } = await setup({ sdsCount: 2 });
  let over!: () => void;
  let windowOpen = true;
  const windowOver = new Promise<void>((r) => (over = r));
  ports.nodeStartable = async (agentId, ctx) => {
    if (agentId !== "d1" || !windowOpen) return;
    ctx.progress(WINDOW);
    await windowOver;
    windowOpen = false;
  };
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await waitUntil(
    () => (progress.get("sds/d1") ?? []).includes(WINDOW) || cluster.log.includes("enter S-d1"),
    { timeoutMs: 5000, what: "the SDS step on data1 deciding" },
  );
  assert.ok(!cluster.log.includes("enter S-d1"), "not in maintenance mode while the window holds");
  over();
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.ok(cluster.log.includes("enter S-d1"));
  assert.equal(cluster.versions.get("d1")!.sds, NEW);
});

test("a window appearing after the SDS entered maintenance: it exits, waits the window out, then upgrades", async () => {
  const { engine, cluster, input, ports, progress } = await setup({ sdsCount: 2 });
  let windowOpen = false;
  let windowWasOver = false;
  let over!: () => void;
  const windowOver = new Promise<void>((r) => (over = r));
  ports.nodeStartable = async (agentId, ctx) => {
    if (agentId !== "d1" || !windowOpen || windowWasOver) return;
    ctx.progress(WINDOW);
    await windowOver;
    windowWasOver = true;
  };
  const node = ports.node;
  ports.node = async (agentId, kind, params, ctx, opts) => {
    const p = params as { component?: string };
    if (agentId === "d1" && p.component === "sds" && !windowOpen) {
      // The runner holds the node step: the window was announced after the entry.
      windowOpen = true;
      opts?.onHeld?.(WINDOW);
      ctx.signal.throwIfAborted();
      await new Promise((_r, reject) =>
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error)),
      );
    }
    return node(agentId, kind, params, ctx, opts);
  };
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await waitUntil(() => (progress.get("sds/d1") ?? []).includes(WINDOW), {
    timeoutMs: 5000,
    what: "the SDS step waiting for the window",
  });
  const d1 = cluster.log.filter((l) => / S-d1$|sds d1$/.test(l));
  assert.deepEqual(d1, ["enter S-d1", "exit S-d1"], "out of maintenance mode while it waits");
  assert.ok(
    (progress.get("sds/d1") ?? []).some((m) =>
      /exiting maintenance mode until the agent's maintenance window is over/.test(m),
    ),
  );
  over();
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.deepEqual(
    cluster.log.filter((l) => / S-d1$|sds d1$/.test(l)),
    ["enter S-d1", "exit S-d1", "enter S-d1", "install sds d1", "exit S-d1"],
  );
  assert.equal(cluster.maxInMaintenancePerPd, 1);
});

test("an SDS under node maintenance is left alone until the node is back in service: no entry, no exit", async () => {
  const { engine, cluster, input, ports, progress } = await setup({ sdsCount: 2 });
  // An operator (or a Mesos window) put data0 into node maintenance: its SDS is in
  // maintenance mode, owned by node maintenance. (Its SDS step comes first: data1's would
  // wait anyway, one SDS of a domain in maintenance at a time.)
  let held = true;
  cluster.sds.find((x) => x.id === "S-d0")!.maintenance = true;
  ports.nodeMaintenance = (agentId) =>
    agentId === "d0" && held ? "in node maintenance (asked by the operator)" : undefined;
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  const waiting = "waiting: 10.0.1.0 is in in node maintenance (asked by the operator)";
  try {
    await waitUntil(() => (progress.get("sds/d0") ?? []).some((m) => m.startsWith(waiting)), {
      timeoutMs: 5000,
      what: "the SDS step on data0 waiting for node maintenance",
    });
  } catch (err) {
    await engine.stop();
    throw err;
  }
  assert.deepEqual(
    cluster.log.filter((l) => / S-d0$|sds d0$/.test(l)),
    [],
    "the upgrade neither took it out of maintenance mode nor upgraded it",
  );
  assert.equal(cluster.versions.get("d0")!.sds, OLD);
  // Node maintenance ends (its exit takes the SDS out), and the next look is taken.
  held = false;
  cluster.sds.find((x) => x.id === "S-d0")!.maintenance = false;
  cluster.observeSoon();
  await engine
    .waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000)
    .finally(() => engine.stop());
  assert.deepEqual(
    cluster.log.filter((l) => / S-d0$|sds d0$/.test(l)),
    ["enter S-d0", "install sds d0", "exit S-d0"],
  );
  assert.equal(cluster.maxInMaintenancePerPd, 1);
});

test("asked into node maintenance while it upgraded, the SDS stays in maintenance mode", async () => {
  const { engine, cluster, input, ports, progress } = await setup({ sdsCount: 2 });
  let held = false;
  ports.nodeMaintenance = (agentId) =>
    agentId === "d1" && held
      ? "in node maintenance (asked by a Mesos maintenance window)"
      : undefined;
  const node = ports.node;
  ports.node = async (agentId, kind, params, ctx, opts) => {
    const r = await node(agentId, kind, params, ctx, opts);
    if (agentId === "d1" && (params as { component?: string }).component === "sds") held = true;
    return r;
  };
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await engine
    .waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000)
    .finally(() => engine.stop());
  assert.deepEqual(
    cluster.log.filter((l) => / S-d1$|sds d1$/.test(l)),
    ["enter S-d1", "install sds d1"],
    "not taken out of maintenance mode: node maintenance owns it now",
  );
  assert.ok(cluster.sds.find((x) => x.id === "S-d1")!.maintenance);
  assert.equal(cluster.versions.get("d1")!.sds, NEW);
  assert.ok(
    (progress.get("sds/d1") ?? []).some((m) =>
      /stays in maintenance mode: in node maintenance/.test(m),
    ),
  );
});

test("a step cut short after entering maintenance looks again before going on (no look from before its change)", async () => {
  const { engine, cluster, input, ports } = await setup({ sdsCount: 3, keepsLatest: true });
  const node = ports.node;
  let failed = false;
  ports.node = async (agentId, kind, params, ctx) => {
    const p = params as { component?: string };
    if (agentId === "d1" && p.component === "sds" && !failed) {
      failed = true;
      throw new Error("the agent went away");
    }
    return node(agentId, kind, params, ctx);
  };
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.ok(failed);
  assert.deepEqual(
    cluster.log.filter((l) => l === "enter S-d1"),
    ["enter S-d1"],
    "the retry saw its SDS in maintenance already and carried on",
  );
  assert.equal(cluster.maxInMaintenancePerPd, 1);
  assert.ok(cluster.versions.get("d1")!.sds === NEW);
});

test("components already at the target are left alone; an SDC with mapped volumes waits", async () => {
  const { engine, cluster, input, ports, progress } = await setup({
    versions: (id) => (id === "d1" || id === "a3" ? all(NEW) : all(OLD)),
  });
  cluster.mapped.set("10.0.1.0", 2);
  await engine.setPlan(buildUpgradePlan(input, ports));
  engine.start();
  await waitUntil(
    () => (progress.get("sdc/d0") ?? []).includes("needs a driver reload: 2 volumes mapped"),
    { timeoutMs: 5000, what: "the SDC step waits for its volumes" },
  );
  assert.ok(!cluster.log.includes("sdc d0"));
  cluster.mapped.set("10.0.1.0", 0);
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.ok(cluster.log.includes("sdc d0"), "reloaded once nothing is mapped");
  assert.ok(!cluster.log.some((l) => l.endsWith(" d1") || l.endsWith("S-d1")), "d1 untouched");
  assert.ok(!cluster.log.some((l) => l.endsWith(" a3")), "the upgraded tie-breaker untouched");
});

test("a canary pauses after the first N SDSs until the operator resumes", async () => {
  const { engine, cluster, input, ports } = await setup({ canary: 1 });
  const plan = buildUpgradePlan(input, ports);
  assert.deepEqual(
    plan.phases.map((p) => p.id),
    ["versions", "gateway", "lia", "mdm", "sds-canary", CANARY_HOLD_PHASE, "sdc"],
  );
  await engine.setPlan(plan);
  await engine.pause("upgrade", CANARY_HOLD_PHASE);
  engine.start();
  await engine.waitFor(
    "upgrade",
    (p) => p.phases.find((ph) => ph.id === "sds-canary")?.status === "COMPLETE",
    10_000,
  );
  // Held: nothing of the paused phase starts.
  await new Promise((r) => setImmediate(r));
  assert.ok(engine.view("upgrade").phases.find((p) => p.id === CANARY_HOLD_PHASE)?.paused);
  assert.deepEqual(
    cluster.log.filter((l) => l.startsWith("enter")),
    ["enter S-d0"],
  );
  await engine.resume("upgrade");
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.equal(cluster.log.filter((l) => l.startsWith("enter")).length, 4);
});

test("a newer installed version refuses the plan (no downgrade)", async () => {
  assert.deepEqual(newerThan(OLD, [{ hostname: "h1", versions: { sds: NEW, mdm: OLD } }]), [
    `h1: sds ${NEW}`,
  ]);
  const { engine, input, ports } = await setup({
    versions: (id) => (id === "d2" ? all(NEW) : all(OLD)),
  });
  await engine.setPlan(buildUpgradePlan({ ...input, target: OLD }, ports));
  engine.start();
  const v = await engine.waitFor(
    "upgrade",
    (p) => p.phases[0]!.steps.some((s) => s.status === "ERROR"),
    10_000,
  );
  await engine.stop();
  const failed = v.phases[0]!.steps.find((s) => s.status === "ERROR")!;
  assert.equal(failed.id, "versions/d2");
  assert.match(failed.lastError ?? "", /downgrade refused: data2: .* is newer than 2\.0-6035\.0/);
});

test("package URLs of another version follow the configured scheme", () => {
  assert.equal(
    packageUrlAt(`http://repo/x/EMC-ScaleIO-sds-${OLD}.el7.x86_64.rpm`, NEW),
    `http://repo/x/EMC-ScaleIO-sds-${NEW}.el7.x86_64.rpm`,
  );
  assert.equal(
    packageUrlAt(`file:///srv/emc-scaleio-sdc_${OLD}_amd64.deb`, NEW),
    `file:///srv/emc-scaleio-sdc_${NEW}_amd64.deb`,
  );
  assert.throws(() => packageUrlAt("http://repo/sds.rpm", NEW), /no version/);
});

test("the SDC upgrade is given the driver repository (--sdc-driver-repo) for kernels the new package lacks", async () => {
  const { engine, input, ports } = await setup({ sdsCount: 1 });
  const seen: unknown[] = [];
  const node = ports.node.bind(ports);
  ports.node = async (agentId, kind, params, ctx, o) => {
    if (kind === "scaleio.upgrade-sdc") seen.push(params);
    return node(agentId, kind, params, ctx, o);
  };
  await engine.setPlan(buildUpgradePlan({ ...input, sdcDriverRepo: "file:///srv/scini" }, ports));
  engine.start();
  await engine.waitFor("upgrade", (p) => p.status === "COMPLETE", 10_000);
  await engine.stop();
  assert.equal(seen.length, input.agents.length, "every agent's SDC upgraded");
  for (const p of seen)
    assert.equal((p as { driverRepo?: string }).driverRepo, "file:///srv/scini");
});
