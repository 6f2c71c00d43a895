// The emulated ScaleIO system: everything the MDM knows, and the rules it enforces.
// Front ends (REST gateway, scli) check quorum and sessions, then call these methods.
import type { Clock } from "./clock.js";

export type { PoolCapacity } from "./capacity.js";
import { ErrorCode, SimError, badRequest, notFound } from "./errors.js";
import { IdFactory, newSdcGuid, randomHex16 } from "./ids.js";
import { MdmCluster } from "./mdm.js";
import { addInto, onSds, pairOf, spread, type Unit } from "./placement.js";
import type {
  Component,
  Daemon,
  Device,
  FaultSet,
  Job,
  NodeRecord,
  PackageFlavor,
  ProtectionDomain,
  Sdc,
  Sds,
  StoragePool,
  User,
  Volume,
} from "./types.js";
import { KB_PER_GB, ceilGranule } from "./units.js";
import { computePoolCapacity, usedPercentOf, type PoolCapacity } from "./capacity.js";
import { DataMovement } from "./movement.js";
import { DEFAULT_VERSION } from "./versions.js";

export interface SystemOptions {
  /** Device size used when a node did not declare one (KB). */
  defaultDeviceSizeKb?: number;
  /** Rebuild/rebalance throughput per device (KB/s); 2.0's limited policy is 10240. */
  rebuildKbPerSecPerDevice?: number;
  /** Refuse add_sds unless an SDS package runs at one of its IPs (true on a real system). */
  requireSdsPackage?: boolean;
}

export interface SystemListener {
  mapped?(volume: Volume, sdc: Sdc): void;
  unmapped?(volume: Volume, sdc: Sdc): void;
  resized?(volume: Volume): void;
  removed?(volume: Volume): void;
}

export const VOLUME_NAME_MAX = 31;
const MAX_VOLUME_KB = 1024 * 1024 * KB_PER_GB; // 1 PB

export class ScaleioSystem {
  readonly ids = new IdFactory();
  readonly nodes = new Map<string, NodeRecord>();
  readonly cluster = new MdmCluster(this.nodes);
  id = randomHex16();
  name: string | null = null;
  readonly installId = randomHex16();
  users: User[] = [];
  pds = new Map<string, ProtectionDomain>();
  faultSets = new Map<string, FaultSet>();
  pools = new Map<string, StoragePool>();
  sdss = new Map<string, Sds>();
  devices = new Map<string, Device>();
  volumes = new Map<string, Volume>();
  sdcs = new Map<string, Sdc>();
  jobs: Job[] = [];
  capacityAlertHighThresholdPercent = 80;
  capacityAlertCriticalThresholdPercent = 90;
  /** Extra I/O latency injected per SDS (ms), the "slow I/O" knob. */
  readonly slowIoMs = new Map<string, number>();
  private lastTick: number;
  private readonly listeners: SystemListener[] = [];
  /** Rebuild, rebalance and data moves. */
  readonly movement = new DataMovement(this);
  /** Run on every tick: outside observations folded into the model (e.g. bytes written). */
  private readonly samplers: (() => void)[] = [];
  readonly opts: Required<SystemOptions>;

  constructor(
    readonly clock: Clock,
    opts: SystemOptions = {},
  ) {
    this.opts = {
      defaultDeviceSizeKb: opts.defaultDeviceSizeKb ?? 100 * KB_PER_GB,
      rebuildKbPerSecPerDevice: opts.rebuildKbPerSecPerDevice ?? 10240,
      requireSdsPackage: opts.requireSdsPackage ?? true,
    };
    this.lastTick = clock.now();
  }

  listen(l: SystemListener): void {
    this.listeners.push(l);
  }

  addSampler(fn: () => void): void {
    this.samplers.push(fn);
  }

  get created(): boolean {
    return this.cluster.members.length > 0;
  }

  // ---------------------------------------------------------------- nodes and packages

  node(ip: string): NodeRecord {
    let n = this.nodes.get(ip);
    if (!n) {
      n = {
        ip,
        root: undefined,
        packages: new Map(),
        mdmIsManager: false,
        mdmAlive: false,
        sdsAlive: false,
        sdcAlive: false,
        crashed: new Set(),
        sdcMdmIps: [],
        sdcGuid: newSdcGuid(),
        liaToken: undefined,
        gatewayPassword: undefined,
        osPackages: new Set(),
        deviceSizesKb: new Map(),
      };
      this.nodes.set(ip, n);
    }
    return n;
  }

  installPackage(
    ip: string,
    component: Component,
    version: string = DEFAULT_VERSION,
    flavor: PackageFlavor = "rpm",
    env: Record<string, string | undefined> = {},
  ): void {
    const n = this.node(ip);
    const upgrade = n.packages.has(component);
    n.packages.set(component, { component, version, flavor, installedAt: this.clock.now() });
    if (isDaemon(component)) n.crashed.delete(component);
    switch (component) {
      case "mdm":
        // The role is fixed at first install; an upgrade keeps it.
        if (!upgrade) n.mdmIsManager = env.MDM_ROLE_IS_MANAGER !== "0";
        n.mdmAlive = true;
        break;
      case "sds":
        n.sdsAlive = true;
        break;
      case "sdc":
        if (env.MDM_IP) n.sdcMdmIps = splitList(env.MDM_IP);
        n.sdcAlive = true;
        break;
      case "lia":
        n.liaToken = env.TOKEN;
        break;
      case "gateway":
        n.gatewayPassword = env.GATEWAY_ADMIN_PASSWORD;
        break;
    }
    this.syncSdcs();
  }

