import { test } from "node:test";
import assert from "node:assert/strict";
import { ManualClock } from "../../../sim/scaleio/model/clock.js";
import { ScaleioSystem } from "../../../sim/scaleio/model/system.js";
import { bootstrap } from "../../../sim/scaleio/model/bootstrap.js";
import { KB_PER_GB } from "../../../sim/scaleio/model/units.js";

const GB = KB_PER_GB;

function fresh() {
  const clock = new ManualClock();
  const sys = new ScaleioSystem(clock);
  bootstrap(sys);
  const pool = [...sys.pools.values()][0]!;
  return { clock, sys, pool };
}

test("worked example of reference 5.2: 3 x 100 GB, spare 10%", () => {
  const { sys, pool } = fresh();
  let c = sys.poolCapacity(pool.id);
  assert.equal(c.maxCapacityInKb, 300 * GB);
  assert.equal(c.spareCapacityInKb, 30 * GB);
  assert.equal(c.capacityAvailableForVolumeAllocationInKb, 128 * GB);
  sys.addVolume({ name: "thick16", storagePoolId: pool.id, sizeKb: 16 * GB, thin: false });
  c = sys.poolCapacity(pool.id);
  assert.equal(c.capacityAvailableForVolumeAllocationInKb, 112 * GB);
  assert.equal(c.thickCapacityInUseInKb, 32 * GB);
  assert.equal(c.capacityInUseInKb, 32 * GB);
  assert.equal(c.protectedCapacityInKb, 32 * GB);
  sys.addVolume({ name: "thin64", storagePoolId: pool.id, sizeKb: 64 * GB, thin: true });
  c = sys.poolCapacity(pool.id);
  assert.equal(c.capacityAvailableForVolumeAllocationInKb, 112 * GB);
  assert.equal(c.thinCapacityAllocatedInKb, 128 * GB);
  assert.equal(c.unusedCapacityInKb, c.maxCapacityInKb - c.spareCapacityInKb - c.capacityInUseInKb);
});

test("rebuild gets stuck when the surviving SDSs cannot hold the lost copies (FWD_REBUILD_STUCK)", async () => {
  const { AlertBook } = await import("../../../sim/scaleio/model/alerts.js");
  const { clock, sys, pool } = fresh();
  sys.addVolume({ name: "big", storagePoolId: pool.id, sizeKb: 128 * GB, thin: false });
  const alerts = new AlertBook(sys);
  sys.setComponentAlive("10.20.0.11", "sds", false);
  clock.advance(3600_000);
  sys.tick();
  const c = sys.poolCapacity(pool.id);
  assert.ok(c.degradedHealthyCapacityInKb > 0, "not everything could be rebuilt");
  assert.equal(c.fwdRebuildStuck, true);
  assert.ok(alerts.list().some((a) => a.alertType === "FWD_REBUILD_STUCK"));
  // the SDS comes back: resynchronised, no longer stuck
  sys.setComponentAlive("10.20.0.11", "sds", true);
  clock.advance(3600_000);
  sys.tick();
  const after = sys.poolCapacity(pool.id);
  assert.equal(after.fwdRebuildStuck, false);
  assert.equal(after.protectedCapacityInKb, after.capacityInUseInKb);
});

test("model: two MDMs down in 3_node refuse service; the returning slave becomes master", () => {
  const { sys } = fresh();
  sys.setComponentAlive("10.20.0.11", "mdm", false);
  sys.setComponentAlive("10.20.0.12", "mdm", false);
  assert.throws(() => sys.cluster.requireService(), /quorum/);
  sys.setComponentAlive("10.20.0.12", "mdm", true);
  sys.cluster.requireService();
  assert.equal(sys.cluster.master()?.name, "mdm2");
});
