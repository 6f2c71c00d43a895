// Decommission of a data node, ScaleIO side: the refusal arithmetic (the rest of the pool must
// take the SDS's data with the spare it keeps, and three fault units must remain), the steps
// (graceful removal followed until the SDS is gone with the moving data shown, the MDM's own
// refusal left to an operator, the SDC only with nothing mapped), and the requests: refused
// with the figures, or recorded, planned and carried out to "decommissioned"; recommission
// lets the node back. Plan engine, agent registry and store real; the gateway faked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { FileStateStore } from "../../../../../src/store/file-store.js";
import { PlanEngine } from "../../../../../src/framework/plan/engine.js";
import { AgentRegistry } from "../../../../../src/framework/agents.js";
import { PermanentStepError, type StepContext } from "../../../../../src/framework/plan/types.js";
import { NodeRequestRefused } from "../../../../../src/framework/node-lifecycle.js";
import {
  GatewayError,
  type GatewayClient,
} from "../../../../../src/platforms/scaleio/gateway/client.js";
import {
  decommissionPhase,
  poolRoom,
  removeSdc,
  removeSdsGracefully,
  type DecommissionPorts,
  type DecommissionTarget,
} from "../../../../../src/platforms/scaleio/lifecycle/decommission.js";
import { Decommissions } from "../../../../../src/platforms/scaleio/lifecycle/decommissions.js";
import { addedByFramework } from "../../../../../src/platforms/scaleio/lifecycle/teardown.js";
import type { Component } from "../../../../../src/platforms/scaleio/node/common.js";
import type { Offer } from "../../../../../src/mesos/types/index.js";

const GB = 1048576;

test("refusal arithmetic: the rest of the pool takes the SDS's data with its spare kept; three fault units remain", () => {
  // Four SDSs of 200 GB; without one: 600 GB, 34 % spare (204 GB).
  const base = {
    pool: "pd/sp",
    poolId: "p1",
    maxKb: 800 * GB,
    limitKb: 800 * GB,
    sdsMaxKb: 200 * GB,
    sdsLimitKb: 200 * GB,
    sparePercentAfter: 34,
    faultUnitsAfter: 3,
  };
  const fits = poolRoom({ ...base, inUseKb: 160 * GB, sdsInUseKb: 40 * GB });
  assert.deepEqual(fits.problems, []);
  assert.equal(fits.spareAfterKb, Math.floor(600 * GB * 0.34));
  assert.equal(fits.freeAfterKb, 600 * GB - fits.spareAfterKb - 120 * GB);
  assert.equal(fits.sdsUsedKb, 40 * GB);

  // 400 GB in use, 100 on the SDS: 600 - 204 - 300 = 96 GB free for its 100 GB.
  const full = poolRoom({ ...base, inUseKb: 400 * GB, sdsInUseKb: 100 * GB });
  assert.equal(full.problems.length, 1);
  assert.match(
    full.problems[0]!,
    /^pool pd\/sp: the SDS holds 100\.0 GB; without it the pool would have 96\.0 GB free after keeping 34 % spare \(204\.0 GB\)$/,
  );
  // Exactly enough room is enough.
  const exact = poolRoom({
    ...base,
    inUseKb: 120 * GB + fits.freeAfterKb,
    sdsInUseKb: fits.freeAfterKb,
  });
  assert.deepEqual(exact.problems, []);
  assert.deepEqual(
    poolRoom({
      ...base,
      inUseKb: 120 * GB + fits.freeAfterKb + 1,
      sdsInUseKb: fits.freeAfterKb + 1,
    }).problems.length,
    1,
    "one KB more is too much",
  );

  const three = poolRoom({ ...base, faultUnitsAfter: 2, inUseKb: 0, sdsInUseKb: 0 });
  assert.deepEqual(three.problems, [
    "pool pd/sp: 2 fault units would remain; at least 3 are needed",
  ]);
});

