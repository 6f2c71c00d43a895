// scli's query output layouts (reference 3.3 and real 2.0 output): query_cluster,
// query_all, query_all_sds, query_sds, query_all_volumes, query_volume, query_all_sdc,
// query_storage_pool and the machine-friendly query_properties.
import { MDM_ACTOR_PORT } from "../model/mdm.js";
import { StatsEngine, type Bwc, type StatsType } from "../model/stats.js";
import type { ScaleioSystem } from "../model/system.js";
import type { MdmMember, Sdc, Sds, StoragePool, Volume } from "../model/types.js";
import { KB_PER_GB, humanSize } from "../model/units.js";
import { DEFAULT_VERSION, dottedVersion, rVersion } from "../model/versions.js";
import { Args, need } from "./args.js";
import { SimError } from "../model/errors.js";

function mdmFailed(reason: string): SimError {
  return new SimError(reason);
}

export class ScliReports {
  private readonly stats: StatsEngine;

  constructor(private readonly sys: ScaleioSystem) {
    this.stats = new StatsEngine(sys, () => 2);
  }

  private mdmVersion(m: MdmMember): string {
    const v = this.sys.nodes.get(m.ips[0]!)?.packages.get("mdm")?.version ?? DEFAULT_VERSION;
    return dottedVersion(v);
  }

  queryCluster(): string {
    const c = this.sys.cluster;
    const voters = c.voters();
    const managers = c.managers();
    const alive = voters.filter((m) => c.isAlive(m)).length;
    const aliveMgr = managers.filter((m) => c.isAlive(m)).length;
    const lines = [
      "Cluster:",
      `    Mode: ${c.mode}, State: ${c.state()}, Active: ${alive}/${voters.length}, Replicas: ${aliveMgr}/${managers.length}`,
    ];
    const status = (m: MdmMember) => (c.isAlive(m) ? "Normal" : "Disconnected");
    const master = c.master();
    if (master) {
      lines.push("Master MDM:", `    Name: ${master.name}, ID: 0x${master.id}`);
      lines.push(
        `        IPs: ${master.ips.join(", ")}, Management IPs: ${master.managementIps.join(", ")}, Port: ${master.port}`,
      );
      lines.push(`        Version: ${this.mdmVersion(master)}`);
    }
    const slaves = c.members.filter((m) => m.role === "slave");
    if (slaves.length) {
      lines.push("Slave MDMs:");
      for (const m of slaves) {
        lines.push(`    Name: ${m.name}, ID: 0x${m.id}`);
        lines.push(
          `        IPs: ${m.ips.join(", ")}, Management IPs: ${m.managementIps.join(", ")}, Port: ${m.port}`,
        );
        lines.push(`        Status: ${status(m)}, Version: ${this.mdmVersion(m)}`);
      }
    }
    const tbs = c.members.filter((m) => m.role === "tb");
    if (tbs.length) {
      lines.push("Tie-Breakers:");
      for (const m of tbs) {
        lines.push(`    Name: ${m.name}, ID: 0x${m.id}`);
        lines.push(`        IPs: ${m.ips.join(", ")}, Port: ${m.port}`);
        lines.push(`        Status: ${status(m)}, Version: ${this.mdmVersion(m)}`);
      }
    }
    const standbys = c.members.filter((m) => m.role === "standby");
    if (standbys.length) {
      lines.push("Standby MDMs:");
      for (const m of standbys) {
        lines.push(
          `    Name: ${m.name}, ID: 0x${m.id}, ${m.isManager ? "Manager" : "Tie Breaker"}`,
        );
        lines.push(
          m.isManager
            ? `        IPs: ${m.ips.join(", ")}, Management IPs: ${m.managementIps.join(", ")}, Port: ${m.port}`
            : `        IPs: ${m.ips.join(", ")}, Port: ${m.port}`,
        );
      }
    }
    return lines.join("\n");
  }

  private sdsLine(s: Sds): string {
    const sys = this.sys;
    const ver =
      s.ipList.map((i) => sys.nodes.get(i.ip)?.packages.get("sds")?.version).find(Boolean) ??
      DEFAULT_VERSION;
    const state = sys.sdsConnected(s) ? "Connected" : "Disconnected";
    const joined = s.removing ? "Decoupled" : "Joined";
    return `SDS ID: ${s.id} Name: ${s.name} State: ${state}, ${joined} IP: ${s.ipList.map((i) => i.ip).join(",")} Port: ${s.port} Version: ${dottedVersion(ver)}`;
  }

