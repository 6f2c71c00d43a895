// ScaleIO's health checks: from one observation (and what earlier ones showed, for rebuild
// progress and sustained slowness) to the conditions that hold now, one checker per kind of
// object as Rook does. MDM alerts the typed checks do not cover still count: each is a
// `PlatformAlert`, so an active alert is never "healthy".
import type { ConditionFinding, Severity } from "../../../framework/health/types.js";
import type { ObservedCluster, ObservedPool } from "./model.js";

export interface HealthThresholds {
  /** Pool used % (of non-spare capacity) for a warning and for critical (80 / 90). */
  capacityWarningPercent: number;
  capacityCriticalPercent: number;
  /** Latency beyond which a pool or SDS is slow (µs; default 50 ms). */
  latencyMicros: number;
  /** IOPS beyond which a pool or SDS is overloaded (default: no limit). */
  maxIops?: number;
  /** Observations in a row a slowness must last to count (default 3). */
  performanceWindow: number;
  /** A rebuild that has not moved for this long is stuck (default 5 min). */
  rebuildStuckAfterMs: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  capacityWarningPercent: 80,
  capacityCriticalPercent: 90,
  latencyMicros: 50_000,
  performanceWindow: 3,
  rebuildStuckAfterMs: 5 * 60_000,
};

/** Every condition type these checks can raise (alert rules exist for each). */
export const SCALEIO_CONDITION_TYPES = [
  "CapacityAlmostFull",
  "SpareBelowLargestFaultUnit",
  "SdsDisconnected",
  "SdcDisconnected",
  "MdmClusterDegraded",
  "DeviceFailed",
  "Rebuilding",
  "RebuildStuck",
  "PerformanceDegraded",
  "PlatformAlert",
] as const;

/** MDM alert types that a typed condition stands for. */
const COVERED_ALERTS = new Set([
  "CAPACITY_UTILIZATION_ABOVE_HIGH_THRESHOLD",
  "CAPACITY_UTILIZATION_ABOVE_CRITICAL_THRESHOLD",
  "CONFIGURED_SPARE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT",
  "SPARE_CAPACITY_AND_FREE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT",
  "SDS_DISCONNECTED",
  "SDC_DISCONNECTED",
  "DEVICE_FAILED",
  "FWD_REBUILD_STUCK",
  "BKWD_REBUILD_STUCK",
  "MDM_CLUSTER_DEGRADED",
  "STORAGE_POOL_HAS_DEGRADED_CAPACITY",
  // The SDS that holds it is disconnected (SdsDisconnected says which).
  "STORAGE_POOL_HAS_UNREACHABLE_CAPACITY",
]);
const STUCK_ALERTS = new Set(["FWD_REBUILD_STUCK", "BKWD_REBUILD_STUCK"]);
const SPARE_ALERTS = new Set([
  "CONFIGURED_SPARE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT",
  "SPARE_CAPACITY_AND_FREE_CAPACITY_SMALLER_THAN_LARGEST_FAULT_UNIT",
]);

/** `NoMaintenance` is the normal state; any other (entering, in, leaving) counts. */
const inMaintenance = (state: string | undefined) =>
  state !== undefined && state !== "NoMaintenance";

const pct = (n: number) => `${Math.round(n * 10) / 10} %`;

/** `pool/<domain>/<pool>` (ids when unnamed). */
export function poolObject(p: Pick<ObservedPool, "id" | "name" | "protectionDomainName">): string {
  return `pool/${p.protectionDomainName ?? "?"}/${p.name ?? p.id}`;
}

interface RebuildTrack {
  /** The most left to rebuild since this rebuild began (progress is measured against it). */
  peakKb: number;
  /** The least left so far, and when it last went down. */
  lowestKb: number;
  movedAt: number;
}

export class ScaleioHealthChecks {
  private readonly rebuilds = new Map<string, RebuildTrack>();
  private readonly slow = new Map<string, number>();

  constructor(readonly thresholds: HealthThresholds = DEFAULT_THRESHOLDS) {}