  removePackage(ip: string, component: Component): void {
    const n = this.nodes.get(ip);
    if (!n || !n.packages.delete(component)) return;
    if (isDaemon(component)) n.crashed.delete(component);
    if (component === "mdm") n.mdmAlive = false;
    if (component === "sds") n.sdsAlive = false;
    if (component === "sdc") {
      n.sdcAlive = false;
      // An SDC that maps nothing is forgotten; one with mappings stays, Disconnected.
      const sdc = this.sdcByIp(ip);
      if (sdc && !this.volumesOfSdc(sdc.id).length) this.sdcs.delete(sdc.id);
    }
    if (component === "lia") n.liaToken = undefined;
    if (component === "gateway") n.gatewayPassword = undefined;
    if (component === "mdm" && this.created && !this.anyMemberInstalled()) this.dissolve();
    this.cluster.settle();
  }

  private anyMemberInstalled(): boolean {
    return this.cluster.members.some((m) =>
      m.ips.some((ip) => this.nodes.get(ip)?.packages.has("mdm")),
    );
  }

  /**
   * The MDM package is gone from every member: the cluster is no more, and with it every
   * object it knew (its repository lived on the MDMs). The machines can build a new one.
   */
  private dissolve(): void {
    for (const v of this.volumes.values()) for (const l of this.listeners) l.removed?.(v);
    this.cluster.members = [];
    this.cluster.mode = "1_node";
    for (const m of [
      this.volumes,
      this.devices,
      this.sdss,
      this.sdcs,
      this.pools,
      this.faultSets,
      this.pds,
    ])
      m.clear();
    this.jobs = [];
    this.users = [];
    this.name = null;
    this.id = randomHex16();
  }

  /**
   * A component's process stops or (re)starts on its node. `crashed` tells a killed process
   * from one stopped through its service (the service then reports "failed").
   */
  setComponentAlive(ip: string, component: Daemon, alive: boolean, crashed = !alive): void {
    const n = this.nodes.get(ip);
    if (!n || !n.packages.has(component)) throw notFound(`${component.toUpperCase()} at ${ip}`);
    this.tick();
    if (alive || !crashed) n.crashed.delete(component);
    else n.crashed.add(component);
    if (component === "mdm") n.mdmAlive = alive;
    if (component === "sdc") n.sdcAlive = alive;
    // A driver that starts again connects to the MDM (and registers if it was removed).
    if (component === "sdc" && alive) this.syncSdcs();
    if (component === "sds") {
      const was = n.sdsAlive;
      n.sdsAlive = alive;
      const sds = this.sdsByIp(ip);
      // In maintenance, its return resynchronises nothing yet: the exit does (reference 6.5).
      if (sds && alive && !was && !sds.maintenance) this.movement.onSdsReturn(sds);
    }
    this.cluster.settle();
  }

  /** SDCs register with the MDM once their MDM_IP reaches a manager of this cluster. */
  syncSdcs(): void {
    if (!this.created) return;
    const managers = new Set(this.cluster.managerIps());
    for (const n of this.nodes.values()) {
      // A driver that is not running registers nothing (a removed, dead SDC stays removed).
      if (!n.packages.has("sdc") || !n.sdcAlive || this.sdcByIp(n.ip)) continue;
      if (!n.sdcMdmIps.some((ip) => managers.has(ip))) continue;
      const id = this.ids.next("sdc");
      this.sdcs.set(id, { id, name: null, ip: n.ip, guid: n.sdcGuid, approved: true });
    }
  }

  sdcConnected(sdc: Sdc): boolean {
    const n = this.nodes.get(sdc.ip);
    return !!n && n.packages.has("sdc") && n.sdcAlive && this.cluster.settle();
  }

  sdsConnected(sds: Sds): boolean {
    return sds.ipList.some((x) => {
      const n = this.nodes.get(x.ip);
      return !!n && n.packages.has("sds") && n.sdsAlive;
    });
  }

  /** Connected, by id; an SDS that no longer exists is down. */
  sdsUp(id: string): boolean {
    const s = this.sdss.get(id);
    return !!s && this.sdsConnected(s);
  }

  /**
   * Holds reachable copies for this pool: connected, and not every one of its devices in the
   * pool has failed (copies are tracked per SDS, so a device failure counts when it takes
   * all of that SDS's capacity in the pool, the usual one-device-per-pool layout).
   */
  /** Lost for this pool: not holding reachable copies, and not in maintenance (rebuild them). */
  sdsLostIn(id: string, poolId: string): boolean {
    return !this.sdsUpIn(id, poolId) && !this.sdss.get(id)?.maintenance;
  }

  sdsUpIn(id: string, poolId: string): boolean {
    if (!this.sdsUp(id)) return false;
    const devs = this.devicesOfPool(poolId).filter((d) => d.sdsId === id);
    return devs.length === 0 || devs.some((d) => !d.failed);
  }

  /** Holds live copies: connected and not in maintenance. */
  sdsServing(sds: Sds): boolean {
    return this.sdsConnected(sds) && !sds.maintenance;
  }

  // ---------------------------------------------------------------- cluster and users

  createCluster(ip: string, mgmtIp: string, name: string): void {
    this.cluster.create(ip, mgmtIp, name);
    this.users = [
      {
        id: this.ids.next("user"),
        name: "admin",
        role: "SuperUser",
        password: "admin",
        passwordChangeRequired: true,
      },
    ];
    this.syncSdcs();
  }

  authenticate(username: string, password: string): User | undefined {
    return this.users.find((u) => u.name === username && u.password === password);
  }

  setPassword(user: User, oldPassword: string, newPassword: string): void {
    if (user.password !== oldPassword) throw badRequest("Invalid password");
    if (!newPassword) throw badRequest("The new password must not be empty");
    user.password = newPassword;
    user.passwordChangeRequired = false;
  }

  addUser(name: string, role: string): { user: User; password: string } {
    if (this.users.some((u) => u.name === name)) throw badRequest("User name already in use");
    const password = randomHex16().slice(0, 12);
    const user = { id: this.ids.next("user"), name, role, password, passwordChangeRequired: true };
    this.users.push(user);
    return { user, password };
  }

  rename(newName: string): void {
    if (!newName) throw badRequest("Invalid name");
    this.name = newName;
  }

