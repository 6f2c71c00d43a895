// The health probe the demo needs: a thin 8 GB volume with a unique name is created, mapped
// to an SDC, unmapped and removed. It always cleans up after itself, and probes left by a
// crashed run (same name prefix) are removed first.
import { randomBytes } from "node:crypto";
import type { GatewayClient } from "../gateway/client.js";
import type { Volume } from "../gateway/types.js";
import { ClusterOpError, asClusterError } from "./errors.js";

export const PROBE_PREFIX = "sfw-probe-";
const SIZE_KB = 8 * 1024 * 1024;

export interface ProbeResult {
  volumeId: string;
  name: string;
  /** Probe volumes of earlier, interrupted runs that were removed first. */
  sweptVolumes: string[];
}

/** Unmaps and removes one volume; returns the error if it could not. */
async function removeProbe(client: GatewayClient, volumeId: string): Promise<unknown> {
  try {
    let v: Volume;
    try {
      v = await client.volume(volumeId);
    } catch (e) {
      // Already gone (79: "Could not find the volume").
      if ((e as { errorCode?: number }).errorCode === 79) return undefined;
      throw e;
    }
    for (const m of v.mappedSdcInfo ?? []) await client.unmapVolume(volumeId, m.sdcId);
    await client.removeVolume(volumeId);
    return undefined;
  } catch (e) {
    return e;
  }
}

export async function verifyVolumeLifecycle(
  client: GatewayClient,
  p: { storagePoolId: string; sdcId: string },
): Promise<ProbeResult> {
  const swept: string[] = [];
  try {
    for (const v of await client.volumes()) {
      if (v.name?.startsWith(PROBE_PREFIX) && !(await removeProbe(client, v.id))) swept.push(v.id);
    }
  } catch (e) {
    throw asClusterError(e, "listing volumes before the probe");
  }
  // 31 characters at most (reference 1.3): prefix + time + randomness.
  const name = `${PROBE_PREFIX}${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  let volumeId: string | undefined;
  let failure: unknown;
  try {
    volumeId = await client.createVolume({
      name,
      sizeInKb: SIZE_KB,
      storagePoolId: p.storagePoolId,
      thin: true,
    });
    await client.mapVolume(volumeId, p.sdcId);
    const mapped = await client.volume(volumeId);
    if (!(mapped.mappedSdcInfo ?? []).some((m) => m.sdcId === p.sdcId))
      throw new ClusterOpError(`probe volume ${volumeId} is not mapped to SDC ${p.sdcId}`, {
        permanent: false,
      });
    await client.unmapVolume(volumeId, p.sdcId);
    await client.removeVolume(volumeId);
    return { volumeId, name, sweptVolumes: swept };
  } catch (e) {
    failure = e;
  }
  const left = volumeId ? await removeProbe(client, volumeId) : undefined;
  const err = asClusterError(failure, "volume probe");
  if (left === undefined) throw err;
  throw new ClusterOpError(
    `${err.message}; the probe volume ${volumeId} could not be removed (${left instanceof Error ? left.message : String(left)}), the next probe removes it`,
    { permanent: err.permanent, cause: failure },
  );
}
