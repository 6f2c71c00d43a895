// Replacing lost MDM agents on the development cluster (3 MDM nodes, 2 data nodes, 3 spare
// nodes, all with storage; the ScaleIO emulator; the scheduler observing every second, with
// --mdm-replace-after 15s):
// - refusals first: a healthy node without force (409 AGENT_HEALTHY), an unknown one (404);
// - the secondary MDM's machine is lost (its Mesos agent partitioned, its daemons gone) and an
//   operator replaces it with the CLI: the new member is the spare agent in the rack no
//   remaining member uses; the cluster has three healthy members again (the gateway says
//   ClusteredNormal, /v1/health has no MdmClusterDegraded), every live SDC and the gateway's
//   mdm.ip.addresses name the new managers, REX-Ray's configuration is written on every live
//   agent, the lost SDS is removed once its data is rebuilt and the deploy plan completes
//   without the node;
// - the tie-breaker's machine is lost and nobody asks: after 15 s it is replaced on its own;
// - the primary's (the master's) machine is lost: the secondary, master by then, becomes the
//   primary (the deploy plan creates the cluster's view there and installs the gateway on it),
//   the new agent joins as secondary, the gateway's configuration on the new primary names the
//   new managers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SchedulerHandle } from "../../src/cli/scheduler.js";
import type { StepView } from "../../src/framework/plan/types.js";
import { BIN, startDeployEnv, type DeployEnv } from "../support/deploy-env.js";
import { waitUntil } from "../support/wait.js";

const TOKEN = "replace-e2e-token";
const AGENTS = 8;
// Agents 0-2: the MDM members (pinned); 3-4: data nodes; 5-7: spare nodes.
const RACKS = ["r1", "r2", "r3", "r1", "r3", "r2", "r1", "r3"];
const PERSONAS = ["primary", "secondary", "tiebreaker", "data", "data"];

let env: DeployEnv;
let h: SchedulerHandle;
const said = new Map<string, string[]>();

before(async () => {
  env = await startDeployEnv({
    agents: AGENTS,
    storageAgents: AGENTS,
    agentSpec: (i) => ({
      attributes: `rack:${RACKS[i]}${PERSONAS[i] ? `;scaleio-persona:${PERSONAS[i]}` : ""}`,
    }),
    master: { agentPingIntervalMs: 300, agentPingTimeoutMs: 1000, maxAgentPingTimeouts: 3 },
  });
  const tokenFile = join(env.dir, "api-token");
  await writeFile(tokenFile, TOKEN, { mode: 0o600 });
  h = await env.startInProcess([
    "--observe-interval",
    "1",
    "--api-token-file",
    tokenFile,
    "--mdm-replace-after",
    "15s",
  ]);
  await h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === AGENTS,
    240_000,
  );
  h.scheduler.engine.on("step", (plan: string, _phase: string, s: StepView) => {
    if (plan === "replace" && s.message) said.set(s.id, [...(said.get(s.id) ?? []), s.message]);
  });
});

after(async () => {
  await env?.stop();
});

interface Answer {
  error?: string;
  code?: string;
  conditions?: { type: string }[];
  events?: { data: { msg?: string } }[];
}

