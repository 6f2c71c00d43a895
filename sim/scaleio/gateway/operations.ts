// What the gateway's create and action calls do to the system (reference 4.3/4.4), with
// client-friendly body parsing (numbers and booleans may arrive as strings).
import { ErrorCode, SimError, badRequest, notFound } from "../model/errors.js";
import type { ScaleioSystem } from "../model/system.js";
import type { ClusterMode } from "../model/types.js";
import { KB_PER_GB } from "../model/units.js";
import { clusterModeName } from "./views.js";
import { asBody, int, optBool, optInt, optStr, str, type Body } from "./body.js";

export interface OperationsOptions {
  /** The gateway's API major version: 3.x accepts the PowerFlex forms (volumeSizeInGb). */
  apiMajor?: number;
  /** A user is gone: its sessions end with it. */
  onUserRemoved?(name: string): void;
}

export class Operations {
  constructor(
    private readonly sys: ScaleioSystem,
    private readonly opts: OperationsOptions = {},
  ) {}

  create(type: string, b: Body): string {
    switch (type) {
      case "ProtectionDomain":
        return this.sys.addProtectionDomain(str(b, "name")).id;
      case "FaultSet":
        return this.sys.addFaultSet(str(b, "protectionDomainId"), str(b, "name")).id;
      case "StoragePool": {
        const o: Parameters<ScaleioSystem["addStoragePool"]>[2] = {};
        const spare = optInt(b, "sparePercentage");
        if (spare !== undefined) o.sparePercentage = spare;
        const flags = [
          "zeroPaddingEnabled",
          "rebuildEnabled",
          "rebalanceEnabled",
          "useRmcache",
          "checksumEnabled",
          "useRfcache",
        ] as const;
        for (const f of flags) {
          const v = optBool(b, f);
          if (v !== undefined) o[f] = v;
        }
        return this.sys.addStoragePool(str(b, "protectionDomainId"), str(b, "name"), o).id;
      }
      case "Sds": {
        const list = b.sdsIpList;
        if (!Array.isArray(list) || list.length === 0) throw badRequest("sdsIpList is required", 0);
        const ips = list.map((e) => {
          const entry = asBody(e);
          const inner = entry.SdsIp !== undefined ? asBody(entry.SdsIp) : entry;
          return { ip: str(inner, "ip"), role: optStr(inner, "role") ?? "all" };
        });
        const devices = Array.isArray(b.deviceInfoList)
          ? b.deviceInfoList.map((e) => {
              const d = asBody(e);
              return {
                path: str(d, "devicePath"),
                storagePoolId: str(d, "storagePoolId"),
                name: optStr(d, "deviceName"),
              };
            })
          : [];
        return this.sys.addSds({
          name: optStr(b, "name"),
          protectionDomainId: str(b, "protectionDomainId"),
          ips,
          faultSetId: optStr(b, "faultSetId") ?? null,
          port: optInt(b, "sdsPort"),
          devices,
        }).id;
      }
      case "Device": {
        const path = optStr(b, "deviceCurrentPathname") ?? optStr(b, "deviceCurrentPathName");
        if (!path) throw badRequest("deviceCurrentPathname is required", 0);
        const mode = optStr(b, "testMode");
        if (mode && !["testAndActivate", "testOnly", "noTest"].includes(mode))
          throw badRequest(`Invalid testMode ${mode}`);
        return this.sys.addDevice(
          str(b, "sdsId"),
          path,
          str(b, "storagePoolId"),
          optStr(b, "name"),
          optInt(b, "capacityLimitInKb"),
        ).id;
      }
      case "Volume": {
        const poolId = str(b, "storagePoolId");
        const pdId = optStr(b, "protectionDomainId");
        if (pdId && this.sys.pool(poolId).protectionDomainId !== pdId)
          throw badRequest("The Storage Pool is not in that Protection Domain");
        const t = optStr(b, "volumeType") ?? "ThickProvisioned";
        if (t !== "ThinProvisioned" && t !== "ThickProvisioned")
          throw badRequest(`Invalid volumeType ${t}`);
        return this.sys.addVolume({
          name: str(b, "name"),
          storagePoolId: poolId,
          sizeKb: this.volumeSizeKb(b),
          thin: t === "ThinProvisioned",
        }).id;
      }
      case "User": {
        const { user } = this.sys.addUser(str(b, "name"), optStr(b, "userRole") ?? "Monitor");
        return user.id;
      }
      default:
        throw badRequest(`Objects of type ${type} cannot be created`, 0);
    }
  }

