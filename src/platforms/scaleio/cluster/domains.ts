// Protection domains, fault sets and storage pools, each created only when missing.
import type { GatewayClient } from "../gateway/client.js";
import { asClusterError, conflict } from "./errors.js";
import { ensureObject, type Ensured } from "./ensure.js";

export function ensureProtectionDomain(
  client: GatewayClient,
  systemId: string,
  name: string,
): Promise<Ensured> {
  return ensureObject(
    `protection domain '${name}'`,
    async () => (await client.protectionDomains(systemId)).find((p) => p.name === name),
    () => client.createProtectionDomain(name),
  );
}

export function ensureFaultSet(
  client: GatewayClient,
  protectionDomainId: string,
  name: string,
): Promise<Ensured> {
  return ensureObject(
    `fault set '${name}'`,
    async () => (await client.faultSetsOf(protectionDomainId)).find((f) => f.name === name),
    () => client.createFaultSet({ name, protectionDomainId }),
  );
}

export interface EnsuredPool extends Ensured {
  /** The spare percentage was changed to the desired one. */
  spareChanged: boolean;
  /** The MDM's capacity alert thresholds were changed to the desired ones. */
  thresholdsChanged: boolean;
}

/** The MDM's capacity alerts for a pool: high (its warning) and critical, used % (integers). */
export interface CapacityAlertThresholds {
  high: number;
  critical: number;
}

/**
 * A pool with the desired spare percentage and capacity alert thresholds (each left alone
 * when none is desired). Reads before it sets: a pool already as desired is not touched.
 */
export async function ensureStoragePool(
  client: GatewayClient,
  p: {
    protectionDomainId: string;
    name: string;
    sparePercentage?: number;
    capacityAlertThresholds?: CapacityAlertThresholds;
  },
): Promise<EnsuredPool> {
  const spare = p.sparePercentage;
  if (spare !== undefined && !(Number.isInteger(spare) && spare >= 0 && spare <= 100))
    throw conflict(`storage pool '${p.name}': spare percentage ${spare} is not an integer 0..100`);
  const t = p.capacityAlertThresholds;
  if (
    t &&
    !(
      Number.isInteger(t.high) &&
      Number.isInteger(t.critical) &&
      t.high > 0 &&
      t.high < t.critical &&
      t.critical <= 100
    )
  )
    throw conflict(
      `storage pool '${p.name}': capacity alert thresholds ${t.high}/${t.critical} are not integers with 0 < high < critical <= 100`,
    );
  const pool = await ensureObject(
    `storage pool '${p.name}'`,
    async () => (await client.storagePools(p.protectionDomainId)).find((x) => x.name === p.name),
    () =>
      client.createStoragePool({
        name: p.name,
        protectionDomainId: p.protectionDomainId,
        ...(spare !== undefined ? { sparePercentage: spare } : {}),
      }),
  );
  if (spare === undefined && !t) return { ...pool, spareChanged: false, thresholdsChanged: false };
  // Re-read even after a create: a pool created by a crashed run may have another spare.
  let current;
  try {
    current = await client.storagePool(pool.id);
  } catch (e) {
    throw asClusterError(e, `reading pool '${p.name}'`);
  }
  let spareChanged = false;
  if (spare !== undefined && Number(current.sparePercentage) !== spare) {
    try {
      await client.setSparePercentage(pool.id, spare);
    } catch (e) {
      throw asClusterError(e, `setting the spare percentage of pool '${p.name}' to ${spare}%`);
    }
    spareChanged = true;
  }
  let thresholdsChanged = false;
  if (
    t &&
    (Number(current.capacityAlertHighThreshold) !== t.high ||
      Number(current.capacityAlertCriticalThreshold) !== t.critical)
  ) {
    try {
      await client.setCapacityAlertThresholds(pool.id, t);
    } catch (e) {
      throw asClusterError(
        e,
        `setting the capacity alert thresholds of pool '${p.name}' to ${t.high}/${t.critical}%`,
      );
    }
    thresholdsChanged = true;
  }
  return { ...pool, spareChanged, thresholdsChanged };
}
