// Taking a cluster apart, as an uninstall does: a pool with devices, a fault set with an SDS
// and a domain with pools are refused; emptied they go (REST removeStoragePool,
// removeFaultSet, removeProtectionDomain). Removing the MDM package from every member ends
// the cluster: the gateway says no cluster is configured, nothing left in the model, and the machines can
// build a new cluster with scli.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, onNode, startTestEmu } from "./helpers.js";

type Obj = Record<string, unknown> & { id: string };

test("pools, fault sets and domains go only once empty", async () => {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdsCount: 3 } });
  try {
    await t.api.login();
    const pd = (await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"))[0]!;
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const { id: fsId } = await t.api.post<{ id: string }>("/api/types/FaultSet/instances", {
      name: "fs1",
      protectionDomainId: pd.id,
    });
    const act = (type: string, id: string, verb: string) =>
      t.api.raw("POST", `/api/instances/${type}::${id}/action/${verb}`, { body: {} });

    let r = await act("StoragePool", pool.id, "removeStoragePool");
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /The Storage Pool has SDS devices/);
    r = await act("ProtectionDomain", pd.id, "removeProtectionDomain");
    assert.equal(r.status, 400, r.text);

    for (const s of await t.api.get<Obj[]>("/api/types/Sds/instances"))
      assert.equal((await act("Sds", s.id, "removeSds")).status, 200);
    assert.equal((await act("StoragePool", pool.id, "removeStoragePool")).status, 200);
    assert.equal((await act("FaultSet", fsId, "removeFaultSet")).status, 200);
    assert.equal((await act("ProtectionDomain", pd.id, "removeProtectionDomain")).status, 200);
    assert.deepEqual(await t.api.get<Obj[]>("/api/types/StoragePool/instances"), []);
    assert.deepEqual(await t.api.get<Obj[]>("/api/types/FaultSet/instances"), []);
    assert.deepEqual(await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"), []);
    assert.equal((await act("StoragePool", pool.id, "removeStoragePool")).status, 500);
  } finally {
    await t.close();
  }
});

test("the MDM package removed from every member ends the cluster; a new one can be built", async () => {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdsCount: 3, sdcCount: 1 } });
  try {
    await t.api.login();
    const members = ["10.20.0.11", "10.20.0.12", "10.20.0.13"];
    // A tie-breaker and a slave first: the cluster still answers (degraded, with quorum lost
    // only once two voting members are gone).
    assert.equal(onNode(t.emu, members[2]!, "rpm", ["-e", "EMC-ScaleIO-mdm"]).exitCode, 0);
    assert.ok(t.emu.sys.created);
    assert.equal(onNode(t.emu, members[1]!, "rpm", ["-e", "EMC-ScaleIO-mdm"]).exitCode, 0);
    assert.ok(t.emu.sys.created, "the master still holds the cluster's repository");
    assert.equal(onNode(t.emu, members[0]!, "rpm", ["-e", "EMC-ScaleIO-mdm"]).exitCode, 0);
    assert.equal(t.emu.sys.created, false);
    assert.equal(t.emu.sys.sdss.size + t.emu.sys.pools.size + t.emu.sys.pds.size, 0);
    assert.equal(t.emu.sys.sdcs.size, 0);
    const r = await t.api.raw("GET", "/api/types/System/instances");
    assert.match(r.text, /MDM cluster is not configured/);
    // Removing it again is rpm's own error, and nothing changes.
    assert.equal(onNode(t.emu, members[0]!, "rpm", ["-e", "EMC-ScaleIO-mdm"]).exitCode, 1);

    const pkg = `${t.emu.repoDir}/EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm`;
    assert.equal(
      onNode(t.emu, members[0]!, "rpm", ["-Uvh", pkg], { MDM_ROLE_IS_MANAGER: "1" }).exitCode,
      0,
    );
    const created = onNode(t.emu, members[0]!, "scli", [
      "--create_mdm_cluster",
      "--master_mdm_ip",
      members[0]!,
      "--master_mdm_management_ip",
      members[0]!,
      "--master_mdm_name",
      "again",
      "--accept_license",
      "--approve_certificate",
    ]);
    assert.equal(created.exitCode, 0, created.stderr);
    assert.match(created.stdout, /Successfully created the MDM Cluster/);
  } finally {
    await t.close();
  }
});
