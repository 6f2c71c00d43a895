// What clients written against real gateways send and expect (issue 19, item 9): every
// object type's remove<Type> action with the MDM's refusals, PowerFlex 3.x volume sizes in
// GB, the System's statistics without ids, "not found" (3) for name lookups and 79 for
// volume ids, and setMappedSdcLimits with both limits at 0 refused. Exact bodies throughout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Api, PASSWORD, onNode, startTestEmu, type Reply, type TestEmu } from "./helpers.js";

const GB = 1048576;
type Obj = Record<string, unknown> & { id: string };
const NO_SUCH_ID = "0123456789abcdef";

async function start(o: { apiVersion?: string } = {}): Promise<TestEmu> {
  const t = await startTestEmu({ ...o, bootstrap: { password: PASSWORD, sdcCount: 2 } });
  await t.api.login();
  return t;
}

function act(t: TestEmu, type: string, id: string, verb: string, body: unknown = {}) {
  return t.api.raw("POST", `/api/instances/${type}::${id}/action/${verb}`, { body });
}

function refused(r: Reply, status: number, errorCode: number, message: string): void {
  assert.deepEqual(r.body, { message, httpStatusCode: status, errorCode }, r.text);
  assert.equal(r.status, status);
}

const firstOf = async (t: TestEmu, type: string) =>
  (await t.api.get<Obj[]>(`/api/types/${type}/instances`))[0]!;

test("remove<Type> exists for every removable type: an unknown id is 'not found', never 'Unknown action'", async () => {
  const t = await start();
  try {
    for (const type of ["StoragePool", "ProtectionDomain", "FaultSet", "Sds", "Device", "Sdc"]) {
      const r = await act(t, type, NO_SUCH_ID, `remove${type}`);
      assert.equal(r.status, 500, `${type}: ${r.text}`);
      assert.equal((r.body as { errorCode: number }).errorCode, 3, `${type}: ${r.text}`);
    }
    const user = await act(t, "User", NO_SUCH_ID, "removeUser");
    refused(user, 500, 3, "Could not find the user");
    const vol = await act(t, "Volume", NO_SUCH_ID, "removeVolume", { removeMode: "ONLY_ME" });
    refused(vol, 500, 79, "Could not find the volume");
  } finally {
    await t.close();
  }
});

test("a pool with volumes, then with devices, is refused; emptied it goes (goscaleio posts {} to its self link)", async () => {
  const t = await start();
  try {
    const pool = await firstOf(t, "StoragePool");
    const { id: volId } = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "keep",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: pool.id,
      volumeType: "ThinProvisioned",
    });
    refused(
      await act(t, "StoragePool", pool.id, "removeStoragePool"),
      400,
      196,
      "The Storage Pool has volumes. Please remove all the volumes before removing the Storage Pool.",
    );
    await t.api.post(`/api/instances/Volume::${volId}/action/removeVolume`, {
      removeMode: "ONLY_ME",
    });
    refused(
      await act(t, "StoragePool", pool.id, "removeStoragePool"),
      400,
      172,
      "The Storage Pool has SDS devices",
    );
    for (const s of await t.api.get<Obj[]>("/api/types/Sds/instances"))
      assert.equal((await act(t, "Sds", s.id, "removeSds")).status, 200);
    const gone = await act(t, "StoragePool", pool.id, "removeStoragePool");
    assert.equal(gone.status, 200, gone.text);
    assert.deepEqual(gone.body, {});
    assert.deepEqual(await t.api.get<Obj[]>("/api/types/StoragePool/instances"), []);
  } finally {
    await t.close();
  }
});

test("a protection domain with SDSs, then pools, then fault sets is refused, each with its code", async () => {
  const t = await start();
  try {
    const pd = await firstOf(t, "ProtectionDomain");
    const pool = await firstOf(t, "StoragePool");
    const { id: fsId } = await t.api.post<{ id: string }>("/api/types/FaultSet/instances", {
      name: "rack1",
      protectionDomainId: pd.id,
    });
    refused(
      await act(t, "ProtectionDomain", pd.id, "removeProtectionDomain"),
      400,
      143,
      "Protection Domain has SDSs",
    );
    for (const s of await t.api.get<Obj[]>("/api/types/Sds/instances"))
      await t.api.post(`/api/instances/Sds::${s.id}/action/removeSds`, {});
    refused(
      await act(t, "ProtectionDomain", pd.id, "removeProtectionDomain"),
      400,
      176,
      "Protection Domain has Storage Pools",
    );
    await t.api.post(`/api/instances/StoragePool::${pool.id}/action/removeStoragePool`, {});
    refused(
      await act(t, "ProtectionDomain", pd.id, "removeProtectionDomain"),
      400,
      269,
      "The Protection Domain contains Fault Sets, and cannot be removed. Please remove all Fault Sets from the Protection Domain, and then try again.",
    );
    await t.api.post(`/api/instances/FaultSet::${fsId}/action/removeFaultSet`, {});
    assert.equal((await act(t, "ProtectionDomain", pd.id, "removeProtectionDomain")).status, 200);
    assert.deepEqual(await t.api.get<Obj[]>("/api/types/ProtectionDomain/instances"), []);
  } finally {
    await t.close();
  }
});

