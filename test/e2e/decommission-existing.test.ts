// Decommission in existing-cluster mode, end to end: an operator's 3_node cluster built with rpm
// and scli (on machines that are not agents, three SDSs in pd1/sp1, a volume), and two agents
// with devices. On the first agent the operator had installed the SDS package before the
// framework came; the framework adds the rest (SDC, LIA, its SDSs). Decommissioned, each node
// loses only what the framework added, as an uninstall would take it:
// - the first agent: its SDS (the operator's package) stays in the cluster with its package,
//   the LIA the framework installed goes, REX-Ray's configuration goes, the steps say what
//   stayed and why;
// - the second agent: its SDS (the framework's package) is removed gracefully and the SDS and
//   LIA packages go.
// The operator's MDM cluster, SDSs, pool and volume are untouched throughout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SchedulerHandle } from "../../src/cli/scheduler.js";
import type { PlanView } from "../../src/framework/plan/types.js";
import type { NodeView } from "../../src/framework/operator-view.js";
import { emulatorObjects, startDeployEnv, type DeployEnv } from "../support/deploy-env.js";

const TOKEN = "decommission-existing-e2e-token";
const IPS = ["10.20.0.11", "10.20.0.12", "10.20.0.13"] as const;

let env: DeployEnv;
let h: SchedulerHandle;