  queryAllSds(): string {
    const sys = this.sys;
    const lines = [`Query-all-SDS returned ${sys.sdss.size} SDS nodes.`];
    for (const pd of sys.pds.values()) {
      const list = [...sys.sdss.values()].filter((s) => s.protectionDomainId === pd.id);
      if (!list.length) continue;
      lines.push("", `Protection Domain ${pd.id} Name: ${pd.name}`);
      for (const s of list) lines.push(this.sdsLine(s));
    }
    return lines.join("\n");
  }

  querySds(s: Sds): string {
    const sys = this.sys;
    const pd = sys.pd(s.protectionDomainId);
    const ver =
      s.ipList.map((i) => sys.nodes.get(i.ip)?.packages.get("sds")?.version).find(Boolean) ??
      DEFAULT_VERSION;
    const devs = [...sys.devices.values()].filter((d) => d.sdsId === s.id);
    const role = (r: string) =>
      r === "all" ? "All (SDS and SDC)" : r === "sdsOnly" ? "SDS Only" : "SDC Only";
    const lines = [
      `SDS ${s.id} Name: ${s.name} Version: ${dottedVersion(ver)}`,
      `Protection Domain: ${pd.id}, Name: ${pd.name}`,
      ...(s.faultSetId
        ? [`Fault Set: ${s.faultSetId}, Name: ${sys.faultSet(s.faultSetId).name}`]
        : []),
      "DRL mode: Volatile",
      "Authentication error: None",
      `IP information total ${s.ipList.length} IPs:`,
      ...s.ipList.map((i, n) => `     ${n + 1}: ${i.ip.padEnd(16)} Role: ${role(i.role)}`),
      `    Port: ${s.port}`,
      "RAM Read Cache information:",
      "    128.0 MB (131072 KB) total size",
      "    Cache is enabled",
      "    RAM Read Cache memory allocation state is SUCCESSFUL",
      "",
      `Device information total ${devs.length} devices:`,
    ];
    devs.forEach((d, i) => {
      lines.push(
        `     ${i + 1}: Name: ${d.name}  Path: ${d.path}  Original-path: ${d.path}  ID: ${d.id}`,
      );
      const state = d.removing ? "Remove Pending" : d.failed ? "Device Failed" : "Normal";
      lines.push(
        `        Storage Pool: ${sys.pool(d.storagePoolId).name}, Capacity: ${Math.floor(d.sizeKb / KB_PER_GB)} GB Error-fixes: 0 scanned 0 MB, Compare errors: 0 State: ${state}`,
      );
    });
    const errors = devs.filter((d) => d.failed).length;
    const st = this.sysStatsFor("Sds", s.id);
    lines.push(
      "",
      `Membership-state: ${s.removing ? "Decoupled" : "Joined"}; Connection-state: ${sys.sdsConnected(s) ? "Connected" : "Disconnected"}; SDS-state: ${s.removing ? "Removal in progress" : "Normal"}; ${errors} devices with error`,
      ...(s.maintenance ? ["Maintenance-state: In maintenance"] : []),
      `    ${humanSize(st.maxCapacityInKb as number)} total capacity`,
      `    ${humanSize(st.unusedCapacityInKb as number)} unused capacity`,
      "    0 Bytes snapshots capacity",
      `    ${humanSize(st.capacityInUseInKb as number)} in-use capacity`,
      `    ${humanSize(st.unreachableUnusedCapacityInKb as number)} unreachable-unused capacity`,
      "",
      ...this.workloadLines(st),
    );
    return lines.join("\n");
  }

  queryAllVolumes(): string {
    const sys = this.sys;
    const vols = sys.listVolumes();
    const lines = [`Query-all-volumes returned ${vols.length} volumes`];
    for (const pd of sys.pds.values()) {
      lines.push(`Protection Domain ${pd.id} Name: ${pd.name}`);
      for (const sp of [...sys.pools.values()].filter((p) => p.protectionDomainId === pd.id)) {
        lines.push(`Storage Pool ${sp.id} Name: ${sp.name}`);
        const mine = vols.filter((v) => v.storagePoolId === sp.id);
        if (!mine.length) lines.push(" <No volumes defined>");
        for (const v of mine) {
          const mapped = v.mappings.length ? `Mapped to ${v.mappings.length} SDC` : "Unmapped";
          const kind =
            v.volumeType === "ThinProvisioned"
              ? "Thin-provisioned"
              : v.volumeType === "Snapshot"
                ? "Snapshot"
                : "Thick-provisioned";
          lines.push(
            ` Volume ID: ${v.id} Name: ${v.name} Size: ${humanSize(v.sizeKb)} (${kind}) ${mapped}`,
          );
        }
      }
    }
    return lines.join("\n");
  }