  // ---------------------------------------------------------------- lookups

  pd(id: string): ProtectionDomain {
    const pd = this.pds.get(id);
    if (!pd) throw notFound("Protection Domain");
    return pd;
  }
  pdByName(name: string): ProtectionDomain {
    const pd = [...this.pds.values()].find((p) => p.name === name);
    if (!pd) throw notFound("Protection Domain");
    return pd;
  }
  pool(id: string): StoragePool {
    const p = this.pools.get(id);
    if (!p) throw notFound("Storage Pool");
    return p;
  }
  poolByName(pdId: string, name: string): StoragePool {
    const p = [...this.pools.values()].find(
      (x) => x.protectionDomainId === pdId && x.name === name,
    );
    if (!p) throw notFound("Storage Pool");
    return p;
  }
  sds(id: string): Sds {
    const s = this.sdss.get(id);
    if (!s) throw notFound("SDS");
    return s;
  }
  sdsByName(name: string): Sds {
    const s = [...this.sdss.values()].find((x) => x.name === name);
    if (!s) throw notFound("SDS");
    return s;
  }
  sdsByIp(ip: string): Sds | undefined {
    return [...this.sdss.values()].find((x) => x.ipList.some((i) => i.ip === ip));
  }
  device(id: string): Device {
    const d = this.devices.get(id);
    if (!d) throw notFound("device");
    return d;
  }
  volume(id: string, legacy = false): Volume {
    const v = this.volumes.get(id);
    if (!v || v.hidden) {
      throw new SimError(
        "Could not find the volume",
        500,
        legacy ? ErrorCode.VOLUME_NOT_FOUND_13X : ErrorCode.VOLUME_NOT_FOUND,
      );
    }
    return v;
  }
  volumeByName(name: string): Volume {
    const v = [...this.volumes.values()].find((x) => !x.hidden && x.name === name);
    // A name that matches nothing is "not found" (3); 79 is for volume ids.
    if (!v) throw new SimError("Could not find the volume", 500, ErrorCode.OBJECT_NOT_FOUND);
    return v;
  }
  sdc(id: string): Sdc {
    const s = this.sdcs.get(id);
    if (!s) throw notFound("SDC");
    return s;
  }
  sdcByIp(ip: string): Sdc | undefined {
    return [...this.sdcs.values()].find((s) => s.ip === ip);
  }
  sdcByGuid(guid: string): Sdc | undefined {
    return [...this.sdcs.values()].find((s) => s.guid.toUpperCase() === guid.toUpperCase());
  }
  faultSet(id: string): FaultSet {
    const f = this.faultSets.get(id);
    if (!f) throw notFound("Fault Set");
    return f;
  }
  listVolumes(): Volume[] {
    return [...this.volumes.values()].filter((v) => !v.hidden);
  }
  volumesOfSdc(sdcId: string): Volume[] {
    return this.listVolumes().filter((v) => v.mappings.some((m) => m.sdcId === sdcId));
  }
  devicesOfPool(poolId: string): Device[] {
    return [...this.devices.values()].filter((d) => d.storagePoolId === poolId);
  }

  // ---------------------------------------------------------------- protection domains, pools

  addProtectionDomain(name: string): ProtectionDomain {
    checkName(name);
    if ([...this.pds.values()].some((p) => p.name === name)) {
      throw new SimError("Protection Domain name already in use", 500, ErrorCode.NAME_IN_USE);
    }
    const pd = { id: this.ids.next("pd"), name };
    this.pds.set(pd.id, pd);
    return pd;
  }

  /** An empty domain (no SDS, pool or fault set in it) can go; the MDM's refusals otherwise. */
  removeProtectionDomain(id: string): void {
    this.pd(id);
    if ([...this.sdss.values()].some((s) => s.protectionDomainId === id))
      throw badRequest("Protection Domain has SDSs", ErrorCode.PD_HAS_SDSS);
    if ([...this.pools.values()].some((p) => p.protectionDomainId === id))
      throw badRequest("Protection Domain has Storage Pools", ErrorCode.PD_HAS_POOLS);
    if ([...this.faultSets.values()].some((f) => f.protectionDomainId === id)) {
      throw badRequest(
        "The Protection Domain contains Fault Sets, and cannot be removed. Please remove all Fault Sets from the Protection Domain, and then try again.",
        ErrorCode.PD_HAS_FAULT_SETS,
      );
    }
    this.pds.delete(id);
  }

  /** An empty fault set (no SDS in it) can go. */
  removeFaultSet(id: string): void {
    this.faultSet(id);
    if ([...this.sdss.values()].some((s) => s.faultSetId === id)) {
      throw badRequest(
        "This Fault Set is not empty, and cannot be removed. Please remove all SDSs from the Fault Set, and then try again.",
        ErrorCode.FAULT_SET_HAS_SDSS,
      );
    }
    this.faultSets.delete(id);
  }

  /** A pool without devices and volumes can go. */
  removeStoragePool(id: string): void {
    this.pool(id);
    // Volumes first: they are what has to go before the devices can.
    if (this.listVolumes().some((v) => v.storagePoolId === id)) {
      throw badRequest(
        "The Storage Pool has volumes. Please remove all the volumes before removing the Storage Pool.",
        ErrorCode.POOL_HAS_VOLUMES,
      );
    }
    if ([...this.devices.values()].some((d) => d.storagePoolId === id))
      throw badRequest("The Storage Pool has SDS devices", ErrorCode.POOL_HAS_DEVICES);
    this.clearPoolFill(id);
    this.pools.delete(id);
  }

  addFaultSet(pdId: string, name: string): FaultSet {
    this.pd(pdId);
    checkName(name);
    if (
      [...this.faultSets.values()].some((f) => f.protectionDomainId === pdId && f.name === name)
    ) {
      throw new SimError("Fault Set name already in use", 500, ErrorCode.NAME_IN_USE);
    }
    const fs = { id: this.ids.next("fs"), name, protectionDomainId: pdId };
    this.faultSets.set(fs.id, fs);
    return fs;
  }