test("a fault set with an SDS is refused until the SDS has gone", async () => {
  const t = await start();
  try {
    const pd = await firstOf(t, "ProtectionDomain");
    const { id: fsId } = await t.api.post<{ id: string }>("/api/types/FaultSet/instances", {
      name: "rack2",
      protectionDomainId: pd.id,
    });
    const ip = "10.20.0.41";
    const rpm = `${t.emu.repoDir}/EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm`;
    assert.equal(onNode(t.emu, ip, "rpm", ["-Uvh", rpm]).exitCode, 0);
    const { id: sdsId } = await t.api.post<{ id: string }>("/api/types/Sds/instances", {
      name: "sds-fs",
      protectionDomainId: pd.id,
      faultSetId: fsId,
      sdsIpList: [{ SdsIp: { ip, role: "all" } }],
    });
    refused(
      await act(t, "FaultSet", fsId, "removeFaultSet"),
      400,
      268,
      "This Fault Set is not empty, and cannot be removed. Please remove all SDSs from the Fault Set, and then try again.",
    );
    await t.api.post(`/api/instances/Sds::${sdsId}/action/removeSds`, {});
    assert.equal((await act(t, "FaultSet", fsId, "removeFaultSet")).status, 200);
  } finally {
    await t.close();
  }
});

test("a device being removed, a mapped volume, an SDC with mappings: the MDM's refusals", async () => {
  const t = await start();
  try {
    const pool = await firstOf(t, "StoragePool");
    const sdc = await firstOf(t, "Sdc");
    const { id: volId } = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "thick",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: pool.id,
      volumeType: "ThickProvisioned",
    });
    // The device holds data: its removal runs while the clock stands still.
    const dev = await firstOf(t, "Device");
    assert.equal((await act(t, "Device", dev.id, "removeDevice")).status, 200);
    refused(
      await act(t, "Device", dev.id, "removeDevice"),
      400,
      135,
      "The SDS device is being removed",
    );

    await t.api.post(`/api/instances/Volume::${volId}/action/addMappedSdc`, { sdcId: sdc.id });
    refused(
      await act(t, "Volume", volId, "removeVolume", { removeMode: "ONLY_ME" }),
      500,
      104,
      "Volume is mapped",
    );
    refused(await act(t, "Sdc", sdc.id, "removeSdc"), 400, 180, "SDC has mapped volume(s)");
    await t.api.post(`/api/instances/Volume::${volId}/action/removeMappedSdc`, {
      sdcId: sdc.id,
    });
    assert.equal((await act(t, "Sdc", sdc.id, "removeSdc")).status, 200);
    assert.ok(!(await t.api.get<Obj[]>("/api/types/Sdc/instances")).some((s) => s.id === sdc.id));
  } finally {
    await t.close();
  }
});

test("removeUser removes the user and ends its sessions", async () => {
  const t = await start();
  try {
    const { id } = await t.api.post<{ id: string }>("/api/types/User/instances", {
      name: "monitor1",
      userRole: "Monitor",
    });
    // The password is the MDM's to hand out; read it from the model to log in as that user.
    const password = t.emu.sys.users.find((u) => u.id === id)!.password;
    const other = new Api(t.api.base); // plain HTTP in these tests: no CA needed
    await other.login("monitor1", password);
    assert.equal((await other.raw("GET", "/api/types/System/instances")).status, 200);
    const r = await act(t, "User", id, "removeUser");
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {});
    assert.equal((await other.raw("GET", "/api/types/System/instances")).status, 401);
    const sysId = t.emu.sys.id;
    const users = await t.api.get<Obj[]>(`/api/instances/System::${sysId}/relationships/User`);
    assert.ok(!users.some((u) => u.id === id));
    refused(await act(t, "User", id, "removeUser"), 500, 3, "Could not find the user");
  } finally {
    await t.close();
  }
});

test("3.x: a volume is created from volumeSizeInGb alone (rounded up to 8 GB); 2.0 still wants KB", async () => {
  const t = await start({ apiVersion: "3.5" });
  try {
    const pool = await firstOf(t, "StoragePool");
    // PyPowerFlex's body: numbers as strings, sizes in GB.
    for (const [name, gb, kb] of [
      ["gb16", "16", 16 * GB],
      ["gb4", "4", 8 * GB],
    ] as const) {
      const { id } = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
        storagePoolId: pool.id,
        volumeSizeInGb: gb,
        name,
        volumeType: "ThinProvisioned",
        volumeClass: "defaultclass",
      });
      assert.equal((await t.api.get<Obj>(`/api/instances/Volume::${id}`)).sizeInKb, kb);
    }
    const none = await t.api.raw("POST", "/api/types/Volume/instances", {
      body: { storagePoolId: pool.id, name: "nosize" },
    });
    refused(none, 400, 0, "Missing volumeSizeInKb or volumeSizeInGb");
  } finally {
    await t.close();
  }
  const old = await start();
  try {
    const pool = await firstOf(old, "StoragePool");
    const r = await old.api.raw("POST", "/api/types/Volume/instances", {
      body: { storagePoolId: pool.id, volumeSizeInGb: "16", name: "gb16" },
    });
    refused(r, 400, 0, "Missing volumeSizeInKb");
  } finally {
    await old.close();
  }
});

