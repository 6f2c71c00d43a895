// A client of the ScaleIO REST gateway (reference section 4): token login with Basic
// authentication, the version header, one re-login on 401, typed errors in the gateway's
// own shape, and certificate verification against a configured CA unless explicitly told
// otherwise. The same code talks to a real gateway and to the emulator.
import { Agent, request } from "undici";
import { redactSecrets, type Secret } from "../../../common/secret.js";
import {
  sdsIps,
  type Alert,
  type Device,
  type FaultSet,
  type MdmClusterView,
  type ProtectionDomain,
  type Sdc,
  type Sds,
  type StoragePool,
  type System,
  type Volume,
} from "./types.js";

export class GatewayError extends Error {
  readonly httpStatus: number;
  readonly errorCode: number | undefined;
  constructor(httpStatus: number, message: string, errorCode?: number) {
    super(message);
    this.name = "GatewayError";
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }
}

export interface GatewayOptions {
  /** Base URL, e.g. https://10.0.0.11:443 (the `/api` prefix is added here). */
  url: string;
  username?: string;
  password: Secret;
  /** PEM CA that signs the gateway certificate. */
  ca?: string | Buffer;
  /** Skip certificate verification (explicit opt-in only). */
  insecure?: boolean;
  apiVersion?: string;
  timeoutMs?: number;
}

type Json = Record<string, unknown>;

export class GatewayClient {
  private readonly opts: GatewayOptions;
  private readonly dispatcher: Agent;
  private token: string | undefined;
  private loggingIn: Promise<string> | undefined;

  constructor(opts: GatewayOptions) {
    this.opts = opts;
    this.dispatcher = new Agent({
      // Steps of hundreds of agents call at once: reuse a bounded set of TLS connections
      // instead of a handshake per concurrent request.
      connections: 16,
      connect: {
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        rejectUnauthorized: !opts.insecure,
        // The request's abort signal does not cut a hanging TCP/TLS connect short.
        timeout: opts.timeoutMs ?? 30_000,
      },
    });
  }

  get baseUrl(): string {
    return this.opts.url.replace(/\/+$/, "");
  }

  private headers(auth: string): Record<string, string> {
    const v = this.opts.apiVersion ?? "2.0";
    return {
      authorization: `Basic ${Buffer.from(auth).toString("base64")}`,
      accept: `application/json;version=${v}`,
      "content-type": `application/json;version=${v}`,
    };
  }

  private async raw(method: "GET" | "POST", path: string, auth: string, body?: unknown) {
    const timeout = this.opts.timeoutMs ?? 30_000;
    try {
      const res = await request(`${this.baseUrl}${path}`, {
        method,
        headers: this.headers(auth),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        dispatcher: this.dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      const text = await res.body.text();
      return { status: res.statusCode, text };
    } catch (err) {
      const e = err as { code?: string; message?: string; name?: string };
      const why =
        e.name === "TimeoutError" || e.code === "UND_ERR_CONNECT_TIMEOUT"
          ? `timed out after ${timeout} ms`
          : (e.code ?? e.message ?? String(err));
      throw new GatewayError(0, this.redact(`gateway ${method} ${path} failed: ${why}`));
    }
  }

  /** Error texts may quote what the gateway echoed; the password never leaves this client. */
  private redact(text: string): string {
    return redactSecrets(text, [this.opts.password]);
  }

  private parseError(status: number, text: string, what: string): GatewayError {
    try {
      const j = JSON.parse(text) as { message?: unknown; errorCode?: unknown };
      if (j && typeof j.message === "string")
        return new GatewayError(
          status,
          this.redact(`${what}: ${j.message}`),
          typeof j.errorCode === "number" ? j.errorCode : undefined,
        );
    } catch {
      /* not JSON */
    }
    return new GatewayError(
      status,
      this.redact(`${what}: HTTP ${status}${text ? ` ${text.slice(0, 200)}` : ""}`),
    );
  }

  /** Logs in (once at a time) and returns the session token. */
  async login(): Promise<string> {
    this.loggingIn ??= (async () => {
      try {
        const user = this.opts.username ?? "admin";
        const r = await this.raw("GET", "/api/login", `${user}:${this.opts.password.reveal()}`);
        if (r.status !== 200) throw this.parseError(r.status, r.text, "login");
        let token: unknown;
        try {
          token = JSON.parse(r.text);
        } catch {
          token = undefined; // a bare or garbled body is no token
        }
        if (typeof token !== "string" || !token)
          throw new GatewayError(r.status, "login: the gateway answered without a token");
        this.token = token;
        return token;
      } finally {
        this.loggingIn = undefined;
      }
    })();
    return this.loggingIn;
  }

  /** Any call; logs in when needed and once more if the token expired. */
  async call<T = unknown>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const token = this.token ?? (await this.login());
      const user = this.opts.username ?? "admin";
      const r = await this.raw(method, path, `${user}:${token}`, body);
      if (r.status === 401 && attempt === 0) {
        // Only drop the token this call used: a concurrent call may already have a new one.
        if (this.token === token) this.token = undefined;
        continue;
      }
      if (r.status < 200 || r.status >= 300)
        throw this.parseError(r.status, r.text, `${method} ${path}`);
      if (!r.text) return undefined as T;
      try {
        return JSON.parse(r.text) as T;
      } catch {
        throw new GatewayError(
          r.status,
          `${method} ${path}: the gateway answered with invalid JSON`,
        );
      }
    }
    throw new GatewayError(401, `${method} ${path}: Unauthorized`);
  }