  /**
   * 2.x takes `volumeSizeInKb`; PowerFlex 3.x clients send `volumeSizeInGb` alone (whole GB,
   * rounded up to 8 GB like KB sizes). With both, KB wins.
   */
  private volumeSizeKb(b: Body): number {
    const kb = optInt(b, "volumeSizeInKb");
    if (kb !== undefined) return kb;
    if ((this.opts.apiMajor ?? 2) < 3) return int(b, "volumeSizeInKb");
    const gb = optInt(b, "volumeSizeInGb");
    if (gb === undefined)
      throw badRequest("Missing volumeSizeInKb or volumeSizeInGb", ErrorCode.ILLEGAL_SYNTAX);
    if (gb <= 0) throw badRequest(`Invalid volumeSizeInGb: ${gb}`);
    return gb * KB_PER_GB;
  }

  /**
   * Limits per mapping, 0 meaning unlimited: one limit may be cleared alone, but a request
   * with neither limit, or with both at 0, is refused.
   */
  private setLimits(volumeId: string, b: Body): void {
    const iops = optInt(b, "iopsLimit");
    const bw = optInt(b, "bandwidthLimitInKbps");
    if (iops === undefined && bw === undefined)
      throw badRequest("iopsLimit or bandwidthLimitInKbps is required", ErrorCode.ILLEGAL_SYNTAX);
    if (iops === 0 && bw === 0) {
      throw badRequest(
        "iopsLimit and bandwidthLimitInKbps cannot both be 0: give at least one limit",
        ErrorCode.ILLEGAL_SYNTAX,
      );
    }
    this.sys.setMappedSdcLimits(volumeId, this.sdcFrom(b), iops, bw);
  }

  /**
   * An SDC goes once nothing is mapped to it. Later releases also refuse a connected SDC
   * ("Cannot remove an SDC which is currently connected to the MDM."); unverified for 2.x,
   * so not emulated (see the README).
   */
  private removeSdc(id: string): void {
    const sdc = this.sys.sdc(id);
    if (this.sys.volumesOfSdc(id).length)
      throw badRequest("SDC has mapped volume(s)", ErrorCode.SDC_HAS_MAPPINGS);
    this.sys.sdcs.delete(sdc.id);
  }

  private removeUser(id: string): void {
    const i = this.sys.users.findIndex((u) => u.id === id);
    if (i < 0) throw notFound("user");
    const [user] = this.sys.users.splice(i, 1);
    this.opts.onUserRemoved?.(user!.name);
  }

  queryIdByKey(type: string, b: Body): string {
    const miss = () => new SimError("Not found", 500, ErrorCode.OBJECT_NOT_FOUND);
    switch (type) {
      case "Volume": {
        const v = this.sys.listVolumes().find((x) => x.name === str(b, "name"));
        if (!v) throw miss();
        return v.id;
      }
      case "ProtectionDomain": {
        const p = [...this.sys.pds.values()].find((x) => x.name === str(b, "name"));
        if (!p) throw miss();
        return p.id;
      }
      case "StoragePool": {
        const pdName = str(b, "protectionDomainName");
        const pd = [...this.sys.pds.values()].find((x) => x.name === pdName);
        const p =
          pd &&
          [...this.sys.pools.values()].find(
            (x) => x.protectionDomainId === pd.id && x.name === str(b, "name"),
          );
        if (!p) throw miss();
        return p.id;
      }
      case "Sdc": {
        const s = this.sys.sdcByIp(str(b, "ip"));
        if (!s) throw miss();
        return s.id;
      }
      case "Sds": {
        const name = optStr(b, "name");
        const s = name
          ? [...this.sys.sdss.values()].find((x) => x.name === name)
          : this.sys.sdsByIp(str(b, "ip"));
        if (!s) throw miss();
        return s.id;
      }
      default:
        throw badRequest(`queryIdByKey is not supported for ${type}`, 0);
    }
  }

