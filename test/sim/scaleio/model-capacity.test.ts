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
