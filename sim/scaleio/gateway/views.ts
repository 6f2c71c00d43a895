// REST representations of the model's objects (reference 4.5), with `links` and the
// relationships clients follow.
import { notFound, badRequest } from "../model/errors.js";
import { MDM_ACTOR_PORT } from "../model/mdm.js";
import type { ClusterMode } from "../model/types.js";
import type { ScaleioSystem } from "../model/system.js";
import { dottedVersion, rVersion, DEFAULT_VERSION } from "../model/versions.js";

type Json = Record<string, unknown>;

export interface ViewOptions {
  apiMajor: number;
}

interface TypeDef {
  list(): { id: string }[];
  get(id: string): { id: string };
  render(o: never): Json;
  children: Record<string, (id: string) => Json[]>;
  parents: (o: never) => [string, string, string | null][]; // [field, type, id]
}

export class Views {
  readonly types: Record<string, TypeDef>;

  constructor(
    private readonly sys: ScaleioSystem,
    private readonly opts: ViewOptions,
  ) {
    const s = sys;
    this.types = {
      System: {
        list: () => [{ id: s.id }],
        get: (id) => {
          if (id !== s.id && id !== "") throw notFound("system");
          return { id: s.id };
        },
        render: () => this.system(),
        children: {
          ProtectionDomain: () => [...s.pds.values()].map((x) => this.pd(x.id)),
          Sdc: () => [...s.sdcs.values()].map((x) => this.sdc(x.id)),
          User: () => s.users.map((u) => this.user(u.id)),
          ScsiInitiator: () => [],
          FaultSet: () => [...s.faultSets.values()].map((x) => this.faultSet(x.id)),
        },
        parents: () => [],
      },
      ProtectionDomain: {
        list: () => [...s.pds.values()],
        get: (id) => s.pd(id),
        render: (o: { id: string }) => this.pd(o.id),
        children: {
          StoragePool: (id) =>
            [...s.pools.values()]
              .filter((p) => p.protectionDomainId === id)
              .map((p) => this.pool(p.id)),
          Sds: (id) =>
            [...s.sdss.values()]
              .filter((p) => p.protectionDomainId === id)
              .map((p) => this.sds(p.id)),
          FaultSet: (id) =>
            [...s.faultSets.values()]
              .filter((p) => p.protectionDomainId === id)
              .map((p) => this.faultSet(p.id)),
        },
        parents: () => [["systemId", "System", s.id]],
      },
      StoragePool: {
        list: () => [...s.pools.values()],
        get: (id) => s.pool(id),
        render: (o: { id: string }) => this.pool(o.id),
        children: {
          Volume: (id) =>
            s
              .listVolumes()
              .filter((v) => v.storagePoolId === id)
              .map((v) => this.volume(v.id)),
          Device: (id) => s.devicesOfPool(id).map((d) => this.device(d.id)),
          VTree: (id) => this.vtrees().filter((t) => t.storagePoolId === id),
          ...(opts.apiMajor >= 3
            ? {
                SpSds: (id: string) =>
                  [...new Set(s.devicesOfPool(id).map((d) => d.sdsId))].map((x) => ({
                    sdsId: x,
                    storagePoolId: id,
                  })),
              }
            : {}),
        },
        parents: (o: { protectionDomainId: string }) => [
          ["protectionDomainId", "ProtectionDomain", o.protectionDomainId],
        ],
      },
      FaultSet: {
        list: () => [...s.faultSets.values()],
        get: (id) => s.faultSet(id),
        render: (o: { id: string }) => this.faultSet(o.id),
        children: {
          Sds: (id) =>
            [...s.sdss.values()].filter((p) => p.faultSetId === id).map((p) => this.sds(p.id)),
        },
        parents: (o: { protectionDomainId: string }) => [
          ["protectionDomainId", "ProtectionDomain", o.protectionDomainId],
        ],
      },
      Sds: {
        list: () => [...s.sdss.values()],
        get: (id) => s.sds(id),
        render: (o: { id: string }) => this.sds(o.id),
        children: {
          Device: (id) =>
            [...s.devices.values()].filter((d) => d.sdsId === id).map((d) => this.device(d.id)),
        },
        parents: (o: { protectionDomainId: string; faultSetId: string | null }) => [
          ["protectionDomainId", "ProtectionDomain", o.protectionDomainId],
          ["faultSetId", "FaultSet", o.faultSetId],
        ],
      },
      Device: {
        list: () => [...s.devices.values()],
        get: (id) => s.device(id),
        render: (o: { id: string }) => this.device(o.id),
        children: {},
        parents: (o: { storagePoolId: string; sdsId: string }) => [
          ["storagePoolId", "StoragePool", o.storagePoolId],
          ["sdsId", "Sds", o.sdsId],
        ],
      },
      Volume: {
        list: () => s.listVolumes(),
        get: (id) => s.volume(id, opts.apiMajor < 2),
        render: (o: { id: string }) => this.volume(o.id),
        children: {},
        parents: (o: { vtreeId: string; storagePoolId: string }) => [
          ["vtreeId", "VTree", o.vtreeId],
          ["storagePoolId", "StoragePool", o.storagePoolId],
        ],
      },
      VTree: {
        list: () => this.vtrees(),
        get: (id) => {
          const t = this.vtrees().find((x) => x.id === id);
          if (!t) throw notFound("VTree");
          return t;
        },
        render: (o: Json) => o,
        children: {
          Volume: (id) =>
            s
              .listVolumes()
              .filter((v) => v.vtreeId === id)
              .map((v) => this.volume(v.id)),
        },
        parents: (o: { storagePoolId: string }) => [
          ["storagePoolId", "StoragePool", o.storagePoolId],
        ],
      },
      Sdc: {
        list: () => [...s.sdcs.values()],
        get: (id) => s.sdc(id),
        render: (o: { id: string }) => this.sdc(o.id),
        children: {
          Volume: (id) => s.volumesOfSdc(id).map((v) => this.volume(v.id)),
        },
        parents: () => [["systemId", "System", s.id]],
      },
      User: {
        list: () => s.users,
        get: (id) => {
          const u = s.users.find((x) => x.id === id);
          if (!u) throw notFound("user");
          return u;
        },
        render: (o: { id: string }) => this.user(o.id),
        children: {},
        parents: () => [["systemId", "System", s.id]],
      },
      ScsiInitiator: {
        list: () => [],
        get: () => {
          throw notFound("SCSI initiator");
        },
        render: (o: Json) => o,
        children: {},
        parents: () => [],
      },
    } as Record<string, TypeDef>;
  }

