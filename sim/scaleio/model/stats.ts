// Statistics objects with the field names the real gateway uses (reference 4.6).
import { badRequest } from "./errors.js";
import { onSds, pairOf } from "./placement.js";
import type { PoolCapacity, ScaleioSystem } from "./system.js";
import type { Device, Volume } from "./types.js";

export interface Bwc {
  numOccured: number;
  numSeconds: number;
  totalWeightInKb: number;
}

export type StatsType =
  "System" | "ProtectionDomain" | "StoragePool" | "Sds" | "Device" | "Volume" | "Sdc";
export const STATS_TYPES: StatsType[] = [
  "System",
  "ProtectionDomain",
  "StoragePool",
  "Sds",
  "Device",
  "Volume",
  "Sdc",
];

/** Bandwidth counters cover a short sliding window; 0/0 means idle. */
const WINDOW_S = 5;
const BASE_LATENCY_MS = 0.5;
const QUEUE_DEPTH = 32;

const zeroBwc = (): Bwc => ({ numOccured: 0, numSeconds: 0, totalWeightInKb: 0 });
function bwc(iops: number, kbPerIo: number): Bwc {
  if (iops <= 0) return zeroBwc();
  const n = Math.round(iops * WINDOW_S);
  return { numOccured: n, numSeconds: WINDOW_S, totalWeightInKb: Math.round(n * kbPerIo) };
}
function addBwc(a: Bwc, b: Bwc): Bwc {
  return {
    numOccured: a.numOccured + b.numOccured,
    numSeconds: Math.max(a.numSeconds, b.numSeconds),
    totalWeightInKb: a.totalWeightInKb + b.totalWeightInKb,
  };
}

const CAPACITY_KEYS = [
  "maxCapacityInKb",
  "capacityLimitInKb",
  "spareCapacityInKb",
  "capacityInUseInKb",
  "unusedCapacityInKb",
  "capacityAvailableForVolumeAllocationInKb",
  "thickCapacityInUseInKb",
  "thinCapacityInUseInKb",
  "snapCapacityInUseInKb",
  "snapCapacityInUseOccupiedInKb",
  "protectedCapacityInKb",
  "degradedHealthyCapacityInKb",
  "degradedFailedCapacityInKb",
  "failedCapacityInKb",
  "unreachableUnusedCapacityInKb",
  "inMaintenanceCapacityInKb",
  "semiProtectedCapacityInKb",
] as const;

const WORKLOAD_KEYS = [
  "primaryReadBwc",
  "primaryWriteBwc",
  "secondaryReadBwc",
  "secondaryWriteBwc",
  "primaryReadFromDevBwc",
  "secondaryReadFromDevBwc",
  "totalReadBwc",
  "totalWriteBwc",
  "fwdRebuildReadBwc",
  "fwdRebuildWriteBwc",
  "bckRebuildReadBwc",
  "bckRebuildWriteBwc",
  "rebalanceReadBwc",
  "rebalanceWriteBwc",
  "userDataReadBwc",
  "userDataWriteBwc",
] as const;

type Stats = Record<string, unknown>;

function emptyCapacity(): PoolCapacity {
  return {
    maxCapacityInKb: 0,
    capacityLimitInKb: 0,
    spareCapacityInKb: 0,
    capacityInUseInKb: 0,
    unusedCapacityInKb: 0,
    capacityAvailableForVolumeAllocationInKb: 0,
    thickCapacityInUseInKb: 0,
    thinCapacityInUseInKb: 0,
    thinCapacityAllocatedInKb: 0,
    snapCapacityInUseInKb: 0,
    snapCapacityInUseOccupiedInKb: 0,
    protectedCapacityInKb: 0,
    degradedHealthyCapacityInKb: 0,
    degradedFailedCapacityInKb: 0,
    failedCapacityInKb: 0,
    unreachableUnusedCapacityInKb: 0,
    inMaintenanceCapacityInKb: 0,
    semiProtectedCapacityInKb: 0,
    fwdRebuildRemainingKb: 0,
    fwdRebuildStuck: false,
    rateKbPerSec: 0,
  };
}