  queryVolume(v: Volume): string {
    const sys = this.sys;
    const sp = sys.pool(v.storagePoolId);
    const pd = sys.pd(sp.protectionDomainId);
    const lines = [
      ">> Volume ID: " + v.id + " Name: " + v.name,
      `\tProvisioning: ${v.volumeType === "ThinProvisioned" ? "Thin" : "Thick"}`,
      `\tSize: ${humanSize(v.sizeKb)}`,
      `\tStorage Pool ${sp.id} Name: ${sp.name}`,
      `\tProtection Domain ${pd.id} Name: ${pd.name}`,
      `\tVTree ID: ${v.vtreeId}`,
    ];
    if (v.mappings.length) {
      lines.push(`\tMapped SDCs:`);
      for (const m of v.mappings) {
        const s = sys.sdcs.get(m.sdcId);
        lines.push(`\t\tSDC ID: ${m.sdcId} IP: ${s?.ip ?? "N/A"} Name: ${s?.name ?? "N/A"}`);
      }
    } else lines.push("\tVolume is not mapped to any SDC");
    return lines.join("\n");
  }

  sdcLine(s: Sdc): string {
    const state = this.sys.sdcConnected(s) ? "Connected" : "Disconnected";
    const v = dottedVersion(
      this.sys.nodes.get(s.ip)?.packages.get("sdc")?.version ?? DEFAULT_VERSION,
    );
    const st = this.stats.of("Sdc", s.id);
    const bw = (b: Bwc) => {
      const iops = b.numSeconds ? Math.round(b.numOccured / b.numSeconds) : 0;
      return `${iops} IOPS ${humanSize(b.numSeconds ? b.totalWeightInKb / b.numSeconds : 0)} per-second`;
    };
    return [
      `SDC ID: ${s.id} Name: ${s.name ?? "N/A"} IP: ${s.ip} State: ${state} GUID: ${s.guid} OS Type: LINUX Approved: ${s.approved ? "yes" : "no"} Loaded Version: ${v} Installed Version: ${v}`,
      `    Read bandwidth:  ${bw(st.userDataReadBwc as Bwc)}`,
      `    Write bandwidth:  ${bw(st.userDataWriteBwc as Bwc)}`,
    ].join("\n");
  }

  queryAllSdc(): string {
    const list = [...this.sys.sdcs.values()];
    return [
      "MDM restricted SDC mode: Disabled",
      `Query all SDC returned ${list.length} SDC nodes.`,
      ...list.map((s) => this.sdcLine(s)),
    ].join("\n");
  }

  poolBlock(sp: StoragePool): string {
    const sys = this.sys;
    const c = sys.poolCapacity(sp.id);
    const vols = sys.listVolumes().filter((v) => v.storagePoolId === sp.id);
    return [
      `Storage Pool ${sp.name} Id: ${sp.id} has ${vols.length} volumes and ${humanSize(c.capacityAvailableForVolumeAllocationInKb)} available for volume allocation`,
      "    The number of parallel rebuild/rebalance jobs: 2",
      `    Rebuild is ${sp.rebuildEnabled ? "enabled" : "disabled"} and using Limit-Concurrent-IO policy with the following parameters:`,
      "    Number of concurrent IOs per device: 1",
      `    Rebalance is ${sp.rebalanceEnabled ? "enabled" : "disabled"} and using Favor-Application-IO policy with the following parameters:`,
      "    Number of concurrent IOs per device: 1, Bandwidth limit per device: 10.0 MB (10240 KB) per second",
      "    Background device scanner: Disabled",
      `    Zero padding is ${sp.zeroPaddingEnabled ? "enabled" : "disabled"}`,
      `    Spare policy: ${sp.sparePercentage}% out of total`,
      `    Checksum mode: ${sp.checksumEnabled ? "enabled" : "disabled"}`,
      sp.useRmcache ? "    Uses RAM Read Cache" : "    Doesn't use RAM Read Cache",
      "    RAM Read Cache write handling mode is 'cached'",
      sp.useRfcache ? "    Uses Flash Read Cache" : "    Doesn't use Flash Read Cache",
      `    Capacity alert thresholds: High: ${sp.capacityAlertHighThreshold}, Critical: ${sp.capacityAlertCriticalThreshold}`,
    ].join("\n");
  }

