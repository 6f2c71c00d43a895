// Reference 8.26-8.28, 4.6, 5.3: capacity identities, threshold alerts, BWC counters,
// querySelectedStatistics, and the slow-I/O knob showing up in performance statistics.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PASSWORD, startTestEmu, type TestEmu } from "./helpers.js";
import { ManualClock } from "../../../sim/scaleio/model/clock.js";
import { ScaleioSystem } from "../../../sim/scaleio/model/system.js";
import { bootstrap } from "../../../sim/scaleio/model/bootstrap.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };
type Bwc = { numOccured: number; numSeconds: number; totalWeightInKb: number };

async function admin(t: TestEmu, path: string, body: unknown = {}) {
  const r = await fetch(`${t.emu.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
}

test("8.26: unused = max - spare - inUse for any mix of volumes and writes while nothing failed", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          gb: fc.integer({ min: 1, max: 40 }),
          thin: fc.boolean(),
          writeGb: fc.integer({ min: 0, max: 40 }),
        }),
        { maxLength: 6 },
      ),
      fc.integer({ min: 0, max: 40 }),
      (vols, spare) => {
        const sys = new ScaleioSystem(new ManualClock());
        bootstrap(sys, { sdsCount: 4, password: PASSWORD });
        const pool = [...sys.pools.values()][0]!;
        sys.setSparePercentage(pool.id, spare);
        vols.forEach((v, i) => {
          try {
            const vol = sys.addVolume({
              name: `v${i}`,
              storagePoolId: pool.id,
              sizeKb: v.gb * GB,
              thin: v.thin,
            });
            if (v.writeGb > 0) sys.writeVolume(vol.id, v.writeGb * GB);
          } catch {
            // refusals (capacity) are fine; the identity must hold regardless
          }
          const c = sys.poolCapacity(pool.id);
          assert.equal(
            c.unusedCapacityInKb,
            c.maxCapacityInKb - c.spareCapacityInKb - c.capacityInUseInKb,
          );
          assert.equal(c.capacityAvailableForVolumeAllocationInKb % 8388608, 0);
          assert.equal(c.protectedCapacityInKb, c.capacityInUseInKb);
        });
      },
    ),
    { numRuns: 40 },
  );
});

test("8.27: crossing 80% / 90% of non-spare capacity raises the high / critical alert, which clears below", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const capacityAlerts = async () =>
      (
        await t.api.get<{ alertType: string; affectedObject: { id: string } }[]>(
          "/api/types/Alert/instances",
        )
      )
        .filter((a) => a.alertType.startsWith("CAPACITY_UTILIZATION"))
        .map((a) => [a.alertType, a.affectedObject.id]);
    assert.deepEqual(await capacityAlerts(), []);
    // 3 x 100 GB, 10% spare: 270 GB non-spare raw; 80% = 216 GB raw = 108 GB of data
    await admin(t, `/admin/pools/${pool.id}/write`, { sizeGb: 110 });
    assert.deepEqual(await capacityAlerts(), [
      ["CAPACITY_UTILIZATION_ABOVE_HIGH_THRESHOLD", pool.id],
    ]);
    await admin(t, `/admin/pools/${pool.id}/write`, { sizeGb: 14 });
    assert.deepEqual(await capacityAlerts(), [
      ["CAPACITY_UTILIZATION_ABOVE_CRITICAL_THRESHOLD", pool.id],
    ]);
    const st = await t.api.get<Record<string, number>>(
      `/api/instances/StoragePool::${pool.id}/relationships/Statistics`,
    );
    assert.ok(st.capacityInUseInKb! / (st.capacityLimitInKb! - st.spareCapacityInKb!) >= 0.9);
    // thresholds are per pool and settable
    await t.api.post(`/api/instances/StoragePool::${pool.id}/action/setCapacityAlertThresholds`, {
      capacityAlertHighThresholdPercent: "95",
      capacityAlertCriticalThresholdPercent: "98",
    });
    assert.deepEqual(await capacityAlerts(), []);
    await t.api.post(`/api/instances/StoragePool::${pool.id}/action/setCapacityAlertThresholds`, {
      capacityAlertHighThresholdPercent: "80",
      capacityAlertCriticalThresholdPercent: "90",
    });
    await admin(t, `/admin/pools/${pool.id}/clear`);
    assert.deepEqual(await capacityAlerts(), []);
  } finally {
    await t.close();
  }
});

test("8.28: BWC counters are zero when idle; querySelectedStatistics picks properties by id and rejects unknown names", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const sysId = t.emu.sys.id;
    const sysStats = await t.api.get<Record<string, unknown>>(
      `/api/instances/System::${sysId}/relationships/Statistics`,
    );
    const bwcKeys = Object.keys(sysStats).filter((k) => k.endsWith("Bwc"));
    assert.ok(
      bwcKeys.includes("primaryReadBwc") &&
        bwcKeys.includes("totalWriteBwc") &&
        bwcKeys.includes("fwdRebuildReadBwc"),
    );
    for (const k of bwcKeys)
      assert.deepEqual(sysStats[k], { numOccured: 0, numSeconds: 0, totalWeightInKb: 0 }, k);
    const pools = await t.api.get<Obj[]>("/api/types/StoragePool/instances");
    const sel = await t.api.post<Record<string, Record<string, unknown>>>(
      "/api/types/StoragePool/instances/action/querySelectedStatistics",
      {
        ids: [pools[0]!.id],
        properties: ["capacityInUseInKb", "capacityLimitInKb"],
      },
    );
    assert.deepEqual(Object.keys(sel), [pools[0]!.id]);
    assert.deepEqual(Object.keys(sel[pools[0]!.id]!).sort(), [
      "capacityInUseInKb",
      "capacityLimitInKb",
    ]);
    assert.equal(sel[pools[0]!.id]!.capacityLimitInKb, 300 * GB);
    const all = await t.api.post<Record<string, unknown>>(
      "/api/types/Sds/instances/action/querySelectedStatistics",
      { allIds: "", properties: ["maxCapacityInKb"] },
    );
    assert.equal(Object.keys(all).length, 3);
    const multi = await t.api.post<Record<string, Record<string, unknown>>>(
      "/api/instances/querySelectedStatistics",
      {
        selectedStatisticsList: [
          { type: "System", properties: ["numOfSds", "capacityInUseInKb"] },
          { type: "StoragePool", allIds: [], properties: ["thinCapacityAllocatedInKm"] },
        ],
      },
    );
    assert.deepEqual(multi.System, { numOfSds: 3, capacityInUseInKb: 0 });
    assert.deepEqual(Object.keys(multi.StoragePool!), [pools[0]!.id]);
    for (const properties of [
      ["capacityInUseInKb", "noSuchCounter"],
      ["thinCapacityAllocatedInKb"],
      [],
    ]) {
      const r = await t.api.raw(
        "POST",
        "/api/types/StoragePool/instances/action/querySelectedStatistics",
        { body: { ids: [pools[0]!.id], properties } },
      );
      assert.equal(r.status, 400, JSON.stringify(properties));
      assert.equal(typeof (r.body as { message: string }).message, "string");
    }
  } finally {
    await t.close();
  }
});

test("slow I/O knob: a workload shows in BWC counters, and injected latency lowers IOPS and raises device latency", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "busy",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    await admin(t, `/admin/volumes/${v.id}/workload`, {
      readIops: 2000,
      writeIops: 1000,
      ioSizeKb: 8,
    });
    const fast = await t.api.get<Record<string, Bwc>>(
      `/api/instances/Volume::${v.id}/relationships/Statistics`,
    );
    const fastRead = fast.userDataReadBwc!.numOccured / fast.userDataReadBwc!.numSeconds;
    assert.equal(fastRead, 2000);
    assert.equal(fast.userDataReadBwc!.totalWeightInKb / fast.userDataReadBwc!.numSeconds, 16000);
    const poolFast = await t.api.get<Record<string, Bwc>>(
      `/api/instances/StoragePool::${pool.id}/relationships/Statistics`,
    );
    assert.equal(
      poolFast.secondaryWriteBwc!.numOccured / poolFast.secondaryWriteBwc!.numSeconds,
      1000,
      "writes are mirrored",
    );
    const devices = await t.api.get<Obj[]>(
      `/api/instances/StoragePool::${pool.id}/relationships/Device`,
    );
    const devLatency = async () =>
      (
        await t.api.get<Record<string, number>>(
          `/api/instances/Device::${devices[0]!.id}/relationships/Statistics`,
        )
      ).avgReadLatencyInMicrosec!;
    const before = await devLatency();
    await admin(t, "/admin/slow-io", { latencyMs: 50 });
    const slow = await t.api.get<Record<string, Bwc>>(
      `/api/instances/Volume::${v.id}/relationships/Statistics`,
    );
    assert.ok(slow.userDataReadBwc!.numOccured / slow.userDataReadBwc!.numSeconds < fastRead);
    assert.ok((await devLatency()) > before);
    await admin(t, "/admin/slow-io", { latencyMs: 0 });
    const again = await t.api.get<Record<string, Bwc>>(
      `/api/instances/Volume::${v.id}/relationships/Statistics`,
    );
    assert.equal(again.userDataReadBwc!.numOccured / again.userDataReadBwc!.numSeconds, 2000);
  } finally {
    await t.close();
  }
});