  /** Invalidates the token; never logs in just to log out. */
  async logout(): Promise<void> {
    const token = this.token;
    if (!token) return;
    this.token = undefined;
    await this.raw("GET", "/api/logout", `${this.opts.username ?? "admin"}:${token}`).catch(
      () => {},
    );
  }

  async close(): Promise<void> {
    await this.dispatcher.destroy();
  }

  // ---- reads --------------------------------------------------------------------------

  version = () => this.call<string>("GET", "/api/version");
  systems = () => this.call<System[]>("GET", "/api/types/System/instances");
  protectionDomains = (systemId: string) =>
    this.call<ProtectionDomain[]>(
      "GET",
      `/api/instances/System::${systemId}/relationships/ProtectionDomain`,
    );
  storagePools = (pdId: string) =>
    this.call<StoragePool[]>(
      "GET",
      `/api/instances/ProtectionDomain::${pdId}/relationships/StoragePool`,
    );
  faultSets = () => this.call<FaultSet[]>("GET", "/api/types/FaultSet/instances");
  /** Fault sets of one PD (the PD→FaultSet relationship is unverified, so filter the list). */
  faultSetsOf = async (pdId: string) =>
    (await this.faultSets()).filter((f) => f.protectionDomainId === pdId);
  system = (id: string) => this.call<System>("GET", `/api/instances/System::${id}`);
  protectionDomain = (id: string) =>
    this.call<ProtectionDomain>("GET", `/api/instances/ProtectionDomain::${id}`);
  storagePool = (id: string) => this.call<StoragePool>("GET", `/api/instances/StoragePool::${id}`);
  sds = (id: string) => this.call<Sds>("GET", `/api/instances/Sds::${id}`);
  /** The SDS that owns an IP, if any (an IP belongs to at most one SDS system-wide). */
  sdsByIp = async (ip: string) => (await this.allSds()).find((s) => sdsIps(s).includes(ip));
  devicesOfPool = (poolId: string) =>
    this.call<Device[]>("GET", `/api/instances/StoragePool::${poolId}/relationships/Device`);
  allDevices = () => this.call<Device[]>("GET", "/api/types/Device/instances");
  allSdcs = () => this.call<Sdc[]>("GET", "/api/types/Sdc/instances");
  allStoragePools = () => this.call<StoragePool[]>("GET", "/api/types/StoragePool/instances");
  allProtectionDomains = () =>
    this.call<ProtectionDomain[]>("GET", "/api/types/ProtectionDomain/instances");
  sdsList = (pdId: string) =>
    this.call<Sds[]>("GET", `/api/instances/ProtectionDomain::${pdId}/relationships/Sds`);
  allSds = () => this.call<Sds[]>("GET", "/api/types/Sds/instances");
  devicesOfSds = (sdsId: string) =>
    this.call<Device[]>("GET", `/api/instances/Sds::${sdsId}/relationships/Device`);
  sdcs = (systemId: string) =>
    this.call<Sdc[]>("GET", `/api/instances/System::${systemId}/relationships/Sdc`);
  volumes = () => this.call<Volume[]>("GET", "/api/types/Volume/instances");
  volume = (id: string) => this.call<Volume>("GET", `/api/instances/Volume::${id}`);
  alerts = () => this.call<Alert[]>("GET", "/api/types/Alert/instances");
  statistics = (type: string, id: string) =>
    this.call<Json>("GET", `/api/instances/${type}::${id}/relationships/Statistics`);
  /** The MDM cluster's members and their states (2.x+: a System action). */
  mdmCluster = (systemId: string) =>
    this.call<MdmClusterView>(
      "POST",
      `/api/instances/System::${systemId}/action/queryMdmCluster`,
      {},
    );
  /**
   * Statistics of several object types in one request (every object of each type); the
   * System's come back flat, the others keyed by id.
   */
  selectedStatisticsOfTypes = (list: { type: string; properties: string[] }[]) =>
    this.call<Record<string, Json>>("POST", "/api/instances/querySelectedStatistics", {
      selectedStatisticsList: list.map((l) =>
        l.type === "System" ? l : { type: l.type, allIds: [], properties: l.properties },
      ),
    });
  selectedStatistics = (type: string, ids: string[] | "all", properties: string[]) =>
    this.call<Record<string, Json>>(
      "POST",
      `/api/types/${type}/instances/action/querySelectedStatistics`,
      ids === "all" ? { allIds: "", properties } : { ids, properties },
    );

