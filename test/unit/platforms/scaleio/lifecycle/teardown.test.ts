// The uninstall's teardown plan against a recorded cluster: the order (volumes, consumers'
// configuration, SDSs, pools/fault sets/domains, packages, SDCs, MDM members tie-breaker
// first and primary last), the refusal while volumes exist (409 before anything, and in the
// plan for volumes made afterwards), destroyData, the existing-cluster scope (only what the
// framework installed or configured), and a second run after a crash doing only what is left.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlanEngine } from "../../../../../src/framework/plan/engine.js";
import { FileStateStore } from "../../../../../src/store/file-store.js";
import {
  TeardownRefused,
  buildTeardownPlan,
  checkTeardown,
  type TeardownClusterOps,
  type TeardownInput,
  type TeardownVolume,
} from "../../../../../src/platforms/scaleio/lifecycle/teardown.js";
import { TeardownRecords } from "../../../../../src/platforms/scaleio/lifecycle/teardown-records.js";

/** A cluster in memory that logs every change, in order. */
class FakeCluster implements TeardownClusterOps {
  log: string[] = [];
  vols: TeardownVolume[] = [];
  sds = [
    { id: "s1", name: "sds-a", ips: ["10.0.0.1"] },
    { id: "s2", name: "sds-b", ips: ["10.0.0.2"] },
    { id: "s9", name: "ops-sds", ips: ["10.9.9.9"] },
  ];
  pools = [{ id: "p1", name: "default" }];
  faultSets = [{ id: "f1", name: "fs1" }];
  domains = [{ id: "d1", name: "default" }];
  sdcList = [
    { id: "c1", ip: "10.0.0.1" },
    { id: "c2", ip: "10.0.0.2" },
    { id: "c9", ip: "10.9.9.9" },
  ];
  /** Fails the next removeSds once (a crash in the middle of the step). */
  failSdsOnce = false;
  volumes = async () => structuredClone(this.vols);
  unmapVolume = async (v: string, c: string) => {
    this.log.push(`unmap ${v} ${c}`);
    const vol = this.vols.find((x) => x.id === v)!;
    vol.mapped = vol.mapped.filter((m) => m.sdcId !== c);
  };
  removeVolume = async (v: string) => {
    this.log.push(`remove-volume ${v}`);
    this.vols = this.vols.filter((x) => x.id !== v);
  };
  sdss = async () => structuredClone(this.sds);
  removeSds = async (id: string) => {
    if (this.failSdsOnce) {
      this.failSdsOnce = false;
      throw new Error("gateway went away");
    }
    this.log.push(`remove-sds ${id}`);
    this.sds = this.sds.filter((s) => s.id !== id);
  };
  storage = async () => ({
    pools: [...this.pools],
    faultSets: [...this.faultSets],
    domains: [...this.domains],
  });
  removePool = async (id: string) => {
    this.log.push(`remove-pool ${id}`);
    this.pools = this.pools.filter((p) => p.id !== id);
  };
  removeFaultSet = async (id: string) => {
    this.log.push(`remove-faultset ${id}`);
    this.faultSets = this.faultSets.filter((p) => p.id !== id);
  };
  removeDomain = async (id: string) => {
    this.log.push(`remove-domain ${id}`);
    this.domains = this.domains.filter((p) => p.id !== id);
  };
  sdcs = async () => [...this.sdcList];
  removeSdc = async (id: string) => {
    this.log.push(`remove-sdc ${id}`);
    this.sdcList = this.sdcList.filter((c) => c.id !== id);
  };
}

const AGENTS = [
  { agentId: "a1", ip: "10.0.0.1", hostname: "h1" },
  { agentId: "a2", ip: "10.0.0.2", hostname: "h2" },
  { agentId: "a3", ip: "10.0.0.3", hostname: "h3" },
];

function input(over: Partial<TeardownInput> = {}): TeardownInput {
  return {
    provisioned: true,
    destroyData: false,
    agents: AGENTS,
    mdms: [
      { role: "primary", name: "mdm1", agentId: "a1" },
      { role: "tiebreaker", name: "tb1", agentId: "a3" },
      { role: "secondary", name: "mdm2", agentId: "a2" },
    ],
    installed: {},
    modulesFile: "/usr/lib/dvdi-mod.json",
    ...over,
  };
}

