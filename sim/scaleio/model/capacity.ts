// Capacity accounting of one storage pool (reference 5.2): two copies per chunk, a spare
// reserve, thick volumes allocated at once and thin volumes as they are written. Every
// protected/degraded/failed counter derives from where each volume's copies live.
import { pairOf } from "./placement.js";
import type { Device, StoragePool, Volume } from "./types.js";
import { floorGranule } from "./units.js";

export interface PoolCapacity {
  maxCapacityInKb: number;
  capacityLimitInKb: number;
  spareCapacityInKb: number;
  capacityInUseInKb: number;
  unusedCapacityInKb: number;
  capacityAvailableForVolumeAllocationInKb: number;
  thickCapacityInUseInKb: number;
  thinCapacityInUseInKb: number;
  thinCapacityAllocatedInKb: number;
  snapCapacityInUseInKb: number;
  snapCapacityInUseOccupiedInKb: number;
  protectedCapacityInKb: number;
  degradedHealthyCapacityInKb: number;
  degradedFailedCapacityInKb: number;
  failedCapacityInKb: number;
  unreachableUnusedCapacityInKb: number;
  inMaintenanceCapacityInKb: number;
  semiProtectedCapacityInKb: number;
  fwdRebuildRemainingKb: number;
  fwdRebuildStuck: boolean;
  rateKbPerSec: number;
}

export interface CapacityInputs {
  pool: StoragePool;
  devices: Device[];
  volumes: Volume[];
  /** An SDS's state as far as this pool is concerned. */
  status(sdsId: string): "up" | "down" | "maint";
  rebuildKbPerSecPerDevice: number;
  /** Whether no degraded copy can currently be rebuilt anywhere. */
  rebuildBlocked(): boolean;
}

/**
 * Used % as the MDM computes it for its capacity alerts (reference 5.3): capacity in use over
 * the non-spare capacity, `capacityInUseInKb / (capacityLimitInKb - spareCapacityInKb)`.
 */
export function usedPercentOf(c: PoolCapacity): number {
  const usable = c.capacityLimitInKb - c.spareCapacityInKb;
  return usable > 0 ? (c.capacityInUseInKb / usable) * 100 : 0;
}

export function computePoolCapacity(i: CapacityInputs): PoolCapacity {
  const devs = i.devices;
  const pool = i.pool;
  const max = devs.reduce((s, d) => s + d.sizeKb, 0);
  const limit = devs.reduce((s, d) => s + d.capacityLimitKb, 0);
  const spare = Math.floor((max * pool.sparePercentage) / 100);
  let thick = 0;
  let thinUse = 0;
  let thinAlloc = 0;
  let snapUse = 0;
  let prot = 0;
  let degH = 0;
  let degF = 0;
  let failed = 0;
  let maint = 0;
  let semi = 0;
  let fwdRemaining = 0;
  const status = i.status;
  const perSdsRaw = new Map<string, number>();
  for (const v of i.volumes) {
    if (v.volumeType === "ThickProvisioned") thick += 2 * v.sizeKb;
    else if (v.volumeType === "Snapshot") snapUse += 2 * v.writtenKb;
    else {
      thinUse += 2 * v.writtenKb;
      if (!v.hidden) thinAlloc += 2 * v.sizeKb;
    }
    for (const [k, x] of v.placement) {
      const [a, b] = pairOf(k);
      perSdsRaw.set(a, (perSdsRaw.get(a) ?? 0) + x);
      perSdsRaw.set(b, (perSdsRaw.get(b) ?? 0) + x);
      const sa = status(a);
      const sb = status(b);
      if (sa === "up" && sb === "up") prot += 2 * x;
      else if (sa === "down" && sb === "down") failed += 2 * x;
      else if (sa === "down" || sb === "down") {
        const survivorUp = sa === "up" || sb === "up";
        degH += x;
        degF += x;
        if (survivorUp) fwdRemaining += x;
      } else {
        // one copy on an SDS in maintenance, the other live (or both in maintenance)
        if (sa === "maint" && sb === "maint") maint += 2 * x;
        else {
          maint += x;
          semi += x;
        }
      }
    }
  }
  const inUse = prot + degH + degF + failed + maint + semi;
  let unreachable = 0;
  for (const d of devs) {
    if (status(d.sdsId) !== "down") continue;
    const sdsDevKb = devs.filter((x) => x.sdsId === d.sdsId).reduce((s, x) => s + x.sizeKb, 0);
    const raw = perSdsRaw.get(d.sdsId) ?? 0;
    unreachable += Math.max(0, Math.round(d.sizeKb - (raw * d.sizeKb) / Math.max(1, sdsDevKb)));
  }
  const allocatedRaw = thick + thinUse + snapUse;
  const servingDevs = devs.filter((d) => status(d.sdsId) === "up").length;
  const rate = i.rebuildKbPerSecPerDevice * Math.max(1, servingDevs);
  return {
    maxCapacityInKb: max,
    capacityLimitInKb: limit,
    spareCapacityInKb: spare,
    capacityInUseInKb: inUse,
    unusedCapacityInKb: Math.max(0, max - spare - inUse - unreachable),
    capacityAvailableForVolumeAllocationInKb: floorGranule((limit - spare - allocatedRaw) / 2),
    thickCapacityInUseInKb: thick,
    thinCapacityInUseInKb: thinUse,
    thinCapacityAllocatedInKb: thinAlloc,
    snapCapacityInUseInKb: snapUse,
    snapCapacityInUseOccupiedInKb: snapUse,
    protectedCapacityInKb: prot,
    degradedHealthyCapacityInKb: degH,
    degradedFailedCapacityInKb: degF,
    failedCapacityInKb: failed,
    unreachableUnusedCapacityInKb: unreachable,
    inMaintenanceCapacityInKb: maint,
    semiProtectedCapacityInKb: semi,
    fwdRebuildRemainingKb: pool.rebuildEnabled ? fwdRemaining : 0,
    fwdRebuildStuck: pool.rebuildEnabled && fwdRemaining > 0 && i.rebuildBlocked(),
    rateKbPerSec: rate,
  };
}
