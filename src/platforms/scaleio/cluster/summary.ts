// What the demo prints and the health check reads: MDM cluster mode and state, SDS/SDC
// counts, capacity (reference 5.2) and open alerts; and per-pool usage for auto-expansion.
import type { GatewayClient } from "../gateway/client.js";
import { asClusterError } from "./errors.js";
import { findSystem } from "./system.js";

const KB_8GB = 8 * 1024 * 1024;
const floor8Gb = (kb: number) => Math.floor(kb / KB_8GB) * KB_8GB;

const POOL_PROPS = [
  "maxCapacityInKb",
  "capacityLimitInKb",
  "spareCapacityInKb",
  "capacityInUseInKb",
  "capacityAvailableForVolumeAllocationInKb",
] as const;
type PoolStats = Record<(typeof POOL_PROPS)[number], number>;

export interface AlertSummary {
  type: string;
  severity: string;
  objectType: string | undefined;
  objectId: string | undefined;
}

export interface ClusterSummary {
  systemId: string;
  systemName: string | null;
  mdmMode: string | undefined;
  clusterState: string | undefined;
  sdsTotal: number;
  sdsConnected: number;
  sdcTotal: number;
  sdcConnected: number;
  /** Sum of the devices' raw capacity. */
  rawCapacityKb: number;
  /** What volumes can use when empty: floor8GB((limit - spare) / 2) per pool. */
  usableCapacityKb: number;
  /** What a new volume can still get: the gateway's capacityAvailableForVolumeAllocationInKb. */
  freeCapacityKb: number;
  alerts: AlertSummary[];
}

async function poolStats(client: GatewayClient): Promise<Record<string, PoolStats>> {
  const pools = await client.allStoragePools();
  if (pools.length === 0) return {};
  const raw = await client.selectedStatistics("StoragePool", "all", [...POOL_PROPS]);
  const out: Record<string, PoolStats> = {};
  for (const p of pools) {
    const s = raw[p.id] ?? {};
    out[p.id] = Object.fromEntries(POOL_PROPS.map((k) => [k, Number(s[k] ?? 0) || 0])) as PoolStats;
  }
  return out;
}

export async function clusterSummary(
  client: GatewayClient,
  want: { name?: string; id?: string } = {},
): Promise<ClusterSummary> {
  const system = await findSystem(client, want);
  try {
    const [sds, sdcs, alerts, stats] = await Promise.all([
      client.allSds(),
      client.sdcs(system.id),
      client.alerts(),
      poolStats(client),
    ]);
    const pools = Object.values(stats);
    return {
      systemId: system.id,
      systemName: system.name,
      mdmMode: system.mdmMode,
      clusterState: system.mdmClusterState,
      sdsTotal: sds.length,
      sdsConnected: sds.filter((s) => s.mdmConnectionState === "Connected").length,
      sdcTotal: sdcs.length,
      sdcConnected: sdcs.filter((s) => s.mdmConnectionState === "Connected").length,
      rawCapacityKb: pools.reduce((a, p) => a + p.maxCapacityInKb, 0),
      usableCapacityKb: pools.reduce(
        (a, p) => a + floor8Gb(Math.max(0, p.capacityLimitInKb - p.spareCapacityInKb) / 2),
        0,
      ),
      freeCapacityKb: pools.reduce((a, p) => a + p.capacityAvailableForVolumeAllocationInKb, 0),
      alerts: alerts.map((a) => ({
        type: String(a.alertType ?? a.name ?? "unknown"),
        severity: String(a.severity ?? "unknown"),
        objectType: a.affectedObject?.type,
        objectId: a.affectedObject?.objectId ?? a.affectedObject?.id,
      })),
    };
  } catch (e) {
    throw asClusterError(e, "reading the cluster summary");
  }
}

export interface PoolUsage {
  poolId: string;
  name: string | null;
  protectionDomainId: string;
  capacityLimitKb: number;
  spareKb: number;
  inUseKb: number;
  /** In use over non-spare capacity (the alert thresholds' measure, reference 5.3). */
  usedPercent: number;
  /** In use over the whole limit (the predecessor's "almost full" measure, reference 4.8). */
  rawUsedPercent: number;
}

export async function poolUsage(client: GatewayClient): Promise<PoolUsage[]> {
  try {
    const pools = await client.allStoragePools();
    const stats = await poolStats(client);
    return pools.map((p) => {
      const s = stats[p.id]!;
      const nonSpare = s.capacityLimitInKb - s.spareCapacityInKb;
      return {
        poolId: p.id,
        name: p.name,
        protectionDomainId: p.protectionDomainId,
        capacityLimitKb: s.capacityLimitInKb,
        spareKb: s.spareCapacityInKb,
        inUseKb: s.capacityInUseInKb,
        usedPercent: nonSpare > 0 ? (s.capacityInUseInKb / nonSpare) * 100 : 0,
        rawUsedPercent:
          s.capacityLimitInKb > 0 ? (s.capacityInUseInKb / s.capacityLimitInKb) * 100 : 0,
      };
    });
  } catch (e) {
    throw asClusterError(e, "reading pool usage");
  }
}