async function api(path: string, body?: unknown): Promise<{ status: number; body: Answer }> {
  const r = await fetch(`${h.apiUrl}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: r.status, body: (await r.json()) as Answer };
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
const host = (i: number) => env.cluster.agents[i]!.host;
const rootOf = (ip: string) => join(env.dir, "nodes", ip);
const idOf = (i: number) => h.scheduler.agents.all().find((a) => a.ip === host(i))!.agentId;
const members = () =>
  sys()
    .cluster.members.map((m) => `${m.role}@${m.ips[0]}`)
    .sort();
const sdsIps = () => [...sys().sdss.values()].map((s) => s.ipList[0]!.ip).sort();

/** The plan once complete; otherwise fails naming the steps that are not, and why. */
async function complete(planId: string, timeoutMs: number) {
  try {
    return await h.scheduler.engine.waitFor(planId, (v) => v.status === "COMPLETE", timeoutMs);
  } catch (err) {
    const open = ["deploy", "replace", "recovery"]
      .filter((id) => h.scheduler.engine.planIds().includes(id))
      .flatMap((id) =>
        h.scheduler.engine
          .view(id)
          .phases.flatMap((ph) => ph.steps)
          .filter((st) => st.status !== "COMPLETE")
          .map((st) => `${id}/${st.id} ${st.status}: ${st.lastError ?? st.message ?? ""}`),
      );
    throw new Error(`${(err as Error).message}; not complete:\n${open.join("\n")}`);
  }
}

/**
 * The machine is gone: its Mesos agent cut off (marked lost), then its ScaleIO daemons dead.
 * In that order: daemons that die first are the recovery plan's to restart while the agent
 * still looks reachable, and its restart would then wait for a partitioned agent.
 */
async function loseMachine(i: number): Promise<void> {
  await env.cluster.agents[i]!.partition();
  await waitUntil(() => h.scheduler.agents.get(idOf(i))?.lostSince !== undefined, {
    timeoutMs: 60_000,
    intervalMs: 100,
    what: `agent ${i} marked lost`,
  });
  for (const c of ["mdm", "sds", "sdc"] as const) sys().setComponentAlive(host(i), c, false);
}

/** Three healthy members, as the gateway and the health model say, and the placement agrees. */
async function threeHealthyMembers(expected: string[]): Promise<void> {
  await waitUntil(() => JSON.stringify(members()) === JSON.stringify([...expected].sort()), {
    timeoutMs: 120_000,
    intervalMs: 200,
    what: `the MDM cluster ${expected.join(", ")}`,
  });
  const gw = env.gateway();
  const system = (await gw.systems())[0]!;
  assert.equal(system.mdmClusterState, "ClusteredNormal");
  await waitUntil(
    async () =>
      !((await api("/v1/health")).body.conditions ?? []).some(
        (c) => c.type === "MdmClusterDegraded",
      ),
    { timeoutMs: 30_000, intervalMs: 250, what: "MdmClusterDegraded gone from /v1/health" },
  );
}

/** Every live SDC, the gateway and REX-Ray know the managers `ips`. */
async function clientsPointedAt(ips: string[], live: number[], primary: number): Promise<void> {
  const want = [...ips].sort();
  await waitUntil(
    () =>
      live.every(
        (i) =>
          JSON.stringify([...sys().nodes.get(host(i))!.sdcMdmIps].sort()) === JSON.stringify(want),
      ),
    { timeoutMs: 120_000, intervalMs: 200, what: `every live SDC pointed at ${want.join(",")}` },
  );
  for (const i of live) {
    assert.equal(
      readFileSync(join(rootOf(host(i)), "bin/emc/scaleio/drv_cfg.txt"), "utf8").trim(),
      `mdm ${ips.join(",")}`,
      `drv_cfg.txt of agent ${i}`,
    );
    const rexray = join(rootOf(host(i)), "etc/rexray/config.yml");
    assert.ok(existsSync(rexray), `REX-Ray configured on agent ${i}`);
    assert.match(
      readFileSync(rexray, "utf8"),
      new RegExp(`endpoint: ${env.emulator.gatewayUrl}/api`),
    );
  }
  const props = readFileSync(
    join(
      rootOf(host(primary)),
      "opt/emc/scaleio/gateway/webapps/ROOT/WEB-INF/classes/gatewayUser.properties",
    ),
    "utf8",
  );
  assert.match(props, new RegExp(`^mdm\\.ip\\.addresses=${ips.join(",")}$`, "m"));
  const conf = await env.gateway().call<{ mdmAddresses: string[] }>("GET", "/api/Configuration");
  assert.deepEqual([...conf.mdmAddresses].sort(), want);
}

test(
  "an operator replaces a lost secondary MDM; a lost tie-breaker is replaced on its own after --mdm-replace-after; a lost primary is replaced",
  { timeout: 600_000 },
  async () => {
    assert.deepEqual(members(), [`master@${host(0)}`, `slave@${host(1)}`, `tb@${host(2)}`].sort());
    assert.deepEqual(sdsIps(), [0, 1, 2, 3, 4, 5, 6, 7].map(host).sort());

    // Refused: a healthy node without force, an unknown one.
    const healthy = await api(`/v1/nodes/${idOf(3)}/replace`, {});
    assert.equal(healthy.status, 409);
    assert.equal(healthy.body.code, "AGENT_HEALTHY");
    assert.match(healthy.body.error ?? "", /neither lost nor failing.*force/);
    assert.equal((await api("/v1/nodes/nope/replace", {})).status, 404);

    // Data on the pool, so that the lost SDS's copies have to be rebuilt elsewhere.
    const gw = env.gateway();
    const pool = (await gw.allStoragePools())[0]!;
    const vol = await gw.createVolume({
      name: "replace-data",
      sizeInKb: 8 * 1048576,
      storagePoolId: pool.id,
      thin: true,
    });
    const w = await fetch(`${env.emulator.controlUrl}/admin/volumes/${vol}/write`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sizeKb: 2 * 1048576 }),
    });
    assert.equal(w.status, 200);

    // 1. The secondary's machine is lost; the operator replaces it.
    const lost = idOf(1);
    await loseMachine(1);
    const r = await cli(["node", "replace", lost]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /MDM mdm2 \(secondary\) is replaced by mdm3 on agent .* \(plan replace\)/,
    );
    // The spare agent in r2, the rack no remaining member uses (agents 6 and 7: r1 and r3).
    const newId = idOf(5);
    assert.ok(r.stdout.includes(newId), r.stdout);
    const again = await api(`/v1/nodes/${idOf(2)}/replace`, { force: true });
    assert.equal(again.status, 409, "one replacement at a time");
    assert.equal(again.body.code, "REPLACE_IN_PROGRESS");

    await threeHealthyMembers([`master@${host(0)}`, `slave@${host(5)}`, `tb@${host(2)}`]);
    await complete("replace", 240_000);
    assert.deepEqual(
      h.platform.mdms.map((m) => `${m.role}:${m.name}:${m.agentId}`),
      [`primary:mdm1:${idOf(0)}`, `secondary:mdm3:${newId}`, `tiebreaker:tb1:${idOf(2)}`],
    );
    const live = [0, 2, 3, 4, 5, 6, 7];
    await clientsPointedAt([host(0), host(5)], live, 0);
    // The lost SDS removed once its data was rebuilt; its SDC gone; the node forgotten.
    assert.deepEqual(sdsIps(), [0, 2, 3, 4, 5, 6, 7].map(host).sort());
    assert.ok(![...sys().sdcs.values()].some((s) => s.ip === host(1)), "the lost SDC removed");
    assert.equal(sys().poolCapacity(pool.id).degradedHealthyCapacityInKb, 0, "all data protected");
    const deploy = await complete("deploy", 180_000);
    assert.ok(
      deploy.phases.flatMap((ph) => ph.steps).every((s) => !s.id.includes(lost)),
      "no step for the replaced node",
    );
    assert.ok(sys().nodes.get(host(5))!.packages.has("mdm"), "the MDM package on the new member");

    // 2. The tie-breaker's machine is lost; nobody asks.
    const tbLost = idOf(2);
    await loseMachine(2);
    const lostAt = Date.now();
    // Agent 7, in r3, the rack no remaining member uses.
    await threeHealthyMembers([`master@${host(0)}`, `slave@${host(5)}`, `tb@${host(7)}`]);
    assert.ok(Date.now() - lostAt >= 14_000, "not before --mdm-replace-after");
    await complete("replace", 240_000);
    assert.deepEqual(
      h.platform.mdms.map((m) => `${m.role}:${m.name}:${m.agentId}`),
      [`primary:mdm1:${idOf(0)}`, `secondary:mdm3:${newId}`, `tiebreaker:tb2:${idOf(7)}`],
    );
    assert.deepEqual(sdsIps(), [0, 3, 4, 5, 6, 7].map(host).sort());
    const events = (await api("/v1/events/recent")).body.events ?? [];
    assert.ok(
      events.some((e) => /automatic replacement planned: .*tb1.*tb2/.test(e.data?.msg ?? "")),
      "the automatic replacement is an event",
    );
    // A tie-breaker's address is known to no SDC: they still name the same managers.
    await clientsPointedAt([host(0), host(5)], [0, 3, 4, 5, 6, 7], 0);
    assert.ok(
      !h.scheduler.engine
        .view("deploy")
        .phases.flatMap((ph) => ph.steps)
        .some((s) => s.id.includes(tbLost)),
    );

    // 3. The primary's machine is lost (the master: mastership passes to the slave on agent 5).
    await loseMachine(0);
    const p3 = await api(`/v1/nodes/${idOf(0)}/replace`, {});
    assert.equal(p3.status, 202, JSON.stringify(p3.body));
    await threeHealthyMembers([`master@${host(5)}`, `slave@${host(6)}`, `tb@${host(7)}`]);
    await complete("replace", 240_000);
    assert.deepEqual(
      h.platform.mdms.map((m) => `${m.role}:${m.name}:${m.agentId}`),
      [`primary:mdm3:${newId}`, `secondary:mdm2:${idOf(6)}`, `tiebreaker:tb2:${idOf(7)}`],
    );
    // The gateway now lives on the new primary, configured with the new managers.
    await clientsPointedAt([host(5), host(6)], [3, 4, 5, 6, 7], 5);
    assert.deepEqual(sdsIps(), [3, 4, 5, 6, 7].map(host).sort());
    const final = await complete("deploy", 180_000);
    const ids = final.phases.flatMap((ph) => ph.steps).map((s) => s.id);
    assert.ok(
      ids.includes(`mdm-cluster/${newId}`) && ids.includes(`gateway/${newId}`),
      ids.join(" "),
    );
  },
);