  addStoragePool(pdId: string, name: string, o: Partial<StoragePool> = {}): StoragePool {
    this.pd(pdId);
    checkName(name);
    if ([...this.pools.values()].some((p) => p.protectionDomainId === pdId && p.name === name)) {
      throw new SimError("Storage Pool name already in use", 500, ErrorCode.NAME_IN_USE);
    }
    const sp: StoragePool = {
      id: this.ids.next("sp"),
      name,
      protectionDomainId: pdId,
      sparePercentage: 10,
      capacityAlertHighThreshold: this.capacityAlertHighThresholdPercent,
      capacityAlertCriticalThreshold: this.capacityAlertCriticalThresholdPercent,
      zeroPaddingEnabled: false,
      useRmcache: false,
      rebuildEnabled: true,
      rebalanceEnabled: true,
      checksumEnabled: false,
      useRfcache: false,
      ...o,
    };
    if (o.sparePercentage !== undefined) checkPercent(o.sparePercentage);
    this.pools.set(sp.id, sp);
    return sp;
  }

  setSparePercentage(poolId: string, pct: number): void {
    const p = this.pool(poolId);
    checkPercent(pct);
    const c = this.poolCapacity(poolId);
    const newSpare = Math.floor((c.maxCapacityInKb * pct) / 100);
    if (c.capacityLimitInKb - newSpare < c.capacityInUseInKb) {
      throw new SimError(
        "Not enough capacity for this spare policy",
        500,
        ErrorCode.NOT_ENOUGH_CAPACITY,
      );
    }
    p.sparePercentage = pct;
  }

  setCapacityThresholds(
    poolId: string | "all",
    high: number,
    critical: number,
    systemDefault = false,
  ): void {
    checkPercent(high);
    checkPercent(critical);
    if (high >= critical)
      throw badRequest("The high threshold must be lower than the critical threshold");
    const pools = poolId === "all" ? [...this.pools.values()] : [this.pool(poolId)];
    for (const p of pools) {
      p.capacityAlertHighThreshold = high;
      p.capacityAlertCriticalThreshold = critical;
    }
    if (systemDefault) {
      this.capacityAlertHighThresholdPercent = high;
      this.capacityAlertCriticalThresholdPercent = critical;
    }
  }

  // ---------------------------------------------------------------- SDS and devices

  addSds(o: {
    name?: string;
    protectionDomainId: string;
    ips: { ip: string; role: string }[];
    faultSetId?: string | null;
    port?: number;
    devices?: { path: string; storagePoolId: string; name?: string }[];
  }): Sds {
    this.pd(o.protectionDomainId);
    if (o.ips.length === 0) throw badRequest("At least one SDS IP is required");
    if (o.ips.length > 8) throw badRequest("An SDS has at most 8 IP addresses");
    for (const { ip } of o.ips) {
      if (!isIpv4(ip)) throw badRequest(`Invalid IP address ${ip}`);
      if (this.sdsByIp(ip)) throw new SimError("SDS IP already in use", 500, ErrorCode.NAME_IN_USE);
    }
    const name = o.name || `SDS_[${o.ips[0]!.ip}]`;
    if ([...this.sdss.values()].some((s) => s.name === name)) {
      throw new SimError("SDS name already in use", 500, ErrorCode.NAME_IN_USE);
    }
    if (o.faultSetId) {
      const fs = this.faultSet(o.faultSetId);
      if (fs.protectionDomainId !== o.protectionDomainId) {
        throw badRequest("The Fault Set belongs to another Protection Domain");
      }
    }
    if (
      this.opts.requireSdsPackage &&
      !o.ips.some(({ ip }) => this.nodes.get(ip)?.packages.has("sds"))
    ) {
      throw new SimError(
        "Could not connect to the SDS (is it installed?)",
        500,
        ErrorCode.OBJECT_NOT_FOUND,
      );
    }
    for (const d of o.devices ?? []) this.checkPoolInPd(d.storagePoolId, o.protectionDomainId);
    const sds: Sds = {
      id: this.ids.next("sds"),
      name,
      protectionDomainId: o.protectionDomainId,
      faultSetId: o.faultSetId ?? null,
      ipList: o.ips,
      port: o.port ?? 7072,
      removing: false,
      maintenance: false,
      bckRebuildPendingKb: 0,
    };
    this.sdss.set(sds.id, sds);
    for (const d of o.devices ?? []) this.addDevice(sds.id, d.path, d.storagePoolId, d.name);
    return sds;
  }

  private checkPoolInPd(poolId: string, pdId: string): void {
    if (this.pool(poolId).protectionDomainId !== pdId) {
      throw badRequest("The Storage Pool belongs to another Protection Domain");
    }
  }

  addDevice(sdsId: string, path: string, poolId: string, name?: string, limitKb?: number): Device {
    const sds = this.sds(sdsId);
    this.checkPoolInPd(poolId, sds.protectionDomainId);
    if (!path) throw badRequest("A device path is required");
    const mine = [...this.devices.values()].filter((d) => d.sdsId === sdsId);
    if (mine.some((d) => d.path === path)) {
      throw new SimError("Device already in use by this SDS", 500, ErrorCode.DEVICE_ALREADY_EXISTS);
    }
    if (mine.length >= 64) throw badRequest("An SDS has at most 64 devices");
    const nodeIp = sds.ipList.find((i) => this.nodes.has(i.ip))?.ip;
    const sizeKb =
      (nodeIp && this.nodes.get(nodeIp)?.deviceSizesKb.get(path)) || this.opts.defaultDeviceSizeKb;
    const hadData = this.poolHasData(poolId);
    const d: Device = {
      id: this.ids.next("dev"),
      name: name || path,
      path,
      sdsId,
      storagePoolId: poolId,
      sizeKb,
      capacityLimitKb: limitKb && limitKb > 0 ? Math.min(limitKb, sizeKb) : sizeKb,
      removing: false,
      failed: false,
    };
    this.devices.set(d.id, d);
    if (hadData) this.movement.startRebalance(poolId);
    return d;
  }

