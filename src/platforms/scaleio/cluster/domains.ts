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
}

/** A pool with the desired spare percentage (left alone when none is desired). */
export async function ensureStoragePool(
  client: GatewayClient,
  p: { protectionDomainId: string; name: string; sparePercentage?: number },
): Promise<EnsuredPool> {
  const spare = p.sparePercentage;
  if (spare !== undefined && !(Number.isInteger(spare) && spare >= 0 && spare <= 100))
    throw conflict(`storage pool '${p.name}': spare percentage ${spare} is not an integer 0..100`);
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
  if (spare === undefined) return { ...pool, spareChanged: false };
  try {
    // Re-read even after a create: a pool created by a crashed run may have another spare.
    const current = await client.storagePool(pool.id);
    if (Number(current.sparePercentage) === spare) return { ...pool, spareChanged: false };
    await client.setSparePercentage(pool.id, spare);
    return { ...pool, spareChanged: true };
  } catch (e) {
    throw asClusterError(e, `setting the spare percentage of pool '${p.name}' to ${spare}%`);
  }
}