  sdcFrom(b: Body): string {
    const guid = optStr(b, "guid");
    if (guid) {
      const s = this.sys.sdcByGuid(guid);
      if (!s) throw new SimError("Could not find the SDC", 500, ErrorCode.OBJECT_NOT_FOUND);
      return s.id;
    }
    const ip = optStr(b, "sdcIp");
    if (ip) {
      const s = this.sys.sdcByIp(ip);
      if (!s) throw new SimError("Could not find the SDC", 500, ErrorCode.OBJECT_NOT_FOUND);
      return s.id;
    }
    return str(b, "sdcId");
  }

  mdmClusterView() {
    const c = this.sys.cluster;
    const m = (x: (typeof c.members)[number]) => ({
      id: x.id,
      name: x.name,
      ips: x.ips,
      managementIPs: x.managementIps,
      port: x.port,
      role: x.isManager ? "Manager" : "TieBreaker",
      status: c.isAlive(x) ? "Normal" : "Disconnected",
      versionInfo: "",
    });
    return {
      id: this.sys.id,
      name: this.sys.name,
      clusterState: c.clusterState(),
      clusterMode: clusterModeName(c.mode),
      goodNodesNum: c.voters().filter((x) => c.isAlive(x)).length,
      goodReplicasNum: c.managers().filter((x) => c.isAlive(x)).length,
      master: c.master() ? m(c.master()!) : null,
      slaves: c.members.filter((x) => x.role === "slave").map(m),
      tieBreakers: c.members.filter((x) => x.role === "tb").map(m),
      standbyMDMs: c.members.filter((x) => x.role === "standby").map(m),
    };
  }

  idNames(list: unknown): string[] {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw badRequest("MDM id lists must be arrays", 0);
    return list.map((id) => {
      const m = this.sys.cluster.members.find((x) => x.id === id || x.name === id);
      if (!m) throw new SimError("Could not find the MDM", 500, ErrorCode.OBJECT_NOT_FOUND);
      return m.name;
    });
  }