  // ---- changes ------------------------------------------------------------------------

  private async create(type: string, body: Json): Promise<string> {
    const r = await this.call<{ id?: string }>("POST", `/api/types/${type}/instances`, body);
    if (!r || typeof r.id !== "string")
      throw new GatewayError(200, `create ${type}: no id in the answer`);
    return r.id;
  }

  createProtectionDomain = (name: string) => this.create("ProtectionDomain", { name });
  createStoragePool = (p: { name: string; protectionDomainId: string; sparePercentage?: number }) =>
    this.create("StoragePool", {
      name: p.name,
      protectionDomainId: p.protectionDomainId,
      ...(p.sparePercentage !== undefined ? { sparePercentage: String(p.sparePercentage) } : {}),
    });
  createFaultSet = (p: { name: string; protectionDomainId: string }) => this.create("FaultSet", p);
  createSds = (p: {
    name: string;
    protectionDomainId: string;
    ip: string;
    faultSetId?: string;
    devices?: { path: string; storagePoolId: string }[];
  }) =>
    this.create("Sds", {
      name: p.name,
      protectionDomainId: p.protectionDomainId,
      sdsIpList: [{ SdsIp: { ip: p.ip, role: "all" } }],
      ...(p.faultSetId ? { faultSetId: p.faultSetId } : {}),
      ...(p.devices?.length
        ? {
            deviceInfoList: p.devices.map((d) => ({
              devicePath: d.path,
              storagePoolId: d.storagePoolId,
              deviceName: d.path,
            })),
          }
        : {}),
    });
  addDevice = (p: { path: string; storagePoolId: string; sdsId: string }) =>
    this.create("Device", {
      deviceCurrentPathname: p.path,
      name: p.path,
      storagePoolId: p.storagePoolId,
      sdsId: p.sdsId,
      testMode: "testAndActivate",
    });
  createVolume = (p: { name: string; sizeInKb: number; storagePoolId: string; thin: boolean }) =>
    this.create("Volume", {
      name: p.name,
      volumeSizeInKb: String(p.sizeInKb),
      volumeType: p.thin ? "ThinProvisioned" : "ThickProvisioned",
      storagePoolId: p.storagePoolId,
    });
  mapVolume = (volumeId: string, sdcId: string, allowMultiple = false) =>
    this.call("POST", `/api/instances/Volume::${volumeId}/action/addMappedSdc`, {
      sdcId,
      allowMultipleMappings: allowMultiple ? "TRUE" : "FALSE",
    });
  unmapVolume = (volumeId: string, sdcId: string) =>
    this.call("POST", `/api/instances/Volume::${volumeId}/action/removeMappedSdc`, { sdcId });
  removeVolume = (volumeId: string) =>
    this.call("POST", `/api/instances/Volume::${volumeId}/action/removeVolume`, {
      removeMode: "ONLY_ME",
    });
  removeSds = (sdsId: string) =>
    this.call("POST", `/api/instances/Sds::${sdsId}/action/removeSds`, {});
  /** Uninstall: an SDC the MDM should forget (it must map nothing). */
  removeSdc = (sdcId: string) =>
    this.call("POST", `/api/instances/Sdc::${sdcId}/action/removeSdc`, {});
  /** Uninstall: an empty pool, fault set or protection domain (goscaleio's action names). */
  removeStoragePool = (poolId: string) =>
    this.call("POST", `/api/instances/StoragePool::${poolId}/action/removeStoragePool`, {});
  removeFaultSet = (faultSetId: string) =>
    this.call("POST", `/api/instances/FaultSet::${faultSetId}/action/removeFaultSet`, {});
  removeProtectionDomain = (pdId: string) =>
    this.call("POST", `/api/instances/ProtectionDomain::${pdId}/action/removeProtectionDomain`, {});
  setSparePercentage = (poolId: string, percent: number) =>
    this.call("POST", `/api/instances/StoragePool::${poolId}/action/setSparePercentage`, {
      sparePercentage: String(percent),
    });
  /** The MDM's capacity alerts for a pool: high (warning) and critical used %. */
  setCapacityAlertThresholds = (poolId: string, t: { high: number; critical: number }) =>
    this.call("POST", `/api/instances/StoragePool::${poolId}/action/setCapacityAlertThresholds`, {
      capacityAlertHighThresholdPercent: String(t.high),
      capacityAlertCriticalThresholdPercent: String(t.critical),
    });
}