  def(type: string): TypeDef {
    const d = this.types[type];
    if (!d) throw badRequest(`Unknown object type ${type}`, 0);
    return d;
  }

  /** `links`: self, one per child list (plus Statistics), one per parent field. */
  links(
    type: string,
    id: string,
    parents: [string, string, string | null][],
  ): { rel: string; href: string }[] {
    const self = `/api/instances/${type}::${id}`;
    const out = [{ rel: "self", href: self }];
    const d = this.types[type];
    const kids = Object.keys(d?.children ?? {});
    if (
      ["System", "ProtectionDomain", "StoragePool", "Sds", "Device", "Volume", "Sdc"].includes(type)
    ) {
      kids.push("Statistics");
    }
    for (const k of kids)
      out.push({ rel: `/api/${type}/relationship/${k}`, href: `${self}/relationships/${k}` });
    for (const [field, ptype, pid] of parents) {
      if (pid)
        out.push({
          rel: `/api/parent/relationship/${field}`,
          href: `/api/instances/${ptype}::${pid}`,
        });
    }
    return out;
  }

  private withLinks(type: string, obj: Json & { id: string }): Json {
    const parents = this.def(type).parents(obj as never);
    return { ...obj, links: this.links(type, obj.id, parents) };
  }

  system(): Json {
    const s = this.sys;
    const c = s.cluster;
    const master = c.master();
    const slaves = c.members.filter((m) => m.role === "slave");
    const tbs = c.members.filter((m) => m.role === "tb");
    const mdmVersion = master
      ? (s.nodes.get(master.ips[0]!)?.packages.get("mdm")?.version ?? DEFAULT_VERSION)
      : DEFAULT_VERSION;
    const obj = {
      id: s.id,
      name: s.name,
      systemVersionName: `EMC ScaleIO Version: ${rVersion(mdmVersion)}`,
      installId: s.installId,
      mdmMode: c.mode === "1_node" ? "SingleNode" : c.mode === "3_node" ? "Cluster" : "FiveNodes",
      mdmClusterState: c.clusterState(),
      primaryMdmActorIpList: master?.ips ?? [],
      secondaryMdmActorIpList: slaves.flatMap((m) => m.ips),
      tiebreakerMdmIpList: tbs.flatMap((m) => m.ips),
      mdmManagementIpList: c.members
        .filter((m) => m.isManager && m.role !== "standby")
        .flatMap((m) => m.managementIps),
      primaryMdmActorPort: MDM_ACTOR_PORT,
      secondaryMdmActorPort: MDM_ACTOR_PORT,
      tiebreakerMdmActorPort: MDM_ACTOR_PORT,
      mdmManagementPort: 6611,
      capacityAlertHighThresholdPercent: s.capacityAlertHighThresholdPercent,
      capacityAlertCriticalThresholdPercent: s.capacityAlertCriticalThresholdPercent,
      restrictedSdcModeEnabled: false,
      defaultIsVolumeObfuscated: false,
      remoteReadOnlyLimitState: false,
      swid: "",
      daysInstalled: 0,
      maxCapacityInGb: "Unlimited",
      capacityTimeLeftInDays: "Unlimited",
      enterpriseFeaturesEnabled: true,
      isInitialLicense: true,
      mdmVersion: dottedVersion(mdmVersion),
      // 2.5+ embed a summary of the MDM cluster (fields as in a published 2.5 System sample).
      ...(this.opts.apiMajor >= 3
        ? {
            mdmCluster: {
              id: s.id,
              clusterState: c.clusterState(),
              clusterMode: clusterModeName(c.mode),
              goodNodesNum: c.voters().filter((m) => c.isAlive(m)).length,
              goodReplicasNum: c.managers().filter((m) => c.isAlive(m)).length,
            },
          }
        : {}),
    };
    return this.withLinks("System", obj);
  }

