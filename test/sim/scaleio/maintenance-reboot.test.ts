// Reference 6.5, instant maintenance mode with the machine rebooted while in it: no rebuild
// starts while the SDS is away (down or not), writes are tracked, nothing resynchronises
// before the exit (the SDS coming back up stays in maintenance), and the exit resynchronises
// what it missed (a backward rebuild that drains). Time moves only by the admin knob.
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

test("an SDS in maintenance whose machine goes down and up: no rebuild, no resync until the exit, then a resync that drains", async () => {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdsCount: 3 } });
  try {
    await t.api.login();
    const pd = (await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"))[0]!;
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const sds = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pd.id}/relationships/Sds`,
    );
    const stats = () =>
      t.api.get<Stats>(`/api/instances/StoragePool::${pool.id}/relationships/Statistics`);
    const advance = async (s: number) => {
      assert.equal((await admin(t, "/admin/time", { advanceSeconds: s })).status, 200);
      await t.api.login();
    };
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(16 * GB),
      storagePoolId: pool.id,
      volumeType: "ThinProvisioned",
    });
    const vol = await t.api.post<string>("/api/types/Volume/instances/action/queryIdByKey", {
      name: "data",
    });
    assert.equal((await admin(t, `/admin/volumes/${vol}/write`, { sizeGb: 4 })).status, 200);
    const id = sds[0]!.id;
    await t.api.post(`/api/instances/Sds::${id}/action/enterMaintenanceMode`, {});
    // The machine goes down (its SDS with it) while in maintenance.
    assert.equal((await admin(t, `/admin/sds/${id}/kill`)).status, 200);
    const away = await t.api.get<Obj>(`/api/instances/Sds::${id}`);
    assert.equal(away.maintenanceState, "InMaintenance");
    assert.equal(away.mdmConnectionState, "Disconnected");
    let s = await stats();
    assert.equal(s.fwdRebuildCapacityInKb, 0, "no forward rebuild for an SDS in maintenance");
    assert.equal(s.degradedHealthyCapacityInKb, 0, "its copies are in maintenance, not degraded");
    assert.ok(s.inMaintenanceCapacityInKb! > 0);
    // Writes go on (one live copy) and are tracked for the resync.
    assert.equal((await admin(t, `/admin/volumes/${vol}/write`, { sizeGb: 2 })).status, 200);
    await advance(600);
    s = await stats();
    assert.equal(s.fwdRebuildCapacityInKb, 0, "still no rebuild after 10 minutes away");
    // The machine is back: the SDS reconnects and stays in maintenance, nothing resyncs yet.
    assert.equal((await admin(t, `/admin/sds/${id}/restore`)).status, 200);
    const back = await t.api.get<Obj>(`/api/instances/Sds::${id}`);
    assert.equal(back.maintenanceState, "InMaintenance");
    assert.equal(back.mdmConnectionState, "Connected");
    s = await stats();
    assert.equal(s.bckRebuildCapacityInKb, 0, "no resync before the exit");
    assert.equal(s.rebalanceCapacityInKb, 0);
    await t.api.post(`/api/instances/Sds::${id}/action/exitMaintenanceMode`, {});
    s = await stats();
    assert.ok(s.bckRebuildCapacityInKb! >= 2 * GB, "the writes it missed are resynchronised");
    await advance(3600);
    s = await stats();
    assert.equal(s.bckRebuildCapacityInKb, 0);
    assert.equal(s.protectedCapacityInKb, s.capacityInUseInKb);
  } finally {
    await t.close();
  }
});
