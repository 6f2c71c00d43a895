// Reference 8.10-8.20: creates, links, duplicates, spare policy, volume sizing, capacity,
// mapping and the documented error codes; plus malformed input that must not crash anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PASSWORD, startTestEmu, type TestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };

async function setup(): Promise<{ t: TestEmu; pdId: string; poolId: string; sysId: string }> {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdcCount: 2 } });
  await t.api.login();
  const sysId = t.emu.sys.id;
  const pds = await t.api.get<Obj[]>(
    `/api/instances/System::${sysId}/relationships/ProtectionDomain`,
  );
  const pools = await t.api.get<Obj[]>(
    `/api/instances/ProtectionDomain::${pds[0]!.id}/relationships/StoragePool`,
  );
  return { t, pdId: pds[0]!.id, poolId: pools[0]!.id, sysId };
}

function isErrorShape(
  body: unknown,
): asserts body is { message: string; httpStatusCode: number; errorCode: number } {
  const b = body as Record<string, unknown>;
  assert.equal(typeof b.message, "string");
  assert.equal(typeof b.httpStatusCode, "number");
  assert.equal(typeof b.errorCode, "number");
}

test("8.10: every create returns {id: 16 hex} and the object is readable with a self link", async () => {
  const { t, pdId } = await setup();
  try {
    const pd = await t.api.post<{ id: string }>("/api/types/ProtectionDomain/instances", {
      name: "pd-east",
    });
    const sp = await t.api.post<{ id: string }>("/api/types/StoragePool/instances", {
      name: "gold",
      protectionDomainId: pd.id,
      sparePercentage: "10",
      zeroPaddingEnabled: "TRUE",
    });
    const fs = await t.api.post<{ id: string }>("/api/types/FaultSet/instances", {
      name: "fs1",
      protectionDomainId: pd.id,
    });
    const vol = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "v1",
      volumeSizeInKb: String(8 * GB),
      volumeType: "ThinProvisioned",
      storagePoolId: (
        await t.api.get<Obj[]>(`/api/instances/ProtectionDomain::${pdId}/relationships/StoragePool`)
      )[0]!.id,
    });
    for (const [type, created] of [
      ["ProtectionDomain", pd],
      ["StoragePool", sp],
      ["FaultSet", fs],
      ["Volume", vol],
    ] as const) {
      assert.match(created.id, /^[0-9a-f]{16}$/);
      const obj = await t.api.get<Obj & { links: { rel: string; href: string }[] }>(
        `/api/instances/${type}::${created.id}`,
      );
      assert.equal(obj.id, created.id);
      assert.ok(
        obj.links.some(
          (l) => l.rel === "self" && l.href === `/api/instances/${type}::${created.id}`,
        ),
      );
    }
    const spObj = await t.api.get<Obj & { links: { rel: string; href: string }[] }>(
      `/api/instances/StoragePool::${sp.id}`,
    );
    assert.ok(spObj.links.some((l) => l.rel === "/api/parent/relationship/protectionDomainId"));
    assert.ok(spObj.links.some((l) => l.rel === "/api/StoragePool/relationship/Volume"));
    assert.equal(spObj.zeroPaddingEnabled, true);
  } finally {
    await t.close();
  }
});

