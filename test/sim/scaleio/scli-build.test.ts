// Reference 8.1-8.5, 8.21, 8.22 and the "build a whole cluster with scli alone":
// packages with their install variables, the framework's scli sequence, then REST readback.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
  closeSync,
  readFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onNode, startTestEmu } from "./helpers.js";

const IPS = ["10.20.0.11", "10.20.0.12", "10.20.0.13"] as const;
const NO_SESSION =
  "Error: MDM failed command.  Status: Invalid session. Please login and try again.\n";
type Obj = Record<string, unknown> & { id: string };

test("an operator builds a 3_node cluster with packages and scli alone; REST reads it all back", async () => {
  const t = await startTestEmu({ bootstrap: false });
  const roots = mkdtempSync(join(tmpdir(), "scaleio-nodes-"));
  const root = (ip: string) => join(roots, ip);
  const pkg = (c: string) => join(t.emu.repoDir, `EMC-ScaleIO-${c}-2.0-6035.0.el7.x86_64.rpm`);
  const run = (
    ip: string,
    tool: "scli" | "rpm" | "drv_cfg",
    argv: string[],
    env: Record<string, string> = {},
  ) => onNode(t.emu, ip, tool, argv, env, root(ip));
  const scli = (ip: string, ...argv: string[]) => run(ip, "scli", argv);
  try {
    // packages (reference 2.3): two managers and a tie-breaker, SDS everywhere, SDCs pointing at the managers
    for (const [i, ip] of IPS.entries()) {
      const mdm = run(ip, "rpm", ["-Uvh", pkg("mdm")], { MDM_ROLE_IS_MANAGER: i < 2 ? "1" : "0" });
      assert.equal(mdm.exitCode, 0, mdm.stderr);
      assert.match(mdm.stdout, /Created symlink from/);
      assert.match(run(ip, "rpm", ["-Uvh", pkg("sds")]).stdout, /Created symlink from/);
      const sdc = run(ip, "rpm", ["-Uvh", pkg("sdc")], { MDM_IP: `${IPS[0]},${IPS[1]}` });
      assert.match(sdc.stdout, /Starting scini/);
    }
    assert.equal(
      readFileSync(join(root(IPS[2]), "opt/emc/scaleio/mdm/cfg/conf.txt"), "utf8"),
      "actor_role_is_manager=0\n",
    );
    assert.match(
      readFileSync(join(root(IPS[0]), "bin/emc/scaleio/drv_cfg.txt"), "utf8"),
      /^mdm 10\.20\.0\.11,10\.20\.0\.12$/m,
    );
    assert.equal(
      run(IPS[0], "rpm", ["-q", "EMC-ScaleIO-mdm"]).stdout,
      "EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64\n",
    );
    assert.equal(
      run(IPS[0], "rpm", ["-q", "--qf", "%{VERSION}-%{RELEASE}", "EMC-ScaleIO-sds"]).stdout,
      "2.0-6035.0.el7",
    );
    assert.equal(run(IPS[0], "rpm", ["-q", "EMC-ScaleIO-lia"]).exitCode, 1);

    // 8.1: create the cluster on the first manager
    const created = scli(
      IPS[0],
      "--create_mdm_cluster",
      "--master_mdm_ip",
      IPS[0],
      "--master_mdm_management_ip",
      IPS[0],
      "--master_mdm_name",
      "mdm1",
      "--accept_license",
      "--approve_certificate",
    );
    assert.equal(created.exitCode, 0, created.stderr);
    assert.match(created.stdout, /Successfully created the MDM Cluster/);
    // 8.2: no session yet
    const noSession = scli(IPS[0], "--add_protection_domain", "--protection_domain_name", "pd1");
    assert.equal(noSession.stderr, NO_SESSION);
    assert.notEqual(noSession.exitCode, 0);
    // 8.3: login, password change, old password refused
    const login = scli(IPS[0], "--login", "--username", "admin", "--password", "admin");
    assert.match(login.stdout, /^Logged in\./);
    assert.ok(login.stdout.includes(t.emu.sys.id));
    assert.match(t.emu.sys.id, /^[0-9a-f]{16}$/);
    assert.match(
      scli(IPS[0], "--query_cluster").stdout,
      /Mode: 1_node, State: Normal, Active: 1\/1, Replicas: 1\/1/,
    );
    assert.equal(
      scli(IPS[0], "--set_password", "--old_password", "admin", "--new_password", "N3w-pw").stdout,
      "Password changed successfully\n",
    );
    assert.notEqual(
      scli(IPS[0], "--login", "--username", "admin", "--password", "admin").exitCode,
      0,
    );
    assert.equal(
      scli(IPS[0], "--login", "--username", "admin", "--password", "N3w-pw").exitCode,
      0,
    );

    // 8.4: standbys are listed but do not vote
    assert.match(
      scli(
        IPS[0],
        "--add_standby_mdm",
        "--new_mdm_ip",
        IPS[1],
        "--mdm_role",
        "manager",
        "--new_mdm_management_ip",
        IPS[1],
        "--new_mdm_name",
        "mdm2",
      ).stdout,
      /Successfully added a standby MDM/,
    );
    assert.match(
      scli(
        IPS[0],
        "--add_standby_mdm",
        "--new_mdm_ip",
        IPS[2],
        "--mdm_role",
        "tb",
        "--new_mdm_name",
        "tb",
      ).stdout,
      /Successfully added a standby MDM/,
    );
    const standby = scli(IPS[0], "--query_cluster").stdout;
    assert.match(standby, /Standby MDMs:\n {4}Name: mdm2, ID: 0x[0-9a-f]{16}, Manager\n/);
    assert.match(standby, /Name: tb, ID: 0x[0-9a-f]{16}, Tie Breaker/);
    assert.match(standby, /Active: 1\/1/);
    // a tie-breaker package cannot become a manager
    assert.notEqual(
      scli(
        IPS[0],
        "--add_standby_mdm",
        "--new_mdm_ip",
        IPS[2],
        "--mdm_role",
        "manager",
        "--new_mdm_name",
        "x",
      ).exitCode,
      0,
    );

    // 8.5: 3_node needs exactly one slave and one TB
    assert.notEqual(
      scli(
        IPS[0],
        "--switch_cluster_mode",
        "--cluster_mode",
        "3_node",
        "--add_slave_mdm_name",
        "mdm2",
      ).exitCode,
      0,
    );
    assert.notEqual(
      scli(
        IPS[0],
        "--switch_cluster_mode",
        "--cluster_mode",
        "5_node",
        "--add_slave_mdm_name",
        "mdm2",
        "--add_tb_name",
        "tb",
      ).exitCode,
      0,
    );
    assert.match(
      scli(
        IPS[0],
        "--switch_cluster_mode",
        "--cluster_mode",
        "3_node",
        "--add_slave_mdm_name",
        "mdm2",
        "--add_tb_name",
        "tb",
      ).stdout,
      /Successfully switched the cluster mode/,
    );
    const q = scli(IPS[0], "--query_cluster").stdout;
    assert.match(
      q,
      /^Cluster:\n {4}Mode: 3_node, State: Normal, Active: 3\/3, Replicas: 2\/2\nMaster MDM:\n {4}Name: mdm1, ID: 0x[0-9a-f]{16}\n {8}IPs: 10\.20\.0\.11, Management IPs: 10\.20\.0\.11, Port: 9011\n {8}Version: 2\.0\.6035\nSlave MDMs:\n/,
    );
    assert.match(
      q,
      /Tie-Breakers:\n {4}Name: tb, ID: 0x[0-9a-f]{16}\n {8}IPs: 10\.20\.0\.13, Port: 9011\n {8}Status: Normal, Version: 2\.0\.6035/,
    );
    assert.ok(!q.includes("Standby MDMs:"));
    assert.match(
      scli(IPS[0], "--mdm_ip", IPS[0], "--rename_system", "--new_name", "scaleio").stdout,
      /Successfully renamed system to scaleio/,
    );

    // storage: PD, pool, 3 SDSs with a device each, a volume mapped to node 1's SDC
    assert.match(
      scli(IPS[0], "--add_protection_domain", "--protection_domain_name", "pd1").stdout,
      /Successfully created protection domain pd1\. Object ID [0-9a-f]{16}/,
    );
    assert.match(
      scli(
        IPS[0],
        "--add_storage_pool",
        "--protection_domain_name",
        "pd1",
        "--storage_pool_name",
        "sp1",
      ).stdout,
      /Successfully created a storage pool/,
    );
    assert.equal(scli(IPS[0], "--query_all_sds").stdout, "Query-all-SDS returned 0 SDS nodes.\n");
    for (const [i, ip] of IPS.entries()) {
      const r = scli(
        IPS[0],
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
        `sds${i + 1}`,
      );
      assert.match(
        r.stdout,
        new RegExp(`Successfully created SDS sds${i + 1}\\. Object ID [0-9a-f]{16}`),
        r.stderr,
      );
    }
    // 8.22: query_all_sds layout
    const all = scli(IPS[0], "--query_all_sds").stdout.split("\n");
    assert.equal(all[0], "Query-all-SDS returned 3 SDS nodes.");
    assert.match(all[2]!, /^Protection Domain [0-9a-f]{16} Name: pd1$/);
    for (const [i, ip] of IPS.entries()) {
      assert.match(
        all[3 + i]!,
        new RegExp(
          `^SDS ID: [0-9a-f]{16} Name: sds${i + 1} State: Connected, Joined IP: ${ip.replace(/\./g, "\\.")} Port: 7072 Version: 2\\.0\\.6035$`,
        ),
      );
    }
    const vol = scli(
      IPS[0],
      "--add_volume",
      "--protection_domain_name",
      "pd1",
      "--storage_pool_name",
      "sp1",
      "--size_gb",
      "1",
      "--volume_name",
      "demo",
      "--thin_provisioned",
    );
    assert.match(vol.stdout, /Successfully created volume of size 8 GB\. Object ID ([0-9a-f]{16})/);
    const volId = /Object ID ([0-9a-f]{16})/.exec(vol.stdout)![1]!;
    assert.match(
      scli(IPS[0], "--map_volume_to_sdc", "--volume_name", "demo", "--sdc_ip", IPS[0]).stdout,
      new RegExp(`Successfully mapped volume with ID ${volId} to SDC`),
    );

    // REST readback
    await t.api.login("admin", "N3w-pw");
    const sysId = t.emu.sys.id;
    const systems = await t.api.get<Obj[]>("/api/types/System/instances");
    assert.equal(systems[0]!.name, "scaleio");
    assert.deepEqual(systems[0]!.primaryMdmActorIpList, [IPS[0]]);
    assert.deepEqual(systems[0]!.secondaryMdmActorIpList, [IPS[1]]);
    assert.deepEqual(systems[0]!.tiebreakerMdmIpList, [IPS[2]]);
    const users = await t.api.get<Obj[]>(`/api/instances/System::${sysId}/relationships/User`);
    assert.deepEqual(
      users.map((u) => u.name),
      ["admin"],
    );
    const pds = await t.api.get<Obj[]>(
      `/api/instances/System::${sysId}/relationships/ProtectionDomain`,
    );
    assert.deepEqual(
      pds.map((p) => p.name),
      ["pd1"],
    );
    const sds = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pds[0]!.id}/relationships/Sds`,
    );
    assert.deepEqual(
      sds.map((s) => [s.name, s.mdmConnectionState, s.port]),
      [
        ["sds1", "Connected", 7072],
        ["sds2", "Connected", 7072],
        ["sds3", "Connected", 7072],
      ],
    );
    const pools = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pds[0]!.id}/relationships/StoragePool`,
    );
    const devices = await t.api.get<Obj[]>(
      `/api/instances/StoragePool::${pools[0]!.id}/relationships/Device`,
    );
    assert.equal(devices.length, 3);
    assert.equal(devices[0]!.deviceCurrentPathname, "/dev/sdb");
    const volumes = await t.api.get<Obj[]>(
      `/api/instances/StoragePool::${pools[0]!.id}/relationships/Volume`,
    );
    assert.deepEqual(
      volumes.map((v) => [v.name, v.sizeInKb, v.volumeType]),
      [["demo", 8388608, "ThinProvisioned"]],
    );

    // 8.21: SDCs registered through MDM_IP, GUID = drv_cfg --query_guid, device path after mapping
    const sdcs = await t.api.get<Obj[]>(`/api/instances/System::${sysId}/relationships/Sdc`);
    assert.equal(sdcs.length, 3);
    const sdc1 = sdcs.find((s) => s.sdcIp === IPS[0])!;
    assert.equal(sdc1.mdmConnectionState, "Connected");
    const guid = run(IPS[0], "drv_cfg", ["--query_guid"]).stdout.trim();
    assert.equal(sdc1.sdcGuid, guid);
    assert.equal(guid, guid.toUpperCase());
    const dev1 = join(root(IPS[0]), "dev/disk/by-id", `emc-vol-${sysId}-${volId}`);
    assert.ok(existsSync(dev1), "mapped volume appears under the node root");
    assert.match(
      run(IPS[0], "drv_cfg", ["--query_mdms"]).stdout,
      new RegExp(`MDM-ID ${sysId} SDC ID ${sdc1.id}`),
    );

    // the same bytes through another node that maps the volume
    const fd = openSync(dev1, "r+");
    writeSync(fd, Buffer.from("hello from node 1"), 0, 17, 4096);
    closeSync(fd);
    assert.equal(
      scli(IPS[0], "--map_volume_to_sdc", "--volume_name", "demo", "--sdc_ip", IPS[1]).exitCode,
      1,
      "second SDC needs --allow_multi_map",
    );
    assert.equal(
      scli(
        IPS[0],
        "--map_volume_to_sdc",
        "--volume_name",
        "demo",
        "--sdc_ip",
        IPS[1],
        "--allow_multi_map",
      ).exitCode,
      0,
    );
    const dev2 = join(root(IPS[1]), "dev/disk/by-id", `emc-vol-${sysId}-${volId}`);
    const buf = Buffer.alloc(17);
    const fd2 = openSync(dev2, "r");
    readSync(fd2, buf, 0, 17, 4096);
    closeSync(fd2);
    assert.equal(buf.toString(), "hello from node 1");
    // bytes written through the device count as data in the thin volume's pool
    const big = openSync(dev2, "r+");
    writeSync(big, Buffer.alloc(4 * 1048576, 1), 0, 4 * 1048576, 1048576 * 64);
    closeSync(big);
    const poolStats = await t.api.get<Record<string, number>>(
      `/api/instances/StoragePool::${pools[0]!.id}/relationships/Statistics`,
    );
    assert.ok(
      poolStats.thinCapacityInUseInKb! >= 2 * 4 * 1024,
      `thin in use ${poolStats.thinCapacityInUseInKb}`,
    );
    const unmap = scli(
      IPS[0],
      "--unmap_volume_from_sdc",
      "--volume_name",
      "demo",
      "--sdc_ip",
      IPS[0],
      "--i_am_sure",
    );
    assert.match(
      unmap.stdout,
      new RegExp(`Successfully un-mapped volume with ID ${volId} from SDC with ID ${sdc1.id}\\.`),
    );
    assert.ok(!existsSync(dev1), "unmapping removes the path");
    assert.ok(existsSync(dev2));
    assert.match(
      scli(
        IPS[0],
        "--unmap_volume_from_sdc",
        "--volume_name",
        "demo",
        "--sdc_ip",
        IPS[0],
        "--i_am_sure",
      ).stderr,
      /The volume is not mapped to SDC/,
    );

    // query_all carries what parsers rely on
    const qa = scli(IPS[0], "--query_all").stdout;
    assert.match(qa, /Installation ID: [0-9a-f]{16}/);
    assert.match(qa, /Capacity alert thresholds: High: 80, Critical: 90/);
    assert.match(qa, /Product: {2}EMC ScaleIO Version: R2_0\.6035\.0/);
    assert.match(
      qa,
      /3 SDS nodes have connection state 'Connected'\n {4}300\.0 GB \(307200 MB\) total capacity\n/,
    );
    assert.match(
      qa,
      /Protection Domain pd1 Id: [0-9a-f]{16} has 1 storage pools, 0 Fault Sets, 3 SDS nodes, 1 volumes and 128\.0 GB \(131072 MB\) available for volume allocation/,
    );
    // removing the SDS package takes the SDS away from the MDM's view
    assert.equal(run(IPS[2], "rpm", ["-e", "EMC-ScaleIO-sds"]).exitCode, 0);
    assert.match(scli(IPS[0], "--query_all_sds").stdout, /Name: sds3 State: Disconnected/);
  } finally {
    await t.close();
    rmSync(roots, { recursive: true, force: true });
  }
});