function sumCapacity(list: PoolCapacity[]): PoolCapacity {
  const out = emptyCapacity();
  for (const c of list) {
    for (const k of Object.keys(out) as (keyof PoolCapacity)[]) {
      if (typeof out[k] === "number") (out[k] as number) += c[k] as number;
    }
    out.fwdRebuildStuck ||= c.fwdRebuildStuck;
  }
  return out;
}

export class StatsEngine {
  constructor(
    private readonly sys: ScaleioSystem,
    private readonly apiMajor: () => number,
  ) {}

  /** Effective latency (ms) and IOPS of a volume, after injected slowness. */
  volumeIo(v: Volume): { latencyMs: number; readIops: number; writeIops: number } {
    let slow = this.sys.slowIoMs.get("*") ?? 0;
    for (const k of v.placement.keys()) {
      for (const s of pairOf(k)) slow = Math.max(slow, this.sys.slowIoMs.get(s) ?? 0);
    }
    const latencyMs = BASE_LATENCY_MS + slow;
    const cap = (QUEUE_DEPTH * 1000) / latencyMs;
    const w = v.workload;
    const total = w.readIops + w.writeIops;
    const scale = total > cap ? cap / total : 1;
    return { latencyMs, readIops: w.readIops * scale, writeIops: w.writeIops * scale };
  }

  /** Extra latency (ms) injected on one SDS's devices (its own, or the system-wide knob). */
  /** Devices by SDS, while one query answers for many objects (see selected). */
  private devicesBySds: Map<string, Device[]> | undefined;

  /** An SDS's devices (indexed once per query: per object, a scan of every device made a
   *  query of every SDS and device grow with the square of the cluster). */
  private devicesOfSds(sdsId: string): Device[] {
    if (!this.devicesBySds) return [...this.sys.devices.values()].filter((d) => d.sdsId === sdsId);
    return this.devicesBySds.get(sdsId) ?? [];
  }

  private slowMsOf(sdsId: string): number {
    return Math.max(this.sys.slowIoMs.get("*") ?? 0, this.sys.slowIoMs.get(sdsId) ?? 0);
  }

  /**
   * Back-end workload of a set of volumes; `share` is the part of each volume's I/O counted
   * here (1 for a pool; for an SDS or device, the part of the volume's copies it holds).
   */
  private workload(volumes: Volume[], share: (v: Volume) => number = () => 1): Stats {
    let pr = zeroBwc();
    let pw = zeroBwc();
    for (const v of volumes) {
      const io = this.volumeIo(v);
      const k = share(v);
      if (k <= 0) continue;
      pr = addBwc(pr, bwc(io.readIops * k, v.workload.ioSizeKb));
      pw = addBwc(pw, bwc(io.writeIops * k, v.workload.ioSizeKb));
    }
    const out: Stats = {};
    for (const k of WORKLOAD_KEYS) out[k] = zeroBwc();
    out.primaryReadBwc = pr;
    out.primaryReadFromDevBwc = pr;
    out.primaryWriteBwc = pw;
    out.secondaryWriteBwc = pw; // every write is mirrored
    out.totalReadBwc = pr;
    out.totalWriteBwc = addBwc(pw, pw);
    out.userDataReadBwc = pr;
    out.userDataWriteBwc = pw;
    return out;
  }

