// Reference 6.4, graceful SDS removal: an SDS with devices in two pools drains each pool on its
// own (each pool counts its own moving capacity; the SDS stays listed until the last is
// done, then both pools shrink), and a removal that would leave data with fewer than two
// fault units is refused with an error, changing nothing. Time moves only by the admin knob.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, startTestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };
type Stats = Record<string, number>;

async function setup(sdsCount: number) {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdsCount } });
  await t.api.login();
  const pd = (await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"))[0]!;
  const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
  const sds = await t.api.get<Obj[]>(`/api/instances/ProtectionDomain::${pd.id}/relationships/Sds`);
  const stats = (poolId: string) =>
    t.api.get<Stats>(`/api/instances/StoragePool::${poolId}/relationships/Statistics`);
  const advance = async (s: number) => {
    const r = await fetch(`${t.emu.controlUrl}/admin/time`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advanceSeconds: s }),
    });
    assert.equal(r.status, 200);
    await t.api.login(); // tokens idle out after 10 emulated minutes
  };
  const listed = async (id: string) =>
    (await t.api.get<Obj[]>("/api/types/Sds/instances")).find((s) => s.id === id);
  return { t, pd, pool, sds, stats, advance, listed };
}

test("6.4: an SDS in two pools drains each on its own; listed until the last is done; both pools shrink", async () => {
  const { t, pd, pool, sds, stats, advance, listed } = await setup(4);
  try {
    const { id: pool2 } = await t.api.post<{ id: string }>("/api/types/StoragePool/instances", {
      name: "second",
      protectionDomainId: pd.id,
    });
    for (const s of sds)
      await t.api.post("/api/types/Device/instances", {
        deviceCurrentPathname: "/dev/sdx",
        storagePoolId: pool2,
        sdsId: s.id,
      });
    const volume = (name: string, poolId: string, gb: number) =>
      t.api.post("/api/types/Volume/instances", {
        name,
        volumeSizeInKb: String(gb * GB),
        storagePoolId: poolId,
        volumeType: "ThickProvisioned",
      });
    await volume("small", pool.id, 8);
    await volume("large", pool2, 80);
    const before = [await stats(pool.id), await stats(pool2)];
    const leaving = sds[3]!.id;

    await t.api.post(`/api/instances/Sds::${leaving}/action/removeSds`, {});
    const moving = [await stats(pool.id), await stats(pool2)];
    for (const m of moving) assert.ok(m.movingCapacityInKb! > 0, "each pool moves its own data");
    assert.ok(moving[1]!.movingCapacityInKb! > moving[0]!.movingCapacityInKb!);
    assert.equal((await listed(leaving))?.sdsState, "RemovalInProgress");

    // Long enough for the small pool, not the large one: still listed.
    await advance(300);
    assert.equal((await stats(pool.id)).movingCapacityInKb, 0);
    assert.ok((await stats(pool2)).movingCapacityInKb! > 0);
    assert.ok(await listed(leaving), "listed while one pool still moves its data");

    await advance(3600);
    assert.equal(await listed(leaving), undefined, "gone once every pool is drained");
    const after = [await stats(pool.id), await stats(pool2)];
    for (const i of [0, 1]) {
      assert.equal(after[i]!.maxCapacityInKb, before[i]!.maxCapacityInKb! - 100 * GB);
      assert.equal(after[i]!.capacityInUseInKb, before[i]!.capacityInUseInKb);
      assert.equal(after[i]!.protectedCapacityInKb, after[i]!.capacityInUseInKb);
      assert.equal(after[i]!.movingCapacityInKb, 0);
    }
  } finally {
    await t.close();
  }
});

test("6.4: a removal that would leave data with fewer than two fault units is refused, and nothing changes", async () => {
  const { t, pool, sds, stats, advance, listed } = await setup(3);
  try {
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    await t.api.post(`/api/instances/Sds::${sds[2]!.id}/action/removeSds`, {});
    await advance(3600);
    assert.equal(await listed(sds[2]!.id), undefined, "two fault units can still hold two copies");
    const before = await stats(pool.id);

    const refused = await t.api.raw("POST", `/api/instances/Sds::${sds[1]!.id}/action/removeSds`, {
      body: {},
    });
    assert.equal(refused.status, 500);
    assert.match((refused.body as { message: string }).message, /fault units/);
    assert.equal((await listed(sds[1]!.id))?.sdsState, "Normal");
    const after = await stats(pool.id);
    assert.equal(after.movingCapacityInKb, 0);
    assert.equal(after.maxCapacityInKb, before.maxCapacityInKb);
    assert.equal(after.protectedCapacityInKb, after.capacityInUseInKb);
  } finally {
    await t.close();
  }
});