  check(o: ObservedCluster): ConditionFinding[] {
    const out: ConditionFinding[] = [];
    const alertsOn = (type: string, id: string) =>
      o.alerts.some((a) => a.objectId === id && a.type === type);
    this.checkMdm(o, out);
    for (const p of o.pools) this.checkPool(o, p, out, alertsOn);
    const seenPools = new Set(o.pools.map((p) => p.id));
    for (const id of this.rebuilds.keys()) if (!seenPools.has(id)) this.rebuilds.delete(id);

    const sdsName = new Map(o.sds.map((s) => [s.id, s.ips[0] ?? s.name ?? s.id] as const));
    for (const s of o.sds) {
      const object = `sds/${sdsName.get(s.id)}`;
      if (!s.connected && !inMaintenance(s.maintenance))
        out.push({
          type: "SdsDisconnected",
          severity: "warning",
          object,
          message: `SDS ${s.name ?? s.id} (${s.ips.join(", ")}) is disconnected from the MDM`,
        });
      this.checkPerformance(object, `SDS ${s.name ?? s.id}`, s.performance, out);
    }
    for (const c of o.sdcs)
      if (!c.connected)
        out.push({
          type: "SdcDisconnected",
          severity: "warning",
          object: `sdc/${c.ip ?? c.id}`,
          message: `SDC ${c.ip ?? c.id} is disconnected from the MDM`,
        });
    const connected = new Set(o.sds.filter((s) => s.connected).map((s) => s.id));
    // A device in error on a connected SDS has failed (a disconnected SDS's devices all show
    // an error: SdsDisconnected says that).
    const failed = (d: ObservedCluster["devices"][number]) =>
      /fail/i.test(d.state ?? "") ||
      (connected.has(d.sdsId) && d.errorState !== undefined && d.errorState !== "None");
    for (const d of o.devices)
      if (failed(d) || alertsOn("DEVICE_FAILED", d.id))
        out.push({
          type: "DeviceFailed",
          severity: "warning",
          object: `device/${sdsName.get(d.sdsId) ?? d.sdsId}:${d.path ?? d.name ?? d.id}`,
          message: `device ${d.path ?? d.id} of SDS ${sdsName.get(d.sdsId) ?? d.sdsId} has failed (state ${d.state ?? "unknown"}, error state ${d.errorState ?? "unknown"})`,
        });
    for (const a of o.alerts) {
      if (COVERED_ALERTS.has(a.type)) continue;
      out.push({
        type: "PlatformAlert",
        severity: /CRITICAL/i.test(a.severity) ? "critical" : "warning",
        object: `alert/${a.type}${a.objectId ? `/${a.objectId}` : ""}`,
        message: `MDM alert ${a.type} (${a.severity}) on ${a.objectType ?? "the system"}${a.objectId ? ` ${a.objectId}` : ""}`,
      });
    }
    return out;
  }

  private checkMdm(o: ObservedCluster, out: ConditionFinding[]): void {
    const single = /one|single/i.test(o.mdm.mode) || o.mdm.members.length <= 1;
    const down = o.mdm.members.filter((m) => m.status !== "Normal");
    for (const m of down)
      out.push({
        type: "MdmClusterDegraded",
        severity: "warning",
        object: `mdm/${m.ips[0] ?? m.name ?? m.id}`,
        message: `MDM ${m.role} ${m.name ?? m.id} (${m.ips.join(", ")}) is ${m.status}`,
      });
    const degradedState = single ? false : !/normal/i.test(o.mdm.state);
    if (degradedState && down.length === 0)
      out.push({
        type: "MdmClusterDegraded",
        severity: "warning",
        object: "mdm-cluster",
        message: `MDM cluster state is ${o.mdm.state}`,
      });
  }

