// Decommission end to end on the development cluster (3 MDM nodes without storage + 4 data
// nodes, the ScaleIO emulator, the scheduler observing every second), asked for with the CLI:
// - a data node out of 4 SDSs: its SDS is removed gracefully while its data migrates (the
//   step shows the data moving while the SDS is still listed), then the SDS is gone, the pool
//   shrinks by its devices and keeps all its data protected, the spare follows (three SDSs:
//   34 %), its packages are uninstalled, Mesos holds no reservation and no executor of ours
//   there, nothing else in the cluster changed, and the node shows as decommissioned and is
//   not on-boarded again;
// - on the three-SDS pool left, another data node is refused (409, the figures: fewer than
//   three fault units would remain), and so is an MDM member (409: replace it first);
// - recommission brings it back: the deploy plan on-boards it again, four SDSs, the pool
//   back to its size, REX-Ray's configuration written again;
// - `--remove-sdc` on another data node with a volume mapped to its SDC: the SDS goes, then the
//   SDC step fails naming the volume and the SDC, its package and REX-Ray's configuration stay;
//   unmapped and the step restarted, the SDC is removed (from the MDM and the node), then
//   REX-Ray's configuration, and the node is decommissioned.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SchedulerHandle } from "../../src/cli/scheduler.js";
import type { PlanView, StepView } from "../../src/framework/plan/types.js";
import type { NodeView } from "../../src/framework/operator-view.js";
import { BIN, emulatorObjects, startDeployEnv, type DeployEnv } from "../support/deploy-env.js";
import { waitUntil } from "../support/wait.js";

const TOKEN = "decommission-e2e-token";
const GB = 1048576;
const DATA_NODES = 4;
const AGENTS = DATA_NODES + 3;

let env: DeployEnv;
let h: SchedulerHandle;
/** Progress messages of the decommission plan's steps, by step id. */
const said = new Map<string, string[]>();

before(async () => {
  // The first four agents hold the storage; the last three the MDM cluster, with none.
  env = await startDeployEnv({
    agents: AGENTS,
    storageAgents: DATA_NODES,
    agentSpec: (i) => ({
      attributes: `rack:r${(i % 3) + 1};scaleio-persona:${
        i < DATA_NODES ? "data" : ["primary", "secondary", "tiebreaker"][i - DATA_NODES]
      }`,
    }),
  });
  const tokenFile = join(env.dir, "api-token");
  await writeFile(tokenFile, TOKEN, { mode: 0o600 });
  h = await env.startInProcess(["--observe-interval", "1", "--api-token-file", tokenFile]);
  await h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === AGENTS,
    240_000,
  );
  h.scheduler.engine.on("step", (plan: string, _phase: string, s: StepView) => {
    if (plan === "decommission" && s.message)
      said.set(s.id, [...(said.get(s.id) ?? []), s.message]);
  });
});

after(async () => {
  await env?.stop();
});

async function api(path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${h.apiUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as unknown };
}