/** A gateway with one pool of SDSs at 10.0.0.1..n, one 100 GB device each. */
class FakeGateway {
  sds: { id: string; name: string; ip: string; state: string; faultSetId?: string }[] = [];
  mdm = {
    master: { id: "m1", ips: ["10.0.0.1"] },
    slaves: [{ id: "m2", ips: ["10.0.0.2"] }],
    tieBreakers: [{ id: "m3", ips: ["10.0.0.3"] }],
  };
  inUseKb = 0;
  movingKb = 0;
  removeCalls: string[] = [];
  restCalls: string[] = [];
  refuseRemoval: GatewayError | undefined;
  sdcs: { id: string; sdcIp: string }[] = [];
  volumesList: { id: string; name: string; mappedSdcInfo: { sdcId: string; sdcIp: string }[] }[] =
    [];
  /** Called at each look while an SDS is being removed. */
  onLook: (() => void) | undefined;

  constructor(n: number) {
    for (let i = 1; i <= n; i++)
      this.sds.push({ id: `sds${i}`, name: `sds-${i}`, ip: `10.0.0.${i}`, state: "Normal" });
  }
  systems = async () => [{ id: "sys", name: "scaleio" }];
  mdmCluster = async () => this.mdm;
  allSds = async () => {
    this.onLook?.();
    return this.sds.map((s) => ({
      id: s.id,
      name: s.name,
      protectionDomainId: "pd",
      faultSetId: s.faultSetId ?? null,
      ipList: [{ ip: s.ip, role: "all" }],
      sdsState: s.state,
    }));
  };
  allStoragePools = async () => [
    { id: "p1", name: "sp", protectionDomainId: "pd", sparePercentage: 25 },
  ];
  allProtectionDomains = async () => [{ id: "pd", name: "pd" }];
  allDevices = async () =>
    this.sds.map((s) => ({ id: `d-${s.id}`, name: "/dev/sdb", sdsId: s.id, storagePoolId: "p1" }));
  devicesOfSds = async (id: string) => (await this.allDevices()).filter((d) => d.sdsId === id);
  selectedStatistics = async (type: string, ids: string[]) => {
    const n = this.sds.length;
    const out: Record<string, Record<string, number>> = {};
    for (const id of ids)
      out[id] =
        type === "StoragePool"
          ? {
              maxCapacityInKb: n * 100 * GB,
              capacityLimitInKb: n * 100 * GB,
              capacityInUseInKb: this.inUseKb,
              movingCapacityInKb: this.movingKb,
            }
          : {
              maxCapacityInKb: 100 * GB,
              capacityLimitInKb: 100 * GB,
              capacityInUseInKb: Math.round(this.inUseKb / n),
            };
    return out;
  };
  removeSds = async (id: string) => {
    if (this.refuseRemoval) throw this.refuseRemoval;
    this.removeCalls.push(id);
    this.sds.find((s) => s.id === id)!.state = "RemovalInProgress";
  };
  allSdcs = async () => this.sdcs;
  volumes = async () => this.volumesList;
  call = async (method: string, path: string) => {
    this.restCalls.push(`${method} ${path}`);
    return {};
  };
  asClient(): GatewayClient {
    return this as unknown as GatewayClient;
  }
}

function stepCtx(progress: string[] = []): StepContext {
  return {
    planId: "decommission",
    stepId: "s",
    signal: new AbortController().signal,
    attempt: 1,
    progress: (m) => progress.push(m),
  };
}

const target: DecommissionTarget = {
  agentId: "S4",
  hostname: "node-4",
  ip: "10.0.0.4",
  removeSdc: false,
};

function ports(gw: FakeGateway, extra: Partial<DecommissionPorts> = {}): DecommissionPorts {
  return {
    gateway: () => gw.asClient(),
    system: { name: "scaleio" },
    node: async () => ({}),
    release: async () => {},
    finished: async () => {},
    // Provision mode: everything on the node is the framework's.
    added: (_agentId, among) => among,
    pollMs: 1,
    ...extra,
  };
}

