// Reference 8.6 and 1.2: failover to the slave, degraded state, no changes without quorum
// (scli and REST), recovery; a 5_node cluster survives two failures and not three.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, onNode, startTestEmu, type TestEmu } from "./helpers.js";

async function admin(t: TestEmu, path: string, body: unknown = {}) {
  const r = await fetch(`${t.emu.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
  return r.json();
}

const MGRS = "10.20.0.11,10.20.0.12,10.20.0.13,10.20.0.14,10.20.0.15";

test("3_node: master loss fails over to the slave; two losses refuse every change; one recovery restores service", async () => {
  const t = await startTestEmu({ bootstrap: { mode: "3_node", password: PASSWORD } });
  try {
    const scli = (...argv: string[]) =>
      onNode(t.emu, "10.20.0.13", "scli", ["--mdm_ip", MGRS, ...argv]);
    assert.equal(scli("--login", "--username", "admin", "--password", PASSWORD).exitCode, 0);
    await t.api.login();
    await admin(t, "/admin/mdm/mdm1/kill");
    const q = scli("--query_cluster").stdout;
    assert.match(q, /Mode: 3_node, State: Degraded, Active: 2\/3, Replicas: 1\/2/);
    assert.match(q, /Master MDM:\n {4}Name: mdm2,/);
    assert.match(q, /Slave MDMs:\n {4}Name: mdm1,[^\n]*\n[^\n]*\n {8}Status: Disconnected/);
    // changes still accepted, through both interfaces
    assert.equal(
      scli("--add_protection_domain", "--protection_domain_name", "during-failover").exitCode,
      0,
    );
    assert.equal(
      (
        await t.api.raw("POST", "/api/types/ProtectionDomain/instances", {
          body: { name: "rest-ok" },
        })
      ).status,
      200,
    );
    const sys = (await t.api.get<Record<string, unknown>[]>("/api/types/System/instances"))[0]!;
    assert.deepEqual(sys.primaryMdmActorIpList, ["10.20.0.12"]);
    const alerts = await t.api.get<{ alertType: string }[]>("/api/types/Alert/instances");
    assert.ok(alerts.some((a) => a.alertType === "MDM_CLUSTER_DEGRADED"));

    // second loss: no quorum
    await admin(t, "/admin/mdm/tb/kill");
    const refused = scli("--add_protection_domain", "--protection_domain_name", "no-quorum");
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /^Error: MDM failed command\. {2}Status: .*quorum/);
    for (const [method, path, body] of [
      ["POST", "/api/types/ProtectionDomain/instances", { name: "no-quorum" }],
      ["GET", "/api/types/System/instances", undefined],
      ["GET", "/api/login", undefined],
    ] as const) {
      const r = await t.api.raw(method, path, {
        body,
        ...(path === "/api/login" ? { auth: `admin:${PASSWORD}` } : {}),
      });
      assert.ok(r.status >= 500, `${method} ${path} -> ${r.status}`);
      assert.equal((r.body as { httpStatusCode: number }).httpStatusCode, r.status);
    }

    // one member back: service returns
    await admin(t, "/admin/mdm/tb/restore");
    assert.equal(
      scli("--add_protection_domain", "--protection_domain_name", "after-recovery").exitCode,
      0,
    );
    assert.equal((await t.api.raw("GET", "/api/types/System/instances")).status, 200);
    await admin(t, "/admin/mdm/mdm1/restore");
    assert.match(scli("--query_cluster").stdout, /State: Normal, Active: 3\/3, Replicas: 2\/2/);
    // switching ownership back to mdm1
    assert.equal(scli("--switch_mdm_ownership", "--new_master_mdm_name", "mdm1").exitCode, 0);
    assert.match(scli("--query_cluster").stdout, /Master MDM:\n {4}Name: mdm1,/);
  } finally {
    await t.close();
  }
});

test("5_node: survives two member failures, loses service at three", async () => {
  const t = await startTestEmu({ bootstrap: { mode: "5_node", password: PASSWORD } });
  try {
    const scli = (...argv: string[]) =>
      onNode(t.emu, "10.20.0.15", "scli", ["--mdm_ip", MGRS, ...argv]);
    assert.equal(scli("--login", "--username", "admin", "--password", PASSWORD).exitCode, 0);
    assert.match(
      scli("--query_cluster").stdout,
      /Mode: 5_node, State: Normal, Active: 5\/5, Replicas: 3\/3/,
    );
    await admin(t, "/admin/mdm/mdm1/kill");
    await admin(t, "/admin/mdm/tb1/kill");
    assert.match(scli("--query_cluster").stdout, /Active: 3\/5/);
    assert.equal(
      scli("--add_protection_domain", "--protection_domain_name", "two-down").exitCode,
      0,
    );
    await admin(t, "/admin/mdm/mdm2/kill");
    assert.notEqual(
      scli("--add_protection_domain", "--protection_domain_name", "three-down").exitCode,
      0,
    );
    await admin(t, "/admin/mdm/mdm1/restore");
    assert.equal(scli("--add_protection_domain", "--protection_domain_name", "back").exitCode, 0);
  } finally {
    await t.close();
  }
});

test("replacing a failed slave with a standby (reference 6.7)", async () => {
  const t = await startTestEmu({ bootstrap: { mode: "3_node", password: PASSWORD } });
  try {
    const scli = (...argv: string[]) => onNode(t.emu, "10.20.0.11", "scli", argv);
    scli("--login", "--username", "admin", "--password", PASSWORD);
    await admin(t, "/admin/mdm/mdm2/kill");
    const pkg = `${t.emu.repoDir}/EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm`;
    assert.equal(
      onNode(t.emu, "10.20.0.21", "rpm", ["-Uvh", pkg], { MDM_ROLE_IS_MANAGER: "1" }).exitCode,
      0,
    );
    assert.equal(
      scli(
        "--add_standby_mdm",
        "--new_mdm_ip",
        "10.20.0.21",
        "--mdm_role",
        "manager",
        "--new_mdm_name",
        "mdm4",
      ).exitCode,
      0,
    );
    const r = scli(
      "--replace_cluster_mdm",
      "--remove_slave_mdm_name",
      "mdm2",
      "--add_slave_mdm_name",
      "mdm4",
      "--allow_leave_failed",
      "--i_am_sure",
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(scli("--remove_standby_mdm", "--remove_mdm_name", "mdm2").exitCode, 0);
    assert.match(scli("--query_cluster").stdout, /State: Normal, Active: 3\/3, Replicas: 2\/2/);
    // the Fuel-style alternative: back to 1_node (members become standbys), then 3_node again
    const down = scli(
      "--switch_cluster_mode",
      "--cluster_mode",
      "1_node",
      "--remove_slave_mdm_name",
      "mdm4",
      "--remove_tb_name",
      "tb",
      "--i_am_sure",
    );
    assert.equal(down.exitCode, 0, down.stderr);
    assert.match(
      scli("--query_cluster").stdout,
      /Mode: 1_node, State: Normal, Active: 1\/1, Replicas: 1\/1[\s\S]*Standby MDMs:/,
    );
    assert.equal(
      scli(
        "--switch_cluster_mode",
        "--cluster_mode",
        "3_node",
        "--add_slave_mdm_name",
        "mdm4",
        "--add_tb_name",
        "tb",
      ).exitCode,
      0,
    );
    assert.match(scli("--query_cluster").stdout, /Mode: 3_node, State: Normal, Active: 3\/3/);
  } finally {
    await t.close();
  }
});