  /** Graceful removal: the SDS stays listed while its data moves, then disappears. */
  removeSds(id: string): void {
    const sds = this.sds(id);
    if (sds.removing) {
      throw new SimError(
        "SDS removal is already in progress",
        500,
        ErrorCode.SDS_REMOVAL_IN_PROGRESS,
      );
    }
    const devs = [...this.devices.values()].filter((d) => d.sdsId === id);
    for (const poolId of new Set(devs.map((d) => d.storagePoolId))) {
      this.checkRoomWithout(
        poolId,
        devs.filter((d) => d.storagePoolId === poolId),
      );
    }
    sds.removing = true;
    // What it holds moves away pool by pool (each pool counts its own moving capacity); the
    // SDS disappears once the last of them is done.
    const moving = new Map<string, number>();
    for (const v of this.volumes.values()) {
      const x = onSds(v.placement, id);
      if (x > 0) moving.set(v.storagePoolId, (moving.get(v.storagePoolId) ?? 0) + x);
    }
    if (moving.size === 0) {
      this.finishSdsRemoval(sds);
      return;
    }
    let left = moving.size;
    for (const [poolId, kb] of moving)
      this.jobs.push({
        kind: "moving",
        storagePoolId: poolId,
        totalKb: kb,
        doneKb: 0,
        onDone: () => {
          if (--left === 0) this.finishSdsRemoval(sds);
        },
      });
  }

  private finishSdsRemoval(sds: Sds): void {
    for (const v of this.volumes.values()) this.movement.evacuate(v, sds.id);
    for (const d of [...this.devices.values()]) if (d.sdsId === sds.id) this.devices.delete(d.id);
    this.sdss.delete(sds.id);
  }

  removeDevice(id: string): void {
    const dev = this.device(id);
    if (dev.removing)
      throw badRequest("The SDS device is being removed", ErrorCode.DEVICE_BEING_REMOVED);
    this.checkRoomWithout(dev.storagePoolId, [dev]);
    dev.removing = true;
    const sdsDevs = this.devicesOfPool(dev.storagePoolId).filter((d) => d.sdsId === dev.sdsId);
    const sdsKb = sdsDevs.reduce((s, d) => s + d.sizeKb, 0);
    let onIt = 0;
    for (const v of this.volumes.values()) {
      if (v.storagePoolId === dev.storagePoolId) onIt += onSds(v.placement, dev.sdsId);
    }
    const moving = Math.round((onIt * dev.sizeKb) / Math.max(1, sdsKb));
    const finish = () => {
      this.devices.delete(dev.id);
      const left = this.devicesOfPool(dev.storagePoolId).some((d) => d.sdsId === dev.sdsId);
      if (!left) {
        for (const v of this.volumes.values()) {
          if (v.storagePoolId === dev.storagePoolId) this.movement.evacuate(v, dev.sdsId);
        }
      }
    };
    if (moving === 0) return finish();
    this.jobs.push({
      kind: "moving",
      storagePoolId: dev.storagePoolId,
      totalKb: moving,
      doneKb: 0,
      onDone: finish,
    });
  }

  private checkRoomWithout(poolId: string, leaving: Device[]): void {
    const c = this.poolCapacity(poolId);
    const pool = this.pool(poolId);
    const max = c.maxCapacityInKb - leaving.reduce((s, d) => s + d.sizeKb, 0);
    const limit = c.capacityLimitInKb - leaving.reduce((s, d) => s + d.capacityLimitKb, 0);
    const spare = Math.floor((max * pool.sparePercentage) / 100);
    // Two copies need two fault units: with data, fewer would leave copies nowhere to go.
    const gone = new Set(leaving.map((d) => d.id));
    const units = new Set<string>();
    for (const d of this.devicesOfPool(poolId)) {
      const sds = this.sdss.get(d.sdsId);
      if (!gone.has(d.id) && !d.removing && sds && !sds.removing)
        units.add(sds.faultSetId ?? sds.id);
    }
    if (c.capacityInUseInKb > 0 && units.size < 2) {
      throw new SimError(
        "Not enough fault units in the Storage Pool to keep two copies of its data",
        500,
        ErrorCode.NOT_ENOUGH_CAPACITY,
      );
    }
    if (c.capacityInUseInKb > 0 && limit - spare < c.capacityInUseInKb) {
      throw new SimError(
        "Not enough free capacity in the Storage Pool to migrate the data",
        500,
        ErrorCode.NOT_ENOUGH_CAPACITY,
      );
    }
  }

  /** Device failure and return (fault injection). */
  setDeviceFailed(id: string, failed: boolean): void {
    const dev = this.device(id);
    if (dev.failed === failed) return;
    this.tick();
    dev.failed = failed;
    const sds = this.sdss.get(dev.sdsId);
    if (!failed && sds && this.sdsConnected(sds)) this.movement.onSdsReturn(sds);
  }

  enterMaintenance(id: string): void {
    const sds = this.sds(id);
    if (sds.maintenance) throw badRequest("The SDS is already in maintenance mode");
    if (!this.sdsConnected(sds)) throw badRequest("The SDS is disconnected");
    const peers = [...this.sdss.values()].filter(
      (s) => s.protectionDomainId === sds.protectionDomainId && s !== sds,
    );
    if (peers.some((s) => s.maintenance || !this.sdsConnected(s))) {
      throw badRequest("Another SDS in the Protection Domain is in maintenance or down");
    }
    this.tick();
    sds.maintenance = true;
  }