before(async () => {
  env = await startDeployEnv({ agents: 2, storageAgents: 2 });
  const emu = env.emulator;
  const pkg = (c: string) => join(emu.repoDir, `EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.rpm`);
  const run = (
    ip: string,
    tool: "scli" | "rpm",
    argv: string[],
    e: Record<string, string> = {},
    root = join(env.dir, "manual", ip),
  ) => {
    mkdirSync(join(root, "dev"), { recursive: true });
    const r = emu.tools.run(
      tool,
      { ip, root, env: { SCALEIO_SIM_NODE_IP: ip, ...e } },
      argv,
      emu.repoDir,
    );
    assert.equal(r.exitCode, 0, `${tool} ${argv.join(" ")} on ${ip}: ${r.stderr}`);
  };
  const scli = (...argv: string[]) => run(IPS[0], "scli", argv);
  for (const [i, ip] of IPS.entries()) {
    run(ip, "rpm", ["-Uvh", pkg("mdm")], { MDM_ROLE_IS_MANAGER: i < 2 ? "1" : "0" });
    run(ip, "rpm", ["-Uvh", pkg("sds")]);
    emu.sys.node(ip).deviceSizesKb.set("/dev/sdb", 100 * 2 ** 20);
  }
  scli(
    "--create_mdm_cluster",
    "--master_mdm_ip",
    IPS[0],
    "--master_mdm_management_ip",
    IPS[0],
    "--master_mdm_name",
    "ops-mdm1",
    "--accept_license",
    "--approve_certificate",
  );
  scli("--login", "--username", "admin", "--password", "admin");
  scli("--set_password", "--old_password", "admin", "--new_password", env.password);
  scli("--login", "--username", "admin", "--password", env.password);
  scli(
    "--add_standby_mdm",
    "--new_mdm_ip",
    IPS[1],
    "--mdm_role",
    "manager",
    "--new_mdm_management_ip",
    IPS[1],
    "--new_mdm_name",
    "ops-mdm2",
  );
  scli("--add_standby_mdm", "--new_mdm_ip", IPS[2], "--mdm_role", "tb", "--new_mdm_name", "ops-tb");
  scli(
    "--switch_cluster_mode",
    "--cluster_mode",
    "3_node",
    "--add_slave_mdm_name",
    "ops-mdm2",
    "--add_tb_name",
    "ops-tb",
  );
  scli("--mdm_ip", IPS[0], "--rename_system", "--new_name", "opscluster");
  scli("--add_protection_domain", "--protection_domain_name", "pd1");
  scli("--add_storage_pool", "--protection_domain_name", "pd1", "--storage_pool_name", "sp1");
  for (const [i, ip] of IPS.entries())
    scli(
      "--add_sds",
      "--sds_ip",
      ip,
      "--protection_domain_name",
      "pd1",
      "--storage_pool_name",
      "sp1",
      "--device_path",
      "/dev/sdb",
      "--sds_name",
      `ops-sds${i + 1}`,
    );
  scli(
    "--add_volume",
    "--protection_domain_name",
    "pd1",
    "--storage_pool_name",
    "sp1",
    "--size_gb",
    "16",
    "--volume_name",
    "appdata",
  );
  // The operator's SDS package on the first agent, there before the framework.
  const first = env.cluster.agents[0]!.host;
  run(first, "rpm", ["-Uvh", pkg("sds")], {}, join(env.dir, "nodes", first));

  const tokenFile = join(env.dir, "api-token");
  writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
  h = await env.startInProcess([
    "--mdm-primary",
    IPS[0],
    "--mdm-secondary",
    IPS[1],
    "--mdm-tiebreaker",
    IPS[2],
    "--cluster-name",
    "opscluster",
    "--protection-domain",
    "pd1",
    "--storage-pool",
    "sp1",
    "--api-token-file",
    tokenFile,
  ]);
  await h.scheduler.engine.waitFor(
    "deploy",
    (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === 2,
    180_000,
  );
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

async function control(path: string, body: unknown): Promise<void> {
  const r = await fetch(`${env.emulator.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${path}: ${await r.text()}`);
}

const sys = () => env.emulator.sys;
const packagesOn = (ip: string) => [...(sys().nodes.get(ip)?.packages.keys() ?? [])].sort();
const sdsAt = (ip: string) => [...sys().sdss.values()].find((s) => s.ipList[0]!.ip === ip);
const rexrayConfigOn = (host: string) =>
  existsSync(join(env.dir, "nodes", host, "etc/rexray/config.yml"));
const messageOf = (v: PlanView, id: string) =>
  v.phases.flatMap((p) => p.steps).find((s) => s.id === id)?.message ?? "";

/** The operator's objects, which no decommission may change. */
function operators() {
  const o = emulatorObjects(sys());
  return {
    mdms: sys()
      .cluster.members.map((m) => `${m.id}:${m.name}:${m.role}`)
      .sort(),
    sds: o.sds.filter((s) => (IPS as readonly string[]).includes(s.ip)),
    pools: o.pools,
    volumes: o.volumes,
    packages: IPS.map((ip) => packagesOn(ip).join(",")),
  };
}

async function decommission(ip: string): Promise<{ agentId: string; plan: PlanView }> {
  const agentId = h.scheduler.agents.all().find((a) => a.ip === ip)!.agentId;
  const r = await api(`/v1/nodes/${agentId}/decommission`, {});
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const plan = await h.scheduler.engine.waitFor(
    "decommission",
    (v) => v.status === "COMPLETE",
    180_000,
  );
  const node = (await api(`/v1/nodes/${agentId}`)).body as NodeView;
  assert.equal(node.decommission?.state, "decommissioned");
  assert.equal((await env.mesosState()).reservedByAgent.get(agentId), undefined);
  return { agentId, plan };
}

test("existing cluster: a decommissioned node loses only what the framework added; the operator's SDS package and SDS stay", async () => {
  const [first, second] = env.cluster.agents.map((a) => a.host) as [string, string];
  const untouched = operators();
  assert.deepEqual(packagesOn(first), ["lia", "sdc", "sds"]);
  assert.deepEqual(packagesOn(second), ["lia", "sdc", "sds"]);
  assert.ok(sdsAt(first) && sdsAt(second), "an SDS on each agent");
  assert.ok(rexrayConfigOn(first) && rexrayConfigOn(second));

  // The first agent: the operator's SDS package, so its SDS stays; the framework's LIA goes.
  const sdsBefore = sdsAt(first)!.id;
  const one = await decommission(first);
  assert.equal(sdsAt(first)?.id, sdsBefore, "the SDS of the operator's package stays");
  assert.deepEqual(packagesOn(first), ["sdc", "sds"], "only the framework's LIA removed");
  assert.ok(!rexrayConfigOn(first), "REX-Ray's configuration removed");
  assert.match(
    messageOf(one.plan, `remove-sds/${one.agentId}`),
    /kept: the framework did not install it \(existing cluster: only what it added goes\)/,
  );
  assert.match(
    messageOf(one.plan, `uninstall/${one.agentId}`),
    /^uninstalled lia; kept sds: the framework did not install it/,
  );

  // The second agent: all the framework's, so its SDS is removed gracefully, packages too.
  await control("/admin/time", { scale: 20 });
  try {
    await decommission(second);
  } finally {
    await control("/admin/time", { scale: 1 });
  }
  assert.equal(sdsAt(second), undefined, "the framework's SDS removed");
  assert.deepEqual(packagesOn(second), ["sdc"], "the SDS and LIA packages removed");
  assert.ok(!rexrayConfigOn(second));

  assert.deepEqual(operators(), untouched, "the operator's cluster untouched");
});
