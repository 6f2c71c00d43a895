// Applies a storage layout (topology/storage.ts) to the cluster: domains, fault sets and
// pools first, then one SDS per agent with its devices. Every part is idempotent, so the
// whole function is safe to run again after a crash; one agent's failure is reported on that
// agent and never stops the others.
import type { GatewayClient } from "../gateway/client.js";
import type { NodeAssignment, StorageLayout } from "../topology/storage.js";
import {
  ensureFaultSet,
  ensureProtectionDomain,
  ensureStoragePool,
  type CapacityAlertThresholds,
} from "./domains.js";
import { ClusterOpError, asClusterError, conflict } from "./errors.js";
import { ensureSds, type EnsuredSds } from "./sds.js";

export interface DomainIds {
  id: string;
  pools: Record<string, string>;
  faultSets: Record<string, string>;
}

export interface LayoutResult {
  domains: Record<string, DomainIds>;
  /** Why a domain (or one of its pools/fault sets) could not be prepared. */
  domainErrors: Record<string, ClusterOpError>;
  agents: Record<string, EnsuredSds & { ip: string }>;
  errors: Record<string, ClusterOpError>;
}

export interface ApplyOptions {
  /** SDS name for an agent (names are unique system-wide, at most 31 characters). */
  sdsName?: (agentId: string, ip: string) => string;
  /** The MDM's capacity alert thresholds for every pool of the layout (left alone if absent). */
  capacityAlertThresholds?: CapacityAlertThresholds;
}

const defaultSdsName = (_agentId: string, ip: string) => `sds-${ip}`;

async function prepareDomains(
  client: GatewayClient,
  systemId: string,
  layout: StorageLayout,
  out: LayoutResult,
  thresholds: CapacityAlertThresholds | undefined,
): Promise<void> {
  for (const spec of layout.domains) {
    try {
      const pd = await ensureProtectionDomain(client, systemId, spec.name);
      const ids: DomainIds = { id: pd.id, pools: {}, faultSets: {} };
      for (const fs of spec.faultSets)
        ids.faultSets[fs] = (await ensureFaultSet(client, pd.id, fs)).id;
      for (const pool of spec.pools) {
        ids.pools[pool.name] = (
          await ensureStoragePool(client, {
            protectionDomainId: pd.id,
            name: pool.name,
            ...(pool.sparePercentage !== undefined
              ? { sparePercentage: pool.sparePercentage }
              : {}),
            ...(thresholds ? { capacityAlertThresholds: thresholds } : {}),
          })
        ).id;
      }
      out.domains[spec.name] = ids;
    } catch (e) {
      out.domainErrors[spec.name] = asClusterError(e, `protection domain '${spec.name}'`);
    }
  }
}

async function applyNode(
  client: GatewayClient,
  node: NodeAssignment,
  ip: string,
  name: string,
  out: LayoutResult,
): Promise<EnsuredSds> {
  const sds = node.sds!;
  const pdErr = out.domainErrors[sds.protectionDomain];
  if (pdErr)
    throw new ClusterOpError(
      `protection domain '${sds.protectionDomain}' is not ready: ${pdErr.message}`,
      { permanent: pdErr.permanent, cause: pdErr },
    );
  const domain = out.domains[sds.protectionDomain];
  if (!domain) throw conflict(`protection domain '${sds.protectionDomain}' is not in the layout`);
  let faultSetId: string | undefined;
  if (sds.faultSet) {
    // A fault set the domain list forgot is still created: it must exist before the SDS.
    faultSetId =
      domain.faultSets[sds.faultSet] ?? (await ensureFaultSet(client, domain.id, sds.faultSet)).id;
    domain.faultSets[sds.faultSet] = faultSetId;
  }
  const devices = sds.pools.flatMap((p) => {
    const poolId = domain.pools[p.pool];
    if (!poolId)
      throw conflict(
        `storage pool '${p.pool}' is not in protection domain '${sds.protectionDomain}' of the layout`,
      );
    return p.devices.map((path) => ({ path, storagePoolId: poolId }));
  });
  return ensureSds(client, {
    protectionDomainId: domain.id,
    name,
    ip,
    ...(faultSetId ? { faultSetId } : {}),
    devices,
  });
}

export async function applyLayout(
  client: GatewayClient,
  systemId: string,
  layout: StorageLayout,
  agentIp: (agentId: string) => string,
  o: ApplyOptions = {},
): Promise<LayoutResult> {
  const out: LayoutResult = { domains: {}, domainErrors: {}, agents: {}, errors: {} };
  await prepareDomains(client, systemId, layout, out, o.capacityAlertThresholds);
  const nodes = layout.nodes.filter((n) => n.sds);
  // Two agents with one address would share one SDS: refuse all of them, never guess.
  const ips = new Map<string, string>();
  const byIp = new Map<string, string[]>();
  for (const n of nodes) {
    try {
      const ip = agentIp(n.agentId);
      ips.set(n.agentId, ip);
      byIp.set(ip, [...(byIp.get(ip) ?? []), n.agentId]);
    } catch (e) {
      out.errors[n.agentId] = conflict(
        `agent ${n.agentId}: no address: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  for (const n of nodes) {
    const ip = ips.get(n.agentId);
    if (ip === undefined) continue;
    const sharing = byIp.get(ip)!;
    if (sharing.length > 1) {
      out.errors[n.agentId] = conflict(
        `agent ${n.agentId}: address ${ip} is also the address of agent(s) ${sharing.filter((a) => a !== n.agentId).join(", ")}`,
      );
      continue;
    }
    const name = (o.sdsName ?? defaultSdsName)(n.agentId, ip);
    try {
      out.agents[n.agentId] = { ip, ...(await applyNode(client, n, ip, name, out)) };
    } catch (e) {
      out.errors[n.agentId] = asClusterError(e, `agent ${n.agentId} (${ip})`);
    }
  }
  return out;
}