  action(type: string, id: string, verb: string, b: Body): unknown {
    switch (`${type}/${verb}`) {
      case "Volume/addMappedSdc":
        return this.sys.mapVolume(
          id,
          this.sdcFrom(b),
          optBool(b, "allowMultipleMappings") ?? false,
        );
      case "Volume/removeMappedSdc":
        // An explicit SDC wins; "allSdcs" alone unmaps every SDC.
        this.sys.unmapVolume(
          id,
          b.sdcId || b.guid || b.sdcIp
            ? this.sdcFrom(b)
            : b.allSdcs !== undefined
              ? "all"
              : this.sdcFrom(b),
        );
        return;
      case "Volume/setMappedSdcLimits":
        return this.setLimits(id, b);
      case "Volume/removeVolume":
        return this.sys.removeVolume(id, optStr(b, "removeMode") ?? "ONLY_ME");
      case "Volume/setVolumeSize": {
        this.sys.volume(id);
        const gb = b.sizeInGB;
        const n =
          typeof gb === "number"
            ? gb
            : typeof gb === "string" && /^\d+$/.test(gb)
              ? Number(gb)
              : NaN;
        if (!Number.isInteger(n)) throw badRequest("Invalid sizeInGB");
        return this.sys.resizeVolumeGb(id, n);
      }
      case "Volume/setVolumeName":
        return this.sys.renameVolume(id, str(b, "newName"));
      case "System/snapshotVolumes": {
        const defs = b.snapshotDefs;
        if (!Array.isArray(defs) || defs.length === 0)
          throw badRequest("snapshotDefs is required", 0);
        const ids = defs.map((d) => {
          const x = asBody(d);
          return this.sys.snapshot(str(x, "volumeId"), str(x, "snapshotName")).id;
        });
        return { volumeIdList: ids, snapshotGroupId: this.sys.ids.next("snapgroup") };
      }
      case "System/setCapacityAlertThresholds":
        return this.sys.setCapacityThresholds(
          "all",
          int(b, "capacityAlertHighThresholdPercent"),
          int(b, "capacityAlertCriticalThresholdPercent"),
          true,
        );
      case "System/queryMdmCluster":
        return this.mdmClusterView();
      case "System/addStandbyMdm": {
        const ips = b.ips;
        if (!Array.isArray(ips) || typeof ips[0] !== "string")
          throw badRequest("ips is required", 0);
        const role = optStr(b, "role") ?? "Manager";
        if (role !== "Manager" && role !== "TieBreaker") throw badRequest(`Invalid role ${role}`);
        const mgmt = Array.isArray(b.managementIps) ? String(b.managementIps[0]) : undefined;
        return {
          id: this.sys.cluster.addStandby(
            ips[0],
            mgmt,
            optStr(b, "name") ?? `mdm_${ips[0]}`,
            role === "Manager",
          ).id,
        };
      }
      case "System/switchClusterMode": {
        const modes: Record<string, ClusterMode> = {
          OneNode: "1_node",
          ThreeNodes: "3_node",
          FiveNodes: "5_node",
        };
        const mode = modes[str(b, "mode")];
        if (!mode) throw badRequest("Invalid mode");
        return this.sys.cluster.switchMode(mode, {
          addSlaves: this.idNames(b.addSlaveMdmIdList),
          addTbs: this.idNames(b.addTBIdList),
          removeSlaves: this.idNames(b.removeSlaveMdmIdList),
          removeTbs: this.idNames(b.removeTBIdList),
        });
      }
      case "System/changeMdmOwnership":
        return this.sys.cluster.switchOwnership(this.idNames([str(b, "id")])[0]!);
      case "System/removeStandbyMdm":
        return this.sys.cluster.removeStandby(this.idNames([str(b, "id")])[0]!);
      case "StoragePool/setSparePercentage":
        return this.sys.setSparePercentage(id, int(b, "sparePercentage"));
      case "StoragePool/setCapacityAlertThresholds": {
        const p = this.sys.pool(id);
        return this.sys.setCapacityThresholds(
          id,
          optInt(b, "capacityAlertHighThresholdPercent") ?? p.capacityAlertHighThreshold,
          optInt(b, "capacityAlertCriticalThresholdPercent") ?? p.capacityAlertCriticalThreshold,
        );
      }
      case "StoragePool/setStoragePoolName": {
        const p = this.sys.pool(id);
        const name = str(b, "name");
        if (
          [...this.sys.pools.values()].some(
            (x) => x !== p && x.protectionDomainId === p.protectionDomainId && x.name === name,
          )
        ) {
          throw new SimError("Storage Pool name already in use", 500, ErrorCode.NAME_IN_USE);
        }
        p.name = name;
        return;
      }
      case "StoragePool/removeStoragePool":
        return this.sys.removeStoragePool(id);
      case "FaultSet/removeFaultSet":
        return this.sys.removeFaultSet(id);
      case "ProtectionDomain/removeProtectionDomain":
        return this.sys.removeProtectionDomain(id);
      case "Sds/removeSds":
        return this.sys.removeSds(id);
      case "Sds/enterMaintenanceMode":
        return this.sys.enterMaintenance(id);
      case "Sds/exitMaintenanceMode":
        return this.sys.exitMaintenance(id);
      case "Device/removeDevice":
        return this.sys.removeDevice(id);
      case "Sdc/setSdcName": {
        this.sys.sdc(id).name = str(b, "sdcName");
        return;
      }
      case "Sdc/removeSdc":
        return this.removeSdc(id);
      case "User/removeUser":
        return this.removeUser(id);
      default:
        throw badRequest(`Unknown action ${verb} for ${type}`, 0);
    }
  }
}