  queryAll(): string {
    const sys = this.sys;
    const master = sys.cluster.master();
    const ver = master
      ? (sys.nodes.get(master.ips[0]!)?.packages.get("mdm")?.version ?? DEFAULT_VERSION)
      : DEFAULT_VERSION;
    const sdss = [...sys.sdss.values()];
    const lines = [
      "System Info:",
      `    Product:  EMC ScaleIO Version: ${rVersion(ver)}`,
      `    ID:      ${sys.id}`,
      ...(sys.name ? [`    Name: ${sys.name}`] : []),
      "    Manager ID:      0000000000000000",
      "",
      "License info:",
      `    Installation ID: ${sys.installId}`,
      "    SWID: ",
      "    Maximum capacity: Unlimited",
      "    Usage time left: Unlimited *** Non-Production License ***",
      "    Enterprise features: Enabled",
      "",
      "System settings:",
      `    Capacity alert thresholds: High: ${sys.capacityAlertHighThresholdPercent}, Critical: ${sys.capacityAlertCriticalThresholdPercent}`,
      "    Thick volume reservation percent: 0",
      "    MDM restricted SDC mode: disabled",
      "",
      `Query all returned ${sys.pds.size} Protection Domain${sys.pds.size === 1 ? "" : "s"}:`,
    ];
    for (const pd of sys.pds.values()) {
      const pools = [...sys.pools.values()].filter((p) => p.protectionDomainId === pd.id);
      const vols = sys.listVolumes().filter((v) => pools.some((p) => p.id === v.storagePoolId));
      const avail = pools.reduce(
        (s, p) => s + sys.poolCapacity(p.id).capacityAvailableForVolumeAllocationInKb,
        0,
      );
      const fsCount = [...sys.faultSets.values()].filter(
        (f) => f.protectionDomainId === pd.id,
      ).length;
      const sdsCount = sdss.filter((s) => s.protectionDomainId === pd.id).length;
      lines.push(
        `Protection Domain ${pd.name} Id: ${pd.id} has ${pools.length} storage pools, ${fsCount} Fault Sets, ${sdsCount} SDS nodes, ${vols.length} volumes and ${humanSize(avail)} available for volume allocation`,
        "Operational state is Active",
        "",
      );
      for (const sp of pools) lines.push(this.poolBlock(sp), "");
    }
    const connected = sdss.filter((s) => sys.sdsConnected(s)).length;
    const st = this.sysStatsFor("System", sys.id);
    const vols = sys.listVolumes();
    const thin = vols.filter((v) => v.volumeType === "ThinProvisioned");
    const thick = vols.filter((v) => v.volumeType === "ThickProvisioned");
    lines.push(
      "",
      "SDS Summary:",
      `    Total ${sdss.length} SDS Nodes`,
      `    ${sdss.filter((s) => !s.removing).length} SDS nodes have membership state 'Joined'`,
      `    ${connected} SDS nodes have connection state 'Connected'`,
      ...this.capacitySummary(st),
      "",
      ...this.workloadLines(st),
      "",
      "Volumes summary:",
      ...(thin.length
        ? [
            `    ${thin.length} thin-provisioned volumes. Total used size: ${humanSize(thin.reduce((s, v) => s + v.writtenKb, 0))}`,
          ]
        : []),
      ...(thick.length
        ? [
            `    ${thick.length} thick-provisioned volumes. Total size: ${humanSize(thick.reduce((s, v) => s + v.sizeKb, 0))}`,
          ]
        : []),
    );
    return lines.join("\n");
  }

  private sysStatsFor(type: StatsType, id: string): Record<string, unknown> {
    return this.stats.of(type, id);
  }