test("the SDS is removed gracefully: the step shows the data moving while it is listed, and ends once it is gone", async () => {
  const gw = new FakeGateway(4);
  gw.movingKb = 20 * GB;
  let looks = 0;
  gw.onLook = () => {
    const s = gw.sds.find((x) => x.id === "sds4");
    if (s?.state !== "RemovalInProgress") return;
    looks++;
    gw.movingKb = Math.max(0, gw.movingKb - 8 * GB);
    if (looks === 4) gw.sds = gw.sds.filter((x) => x.id !== "sds4");
  };
  const said: string[] = [];
  let gated = 0;
  await removeSdsGracefully(target, ports(gw, { gate: async () => void gated++ }), stepCtx(said));
  assert.deepEqual(gw.removeCalls, ["sds4"]);
  assert.equal(gated, 1, "behind the health gate");
  assert.ok(
    said.some((m) =>
      /^moving data off SDS sds-4: \d+\.\d GB left \(\d+ %\); still listed \(RemovalInProgress\)$/.test(
        m,
      ),
    ),
    said.join("\n"),
  );
  assert.match(said.at(-1)!, /SDS sds-4 removed/);

  // Run again (after a crash): it is gone, nothing more to do.
  const again: string[] = [];
  await removeSdsGracefully(target, ports(gw), stepCtx(again));
  assert.deepEqual(gw.removeCalls, ["sds4"]);
  assert.match(again[0]!, /no SDS at 10\.0\.0\.4/);
});

test("a removal already under way is followed, not asked again; the MDM's refusal waits for an operator", async () => {
  const gw = new FakeGateway(4);
  gw.sds[3]!.state = "RemovalInProgress";
  gw.onLook = () => {
    if (gw.restCalls.length === 0) gw.restCalls.push("look");
    else gw.sds = gw.sds.filter((x) => x.id !== "sds4");
  };
  await removeSdsGracefully(target, ports(gw), stepCtx());
  assert.deepEqual(gw.removeCalls, [], "not removed a second time");

  const refusing = new FakeGateway(4);
  refusing.refuseRemoval = new GatewayError(
    500,
    "Not enough free capacity in the Storage Pool to migrate the data",
    35,
  );
  await assert.rejects(
    removeSdsGracefully(target, ports(refusing), stepCtx()),
    (e: unknown) =>
      e instanceof PermanentStepError &&
      /the MDM refused to remove SDS sds-4: Not enough free capacity/.test(e.message),
  );
  refusing.refuseRemoval = new GatewayError(503, "no quorum");
  await assert.rejects(
    removeSdsGracefully(target, ports(refusing), stepCtx()),
    (e: unknown) => !(e instanceof PermanentStepError),
    "a passing trouble is retried",
  );
});

test("the SDC goes only when nothing is mapped to it; otherwise the step fails and names the volumes", async () => {
  const gw = new FakeGateway(4);
  gw.sdcs = [{ id: "c4", sdcIp: "10.0.0.4" }];
  gw.volumesList = [
    { id: "v1", name: "pgdata", mappedSdcInfo: [{ sdcId: "c4", sdcIp: "10.0.0.4" }] },
    { id: "v2", name: "other", mappedSdcInfo: [{ sdcId: "c1", sdcIp: "10.0.0.1" }] },
  ];
  const nodeCalls: unknown[] = [];
  const p = ports(gw, { node: async (_a, kind, params) => void nodeCalls.push({ kind, params }) });
  const t = { ...target, removeSdc: true };
  await assert.rejects(
    removeSdc(t, p, stepCtx()),
    (e: unknown) =>
      e instanceof PermanentStepError &&
      /the SDC of node-4 has 1 volume mapped \(pgdata\): unmap it first/.test(e.message),
  );
  assert.deepEqual(nodeCalls, [], "nothing removed");
  gw.volumesList[0]!.mappedSdcInfo = [];
  assert.equal(await removeSdc(t, p, stepCtx()), "SDC of node-4 removed");
  assert.deepEqual(nodeCalls, [
    { kind: "scaleio.remove-packages", params: { components: ["sdc"] } },
  ]);
  assert.deepEqual(gw.restCalls, ["POST /api/instances/Sdc::c4/action/removeSdc"]);
});