  /**
   * A device's average latency and I/O size while it serves I/O (0 when idle): the base
   * latency plus what was injected on its SDS, so one slow SDS shows on its own devices only.
   */
  private deviceLatency(volumes: Volume[], share: (v: Volume) => number, latencyMs: number): Stats {
    let reads = 0;
    let writes = 0;
    let readKb = 0;
    let writeKb = 0;
    for (const v of volumes) {
      const io = this.volumeIo(v);
      const k = share(v);
      reads += io.readIops * k;
      writes += io.writeIops * k;
      readKb += io.readIops * k * v.workload.ioSizeKb;
      writeKb += io.writeIops * k * v.workload.ioSizeKb;
    }
    const micros = Math.round(latencyMs * 1000);
    return {
      avgReadLatencyInMicrosec: reads > 0 ? micros : 0,
      avgWriteLatencyInMicrosec: writes > 0 ? micros : 0,
      avgReadSizeInBytes: reads > 0 ? Math.round((readKb / reads) * 1024) : 0,
      avgWriteSizeInBytes: writes > 0 ? Math.round((writeKb / writes) * 1024) : 0,
    };
  }

  private capacity(c: PoolCapacity, poolIds: Set<string>): Stats {
    const out: Stats = {};
    for (const k of CAPACITY_KEYS) out[k] = c[k];
    out.thinCapacityAllocatedInKm = c.thinCapacityAllocatedInKb; // 2.0 spelling, typo included
    if (this.apiMajor() >= 3) out.thinCapacityAllocatedInKb = c.thinCapacityAllocatedInKb;
    const activeFwd = Math.min(c.fwdRebuildRemainingKb, c.rateKbPerSec);
    out.fwdRebuildCapacityInKb = c.fwdRebuildRemainingKb;
    out.activeFwdRebuildCapacityInKb = c.fwdRebuildStuck ? 0 : activeFwd;
    out.pendingFwdRebuildCapacityInKb =
      c.fwdRebuildRemainingKb - (out.activeFwdRebuildCapacityInKb as number);
    const bck = this.sys.jobTotals(poolIds, "bckRebuild");
    out.bckRebuildCapacityInKb = bck.total;
    out.activeBckRebuildCapacityInKb = bck.active;
    out.pendingBckRebuildCapacityInKb = bck.pending;
    const reb = this.sys.jobTotals(poolIds, "rebalance");
    out.rebalanceCapacityInKb = reb.total;
    out.activeRebalanceCapacityInKb = reb.active;
    out.pendingRebalanceCapacityInKb = reb.pending;
    const mov = this.sys.jobTotals(poolIds, "moving");
    out.movingCapacityInKb = mov.total;
    out.activeMovingCapacityInKb = mov.active;
    out.pendingMovingCapacityInKb = mov.pending;
    const jobs = (n: number) => (n > 0 ? 1 : 0);
    out.activeMovingInFwdRebuildJobs = jobs(out.activeFwdRebuildCapacityInKb as number);
    out.pendingMovingInFwdRebuildJobs = jobs(out.pendingFwdRebuildCapacityInKb as number);
    out.activeMovingOutFwdRebuildJobs = jobs(out.activeFwdRebuildCapacityInKb as number);
    out.pendingMovingOutFwdRebuildJobs = jobs(out.pendingFwdRebuildCapacityInKb as number);
    out.activeMovingInBckRebuildJobs = jobs(bck.active);
    out.pendingMovingInBckRebuildJobs = jobs(bck.pending);
    out.activeMovingOutBckRebuildJobs = jobs(bck.active);
    out.pendingMovingOutBckRebuildJobs = jobs(bck.pending);
    out.activeMovingInRebalanceJobs = jobs(reb.active + mov.active);
    out.pendingMovingInRebalanceJobs = jobs(reb.pending + mov.pending);
    out.activeMovingRebalanceJobs = jobs(reb.active + mov.active);
    out.pendingMovingRebalanceJobs = jobs(reb.pending + mov.pending);
    // Volume-address twins: provisioned address space rather than physical use.
    let vac = 0;
    for (const v of this.sys.listVolumes()) if (poolIds.has(v.storagePoolId)) vac += v.sizeKb;
    const healthyShare =
      c.capacityInUseInKb > 0 ? c.protectedCapacityInKb / c.capacityInUseInKb : 1;
    out.inUseVacInKb = vac;
    out.primaryVacInKb = vac;
    out.secondaryVacInKb = vac;
    out.protectedVacInKb = Math.round(vac * healthyShare);
    out.degradedHealthyVacInKb =
      c.capacityInUseInKb > 0
        ? Math.round((vac * c.degradedHealthyCapacityInKb * 2) / c.capacityInUseInKb)
        : 0;
    out.degradedFailedVacInKb = out.degradedHealthyVacInKb;
    out.failedVacInKb =
      c.capacityInUseInKb > 0 ? Math.round((vac * c.failedCapacityInKb) / c.capacityInUseInKb) : 0;
    out.atRestCapacityInKb = c.capacityInUseInKb;
    return out;
  }

