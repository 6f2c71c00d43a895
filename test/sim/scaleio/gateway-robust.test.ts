// Nothing a client sends may crash the gateway: random bodies on every write endpoint get a
// JSON error in the documented shape (or succeed), and the gateway keeps answering.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { PASSWORD, startTestEmu } from "./helpers.js";

test("random bodies on create and action endpoints never crash the gateway", async () => {
  const t = await startTestEmu({ bootstrap: { password: PASSWORD, sdcCount: 1 } });
  try {
    await t.api.login();
    const pool = (await t.api.get<{ id: string }[]>("/api/types/StoragePool/instances"))[0]!.id;
    const vol = (
      await t.api.post<{ id: string }>("/api/types/Volume/instances", {
        name: "fuzz",
        volumeSizeInKb: "8388608",
        storagePoolId: pool,
      })
    ).id;
    const sds = (await t.api.get<{ id: string }[]>("/api/types/Sds/instances"))[0]!.id;
    const paths = [
      "/api/types/ProtectionDomain/instances",
      "/api/types/StoragePool/instances",
      "/api/types/Sds/instances",
      "/api/types/Device/instances",
      "/api/types/Volume/instances",
      "/api/types/FaultSet/instances",
      "/api/types/Volume/instances/action/queryIdByKey",
      "/api/types/StoragePool/instances/action/querySelectedStatistics",
      "/api/types/Volume/instances/action/queryBySelectedIds",
      "/api/instances/querySelectedStatistics",
      `/api/instances/Volume::${vol}/action/addMappedSdc`,
      `/api/instances/Volume::${vol}/action/removeMappedSdc`,
      `/api/instances/Volume::${vol}/action/setVolumeSize`,
      `/api/instances/Volume::${vol}/action/setMappedSdcLimits`,
      `/api/instances/StoragePool::${pool}/action/setSparePercentage`,
      `/api/instances/StoragePool::${pool}/action/setCapacityAlertThresholds`,
      `/api/instances/Sds::${sds}/action/enterMaintenanceMode`,
      "/api/instances/System/action/snapshotVolumes",
      "/api/instances/System/action/switchClusterMode",
    ];
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.string({ maxLength: 8 }),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constantFrom("TRUE", "FALSE", "8", "-1", "", pool, vol, sds, "10.20.0.11"),
        fc.array(tie("v"), { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom(
            "name",
            "ids",
            "properties",
            "sdcId",
            "sizeInGB",
            "volumeSizeInKb",
            "storagePoolId",
            "protectionDomainId",
            "sdsIpList",
            "SdsIp",
            "ip",
            "type",
            "allIds",
            "selectedStatisticsList",
            "snapshotDefs",
            "volumeId",
            "mode",
          ),
          tie("v"),
          { maxKeys: 5 },
        ),
      ),
    })).v;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(value, fc.string({ maxLength: 30 })),
        fc.boolean(),
        async (path, body, raw) => {
          const r =
            raw && typeof body === "string"
              ? await t.api.raw("POST", path, { rawBody: body })
              : await t.api.raw("POST", path, { body });
          if (r.status !== 200) {
            const b = r.body as Record<string, unknown>;
            assert.ok(r.status >= 400 && r.status < 600, `${path}: ${r.status}`);
            assert.equal(typeof b.message, "string", r.text);
            assert.equal(b.httpStatusCode, r.status);
            assert.equal(typeof b.errorCode, "number");
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.equal((await t.api.raw("GET", "/api/types/System/instances")).status, 200);
  } finally {
    await t.close();
  }
});

test("tokens also expire 8 hours after login even when used continuously", async () => {
  const t = await startTestEmu();
  try {
    await t.api.login();
    // a call every 9 minutes keeps the idle timer happy until the 8-hour limit
    for (let minutes = 9; minutes <= 477; minutes += 9) {
      t.clock.advance(9 * 60_000);
      assert.equal(
        (await t.api.raw("GET", "/api/types/System/instances")).status,
        200,
        `after ${minutes} minutes`,
      );
    }
    t.clock.advance(9 * 60_000);
    assert.equal(
      (await t.api.raw("GET", "/api/types/System/instances")).status,
      401,
      "after 486 minutes",
    );
  } finally {
    await t.close();
  }
});
