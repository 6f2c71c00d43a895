// The ScaleIO volume driver behind the emulator's `rexray` and `dvdcli` stand-ins (development
// nodes only; a real agent runs the real programs). Like libStorage's ScaleIO driver it reads
// /etc/rexray/config.yml (under the node's root, SCALEIO_SIM_ROOT), logs in to the gateway's
// REST API with those credentials, finds the system, protection domain and pool, and finds its
// own SDC by the GUID `drv_cfg --query_guid` prints. Attaching maps the volume to that SDC
// (unmapping it from other SDCs first when preempt is on) and waits for
// /dev/disk/by-id/emc-vol-<systemId>-<volumeId> under the root. Plain JavaScript so that it
// starts quickly as a program of its own, as the other node tools do.
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parse } from "yaml";

export class DriverError extends Error {}

/** The node's root folder: every path the driver reads or writes is under it. */
export function nodeRoot(env = process.env) {
  const root = env.SCALEIO_SIM_ROOT;
  if (!root)
    throw new DriverError(
      "SCALEIO_SIM_ROOT is not set: this stand-in runs only on an emulated node",
    );
  return root;
}

/** Keys are case-insensitive in REX-Ray's configuration (the framework once wrote systemId). */
function lowerKeys(v) {
  if (Array.isArray(v)) return v.map(lowerKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), lowerKeys(x)]));
  return v;
}

/** The ScaleIO settings and integration options of the config file (reference 7.1). */
export function readConfig(root, path = "/etc/rexray/config.yml") {
  const file = join(root, path);
  if (!existsSync(file)) throw new DriverError(`${path}: no such file (REX-Ray is not configured)`);
  const doc = lowerKeys(parse(readFileSync(file, "utf8")) ?? {});
  const s = doc.scaleio ?? doc.libstorage?.server?.services?.scaleio?.scaleio;
  if (!s || typeof s !== "object") throw new DriverError(`${path}: no scaleio section`);
  for (const k of ["endpoint", "username", "password"])
    if (typeof s[k] !== "string" || !s[k])
      throw new DriverError(`${path}: scaleio.${k} is required`);
  const preempt = doc.libstorage?.integration?.volume?.operations?.mount?.preempt === true;
  return {
    endpoint: s.endpoint.replace(/\/+$/, ""),
    insecure: s.insecure === true,
    userName: s.username,
    password: s.password,
    systemId: s.systemid,
    systemName: s.systemname,
    protectionDomainId: s.protectiondomainid,
    protectionDomainName: s.protectiondomainname ?? "default",
    storagePoolId: s.storagepoolid,
    storagePoolName: s.storagepoolname ?? "default",
    thinOrThick: s.thinorthick ?? "ThinProvisioned",
    preempt,
  };
}

/** A REST client of the gateway; its trust store is SSL_CERT_FILE, as for a Go program. */
class Gateway {
  constructor(cfg) {
    this.cfg = cfg;
    this.base = new URL(cfg.endpoint.endsWith("/api") ? cfg.endpoint : `${cfg.endpoint}/api`);
    // The machine's trust store plus the emulator's CA (the wrapper names it).
    const cas = [process.env.SSL_CERT_FILE, process.env.SCALEIO_SIM_GATEWAY_CA]
      .filter((f) => f && existsSync(f))
      .map((f) => readFileSync(f, "utf8"));
    this.ca = cas.length ? cas : undefined;
    this.token = undefined;
  }