test("the phase: SDS, SDC only when asked, uninstall, release, mark; every step on the agent's asset", () => {
  const gw = new FakeGateway(4);
  const ids = (removeSdc: boolean) =>
    decommissionPhase({ ...target, removeSdc }, ports(gw)).steps.map((s) => s.id);
  assert.deepEqual(ids(false), [
    "remove-sds/S4",
    "consumers/S4",
    "uninstall/S4",
    "release/S4",
    "mark/S4",
  ]);
  assert.deepEqual(ids(true), [
    "remove-sds/S4",
    "remove-sdc/S4",
    "consumers/S4",
    "uninstall/S4",
    "release/S4",
    "mark/S4",
  ]);
  const phase = decommissionPhase(target, ports(gw));
  assert.equal(phase.strategy, "serial");
  assert.ok(phase.steps.every((s) => s.asset === "S4"));
});

const offer = (n: number): Offer => ({
  id: { value: `o-${Math.random()}` },
  framework_id: { value: "f" },
  agent_id: { value: `S${n}` },
  hostname: `node-${n}`,
  url: { scheme: "http", address: { hostname: `node-${n}`, ip: `10.0.0.${n}`, port: 5051 } },
  resources: [{ name: "cpus", type: "SCALAR", scalar: { value: 4 } }],
  attributes: [],
});

async function service(
  gw: FakeGateway,
  mdmAgents: string[] = ["S1", "S2", "S3"],
  added: (agentId: string, among: Component[]) => Component[] = (_a, among) => among,
) {
  const store = await FileStateStore.open(mkdtempSync(join(tmpdir(), "decom-")));
  const engine = new PlanEngine({ store, retry: { initialMs: 2, maxMs: 10 } });
  const agents = new AgentRegistry(store);
  for (let i = 1; i <= gw.sds.length + 1; i++) await agents.observe(offer(i));
  const node: string[] = [];
  const released: string[] = [];
  let recomputes = 0;
  const make = () =>
    new Decommissions({
      ctx: {
        engine,
        agents,
        store,
        logger: pino({ level: "silent" }),
        runNode: async (agentId, kind, params) => {
          node.push(`${agentId} ${kind} ${JSON.stringify(params)}`);
          return {};
        },
        releaseAgent: async (agentId) => void released.push(agentId),
      },
      opts: { client: () => gw.asClient(), system: { name: "scaleio" }, pollMs: 1 },
      mdmAgents: () => mdmAgents,
      spareWithout: () => new Map([["pd/sp", 34]]),
      recompute: async () => void recomputes++,
      added,
    });
  const d = make();
  await d.load();
  engine.start();
  return { d, make, engine, agents, store, node, released, recomputes: () => recomputes };
}

const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof NodeRequestRefused) return e;
    throw e;
  }
  assert.fail("not refused");
};