  exitMaintenance(id: string): void {
    const sds = this.sds(id);
    if (!sds.maintenance) throw badRequest("The SDS is not in maintenance mode");
    this.tick();
    sds.maintenance = false;
    // Still down (the machine not back): an SDS failure now; its return resynchronises.
    if (this.sdsConnected(sds)) this.movement.startBackwardRebuild(sds, sds.bckRebuildPendingKb);
  }

  /** Fault units able to take new copies: serving SDSs with devices in the pool. */
  units(poolId: string): Unit[] {
    const w = new Map<string, number>();
    for (const d of this.devicesOfPool(poolId)) {
      if (d.removing || d.failed) continue;
      w.set(d.sdsId, (w.get(d.sdsId) ?? 0) + d.capacityLimitKb);
    }
    const out: Unit[] = [];
    for (const [sdsId, weightKb] of w) {
      const sds = this.sdss.get(sdsId);
      if (!sds || sds.removing || !this.sdsServing(sds)) continue;
      out.push({ sdsId, faultSetId: sds.faultSetId, weightKb });
    }
    return out;
  }

  /** Number of fault units (SDSs, or fault sets when used) with devices in the pool. */
  faultUnitCount(poolId: string): number {
    const keys = new Set<string>();
    for (const d of this.devicesOfPool(poolId)) {
      const sds = this.sdss.get(d.sdsId);
      if (sds && !sds.removing) keys.add(sds.faultSetId ?? sds.id);
    }
    return keys.size;
  }

  // ---------------------------------------------------------------- volumes

  addVolume(o: { name: string; storagePoolId: string; sizeKb: number; thin: boolean }): Volume {
    const pool = this.pool(o.storagePoolId);
    checkName(o.name);
    if (o.name.length > VOLUME_NAME_MAX) {
      throw badRequest(`Volume name is longer than ${VOLUME_NAME_MAX} characters`);
    }
    if (this.listVolumes().some((v) => v.name === o.name)) {
      throw new SimError(
        "Volume name already in use. Please use a different name.",
        500,
        ErrorCode.VOLUME_ALREADY_EXISTS,
      );
    }
    if (!Number.isFinite(o.sizeKb) || o.sizeKb <= 0 || !Number.isInteger(o.sizeKb)) {
      throw badRequest("Invalid volume size");
    }
    const sizeKb = ceilGranule(o.sizeKb);
    if (sizeKb > MAX_VOLUME_KB) throw badRequest("Volume size exceeds the maximum of 1 PB");
    if (this.faultUnitCount(pool.id) < 3) {
      throw new SimError(
        "Not enough fault units in the Storage Pool: at least 3 SDSs with devices are required",
        500,
        ErrorCode.NOT_ENOUGH_CAPACITY,
      );
    }
    if (!o.thin && sizeKb > this.poolCapacity(pool.id).capacityAvailableForVolumeAllocationInKb) {
      throw new SimError(
        "Not enough capacity in the Storage Pool for this volume",
        500,
        ErrorCode.NOT_ENOUGH_CAPACITY,
      );
    }
    const v: Volume = {
      id: this.ids.next("vol"),
      name: o.name,
      storagePoolId: pool.id,
      vtreeId: this.ids.next("vtree"),
      sizeKb,
      volumeType: o.thin ? "ThinProvisioned" : "ThickProvisioned",
      ancestorVolumeId: null,
      creationTime: Math.floor(this.clock.now() / 1000),
      writtenKb: 0,
      placement: o.thin ? new Map() : spread(sizeKb, this.units(pool.id)),
      mappings: [],
      hidden: false,
      workload: { readIops: 0, writeIops: 0, ioSizeKb: 0 },
    };
    this.volumes.set(v.id, v);
    return v;
  }

  snapshot(volumeId: string, name: string): Volume {
    const src = this.volume(volumeId);
    if (this.listVolumes().some((v) => v.name === name)) {
      throw new SimError(
        "Volume name already in use. Please use a different name.",
        500,
        ErrorCode.VOLUME_ALREADY_EXISTS,
      );
    }
    checkName(name);
    const v: Volume = {
      ...src,
      id: this.ids.next("vol"),
      name,
      volumeType: "Snapshot",
      ancestorVolumeId: src.id,
      creationTime: Math.floor(this.clock.now() / 1000),
      writtenKb: 0,
      placement: new Map(),
      mappings: [],
      workload: { readIops: 0, writeIops: 0, ioSizeKb: 0 },
    };
    this.volumes.set(v.id, v);
    return v;
  }

  removeVolume(id: string, mode = "ONLY_ME"): void {
    const v = this.volume(id);
    const modes = ["ONLY_ME", "INCLUDING_DESCENDANTS", "DESCENDANTS_ONLY", "WHOLE_VTREE"];
    if (!modes.includes(mode)) throw badRequest(`Invalid removeMode ${mode}`);
    if (v.mappings.length > 0) {
      throw new SimError("Volume is mapped", 500, ErrorCode.VOLUME_MAPPED);
    }
    const children = this.listVolumes().filter((x) => x.ancestorVolumeId === id);
    const victims =
      mode === "ONLY_ME" ? [v] : mode === "DESCENDANTS_ONLY" ? children : [v, ...children];
    for (const x of victims) {
      if (x.mappings.length)
        throw new SimError("A descendant volume is mapped", 500, ErrorCode.INVALID_VALUE);
    }
    for (const x of victims) {
      this.volumes.delete(x.id);
      for (const l of this.listeners) l.removed?.(x);
    }
    for (const c of children) if (!victims.includes(c)) c.ancestorVolumeId = null;
  }