async function runPlan(
  cluster: FakeCluster,
  inp: TeardownInput,
  nodeLog: string[],
  o: { store?: FileStateStore; failNodeOnce?: string } = {},
) {
  const dir = o.store ? undefined : mkdtempSync(join(tmpdir(), "teardown-test-"));
  const store = o.store ?? (await FileStateStore.open(join(dir!, "s")));
  const engine = new PlanEngine({ store, retry: { initialMs: 5, maxMs: 20 } });
  let failNode = o.failNodeOnce;
  const plan = buildTeardownPlan(inp, {
    cluster,
    node: async (agentId, kind, params) => {
      if (failNode && `${kind} ${agentId}` === failNode) {
        failNode = undefined;
        throw new Error("executor lost");
      }
      nodeLog.push(`${kind} ${agentId} ${JSON.stringify(params)}`);
      cluster.log.push(`node ${kind.replace("scaleio.", "")} ${agentId}`);
      return {};
    },
  });
  await engine.setPlan(plan);
  engine.start();
  const v = await engine.waitFor(
    "teardown",
    // Complete, or stopped for good (a step failed permanently: it waits for an operator).
    (p) =>
      p.status === "COMPLETE" ||
      p.phases.some((ph) => ph.steps.some((s) => s.status === "ERROR" && !s.retryAt)),
    10_000,
  );
  await engine.stop();
  if (!o.store) {
    await store.close();
    rmSync(dir!, { recursive: true, force: true });
  }
  return { view: v, plan };
}

test("provisioned: everything goes, in the order that works; the MDM primary last", async () => {
  const c = new FakeCluster();
  c.vols = [{ id: "v1", name: "pg", mapped: [{ sdcId: "c1", sdcIp: "10.0.0.1" }] }];
  const nodeLog: string[] = [];
  const { view } = await runPlan(c, input({ destroyData: true }), nodeLog);
  assert.equal(view.status, "COMPLETE");
  const firstOf = (prefix: string) => c.log.findIndex((l) => l.startsWith(prefix));
  const lastOf = (prefix: string) => c.log.findLastIndex((l) => l.startsWith(prefix));
  const order = [
    "unmap",
    "remove-volume",
    "node remove-consumer-config",
    "remove-sds",
    "remove-pool",
    "remove-faultset",
    "remove-domain",
    "remove-sdc",
  ];
  for (let i = 1; i < order.length; i++)
    assert.ok(
      lastOf(order[i - 1]!) < firstOf(order[i]!),
      `${order[i - 1]} before ${order[i]}: ${c.log.join(" | ")}`,
    );
  // The MDM members: tie-breaker, secondary, primary — after everything else.
  const mdmSteps = c.log.filter((l) => l.startsWith("node remove-packages a"));
  assert.deepEqual(mdmSteps.slice(-3), [
    "node remove-packages a3",
    "node remove-packages a2",
    "node remove-packages a1",
  ]);
  assert.ok(firstOf("node remove-packages") > lastOf("remove-domain"));
  assert.ok(lastOf("remove-sdc") < firstOf("node remove-packages a3"));
  assert.equal(c.sds.length + c.pools.length + c.domains.length + c.vols.length, 0);
  // Every package of an MDM node, the gateway first and the MDM last.
  assert.ok(
    nodeLog.some((l) => l.endsWith(`a1 {"components":["gateway","lia","sdc","sds","mdm"]}`)),
    nodeLog.join("\n"),
  );
  // REX-Ray's and the isolator's files on every agent.
  for (const a of AGENTS)
    assert.ok(
      nodeLog.includes(
        `scaleio.remove-consumer-config ${a.agentId} {"rexray":true,"modulesFile":"/usr/lib/dvdi-mod.json"}`,
      ),
    );
});

test("volumes refuse the uninstall (409 VOLUMES_EXIST) unless destroyData; unreadable is 503", async () => {
  const c = new FakeCluster();
  c.vols = [{ id: "v1", name: "pg", mapped: [] }];
  await assert.rejects(
    checkTeardown(c, { provisioned: true, agents: AGENTS, destroyData: false }, true),
    (e: unknown) =>
      e instanceof TeardownRefused &&
      e.code === "VOLUMES_EXIST" &&
      e.statusCode === 409 &&
      /1 volume\(s\) exist \(pg\)/.test(e.message),
  );
  await checkTeardown(c, { provisioned: true, agents: AGENTS, destroyData: true }, true);
  // Never deployed: nothing to lose.
  await checkTeardown(c, { provisioned: true, agents: AGENTS, destroyData: false }, false);
  c.volumes = async () => {
    throw new Error("gateway unreachable");
  };
  await assert.rejects(
    checkTeardown(c, { provisioned: true, agents: AGENTS, destroyData: false }, true),
    (e: unknown) =>
      e instanceof TeardownRefused && e.code === "CLUSTER_UNREADABLE" && e.statusCode === 503,
  );
});