  /** Workload lines as query_all and query_sds print them. */
  private workloadLines(st: Record<string, unknown>): string[] {
    const rows: [string, string][] = [
      ["Primary-reads", "primaryReadBwc"],
      ["Primary-writes", "primaryWriteBwc"],
      ["Secondary-reads", "secondaryReadBwc"],
      ["Secondary-writes", "secondaryWriteBwc"],
      ["Backward-rebuild-reads", "bckRebuildReadBwc"],
      ["Backward-rebuild-writes", "bckRebuildWriteBwc"],
      ["Forward-rebuild-reads", "fwdRebuildReadBwc"],
      ["Forward-rebuild-writes", "fwdRebuildWriteBwc"],
      ["Rebalance-reads", "rebalanceReadBwc"],
      ["Rebalance-writes", "rebalanceWriteBwc"],
    ];
    return rows.map(([label, key]) => {
      const b = (st[key] ?? { numOccured: 0, numSeconds: 0, totalWeightInKb: 0 }) as Bwc;
      const iops = b.numSeconds ? Math.round(b.numOccured / b.numSeconds) : 0;
      const kbps = b.numSeconds ? b.totalWeightInKb / b.numSeconds : 0;
      return `    ${label.padEnd(41)}${iops} IOPS ${humanSize(kbps)} per-second`;
    });
  }

  /** The per-counter lines of query_all's SDS summary (system-wide statistics). */
  private capacitySummary(st: Record<string, unknown>): string[] {
    const n = (k: string) => humanSize(Number(st[k] ?? 0));
    return [
      `    ${n("maxCapacityInKb")} total capacity`,
      `    ${n("unusedCapacityInKb")} unused capacity`,
      `    ${n("snapCapacityInUseInKb")} snapshots capacity`,
      `    ${n("capacityInUseInKb")} in-use capacity`,
      `    ${n("thinCapacityInUseInKb")} thin capacity`,
      `    ${n("protectedCapacityInKb")} protected capacity`,
      `    ${n("failedCapacityInKb")} failed capacity`,
      `    ${n("degradedFailedCapacityInKb")} degraded-failed capacity`,
      `    ${n("degradedHealthyCapacityInKb")} degraded-healthy capacity`,
      `    ${n("unreachableUnusedCapacityInKb")} unreachable-unused capacity`,
      `    ${n("activeRebalanceCapacityInKb")} active rebalance capacity`,
      `    ${n("pendingRebalanceCapacityInKb")} pending rebalance capacity`,
      `    ${n("activeFwdRebuildCapacityInKb")} active forward-rebuild capacity`,
      `    ${n("pendingFwdRebuildCapacityInKb")} pending forward-rebuild capacity`,
      `    ${n("activeBckRebuildCapacityInKb")} active backward-rebuild capacity`,
      `    ${n("pendingBckRebuildCapacityInKb")} pending backward-rebuild capacity`,
      `    ${n("rebalanceCapacityInKb")} rebalance capacity`,
      `    ${n("fwdRebuildCapacityInKb")} forward-rebuild capacity`,
      `    ${n("bckRebuildCapacityInKb")} backward-rebuild capacity`,
      `    ${n("activeMovingCapacityInKb")} active moving capacity`,
      `    ${n("pendingMovingCapacityInKb")} pending moving capacity`,
      `    ${n("movingCapacityInKb")} total moving capacity`,
      `    ${n("spareCapacityInKb")} spare capacity`,
      `    ${n("atRestCapacityInKb")} at-rest capacity`,
      `    ${n("semiProtectedCapacityInKb")} semi-protected capacity`,
      `    ${n("inMaintenanceCapacityInKb")} in-maintenance capacity`,
      "    0 Bytes decreased capacity",
    ];
  }

