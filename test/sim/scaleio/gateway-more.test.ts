// Beyond the checklist: 3.x mode differences, snapshots, SDC loss, component versions for
// upgrade tests, legacy name lookups, and the calls goscaleio/REX-Ray make at start.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, onNode, startTestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };

test("3.x mode: Device path spelling, thinCapacityAllocatedInKb, MDM cluster actions over REST", async () => {
  const t = await startTestEmu({
    apiVersion: "3.0",
    bootstrap: { mode: "1_node", password: PASSWORD },
  });
  try {
    await t.api.login();
    const devices = await t.api.get<Obj[]>("/api/types/Device/instances");
    assert.equal(devices[0]!.deviceCurrentPathName, "/dev/sdb");
    assert.equal(devices[0]!.deviceCurrentPathname, undefined);
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const st = await t.api.get<Record<string, number>>(
      `/api/instances/StoragePool::${pool.id}/relationships/Statistics`,
    );
    assert.equal(st.thinCapacityAllocatedInKb, 0);
    assert.equal(st.thinCapacityAllocatedInKm, 0);
    for (const [ip, mgr] of [
      ["10.20.0.31", "1"],
      ["10.20.0.32", "0"],
    ] as const) {
      onNode(
        t.emu,
        ip,
        "rpm",
        ["-Uvh", `${t.emu.repoDir}/EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm`],
        { MDM_ROLE_IS_MANAGER: mgr },
      );
    }
    const slave = await t.api.post<{ id: string }>("/api/instances/System/action/addStandbyMdm", {
      ips: ["10.20.0.31"],
      role: "Manager",
      name: "mdm2",
    });
    const tb = await t.api.post<{ id: string }>("/api/instances/System/action/addStandbyMdm", {
      ips: ["10.20.0.32"],
      role: "TieBreaker",
      name: "tb",
    });
    await t.api.post("/api/instances/System/action/switchClusterMode", {
      mode: "ThreeNodes",
      addSlaveMdmIdList: [slave.id],
      addTBIdList: [tb.id],
    });
    const cluster = await t.api.post<Record<string, unknown>>(
      `/api/instances/System::${t.emu.sys.id}/action/queryMdmCluster`,
      {},
    );
    assert.equal(cluster.clusterMode, "ThreeNodes");
    assert.equal((cluster.slaves as Obj[])[0]!.name, "mdm2");
    assert.equal((cluster.tieBreakers as Obj[])[0]!.name, "tb");
    await t.api.post("/api/instances/System/action/changeMdmOwnership", { id: slave.id });
    assert.equal(
      (
        (await t.api.post<Record<string, Obj>>("/api/instances/System/queryMdmCluster", {}))
          .master as Obj
      ).name,
      "mdm2",
    );
  } finally {
    await t.close();
  }
});