test("8.11: duplicate PD name, duplicate pool name in one PD, and a reused SDS IP fail with a JSON error", async () => {
  const { t, pdId } = await setup();
  try {
    const dupPd = await t.api.raw("POST", "/api/types/ProtectionDomain/instances", {
      body: { name: "default" },
    });
    assert.notEqual(dupPd.status, 200);
    isErrorShape(dupPd.body);
    const dupSp = await t.api.raw("POST", "/api/types/StoragePool/instances", {
      body: { name: "default", protectionDomainId: pdId },
    });
    assert.notEqual(dupSp.status, 200);
    isErrorShape(dupSp.body);
    // the same pool name in another PD is fine
    const pd2 = await t.api.post<{ id: string }>("/api/types/ProtectionDomain/instances", {
      name: "pd2",
    });
    await t.api.post("/api/types/StoragePool/instances", {
      name: "default",
      protectionDomainId: pd2.id,
    });
    const sds = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pdId}/relationships/Sds`,
    );
    const usedIp = (sds[0]!.ipList as { ip: string }[])[0]!.ip;
    const dupSds = await t.api.raw("POST", "/api/types/Sds/instances", {
      body: {
        name: "again",
        protectionDomainId: pdId,
        sdsIpList: [{ SdsIp: { ip: usedIp, role: "all" } }],
      },
    });
    assert.notEqual(dupSds.status, 200);
    isErrorShape(dupSds.body);
  } finally {
    await t.close();
  }
});

test("8.12: a new pool has 10% spare = maxCapacity x 0.10; changing the policy recomputes it", async () => {
  const { t, poolId } = await setup();
  try {
    const pool = await t.api.get<Obj>(`/api/instances/StoragePool::${poolId}`);
    assert.equal(pool.sparePercentage, 10);
    let st = await t.api.get<Record<string, number>>(
      `/api/instances/StoragePool::${poolId}/relationships/Statistics`,
    );
    assert.equal(st.spareCapacityInKb, st.maxCapacityInKb! * 0.1);
    await t.api.post(`/api/instances/StoragePool::${poolId}/action/setSparePercentage`, {
      sparePercentage: "34",
    });
    st = await t.api.get<Record<string, number>>(
      `/api/instances/StoragePool::${poolId}/relationships/Statistics`,
    );
    assert.equal(st.spareCapacityInKb, Math.floor(st.maxCapacityInKb! * 0.34));
    assert.equal(
      (await t.api.get<Obj>(`/api/instances/StoragePool::${poolId}`)).sparePercentage,
      34,
    );
  } finally {
    await t.close();
  }
});

test("8.13: sizes round up to 8 GB; creation fails while the pool has fewer than 3 SDSs with devices", async () => {
  const { t, pdId, poolId } = await setup();
  try {
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "small",
      volumeSizeInKb: String(4 * GB),
      storagePoolId: poolId,
      protectionDomainId: pdId,
      volumeType: "ThinProvisioned",
    });
    assert.equal((await t.api.get<Obj>(`/api/instances/Volume::${v.id}`)).sizeInKb, 8388608);
    const sp2 = await t.api.post<{ id: string }>("/api/types/StoragePool/instances", {
      name: "small-pool",
      protectionDomainId: pdId,
    });
    const sds = await t.api.get<Obj[]>(
      `/api/instances/ProtectionDomain::${pdId}/relationships/Sds`,
    );
    for (const s of sds.slice(0, 2)) {
      await t.api.post("/api/types/Device/instances", {
        deviceCurrentPathname: "/dev/sdz",
        name: "/dev/sdz",
        storagePoolId: sp2.id,
        sdsId: s.id,
        testMode: "testAndActivate",
      });
    }
    const r = await t.api.raw("POST", "/api/types/Volume/instances", {
      body: { name: "nope", volumeSizeInKb: String(8 * GB), storagePoolId: sp2.id },
    });
    assert.equal(r.status, 500);
    isErrorShape(r.body);
    await t.api.post("/api/types/Device/instances", {
      deviceCurrentPathname: "/dev/sdz",
      storagePoolId: sp2.id,
      sdsId: sds[2]!.id,
    });
    await t.api.post("/api/types/Volume/instances", {
      name: "yes",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: sp2.id,
    });
  } finally {
    await t.close();
  }
});

test("8.14/8.15: thick lowers available by its size and adds 2x to thickCapacityInUse; thin only adds 2x to thinCapacityAllocatedInKm", async () => {
  const { t, poolId } = await setup();
  try {
    const stats = () =>
      t.api.get<Record<string, number>>(
        `/api/instances/StoragePool::${poolId}/relationships/Statistics`,
      );
    const s0 = await stats();
    assert.equal(s0.capacityAvailableForVolumeAllocationInKb, 128 * GB);
    await t.api.post("/api/types/Volume/instances", {
      name: "thick16",
      volumeSizeInKb: String(16 * GB),
      storagePoolId: poolId,
      volumeType: "ThickProvisioned",
    });
    const s1 = await stats();
    assert.equal(
      s1.capacityAvailableForVolumeAllocationInKb,
      s0.capacityAvailableForVolumeAllocationInKb! - 16 * GB,
    );
    assert.equal(s1.thickCapacityInUseInKb, 32 * GB);
    await t.api.post("/api/types/Volume/instances", {
      name: "thin64",
      volumeSizeInKb: String(64 * GB),
      storagePoolId: poolId,
      volumeType: "ThinProvisioned",
    });
    const s2 = await stats();
    assert.equal(
      s2.capacityAvailableForVolumeAllocationInKb,
      s1.capacityAvailableForVolumeAllocationInKb,
    );
    assert.equal(s2.thickCapacityInUseInKb, s1.thickCapacityInUseInKb);
    assert.equal(s2.thinCapacityAllocatedInKm, 128 * GB);
    assert.equal(s2.thinCapacityAllocatedInKb, undefined, "2.0 has only the InKm spelling");
    for (const s of [s0, s1, s2])
      assert.equal(s.capacityAvailableForVolumeAllocationInKb! % 8388608, 0);
    const tooBig = await t.api.raw("POST", "/api/types/Volume/instances", {
      body: {
        name: "huge",
        volumeSizeInKb: String(s2.capacityAvailableForVolumeAllocationInKb! + 8 * GB),
        storagePoolId: poolId,
        volumeType: "ThickProvisioned",
      },
    });
    assert.equal(tooBig.status, 500);
    isErrorShape(tooBig.body);
    // writing into the thin volume now consumes capacity
    const id = await t.api.post<string>("/api/types/Volume/instances/action/queryIdByKey", {
      name: "thin64",
    });
    await fetch(`${t.emu.controlUrl}/admin/volumes/${id}/write`, {
      method: "POST",
      body: JSON.stringify({ sizeGb: 16 }),
    });
    const s3 = await stats();
    assert.equal(s3.thinCapacityInUseInKb, 32 * GB);
    assert.equal(
      s3.capacityAvailableForVolumeAllocationInKb,
      s2.capacityAvailableForVolumeAllocationInKb! - 16 * GB,
    );
  } finally {
    await t.close();
  }
});

test("8.16/8.17/8.19/8.20: duplicate names, resize rules, unknown volume ids, queryIdByKey", async () => {
  const { t, poolId } = await setup();
  try {
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "pgdata01",
      volumeSizeInKb: String(16 * GB),
      storagePoolId: poolId,
      volumeType: "ThinProvisioned",
    });
    const dup = await t.api.raw("POST", "/api/types/Volume/instances", {
      body: { name: "pgdata01", volumeSizeInKb: String(8 * GB), storagePoolId: poolId },
    });
    isErrorShape(dup.body);
    assert.equal(dup.body.message, "Volume name already in use. Please use a different name.");
    assert.equal(dup.body.errorCode, 99, "VOLUME_ALREADY_EXISTS as public clients name it");
    for (const sizeInGB of ["20", "8", "16", 17]) {
      const r = await t.api.raw("POST", `/api/instances/Volume::${v.id}/action/setVolumeSize`, {
        body: { sizeInGB },
      });
      assert.equal(r.status, 400, `size ${sizeInGB}`);
      isErrorShape(r.body);
    }
    assert.equal((await t.api.get<Obj>(`/api/instances/Volume::${v.id}`)).sizeInKb, 16 * GB);
    await t.api.post(`/api/instances/Volume::${v.id}/action/setVolumeSize`, { sizeInGB: "24" });
    assert.equal((await t.api.get<Obj>(`/api/instances/Volume::${v.id}`)).sizeInKb, 24 * GB);
    for (const [method, path] of [
      ["GET", "/api/instances/Volume::0123456789abcdef"],
      ["POST", "/api/instances/Volume::0123456789abcdef/action/removeVolume"],
    ] as const) {
      const r = await t.api.raw(method, path, {
        body: method === "POST" ? { removeMode: "ONLY_ME" } : undefined,
      });
      assert.equal(r.status, 500);
      isErrorShape(r.body);
      assert.equal(r.body.errorCode, 79);
      assert.match(r.body.message, /Could not find the volume/);
    }
    const id = await t.api.raw("POST", "/api/types/Volume/instances/action/queryIdByKey", {
      body: { name: "pgdata01" },
    });
    assert.equal(id.text, JSON.stringify(v.id));
    const miss = await t.api.raw("POST", "/api/types/Volume/instances/action/queryIdByKey", {
      body: { name: "nope" },
    });
    assert.notEqual(miss.status, 200);
    isErrorShape(miss.body);
    await t.api.post(`/api/instances/Volume::${v.id}/action/removeVolume`, {
      removeMode: "ONLY_ME",
    });
    assert.equal((await t.api.raw("GET", `/api/instances/Volume::${v.id}`)).status, 500);
  } finally {
    await t.close();
  }
});

test("8.18: addMappedSdc fills mappedSdcInfo; re-map fails 81; second SDC needs allowMultipleMappings; unmapped pair fails 84", async () => {
  const { t, poolId, sysId } = await setup();
  try {
    const sdcs = await t.api.get<Obj[]>(`/api/instances/System::${sysId}/relationships/Sdc`);
    assert.equal(sdcs.length, 2);
    const [a, b] = sdcs as [Obj, Obj];
    const v = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "m1",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: poolId,
      volumeType: "ThinProvisioned",
    });
    await t.api.post(`/api/instances/Volume::${v.id}/action/addMappedSdc`, {
      sdcId: a.id,
      allowMultipleMappings: "FALSE",
    });
    const vol = await t.api.get<Obj>(`/api/instances/Volume::${v.id}`);
    assert.deepEqual(vol.mappedSdcInfo, [
      { sdcId: a.id, sdcIp: a.sdcIp, limitIops: 0, limitBwInMbps: 0 },
    ]);
    const again = await t.api.raw("POST", `/api/instances/Volume::${v.id}/action/addMappedSdc`, {
      body: { sdcId: a.id },
    });
    isErrorShape(again.body);
    assert.equal(again.body.errorCode, 81);
    const second = await t.api.raw("POST", `/api/instances/Volume::${v.id}/action/addMappedSdc`, {
      body: { sdcId: b.id, allowMultipleMappings: "FALSE" },
    });
    isErrorShape(second.body);
    await t.api.post(`/api/instances/Volume::${v.id}/action/addMappedSdc`, {
      guid: b.sdcGuid,
      allowMultipleMappings: "TRUE",
    });
    assert.equal(
      ((await t.api.get<Obj>(`/api/instances/Volume::${v.id}`)).mappedSdcInfo as unknown[]).length,
      2,
    );
    const mapped = await t.api.get<Obj[]>(`/api/instances/Sdc::${b.id}/relationships/Volume`);
    assert.deepEqual(
      mapped.map((x) => x.id),
      [v.id],
    );
    await t.api.post(`/api/instances/Volume::${v.id}/action/removeMappedSdc`, { sdcId: a.id });
    const unmapped = await t.api.raw(
      "POST",
      `/api/instances/Volume::${v.id}/action/removeMappedSdc`,
      { body: { sdcId: a.id } },
    );
    isErrorShape(unmapped.body);
    assert.equal(unmapped.body.errorCode, 84);
    await t.api.post(`/api/instances/Volume::${v.id}/action/removeMappedSdc`, { allSdcs: "" });
    assert.equal((await t.api.get<Obj>(`/api/instances/Volume::${v.id}`)).mappedSdcInfo, null);
  } finally {
    await t.close();
  }
});

test("bad input: malformed JSON, unknown types/actions/ids, invalid sizes get the error shape and the emulator keeps serving", async () => {
  const { t, poolId } = await setup();
  try {
    const cases: [string, string, { body?: unknown; rawBody?: string }][] = [
      ["POST", "/api/types/Volume/instances", { rawBody: "{not json" }],
      ["POST", "/api/types/Volume/instances", { rawBody: "[1,2]" }],
      [
        "POST",
        "/api/types/Volume/instances",
        { body: { name: "x", volumeSizeInKb: "-5", storagePoolId: poolId } },
      ],
      [
        "POST",
        "/api/types/Volume/instances",
        { body: { name: "x", volumeSizeInKb: "lots", storagePoolId: poolId } },
      ],
      [
        "POST",
        "/api/types/Volume/instances",
        { body: { name: "x", volumeSizeInKb: String(8 * GB), storagePoolId: "ffffffffffffffff" } },
      ],
      [
        "POST",
        "/api/types/Volume/instances",
        { body: { name: "x".repeat(40), volumeSizeInKb: String(8 * GB), storagePoolId: poolId } },
      ],
      [
        "POST",
        "/api/types/Volume/instances",
        { body: { volumeSizeInKb: String(8 * GB), storagePoolId: poolId } },
      ],
      ["POST", "/api/types/Bogus/instances", { body: {} }],
      ["GET", "/api/types/Bogus/instances", {}],
      ["GET", "/api/instances/Sds::ffffffffffffffff", {}],
      ["GET", "/api/instances/nonsense", {}],
      ["POST", `/api/instances/StoragePool::${poolId}/action/fly`, { body: {} }],
      [
        "POST",
        `/api/instances/StoragePool::${poolId}/action/setSparePercentage`,
        { body: { sparePercentage: "150" } },
      ],
      ["GET", "/api/no/such/path", {}],
    ];
    for (const [method, path, o] of cases) {
      const r = await t.api.raw(method, path, o);
      assert.ok(r.status >= 400, `${method} ${path} -> ${r.status}`);
      isErrorShape(r.body);
      assert.equal(r.body.httpStatusCode, r.status);
    }
    assert.equal((await t.api.raw("GET", "/api/types/System/instances")).status, 200);
  } finally {
    await t.close();
  }
});