test("System querySelectedStatistics without ids (or with []) answers a flat object; with its id, keyed", async () => {
  const t = await start();
  try {
    const sysId = t.emu.sys.id;
    const properties = ["numOfSds", "numOfStoragePools", "capacityLimitInKb"];
    const full = await t.api.get<Record<string, unknown>>(
      `/api/instances/System::${sysId}/relationships/Statistics`,
    );
    const expected = Object.fromEntries(properties.map((p) => [p, full[p]]));
    assert.equal(expected.numOfSds, 3);
    const path = "/api/types/System/instances/action/querySelectedStatistics";
    assert.deepEqual(await t.api.post(path, { properties }), expected);
    assert.deepEqual(await t.api.post(path, { ids: [], properties }), expected);
    assert.deepEqual(await t.api.post(path, { ids: [sysId], properties }), { [sysId]: expected });
    const bad = await t.api.raw("POST", path, { body: { properties: ["noSuchThing"] } });
    refused(bad, 400, 0, "Unknown statistics property: noSuchThing");
  } finally {
    await t.close();
  }
});

test("a name that matches nothing is 'not found' (3) in every by-name lookup; an unknown volume id stays 79", async () => {
  const t = await start();
  try {
    const pd = await firstOf(t, "ProtectionDomain");
    const miss = { message: "Not found", httpStatusCode: 500, errorCode: 3 };
    for (const [type, body] of [
      ["Volume", { name: "nope" }],
      ["ProtectionDomain", { name: "nope" }],
      ["StoragePool", { name: "nope", protectionDomainName: "default" }],
      ["StoragePool", { name: "default", protectionDomainName: "nope" }],
      ["Sds", { name: "nope" }],
      ["Sds", { ip: "10.99.0.1" }],
      ["Sdc", { ip: "10.99.0.1" }],
    ] as const) {
      const r = await t.api.raw("POST", `/api/types/${type}/instances/action/queryIdByKey`, {
        body,
      });
      assert.deepEqual(r.body, miss, `${type} ${JSON.stringify(body)}`);
    }
    for (const [path, message] of [
      ["/api/types/Volume/instances/getByName::nope", "Could not find the volume"],
      ["/api/types/Domain/instances/getByName::nope", "Could not find the Protection Domain"],
      [`/api/types/Pool/instances/getByName::${pd.id},nope`, "Could not find the Storage Pool"],
    ] as const) {
      refused(await t.api.raw("GET", path), 500, 3, message);
    }
    refused(
      await t.api.raw("GET", `/api/instances/Volume::${NO_SUCH_ID}`),
      500,
      79,
      "Could not find the volume",
    );
  } finally {
    await t.close();
  }
});

test("setMappedSdcLimits: both limits at 0, or neither, is refused; one limit cleared alone is fine", async () => {
  const t = await start();
  try {
    const pool = await firstOf(t, "StoragePool");
    const sdc = await firstOf(t, "Sdc");
    const { id } = await t.api.post<{ id: string }>("/api/types/Volume/instances", {
      name: "qos",
      volumeSizeInKb: String(8 * GB),
      storagePoolId: pool.id,
      volumeType: "ThinProvisioned",
    });
    await t.api.post(`/api/instances/Volume::${id}/action/addMappedSdc`, { sdcId: sdc.id });
    const limits = (body: Record<string, string>) =>
      act(t, "Volume", id, "setMappedSdcLimits", { sdcId: sdc.id, ...body });
    refused(
      await limits({ iopsLimit: "0", bandwidthLimitInKbps: "0" }),
      400,
      0,
      "iopsLimit and bandwidthLimitInKbps cannot both be 0: give at least one limit",
    );
    refused(await limits({}), 400, 0, "iopsLimit or bandwidthLimitInKbps is required");
    assert.equal((await limits({ iopsLimit: "1000", bandwidthLimitInKbps: "2048" })).status, 200);
    assert.equal((await limits({ iopsLimit: "0" })).status, 200);
    const info = (await t.api.get<Obj>(`/api/instances/Volume::${id}`)).mappedSdcInfo as Obj[];
    assert.deepEqual(
      { limitIops: info[0]!.limitIops, limitBwInMbps: info[0]!.limitBwInMbps },
      { limitIops: 0, limitBwInMbps: 2 },
    );
  } finally {
    await t.close();
  }
});