  call(method, path, body, auth) {
    const url = new URL(`${this.base.pathname.replace(/\/$/, "")}${path}`, this.base);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(auth).toString("base64")}`,
          accept: "application/json",
          ...(payload
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
            : {}),
        },
        ...(url.protocol === "https:"
          ? { rejectUnauthorized: !this.cfg.insecure, ...(this.ca ? { ca: this.ca } : {}) }
          : {}),
        timeout: 30_000,
      });
      req.on("response", (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          if (res.statusCode >= 200 && res.statusCode < 300) resolve(json);
          else
            reject(
              new DriverError(`${method} ${path}: ${res.statusCode} ${json?.message ?? text}`),
            );
        });
      });
      req.on("timeout", () => req.destroy(new DriverError(`${method} ${path}: timed out`)));
      req.on("error", (e) =>
        reject(e instanceof DriverError ? e : new DriverError(`${this.base.origin}: ${e.message}`)),
      );
      req.end(payload);
    });
  }

  async api(method, path, body) {
    if (!this.token)
      this.token = await this.call(
        "GET",
        "/login",
        undefined,
        `${this.cfg.userName}:${this.cfg.password}`,
      );
    return this.call(method, path, body, `:${this.token}`);
  }
}

/** The driver once logged in: system, protection domain, pool and this node's SDC. */
export async function connect(root, cfg = readConfig(root)) {
  const gw = new Gateway(cfg);
  const systems = await gw.api("GET", "/types/System/instances");
  const system = systems.find((s) =>
    cfg.systemId ? s.id === cfg.systemId : !cfg.systemName || s.name === cfg.systemName,
  );
  if (!system) throw new DriverError(`no ScaleIO system ${cfg.systemId ?? cfg.systemName}`);
  const pds = await gw.api("GET", `/instances/System::${system.id}/relationships/ProtectionDomain`);
  const pd = pds.find((p) =>
    cfg.protectionDomainId ? p.id === cfg.protectionDomainId : p.name === cfg.protectionDomainName,
  );
  if (!pd)
    throw new DriverError(
      `no protection domain ${cfg.protectionDomainId ?? cfg.protectionDomainName}`,
    );
  const pools = await gw.api(
    "GET",
    `/instances/ProtectionDomain::${pd.id}/relationships/StoragePool`,
  );
  const pool = pools.find((p) =>
    cfg.storagePoolId ? p.id === cfg.storagePoolId : p.name === cfg.storagePoolName,
  );
  if (!pool)
    throw new DriverError(
      `no storage pool ${cfg.storagePoolId ?? cfg.storagePoolName} in ${pd.name}`,
    );
  return new Driver(root, cfg, gw, system, pd, pool);
}

const KB_PER_GB = 1024 * 1024;

class Driver {
  constructor(root, cfg, gw, system, pd, pool) {
    Object.assign(this, { root, cfg, gw, system, pd, pool });
    this.sdc = undefined;
  }

  /** This node's SDC: the GUID drv_cfg reports, looked up among the system's SDCs. */
  async localSdc() {
    if (this.sdc) return this.sdc;
    const drvCfg = join(this.root, "opt/emc/scaleio/sdc/bin/drv_cfg");
    if (!existsSync(drvCfg))
      throw new DriverError("/opt/emc/scaleio/sdc/bin/drv_cfg: no such file (no SDC on this node)");
    let guid;
    try {
      guid = execFileSync(drvCfg, ["--query_guid"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }).trim();
    } catch (e) {
      throw new DriverError(
        `drv_cfg --query_guid failed: ${(e.stderr || e.message).toString().trim()}`,
      );
    }
    const sdcs = await this.gw.api("GET", `/instances/System::${this.system.id}/relationships/Sdc`);
    const sdc = sdcs.find((s) => String(s.sdcGuid).toUpperCase() === guid.toUpperCase());
    if (!sdc) throw new DriverError(`no SDC with GUID ${guid} in system ${this.system.name}`);
    this.sdc = sdc;
    return sdc;
  }

  devicePath(volumeId) {
    return `/dev/disk/by-id/emc-vol-${this.system.id}-${volumeId}`;
  }

  /** Every volume of the system, as REX-Ray shows them (size in GB). */
  async volumes() {
    const all = await this.gw.api("GET", "/types/Volume/instances");
    const local = await this.localSdc().catch(() => undefined);
    return all
      .filter((v) => !v.ancestorVolumeId)
      .map((v) => {
        const mapped = v.mappedSdcInfo ?? [];
        const here = local && mapped.some((m) => m.sdcId === local.id);
        return {
          id: v.id,
          name: v.name,
          size: Math.round(Number(v.sizeInKb) / KB_PER_GB),
          type: v.storagePoolId === this.pool.id ? this.pool.name : v.storagePoolId,
          status: here ? "attached" : mapped.length ? "unavailable" : "available",
          attachments: mapped.map((m) => ({
            instanceID: m.sdcId,
            ...(local && m.sdcId === local.id ? { deviceName: this.devicePath(v.id) } : {}),
          })),
        };
      });
  }

  async find(nameOrId) {
    const vols = await this.volumes();
    return vols.find((v) => v.id === nameOrId) ?? vols.find((v) => v.name === nameOrId);
  }

  async create(name, sizeGb) {
    if (!name) throw new DriverError("a volume name is required");
    const short = name.slice(0, 31); // ScaleIO names hold 31 characters
    const existing = await this.find(short);
    if (existing) return existing;
    await this.gw.api("POST", "/types/Volume/instances", {
      name: short,
      volumeSizeInKb: String(Math.max(1, Math.ceil(sizeGb || 16)) * KB_PER_GB),
      storagePoolId: this.pool.id,
      protectionDomainId: this.pd.id,
      volumeType: this.cfg.thinOrThick,
    });
    return this.find(short);
  }

  /** Maps the volume to this node's SDC; preempt (or force) unmaps it from the others first. */
  async attach(nameOrId, { force = false, deadlineMs = 30_000 } = {}) {
    const vol = await this.find(nameOrId);
    if (!vol) throw new DriverError(`volume ${nameOrId} not found`);
    const sdc = await this.localSdc();
    const others = vol.attachments.filter((a) => a.instanceID !== sdc.id);
    if (others.length > 0) {
      if (!force && !this.cfg.preempt)
        throw new DriverError(
          `volume ${vol.name} is attached to another instance (${others.map((a) => a.instanceID).join(", ")}); preempt is off`,
        );
      for (const a of others)
        await this.gw.api("POST", `/instances/Volume::${vol.id}/action/removeMappedSdc`, {
          sdcId: a.instanceID,
        });
    }
    if (!vol.attachments.some((a) => a.instanceID === sdc.id))
      await this.gw.api("POST", `/instances/Volume::${vol.id}/action/addMappedSdc`, {
        sdcId: sdc.id,
        allowMultipleMappings: "FALSE",
      });
    const dev = this.devicePath(vol.id);
    // The SDC creates the device node shortly after the mapping; a bounded wait, as the driver's.
    const until = Date.now() + deadlineMs;
    while (!existsSync(join(this.root, dev))) {
      if (Date.now() > until)
        throw new DriverError(`${dev} did not appear within ${deadlineMs} ms`);
      await delay(50);
    }
    return { ...(await this.find(vol.id)), deviceName: dev };
  }

  async detach(nameOrId) {
    const vol = await this.find(nameOrId);
    if (!vol) throw new DriverError(`volume ${nameOrId} not found`);
    const sdc = await this.localSdc();
    if (vol.attachments.some((a) => a.instanceID === sdc.id))
      await this.gw.api("POST", `/instances/Volume::${vol.id}/action/removeMappedSdc`, {
        sdcId: sdc.id,
      });
    return this.find(vol.id);
  }

  async remove(nameOrId) {
    const vol = await this.find(nameOrId);
    if (!vol) throw new DriverError(`volume ${nameOrId} not found`);
    await this.gw.api("POST", `/instances/Volume::${vol.id}/action/removeVolume`, {
      removeMode: "ONLY_ME",
    });
    return vol;
  }

  /**
   * Attach (creating the volume first when missing) and give the path a container would use.
   * The emulated node cannot mount a file system: the path is an empty folder under the root,
   * and beside it a `device` link to the attached device (under the root) lets an application
   * reach the volume's bytes.
   */
  async mount(name, { sizeGb, force = false } = {}) {
    if (!(await this.find(name))) await this.create(name, sizeGb);
    const vol = await this.attach(name, { force });
    const base = `/var/lib/rexray/volumes/${vol.name}`;
    mkdirSync(join(this.root, base, "data"), { recursive: true });
    const link = join(this.root, base, "device");
    rmSync(link, { force: true });
    symlinkSync(join(this.root, vol.deviceName), link);
    return { volume: vol, path: `${base}/data` };
  }

  async unmount(name) {
    const vol = await this.detach(name);
    if (vol) rmSync(join(this.root, `/var/lib/rexray/volumes/${vol.name}/device`), { force: true });
    return vol;
  }
}

/** A REX-Ray style table of volumes. */
export function volumeTable(vols) {
  const rows = [
    ["ID", "Name", "Status", "Size"],
    ...vols.map((v) => [v.id, v.name, v.status, String(v.size)]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** Runs a command's body: prints its error the way a CLI does and sets the exit code. */
export async function main(name, body) {
  try {
    await body();
  } catch (e) {
    process.stderr.write(`${name}: ${e instanceof DriverError ? e.message : (e?.stack ?? e)}\n`);
    process.exitCode = 1;
  }
}
