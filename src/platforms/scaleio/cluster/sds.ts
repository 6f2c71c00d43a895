// One SDS per address and its devices. The SDS is found by IP first (an address can belong
// to one SDS only, and a second SDS for it would be refused or, worse, confuse placement);
// devices are added one by one so that every crash point leaves a state the next run finishes.
import type { GatewayClient } from "../gateway/client.js";
import { devicePath, sdsIps, type Device, type Sds } from "../gateway/types.js";
import { asClusterError, conflict, isTransient } from "./errors.js";

export interface SdsSpec {
  protectionDomainId: string;
  name: string;
  ip: string;
  faultSetId?: string;
  devices: { path: string; storagePoolId: string }[];
}

export interface EnsuredSds {
  sdsId: string;
  createdSds: boolean;
  /** Paths added by this run. */
  addedDevices: string[];
}

function checkSpec(s: SdsSpec): void {
  const seen = new Map<string, string>();
  for (const d of s.devices) {
    const other = seen.get(d.path);
    if (other !== undefined && other !== d.storagePoolId)
      throw conflict(
        `SDS ${s.ip}: device ${d.path} is asked for two pools (${other} and ${d.storagePoolId})`,
      );
    seen.set(d.path, d.storagePoolId);
  }
}

/** Refuses an existing SDS that is not the one the layout describes (no data moves here). */
function checkExisting(s: SdsSpec, sds: Sds): void {
  if (sds.protectionDomainId !== s.protectionDomainId)
    throw conflict(
      `IP ${s.ip} already belongs to SDS '${sds.name}' (${sds.id}) in protection domain ${sds.protectionDomainId}, not ${s.protectionDomainId}`,
    );
  // A fault set is fixed when the SDS is created (reference 1.3).
  if ((sds.faultSetId ?? undefined) !== s.faultSetId)
    throw conflict(
      `SDS '${sds.name}' (${sds.id}) at ${s.ip} is in fault set ${sds.faultSetId ?? "none"}, the layout wants ${s.faultSetId ?? "none"}; a fault set cannot change after creation`,
    );
}

function checkDevices(s: SdsSpec, sdsId: string, have: Device[]): void {
  for (const d of s.devices) {
    const used = have.find((x) => devicePath(x) === d.path);
    if (used && used.storagePoolId !== d.storagePoolId)
      throw conflict(
        `SDS ${s.ip} (${sdsId}): device ${d.path} is already in storage pool ${used.storagePoolId}, the layout wants ${d.storagePoolId}`,
      );
  }
}

export async function ensureSds(client: GatewayClient, s: SdsSpec): Promise<EnsuredSds> {
  checkSpec(s);
  const what = `SDS '${s.name}' at ${s.ip}`;
  let sds: Sds | undefined;
  try {
    sds = await client.sdsByIp(s.ip);
  } catch (e) {
    throw asClusterError(e, `looking up ${what}`);
  }
  let created = false;
  if (sds) {
    checkExisting(s, sds);
  } else {
    let byName: Sds | undefined;
    try {
      byName = (await client.allSds()).find((x) => x.name === s.name);
    } catch (e) {
      throw asClusterError(e, `looking up ${what}`);
    }
    if (byName)
      throw conflict(
        `SDS name '${s.name}' is already used by SDS ${byName.id} at ${sdsIps(byName).join(", ") || "no address"}`,
      );
    try {
      const id = await client.createSds({
        name: s.name,
        protectionDomainId: s.protectionDomainId,
        ip: s.ip,
        ...(s.faultSetId ? { faultSetId: s.faultSetId } : {}),
      });
      created = true;
      sds = { id, name: s.name, protectionDomainId: s.protectionDomainId };
    } catch (e) {
      if (isTransient(e)) throw asClusterError(e, `creating ${what}`);
      // Created by a run that died before it heard the answer?
      const again = await client.sdsByIp(s.ip).catch(() => undefined);
      if (!again) throw asClusterError(e, `creating ${what}`);
      checkExisting(s, again);
      sds = again;
    }
  }
  const sdsId = sds.id;
  const have = await client.devicesOfSds(sdsId).catch((e: unknown) => {
    throw asClusterError(e, `listing the devices of ${what}`);
  });
  // Check every device before adding any, so that a refused layout changes nothing.
  checkDevices(s, sdsId, have);
  const added: string[] = [];
  for (const d of s.devices) {
    if (have.some((x) => devicePath(x) === d.path)) continue;
    try {
      await client.addDevice({ path: d.path, storagePoolId: d.storagePoolId, sdsId });
      added.push(d.path);
    } catch (e) {
      if (isTransient(e)) throw asClusterError(e, `adding device ${d.path} to ${what}`);
      const now = await client.devicesOfSds(sdsId).catch(() => [] as Device[]);
      const there = now.find((x) => devicePath(x) === d.path);
      if (!there || there.storagePoolId !== d.storagePoolId)
        throw asClusterError(e, `adding device ${d.path} to ${what}`);
    }
  }
  return { sdsId, createdSds: created, addedDevices: added };
}
