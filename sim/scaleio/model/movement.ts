// Data movement in a pool: forward rebuild after a loss, backward rebuild when an SDS or
// device returns, rebalance onto new capacity, and draining an SDS or device being removed.
// Everything runs in steps driven by the system's clock (ScaleioSystem.tick).
import { addInto, onSds, pairKey, pairOf, spread } from "./placement.js";
import type { ScaleioSystem } from "./system.js";
import type { Job, Sds, StoragePool, Volume } from "./types.js";

export class DataMovement {
  constructor(private readonly sys: ScaleioSystem) {}

  /** Moves every copy held by `sdsId` to another unit (used when removal completes). */
  evacuate(v: Volume, sdsId: string): void {
    for (const [key, x] of [...v.placement]) {
      const [a, b] = pairOf(key);
      if (a !== sdsId && b !== sdsId) continue;
      const other = a === sdsId ? b : a;
      const target = this.pickTarget(v.storagePoolId, [sdsId, other], other, 0);
      v.placement.delete(key);
      if (!target) continue; // nowhere to go: the copy is dropped (pool had too few units)
      v.placement.set(pairKey(other, target), (v.placement.get(pairKey(other, target)) ?? 0) + x);
    }
  }

  onSdsReturn(sds: Sds): void {
    // Data that was still single-copy is resynchronised from the returning SDS (backward
    // rebuild); if the forward rebuild had already finished, a rebalance refills it instead.
    let still = 0;
    for (const v of this.sys.volumes.values()) still += onSds(v.placement, sds.id);
    if (still > 0) this.startBackwardRebuild(sds, Math.max(still, sds.bckRebuildPendingKb));
    else {
      sds.bckRebuildPendingKb = 0;
      const dev = [...this.sys.devices.values()].find((d) => d.sdsId === sds.id);
      if (dev) this.startRebalance(dev.storagePoolId);
    }
  }

  startBackwardRebuild(sds: Sds, kb: number): void {
    const dev = [...this.sys.devices.values()].find((d) => d.sdsId === sds.id);
    sds.bckRebuildPendingKb = 0;
    if (!dev || kb <= 0) return;
    this.sys.jobs.push({
      kind: "bckRebuild",
      storagePoolId: dev.storagePoolId,
      totalKb: kb,
      doneKb: 0,
      onDone: () => {},
    });
  }

  startRebalance(poolId: string): void {
    const pool = this.sys.pool(poolId);
    if (!pool.rebalanceEnabled) return;
    if (this.sys.jobs.some((j) => j.kind === "rebalance" && j.storagePoolId === poolId)) return;
    const units = this.sys.units(poolId);
    const totalW = units.reduce((s, u) => s + u.weightKb, 0);
    let raw = 0;
    const perSds = new Map<string, number>();
    for (const v of this.sys.volumes.values()) {
      if (v.storagePoolId !== poolId) continue;
      for (const u of units)
        perSds.set(u.sdsId, (perSds.get(u.sdsId) ?? 0) + onSds(v.placement, u.sdsId));
    }
    for (const x of perSds.values()) raw += x;
    let excess = 0;
    for (const u of units)
      excess += Math.max(0, (perSds.get(u.sdsId) ?? 0) - (raw * u.weightKb) / totalW);
    excess = Math.round(excess);
    if (excess <= 0) return;
    this.sys.jobs.push({
      kind: "rebalance",
      storagePoolId: poolId,
      totalKb: excess,
      doneKb: 0,
      onDone: () => this.respread(poolId),
    });
  }

  /** After a rebalance, healthy data is evenly spread over the serving units again. */
  respread(poolId: string): void {
    const units = this.sys.units(poolId);
    const serving = new Set(units.map((u) => u.sdsId));
    for (const v of this.sys.volumes.values()) {
      if (v.storagePoolId !== poolId) continue;
      let healthy = 0;
      for (const [k, x] of [...v.placement]) {
        const [a, b] = pairOf(k);
        if (serving.has(a) && serving.has(b)) {
          healthy += x;
          v.placement.delete(k);
        }
      }
      addInto(v.placement, spread(healthy, units));
    }
  }