  private volumeCounts(volumes: Volume[]): Stats {
    return {
      numOfVolumes: volumes.length,
      numOfVtrees: new Set(volumes.map((v) => v.vtreeId)).size,
      numOfSnapshots: volumes.filter((v) => v.volumeType === "Snapshot").length,
      numOfThinBaseVolumes: volumes.filter((v) => v.volumeType === "ThinProvisioned").length,
      numOfThickBaseVolumes: volumes.filter((v) => v.volumeType === "ThickProvisioned").length,
      numOfUnmappedVolumes: volumes.filter((v) => v.mappings.length === 0).length,
      numOfMappedToAllVolumes: 0,
      numOfVolumesInDeletion: 0,
    };
  }

  of(type: StatsType, id: string | null): Stats {
    const sys = this.sys;
    const vols = sys.listVolumes();
    switch (type) {
      case "System": {
        const pools = [...sys.pools.keys()];
        const c = sumCapacity(pools.map((p) => sys.poolCapacity(p)));
        return {
          ...this.capacity(c, new Set(pools)),
          ...this.workload(vols),
          ...this.volumeCounts(vols),
          numOfProtectionDomains: sys.pds.size,
          numOfStoragePools: sys.pools.size,
          numOfFaultSets: sys.faultSets.size,
          numOfSds: sys.sdss.size,
          numOfSdc: sys.sdcs.size,
          numOfDevices: sys.devices.size,
          numOfScsiInitiators: 0,
          rmcacheSizeInKb: sys.sdss.size * 131072,
        };
      }
      case "ProtectionDomain": {
        sys.pd(id!);
        const pools = [...sys.pools.values()]
          .filter((p) => p.protectionDomainId === id)
          .map((p) => p.id);
        const set = new Set(pools);
        const pvols = vols.filter((v) => set.has(v.storagePoolId));
        const c = sumCapacity(pools.map((p) => sys.poolCapacity(p)));
        const sdss = [...sys.sdss.values()].filter((s) => s.protectionDomainId === id);
        return {
          ...this.capacity(c, set),
          ...this.workload(pvols),
          ...this.volumeCounts(pvols),
          numOfStoragePools: pools.length,
          numOfFaultSets: [...sys.faultSets.values()].filter((f) => f.protectionDomainId === id)
            .length,
          numOfSds: sdss.length,
          numOfDevices: [...sys.devices.values()].filter((d) => set.has(d.storagePoolId)).length,
          rmcacheSizeInKb: sdss.length * 131072,
        };
      }
      case "StoragePool": {
        sys.pool(id!);
        const pvols = vols.filter((v) => v.storagePoolId === id);
        const devs = sys.devicesOfPool(id!);
        return {
          ...this.capacity(sys.poolCapacity(id!), new Set([id!])),
          ...this.workload(pvols),
          ...this.volumeCounts(pvols),
          numOfDevices: devs.length,
          numOfMappedToAllVolumes: 0,
        };
      }
      case "Sds":
      case "Device": {
        const dev = type === "Device" ? sys.device(id!) : undefined;
        const sds = sys.sds(dev ? dev.sdsId : id!);
        const ofSds = this.devicesOfSds(sds.id);
        const devs = dev ? ofSds.filter((d) => d === dev) : ofSds;
        const max = devs.reduce((s, d) => s + d.sizeKb, 0);
        const sdsDevKb = ofSds.reduce((s, d) => s + d.sizeKb, 0);
        let raw = 0;
        const mine: Volume[] = [];
        for (const v of sys.volumes.values()) {
          const x = onSds(v.placement, sds.id);
          raw += x;
          if (x > 0 && !v.hidden) mine.push(v);
        }
        const devShare = dev ? dev.sizeKb / Math.max(1, sdsDevKb) : 1;
        if (dev) raw = Math.round(raw * devShare);
        const up = sys.sdsConnected(sds);
        const c = emptyCapacity();
        c.maxCapacityInKb = max;
        c.capacityLimitInKb = devs.reduce((s, d) => s + d.capacityLimitKb, 0);
        c.capacityInUseInKb = raw;
        c.unusedCapacityInKb = up ? Math.max(0, max - raw) : 0;
        c.unreachableUnusedCapacityInKb = up ? 0 : Math.max(0, max - raw);
        if (up && !sds.maintenance) c.protectedCapacityInKb = raw;
        else if (sds.maintenance) c.inMaintenanceCapacityInKb = raw;
        else c.degradedFailedCapacityInKb = raw;
        const poolIds = new Set(devs.map((d) => d.storagePoolId));
        const cap = this.capacity(c, poolIds);
        // Data jobs are pool-wide; per-SDS counters only show what concerns this SDS.
        if (up)
          for (const k of Object.keys(cap)) if (/Rebuild|Moving|Rebalance/.test(k)) cap[k] = 0;
        // I/O reaches this SDS (or device) for the part of each volume's copies it holds;
        // an SDS that is down or in maintenance serves none.
        const serving = sys.sdsServing(sds) && !(dev?.failed ?? false);
        const share = (v: Volume) => {
          const placed = [...v.placement.values()].reduce((a, b) => a + b, 0);
          return serving && placed > 0 ? (onSds(v.placement, sds.id) / (2 * placed)) * devShare : 0;
        };
        const work = this.workload(mine, share);
        const extra: Stats =
          type === "Device"
            ? this.deviceLatency(mine, share, BASE_LATENCY_MS + this.slowMsOf(sds.id))
            : { numOfDevices: devs.length, rmcacheSizeInKb: 131072 };
        return { ...cap, ...work, ...extra };
      }
      case "Volume": {
        const v = sys.volume(id!);
        const io = this.volumeIo(v);
        const ops = (iops: number) => Math.round(iops * WINDOW_S);
        return {
          userDataReadBwc: bwc(io.readIops, v.workload.ioSizeKb),
          userDataWriteBwc: bwc(io.writeIops, v.workload.ioSizeKb),
          userDataSdcReadLatency:
            io.readIops > 0
              ? {
                  numOccured: ops(io.readIops),
                  numSeconds: WINDOW_S,
                  totalWeightInKb: Math.round(ops(io.readIops) * io.latencyMs * 1000),
                }
              : zeroBwc(),
          userDataSdcWriteLatency:
            io.writeIops > 0
              ? {
                  numOccured: ops(io.writeIops),
                  numSeconds: WINDOW_S,
                  totalWeightInKb: Math.round(ops(io.writeIops) * io.latencyMs * 1000),
                }
              : zeroBwc(),
          numOfMappedSdcs: v.mappings.length,
          mappedSdcIds: v.mappings.map((m) => m.sdcId),
          numOfChildVolumes: vols.filter((x) => x.ancestorVolumeId === v.id).length,
          numOfDescendantVolumes: vols.filter((x) => x.ancestorVolumeId === v.id).length,
        };
      }
      case "Sdc": {
        const sdc = sys.sdc(id!);
        const mapped = sys.volumesOfSdc(sdc.id);
        const w = this.workload(mapped);
        return {
          userDataReadBwc: w.userDataReadBwc,
          userDataWriteBwc: w.userDataWriteBwc,
          numOfMappedVolumes: mapped.length,
          volumeIds: mapped.map((v) => v.id),
        };
      }
    }
  }

