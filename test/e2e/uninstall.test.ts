// Uninstall end to end on the development cluster.
//
// Provisioned: a 3-agent deploy (3 MDMs, SDSs, SDCs, REX-Ray), a volume created and mapped;
// the uninstall is refused without the right confirmation (400) and while the volume exists
// (409 VOLUMES_EXIST, nothing touched); with destroyData the scheduler tears everything down
// and exits 0 with its summary as the last log line: the development master then shows no
// reservation, no task and no framework of ours (the framework is a completed one), the state
// dir holds no key, and the emulated hosts have no ScaleIO package, no REX-Ray config and no
// MDM cluster left.
//
// Existing cluster: an operator's 3_node cluster built with rpm and scli, with its own SDSs,
// pool and a mapped volume; the scheduler adds SDS/SDC/LIA on the agents, then uninstalls:
// what it added is gone (its SDS, SDCs, packages, REX-Ray config, reservations, framework,
// state), the operator's MDM cluster, SDSs, pool and volume mapping are exactly as before.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { emulatorObjects, startDeployEnv, type DeployEnv } from "../support/deploy-env.js";
import { waitForEvent, withDeadline } from "../support/wait.js";

const TOKEN = "uninstall-e2e-token-0042-abcdef";
const envs: DeployEnv[] = [];
after(async () => {
  for (const e of envs) await e.stop();
});

const CLI = fileURLToPath(new URL("../../bin/scaleio-framework", import.meta.url));

/** The operator CLI, with the token in its environment. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env.PATH ?? "", SCALEIO_FRAMEWORK_API_TOKEN: TOKEN },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** A finished uninstall leaves one key of state: its tombstone. */
function assertOnlyTombstone(dir: string): void {
  assert.deepEqual(
    filesUnder(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(dir.length + 1)),
    ["framework/uninstalled.json"],
    "no state left but the uninstall's tombstone",
  );
}

async function post(api: string, body: unknown) {
  const r = await fetch(`${api}/v1/uninstall`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Nothing of ours in the development master: framework, tasks, executors, reservations. */
async function assertNothingInMesos(env: DeployEnv, frameworkId: string): Promise<void> {
  const m = await env.mesosState();
  assert.deepEqual(m.frameworkIds, [], "no framework of ours is active");
  assert.deepEqual(m.activeTasks, [], "no task of ours");
  assert.equal(m.executorsByAgent.size, 0, "no executor of ours");
  assert.deepEqual([...m.reservedByAgent.entries()], [], "no reservation of our role on any agent");
  const state = (await (await fetch(`${env.cluster.masterUrl}/state`)).json()) as {
    completed_frameworks: { id: string }[];
  };
  assert.ok(
    state.completed_frameworks.some((f) => f.id === frameworkId),
    "the framework was torn down",
  );
  const op = (await (
    await fetch(`${env.cluster.masterUrl}/api/v1`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ type: "GET_FRAMEWORKS" }),
    })
  ).json()) as { get_frameworks: { frameworks: { id: string }[] } };
  assert.ok(!op.get_frameworks.frameworks.some((f) => f.id === frameworkId));
}

