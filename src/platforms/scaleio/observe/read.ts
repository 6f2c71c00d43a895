// One observation of the cluster through the REST gateway: nine requests whatever its size
// (system, MDM cluster, and every protection domain, pool, SDS, device, SDC and alert listed
// by type, plus one statistics query for pools, SDSs and devices together — reference 4.6).
import type { GatewayClient } from "../gateway/client.js";
import { devicePath, sdsIps, type MdmMemberView } from "../gateway/types.js";
import { asClusterError } from "../cluster/errors.js";
import { findSystem } from "../cluster/system.js";
import type {
  ObservedCluster,
  ObservedMdm,
  ObservedPerformance,
  ObservedPool,
  Throughput,
} from "./model.js";

const POOL_STATS = [
  "maxCapacityInKb",
  "capacityLimitInKb",
  "spareCapacityInKb",
  "capacityInUseInKb",
  "capacityAvailableForVolumeAllocationInKb",
  "degradedHealthyCapacityInKb",
  "degradedFailedCapacityInKb",
  "failedCapacityInKb",
  "fwdRebuildCapacityInKb",
  "activeFwdRebuildCapacityInKb",
  "bckRebuildCapacityInKb",
  "activeBckRebuildCapacityInKb",
  "rebalanceCapacityInKb",
  "primaryReadBwc",
  "primaryWriteBwc",
];
const SDS_STATS = ["primaryReadBwc", "primaryWriteBwc"];
const DEVICE_STATS = ["avgReadLatencyInMicrosec", "avgWriteLatencyInMicrosec"];

type Stats = Record<string, unknown>;

const num = (v: unknown): number => {
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
};

/** A pool's data movement from its statistics: what lifecycle steps wait on. */
export function poolMovement(
  s: Stats,
): Pick<
  ObservedPool,
  "degradedKb" | "failedKb" | "rebuildRemainingKb" | "rebuildActiveKb" | "rebalanceRemainingKb"
> {
  return {
    degradedKb: num(s.degradedHealthyCapacityInKb) + num(s.degradedFailedCapacityInKb),
    failedKb: num(s.failedCapacityInKb),
    rebuildRemainingKb: num(s.fwdRebuildCapacityInKb) + num(s.bckRebuildCapacityInKb),
    rebuildActiveKb: num(s.activeFwdRebuildCapacityInKb) + num(s.activeBckRebuildCapacityInKb),
    rebalanceRemainingKb: num(s.rebalanceCapacityInKb),
  };
}

/** The pool statistics poolMovement reads. */
export const POOL_MOVEMENT_STATS = [
  "degradedHealthyCapacityInKb",
  "degradedFailedCapacityInKb",
  "failedCapacityInKb",
  "fwdRebuildCapacityInKb",
  "activeFwdRebuildCapacityInKb",
  "bckRebuildCapacityInKb",
  "activeBckRebuildCapacityInKb",
  "rebalanceCapacityInKb",
];

/** A bandwidth counter (`{numOccured, numSeconds, totalWeightInKb}`) as rates; idle is 0. */
export function throughput(bwc: unknown): Throughput {
  const b = (bwc ?? {}) as Record<string, unknown>;
  const secs = num(b.numSeconds);
  if (secs <= 0) return { iops: 0, kbPerSecond: 0 };
  return { iops: num(b.numOccured) / secs, kbPerSecond: num(b.totalWeightInKb) / secs };
}

const idle = (): ObservedPerformance => ({
  read: { iops: 0, kbPerSecond: 0 },
  write: { iops: 0, kbPerSecond: 0 },
  latencyMicros: 0,
});

function member(m: MdmMemberView, role: ObservedMdm["role"]): ObservedMdm {
  return { id: m.id, name: m.name ?? null, ips: m.ips ?? [], role, status: m.status ?? "Unknown" };
}