  /** `setVolumeSize`: grows only, in 8 GB multiples (sizes in GB as REST sends them). */
  resizeVolumeGb(id: string, sizeGb: number): void {
    const v = this.volume(id);
    if (!Number.isInteger(sizeGb) || sizeGb <= 0 || sizeGb % 8 !== 0) {
      throw badRequest("Invalid volume size: the size must be a multiple of 8 GB");
    }
    const kb = sizeGb * KB_PER_GB;
    if (kb <= v.sizeKb) {
      throw badRequest(
        "Invalid volume size: a volume can only grow",
        ErrorCode.VOLUME_CANNOT_EXTEND,
      );
    }
    const delta = kb - v.sizeKb;
    if (v.volumeType === "ThickProvisioned") {
      if (delta > this.poolCapacity(v.storagePoolId).capacityAvailableForVolumeAllocationInKb) {
        throw new SimError(
          "Not enough capacity in the Storage Pool",
          500,
          ErrorCode.NOT_ENOUGH_CAPACITY,
        );
      }
      addInto(v.placement, spread(delta, this.units(v.storagePoolId)));
    }
    v.sizeKb = kb;
    for (const l of this.listeners) l.resized?.(v);
  }

  renameVolume(id: string, newName: string): void {
    const v = this.volume(id);
    checkName(newName);
    if (newName.length > VOLUME_NAME_MAX) throw badRequest("Volume name is too long");
    if (this.listVolumes().some((x) => x.name === newName && x !== v)) {
      throw new SimError(
        "Volume name already in use. Please use a different name.",
        500,
        ErrorCode.VOLUME_ALREADY_EXISTS,
      );
    }
    v.name = newName;
  }

  mapVolume(volumeId: string, sdcId: string, allowMultiple: boolean): void {
    const v = this.volume(volumeId);
    const sdc = this.sdc(sdcId);
    if (v.mappings.some((m) => m.sdcId === sdcId)) {
      throw new SimError(
        "The volume is already mapped to this SDC",
        500,
        ErrorCode.VOLUME_ALREADY_MAPPED,
      );
    }
    if (v.mappings.length > 0 && !allowMultiple) {
      throw new SimError(
        "The volume is already mapped to another SDC. Use allowMultipleMappings to map it to more SDCs.",
        500,
        ErrorCode.VOLUME_ALREADY_MAPPED,
      );
    }
    v.mappings.push({ sdcId, limitIops: 0, limitBwInMbps: 0 });
    for (const l of this.listeners) l.mapped?.(v, sdc);
  }

  unmapVolume(volumeId: string, sdcId: string | "all"): Sdc[] {
    const v = this.volume(volumeId);
    if (sdcId !== "all") this.sdc(sdcId);
    const gone = v.mappings.filter((m) => sdcId === "all" || m.sdcId === sdcId);
    if (gone.length === 0) {
      throw new SimError("The volume is not mapped to SDC", 500, ErrorCode.VOLUME_NOT_MAPPED);
    }
    v.mappings = v.mappings.filter((m) => !gone.includes(m));
    const sdcs = gone.map((m) => this.sdc(m.sdcId));
    for (const sdc of sdcs) for (const l of this.listeners) l.unmapped?.(v, sdc);
    return sdcs;
  }

  setMappedSdcLimits(volumeId: string, sdcId: string, iops?: number, bwKbps?: number): void {
    const v = this.volume(volumeId);
    const m = v.mappings.find((x) => x.sdcId === sdcId);
    if (!m) throw new SimError("The volume is not mapped to SDC", 500, ErrorCode.VOLUME_NOT_MAPPED);
    if (iops !== undefined) {
      if (!Number.isInteger(iops) || iops < 0 || (iops > 0 && iops <= 10)) {
        throw badRequest("IOPS limit must be 0 (unlimited) or greater than 10");
      }
      m.limitIops = iops;
    }
    if (bwKbps !== undefined) {
      if (!Number.isInteger(bwKbps) || bwKbps < 0 || bwKbps % 1024 !== 0) {
        throw badRequest("Bandwidth limit must be a multiple of 1024 Kbps");
      }
      m.limitBwInMbps = bwKbps / 1024;
    }
  }

  /** Writes net data into a volume: thin volumes allocate raw capacity (2 copies) as they fill. */
  writeVolume(id: string, kb: number, includeHidden = false): number {
    const v = includeHidden ? this.volumes.get(id) : this.volume(id);
    if (!v) throw notFound("volume");
    if (!(kb > 0)) throw badRequest("Invalid amount of data");
    const delta = Math.min(Math.round(kb), v.sizeKb - v.writtenKb);
    if (delta <= 0) return 0;
    if (this.volumeHasFailedData(v)) {
      throw new SimError(
        "I/O error: part of the volume has no live copy",
        500,
        ErrorCode.INVALID_VALUE,
      );
    }
    if (v.volumeType !== "ThickProvisioned") {
      const c = this.poolCapacity(v.storagePoolId);
      const rawFree =
        c.capacityLimitInKb -
        c.spareCapacityInKb -
        c.thickCapacityInUseInKb -
        c.thinCapacityInUseInKb;
      if (2 * delta > rawFree) {
        throw new SimError("The Storage Pool is full", 500, ErrorCode.NOT_ENOUGH_CAPACITY);
      }
      addInto(v.placement, spread(delta, this.units(v.storagePoolId)));
    }
    v.writtenKb += delta;
    // SDSs that are away will need these writes resynchronised when they return.
    for (const s of this.sdss.values()) {
      if (
        !this.sdsServing(s) &&
        this.devicesOfPool(v.storagePoolId).some((d) => d.sdsId === s.id)
      ) {
        s.bckRebuildPendingKb += delta;
      }
    }
    return delta;
  }

  /** The "write into a pool" knob: data lands in a hidden thin volume of that pool. */
  writePool(poolId: string, kb: number): void {
    this.pool(poolId);
    let filler = [...this.volumes.values()].find((v) => v.hidden && v.storagePoolId === poolId);
    if (!filler) {
      filler = {
        id: this.ids.next("vol"),
        name: `__fill_${poolId}`,
        storagePoolId: poolId,
        vtreeId: this.ids.next("vtree"),
        sizeKb: MAX_VOLUME_KB,
        volumeType: "ThinProvisioned",
        ancestorVolumeId: null,
        creationTime: Math.floor(this.clock.now() / 1000),
        writtenKb: 0,
        placement: new Map(),
        mappings: [],
        hidden: true,
        workload: { readIops: 0, writeIops: 0, ioSizeKb: 0 },
      };
      this.volumes.set(filler.id, filler);
    }
    this.writeVolume(filler.id, kb, true);
  }