test(
  "provisioned: refused while a volume exists, then destroyData leaves nothing behind",
  { timeout: 300_000 },
  async () => {
    const env = await startDeployEnv({ agents: 3 });
    envs.push(env);
    const tokenFile = join(env.dir, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const proc = env.startScheduler(["--api-token-file", tokenFile]);
    await waitForEvent(proc, "step", {
      timeoutMs: 180_000,
      filter: (s: { plan: string; step: string; status: string }) =>
        s.plan === "deploy" && s.step === "verify/cluster" && s.status === "COMPLETE",
    });
    const api = proc.apiUrl()!;
    const frameworkId = (await env.mesosState()).frameworkIds[0]!;
    assert.ok(frameworkId);
    const nodesDir = join(env.dir, "nodes");
    const hosts = env.cluster.agents.map((a) => a.host);
    for (const h of hosts) assert.ok(existsSync(join(nodesDir, h, "etc/rexray/config.yml")));

    // An application's volume, mapped to an agent's SDC.
    const gw = env.gateway();
    const pool = (await gw.allStoragePools())[0]!;
    const volumeId = await gw.createVolume({
      name: "appdata",
      sizeInKb: 8 * 2 ** 20,
      storagePoolId: pool.id,
      thin: true,
    });
    const sdc = (await gw.allSdcs()).find((c) => c.sdcIp === hosts[0])!;
    await gw.mapVolume(volumeId, sdc.id);

    assert.equal((await post(api, { destroyData: true })).status, 400, "confirm is required");
    const wrong = await post(api, { confirm: "someone-else", destroyData: true });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.code, "CONFIRMATION_MISMATCH");
    const refused = await post(api, { confirm: "scaleio" });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.code, "VOLUMES_EXIST");
    assert.match(String(refused.body.error), /appdata/);
    // The CLI says the same, with exit code 1.
    const cliRefused = await cli(["uninstall", "--confirm", "scaleio", "--api", api]);
    assert.equal(cliRefused.code, 1, cliRefused.stderr);
    assert.match(cliRefused.stderr, /^error: 409: 1 volume\(s\) exist \(appdata\)/);
    // Refused means untouched: the volume, the deploy plan, the framework.
    assert.equal(env.emulator.sys.volumeByName("appdata").id, volumeId);
    const plans = (await (await fetch(`${api}/v1/plans`)).json()) as { plans: { id: string }[] };
    assert.ok(plans.plans.some((p) => p.id === "deploy"));
    assert.equal(
      ((await (await fetch(`${api}/v1/uninstall`)).json()) as { state: string }).state,
      "none",
    );

    const accepted = await cli([
      "uninstall",
      "--confirm",
      "scaleio",
      "--destroy-data",
      "--api",
      api,
    ]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(
      accepted.stdout,
      /^uninstall started \(volumes are destroyed\): follow it with `plan show teardown`/,
    );
    const code = await withDeadline(
      proc.exited,
      180_000,
      "the scheduler to finish the uninstall",
    ).catch((err: Error) => {
      // What it was doing: its last steps and lines.
      throw new Error(`${err.message}\n${proc.stderr().split("\n").slice(-25).join("\n")}`);
    });
    assert.equal(code, 0, proc.stderr().slice(-3000));
    const lines = proc
      .stderr()
      .trim()
      .split("\n")
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as { msg?: string }];
        } catch {
          return [];
        }
      });
    assert.match(
      lines.at(-1)?.msg ?? "",
      /^uninstall complete: framework \S+ torn down in Mesos, 3 agent\(s\) released, state deleted$/,
    );
    // The teardown's steps ran in order: volumes before the MDM cluster.
    const done = proc.steps.filter((s) => s.plan === "teardown" && s.status === "COMPLETE");
    const at = (re: RegExp) => done.findIndex((s) => re.test(s.step));
    assert.ok(at(/^data\/volumes$/) >= 0 && at(/^data\/volumes$/) < at(/^storage\/sds$/));
    assert.ok(at(/^storage\/pools$/) < at(/^clients\/sdcs$/));

    await assertNothingInMesos(env, frameworkId);
    assertOnlyTombstone(env.stateDir);
    // Started again on that state (as Marathon restarts an app whose process ended), the
    // scheduler refuses to deploy afresh: one line, exit 1, no framework in Mesos.
    const again = env.startScheduler(["--api-token-file", tokenFile]);
    assert.equal(await withDeadline(again.exited, 60_000, "the restarted scheduler to stop"), 1);
    assert.match(
      again.stderr(),
      /^scaleio-framework: this framework was uninstalled \(.*framework \S+\) and does not deploy again by itself: remove its Marathon app, or to install afresh delete the state key framework\/uninstalled/m,
    );
    assert.deepEqual((await env.mesosState()).frameworkIds, []);
    assertOnlyTombstone(env.stateDir);
    // The hosts: no package, no REX-Ray config, no MDM cluster, no volume.
    const emu = env.emulator.sys;
    for (const h of hosts) {
      assert.deepEqual([...(emu.nodes.get(h)?.packages.keys() ?? [])], [], `packages on ${h}`);
      assert.ok(!existsSync(join(nodesDir, h, "etc/rexray/config.yml")), `REX-Ray config on ${h}`);
    }
    assert.equal(emu.created, false, "no MDM cluster");
    assert.equal(emu.volumes.size + emu.sdss.size + emu.pools.size + emu.sdcs.size, 0);
  },
);