test("snapshots, SDC loss, legacy lookups, and component versions after an upgrade", async () => {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdcCount: 1 } });
  try {
    await t.api.login();
    const sysId = t.emu.sys.id;
    const pd = (await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"))[0]!;
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "base",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: pool.id,
      volumeType: "ThinProvisioned",
    });
    const snap = await t.api.post<{ volumeIdList: string[]; snapshotGroupId: string }>(
      `/api/instances/System::${sysId}/action/snapshotVolumes`,
      { snapshotDefs: [{ volumeId: v.id, snapshotName: "base-snap" }] },
    );
    const s = await t.api.get<Obj>(`/api/instances/Volume::${snap.volumeIdList[0]}`);
    assert.equal(s.volumeType, "Snapshot");
    assert.equal(s.ancestorVolumeId, v.id);
    assert.equal(s.vtreeId, (await t.api.get<Obj>(`/api/instances/Volume::${v.id}`)).vtreeId);
    // legacy getByName lookups return a quoted id
    assert.equal(
      (await t.api.raw("GET", "/api/types/Domain/instances/getByName::default")).text,
      JSON.stringify(pd.id),
    );
    assert.equal(
      (await t.api.raw("GET", `/api/types/Pool/instances/getByName::${pd.id},default`)).text,
      JSON.stringify(pool.id),
    );
    assert.equal(
      (await t.api.raw("GET", "/api/types/Volume/instances/getByName::base")).text,
      JSON.stringify(v.id),
    );
    const sp = await t.api.raw("POST", "/api/types/StoragePool/instances/action/queryIdByKey", {
      body: { name: "default", protectionDomainName: "default" },
    });
    assert.equal(sp.text, JSON.stringify(pool.id));
    // SDC loss
    const sdc = (await t.api.get<Obj[]>(`/api/instances/System::${sysId}/relationships/Sdc`))[0]!;
    await fetch(`${t.emu.controlUrl}/admin/sdc/${sdc.id}/kill`, { method: "POST" });
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/Sdc::${sdc.id}`)).mdmConnectionState,
      "Disconnected",
    );
    assert.ok(
      (await t.api.get<{ alertType: string }[]>("/api/types/Alert/instances")).some(
        (a) => a.alertType === "SDC_DISCONNECTED",
      ),
    );
    await fetch(`${t.emu.controlUrl}/admin/sdc/${sdc.id}/restore`, { method: "POST" });
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/Sdc::${sdc.id}`)).mdmConnectionState,
      "Connected",
    );
    // upgrade an SDS and an SDC in place: versions follow
    const newer = (c: string) => `${t.emu.repoDir}/EMC-ScaleIO-${c}-2.0-13000.211.el7.x86_64.rpm`;
    assert.equal(onNode(t.emu, "10.20.0.11", "rpm", ["-Uvh", newer("sds")]).exitCode, 0);
    assert.equal(onNode(t.emu, "10.20.0.11", "rpm", ["-Uvh", newer("sdc")]).exitCode, 0);
    const sds = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pd.id}/relationships/Sds`,
    );
    assert.deepEqual(
      sds.map((x) => x.softwareVersionInfo),
      ["R2_0.13000.211", "R2_0.6035.0", "R2_0.6035.0"],
    );
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/Sdc::${sdc.id}`)).softwareVersionInfo,
      "R2_0.13000.211",
    );
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/Sdc::${sdc.id}`)).sdcGuid,
      sdc.sdcGuid,
      "GUID survives the upgrade",
    );
    // what a driver does at start: everything in one listing, and gateway configuration
    const all = await t.api.get<Record<string, unknown[]>>("/api/instances");
    assert.equal(all.sdsList!.length, 3);
    assert.equal(all.volumeList!.length, 2);
    const conf = await t.api.get<{ mdmAddresses: string[] }>("/api/Configuration");
    assert.deepEqual(conf.mdmAddresses, ["10.20.0.11", "10.20.0.12"]);
    const byIds = await t.api.post<Obj[]>("/api/types/Volume/instances/action/queryBySelectedIds", {
      ids: [v.id],
    });
    assert.equal(byIds[0]!.name, "base");
    // removing a volume with a snapshot, whole tree
    await t.api.post(`/api/instances/Volume::${v.id}/action/removeVolume`, {
      removeMode: "INCLUDING_DESCENDANTS",
    });
    assert.equal((await t.api.get<Obj[]>("/api/types/Volume/instances")).length, 0);
  } finally {
    await t.close();
  }
});

test("mapping limits, removing a mapped volume, repeated SDS removal: values and error codes", async () => {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdcCount: 1, sdsCount: 4 } });
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const sdc = (await t.api.get<Obj[]>("/api/types/Sdc/instances"))[0]!;
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "lim",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    await t.api.post(`/api/instances/Volume::${v.id}/action/addMappedSdc`, {
      sdcId: sdc.id,
      allowMultipleMappings: "FALSE",
    });
    await t.api.post(`/api/instances/Volume::${v.id}/action/setMappedSdcLimits`, {
      sdcId: sdc.id,
      iopsLimit: "1000",
      bandwidthLimitInKbps: "2048",
    });
    const info = (await t.api.get<Obj>(`/api/instances/Volume::${v.id}`)).mappedSdcInfo as Obj[];
    assert.equal(info[0]!.limitIops, 1000);
    assert.equal(info[0]!.limitBwInMbps, 2);
    for (const body of [
      { sdcId: sdc.id, iopsLimit: "5" },
      { sdcId: sdc.id, bandwidthLimitInKbps: "1000" },
    ]) {
      const r = await t.api.raw(
        "POST",
        `/api/instances/Volume::${v.id}/action/setMappedSdcLimits`,
        { body },
      );
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    const mapped = await t.api.raw("POST", `/api/instances/Volume::${v.id}/action/removeVolume`, {
      body: { removeMode: "ONLY_ME" },
    });
    assert.equal((mapped.body as { errorCode: number }).errorCode, 104);
    const shrink = await t.api.raw("POST", `/api/instances/Volume::${v.id}/action/setVolumeSize`, {
      body: { sizeInGB: "8" },
    });
    assert.equal(shrink.status, 400);
    assert.equal((shrink.body as { errorCode: number }).errorCode, 133);
    const sds = (await t.api.get<Obj[]>("/api/types/Sds/instances"))[3]!;
    await t.api.post(`/api/instances/Sds::${sds.id}/action/removeSds`, {});
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/Sds::${sds.id}`)).sdsState,
      "RemovalInProgress",
    );
    const again = await t.api.raw("POST", `/api/instances/Sds::${sds.id}/action/removeSds`, {
      body: {},
    });
    assert.equal((again.body as { errorCode: number }).errorCode, 103);
  } finally {
    await t.close();
  }
});
