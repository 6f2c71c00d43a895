// A targeted read for a lifecycle step on one SDS: the SDSs of its protection domain
// (maintenance, connection) and every pool's data movement (rebuild, rebalance, degraded
// capacity). Four small gateway requests whose size grows with the domain, not the cluster:
// a whole observation lists every device and SDC with the statistics of each. What the step
// just changed shows in it at once, without waiting for the observer's next look.
import type { GatewayClient } from "../gateway/client.js";
import { sdsIps } from "../gateway/types.js";
import { asClusterError } from "../cluster/errors.js";
import type { ObservedPool, ObservedSds } from "./model.js";
import { POOL_MOVEMENT_STATS, poolMovement } from "./read.js";

export type DomainSds = Omit<ObservedSds, "performance">;

export type PoolMovement = Pick<
  ObservedPool,
  | "id"
  | "name"
  | "protectionDomainId"
  | "protectionDomainName"
  | "degradedKb"
  | "failedKb"
  | "rebuildRemainingKb"
  | "rebuildActiveKb"
  | "rebalanceRemainingKb"
>;

export interface ObservedDomain {
  /** When the reads began and ended. */
  startedAt: number;
  at: number;
  protectionDomainId: string;
  /** The domain's SDSs. */
  sds: DomainSds[];
  /** Every pool of the cluster (a rebuild anywhere holds a lifecycle step). */
  pools: PoolMovement[];
}

export async function readDomain(
  client: GatewayClient,
  protectionDomainId: string,
  now: () => number = Date.now,
): Promise<ObservedDomain> {
  const startedAt = now();
  try {
    const [sdss, pools, pds, stats] = await Promise.all([
      client.sdsList(protectionDomainId),
      client.allStoragePools(),
      client.allProtectionDomains(),
      client.selectedStatistics("StoragePool", "all", POOL_MOVEMENT_STATS),
    ]);
    const pdName = new Map(pds.map((p) => [p.id, p.name] as const));
    return {
      startedAt,
      at: now(),
      protectionDomainId,
      sds: sdss.map((s) => ({
        id: s.id,
        name: s.name,
        ips: sdsIps(s),
        protectionDomainId: s.protectionDomainId,
        faultSetId: s.faultSetId ?? null,
        connected: s.mdmConnectionState === "Connected",
        state: s.sdsState,
        maintenance: s.maintenanceState,
      })),
      pools: pools.map((p) => ({
        id: p.id,
        name: p.name,
        protectionDomainId: p.protectionDomainId,
        protectionDomainName: pdName.get(p.protectionDomainId) ?? null,
        ...poolMovement((stats[p.id] ?? {}) as Record<string, unknown>),
      })),
    };
  } catch (e) {
    throw asClusterError(e, `reading protection domain ${protectionDomainId}`);
  }
}