async function control(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
  const r = await fetch(`${env.emulator.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args, "--api", h.apiUrl], {
      env: { ...process.env, SCALEIO_FRAMEWORK_API_TOKEN: TOKEN },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const sys = () => env.emulator.sys;
const pool = () => [...sys().pools.values()][0]!;
const capacity = () => sys().poolCapacity(pool().id);
const sdsAt = (ip: string) => [...sys().sdss.values()].find((s) => s.ipList[0]!.ip === ip);
const agentByHost = (i: number) => env.cluster.agents[i]!.host;
/** REX-Ray's configuration as the node step wrote it on the emulated host. */
const rexrayConfigOn = (host: string) =>
  existsSync(join(env.dir, "nodes", host, "etc/rexray/config.yml"));
const stepOf = (v: PlanView, id: string) =>
  v.phases.flatMap((ph) => ph.steps).find((s) => s.id === id);

/** What must not change: every other SDS, device, volume, SDC, MDM and node's packages. */
function others(leaving: string) {
  const o = emulatorObjects(sys());
  return {
    mdms: o.mdms,
    clusterState: o.clusterState,
    pools: o.pools,
    sds: o.sds.filter((s) => s.ip !== leaving),
    devices: [...sys().devices.values()]
      .filter((d) => sys().sdss.get(d.sdsId)?.ipList[0]!.ip !== leaving)
      .map((d) => `${sys().sdss.get(d.sdsId)!.name}:${d.path}`)
      .sort(),
    volumes: o.volumes,
    sdcs: o.sdcs,
    packages: Object.fromEntries([...o.packages].filter(([ip]) => ip !== leaving)),
  };
}

async function agentIdOf(ip: string): Promise<string> {
  const a = h.scheduler.agents.all().find((x) => x.ip === ip);
  assert.ok(a, `an agent at ${ip}`);
  return a.agentId;
}

test("a data node out of four SDSs: data migrates (seen), the SDS goes, the pool shrinks, nothing else changes, not on-boarded again; refusals on the three-SDS pool and for an MDM member; recommission brings it back", async () => {
  const ip = agentByHost(DATA_NODES - 1);
  const agentId = await agentIdOf(ip);
  const gw = env.gateway();
  const p = pool();
  assert.equal(sys().sdss.size, DATA_NODES, "four SDSs, none on the MDM nodes");
  assert.equal(p.sparePercentage, 25, "the spare policy for four equal SDSs");
  // Data to migrate: a thick volume allocates both copies at once, spread over the SDSs.
  const volumeId = await gw.createVolume({
    name: "decom-data",
    sizeInKb: 40 * GB,
    storagePoolId: p.id,
    thin: false,
  });
  const before = capacity();
  const leavingDevicesKb = [...sys().devices.values()]
    .filter((d) => d.sdsId === sdsAt(ip)!.id)
    .reduce((n, d) => n + d.sizeKb, 0);
  assert.ok(leavingDevicesKb > 0);
  const untouched = others(ip);
  assert.ok(rexrayConfigOn(ip), "REX-Ray configured on the node before");
  const mesosBefore = await env.mesosState();
  assert.ok((mesosBefore.reservedByAgent.get(agentId)?.cpus ?? 0) > 0, "reserved before");

  // Time runs 20 times faster in the emulator while the data moves (about 20 GB of it).
  await control("/admin/time", { scale: 20 });
  let listedWhileMoving = false;
  const watch = (_plan: string, _phase: string, s: StepView) => {
    if (s.id === `remove-sds/${agentId}` && /^moving data off/.test(s.message ?? ""))
      listedWhileMoving ||= sdsAt(ip)?.removing === true;
  };
  h.scheduler.engine.on("step", watch);
  try {
    const run = await cli(["node", "decommission", agentId]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /decommissioning .*SDS .*follow it with `plan show decommission`/);
    const node = (await api(`/v1/nodes/${agentId}`)).body as NodeView;
    assert.equal(node.decommission?.state, "decommissioning");
    await h.scheduler.engine.waitFor("decommission", (v) => v.status === "COMPLETE", 180_000);
  } finally {
    h.scheduler.engine.off("step", watch);
    await control("/admin/time", { scale: 1 });
  }

  // The data moved while the SDS was still listed, and the step said so.
  const moving = said.get(`remove-sds/${agentId}`) ?? [];
  const left = moving.flatMap((m) => {
    const x = /^moving data off SDS \S+: ([\d.]+) GB left \((\d+) %\); still listed/.exec(m);
    return x ? [Number(x[1])] : [];
  });
  assert.ok(left.length >= 2, `progress seen: ${moving.join(" | ")}`);
  assert.ok(left.at(-1)! < left[0]!, `the amount left went down: ${left.join(", ")}`);
  assert.ok(listedWhileMoving, "the SDS was listed (being removed) while its data moved");
  assert.match(moving.at(-1)!, /removed; its data moved/);

  // The SDS is gone, the pool is smaller by its devices and holds all its data, protected.
  assert.equal(sdsAt(ip), undefined);
  assert.equal(sys().sdss.size, DATA_NODES - 1);
  const after = capacity();
  assert.equal(after.maxCapacityInKb, before.maxCapacityInKb - leavingDevicesKb);
  assert.equal(after.capacityInUseInKb, before.capacityInUseInKb);
  assert.equal(after.protectedCapacityInKb, after.capacityInUseInKb);
  assert.ok(
    sys()
      .listVolumes()
      .some((v) => v.id === volumeId),
  );
  // Its components are gone (the SDC stays: it was not asked to go); nothing else changed.
  assert.deepEqual([...(sys().nodes.get(ip)?.packages.keys() ?? [])].sort(), ["sdc"]);
  // What the framework wrote for volume consumers went with it (nothing was mapped there).
  assert.ok(!rexrayConfigOn(ip), "REX-Ray's configuration removed from the node");
  assert.match(
    h.scheduler.engine.progressOf("decommission", `consumers/${agentId}`)?.message ?? "",
    /^REX-Ray's (and the isolator's )?configuration removed from /,
  );
  await waitUntil(() => pool().sparePercentage === 34, {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: "the spare policy for three SDSs (34 %)",
  });
  assert.deepEqual(others(ip), untouched, "nothing else changed");
  // Mesos: no reservation and no executor of ours left on the agent.
  const mesos = await env.mesosState();
  assert.equal(mesos.reservedByAgent.get(agentId), undefined, "no reservation left");
  assert.deepEqual(mesos.executorsByAgent.get(agentId) ?? [], [], "no executor left");
  assert.equal(mesos.activeTasks.filter((t) => t.agentId === agentId).length, 0);

  // Shown as decommissioned, and not on-boarded again.
  const node = (await api(`/v1/nodes/${agentId}`)).body as NodeView;
  assert.equal(node.decommission?.state, "decommissioned");
  assert.ok(!node.roles.includes("sds"), `roles: ${node.roles.join(",")}`);
  await h.platform.recompute();
  const deploySteps = () =>
    h.scheduler.engine.view("deploy").phases.flatMap((ph) => ph.steps.map((s) => s.id));
  assert.ok(
    !deploySteps().some((id) => id.endsWith(`/${agentId}`)),
    "the deploy plan leaves it out",
  );
  assert.equal(h.scheduler.engine.view("deploy").status, "COMPLETE");

  // The pool has three SDSs left: another data node may not go (with the figures).
  const other = await agentIdOf(agentByHost(0));
  const three = await api(`/v1/nodes/${other}/decommission`, {});
  assert.equal(three.status, 409);
  const refusal = three.body as {
    error: string;
    code: string;
    pools: { pool: string; faultUnitsAfter: number; nodeUsedBytes: number }[];
  };
  assert.equal(refusal.code, "INSUFFICIENT_CAPACITY");
  assert.match(refusal.error, /2 fault units would remain; at least 3 are needed/);
  assert.equal(refusal.pools[0]!.faultUnitsAfter, 2);
  assert.ok(refusal.pools[0]!.nodeUsedBytes > 0);
  // An MDM member: replace it first (the CLI says so too, and exits non-zero).
  const mdm = await agentIdOf(agentByHost(DATA_NODES));
  const refusedMdm = await api(`/v1/nodes/${mdm}/decommission`, {});
  assert.equal(refusedMdm.status, 409);
  assert.equal((refusedMdm.body as { code: string }).code, "MDM_MEMBER");
  assert.match((refusedMdm.body as { error: string }).error, /replace it first/);
  const viaCli = await cli(["node", "decommission", mdm]);
  assert.notEqual(viaCli.code, 0);
  assert.match(viaCli.stderr, /MDM member.*replace it first/);
  assert.equal(sys().sdss.size, DATA_NODES - 1, "refusals changed nothing");

  // Recommissioned: on-boarded again by the deploy plan.
  const back = await cli(["node", "recommission", agentId]);
  assert.equal(back.code, 0, back.stderr);
  await waitUntil(() => deploySteps().includes(`join-sds/${agentId}`), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: "the node's steps back in the deploy plan",
  });
  await h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === AGENTS,
    180_000,
  );
  assert.ok(sdsAt(ip), "its SDS is back");
  assert.ok(rexrayConfigOn(ip), "REX-Ray configured again");
  assert.equal(capacity().maxCapacityInKb, before.maxCapacityInKb, "the pool is whole again");
  await waitUntil(() => pool().sparePercentage === 25, {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: "the spare policy for four SDSs again",
  });
  const again = (await api(`/v1/nodes/${agentId}`)).body as NodeView;
  assert.equal(again.decommission, undefined);
  assert.ok(again.roles.includes("sds"));
  assert.ok(((await env.mesosState()).reservedByAgent.get(agentId)?.cpus ?? 0) > 0);
});

test("--remove-sdc: refused while a volume is mapped to the SDC (named; SDC, package and REX-Ray's configuration stay); unmapped and the step restarted, the SDC goes, then REX-Ray's configuration", async () => {
  const ip = agentByHost(0);
  const agentId = await agentIdOf(ip);
  const gw = env.gateway();
  assert.equal(sys().sdss.size, DATA_NODES, "four SDSs again");
  const sdc = (await gw.allSdcs()).find((c) => c.sdcIp === ip);
  assert.ok(sdc, "the node has an SDC");
  const volumeId = await gw.createVolume({
    name: "app-on-leaving",
    sizeInKb: 8 * GB,
    storagePoolId: pool().id,
    thin: true,
  });
  await gw.mapVolume(volumeId, sdc.id);
  const sdcStep = `remove-sdc/${agentId}`;

  await control("/admin/time", { scale: 20 });
  let refused: PlanView;
  try {
    const run = await cli(["node", "decommission", agentId, "--remove-sdc"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /decommissioning .*SDC removed too/);
    refused = await h.scheduler.engine.waitFor(
      "decommission",
      // Refused for good (a passing trouble would be retried on its own).
      (v) => stepOf(v, sdcStep)?.status === "ERROR" && stepOf(v, sdcStep)?.retryAt === undefined,
      180_000,
    );
  } finally {
    await control("/admin/time", { scale: 1 });
  }
  assert.equal(sdsAt(ip), undefined, "the SDS went first");
  assert.match(
    stepOf(refused, sdcStep)?.lastError ?? "",
    /the SDC of \S+ has 1 volume mapped \(app-on-leaving\): unmap it first, then restart this step/,
  );
  // Kept, all of it: the SDC in the MDM, its package, the mapping, REX-Ray's configuration.
  assert.ok(emulatorObjects(sys()).sdcs.includes(ip), "the SDC is still listed");
  assert.ok(sys().nodes.get(ip)?.packages.has("sdc"), "the SDC package is still installed");
  assert.ok(
    sys()
      .listVolumes()
      .find((v) => v.id === volumeId)
      ?.mappings.some((m) => m.sdcId === sdc.id),
    "still mapped",
  );
  assert.ok(rexrayConfigOn(ip), "REX-Ray's configuration stays while a volume is mapped");
  assert.equal(stepOf(refused, `consumers/${agentId}`)?.status, "PENDING");
  const shown = (await api(`/v1/nodes/${agentId}`)).body as NodeView;
  assert.equal(shown.decommission?.state, "decommissioning");

  // The operator unmaps it and restarts the step: the SDC goes, then the rest.
  await gw.unmapVolume(volumeId, sdc.id);
  const restarted = await cli(["plan", "restart", "decommission", sdcStep]);
  assert.equal(restarted.code, 0, restarted.stderr);
  const done = await h.scheduler.engine.waitFor(
    "decommission",
    (v) => v.status === "COMPLETE",
    120_000,
  );
  assert.equal(stepOf(done, sdcStep)?.message, `SDC of ${shownHost(shown)} removed`);
  assert.ok(!emulatorObjects(sys()).sdcs.includes(ip), "the MDM no longer lists the SDC");
  assert.deepEqual([...(sys().nodes.get(ip)?.packages.keys() ?? [])], [], "no package left");
  assert.ok(!rexrayConfigOn(ip), "REX-Ray's configuration removed");
  assert.ok(
    sys()
      .listVolumes()
      .some((v) => v.id === volumeId),
    "the volume itself stays",
  );
  const mesos = await env.mesosState();
  assert.equal(mesos.reservedByAgent.get(agentId), undefined, "no reservation left");
  const out = (await api(`/v1/nodes/${agentId}`)).body as NodeView;
  assert.equal(out.decommission?.state, "decommissioned");
});

const shownHost = (n: NodeView) => n.hostname;