  queryProperties(a: Args): string {
    const sys = this.sys;
    const type = need(a, "object_type").toUpperCase();
    const wanted = a.list("properties").map((p) => p.toUpperCase());
    const rows: [string, string, Record<string, string>][] = [];
    const yn = (b: boolean) => (b ? "Yes" : "No");
    switch (type) {
      case "SDS":
        for (const s of sys.sdss.values()) {
          rows.push([
            "SDS",
            s.id,
            {
              ID: s.id,
              NAME: s.name,
              IPS: s.ipList.map((i) => i.ip).join(","),
              PORT: String(s.port),
              PROTECTION_DOMAIN_ID: s.protectionDomainId,
              FAULT_SET_ID: s.faultSetId ?? "<Not Set>",
              STATE: sys.sdsConnected(s) ? "Connected" : "Disconnected",
              MAINTENANCE_STATE: s.maintenance ? "In Maintenance" : "No Maintenance",
            },
          ]);
        }
        break;
      case "VOLUME":
        for (const v of sys.listVolumes()) {
          rows.push([
            "VOLUME",
            v.id,
            {
              ID: v.id,
              NAME: v.name,
              SIZE: humanSize(v.sizeKb),
              STORAGE_POOL_ID: v.storagePoolId,
              TYPE:
                v.volumeType === "ThinProvisioned"
                  ? "THIN_PROVISIONED"
                  : v.volumeType === "Snapshot"
                    ? "SNAPSHOT"
                    : "THICK_PROVISIONED",
              MAPPED_SDCS: v.mappings.length
                ? v.mappings.map((m) => m.sdcId).join(",")
                : "<Not Set>",
            },
          ]);
        }
        break;
      case "STORAGE_POOL":
        for (const p of sys.pools.values()) {
          const c = sys.poolCapacity(p.id);
          rows.push([
            "STORAGE_POOL",
            p.id,
            {
              ID: p.id,
              NAME: p.name,
              PROTECTION_DOMAIN_ID: p.protectionDomainId,
              SPARE_PERCENT: `${p.sparePercentage}%`,
              ZERO_PADDING_ENABLED: yn(p.zeroPaddingEnabled),
              USE_RMCACHE: yn(p.useRmcache),
              MAX_CAPACITY: humanSize(c.maxCapacityInKb),
              IN_USE_CAPACITY: humanSize(c.capacityInUseInKb),
            },
          ]);
        }
        break;
      case "PROTECTION_DOMAIN":
        for (const p of sys.pds.values())
          rows.push(["PROTECTION_DOMAIN", p.id, { ID: p.id, NAME: p.name, STATE: "Active" }]);
        break;
      case "FAULT_SET":
        for (const f of sys.faultSets.values())
          rows.push([
            "FAULT_SET",
            f.id,
            { ID: f.id, NAME: f.name, PROTECTION_DOMAIN_ID: f.protectionDomainId },
          ]);
        break;
      case "DEVICE":
        for (const d of sys.devices.values()) {
          rows.push([
            "DEVICE",
            d.id,
            {
              ID: d.id,
              NAME: d.name,
              PATH: d.path,
              SDS_ID: d.sdsId,
              STORAGE_POOL_ID: d.storagePoolId,
              MAX_CAPACITY: humanSize(d.sizeKb),
              STATE: d.removing ? "Remove Pending" : "Normal",
            },
          ]);
        }
        break;
      case "SDC":
        for (const s of sys.sdcs.values()) {
          rows.push([
            "SDC",
            s.id,
            {
              ID: s.id,
              NAME: s.name ?? "<Not Set>",
              IP: s.ip,
              GUID: s.guid,
              STATE: sys.sdcConnected(s) ? "Connected" : "Disconnected",
              APPROVED: yn(s.approved),
            },
          ]);
        }
        break;
      case "MDM":
        for (const m of sys.cluster.members) {
          rows.push([
            "MDM",
            m.id,
            {
              ID: `0x${m.id}`,
              NAME: m.name,
              IPS: m.ips.join(","),
              MGMT_IPS: m.managementIps.join(",") || "<Not Set>",
              ROLE: m.isManager ? "MDM_ROLE_MANAGER" : "MDM_ROLE_TIE_BREAKER",
              IS_MASTER: yn(m.role === "master"),
              IS_STANDBY: yn(m.role === "standby"),
              STATUS: sys.cluster.isAlive(m) ? "MDM_STATUS_NORMAL" : "MDM_STATUS_DISCONNECTED",
              CLUSTER_PORT: String(MDM_ACTOR_PORT),
              VERSION: this.mdmVersion(m),
            },
          ]);
        }
        break;
      default:
        throw mdmFailed(`Unknown object type ${type}`);
    }
    const out: string[] = [];
    for (const [t, id, props] of rows) {
      out.push(`${t} ${id}:`);
      for (const [k, v] of Object.entries(props)) {
        if (wanted.length && !wanted.includes(k)) continue;
        out.push(`\t${k.padEnd(51)}${v}`);
      }
      out.push("");
    }
    return out.join("\n");
  }
}
