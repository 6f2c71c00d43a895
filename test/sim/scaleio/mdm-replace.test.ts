// Reference 6.7, as the framework's replace plan runs it: a lost manager's place taken by a
// standby on another node (replace_cluster_mdm), the failed member removed, the cluster back
// to three healthy members; SDCs pointed at the new set with drv_cfg --mod_mdm_ip.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PASSWORD, onNode, startTestEmu } from "./helpers.js";

async function admin(controlUrl: string, path: string) {
  const r = await fetch(`${controlUrl}${path}`, { method: "POST" });
  assert.equal(r.status, 200, `${path}: ${await r.text()}`);
}

test("replace_cluster_mdm: a standby of the same kind takes a failed member's place; --allow_leave_failed is needed for a member that is down", async () => {
  const t = await startTestEmu({ bootstrap: { mode: "3_node", password: PASSWORD } });
  try {
    const scli = (...argv: string[]) => onNode(t.emu, "10.20.0.11", "scli", argv);
    scli("--login", "--username", "admin", "--password", PASSWORD);
    await admin(t.emu.controlUrl, "/admin/mdm/mdm2/kill");
    const pkg = `${t.emu.repoDir}/EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm`;
    onNode(t.emu, "10.20.0.21", "rpm", ["-Uvh", pkg], { MDM_ROLE_IS_MANAGER: "1" });
    onNode(t.emu, "10.20.0.22", "rpm", ["-Uvh", pkg], { MDM_ROLE_IS_MANAGER: "0" });
    const standby = (ip: string, role: string, name: string) =>
      scli("--add_standby_mdm", "--new_mdm_ip", ip, "--mdm_role", role, "--new_mdm_name", name);
    assert.equal(standby("10.20.0.21", "manager", "mdm4").exitCode, 0);
    assert.equal(standby("10.20.0.22", "tb", "tb2").exitCode, 0);
    const replace = (...extra: string[]) =>
      scli(
        "--replace_cluster_mdm",
        "--remove_slave_mdm_name",
        "mdm2",
        "--add_slave_mdm_name",
        "mdm4",
        ...extra,
        "--i_am_sure",
      );
    // a member that is down leaves only when the operator allows it
    const refused = replace();
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /allow_leave_failed/);
    // a tie-breaker standby cannot take a manager's place
    const wrongKind = scli(
      "--replace_cluster_mdm",
      "--remove_slave_mdm_name",
      "mdm2",
      "--add_slave_mdm_name",
      "tb2",
      "--allow_leave_failed",
      "--i_am_sure",
    );
    assert.notEqual(wrongKind.exitCode, 0);
    assert.equal(replace("--allow_leave_failed").exitCode, 0);
    assert.equal(scli("--remove_standby_mdm", "--remove_mdm_name", "mdm2").exitCode, 0);
    assert.equal(scli("--remove_standby_mdm", "--remove_mdm_name", "tb2").exitCode, 0);
    const q = scli("--query_cluster").stdout;
    assert.match(q, /Mode: 3_node, State: Normal, Active: 3\/3, Replicas: 2\/2/);
    assert.match(q, /Slave MDMs:\n {4}Name: mdm4,/);
    assert.doesNotMatch(q, /Name: mdm2,/);
    // the gateway reports the managers it now knows
    await t.api.login();
    const conf = await t.api.get<{ mdmAddresses: string[] }>("/api/Configuration");
    assert.deepEqual([...conf.mdmAddresses].sort(), ["10.20.0.11", "10.20.0.21"]);
  } finally {
    await t.close();
  }
});

test("drv_cfg --mod_mdm_ip replaces the SDC's MDM addresses (and drv_cfg.txt with --file)", async () => {
  const t = await startTestEmu({ bootstrap: { mode: "3_node", password: PASSWORD } });
  const root = mkdtempSync(join(tmpdir(), "sdc-root-"));
  try {
    const ip = "10.20.0.60";
    const sdc = `${t.emu.repoDir}/EMC-ScaleIO-sdc-2.0-6035.0.el7.x86_64.rpm`;
    const drv = (...argv: string[]) => onNode(t.emu, ip, "drv_cfg", argv, {}, root);
    assert.equal(
      onNode(t.emu, ip, "rpm", ["-Uvh", sdc], { MDM_IP: "10.20.0.11,10.20.0.12" }, root).exitCode,
      0,
    );
    assert.match(drv("--query_mdms").stdout, /\[0\]-10\.20\.0\.11 \[1\]-10\.20\.0\.12/);
    // an address the SDC does not know names no cluster
    assert.notEqual(
      drv("--mod_mdm_ip", "--ip", "10.9.9.9", "--new_mdm_ip", "10.20.0.11").exitCode,
      0,
    );
    const r = drv(
      "--mod_mdm_ip",
      "--ip",
      "10.20.0.12",
      "--new_mdm_ip",
      "10.20.0.11,10.20.0.21",
      "--file",
      "/bin/emc/scaleio/drv_cfg.txt",
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(drv("--query_mdms").stdout, /IPs \[0\]-10\.20\.0\.11 \[1\]-10\.20\.0\.21\n/);
    assert.equal(
      readFileSync(join(root, "bin/emc/scaleio/drv_cfg.txt"), "utf8"),
      "mdm 10.20.0.11,10.20.0.21\n",
    );
  } finally {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test("a dead SDC removed from the cluster stays removed when the managers change, and registers again once its driver runs", async () => {
  const t = await startTestEmu({ bootstrap: { mode: "3_node", password: PASSWORD, sdcCount: 2 } });
  try {
    const sys = t.emu.sys;
    const [dead, other] = [...sys.sdcs.values()].map((s) => s.ip);
    sys.setComponentAlive(dead!, "sdc", false);
    const sdc = [...sys.sdcs.values()].find((s) => s.ip === dead);
    if (sdc) sys.sdcs.delete(sdc.id);
    // A change of managers makes every SDC look for the cluster again: the dead one cannot.
    sys.syncSdcs();
    assert.ok(![...sys.sdcs.values()].some((s) => s.ip === dead), "the dead SDC stays removed");
    assert.ok([...sys.sdcs.values()].some((s) => s.ip === other));
    sys.setComponentAlive(dead!, "sdc", true);
    assert.ok(
      [...sys.sdcs.values()].some((s) => s.ip === dead),
      "back once its driver runs",
    );
  } finally {
    await t.close();
  }
});
