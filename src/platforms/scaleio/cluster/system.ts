// Which ScaleIO system the framework manages: by configured id, else by name (the
// predecessor's rule, reference 4.8 step 2).
import type { GatewayClient } from "../gateway/client.js";
import type { System } from "../gateway/types.js";
import { asClusterError, conflict } from "./errors.js";

export async function findSystem(
  client: GatewayClient,
  want: { name?: string; id?: string } = {},
): Promise<System> {
  let systems: System[];
  try {
    systems = await client.systems();
  } catch (e) {
    throw asClusterError(e, "listing systems");
  }
  const names = systems.map((s) => `${s.name ?? "(unnamed)"} (${s.id})`).join(", ") || "none";
  if (want.id) {
    const s = systems.find((x) => x.id === want.id);
    if (!s) throw conflict(`no ScaleIO system with id ${want.id}; the gateway knows ${names}`);
    return s;
  }
  if (want.name) {
    const s = systems.find((x) => x.name === want.name);
    if (!s) throw conflict(`no ScaleIO system named '${want.name}'; the gateway knows ${names}`);
    return s;
  }
  if (systems.length !== 1)
    throw conflict(`configure a system id or name: the gateway knows ${names}`);
  return systems[0]!;
}