test("requests: an MDM member, a full pool and too few fault units are refused with the figures; a data node is decommissioned and can come back", async () => {
  const gw = new FakeGateway(4);
  const s = await service(gw);
  try {
    const mdm = await refusal(s.d.decommission("S2", { removeClient: false }));
    assert.equal(mdm.statusCode, 409);
    assert.equal(mdm.code, "MDM_MEMBER");
    assert.match(mdm.message, /replace it first/);
    // An MDM at that address the framework did not place (existing cluster): refused too.
    const other = await service(new FakeGateway(4), []);
    const byAddress = await refusal(other.d.decommission("S1", { removeClient: false }));
    assert.equal(byAddress.code, "MDM_MEMBER");
    assert.match(byAddress.message, /\(master\)/);
    await other.engine.stop();

    // 280 GB in use, 70 on it: the other three (300 GB, 102 GB of it spare) hold 210 GB
    // already, with no room left for its 70.
    gw.inUseKb = 280 * GB;
    const full = await refusal(s.d.decommission("S4", { removeClient: false }));
    assert.equal(full.code, "INSUFFICIENT_CAPACITY");
    const pools = (full.details as { pools: Record<string, number | string>[] }).pools;
    assert.equal(pools.length, 1);
    assert.equal(pools[0]!.pool, "pd/sp");
    assert.equal(pools[0]!.nodeUsedBytes, 70 * GB * 1024);
    assert.equal(pools[0]!.sparePercentAfter, 34);
    assert.equal(pools[0]!.faultUnitsAfter, 3);
    assert.equal(pools[0]!.freeAfterBytes, 0);
    assert.equal(pools[0]!.spareAfterBytes, Math.floor(300 * GB * 0.34) * 1024);
    assert.match(
      full.message,
      /the SDS holds 70\.0 GB; without it the pool would have 0\.0 GB free/,
    );
    assert.equal(s.d.excludes("S4"), false, "nothing recorded");

    gw.inUseKb = 40 * GB;
    const started = await s.d.decommission("S4", { removeClient: false });
    assert.equal(started.planId, "decommission");
    assert.equal(s.d.stateOf("S4")?.state, "decommissioning");
    assert.ok(s.d.excludes("S4"), "left out of the deploy plan at once");
    assert.ok(s.recomputes() >= 1, "the deploy plan is recomputed");
    const again = await refusal(s.d.decommission("S4", { removeClient: false }));
    assert.equal(again.code, "DECOMMISSION_RUNNING");

    gw.onLook = () => {
      if (gw.sds.find((x) => x.id === "sds4")?.state === "RemovalInProgress")
        gw.sds = gw.sds.filter((x) => x.id !== "sds4");
    };
    await s.engine.waitFor("decommission", (v) => v.status === "COMPLETE", 10_000);
    assert.equal(s.d.stateOf("S4")?.state, "decommissioned");
    assert.deepEqual(s.node, [
      'S4 scaleio.remove-consumer-config {"rexray":true}',
      'S4 scaleio.remove-packages {"components":["sds","lia"]}',
    ]);
    assert.deepEqual(s.released, ["S4"]);
    // Persisted: a restarted scheduler still leaves it out.
    const restarted = s.make();
    await restarted.load();
    assert.equal(restarted.stateOf("S4")?.state, "decommissioned");

    // Three SDSs left: a fourth agent with no SDS is fine, but none of the three may go.
    const three = await refusal(s.d.decommission("S3", { removeClient: false }));
    assert.equal(three.code, "MDM_MEMBER");

    await s.d.recommission("S4");
    assert.equal(s.d.excludes("S4"), false);
    assert.ok(!s.engine.planIds().includes("decommission"), "its phase gone with it");
    const notOut = await refusal(s.d.recommission("S4"));
    assert.equal(notOut.code, "NOT_DECOMMISSIONED");
    const unknown = await refusal(s.d.decommission("S99", { removeClient: false }));
    assert.equal(unknown.statusCode, 404);
  } finally {
    await s.engine.stop();
  }
});

test("too few fault units: a data node of a three-SDS pool is refused", async () => {
  const gw = new FakeGateway(3);
  // Three SDSs, none of them an MDM member here: the arithmetic alone refuses.
  gw.mdm = { master: { id: "m1", ips: ["10.0.0.9"] }, slaves: [], tieBreakers: [] };
  const s = await service(gw, []);
  try {
    const r = await refusal(s.d.decommission("S3", { removeClient: false }));
    assert.equal(r.code, "INSUFFICIENT_CAPACITY");
    assert.match(r.message, /2 fault units would remain; at least 3 are needed/);
  } finally {
    await s.engine.stop();
  }
});

