// Health observation support: /admin/state lists pools with the used % the MDM computes for its
// capacity alerts; /admin/pools/<id>/fill sets that used %; capacity and spare alerts follow the
// fill, the thresholds (set through REST and scli) and SDSs joining or leaving.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, onNode, startTestEmu, type TestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };
type Alert = { alertType: string; affectedObject: { type: string; id: string } };

async function admin(t: TestEmu, path: string, body?: unknown, method = "POST") {
  const r = await fetch(`${t.emu.controlUrl}${path}`, {
    method,
    ...(method === "POST"
      ? {
          headers: { "content-type": "application/json" },
          body: typeof body === "string" ? body : JSON.stringify(body ?? {}),
        }
      : {}),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const state = async (t: TestEmu) => (await admin(t, "/admin/state", undefined, "GET")).body;

async function poolAlerts(t: TestEmu, prefix: string): Promise<string[]> {
  return (await t.api.get<Alert[]>("/api/types/Alert/instances"))
    .filter((a) => a.alertType.startsWith(prefix))
    .map((a) => `${a.alertType}@${a.affectedObject.type}`)
    .sort();
}

test("/admin/state lists pools with usedPercent, sparePercentage and the capacity alert thresholds", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const s = await state(t);
    assert.deepEqual(s.capacityAlertThresholds, { high: 80, critical: 90 });
    assert.deepEqual(s.pools, [
      {
        id: pool.id,
        name: "default",
        protectionDomainId: pool.protectionDomainId,
        usedPercent: 0,
        sparePercentage: 10,
        capacityAlertThresholds: { high: 80, critical: 90 },
      },
    ]);
    // A 64 GB thick volume holds 128 GB raw of the 270 GB outside the spare.
    await t.api.post("/api/types/Volume/instances", {
      name: "thick64",
      volumeSizeInKb: String(64 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const pools = (await state(t)).pools as { usedPercent: number }[];
    assert.equal(pools[0]!.usedPercent, Math.round((128 / 270) * 10000) / 100);
  } finally {
    await t.close();
  }
});

test("fill sets the MDM's used %; capacity alerts follow it and the thresholds set through REST and scli", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const fill = async (percent: unknown) => admin(t, `/admin/pools/${pool.id}/fill`, { percent });
    const capacity = () => poolAlerts(t, "CAPACITY_UTILIZATION");

    assert.deepEqual((await fill(79)).body, { id: pool.id, usedPercent: 79 });
    assert.deepEqual(await capacity(), []);
    assert.deepEqual((await fill(80)).body, { id: pool.id, usedPercent: 80 });
    assert.deepEqual(await capacity(), ["CAPACITY_UTILIZATION_ABOVE_HIGH_THRESHOLD@StoragePool"]);
    // the gateway's own statistics give the same used %
    const st = await t.api.get<Record<string, number>>(
      `/api/instances/StoragePool::${pool.id}/relationships/Statistics`,
    );
    const used = (st.capacityInUseInKb! / (st.capacityLimitInKb! - st.spareCapacityInKb!)) * 100;
    assert.ok(used >= 80 && used < 80.001, String(used));
    await fill(90);
    assert.deepEqual(await capacity(), [
      "CAPACITY_UTILIZATION_ABOVE_CRITICAL_THRESHOLD@StoragePool",
    ]);
    assert.equal(((await state(t)).pools as { usedPercent: number }[])[0]!.usedPercent, 90);
    await fill(40);
    assert.deepEqual(await capacity(), []);

    // System-wide thresholds through the REST action (every pool and the system default)
    await t.api.post(`/api/instances/System::${t.emu.sys.id}/action/setCapacityAlertThresholds`, {
      capacityAlertHighThresholdPercent: "35",
      capacityAlertCriticalThresholdPercent: "60",
    });
    const s = await state(t);
    assert.deepEqual(s.capacityAlertThresholds, { high: 35, critical: 60 });
    assert.deepEqual((s.pools as Obj[])[0]!.capacityAlertThresholds, { high: 35, critical: 60 });
    assert.deepEqual(await capacity(), ["CAPACITY_UTILIZATION_ABOVE_HIGH_THRESHOLD@StoragePool"]);
    const system = (await t.api.get<Obj[]>("/api/types/System/instances"))[0]!;
    assert.equal(system.capacityAlertHighThresholdPercent, 35);

    // ... and per pool through scli
    const scli = (...argv: string[]) => onNode(t.emu, "10.20.0.11", "scli", argv);
    assert.equal(scli("--login", "--username", "admin", "--password", PASSWORD).exitCode, 0);
    const set = scli(
      "--set_capacity_alerts_threshold",
      "--protection_domain_name",
      "default",
      "--storage_pool_name",
      "default",
      "--capacity_high_threshold",
      "20",
      "--capacity_critical_threshold",
      "40",
    );
    assert.equal(set.exitCode, 0, set.stderr);
    assert.deepEqual(((await state(t)).pools as Obj[])[0]!.capacityAlertThresholds, {
      high: 20,
      critical: 40,
    });
    assert.deepEqual(await capacity(), [
      "CAPACITY_UTILIZATION_ABOVE_CRITICAL_THRESHOLD@StoragePool",
    ]);
    await fill(0);
    assert.deepEqual(await capacity(), []);
    assert.equal(((await state(t)).pools as { usedPercent: number }[])[0]!.usedPercent, 0);
  } finally {
    await t.close();
  }
});

test("fill refuses bad input with 400 and a clear message, an unknown pool, and a target below the volumes' data", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    for (const body of [{ percent: 101 }, { percent: -1 }, { percent: "lots" }, {}, "{oops"]) {
      const r = await admin(t, `/admin/pools/${pool.id}/fill`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.httpStatusCode, 400);
      if (typeof body !== "string")
        assert.match(String(r.body.message), /percent must be a number from 0 to 100/);
    }
    const unknown = await admin(t, "/admin/pools/0123456789abcdef/fill", { percent: 50 });
    assert.equal(unknown.status, 500);
    assert.match(String(unknown.body.message), /Could not find the Storage Pool/);
    await t.api.post("/api/types/Volume/instances", {
      name: "thick64",
      volumeSizeInKb: String(64 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    const below = await admin(t, `/admin/pools/${pool.id}/fill`, { percent: 10 });
    assert.equal(below.status, 400);
    assert.match(
      String(below.body.message),
      /volumes already use 47\.41 % .* cannot be filled to 10 %/,
    );
    // a string number is accepted, as the gateway accepts numbers sent as strings
    assert.deepEqual((await admin(t, `/admin/pools/${pool.id}/fill`, { percent: "60" })).body, {
      id: pool.id,
      usedPercent: 60,
    });
  } finally {
    await t.close();
  }
});

test("the spare alerts follow setSparePercentage and SDSs joining and leaving", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    const pool = (await t.api.get<Obj[]>("/api/types/StoragePool/instances"))[0]!;
    const spare = () => poolAlerts(t, "CONFIGURED_SPARE");
    const setSpare = (pct: number) =>
      t.api.post(`/api/instances/StoragePool::${pool.id}/action/setSparePercentage`, {
        sparePercentage: String(pct),
      });
    const raised = ["CONFIGURED_SPARE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT@StoragePool"];
    // three 100 GB SDSs: the largest fault unit is a third of the pool
    assert.deepEqual(await spare(), raised);
    await setSpare(33);
    assert.deepEqual(await spare(), raised, "33 % < 1/3");
    await setSpare(34);
    assert.deepEqual(await spare(), []);
    assert.equal(((await state(t)).pools as Obj[])[0]!.sparePercentage, 34);

    await setSpare(25);
    assert.deepEqual(await spare(), raised);
    // a fourth SDS joins: a quarter of 400 GB is the largest fault unit, 25 % covers it
    const rpm = `${t.emu.repoDir}/EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm`;
    assert.equal(onNode(t.emu, "10.20.0.14", "rpm", ["-Uvh", rpm]).exitCode, 0);
    const sds = await t.api.post<{ id: string }>("/api/types/Sds/instances", {
      name: "sds4",
      protectionDomainId: pool.protectionDomainId,
      sdsIpList: [{ SdsIp: { ip: "10.20.0.14", role: "all" } }],
      deviceInfoList: [{ devicePath: "/dev/sdb", storagePoolId: pool.id }],
    });
    assert.deepEqual(await spare(), []);
    // it leaves again (no data on it: at once)
    await t.api.post(`/api/instances/Sds::${sds.id}/action/removeSds`, {});
    assert.deepEqual(await spare(), raised);

    // Not even spare and free capacity together could hold a lost SDS's copies.
    await setSpare(10);
    const both = () => poolAlerts(t, "SPARE_CAPACITY_AND_FREE");
    assert.deepEqual(await both(), []);
    await admin(t, `/admin/pools/${pool.id}/fill`, { percent: 90 });
    assert.deepEqual(await both(), [
      "SPARE_CAPACITY_AND_FREE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT@StoragePool",
    ]);
    await admin(t, `/admin/pools/${pool.id}/fill`, { percent: 20 });
    assert.deepEqual(await both(), []);
  } finally {
    await t.close();
  }
});
