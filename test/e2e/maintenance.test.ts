// Maintenance end to end on the development cluster (three agents, each an MDM member and an
// SDS of one protection domain; the ScaleIO emulator; the scheduler observing every second):
// (a) a Mesos maintenance window on the MDM master's SDS agent (the schedule posted to the
//     development master): inverse offer declined while mastership moves and the SDS enters
//     maintenance, then accepted → machine down (the node's SDS and MDM stop with it; writes
//     go on and no rebuild starts) → machine up → maintenance exited → resync → healthy; a
//     window on a second SDS agent of the domain meanwhile is declined with the reason;
//     a node step asked for on the agent during its window (a device rescan) waits, saying
//     why, and runs once the machine is back;
// (b) the operator route: into maintenance (202), a second SDS of the domain refused (409
//     with the reason), out again with the resync;
// and, throughout, never two SDSs of the domain in maintenance at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SchedulerHandle } from "../../src/cli/scheduler.js";
import type { OperatorEvent } from "../../src/framework/events.js";
import type { ClusterObserver } from "../../src/platforms/scaleio/observe/observer.js";
import { startDeployEnv, type DeployEnv } from "../support/deploy-env.js";
import { waitUntil } from "../support/wait.js";

const TOKEN = "maintenance-e2e-token-0123456789";
let env: DeployEnv;
let h: SchedulerHandle;
const messages: string[] = [];
/** Most SDSs of the domain in maintenance at any one time (sampled at every change). */
let mostAtOnce = 0;
let volumeId = "";

const observer = () => h.platform.health as ClusterObserver;
const sys = () => env.emulator.sys;
const sdsAt = (ip: string) => sys().sdsByIp(ip)!;
const inMaintenance = () => [...sys().sdss.values()].filter((s) => s.maintenance).length;

async function control(path: string, body: unknown = {}): Promise<unknown> {
  const r = await fetch(`${env.emulator.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  assert.equal(r.status, 200, `${path}: ${text}`);
  return JSON.parse(text) as unknown;
}

async function master(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${env.cluster.masterUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${path}: ${await r.text()}`);
}

function nodeMaintenance(agentId: string, enter: boolean): Promise<Response> {
  return fetch(`${h.apiUrl}/v1/nodes/${agentId}/maintenance`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ enter }),
  });
}

const said = (re: RegExp) => messages.some((m) => re.test(m));
async function event(re: RegExp, timeoutMs: number): Promise<void> {
  await waitUntil(() => said(re), { timeoutMs, intervalMs: 50, what: `an event ${re}` });
}

function stepStatus(stepId: string): string | undefined {
  return h.scheduler.engine.progressOf("maintenance", stepId)?.status;
}

async function healthy(timeoutMs: number, what: string): Promise<void> {
  await waitUntil(() => h.view.health.report().status === "healthy", {
    timeoutMs,
    intervalMs: 100,
    what: `${what} (conditions: ${JSON.stringify(
      h.view.health.conditions().map((c) => `${c.type} ${c.object}`),
    )})`,
  });
}

/** A day-long window from now for these machines. */
function window(machines: { hostname: string; ip: string }[]) {
  const start = BigInt(Date.now()) * 1_000_000n;
  return {
    machine_ids: machines,
    unavailability: {
      start: { nanoseconds: Number(start) },
      duration: { nanoseconds: 86_400 * 1e9 },
    },
  };
}

before(async () => {
  env = await startDeployEnv({ agents: 3 });
  const dir = mkdtempSync(join(tmpdir(), "maintenance-e2e-"));
  writeFileSync(join(dir, "token"), TOKEN);
  h = await env.startInProcess(["--observe-interval", "1", "--api-token-file", join(dir, "token")]);
  h.view.events.on("event", (e: OperatorEvent) => {
    if (e.type === "log") messages.push((e.data as { msg: string }).msg);
  });
  await h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === 3,
    150_000,
  );
  // Every change of maintenance state is sampled: never two of the domain at once.
  const s = sys();
  const enter = s.enterMaintenance.bind(s);
  s.enterMaintenance = (id) => {
    enter(id);
    mostAtOnce = Math.max(mostAtOnce, inMaintenance());
  };
  await healthy(60_000, "healthy after the deploy");
  const pool = observer().latest!.pools[0]!;
  volumeId = await env.gateway().createVolume({
    name: "maint-data",
    sizeInKb: 16 * 1024 * 1024,
    storagePoolId: pool.id,
    thin: true,
  });
  await control(`/admin/volumes/${volumeId}/write`, { sizeKb: 512 * 1024 });
});