  pd(id: string): Json {
    const p = this.sys.pd(id);
    return this.withLinks("ProtectionDomain", {
      id: p.id,
      name: p.name,
      systemId: this.sys.id,
      protectionDomainState: "Active",
      rebuildNetworkThrottlingInKbps: null,
      rebalanceNetworkThrottlingInKbps: null,
      overallIoNetworkThrottlingInKbps: null,
      rebuildNetworkThrottlingEnabled: false,
      rebalanceNetworkThrottlingEnabled: false,
      overallIoNetworkThrottlingEnabled: false,
    });
  }

  pool(id: string): Json {
    const p = this.sys.pool(id);
    return this.withLinks("StoragePool", {
      id: p.id,
      name: p.name,
      protectionDomainId: p.protectionDomainId,
      sparePercentage: p.sparePercentage,
      zeroPaddingEnabled: p.zeroPaddingEnabled,
      useRmcache: p.useRmcache,
      rmcacheWriteHandlingMode: "Cached",
      rebuildEnabled: p.rebuildEnabled,
      rebalanceEnabled: p.rebalanceEnabled,
      numOfParallelRebuildRebalanceJobsPerDevice: 2,
      rebuildIoPriorityPolicy: "limitNumOfConcurrentIos",
      rebalanceIoPriorityPolicy: "favorAppIos",
      rebuildIoPriorityNumOfConcurrentIosPerDevice: 1,
      rebalanceIoPriorityNumOfConcurrentIosPerDevice: 1,
      rebuildIoPriorityBwLimitPerDeviceInKbps: 10240,
      rebalanceIoPriorityBwLimitPerDeviceInKbps: 10240,
      rebuildIoPriorityAppIopsPerDeviceThreshold: null,
      rebalanceIoPriorityAppIopsPerDeviceThreshold: null,
      rebuildIoPriorityAppBwPerDeviceThresholdInKbps: null,
      rebalanceIoPriorityAppBwPerDeviceThresholdInKbps: null,
      rebuildIoPriorityQuietPeriodInMsec: null,
      rebalanceIoPriorityQuietPeriodInMsec: null,
      capacityAlertHighThreshold: p.capacityAlertHighThreshold,
      capacityAlertCriticalThreshold: p.capacityAlertCriticalThreshold,
      checksumEnabled: p.checksumEnabled,
      useRfcache: p.useRfcache,
      ...(this.opts.apiMajor >= 3 ? { mediaType: "HDD", dataLayout: "MediumGranularity" } : {}),
    });
  }

  faultSet(id: string): Json {
    const f = this.sys.faultSet(id);
    return this.withLinks("FaultSet", {
      id: f.id,
      name: f.name,
      protectionDomainId: f.protectionDomainId,
    });
  }

  sds(id: string): Json {
    const s = this.sys.sds(id);
    const node = s.ipList.map((i) => this.sys.nodes.get(i.ip)).find((n) => n?.packages.has("sds"));
    const version = node?.packages.get("sds")?.version ?? DEFAULT_VERSION;
    return this.withLinks("Sds", {
      id: s.id,
      name: s.name,
      protectionDomainId: s.protectionDomainId,
      faultSetId: s.faultSetId,
      ipList: s.ipList.map((i) => ({ ip: i.ip, role: i.role })),
      port: s.port,
      sdsState: s.removing ? "RemovalInProgress" : "Normal",
      membershipState: s.removing ? "Decoupled" : "Joined",
      mdmConnectionState: this.sys.sdsConnected(s) ? "Connected" : "Disconnected",
      drlMode: "Volatile",
      rmcacheEnabled: true,
      rmcacheSizeInKb: 131072,
      rmcacheFrozen: false,
      rmcacheMemoryAllocationState: "AllocationPending",
      onVmWare: false,
      numOfIoBuffers: null,
      maintenanceState: s.maintenance ? "InMaintenance" : "NoMaintenance",
      softwareVersionInfo: rVersion(version),
    });
  }