const IPS = ["10.20.0.11", "10.20.0.12", "10.20.0.13"] as const;

test(
  "existing cluster: only what the framework added goes; the operator's cluster stays intact",
  { timeout: 300_000 },
  async () => {
    const env = await startDeployEnv({ agents: 2, storageAgents: 1 });
    envs.push(env);
    const emu = env.emulator;
    const pkg = (c: string) => join(emu.repoDir, `EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.rpm`);
    const run = (
      ip: string,
      tool: "scli" | "rpm",
      argv: string[],
      e: Record<string, string> = {},
    ) => {
      const root = join(env.dir, "manual", ip);
      mkdirSync(join(root, "dev"), { recursive: true });
      const r = emu.tools.run(
        tool,
        { ip, root, env: { SCALEIO_SIM_NODE_IP: ip, ...e } },
        argv,
        emu.repoDir,
      );
      assert.equal(r.exitCode, 0, `${tool} ${argv.join(" ")} on ${ip}: ${r.stderr}`);
      return r.stdout;
    };
    const scli = (...argv: string[]) => run(IPS[0], "scli", argv);
    for (const [i, ip] of IPS.entries()) {
      run(ip, "rpm", ["-Uvh", pkg("mdm")], { MDM_ROLE_IS_MANAGER: i < 2 ? "1" : "0" });
      run(ip, "rpm", ["-Uvh", pkg("sds")]);
      run(ip, "rpm", ["-Uvh", pkg("sdc")], { MDM_IP: `${IPS[0]},${IPS[1]}` });
      emu.sys.node(ip).deviceSizesKb.set("/dev/sdb", 100 * 2 ** 20);
    }
    const create = ["--master_mdm_ip", IPS[0], "--master_mdm_management_ip", IPS[0]];
    scli(
      "--create_mdm_cluster",
      ...create,
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
    scli(
      "--add_standby_mdm",
      "--new_mdm_ip",
      IPS[2],
      "--mdm_role",
      "tb",
      "--new_mdm_name",
      "ops-tb",
    );
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
    scli("--map_volume_to_sdc", "--volume_name", "appdata", "--sdc_ip", IPS[0]);
    const before = emulatorObjects(emu.sys);
    const members = () => emu.sys.cluster.members.map((m) => `${m.id}:${m.name}:${m.role}`).sort();
    const mdmsBefore = members();
    const opsSds = [...emu.sys.sdss.values()].map((s) => `${s.id}:${s.name}`).sort();
    const mappings = JSON.stringify(emu.sys.volumeByName("appdata").mappings);
    const opsPackages = IPS.map((ip) => [...emu.sys.node(ip).packages.keys()].sort().join(","));

    const tokenFile = join(env.dir, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const h = await env.startInProcess([
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
    const agents = env.cluster.agents.map((a) => a.host);
    const frameworkId = h.scheduler.frameworkId!;
    assert.equal(emu.sys.sdss.size, 4, "the framework added an SDS on the agent with devices");

    // The operator's volume is mapped to the operator's SDC only: nothing to refuse.
    const finished = new Promise<{ line: string }>((resolve) => h.uninstall.onFinished(resolve));
    const accepted = await post(h.apiUrl, { confirm: "scaleio" });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const summary = await withDeadline(finished, 180_000, "the uninstall to finish");
    assert.match(summary.line, /torn down in Mesos, 2 agent\(s\) released, state deleted$/);

    await assertNothingInMesos(env, frameworkId);
    assertOnlyTombstone(env.stateDir);
    const now = emulatorObjects(emu.sys);
    // The operator's cluster exactly as it was.
    assert.deepEqual(members(), mdmsBefore);
    assert.equal(now.clusterMode, "3_node");
    assert.equal(emu.sys.name, "opscluster");
    assert.deepEqual([...emu.sys.sdss.values()].map((s) => `${s.id}:${s.name}`).sort(), opsSds);
    assert.deepEqual(now.protectionDomains, before.protectionDomains);
    assert.deepEqual(now.pools, before.pools);
    assert.deepEqual(now.volumes, ["appdata"]);
    assert.equal(JSON.stringify(emu.sys.volumeByName("appdata").mappings), mappings);
    assert.deepEqual(
      IPS.map((ip) => [...emu.sys.node(ip).packages.keys()].sort().join(",")),
      opsPackages,
    );
    // What the framework added is gone: packages, SDCs, REX-Ray config.
    for (const a of agents) {
      assert.deepEqual([...(emu.sys.nodes.get(a)?.packages.keys() ?? [])], [], `packages on ${a}`);
      assert.ok(!now.sdcs.includes(a), `SDC of ${a}`);
      assert.ok(!existsSync(join(env.dir, "nodes", a, "etc/rexray/config.yml")));
    }
  },
);

test(
  "killed in the middle of the teardown, a restarted scheduler finishes it",
  { timeout: 300_000 },
  async () => {
    const env = await startDeployEnv({ agents: 3 });
    envs.push(env);
    const tokenFile = join(env.dir, "token");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const first = env.startScheduler(["--api-token-file", tokenFile]);
    await waitForEvent(first, "step", {
      timeoutMs: 180_000,
      filter: (s: { plan: string; step: string; status: string }) =>
        s.plan === "deploy" && s.step === "verify/cluster" && s.status === "COMPLETE",
    });
    const frameworkId = (await env.mesosState()).frameworkIds[0]!;
    const sdsGone = waitForEvent(first, "step", {
      timeoutMs: 120_000,
      filter: (s: { plan: string; step: string; status: string }) =>
        s.plan === "teardown" && s.step === "storage/sds" && s.status === "COMPLETE",
    });
    const accepted = await post(first.apiUrl()!, { confirm: "scaleio" });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    await sdsGone;
    await first.sigkill();
    // Half done: the SDSs are gone, the MDM cluster and the packages are still there.
    assert.equal(env.emulator.sys.sdss.size, 0);
    assert.ok(env.emulator.sys.created);

    const second = env.startScheduler(["--api-token-file", tokenFile]);
    const code = await withDeadline(second.exited, 180_000, "the restarted scheduler to finish");
    assert.equal(code, 0, second.stderr().slice(-3000));
    // It carried on: steps done before the kill did not run again; the rest did.
    const doneBefore = new Set(
      first.steps
        .filter((s) => s.plan === "teardown" && s.status === "COMPLETE")
        .map((s) => s.step),
    );
    assert.ok(doneBefore.has("data/volumes") && doneBefore.has("storage/sds"));
    const ranAfter = second.steps.filter(
      (s) => s.plan === "teardown" && s.status === "IN_PROGRESS",
    );
    assert.deepEqual(
      ranAfter.filter((s) => doneBefore.has(s.step)),
      [],
      "nothing finished before the kill ran again",
    );
    assert.ok(ranAfter.some((s) => s.step === "clients/sdcs"));
    await assertNothingInMesos(env, frameworkId);
    assertOnlyTombstone(env.stateDir);
    for (const h of env.cluster.agents.map((a) => a.host))
      assert.deepEqual([...(env.emulator.sys.nodes.get(h)?.packages.keys() ?? [])], [], h);
    assert.equal(env.emulator.sys.created, false);
  },
);
