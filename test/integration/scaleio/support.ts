// Shared plumbing for the driver's integration tests: an HTTPS emulator on 127.0.0.1 with a
// manual clock, the framework's own GatewayClient trusting the emulator's CA file, and a way
// to start from a cluster that has its MDMs but no protection domain, pool or SDS yet.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { ManualClock } from "../../../sim/scaleio/model/clock.js";
import { startEmulator, type Emulator } from "../../../sim/scaleio/emulator.js";
import { nthIp, type BootstrapOptions } from "../../../sim/scaleio/model/bootstrap.js";
import { KB_PER_GB } from "../../../sim/scaleio/model/units.js";
import { Secret } from "../../../src/common/secret.js";
import {
  GatewayClient,
  type GatewayOptions,
} from "../../../src/platforms/scaleio/gateway/client.js";

export const PASSWORD = "Adm1n-S3cret-pw";
export const FIRST_IP = "10.20.0.11";

export interface Env {
  emu: Emulator;
  clock: ManualClock;
  ca: string;
  client: GatewayClient;
  newClient(o?: Partial<GatewayOptions>): GatewayClient;
  /** POST to an admin knob of the emulator's control endpoint. */
  admin(path: string, body?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * `bootstrap`: a ready cluster (PD, pool, SDSs) as the emulator builds it; `mdmOnly`: the
 * 3_node MDM cluster exists and `nodes` machines have the SDS package and `devices` raw
 * devices of `deviceGb` each, but nothing else (what the scheduler finds before its REST steps).
 */
export async function startEnv(
  o: {
    bootstrap?: BootstrapOptions;
    mdmOnly?: { nodes: number; devices: string[]; deviceGb?: number; sdcs?: number };
  } = {},
): Promise<Env> {
  const clock = new ManualClock();
  const stateDir = mkdtempSync(join(tmpdir(), "scaleio-it-"));
  const emu = await startEmulator({
    host: "127.0.0.1",
    port: 0,
    controlPort: 0,
    clock,
    stateDir,
    bootstrap: o.mdmOnly ? false : (o.bootstrap ?? { password: PASSWORD, sdcCount: 1 }),
  });
  if (o.mdmOnly) buildMdmOnly(emu, o.mdmOnly);
  const ca = readFileSync(emu.caFile!, "utf8");
  const clients: GatewayClient[] = [];
  const newClient = (x: Partial<GatewayOptions> = {}) => {
    const c = new GatewayClient({
      url: emu.gatewayUrl,
      password: new Secret(PASSWORD, "test"),
      ca,
      timeoutMs: 10_000,
      ...x,
    });
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    emu,
    clock,
    ca,
    client,
    newClient,
    async admin(path, body = {}) {
      const r = await request(`${emu.controlUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`admin ${path}: ${r.statusCode} ${text}`);
      return text ? (JSON.parse(text) as unknown) : undefined;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await emu.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The operator's scli steps up to rename_system (reference 6.1 steps 2-6), on the model. */
function buildMdmOnly(
  emu: Emulator,
  o: { nodes: number; devices: string[]; deviceGb?: number; sdcs?: number },
): void {
  const sys = emu.sys;
  const n = Math.max(3, o.nodes);
  for (let i = 0; i < n; i++) {
    const ip = nthIp(FIRST_IP, i);
    if (i < 3)
      sys.installPackage(ip, "mdm", undefined, "rpm", { MDM_ROLE_IS_MANAGER: i < 2 ? "1" : "0" });
    if (i < o.nodes) {
      sys.installPackage(ip, "sds");
      for (const d of o.devices) sys.node(ip).deviceSizesKb.set(d, (o.deviceGb ?? 100) * KB_PER_GB);
    }
  }
  const mgrs = [nthIp(FIRST_IP, 0), nthIp(FIRST_IP, 1)].join(",");
  for (let i = 0; i < (o.sdcs ?? 0); i++)
    sys.installPackage(nthIp(FIRST_IP, i), "sdc", undefined, "rpm", { MDM_IP: mgrs });
  sys.createCluster(FIRST_IP, FIRST_IP, "mdm1");
  sys.setPassword(sys.users[0]!, "admin", PASSWORD);
  sys.cluster.addStandby(nthIp(FIRST_IP, 1), nthIp(FIRST_IP, 1), "mdm2", true);
  sys.cluster.addStandby(nthIp(FIRST_IP, 2), undefined, "tb", false);
  sys.cluster.switchMode("3_node", {
    addSlaves: ["mdm2"],
    addTbs: ["tb"],
    removeSlaves: [],
    removeTbs: [],
  });
  sys.rename("scaleio");
  sys.syncSdcs();
}

/** Counts of every object type the layout creates, straight from the emulator's model. */
export function objectCounts(emu: Emulator): Record<string, number> {
  const s = emu.sys;
  return {
    pd: s.pds.size,
    faultSet: s.faultSets.size,
    pool: s.pools.size,
    sds: s.sdss.size,
    device: s.devices.size,
    volume: s.listVolumes().length,
  };
}

/** A readable picture of the SDS side: "pd/faultSet/sdsName@ip: path->pool, ...". */
export function sdsPicture(emu: Emulator): string[] {
  const s = emu.sys;
  const name = (m: Map<string, { name: string | null }>, id: string | null | undefined) =>
    id ? (m.get(id)?.name ?? `?${id}`) : "-";
  return [...s.sdss.values()]
    .map((sds) => {
      const devs = [...s.devices.values()]
        .filter((d) => d.sdsId === sds.id)
        .map((d) => `${d.path}->${name(s.pools, d.storagePoolId)}`)
        .sort()
        .join(",");
      return `${name(s.pds, sds.protectionDomainId)}/${name(s.faultSets, sds.faultSetId)}/${sds.name}@${sds.ipList.map((i) => i.ip).join("+")}: ${devs}`;
    })
    .sort();
}