export async function readObserved(
  client: GatewayClient,
  want: { name?: string; id?: string } = {},
  now: () => number = Date.now,
): Promise<ObservedCluster> {
  const startedAt = now();
  const system = await findSystem(client, want);
  try {
    const [mdm, pds, pools, sdss, devices, sdcs, alerts, stats] = await Promise.all([
      client.mdmCluster(system.id),
      client.allProtectionDomains(),
      client.allStoragePools(),
      client.allSds(),
      client.allDevices(),
      client.allSdcs(),
      client.alerts(),
      client.selectedStatisticsOfTypes([
        { type: "StoragePool", properties: POOL_STATS },
        { type: "Sds", properties: SDS_STATS },
        { type: "Device", properties: DEVICE_STATS },
      ]),
    ]);
    const poolStats = (stats.StoragePool ?? {}) as Record<string, Stats>;
    const sdsStats = (stats.Sds ?? {}) as Record<string, Stats>;
    const deviceStats = (stats.Device ?? {}) as Record<string, Stats>;
    const pdName = new Map(pds.map((p) => [p.id, p.name] as const));
    const sdsById = new Map(sdss.map((s) => [s.id, s] as const));
    const latency = (id: string) => {
      const s = deviceStats[id] ?? {};
      return Math.max(num(s.avgReadLatencyInMicrosec), num(s.avgWriteLatencyInMicrosec));
    };

    const observedDevices = devices.map((d) => ({
      id: d.id,
      name: d.name,
      path: devicePath(d),
      sdsId: d.sdsId,
      poolId: d.storagePoolId,
      state: d.deviceState,
      errorState: d.errorState,
      maxKb: num(d.maxCapacityInKb),
    }));

    const observedPools: ObservedPool[] = pools.map((p) => {
      const s = poolStats[p.id] ?? {};
      const limitKb = num(s.capacityLimitInKb);
      const spareKb = num(s.spareCapacityInKb);
      const inUseKb = num(s.capacityInUseInKb);
      const nonSpare = limitKb - spareKb;
      // Fault units: a fault set, or an SDS outside any; the largest must fit in the spare.
      const units = new Map<string, number>();
      let total = 0;
      let slowest = 0;
      for (const d of observedDevices) {
        if (d.poolId !== p.id) continue;
        const sds = sdsById.get(d.sdsId);
        const unit = sds?.faultSetId ? `fs:${sds.faultSetId}` : `sds:${d.sdsId}`;
        units.set(unit, (units.get(unit) ?? 0) + d.maxKb);
        total += d.maxKb;
        slowest = Math.max(slowest, latency(d.id));
      }
      const largest = Math.max(0, ...units.values());
      return {
        id: p.id,
        name: p.name,
        protectionDomainId: p.protectionDomainId,
        protectionDomainName: pdName.get(p.protectionDomainId) ?? null,
        sparePercentage: num(p.sparePercentage),
        maxKb: num(s.maxCapacityInKb),
        limitKb,
        spareKb,
        inUseKb,
        usedPercent: nonSpare > 0 ? (inUseKb / nonSpare) * 100 : 0,
        freeForVolumesKb: num(s.capacityAvailableForVolumeAllocationInKb),
        ...poolMovement(s),
        largestFaultUnitPercent: total > 0 ? Math.ceil((largest / total) * 100 - 1e-9) : 0,
        faultUnits: units.size,
        performance: {
          read: throughput(s.primaryReadBwc),
          write: throughput(s.primaryWriteBwc),
          latencyMicros: slowest,
        },
      };
    });

    const deviceLatencyBySds = new Map<string, number>();
    for (const d of observedDevices)
      deviceLatencyBySds.set(
        d.sdsId,
        Math.max(deviceLatencyBySds.get(d.sdsId) ?? 0, latency(d.id)),
      );

    return {
      at: now(),
      startedAt,
      systemId: system.id,
      systemName: system.name,
      mdmMode: system.mdmMode,
      mdm: {
        mode: mdm.clusterMode ?? "Unknown",
        state: mdm.clusterState ?? system.mdmClusterState ?? "Unknown",
        members: [
          ...(mdm.master ? [member(mdm.master, "master")] : []),
          ...(mdm.slaves ?? []).map((m) => member(m, "slave")),
          ...(mdm.tieBreakers ?? []).map((m) => member(m, "tieBreaker")),
          ...(mdm.standbyMDMs ?? []).map((m) => member(m, "standby")),
        ],
      },
      capacityAlertThresholds: {
        high: num(system.capacityAlertHighThresholdPercent) || 80,
        critical: num(system.capacityAlertCriticalThresholdPercent) || 90,
      },
      pools: observedPools,
      sds: sdss.map((s) => {
        const st = sdsStats[s.id] ?? {};
        return {
          id: s.id,
          name: s.name,
          ips: sdsIps(s),
          protectionDomainId: s.protectionDomainId,
          faultSetId: s.faultSetId ?? null,
          connected: s.mdmConnectionState === "Connected",
          state: s.sdsState,
          maintenance: s.maintenanceState,
          performance: sdsStats[s.id]
            ? {
                read: throughput(st.primaryReadBwc),
                write: throughput(st.primaryWriteBwc),
                latencyMicros: deviceLatencyBySds.get(s.id) ?? 0,
              }
            : idle(),
        };
      }),
      devices: observedDevices,
      sdcs: sdcs.map((c) => ({
        id: c.id,
        ip: c.sdcIp,
        guid: c.sdcGuid,
        connected: c.mdmConnectionState === "Connected",
      })),
      alerts: alerts.map((a) => ({
        type: String(a.alertType ?? a.name ?? "unknown"),
        severity: String(a.severity ?? "unknown"),
        objectType: a.affectedObject?.type,
        objectId: a.affectedObject?.objectId ?? a.affectedObject?.id,
      })),
      requests: 9,
    };
  } catch (e) {
    throw asClusterError(e, "observing the cluster");
  }
}