  /** Property names known for a type (unknown ones make querySelectedStatistics fail). */
  knownProperties(type: StatsType): Set<string> {
    const names = new Set<string>();
    const zero = this.capacity(emptyCapacity(), new Set());
    const common = [...Object.keys(zero), ...WORKLOAD_KEYS, ...Object.keys(this.volumeCounts([]))];
    const byType: Record<StatsType, string[]> = {
      System: [
        ...common,
        "numOfProtectionDomains",
        "numOfStoragePools",
        "numOfFaultSets",
        "numOfSds",
        "numOfSdc",
        "numOfDevices",
        "numOfScsiInitiators",
        "rmcacheSizeInKb",
      ],
      ProtectionDomain: [
        ...common,
        "numOfStoragePools",
        "numOfFaultSets",
        "numOfSds",
        "numOfDevices",
        "rmcacheSizeInKb",
      ],
      StoragePool: [...common, "numOfDevices"],
      Sds: [...Object.keys(zero), ...WORKLOAD_KEYS, "numOfDevices", "rmcacheSizeInKb"],
      Device: [
        ...Object.keys(zero),
        ...WORKLOAD_KEYS,
        "avgReadLatencyInMicrosec",
        "avgWriteLatencyInMicrosec",
        "avgReadSizeInBytes",
        "avgWriteSizeInBytes",
      ],
      Volume: [
        "userDataReadBwc",
        "userDataWriteBwc",
        "userDataSdcReadLatency",
        "userDataSdcWriteLatency",
        "numOfMappedSdcs",
        "mappedSdcIds",
        "numOfChildVolumes",
        "numOfDescendantVolumes",
      ],
      Sdc: ["userDataReadBwc", "userDataWriteBwc", "numOfMappedVolumes", "volumeIds"],
    };
    for (const n of byType[type]) names.add(n);
    return names;
  }

