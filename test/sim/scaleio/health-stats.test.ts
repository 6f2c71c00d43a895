// What a health observer reads in one batched statistics query: per pool and per SDS IOPS and
// bandwidth (BWC counters), per device latency (the only latency the 2.x gateway reports for
// the back end), with injected slowness showing on the slow SDS's devices only; and a failed
// device as the gateway reports it, repaired by removing it and adding it again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestEmu, type TestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };
type Bwc = { numOccured: number; numSeconds: number; totalWeightInKb: number };
const iops = (b: Bwc) => (b.numSeconds ? b.numOccured / b.numSeconds : 0);

async function admin(t: TestEmu, path: string, body: unknown = {}) {
  const r = await fetch(`${t.emu.controlUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${path}: ${await r.clone().text()}`);
}

const DEVICE_PROPS = [
  "avgReadLatencyInMicrosec",
  "avgWriteLatencyInMicrosec",
  "avgReadSizeInBytes",
  "avgWriteSizeInBytes",
];

test("one batched query gives pool and SDS IOPS/bandwidth and device latency; slowness shows on the slow SDS only", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "busy",
      volumeSizeInKb: String(48 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    await admin(t, `/admin/volumes/${v.id}/workload`, {
      readIops: 600,
      writeIops: 300,
      ioSizeKb: 8,
    });
    const devices = await t.api.get<Obj[]>("/api/types/Device/instances");
    const sdss = await t.api.get<(Obj & { ipList: { ip: string }[] })[]>(
      "/api/types/Sds/instances",
    );
    const slowSds = sdss.find((s) => s.ipList[0]!.ip === "10.20.0.13")!;
    const observe = () =>
      t.api.post<Record<string, Record<string, Record<string, unknown>>>>(
        "/api/instances/querySelectedStatistics",
        {
          selectedStatisticsList: [
            { type: "StoragePool", allIds: [], properties: ["primaryReadBwc", "primaryWriteBwc"] },
            { type: "Sds", allIds: [], properties: ["primaryReadBwc", "primaryWriteBwc"] },
            { type: "Device", allIds: [], properties: DEVICE_PROPS },
          ],
        },
      );

    const fast = await observe();
    assert.deepEqual(fast.StoragePool![pool.id], {
      primaryReadBwc: { numOccured: 3000, numSeconds: 5, totalWeightInKb: 24000 },
      primaryWriteBwc: { numOccured: 1500, numSeconds: 5, totalWeightInKb: 12000 },
    });
    // Data is spread evenly over the three SDSs: each serves a third of the I/O.
    for (const s of sdss)
      assert.deepEqual(fast.Sds![s.id], {
        primaryReadBwc: { numOccured: 1000, numSeconds: 5, totalWeightInKb: 8000 },
        primaryWriteBwc: { numOccured: 500, numSeconds: 5, totalWeightInKb: 4000 },
      });
    for (const d of devices)
      assert.deepEqual(fast.Device![d.id], {
        avgReadLatencyInMicrosec: 500,
        avgWriteLatencyInMicrosec: 500,
        avgReadSizeInBytes: 8192,
        avgWriteSizeInBytes: 8192,
      });

    await admin(t, "/admin/slow-io", { latencyMs: 60, sds: "10.20.0.13" });
    const slow = await observe();
    for (const d of devices) {
      const expected = d.sdsId === slowSds.id ? 60500 : 500;
      assert.equal(slow.Device![d.id]!.avgReadLatencyInMicrosec, expected, String(d.sdsId));
      assert.equal(slow.Device![d.id]!.avgWriteLatencyInMicrosec, expected);
    }
    // The slow SDS holds part of every chunk pair's copies: the volume's I/O slows down.
    const poolRead = iops(slow.StoragePool![pool.id]!.primaryReadBwc as Bwc);
    assert.ok(poolRead > 0 && poolRead < 600, String(poolRead));
    let sdsSum = 0;
    for (const s of sdss) sdsSum += iops(slow.Sds![s.id]!.primaryReadBwc as Bwc);
    assert.ok(Math.abs(sdsSum - poolRead) < 1, `${sdsSum} vs ${poolRead}`);

    // An SDS that is down serves nothing: no I/O and no latency on its devices.
    await admin(t, "/admin/slow-io", { latencyMs: 0, sds: "10.20.0.13" });
    await admin(t, "/admin/sds/10.20.0.13/kill");
    const gone = await observe();
    assert.deepEqual(gone.Sds![slowSds.id]!.primaryReadBwc, {
      numOccured: 0,
      numSeconds: 0,
      totalWeightInKb: 0,
    });
    for (const d of devices.filter((x) => x.sdsId === slowSds.id))
      assert.equal(gone.Device![d.id]!.avgReadLatencyInMicrosec, 0);
  } finally {
    await t.close();
  }
});

test("a failed device: deviceState stays Normal, errorState Error, its SDS keeps running; removed and added again it is healthy", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    await t.api.post("/api/types/Volume/instances", {
      name: "data",
      volumeSizeInKb: String(32 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const dev = (await t.api.get<Obj[]>("/api/types/Device/instances"))[1]!;
    const deviceAlerts = async () =>
      (
        await t.api.get<{ alertType: string; affectedObject: { type: string; id: string } }[]>(
          "/api/types/Alert/instances",
        )
      )
        .filter((a) => a.alertType === "DEVICE_FAILED")
        .map((a) => [a.affectedObject.type, a.affectedObject.id]);
    const healthy = await t.api.get<Obj>(`/api/instances/Device::${dev.id}`);
    assert.deepEqual([healthy.deviceState, healthy.errorState], ["Normal", "None"]);

    await admin(t, `/admin/devices/${dev.id}/fail`);
    const failed = await t.api.get<Obj>(`/api/instances/Device::${dev.id}`);
    assert.deepEqual([failed.deviceState, failed.errorState], ["Normal", "Error"]);
    const sds = await t.api.get<Obj>(`/api/instances/Sds::${String(dev.sdsId)}`);
    assert.equal(sds.mdmConnectionState, "Connected", "the SDS keeps running");
    assert.deepEqual(await deviceAlerts(), [["Device", dev.id]]);

    // the data is rebuilt elsewhere; then the device is removed and added again
    await admin(t, "/admin/time", { advanceSeconds: 3600 });
    await t.api.login();
    await t.api.post(`/api/instances/Device::${dev.id}/action/removeDevice`, {});
    assert.equal((await t.api.raw("GET", `/api/instances/Device::${dev.id}`)).status, 500);
    const again = await t.api.post<{ id: string }>("/api/types/Device/instances", {
      deviceCurrentPathname: dev.deviceCurrentPathname,
      name: dev.name,
      storagePoolId: pool.id,
      sdsId: dev.sdsId,
      testMode: "testAndActivate",
    });
    const readded = await t.api.get<Obj>(`/api/instances/Device::${again.id}`);
    assert.deepEqual([readded.deviceState, readded.errorState], ["Normal", "None"]);
    assert.deepEqual(await deviceAlerts(), []);
    const st = await t.api.get<Record<string, number>>(
      `/api/instances/StoragePool::${pool.id}/relationships/Statistics`,
    );
    assert.ok(st.rebalanceCapacityInKb! > 0, "the new device gets data back");
  } finally {
    await t.close();
  }
});