  /**
   * The "fill a pool" knob: sets the pool's used capacity so that the MDM's used % (in use
   * over non-spare capacity, as for its capacity alerts) becomes `percent`, rounding up to the
   * next KB so that a fill to a threshold reaches it. Volume data already there stays; a
   * target below it is refused. Returns the used % reached.
   */
  fillPool(poolId: string, percent: number): number {
    this.pool(poolId);
    if (typeof percent !== "number" || !Number.isFinite(percent) || percent < 0 || percent > 100)
      throw badRequest("percent must be a number from 0 to 100");
    this.tick();
    this.clearPoolFill(poolId);
    const c = this.poolCapacity(poolId);
    const usable = c.capacityLimitInKb - c.spareCapacityInKb;
    if (usable <= 0) {
      if (percent === 0) return 0;
      throw badRequest("The Storage Pool has no capacity outside its spare: add devices first");
    }
    const missingRaw = Math.ceil((usable * percent) / 100) - c.capacityInUseInKb;
    if (missingRaw < 0) {
      throw badRequest(
        `The Storage Pool's volumes already use ${usedPercentOf(c).toFixed(2)} % of its non-spare capacity: it cannot be filled to ${percent} % without removing them`,
      );
    }
    if (missingRaw > 0 && this.units(poolId).length < 2)
      throw badRequest("The Storage Pool has fewer than two serving SDSs to hold the data");
    // Two copies of every chunk: the raw capacity missing is twice the net data to write.
    const rawFree =
      c.capacityLimitInKb -
      c.spareCapacityInKb -
      c.thickCapacityInUseInKb -
      c.thinCapacityInUseInKb;
    const net = Math.min(Math.ceil(missingRaw / 2), Math.floor(rawFree / 2));
    if (net > 0) this.writePool(poolId, net);
    return usedPercentOf(this.poolCapacity(poolId));
  }

  /** Used % of a pool as the MDM computes it for its capacity alerts. */
  poolUsedPercent(poolId: string): number {
    return usedPercentOf(this.poolCapacity(poolId));
  }

  /**
   * Raw capacity of the pool's largest fault unit (an SDS, or a fault set when used): what
   * the spare must be able to hold for a failure of that unit to be rebuilt.
   */
  largestFaultUnitKb(poolId: string): number {
    const perUnit = new Map<string, number>();
    for (const d of this.devicesOfPool(poolId)) {
      const key = this.sdss.get(d.sdsId)?.faultSetId ?? d.sdsId;
      perUnit.set(key, (perUnit.get(key) ?? 0) + d.sizeKb);
    }
    return Math.max(0, ...perUnit.values());
  }

  /** Frees data written with writePool (so tests can go back below thresholds). */
  clearPoolFill(poolId: string): void {
    for (const v of [...this.volumes.values()]) {
      if (v.hidden && v.storagePoolId === poolId) this.volumes.delete(v.id);
    }
  }

  volumeHasFailedData(v: Volume): boolean {
    for (const k of v.placement.keys()) {
      const [a, b] = pairOf(k);
      if (!this.sdsUpIn(a, v.storagePoolId) && !this.sdsUpIn(b, v.storagePoolId)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- capacity

  jobTotals(
    poolIds: Set<string>,
    kind: Job["kind"],
  ): { total: number; active: number; pending: number } {
    return this.movement.jobTotals(poolIds, kind);
  }

  /** Some volume of the pool has data placed: what rebalance and rebuild would move. */
  poolHasData(poolId: string): boolean {
    for (const v of this.volumes.values()) {
      if (v.storagePoolId !== poolId) continue;
      for (const x of v.placement.values()) if (x > 0) return true;
    }
    return false;
  }

  poolCapacity(poolId: string): PoolCapacity {
    const pool = this.pool(poolId);
    return computePoolCapacity({
      pool,
      devices: this.devicesOfPool(poolId),
      volumes: [...this.volumes.values()].filter((v) => v.storagePoolId === poolId),
      status: (id) => {
        const s = this.sdss.get(id);
        // Down or not, an SDS in maintenance is away by design: no rebuild (reference 6.5).
        if (s?.maintenance) return "maint";
        if (!s || !this.sdsUpIn(id, poolId)) return "down";
        return "up";
      },
      rebuildKbPerSecPerDevice: this.opts.rebuildKbPerSecPerDevice,
      rebuildBlocked: () => this.movement.rebuildBlocked(poolId),
    });
  }

  // ---------------------------------------------------------------- time

  /** Advances rebuild, rebalance and data moves to the clock's present. */
  tick(): void {
    for (const fn of this.samplers) fn();
    const now = this.clock.now();
    let dt = (now - this.lastTick) / 1000;
    this.lastTick = now;
    // Steps of at most 10 s keep ordering sensible when time jumps far ahead.
    while (dt > 0) {
      const step = Math.min(dt, 10);
      dt -= step;
      for (const pool of this.pools.values()) this.movement.stepPool(pool, step);
    }
    this.cluster.settle();
  }
}

export function isDaemon(c: Component): c is Daemon {
  return c === "mdm" || c === "sds" || c === "sdc";
}

function splitList(s: string): string[] {
  return s
    .split(/[,;]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.length === 0 || name.length > 64 || /\s/.test(name)) {
    throw badRequest(`Invalid name ${JSON.stringify(name)}`);
  }
}

function checkPercent(p: number): void {
  if (!Number.isInteger(p) || p < 0 || p > 100) throw badRequest("The percentage must be 0..100");
}

export function isIpv4(ip: string): boolean {
  const parts = ip.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}