  ids(type: StatsType): string[] {
    const s = this.sys;
    switch (type) {
      case "System":
        return [s.id];
      case "ProtectionDomain":
        return [...s.pds.keys()];
      case "StoragePool":
        return [...s.pools.keys()];
      case "Sds":
        return [...s.sdss.keys()];
      case "Device":
        return [...s.devices.keys()];
      case "Volume":
        return s.listVolumes().map((v) => v.id);
      case "Sdc":
        return [...s.sdcs.keys()];
    }
  }

  selected(type: StatsType, ids: string[] | "all", properties: unknown): Record<string, Stats> {
    if (
      !Array.isArray(properties) ||
      properties.length === 0 ||
      !properties.every((p) => typeof p === "string")
    ) {
      throw badRequest("properties must be a non-empty list of statistics names", 0);
    }
    const known = this.knownProperties(type);
    const unknown = properties.filter((p) => !known.has(p));
    if (unknown.length) throw badRequest(`Unknown statistics property: ${unknown.join(", ")}`, 0);
    const out: Record<string, Stats> = {};
    this.devicesBySds = new Map();
    for (const d of this.sys.devices.values()) {
      const list = this.devicesBySds.get(d.sdsId);
      if (list) list.push(d);
      else this.devicesBySds.set(d.sdsId, [d]);
    }
    try {
      for (const id of ids === "all" ? this.ids(type) : ids) {
        const full = this.of(type, id);
        const pick: Stats = {};
        for (const p of properties as string[]) pick[p] = full[p] ?? 0;
        out[id] = pick;
      }
    } finally {
      this.devicesBySds = undefined;
    }
    return out;
  }
}