test("existing cluster: only what the framework added goes (the uninstall's rule); the operator's SDS stays and its pools are not checked", async () => {
  const gw = new FakeGateway(5);
  // A full pool: removing an SDS would be refused, keeping one needs no room.
  gw.inUseKb = 400 * GB;
  // S4: the operator's SDS package, the framework's LIA and SDC. S5: all the framework's.
  const installed = { S4: ["lia", "sdc"] as Component[], S5: ["sds", "lia"] as Component[] };
  const s = await service(gw, [], (agentId, among) =>
    addedByFramework({ provisioned: false, installed }, agentId, among),
  );
  try {
    const started = await s.d.decommission("S4", { removeClient: false });
    assert.match(started.message, /SDS sds-4 kept: the framework did not install it/);
    await s.engine.waitFor("decommission", (v) => v.status === "COMPLETE", 10_000);
    assert.deepEqual(gw.removeCalls, [], "the operator's SDS is not removed");
    assert.ok(gw.sds.some((x) => x.id === "sds4"));
    assert.deepEqual(s.node, [
      'S4 scaleio.remove-consumer-config {"rexray":true}',
      'S4 scaleio.remove-packages {"components":["lia"]}',
    ]);
    const steps = s.engine.view("decommission").phases[0]!.steps;
    const msg = (id: string) => steps.find((x) => x.id === `${id}/S4`)?.message ?? "";
    assert.match(
      msg("remove-sds"),
      /SDS sds-4 of node-4 kept: the framework did not install it \(existing cluster/,
    );
    assert.match(msg("uninstall"), /^uninstalled lia; kept sds: the framework did not install it/);
    assert.equal(s.d.stateOf("S4")?.state, "decommissioned");
    assert.deepEqual(s.released, ["S4"]);
  } finally {
    await s.engine.stop();
  }

  // Asked to remove an SDC the operator installed: it stays, and the step says why.
  const said = removeSdc(
    { ...target, removeSdc: true },
    ports(new FakeGateway(4), {
      added: (agentId, among) =>
        addedByFramework({ provisioned: false, installed: {} }, agentId, among),
    }),
    stepCtx(),
  );
  assert.match(await said, /^the SDC of node-4 kept: the framework did not install it/);
});

test("REX-Ray's and the isolator's configuration leave the node once nothing is mapped to it; kept, with the volumes named, while something is", async () => {
  const gw = new FakeGateway(4);
  gw.sdcs = [{ id: "c4", sdcIp: "10.0.0.4" }];
  gw.volumesList = [
    { id: "v1", name: "pgdata", mappedSdcInfo: [{ sdcId: "c4", sdcIp: "10.0.0.4" }] },
  ];
  const nodeCalls: string[] = [];
  const p = ports(gw, {
    modulesFile: "/usr/lib/dvdi-mod.json",
    node: async (_a, kind, params) => {
      nodeCalls.push(`${kind} ${JSON.stringify(params)}`);
      return { removed: ["/etc/rexray/config.yml"], changed: [], agentRestartRequired: true };
    },
  });
  const phase = decommissionPhase(target, p);
  const step = phase.steps.find((x) => x.id === "consumers/S4")!;
  assert.equal(step.name, "remove REX-Ray's and the isolator's configuration on node-4");
  assert.match(
    String(await step.run(stepCtx())),
    /^REX-Ray's and the isolator's configuration kept on node-4: its SDC has 1 volume mapped \(pgdata\), which need REX-Ray to be unmapped; unmap them, then restart this step/,
  );
  assert.deepEqual(nodeCalls, [], "nothing removed under a mapped volume");

  gw.volumesList[0]!.mappedSdcInfo = [];
  assert.equal(
    await step.run(stepCtx()),
    "REX-Ray's and the isolator's configuration removed from node-4 (the agent unloads the isolator at its next restart; it was not restarted)",
  );
  assert.deepEqual(nodeCalls, [
    'scaleio.remove-consumer-config {"rexray":true,"modulesFile":"/usr/lib/dvdi-mod.json"}',
  ]);
});