test("a volume made after the request stops the plan at its first step, nothing removed; asked again with destroyData it goes on", async () => {
  const c = new FakeCluster();
  c.vols = [{ id: "v2", name: "late", mapped: [] }];
  const nodeLog: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "teardown-test-"));
  const store = await FileStateStore.open(join(dir, "s"));
  try {
    const engine = new PlanEngine({ store, retry: { initialMs: 5, maxMs: 20 } });
    await engine.setPlan(buildTeardownPlan(input(), { cluster: c, node: async () => ({}) }));
    engine.start();
    const v = await engine.waitFor("teardown", (p) => p.status === "ERROR", 5000);
    await engine.stop();
    const step = v.phases[0]!.steps[0]!;
    assert.equal(step.id, "data/volumes");
    assert.match(step.lastError ?? "", /1 volume\(s\) exist \(late\)/);
    assert.deepEqual(c.log, []);
    assert.deepEqual(nodeLog, []);
    // Asked again with destroyData: the step's input changed, so it runs again, and the rest.
    engine.start();
    await engine.setPlan(
      buildTeardownPlan(input({ destroyData: true }), { cluster: c, node: async () => ({}) }),
    );
    await engine.waitFor("teardown", (p) => p.status === "COMPLETE", 5000);
    await engine.stop();
    assert.deepEqual(c.vols, []);
    assert.ok(c.log.some((l: string) => l === "remove-volume v2"));
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("existing cluster: only what the framework installed and configured goes", async () => {
  const c = new FakeCluster();
  // The operator's volume mapped to the operator's SDC and to our a2's SDC.
  c.vols = [
    {
      id: "v1",
      name: "ops-vol",
      mapped: [
        { sdcId: "c9", sdcIp: "10.9.9.9" },
        { sdcId: "c2", sdcIp: "10.0.0.2" },
      ],
    },
  ];
  const inp = input({
    provisioned: false,
    mdms: [],
    // We installed the SDS and SDC on a1 and only the SDC on a2; a3's were the operator's.
    installed: { a1: ["sds", "sdc", "lia"], a2: ["sdc"] },
  });
  await assert.rejects(
    checkTeardown(c, { ...inp, destroyData: false }, true),
    (e: unknown) =>
      e instanceof TeardownRefused && /mapped to this framework's SDCs/.test(e.message),
  );
  const nodeLog: string[] = [];
  const { view } = await runPlan(c, { ...inp, destroyData: true }, nodeLog);
  assert.equal(view.status, "COMPLETE");
  // Unmapped from our SDC only, never removed; the operator's mapping stays.
  assert.deepEqual(c.vols, [
    { id: "v1", name: "ops-vol", mapped: [{ sdcId: "c9", sdcIp: "10.9.9.9" }] },
  ]);
  assert.ok(!c.log.some((l) => l.startsWith("remove-volume")));
  // Our SDS (a1) only; the operator's SDS, pool, fault set and domain stay.
  assert.deepEqual(
    c.sds.map((s) => s.id),
    ["s2", "s9"],
  );
  assert.equal(c.pools.length + c.faultSets.length + c.domains.length, 3);
  assert.deepEqual(
    c.sdcList.map((x) => x.id),
    ["c9"],
  );
  // Packages: what we installed, per agent; no MDM step at all; consumers everywhere.
  assert.ok(nodeLog.includes(`scaleio.remove-packages a1 {"components":["sdc","sds","lia"]}`));
  assert.ok(nodeLog.includes(`scaleio.remove-packages a2 {"components":["sdc"]}`));
  assert.ok(!nodeLog.some((l) => l.startsWith("scaleio.remove-packages a3")));
  assert.ok(!nodeLog.some((l) => /"mdm"/.test(l)));
  assert.equal(nodeLog.filter((l) => l.startsWith("scaleio.remove-consumer-config")).length, 3);
});

test("after a crash in the middle the plan runs again and does only what is left", async () => {
  const c = new FakeCluster();
  const dir = mkdtempSync(join(tmpdir(), "teardown-test-"));
  const store = await FileStateStore.open(join(dir, "s"));
  try {
    c.failSdsOnce = true;
    const first: string[] = [];
    // First run: a node step fails once and the SDS step once; the engine retries both.
    const { view } = await runPlan(c, input(), first, {
      store,
      failNodeOnce: "scaleio.remove-packages a3",
    });
    assert.equal(view.status, "COMPLETE");
    const done = c.log.length;
    // A restarted scheduler builds the plan again from the same records: all complete.
    const again: string[] = [];
    const second = await runPlan(c, input(), again, { store });
    assert.equal(second.view.status, "COMPLETE");
    assert.equal(c.log.length, done, "nothing ran twice");
    // And the steps themselves are idempotent: run from scratch, they find nothing to do.
    const fresh: string[] = [];
    const c2 = Object.assign(new FakeCluster(), {
      sds: [],
      pools: [],
      faultSets: [],
      domains: [],
      sdcList: [],
    });
    const third = await runPlan(c2, input(), fresh);
    assert.equal(third.view.status, "COMPLETE");
    assert.deepEqual(
      c2.log.filter((l) => !l.startsWith("node ")),
      [],
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the record of installs keeps only packages the framework put there itself", async () => {
  const dir = mkdtempSync(join(tmpdir(), "teardown-test-"));
  const store = await FileStateStore.open(join(dir, "s"));
  try {
    const r = new TeardownRecords(store, (e) => assert.fail(e));
    assert.equal(await r.load(), false);
    await r.noteInstall("a1", "scaleio.install-packages", [
      { component: "sds", changed: true },
      { component: "lia", changed: false },
    ]);
    await r.noteInstall("a1", "scaleio.install-package", {
      component: "sdc",
      changed: true,
      previousVersion: "2.0-6035.0",
    });
    await r.noteInstall("a2", "scaleio.install-package", { component: "sdc", changed: true });
    await r.noteInstall("a2", "scaleio.rexray-config", { changed: true });
    await r.begin(true);
    const again = new TeardownRecords(store, (e) => assert.fail(e));
    assert.equal(await again.load(), true);
    assert.equal(again.destroyData, true);
    assert.deepEqual(again.installed, { a1: ["sds"], a2: ["sdc"] });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("existing cluster: the pools and domains the framework created go, unless the operator uses them", async () => {
  const c = new FakeCluster();
  c.pools.push({ id: "p2", name: "fw-pool" }, { id: "p3", name: "fw-pool-in-use" });
  c.domains.push({ id: "d2", name: "fw-pd" });
  const removePool = c.removePool;
  c.removePool = async (id: string) => {
    if (id === "p3") throw new Error("The Storage Pool has volumes");
    await removePool(id);
  };
  const nodeLog: string[] = [];
  const { view } = await runPlan(
    c,
    input({
      provisioned: false,
      mdms: [],
      installed: {},
      created: { pools: ["p2", "p3"], faultSets: [], domains: ["d2"] },
    }),
    nodeLog,
  );
  assert.equal(view.status, "COMPLETE");
  assert.deepEqual(
    c.pools.map((p) => p.id),
    ["p1", "p3"],
    "the operator's pool stays, and the one they put volumes in",
  );
  assert.deepEqual(
    c.domains.map((d) => d.id),
    ["d1"],
  );
  // Left in place, without failing the uninstall.
  const step = view.phases.flatMap((p) => p.steps).find((s) => s.id === "storage/created")!;
  assert.equal(step.status, "COMPLETE");
});

test("the record of created objects keeps what appeared around the framework's own creation", async () => {
  const dir = mkdtempSync(join(tmpdir(), "teardown-test-"));
  const store = await FileStateStore.open(join(dir, "s"));
  try {
    const r = new TeardownRecords(store, (e) => assert.fail(e));
    await r.load();
    const ops = { pools: [{ id: "p1" }], faultSets: [], domains: [{ id: "d1" }] };
    await r.noteCreated(ops, { ...ops, pools: [{ id: "p1" }, { id: "p2" }] });
    await r.noteCreated(ops, ops);
    const again = new TeardownRecords(store, (e) => assert.fail(e));
    await again.load();
    assert.deepEqual(again.created, { pools: ["p2"], faultSets: [], domains: [] });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