  private checkPool(
    o: ObservedCluster,
    p: ObservedPool,
    out: ConditionFinding[],
    alertsOn: (type: string, id: string) => boolean,
  ): void {
    const t = this.thresholds;
    const object = poolObject(p);
    const name = `pool ${p.protectionDomainName ?? "?"}/${p.name ?? p.id}`;
    const used = p.usedPercent;
    const severity: Severity | undefined =
      used >= t.capacityCriticalPercent
        ? "critical"
        : used >= t.capacityWarningPercent
          ? "warning"
          : undefined;
    if (severity)
      out.push({
        type: "CapacityAlmostFull",
        severity,
        object,
        message: `${name} is ${pct(used)} used (warning at ${t.capacityWarningPercent} %, critical at ${t.capacityCriticalPercent} %)`,
        values: { usedPercent: used },
      });
    const spareShort = p.faultUnits > 0 && p.sparePercentage < p.largestFaultUnitPercent;
    if (spareShort || [...SPARE_ALERTS].some((a) => alertsOn(a, p.id)))
      out.push({
        type: "SpareBelowLargestFaultUnit",
        severity: "warning",
        object,
        message: `${name} keeps ${p.sparePercentage} % spare, less than its largest fault unit (${p.largestFaultUnitPercent} %): the loss of that unit could not be fully rebuilt`,
        values: { sparePercent: p.sparePercentage, neededPercent: p.largestFaultUnitPercent },
      });
    this.checkRebuild(o, p, object, name, out, alertsOn);
    this.checkPerformance(object, name, p.performance, out);
  }

  private checkRebuild(
    o: ObservedCluster,
    p: ObservedPool,
    object: string,
    name: string,
    out: ConditionFinding[],
    alertsOn: (type: string, id: string) => boolean,
  ): void {
    const left = p.rebuildRemainingKb;
    const stuckAlert = [...STUCK_ALERTS].some((a) => alertsOn(a, p.id));
    if (left <= 0 && !stuckAlert) {
      this.rebuilds.delete(p.id);
      return;
    }
    let track = this.rebuilds.get(p.id);
    if (!track) {
      track = { peakKb: left, lowestKb: left, movedAt: o.at };
      this.rebuilds.set(p.id, track);
    }
    if (left > track.peakKb) track.peakKb = left;
    if (left < track.lowestKb) {
      track.lowestKb = left;
      track.movedAt = o.at;
    }
    const progress = track.peakKb > 0 ? ((track.peakKb - left) / track.peakKb) * 100 : 0;
    const still = o.at - track.movedAt;
    if (stuckAlert || (left > 0 && still >= this.thresholds.rebuildStuckAfterMs))
      out.push({
        type: "RebuildStuck",
        severity: "critical",
        object,
        message: `${name}: rebuild ${stuckAlert ? "reported stuck by the MDM" : `has not moved for ${Math.round(still / 1000)} s`} with ${Math.round(left / 1024)} MiB left (spare and free capacity may be too small)`,
        values: { remainingKb: left, progressPercent: progress },
      });
    if (left > 0)
      out.push({
        type: "Rebuilding",
        severity: "warning",
        object,
        message: `${name} rebuilding ${Math.floor(progress)} % (${Math.round(left / 1024)} MiB left)`,
        values: { remainingKb: left, progressPercent: progress },
      });
  }

  private checkPerformance(
    object: string,
    name: string,
    perf: ObservedCluster["pools"][number]["performance"],
    out: ConditionFinding[],
  ): void {
    const t = this.thresholds;
    const iops = perf.read.iops + perf.write.iops;
    const slowNow =
      perf.latencyMicros > t.latencyMicros || (t.maxIops !== undefined && iops > t.maxIops);
    const runs = slowNow ? (this.slow.get(object) ?? 0) + 1 : 0;
    if (runs) this.slow.set(object, runs);
    else this.slow.delete(object);
    if (runs < t.performanceWindow) return;
    const why =
      perf.latencyMicros > t.latencyMicros
        ? `latency ${(perf.latencyMicros / 1000).toFixed(1)} ms over ${(t.latencyMicros / 1000).toFixed(1)} ms`
        : `${Math.round(iops)} IOPS over ${t.maxIops}`;
    out.push({
      type: "PerformanceDegraded",
      severity: "warning",
      object,
      message: `${name}: ${why} for ${runs} observations in a row`,
      values: { latencyMicros: perf.latencyMicros, iops },
    });
  }
}