  device(id: string): Json {
    const d = this.sys.device(id);
    const pathKeys =
      this.opts.apiMajor >= 3
        ? { deviceCurrentPathName: d.path, deviceOriginalPathName: d.path }
        : { deviceCurrentPathname: d.path, deviceOriginalPathname: d.path };
    return this.withLinks("Device", {
      id: d.id,
      name: d.name,
      ...pathKeys,
      // A failed device keeps its life-cycle state and reports the failure in errorState
      // (scli --query_properties: STATE DEVICE_NORMAL with ERR_STATE ERROR); the SDS stays up.
      deviceState: d.removing ? "RemovePending" : "Normal",
      errorState: d.failed ? "Error" : "None",
      capacityLimitInKb: d.capacityLimitKb,
      maxCapacityInKb: d.sizeKb,
      storagePoolId: d.storagePoolId,
      sdsId: d.sdsId,
    });
  }

  volume(id: string): Json {
    const v = this.sys.volume(id);
    return this.withLinks("Volume", {
      id: v.id,
      name: v.name,
      sizeInKb: v.sizeKb,
      storagePoolId: v.storagePoolId,
      volumeType: v.volumeType,
      vtreeId: v.vtreeId,
      ancestorVolumeId: v.ancestorVolumeId,
      consistencyGroupId: null,
      mappingToAllSdcsEnabled: false,
      useRmcache: false,
      isObfuscated: false,
      creationTime: v.creationTime,
      mappedScsiInitiatorInfo: null,
      mappedSdcInfo: v.mappings.length
        ? v.mappings.map((m) => ({
            sdcId: m.sdcId,
            sdcIp: this.sys.sdcs.get(m.sdcId)?.ip ?? null,
            limitIops: m.limitIops,
            limitBwInMbps: m.limitBwInMbps,
          }))
        : null,
    });
  }

  vtrees(): (Json & { id: string; storagePoolId: string })[] {
    const seen = new Map<string, Json & { id: string; storagePoolId: string }>();
    for (const v of this.sys.listVolumes()) {
      if (seen.has(v.vtreeId)) continue;
      const base = {
        id: v.vtreeId,
        name: null,
        baseVolumeId: v.id,
        storagePoolId: v.storagePoolId,
      };
      seen.set(v.vtreeId, {
        ...base,
        links: this.links("VTree", v.vtreeId, [["storagePoolId", "StoragePool", v.storagePoolId]]),
      });
    }
    return [...seen.values()];
  }

  sdc(id: string): Json {
    const c = this.sys.sdc(id);
    const version = this.sys.nodes.get(c.ip)?.packages.get("sdc")?.version ?? DEFAULT_VERSION;
    return this.withLinks("Sdc", {
      id: c.id,
      name: c.name,
      systemId: this.sys.id,
      sdcIp: c.ip,
      sdcGuid: c.guid,
      sdcApproved: c.approved,
      mdmConnectionState: this.sys.sdcConnected(c) ? "Connected" : "Disconnected",
      onVmWare: false,
      versionInfo: rVersion(version),
      softwareVersionInfo: rVersion(version),
    });
  }

  user(id: string): Json {
    const u = this.sys.users.find((x) => x.id === id);
    if (!u) throw notFound("user");
    return this.withLinks("User", {
      id: u.id,
      name: u.name,
      systemId: this.sys.id,
      userRole: u.role,
      passwordChangeRequired: u.passwordChangeRequired,
    });
  }

  render(type: string, id: string): Json {
    const d = this.def(type);
    const o = d.get(id);
    return d.render(o as never);
  }

  list(type: string): Json[] {
    const d = this.def(type);
    return d.list().map((o) => d.render(o as never));
  }
}

/** REST names of the cluster modes (3.x `clusterMode`). */
export function clusterModeName(mode: ClusterMode): "OneNode" | "ThreeNodes" | "FiveNodes" {
  return mode === "1_node" ? "OneNode" : mode === "3_node" ? "ThreeNodes" : "FiveNodes";
}