  pickTarget(
    poolId: string,
    exclude: string[],
    partner: string,
    needKb: number,
  ): string | undefined {
    const partnerFs = this.sys.sdss.get(partner)?.faultSetId ?? null;
    const free = this.freePerSds(poolId);
    let best: string | undefined;
    let bestFree = -1;
    for (const u of this.sys.units(poolId)) {
      if (exclude.includes(u.sdsId)) continue;
      if (partnerFs !== null && u.faultSetId === partnerFs) continue;
      const f = free.get(u.sdsId) ?? 0;
      if (f >= needKb && f > bestFree) {
        best = u.sdsId;
        bestFree = f;
      }
    }
    return best;
  }

  freePerSds(poolId: string): Map<string, number> {
    const free = new Map<string, number>();
    for (const d of this.sys.devicesOfPool(poolId)) {
      if (!d.removing) free.set(d.sdsId, (free.get(d.sdsId) ?? 0) + d.capacityLimitKb);
    }
    for (const v of this.sys.volumes.values()) {
      if (v.storagePoolId !== poolId) continue;
      for (const [k, x] of v.placement) {
        for (const s of pairOf(k)) free.set(s, (free.get(s) ?? 0) - x);
      }
    }
    return free;
  }

  rebuildBlocked(poolId: string): boolean {
    for (const v of this.sys.volumes.values()) {
      if (v.storagePoolId !== poolId) continue;
      for (const k of v.placement.keys()) {
        const [a, b] = pairOf(k);
        const da = this.sys.sdsLostIn(a, poolId);
        const db = this.sys.sdsLostIn(b, poolId);
        if (da === db) continue;
        const survivor = da ? b : a;
        if (!this.sys.sdsUpIn(survivor, poolId)) continue;
        if (this.pickTarget(poolId, [a, b], survivor, 1)) return false;
      }
    }
    return true;
  }

  stepPool(pool: StoragePool, seconds: number): void {
    // No data and no job: nothing to move (and the capacity figures, which cost a pass over
    // every device, are not needed). The common case while a cluster is being built.
    if (!this.sys.jobs.some((j) => j.storagePoolId === pool.id) && !this.sys.poolHasData(pool.id))
      return;
    const c = this.sys.poolCapacity(pool.id);
    const budget = c.rateKbPerSec * seconds;
    if (c.fwdRebuildRemainingKb > 0) this.forwardRebuild(pool.id, budget);
    for (const job of this.sys.jobs.filter((j) => j.storagePoolId === pool.id)) {
      job.doneKb = Math.min(job.totalKb, job.doneKb + budget);
      if (job.doneKb >= job.totalKb) {
        this.sys.jobs = this.sys.jobs.filter((j) => j !== job);
        job.onDone();
      }
    }
  }

  /** New second copies for single-copy data, written to the unit with the most free space. */
  forwardRebuild(poolId: string, budget: number): void {
    for (const v of this.sys.volumes.values()) {
      if (v.storagePoolId !== poolId) continue;
      for (const [k, x] of [...v.placement]) {
        if (budget <= 0) return;
        const [a, b] = pairOf(k);
        const da = this.sys.sdsLostIn(a, poolId);
        const db = this.sys.sdsLostIn(b, poolId);
        if (da === db) continue;
        const survivor = da ? b : a;
        const dead = da ? a : b;
        // A copy on an SDS in maintenance that is down is no source to rebuild from.
        if (!this.sys.sdsUpIn(survivor, poolId)) continue;
        const free = this.freePerSds(poolId);
        const target = this.pickTarget(poolId, [dead, survivor], survivor, 1);
        if (!target) continue;
        const m = Math.min(x, Math.floor(budget), free.get(target) ?? 0);
        if (m <= 0) continue;
        budget -= m;
        if (m === x) v.placement.delete(k);
        else v.placement.set(k, x - m);
        const nk = pairKey(survivor, target);
        v.placement.set(nk, (v.placement.get(nk) ?? 0) + m);
      }
    }
  }

  jobTotals(
    poolIds: Set<string>,
    kind: Job["kind"],
  ): { total: number; active: number; pending: number } {
    let total = 0;
    let active = 0;
    for (const j of this.sys.jobs) {
      if (j.kind !== kind || !poolIds.has(j.storagePoolId)) continue;
      const left = j.totalKb - j.doneKb;
      total += left;
      const rate = this.sys.poolCapacity(j.storagePoolId).rateKbPerSec;
      active += Math.min(left, rate);
    }
    return {
      total: Math.round(total),
      active: Math.round(active),
      pending: Math.round(total - active),
    };
  }
}
