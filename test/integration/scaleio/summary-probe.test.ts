// clusterSummary and poolUsage against the emulator's statistics (reference 5.2's worked
// example), the volume probe's clean-up in every failure, and the single-object helpers.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { GatewayClient } from "../../../src/platforms/scaleio/gateway/client.js";
import {
  ClusterOpError,
  PROBE_PREFIX,
  clusterSummary,
  ensureFaultSet,
  ensureStoragePool,
  findSystem,
  poolUsage,
  verifyVolumeLifecycle,
} from "../../../src/platforms/scaleio/cluster/index.js";
import { startEnv } from "./support.js";

const GB = 1024 * 1024;

test("clusterSummary follows reference 5.2's worked example and the emulator's state and alerts", async () => {
  const env = await startEnv(); // 3_node, 3 SDSs x one 100 GB device, spare 10%, one SDC
  try {
    const c = env.client;
    const s = await clusterSummary(c);
    assert.equal(s.systemName, "scaleio");
    assert.equal(s.mdmMode, "Cluster");
    assert.equal(s.clusterState, "ClusteredNormal");
    assert.deepEqual([s.sdsTotal, s.sdsConnected, s.sdcTotal, s.sdcConnected], [3, 3, 1, 1]);
    assert.equal(s.rawCapacityKb, 300 * GB);
    assert.equal(s.usableCapacityKb, 128 * GB, "floor8((300 - 30) / 2)");
    assert.equal(s.freeCapacityKb, 128 * GB);
    const [pool] = await c.allStoragePools();
    await c.createVolume({
      name: "thick16",
      sizeInKb: 16 * GB,
      storagePoolId: pool!.id,
      thin: false,
    });
    assert.equal((await clusterSummary(c)).freeCapacityKb, 112 * GB, "floor8((270 - 32) / 2)");
    await c.createVolume({
      name: "thin64",
      sizeInKb: 64 * GB,
      storagePoolId: pool!.id,
      thin: true,
    });
    const after = await clusterSummary(c);
    assert.equal(after.freeCapacityKb, 112 * GB, "thin volumes take nothing until written");
    assert.equal(after.usableCapacityKb, 128 * GB);
    // the same numbers the gateway's own statistics give
    const st = await c.statistics("StoragePool", pool!.id);
    assert.equal(after.freeCapacityKb, st.capacityAvailableForVolumeAllocationInKb);
    assert.equal(after.rawCapacityKb, st.maxCapacityInKb);
    assert.deepEqual(
      after.alerts.map((a) => a.type).sort(),
      (await c.alerts()).map((a) => a.alertType).sort(),
    );

    // an SDS and an MDM go down: counts and state follow
    await env.admin("/admin/sds/10.20.0.13/kill");
    await env.admin("/admin/mdm/10.20.0.12/kill");
    const down = await clusterSummary(c);
    assert.equal(down.sdsConnected, 2);
    assert.equal(down.clusterState, "ClusteredDegraded");
    assert.ok(down.alerts.some((a) => a.type === "SDS_DISCONNECTED" && a.objectType === "Sds"));
  } finally {
    await env.close();
  }
});

test("poolUsage: used% of non-spare capacity and of the whole limit, matching the pool statistics and alerts", async () => {
  const env = await startEnv();
  try {
    const c = env.client;
    const [empty] = await poolUsage(c);
    assert.equal(empty!.usedPercent, 0);
    await env.admin(`/admin/pools/${empty!.poolId}/write`, { sizeGb: 110 });
    const [u] = await poolUsage(c);
    const st = await c.statistics("StoragePool", u!.poolId);
    const inUse = st.capacityInUseInKb as number;
    assert.equal(u!.inUseKb, inUse);
    assert.equal(u!.capacityLimitKb, 300 * GB);
    assert.equal(u!.spareKb, 30 * GB);
    assert.equal(u!.usedPercent, (inUse / (270 * GB)) * 100);
    assert.equal(u!.rawUsedPercent, (inUse / (300 * GB)) * 100);
    assert.ok(u!.usedPercent > 80 && u!.usedPercent < 90, `used ${u!.usedPercent}%`);
    const alerts = (await clusterSummary(c)).alerts.map((a) => a.type);
    assert.ok(alerts.includes("CAPACITY_UTILIZATION_ABOVE_HIGH_THRESHOLD"));
  } finally {
    await env.close();
  }
});

