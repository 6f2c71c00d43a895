// Reference 8.23-8.25, 5.4, 6.4, 6.5: SDS loss, forward rebuild, second failure, backward
// rebuild, graceful removal, maintenance mode and rebalance. Time moves only by the admin knob.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, startTestEmu, type TestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };
type Stats = Record<string, number>;

async function admin(t: TestEmu, path: string, body: unknown = {}) {
  const r = await fetch(`${t.emu.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function setup(sdsCount = 4) {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdsCount } });
  await t.api.login();
  const pd = (await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"))[0]!;
  const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
  const sds = await t.api.get<Obj[]>(`/api/instances/ProtectionDomain::${pd.id}/relationships/Sds`);
  const stats = () =>
    t.api.get<Stats>(`/api/instances/StoragePool::${pool.id}/relationships/Statistics`);
  // Tokens idle out after 10 emulated minutes; like real clients, log in again.
  const advance = async (s: number) => {
    assert.equal((await admin(t, "/admin/time", { advanceSeconds: s })).status, 200);
    await t.api.login();
  };
  return { t, pd, pool, sds, stats, advance };
}

test("8.23: a killed SDS disconnects, capacity degrades, forward rebuild runs and data is protected again", async () => {
  const { t, pool, sds, stats, advance } = await setup(4);
  try {
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(40 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const before = await stats();
    assert.equal(before.protectedCapacityInKb, before.capacityInUseInKb);
    assert.equal(before.degradedHealthyCapacityInKb, 0);
    assert.equal((await admin(t, `/admin/sds/${sds[0]!.id}/kill`)).status, 200);
    const s0 = await t.api.get<Obj>(`/api/instances/Sds::${sds[0]!.id}`);
    assert.equal(s0.mdmConnectionState, "Disconnected");
    const degraded = await stats();
    assert.ok(degraded.degradedHealthyCapacityInKb! > 0);
    assert.equal(degraded.capacityInUseInKb, before.capacityInUseInKb);
    assert.ok(degraded.fwdRebuildCapacityInKb! > 0);
    const alerts = await t.api.get<{ alertType: string }[]>("/api/types/Alert/instances");
    assert.ok(alerts.some((a) => a.alertType === "SDS_DISCONNECTED"));
    assert.ok(alerts.some((a) => a.alertType === "STORAGE_POOL_HAS_DEGRADED_CAPACITY"));
    await advance(60);
    const mid = await stats();
    assert.ok(mid.activeFwdRebuildCapacityInKb! > 0, "rebuild is running");
    assert.ok(
      mid.degradedHealthyCapacityInKb! < degraded.degradedHealthyCapacityInKb!,
      "rebuild makes progress",
    );
    await advance(3600);
    const after = await stats();
    assert.equal(after.fwdRebuildCapacityInKb, 0);
    assert.equal(after.activeFwdRebuildCapacityInKb, 0);
    assert.equal(after.pendingFwdRebuildCapacityInKb, 0);
    assert.equal(after.degradedHealthyCapacityInKb, 0);
    assert.equal(after.protectedCapacityInKb, after.capacityInUseInKb);
    assert.equal(after.failedCapacityInKb, 0);
  } finally {
    await t.close();
  }
});

test("8.24: a second failure before the rebuild ends fails capacity and I/O; a returning SDS triggers backward rebuild", async () => {
  const { t, pool, sds, stats, advance } = await setup(4);
  try {
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(40 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    assert.equal((await admin(t, `/admin/volumes/${v.id}/io`)).status, 200);
    await admin(t, `/admin/sds/${sds[0]!.id}/kill`);
    await advance(30);
    await admin(t, `/admin/sds/${sds[1]!.id}/kill`);
    const s = await stats();
    assert.ok(s.failedCapacityInKb! > 0);
    const io = await admin(t, `/admin/volumes/${v.id}/io`);
    assert.equal(io.status, 500);
    assert.match(String(io.body.message), /I\/O error/);
    const alerts = await t.api.get<{ alertType: string }[]>("/api/types/Alert/instances");
    assert.ok(alerts.some((a) => a.alertType === "STORAGE_POOL_HAS_FAILED_CAPACITY"));
    // both come back before the rebuild finished: backward rebuild instead of forward
    await admin(t, `/admin/sds/${sds[1]!.id}/restore`);
    await admin(t, `/admin/sds/${sds[0]!.id}/restore`);
    const back = await stats();
    assert.equal(back.failedCapacityInKb, 0);
    assert.ok(back.bckRebuildCapacityInKb! > 0, "backward rebuild counters rise");
    assert.equal(back.fwdRebuildCapacityInKb, 0);
    assert.equal((await admin(t, `/admin/volumes/${v.id}/io`)).status, 200);
    await advance(7200);
    const done = await stats();
    assert.equal(done.bckRebuildCapacityInKb, 0);
    assert.equal(done.protectedCapacityInKb, done.capacityInUseInKb);
  } finally {
    await t.close();
  }
});

test("8.25: remove_sds moves data while the SDS stays listed, then deletes it; refused when the rest cannot hold the data", async () => {
  const { t, pd, pool, sds, stats, advance } = await setup(4);
  try {
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(40 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const before = await stats();
    await t.api.post(`/api/instances/Sds::${sds[3]!.id}/action/removeSds`, {});
    const listed = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pd.id}/relationships/Sds`,
    );
    assert.ok(
      listed.some((s) => s.id === sds[3]!.id),
      "still listed while data moves",
    );
    const moving = await stats();
    assert.ok(moving.movingCapacityInKb! > 0);
    assert.ok(moving.activeMovingCapacityInKb! > 0);
    await advance(3600);
    const gone = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pd.id}/relationships/Sds`,
    );
    assert.ok(!gone.some((s) => s.id === sds[3]!.id));
    const after = await stats();
    assert.equal(after.maxCapacityInKb, before.maxCapacityInKb! - 100 * GB);
    assert.equal(after.capacityInUseInKb, before.capacityInUseInKb);
    assert.equal(after.protectedCapacityInKb, after.capacityInUseInKb);
    assert.equal(after.movingCapacityInKb, 0);
    // three SDSs left: a big thick volume leaves no room to drain another one
    await t.api.post("/api/types/Volume/instances", {
      name: "big",
      volumeSizeInKb: String(80 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const refused = await t.api.raw("POST", `/api/instances/Sds::${sds[2]!.id}/action/removeSds`, {
      body: {},
    });
    assert.equal(refused.status, 500);
    assert.equal(typeof (refused.body as { message: string }).message, "string");
    assert.equal((await t.api.get<Obj>(`/api/instances/Sds::${sds[2]!.id}`)).sdsState, "Normal");
  } finally {
    await t.close();
  }
});

test("maintenance mode: no rebuild while away, one SDS per PD, resync on exit", async () => {
  const { t, pool, sds, stats, advance } = await setup(3);
  try {
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(16 * GB),
      storagePoolId: pool.id,
      volumeType: "ThinProvisioned",
    });
    await t.api.post(`/api/instances/Sds::${sds[0]!.id}/action/enterMaintenanceMode`, {});
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/Sds::${sds[0]!.id}`)).maintenanceState,
      "InMaintenance",
    );
    const second = await t.api.raw(
      "POST",
      `/api/instances/Sds::${sds[1]!.id}/action/enterMaintenanceMode`,
      { body: {} },
    );
    assert.ok(second.status >= 400);
    const id = await t.api.post<string>("/api/types/Volume/instances/action/queryIdByKey", {
      name: "data",
    });
    assert.equal((await admin(t, `/admin/volumes/${id}/write`, { sizeGb: 4 })).status, 200);
    await advance(600);
    const s = await stats();
    assert.equal(s.fwdRebuildCapacityInKb, 0, "no rebuild for an SDS in maintenance");
    assert.equal(s.degradedHealthyCapacityInKb, 0);
    await t.api.post(`/api/instances/Sds::${sds[0]!.id}/action/exitMaintenanceMode`, {});
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/Sds::${sds[0]!.id}`)).maintenanceState,
      "NoMaintenance",
    );
    const resync = await stats();
    assert.ok(resync.bckRebuildCapacityInKb! > 0, "writes made while away are resynchronised");
    await advance(3600);
    assert.equal((await stats()).bckRebuildCapacityInKb, 0);
  } finally {
    await t.close();
  }
});

test("adding an SDS to a pool with data starts a rebalance that spreads data onto it", async () => {
  const { t, pd, pool, stats, advance } = await setup(3);
  try {
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(48 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const pkg = `${t.emu.repoDir}/EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm`;
    assert.equal(t.emu.tools.run("rpm", { ip: "10.20.0.31", env: {} }, ["-Uvh", pkg]).exitCode, 0);
    const s = await t.api.post<{ id: string }>("/api/types/Sds/instances", {
      name: "sds4",
      protectionDomainId: pd.id,
      sdsIpList: [{ SdsIp: { ip: "10.20.0.31", role: "all" } }],
    });
    await t.api.post("/api/types/Device/instances", {
      deviceCurrentPathname: "/dev/sdb",
      name: "/dev/sdb",
      storagePoolId: pool.id,
      sdsId: s.id,
      testMode: "testAndActivate",
    });
    assert.ok((await stats()).rebalanceCapacityInKb! > 0);
    await advance(3600);
    assert.equal((await stats()).rebalanceCapacityInKb, 0);
    const sdsStats = await t.api.get<Stats>(`/api/instances/Sds::${s.id}/relationships/Statistics`);
    assert.ok(sdsStats.capacityInUseInKb! > 0, "the new SDS holds data after the rebalance");
  } finally {
    await t.close();
  }
});

test("a failed device degrades its pool and is rebuilt around; restoring it rebalances data back", async () => {
  const { t, pool, stats, advance } = await setup(4);
  try {
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(40 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const dev = (
      await t.api.get<Obj[]>(`/api/instances/StoragePool::${pool.id}/relationships/Device`)
    )[0]!;
    assert.equal((await admin(t, `/admin/devices/${dev.id}/fail`)).status, 200);
    assert.equal((await t.api.get<Obj>(`/api/instances/Device::${dev.id}`)).errorState, "Error");
    assert.ok(
      (await t.api.get<{ alertType: string }[]>("/api/types/Alert/instances")).some(
        (a) => a.alertType === "DEVICE_FAILED",
      ),
    );
    assert.ok((await stats()).degradedHealthyCapacityInKb! > 0);
    await advance(3600);
    const rebuilt = await stats();
    assert.equal(rebuilt.degradedHealthyCapacityInKb, 0);
    assert.equal(rebuilt.protectedCapacityInKb, rebuilt.capacityInUseInKb);
    await admin(t, `/admin/devices/${dev.id}/restore`);
    assert.ok((await stats()).rebalanceCapacityInKb! > 0, "the empty device gets data back");
    await advance(3600);
    assert.equal((await stats()).rebalanceCapacityInKb, 0);
  } finally {
    await t.close();
  }
});
