// Existing-cluster mode end to end: an operator builds a 3_node ScaleIO cluster by hand with
// rpm and scli (on machines that are not Mesos agents), with a protection domain, a pool,
// three SDSs and a mapped volume. The scheduler, given the MDM addresses and the gateway,
// adds SDS, SDC and LIA on the agents to THAT cluster: no other MDM cluster, no new domain or
// pool, and the existing objects untouched.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { emulatorObjects, startDeployEnv, type DeployEnv } from "../support/deploy-env.js";

let env: DeployEnv | undefined;
after(async () => {
  await env?.stop();
});

const IPS = ["10.20.0.11", "10.20.0.12", "10.20.0.13"] as const;

test(
  "existing cluster built with scli: agents join it, nothing else created or touched",
  { timeout: 240_000 },
  async () => {
    env = await startDeployEnv({ agents: 2, storageAgents: 1 });
    const emu = env.emulator;
    const password = env.password;
    const pkg = (c: string) => join(emu.repoDir, `EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.rpm`);
    const run = (
      ip: string,
      tool: "scli" | "rpm",
      argv: string[],
      e: Record<string, string> = {},
    ) => {
      const root = join(env!.dir, "manual", ip);
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

    // The operator's cluster.
    for (const [i, ip] of IPS.entries()) {
      run(ip, "rpm", ["-Uvh", pkg("mdm")], { MDM_ROLE_IS_MANAGER: i < 2 ? "1" : "0" });
      run(ip, "rpm", ["-Uvh", pkg("sds")]);
      run(ip, "rpm", ["-Uvh", pkg("sdc")], { MDM_IP: `${IPS[0]},${IPS[1]}` });
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
    scli("--set_password", "--old_password", "admin", "--new_password", password);
    scli("--login", "--username", "admin", "--password", password);
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
    for (const [i, ip] of IPS.entries()) {
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
    }
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
    const mdmIds = emu.sys.cluster.members.map((m) => `${m.id}:${m.name}:${m.role}`).sort();
    const sdsIds = new Map([...emu.sys.sdss.values()].map((s) => [s.id, s.name]));
    const volumeBefore = emu.sys.volumeByName("appdata");
    const volumeMappings = JSON.stringify(volumeBefore.mappings);
    assert.equal(before.clusterMode, "3_node");
    assert.equal(before.sds.length, 3);

    // The scheduler in existing-cluster mode.
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
    ]);
    const done = await h.scheduler.engine.waitFor(
      "deploy",
      (v) => v.status === "COMPLETE" && v.phases[0]!.steps.length === 2,
      180_000,
    );
    const steps = done.phases.flatMap((p) => p.steps.map((s) => s.id));
    assert.ok(!steps.some((s) => /^(mdm|mdm-cluster|gateway)\//.test(s)), steps.join(", "));
    assert.deepEqual(h.platform.mdms, [], "no MDM placed");

    const agents = env.cluster.agents.map((a) => a.host);
    const now = emulatorObjects(emu.sys);
    // The same MDM cluster, nothing added to it.
    assert.deepEqual(
      emu.sys.cluster.members.map((m) => `${m.id}:${m.name}:${m.role}`).sort(),
      mdmIds,
    );
    assert.equal(now.clusterMode, "3_node");
    assert.equal(emu.sys.name, "opscluster");
    for (const a of agents) assert.ok(!now.packages.get(a)?.includes("mdm"), `no MDM on ${a}`);
    assert.ok(!now.packages.get(agents[0]!)?.includes("gateway"), "no gateway installed");
    // The same domain and pool; the existing SDSs as they were, one new SDS with its devices.
    assert.deepEqual(now.protectionDomains, ["pd1"]);
    assert.deepEqual(now.pools, ["pd1/sp1"]);
    for (const [id, name] of sdsIds) assert.equal(emu.sys.sdss.get(id)?.name, name);
    assert.deepEqual(
      now.sds.map((s) => s.ip).sort(),
      [...IPS, agents[0]!].sort(),
      "one new SDS, on the agent with devices",
    );
    assert.deepEqual(
      now.devices.filter((d) => !before.devices.includes(d)).length,
      2,
      now.devices.join(", "),
    );
    // The volume untouched; SDCs on both agents, pointed at the operator's managers.
    assert.deepEqual(now.volumes, ["appdata"]);
    assert.equal(emu.sys.volumeByName("appdata").id, volumeBefore.id);
    assert.equal(JSON.stringify(emu.sys.volumeByName("appdata").mappings), volumeMappings);
    for (const a of agents) {
      assert.ok(now.sdcs.includes(a), `SDC of ${a} registered`);
      assert.deepEqual(emu.sys.node(a).sdcMdmIps, [IPS[0], IPS[1]]);
      assert.ok(now.packages.get(a)?.includes("lia"), `LIA on ${a}`);
    }
    assert.equal(now.sdcs.length, new Set(now.sdcs).size);
  },
);