test("verifyVolumeLifecycle: create, map, unmap, remove; nothing left behind, also when the map, the unmap or the removal fails", async () => {
  const env = await startEnv();
  try {
    const c = env.client;
    const [pool] = await c.allStoragePools();
    const [sdc] = await c.allSdcs();
    const ok = await verifyVolumeLifecycle(c, { storagePoolId: pool!.id, sdcId: sdc!.id });
    assert.ok(ok.name.startsWith(PROBE_PREFIX) && ok.name.length <= 31);
    assert.deepEqual(await c.volumes(), []);

    // map fails (unknown SDC): the error says why, the volume is removed
    await assert.rejects(
      verifyVolumeLifecycle(c, { storagePoolId: pool!.id, sdcId: "00000000deadbeef" }),
      (e: unknown) => e instanceof ClusterOpError && /Could not find the SDC/.test(e.message),
    );
    assert.deepEqual(await c.volumes(), []);

    // unmap fails once: clean-up unmaps and removes
    let failUnmap = true;
    const flaky = new Proxy(c, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== "unmapVolume") return v;
        return async (id: string, sdcId: string) => {
          if (failUnmap) {
            failUnmap = false;
            throw new Error("connection reset");
          }
          return target.unmapVolume(id, sdcId);
        };
      },
    }) as GatewayClient;
    await assert.rejects(
      verifyVolumeLifecycle(flaky, { storagePoolId: pool!.id, sdcId: sdc!.id }),
      (e: unknown) =>
        e instanceof ClusterOpError && !e.permanent && /connection reset/.test(e.message),
    );
    assert.deepEqual(await c.volumes(), []);

    // removal refused once (a gateway hiccup): clean-up removes it
    let failRemove = true;
    const hiccup = new Proxy(c, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== "removeVolume") return v;
        return async (id: string) => {
          if (failRemove) {
            failRemove = false;
            throw new Error("socket hang up");
          }
          return target.removeVolume(id);
        };
      },
    }) as GatewayClient;
    await assert.rejects(
      verifyVolumeLifecycle(hiccup, { storagePoolId: pool!.id, sdcId: sdc!.id }),
      /socket hang up/,
    );
    assert.deepEqual(await c.volumes(), []);

    // a probe left mapped by a crashed run is swept by the next probe
    const left = await c.createVolume({
      name: `${PROBE_PREFIX}crashed`,
      sizeInKb: 8 * GB,
      storagePoolId: pool!.id,
      thin: true,
    });
    await c.mapVolume(left, sdc!.id);
    const next = await verifyVolumeLifecycle(c, { storagePoolId: pool!.id, sdcId: sdc!.id });
    assert.deepEqual(next.sweptVolumes, [left]);
    assert.deepEqual(await c.volumes(), []);

    // no quorum: retryable
    await env.admin("/admin/mdm/10.20.0.11/kill");
    await env.admin("/admin/mdm/10.20.0.12/kill");
    for (const p of [
      verifyVolumeLifecycle(c, { storagePoolId: pool!.id, sdcId: sdc!.id }),
      clusterSummary(c),
      poolUsage(c),
    ]) {
      await assert.rejects(
        p,
        (e: unknown) => e instanceof ClusterOpError && !e.permanent && e.httpStatus === 503,
      );
    }
  } finally {
    await env.close();
  }
});

test("findSystem by id, else by name; ensureStoragePool fixes a differing spare; ensureFaultSet is idempotent", async () => {
  const env = await startEnv();
  try {
    const c = env.client;
    const sys = await findSystem(c);
    assert.equal((await findSystem(c, { id: sys.id, name: "ignored" })).id, sys.id);
    assert.equal((await findSystem(c, { name: "scaleio" })).id, sys.id);
    await assert.rejects(
      findSystem(c, { name: "nope" }),
      (e: unknown) =>
        e instanceof ClusterOpError &&
        e.permanent &&
        /no ScaleIO system named 'nope'/.test(e.message),
    );
    await assert.rejects(
      findSystem(c, { id: "0123456789abcdef" }),
      (e: unknown) => e instanceof ClusterOpError && e.permanent,
    );

    const [pd] = await c.protectionDomains(sys.id);
    const p1 = await ensureStoragePool(c, {
      protectionDomainId: pd!.id,
      name: "default",
      sparePercentage: 34,
    });
    assert.deepEqual([p1.created, p1.spareChanged], [false, true]);
    assert.equal((await c.storagePool(p1.id)).sparePercentage, 34);
    const p2 = await ensureStoragePool(c, {
      protectionDomainId: pd!.id,
      name: "default",
      sparePercentage: 34,
    });
    assert.deepEqual([p2.id, p2.created, p2.spareChanged], [p1.id, false, false]);
    await assert.rejects(
      ensureStoragePool(c, { protectionDomainId: pd!.id, name: "x", sparePercentage: 101 }),
      (e: unknown) => e instanceof ClusterOpError && e.permanent,
    );

    const f1 = await ensureFaultSet(c, pd!.id, "rack1");
    const f2 = await ensureFaultSet(c, pd!.id, "rack1");
    assert.deepEqual([f1.created, f2.created, f2.id], [true, false, f1.id]);
    assert.equal(env.emu.sys.faultSets.size, 1);
  } finally {
    await env.close();
  }
});
