// Day-two scli commands (reference 3.2/3.3): fault sets, devices, volumes, spare policy,
// thresholds, maintenance, removal and the machine-friendly --query_properties layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, onNode, startTestEmu } from "./helpers.js";

const GB = 1048576;

test("scli day-two operations against a ready cluster", async () => {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdsCount: 3, sdcCount: 1 } });
  try {
    const scli = (...argv: string[]) => {
      const r = onNode(t.emu, "10.20.0.11", "scli", argv);
      return r;
    };
    const ok = (...argv: string[]) => {
      const r = scli(...argv);
      assert.equal(r.exitCode, 0, `${argv.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    ok("--login", "--username", "admin", "--password", PASSWORD);
    // volumes: create, resize (scli rounds up), query, rename, remove
    assert.match(
      ok(
        "--add_volume",
        "--protection_domain_name",
        "default",
        "--storage_pool_name",
        "default",
        "--size_gb",
        "12",
        "--volume_name",
        "v1",
      ),
      /Rounding up the volume size to 16 GB\nSuccessfully created volume of size 16 GB/,
    );
    assert.match(
      ok("--query_volume", "--volume_name", "v1"),
      /Provisioning: Thick\n\tSize: 16\.0 GB \(16384 MB\)/,
    );
    ok("--modify_volume_capacity", "--volume_name", "v1", "--size_gb", "20");
    assert.equal(t.emu.sys.volumeByName("v1").sizeKb, 24 * GB);
    assert.match(
      scli("--modify_volume_capacity", "--volume_name", "v1", "--size_gb", "8").stderr,
      /^Error: MDM failed command\. {2}Status: Invalid volume size/,
    );
    assert.match(
      ok("--query_all_volumes"),
      /^Query-all-volumes returned 1 volumes\nProtection Domain [0-9a-f]{16} Name: default\nStorage Pool [0-9a-f]{16} Name: default\n Volume ID: [0-9a-f]{16} Name: v1 Size: 24\.0 GB/,
    );
    assert.match(
      scli(
        "--add_volume",
        "--protection_domain_name",
        "default",
        "--storage_pool_name",
        "default",
        "--size_gb",
        "8",
        "--volume_name",
        "v1",
      ).stderr,
      /Volume name already in use\. Please use a different name\./,
    );
    assert.notEqual(
      scli("--remove_volume", "--volume_name", "v1").exitCode,
      0,
      "needs --i_am_sure",
    );
    ok("--remove_volume", "--volume_name", "v1", "--i_am_sure");
    assert.match(ok("--query_all_volumes"), /<No volumes defined>/);
    assert.match(scli("--query_volume", "--volume_name", "v1").stderr, /Could not find the volume/);

    // spare policy and thresholds show in query_storage_pool and REST
    ok(
      "--modify_spare_policy",
      "--protection_domain_name",
      "default",
      "--storage_pool_name",
      "default",
      "--spare_percentage",
      "34",
      "--i_am_sure",
    );
    ok(
      "--set_capacity_alerts_threshold",
      "--capacity_high_threshold",
      "70",
      "--capacity_critical_threshold",
      "85",
      "--protection_domain_name",
      "default",
      "--storage_pool_name",
      "default",
    );
    const pool = ok(
      "--query_storage_pool",
      "--protection_domain_name",
      "default",
      "--storage_pool_name",
      "default",
    );
    assert.match(pool, /Spare policy: 34% out of total/);
    assert.match(pool, /Capacity alert thresholds: High: 70, Critical: 85/);
    assert.notEqual(
      scli(
        "--set_capacity_alerts_threshold",
        "--capacity_high_threshold",
        "95",
        "--capacity_critical_threshold",
        "90",
        "--all_storage_pools",
      ).exitCode,
      0,
    );

    // fault sets, an SDS joining one, extra devices, removal
    ok("--add_fault_set", "--protection_domain_name", "default", "--fault_set_name", "rack1");
    const pkg = `${t.emu.repoDir}/EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm`;
    assert.equal(onNode(t.emu, "10.20.0.41", "rpm", ["-Uvh", pkg]).exitCode, 0);
    assert.match(
      scli(
        "--add_sds",
        "--sds_ip",
        "10.20.0.42",
        "--protection_domain_name",
        "default",
        "--storage_pool_name",
        "default",
        "--device_path",
        "/dev/sdb",
      ).stderr,
      /Could not connect to the SDS/,
    );
    assert.match(
      ok(
        "--add_sds",
        "--sds_ip",
        "10.20.0.41",
        "--protection_domain_name",
        "default",
        "--storage_pool_name",
        "default",
        "--device_path",
        "/dev/sdb,/dev/sdc",
        "--fault_set_name",
        "rack1",
      ),
      /Successfully created SDS SDS_\[10\.20\.0\.41\]\. Object ID/,
    );
    ok(
      "--add_sds_device",
      "--sds_ip",
      "10.20.0.41",
      "--device_path",
      "/dev/sdd",
      "--storage_pool_name",
      "default",
    );
    const props = ok(
      "--query_properties",
      "--object_type",
      "SDS",
      "--all_objects",
      "--properties",
      "NAME,IPS,PORT,FAULT_SET_ID",
    );
    assert.match(
      props,
      /^SDS [0-9a-f]{16}:\n\tNAME {47}sds1\n\tIPS {48}10\.20\.0\.11\n\tPORT {47}7072\n\tFAULT_SET_ID {39}<Not Set>\n/,
    );
    assert.match(props, /\tFAULT_SET_ID {39}[0-9a-f]{16}\n/);
    assert.match(
      ok("--query_sds", "--sds_name", "SDS_[10.20.0.41]"),
      /Device information total 3 devices:\n {5}1: Name: \/dev\/sdb {2}Path: \/dev\/sdb {2}Original-path: \/dev\/sdb {2}ID: [0-9a-f]{16}\n {8}Storage Pool: default, Capacity: 100 GB/,
    );
    ok("--remove_sds_device", "--sds_name", "SDS_[10.20.0.41]", "--device_path", "/dev/sdd");
    assert.equal(
      [...t.emu.sys.devices.values()].filter((d) => d.path === "/dev/sdd").length,
      0,
      "no data on it: removed at once",
    );
    ok("--remove_sds", "--sds_name", "SDS_[10.20.0.41]");
    assert.match(ok("--query_all_sds"), /^Query-all-SDS returned 3 SDS nodes\./);
    const mdms = ok("--query_properties", "--object_type", "MDM", "--all_objects");
    assert.match(mdms, /\tROLE {47}MDM_ROLE_TIE_BREAKER\n/);
    assert.match(mdms, /\tIS_MASTER {42}Yes\n/);

    // maintenance through scli
    assert.match(ok("--enter_maintenance_mode", "--sds_name", "sds2"), /entered maintenance mode/);
    assert.match(ok("--query_sds", "--sds_name", "sds2"), /Maintenance-state: In maintenance/);
    ok("--exit_maintenance_mode", "--sds_name", "sds2");

    // query_all_sdc: the 2.0 layout parsers rely on
    assert.match(
      ok("--query_all_sdc"),
      /^MDM restricted SDC mode: Disabled\nQuery all SDC returned 1 SDC nodes\.\nSDC ID: [0-9a-f]{16} Name: N\/A IP: 10\.20\.0\.11 State: Connected GUID: [0-9A-F-]{36} OS Type: LINUX Approved: yes Loaded Version: 2\.0\.6035 Installed Version: 2\.0\.6035\n {4}Read bandwidth: {2}0 IOPS 0 Bytes per-second\n {4}Write bandwidth: {2}0 IOPS 0 Bytes per-second\n$/,
    );

    // users, logout
    assert.match(
      ok("--add_user", "--username", "ops", "--user_role", "FrontEndConfigure"),
      /with password '[0-9a-f]{12}'/,
    );
    assert.equal(ok("--logout"), "Logged out\n");
    assert.match(scli("--query_all_sds").stderr, /Invalid session/);
    assert.match(scli("--no_such_command").stderr, /^Error: No command given/);
    assert.equal(
      scli("--query_all_sds", "--mdm_ip", "10.99.0.1").stderr,
      "Error: Failed to connect to MDM 10.99.0.1:6611\n",
    );
  } finally {
    await t.close();
  }
});

test("fault sets: losing every SDS of one fault set leaves no failed capacity", async () => {
  const t = await startTestEmu({ bootstrap: false });
  try {
    const sys = t.emu.sys;
    const ips = ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"];
    sys.installPackage(ips[0]!, "mdm", undefined, "rpm", { MDM_ROLE_IS_MANAGER: "1" });
    for (const ip of ips) sys.installPackage(ip, "sds");
    sys.createCluster(ips[0]!, ips[0]!, "mdm1");
    const pd = sys.addProtectionDomain("pd");
    const sp = sys.addStoragePool(pd.id, "sp");
    const sets = ["fs1", "fs2", "fs3"].map((n) => sys.addFaultSet(pd.id, n));
    ips.forEach((ip, i) =>
      sys.addSds({
        protectionDomainId: pd.id,
        ips: [{ ip, role: "all" }],
        faultSetId: sets[i % 3]!.id,
        devices: [{ path: "/dev/sdb", storagePoolId: sp.id }],
      }),
    );
    const v = sys.addVolume({ name: "v", storagePoolId: sp.id, sizeKb: 64 * GB, thin: false });
    for (const ip of [ips[0]!, ips[3]!]) sys.setComponentAlive(ip, "sds", false); // both in fs1
    const c = sys.poolCapacity(sp.id);
    assert.equal(c.failedCapacityInKb, 0);
    assert.ok(c.degradedHealthyCapacityInKb > 0);
    assert.equal(sys.volumeHasFailedData(v), false);
    // the 3-fault-unit minimum counts fault sets, not SDSs
    assert.equal(sys.faultUnitCount(sp.id), 3);
  } finally {
    await t.close();
  }
});