after(async () => {
  if (process.env.MAINTENANCE_TEST_LOG) console.log(messages.join("\n"));
  await env?.stop();
});

test("(a) a Mesos maintenance window on the MDM master's SDS agent: inverse offer → SDS maintenance → machine down → up → exit → resync → healthy; a second SDS of the domain declined meanwhile", async () => {
  const o = observer().latest!;
  const masterIp = o.mdm.members.find((m) => m.role === "master")!.ips[0]!;
  const agents = h.scheduler.agents.all();
  const target = agents.find((a) => a.ip === masterIp)!;
  const other = agents.find((a) => a.agentId !== target.agentId)!;
  const machine = { hostname: target.hostname, ip: target.ip };
  const sdsName = sdsAt(target.ip).name;

  await master("/maintenance/schedule", { windows: [window([machine])] });
  await event(
    new RegExp(`declined the inverse offer for agent ${target.agentId} .*: entering maintenance`),
    20_000,
  );
  await event(/MDM mastership moved from/, 30_000);
  assert.notEqual(
    observer().latest!.mdm.members.find((m) => m.role === "master")?.ips[0],
    target.ip,
    "mastership moved away first",
  );
  await event(new RegExp(`SDS ${sdsName} of PD .* entered maintenance mode`), 30_000);
  assert.equal(sdsAt(target.ip).maintenance, true);
  await event(new RegExp(`accepted the inverse offer for agent ${target.agentId}`), 30_000);
  const node = (await (await fetch(`${h.apiUrl}/v1/nodes/${target.agentId}`)).json()) as {
    maintenance?: { state: string; by: string };
  };
  assert.deepEqual(
    { state: node.maintenance?.state, by: node.maintenance?.by },
    { state: "in", by: "mesos" },
  );
  const status = (await (await fetch(`${env.cluster.masterUrl}/maintenance/status`)).json()) as {
    draining_machines: { statuses: { status: string }[] }[];
  };
  assert.equal(status.draining_machines[0]!.statuses[0]!.status, "ACCEPT");

  // A node step asked for on the agent inside its window (a device rescan) is not launched
  // there: it waits and says why, until the machine is back.
  const factsStep = `facts/${target.agentId}`;
  const rescan = await fetch(`${h.apiUrl}/v1/nodes/${target.agentId}/rescan`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(rescan.status, 202, await rescan.clone().text());
  await waitUntil(
    () =>
      /^waiting: \S+ has a maintenance window from \S+ until \S+; no new step starts there before it is over$/.test(
        h.scheduler.engine.progressOf("deploy", factsStep)?.message ?? "",
      ),
    { timeoutMs: 30_000, intervalMs: 100, what: "the rescan waiting for the window" },
  );
  assert.equal(h.scheduler.engine.progressOf("deploy", factsStep)?.status, "IN_PROGRESS");

  // A window on a second SDS agent of the domain: declined, with the reason.
  const otherMachine = { hostname: other.hostname, ip: other.ip };
  await master("/maintenance/schedule", {
    windows: [window([machine]), window([otherMachine])],
  });
  await event(
    new RegExp(
      `declined the inverse offer for agent ${other.agentId} .*: SDS ${sdsName} of PD .* is already in maintenance`,
    ),
    20_000,
  );
  assert.equal(sdsAt(other.ip).maintenance, false);
  // The operator withdraws that window (the other machine back to UP).
  await master("/maintenance/schedule", { windows: [window([machine])] });

  // The machine goes down: its agent is removed, its SDS and MDM stop with it.
  await master("/machine/down", [machine]);
  await control(`/admin/sds/${target.ip}/kill`);
  await control(`/admin/mdm/${target.ip}/kill`);
  await waitUntil(() => h.scheduler.agents.get(target.agentId)?.lostSince !== undefined, {
    timeoutMs: 20_000,
    what: "the agent lost",
  });
  // Writes go on while it is away, and no rebuild starts.
  await control(`/admin/volumes/${volumeId}/write`, { sizeKb: 256 * 1024 });
  const pool = [...sys().pools.values()][0]!;
  await waitUntil(() => (observer().latest?.startedAt ?? 0) > Date.now() - 500, {
    timeoutMs: 10_000,
    what: "a fresh observation",
  });
  assert.equal(sys().poolCapacity(pool.id).fwdRebuildRemainingKb, 0, "no rebuild while away");
  assert.equal(stepStatus(`exit/${target.agentId}`), undefined, "no exit while the window lasts");

  // The machine is back (the boot brings its SDS and MDM up), then the window is over.
  await master("/machine/up", [machine]);
  await control(`/admin/sds/${target.ip}/restore`);
  await control(`/admin/mdm/${target.ip}/restore`);
  await event(new RegExp(`maintenance of agent ${target.agentId} .* is over`), 30_000);
  await event(
    new RegExp(`SDS ${sdsName} of PD .* exited maintenance mode: resynchronising`),
    60_000,
  );
  await event(new RegExp(`SDS ${sdsName} of PD .* is back in service: resync done`), 120_000);
  assert.equal(stepStatus(`exit/${target.agentId}`), "COMPLETE");
  assert.equal(sdsAt(target.ip).maintenance, false);
  assert.equal(sys().jobs.filter((j) => j.kind === "bckRebuild").length, 0, "resync drained");
  await healthy(60_000, "healthy after the maintenance");
  assert.equal(mostAtOnce, 1, "never two SDSs of the domain in maintenance at once");
  // The rescan held back by the window ran once the machine was back.
  await waitUntil(() => h.scheduler.engine.progressOf("deploy", factsStep)?.status === "COMPLETE", {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: "the rescan after the window",
  });

  // The decisions are on /v1/events with their reasons.
  const recent = (await (await fetch(`${h.apiUrl}/v1/events/recent`)).json()) as {
    events: OperatorEvent[];
  };
  const texts = recent.events
    .filter((e) => e.type === "log")
    .map((e) => (e.data as { msg: string }).msg);
  assert.ok(texts.some((t) => /is already in maintenance/.test(t)));
  // The plan shows it, one phase per node.
  const plan = (await (await fetch(`${h.apiUrl}/v1/plans/maintenance`)).json()) as {
    phases: { id: string; steps: { id: string; status: string }[] }[];
  };
  const phase = plan.phases.find((p) => p.id === `node/${target.agentId}`)!;
  assert.deepEqual(
    phase.steps.map((s) => `${s.id} ${s.status}`),
    [`enter/${target.agentId} COMPLETE`, `exit/${target.agentId} COMPLETE`],
  );
});

test("(b) the operator route: into maintenance, a second SDS of the domain refused with the reason, out again with the resync", async () => {
  const agents = h.scheduler.agents.all();
  const [a, b] = agents.slice(-2);
  const r = await nodeMaintenance(a!.agentId, true);
  assert.equal(r.status, 202, await r.clone().text());
  assert.equal(((await r.json()) as { state: string }).state, "entering");
  await waitUntil(() => stepStatus(`enter/${a!.agentId}`) === "COMPLETE", {
    timeoutMs: 30_000,
    what: "the enter step",
  });
  assert.equal(sdsAt(a!.ip).maintenance, true);
  const refused = await nodeMaintenance(b!.agentId, true);
  assert.equal(refused.status, 409);
  const body = (await refused.json()) as { error: string; code: string };
  assert.equal(body.code, "MAINTENANCE_REFUSED");
  assert.match(
    body.error,
    new RegExp(`SDS ${sdsAt(a!.ip).name} of PD .* is already in maintenance`),
  );
  assert.equal((await nodeMaintenance("no-such-agent", true)).status, 404);
  const unauth = await fetch(`${h.apiUrl}/v1/nodes/${a!.agentId}/maintenance`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ enter: false }),
  });
  assert.equal(unauth.status, 401);
  await control(`/admin/volumes/${volumeId}/write`, { sizeKb: 128 * 1024 });
  const out = await nodeMaintenance(a!.agentId, false);
  assert.equal(out.status, 202);
  await waitUntil(() => stepStatus(`exit/${a!.agentId}`) === "COMPLETE", {
    timeoutMs: 120_000,
    what: "the exit step",
  });
  assert.equal(sdsAt(a!.ip).maintenance, false);
  await healthy(60_000, "healthy after the operator's maintenance");
  assert.equal(mostAtOnce, 1, "never two SDSs of the domain in maintenance at once");
});
