// Alerts are derived from the current state; an alert keeps its id and start time for as
// long as its condition holds, and disappears when the condition clears.
import { randomUUID } from "node:crypto";
import { usedPercentOf } from "./capacity.js";
import type { ScaleioSystem } from "./system.js";

export interface Alert {
  id: string;
  name: string;
  uuid: string;
  alertType: string;
  severity: "ALERT_LOW" | "ALERT_MEDIUM" | "ALERT_HIGH" | "ALERT_CRITICAL";
  affectedObject: { type: string; id: string; objectId: string };
  alertValues: Record<string, string>;
  startTime: string;
  lastObserved: string;
}

interface Raised {
  type: string;
  severity: Alert["severity"];
  objType: string;
  objId: string;
  values?: Record<string, string>;
}

export class AlertBook {
  private memo = new Map<string, { id: string; uuid: string; start: number }>();

  constructor(private readonly sys: ScaleioSystem) {}

  private raised(): Raised[] {
    const sys = this.sys;
    const out: Raised[] = [];
    if (!sys.created) return out;
    for (const pool of sys.pools.values()) {
      const c = sys.poolCapacity(pool.id);
      const usable = c.capacityLimitInKb - c.spareCapacityInKb;
      if (c.maxCapacityInKb > 0 && usable > 0) {
        const pct = usedPercentOf(c);
        const values = { usedPercent: pct.toFixed(1) };
        if (pct >= pool.capacityAlertCriticalThreshold) {
          out.push({
            type: "CAPACITY_UTILIZATION_ABOVE_CRITICAL_THRESHOLD",
            severity: "ALERT_CRITICAL",
            objType: "StoragePool",
            objId: pool.id,
            values,
          });
        } else if (pct >= pool.capacityAlertHighThreshold) {
          out.push({
            type: "CAPACITY_UTILIZATION_ABOVE_HIGH_THRESHOLD",
            severity: "ALERT_HIGH",
            objType: "StoragePool",
            objId: pool.id,
            values,
          });
        }
      }
      if (c.degradedHealthyCapacityInKb > 0) {
        out.push({
          type: "STORAGE_POOL_HAS_DEGRADED_CAPACITY",
          severity: "ALERT_MEDIUM",
          objType: "StoragePool",
          objId: pool.id,
        });
      }
      if (c.failedCapacityInKb > 0) {
        out.push({
          type: "STORAGE_POOL_HAS_FAILED_CAPACITY",
          severity: "ALERT_CRITICAL",
          objType: "StoragePool",
          objId: pool.id,
        });
      }
      if (c.unreachableUnusedCapacityInKb > 0) {
        out.push({
          type: "STORAGE_POOL_HAS_UNREACHABLE_CAPACITY",
          severity: "ALERT_LOW",
          objType: "StoragePool",
          objId: pool.id,
        });
      }
      if (c.fwdRebuildStuck) {
        out.push({
          type: "FWD_REBUILD_STUCK",
          severity: "ALERT_HIGH",
          objType: "StoragePool",
          objId: pool.id,
        });
      }
      const devs = sys.devicesOfPool(pool.id);
      if (devs.length > 0 && sys.faultUnitCount(pool.id) < 3) {
        out.push({
          type: "NOT_ENOUGH_FAULT_UNITS_IN_SP",
          severity: "ALERT_MEDIUM",
          objType: "StoragePool",
          objId: pool.id,
        });
      }
      // Recomputed on every look: SDSs and devices joining or leaving and spare changes
      // (setSparePercentage, --modify_spare_policy) raise or clear these at once.
      const largest = sys.largestFaultUnitKb(pool.id);
      if (devs.length > 0 && c.spareCapacityInKb < largest) {
        const values = {
          sparePercentage: String(pool.sparePercentage),
          largestFaultUnitPercent: ((largest / Math.max(1, c.maxCapacityInKb)) * 100).toFixed(1),
        };
        out.push({
          type: "CONFIGURED_SPARE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT",
          severity: "ALERT_LOW",
          objType: "StoragePool",
          objId: pool.id,
          values,
        });
        // Not even spare and free capacity together could hold a lost fault unit's copies.
        if (c.spareCapacityInKb + c.unusedCapacityInKb < largest) {
          out.push({
            type: "SPARE_CAPACITY_AND_FREE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT",
            severity: "ALERT_HIGH",
            objType: "StoragePool",
            objId: pool.id,
            values,
          });
        }
      }
    }
    for (const d of sys.devices.values()) {
      if (d.failed)
        out.push({ type: "DEVICE_FAILED", severity: "ALERT_HIGH", objType: "Device", objId: d.id });
    }
    for (const sds of sys.sdss.values()) {
      if (!sys.sdsConnected(sds)) {
        out.push({
          type: "SDS_DISCONNECTED",
          severity: "ALERT_HIGH",
          objType: "Sds",
          objId: sds.id,
        });
      }
    }
    for (const sdc of sys.sdcs.values()) {
      if (!sys.sdcConnected(sdc)) {
        out.push({
          type: "SDC_DISCONNECTED",
          severity: "ALERT_MEDIUM",
          objType: "Sdc",
          objId: sdc.id,
        });
      }
    }
    const cluster = sys.cluster;
    if (cluster.mode === "1_node") {
      out.push({
        type: "MDM_NOT_CLUSTERED",
        severity: "ALERT_LOW",
        objType: "System",
        objId: sys.id,
      });
    } else if (cluster.state() !== "Normal") {
      // Emulator name: the reference lists no 2.0 alert type for a lost cluster member.
      out.push({
        type: "MDM_CLUSTER_DEGRADED",
        severity: "ALERT_HIGH",
        objType: "System",
        objId: sys.id,
      });
    }
    return out;
  }

  list(): Alert[] {
    const now = this.sys.clock.now();
    const live = new Set<string>();
    const alerts: Alert[] = [];
    for (const r of this.raised()) {
      const key = `${r.type}/${r.objId}`;
      live.add(key);
      let m = this.memo.get(key);
      if (!m) {
        m = { id: this.sys.ids.next("alert"), uuid: randomUUID(), start: now };
        this.memo.set(key, m);
      }
      alerts.push({
        id: m.id,
        name: r.type,
        uuid: m.uuid,
        alertType: r.type,
        severity: r.severity,
        affectedObject: { type: r.objType, id: r.objId, objectId: r.objId },
        alertValues: r.values ?? {},
        startTime: new Date(m.start).toISOString(),
        lastObserved: new Date(now).toISOString(),
      });
    }
    for (const k of [...this.memo.keys()]) if (!live.has(k)) this.memo.delete(k);
    return alerts;
  }
}
