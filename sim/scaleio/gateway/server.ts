// The REST gateway (reference section 4): login/token auth, types/instances/relationships,
// actions and statistics, with the real error shape.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { AlertBook } from "../model/alerts.js";
import { ErrorCode, SimError, badRequest } from "../model/errors.js";
import { STATS_TYPES, StatsEngine, type StatsType } from "../model/stats.js";
import type { ScaleioSystem } from "../model/system.js";
import type { ClusterMode } from "../model/types.js";
import { TokenStore, parseBasic, type TokenPolicy } from "./auth.js";
import { asBody, int, optBool, optInt, optStr, str, type Body } from "./body.js";
import type { GatewayCert } from "./tls.js";
import { Views } from "./views.js";

export interface GatewayOptions {
  sys: ScaleioSystem;
  /** "2.0" (default) or a 3.x version such as "3.0". */
  apiVersion?: string;
  cert?: GatewayCert;
  tokenPolicy?: TokenPolicy;
}

const UNAUTHORIZED = { message: "Unauthorized", httpStatusCode: 401, errorCode: 0 };

function errorBody(e: SimError) {
  return { message: e.message, httpStatusCode: e.httpStatus, errorCode: e.errorCode };
}

export interface Gateway {
  app: FastifyInstance;
  tokens: TokenStore;
  stats: StatsEngine;
  alerts: AlertBook;
  views: Views;
}

export function buildGateway(o: GatewayOptions): Gateway {
  const sys = o.sys;
  const apiVersion = o.apiVersion ?? "2.0";
  const apiMajor = Number(apiVersion.split(".")[0]) || 2;
  const tokens = new TokenStore(sys.clock, o.tokenPolicy);
  const stats = new StatsEngine(sys, () => apiMajor);
  const alerts = new AlertBook(sys);
  const views = new Views(sys, { apiMajor });

  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    ...(o.cert ? { https: { key: o.cert.key, cert: o.cert.cert } } : {}),
  }) as unknown as FastifyInstance;

  // Clients send `application/json;version=2.0`; parse every body as JSON, leniently typed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = String(body).trim();
    if (text === "") return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest("Malformed JSON in the request body", ErrorCode.ILLEGAL_SYNTAX), undefined);
    }
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof SimError) return reply.code(err.httpStatus).send(errorBody(err));
    const e = err as { statusCode?: number; message?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    return reply
      .code(status)
      .send({ message: e.message ?? "Internal error", httpStatusCode: status, errorCode: 0 });
  });
  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send({ message: "Not found", httpStatusCode: 404, errorCode: 0 });
  });

  const tokenOf = (req: FastifyRequest): string | undefined => {
    const b = parseBasic(req.headers.authorization);
    return b?.password;
  };

  // Every call but login/version needs a live token; every call needs a serving MDM.
  app.addHook("onRequest", async (req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split("?")[0] ?? "";
    if (!path.startsWith("/api")) return;
    if (path === "/api/version") return;
    if (path !== "/api/login") {
      const t = tokenOf(req);
      if (!t || !tokens.check(t)) return reply.code(401).send(UNAUTHORIZED);
    }
    if (path === "/api/logout") return;
    sys.cluster.requireService();
    sys.tick();
  });

  app.get("/api/login", async (req, reply) => {
    const b = parseBasic(req.headers.authorization);
    const user = b ? sys.authenticate(b.user, b.password) : undefined;
    if (!user) return reply.code(401).send(UNAUTHORIZED);
    return reply.type("application/json").send(JSON.stringify(tokens.issue(user.name)));
  });

  app.get("/api/logout", async (req, reply) => {
    const t = tokenOf(req);
    if (t) tokens.revoke(t);
    return reply.type("application/json").send("");
  });

  app.get("/api/version", async (_req, reply) =>
    reply.type("application/json").send(JSON.stringify(apiVersion)),
  );

  app.get("/api/Configuration", async () => ({
    mdmAddresses: sys.cluster.managerIps(),
    mdmPort: 6611,
    gatewayAdminPasswordSet: true,
    bypassCertificateCheck: true,
    allowNonSecureCommunication: false,
  }));

  app.get("/api/instances", async () => ({
    System: views.system(),
    protectionDomainList: views.list("ProtectionDomain"),
    storagePoolList: views.list("StoragePool"),
    faultSetList: views.list("FaultSet"),
    sdsList: views.list("Sds"),
    deviceList: views.list("Device"),
    volumeList: views.list("Volume"),
    vTreeList: views.list("VTree"),
    sdcList: views.list("Sdc"),
    scsiInitiatorList: [],
  }));

  app.get("/api/types/:type/instances", async (req) => {
    const { type } = req.params as { type: string };
    if (type === "Alert")
      return alerts
        .list()
        .map((a) => ({ ...a, links: [{ rel: "self", href: `/api/instances/Alert::${a.id}` }] }));
    return views.list(type);
  });

  app.post("/api/types/:type/instances", async (req) => {
    const { type } = req.params as { type: string };
    return { id: create(type, asBody(req.body)) };
  });

  // Legacy name lookups used by the OpenStack driver: getByName::<name> (Pool: <pdId>,<name>).
  app.get("/api/types/:type/instances/:key", async (req, reply) => {
    const { type, key } = req.params as { type: string; key: string };
    if (!key.startsWith("getByName::")) throw badRequest("Unknown request", 0);
    const name = decodeURIComponent(key.slice("getByName::".length));
    let id: string;
    if (type === "Domain") id = sys.pdByName(name).id;
    else if (type === "Pool") {
      const [pdId, poolName] = name.split(",");
      id = sys.poolByName(pdId ?? "", poolName ?? "").id;
    } else if (type === "Volume") id = sys.volumeByName(name).id;
    else throw badRequest(`getByName is not supported for ${type}`, 0);
    return reply.type("application/json").send(JSON.stringify(id));
  });

  app.post("/api/types/:type/instances/action/:verb", async (req, reply) => {
    const { type, verb } = req.params as { type: string; verb: string };
    const b = asBody(req.body);
    if (verb === "queryIdByKey")
      return reply.type("application/json").send(JSON.stringify(queryIdByKey(type, b)));
    if (verb === "queryBySelectedIds") {
      const ids = b.ids;
      if (!Array.isArray(ids)) throw badRequest("ids must be a list", 0);
      return ids.map((id) => views.render(type, String(id)));
    }
    if (verb === "querySelectedStatistics") {
      const t = statsType(type);
      const ids = b.allIds !== undefined ? "all" : b.ids;
      if (ids !== "all" && (!Array.isArray(ids) || !ids.every((x) => typeof x === "string"))) {
        throw badRequest("ids or allIds is required", 0);
      }
      if (ids !== "all") for (const id of ids as string[]) views.def(t).get(id);
      return stats.selected(t, ids as string[] | "all", b.properties);
    }
    throw badRequest(`Unknown action ${verb}`, 0);
  });

  app.post("/api/instances/querySelectedStatistics", async (req) => {
    const b = asBody(req.body);
    const list = b.selectedStatisticsList;
    if (!Array.isArray(list)) throw badRequest("selectedStatisticsList must be a list", 0);
    const out: Record<string, unknown> = {};
    for (const raw of list) {
      const item = asBody(raw);
      const t = statsType(str(item, "type"));
      if (t === "System") {
        out.System = stats.selected("System", [sys.id], item.properties)[sys.id];
        continue;
      }
      const ids = Array.isArray(item.ids) ? (item.ids as string[]) : "all";
      out[t] = stats.selected(t, ids, item.properties);
    }
    return out;
  });

  app.get("/api/instances/:obj", async (req) => {
    const [type, id] = splitObj((req.params as { obj: string }).obj);
    return views.render(type, id);
  });

  app.get("/api/instances/:obj/relationships/:child", async (req) => {
    const { obj, child } = req.params as { obj: string; child: string };
    const [type, id] = splitObj(obj);
    const d = views.def(type);
    d.get(id);
    if (child === "Statistics") {
      const t = statsType(type);
      return stats.of(t, t === "System" ? sys.id : id);
    }
    const rel = d.children[child];
    if (!rel) throw badRequest(`${type} has no relationship ${child}`, 0);
    return rel(type === "System" ? sys.id : id);
  });

  app.post("/api/instances/:obj/action/:verb", async (req, reply) => {
    const { obj, verb } = req.params as { obj: string; verb: string };
    const [type, id] = splitObj(obj);
    const result = action(type, id, verb, asBody(req.body));
    return reply.type("application/json").send(JSON.stringify(result ?? {}));
  });

  // [3.x] queryMdmCluster is posted without /action/ by some clients.
  app.post("/api/instances/:obj/queryMdmCluster", async (req) => {
    splitObj((req.params as { obj: string }).obj);
    return mdmClusterView();
  });

  function splitObj(obj: string): [string, string] {
    const i = obj.indexOf("::");
    if (i < 0) {
      if (obj === "System") return ["System", sys.id];
      throw badRequest(`Malformed object reference ${obj}`, 0);
    }
    const type = obj.slice(0, i);
    const id = obj.slice(i + 2);
    views.def(type);
    return [type, type === "System" && id === "" ? sys.id : id];
  }

  function statsType(t: string): StatsType {
    if (!STATS_TYPES.includes(t as StatsType)) throw badRequest(`No statistics for type ${t}`, 0);
    return t as StatsType;
  }

  function create(type: string, b: Body): string {
    switch (type) {
      case "ProtectionDomain":
        return sys.addProtectionDomain(str(b, "name")).id;
      case "FaultSet":
        return sys.addFaultSet(str(b, "protectionDomainId"), str(b, "name")).id;
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
        return sys.addStoragePool(str(b, "protectionDomainId"), str(b, "name"), o).id;
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
        return sys.addSds({
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
        return sys.addDevice(
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
        if (pdId && sys.pool(poolId).protectionDomainId !== pdId)
          throw badRequest("The Storage Pool is not in that Protection Domain");
        const t = optStr(b, "volumeType") ?? "ThickProvisioned";
        if (t !== "ThinProvisioned" && t !== "ThickProvisioned")
          throw badRequest(`Invalid volumeType ${t}`);
        return sys.addVolume({
          name: str(b, "name"),
          storagePoolId: poolId,
          sizeKb: int(b, "volumeSizeInKb"),
          thin: t === "ThinProvisioned",
        }).id;
      }
      case "User": {
        const { user } = sys.addUser(str(b, "name"), optStr(b, "userRole") ?? "Monitor");
        return user.id;
      }
      default:
        throw badRequest(`Objects of type ${type} cannot be created`, 0);
    }
  }

  function queryIdByKey(type: string, b: Body): string {
    const miss = () => new SimError("Not found", 500, ErrorCode.OBJECT_NOT_FOUND);
    switch (type) {
      case "Volume": {
        const v = sys.listVolumes().find((x) => x.name === str(b, "name"));
        if (!v) throw miss();
        return v.id;
      }
      case "ProtectionDomain": {
        const p = [...sys.pds.values()].find((x) => x.name === str(b, "name"));
        if (!p) throw miss();
        return p.id;
      }
      case "StoragePool": {
        const pdName = str(b, "protectionDomainName");
        const pd = [...sys.pds.values()].find((x) => x.name === pdName);
        const p =
          pd &&
          [...sys.pools.values()].find(
            (x) => x.protectionDomainId === pd.id && x.name === str(b, "name"),
          );
        if (!p) throw miss();
        return p.id;
      }
      case "Sdc": {
        const s = sys.sdcByIp(str(b, "ip"));
        if (!s) throw miss();
        return s.id;
      }
      case "Sds": {
        const name = optStr(b, "name");
        const s = name
          ? [...sys.sdss.values()].find((x) => x.name === name)
          : sys.sdsByIp(str(b, "ip"));
        if (!s) throw miss();
        return s.id;
      }
      default:
        throw badRequest(`queryIdByKey is not supported for ${type}`, 0);
    }
  }

  function sdcFrom(b: Body): string {
    const guid = optStr(b, "guid");
    if (guid) {
      const s = sys.sdcByGuid(guid);
      if (!s) throw new SimError("Could not find the SDC", 500, ErrorCode.OBJECT_NOT_FOUND);
      return s.id;
    }
    const ip = optStr(b, "sdcIp");
    if (ip) {
      const s = sys.sdcByIp(ip);
      if (!s) throw new SimError("Could not find the SDC", 500, ErrorCode.OBJECT_NOT_FOUND);
      return s.id;
    }
    return str(b, "sdcId");
  }

  function mdmClusterView() {
    const c = sys.cluster;
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
      id: sys.id,
      name: sys.name,
      clusterState: c.state() === "Normal" ? "ClusteredNormal" : "ClusteredDegraded",
      clusterMode:
        c.mode === "1_node" ? "OneNode" : c.mode === "3_node" ? "ThreeNodes" : "FiveNodes",
      goodNodesNum: c.voters().filter((x) => c.isAlive(x)).length,
      goodReplicasNum: c.managers().filter((x) => c.isAlive(x)).length,
      master: c.master() ? m(c.master()!) : null,
      slaves: c.members.filter((x) => x.role === "slave").map(m),
      tieBreakers: c.members.filter((x) => x.role === "tb").map(m),
      standbyMDMs: c.members.filter((x) => x.role === "standby").map(m),
    };
  }

  function idNames(list: unknown): string[] {
    if (list === undefined) return [];
    if (!Array.isArray(list)) throw badRequest("MDM id lists must be arrays", 0);
    return list.map((id) => {
      const m = sys.cluster.members.find((x) => x.id === id || x.name === id);
      if (!m) throw new SimError("Could not find the MDM", 500, ErrorCode.OBJECT_NOT_FOUND);
      return m.name;
    });
  }

  function action(type: string, id: string, verb: string, b: Body): unknown {
    switch (`${type}/${verb}`) {
      case "Volume/addMappedSdc":
        return sys.mapVolume(id, sdcFrom(b), optBool(b, "allowMultipleMappings") ?? false);
      case "Volume/removeMappedSdc":
        // An explicit SDC wins; "allSdcs" alone unmaps every SDC.
        sys.unmapVolume(
          id,
          b.sdcId || b.guid || b.sdcIp ? sdcFrom(b) : b.allSdcs !== undefined ? "all" : sdcFrom(b),
        );
        return;
      case "Volume/setMappedSdcLimits":
        return sys.setMappedSdcLimits(
          id,
          sdcFrom(b),
          optInt(b, "iopsLimit"),
          optInt(b, "bandwidthLimitInKbps"),
        );
      case "Volume/removeVolume":
        return sys.removeVolume(id, optStr(b, "removeMode") ?? "ONLY_ME");
      case "Volume/setVolumeSize": {
        sys.volume(id);
        const gb = b.sizeInGB;
        const n =
          typeof gb === "number"
            ? gb
            : typeof gb === "string" && /^\d+$/.test(gb)
              ? Number(gb)
              : NaN;
        if (!Number.isInteger(n)) throw badRequest("Invalid sizeInGB");
        return sys.resizeVolumeGb(id, n);
      }
      case "Volume/setVolumeName":
        return sys.renameVolume(id, str(b, "newName"));
      case "System/snapshotVolumes": {
        const defs = b.snapshotDefs;
        if (!Array.isArray(defs) || defs.length === 0)
          throw badRequest("snapshotDefs is required", 0);
        const ids = defs.map((d) => {
          const x = asBody(d);
          return sys.snapshot(str(x, "volumeId"), str(x, "snapshotName")).id;
        });
        return { volumeIdList: ids, snapshotGroupId: sys.ids.next("snapgroup") };
      }
      case "System/setCapacityAlertThresholds":
        return sys.setCapacityThresholds(
          "all",
          int(b, "capacityAlertHighThresholdPercent"),
          int(b, "capacityAlertCriticalThresholdPercent"),
          true,
        );
      case "System/queryMdmCluster":
        return mdmClusterView();
      case "System/addStandbyMdm": {
        const ips = b.ips;
        if (!Array.isArray(ips) || typeof ips[0] !== "string")
          throw badRequest("ips is required", 0);
        const role = optStr(b, "role") ?? "Manager";
        if (role !== "Manager" && role !== "TieBreaker") throw badRequest(`Invalid role ${role}`);
        const mgmt = Array.isArray(b.managementIps) ? String(b.managementIps[0]) : undefined;
        return {
          id: sys.cluster.addStandby(
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
        return sys.cluster.switchMode(mode, {
          addSlaves: idNames(b.addSlaveMdmIdList),
          addTbs: idNames(b.addTBIdList),
          removeSlaves: idNames(b.removeSlaveMdmIdList),
          removeTbs: idNames(b.removeTBIdList),
        });
      }
      case "System/changeMdmOwnership":
        return sys.cluster.switchOwnership(idNames([str(b, "id")])[0]!);
      case "System/removeStandbyMdm":
        return sys.cluster.removeStandby(idNames([str(b, "id")])[0]!);
      case "StoragePool/setSparePercentage":
        return sys.setSparePercentage(id, int(b, "sparePercentage"));
      case "StoragePool/setCapacityAlertThresholds": {
        const p = sys.pool(id);
        return sys.setCapacityThresholds(
          id,
          optInt(b, "capacityAlertHighThresholdPercent") ?? p.capacityAlertHighThreshold,
          optInt(b, "capacityAlertCriticalThresholdPercent") ?? p.capacityAlertCriticalThreshold,
        );
      }
      case "StoragePool/setStoragePoolName": {
        const p = sys.pool(id);
        const name = str(b, "name");
        if (
          [...sys.pools.values()].some(
            (x) => x !== p && x.protectionDomainId === p.protectionDomainId && x.name === name,
          )
        ) {
          throw new SimError("Storage Pool name already in use", 500, ErrorCode.NAME_IN_USE);
        }
        p.name = name;
        return;
      }
      case "ProtectionDomain/removeProtectionDomain":
        return sys.removeProtectionDomain(id);
      case "Sds/removeSds":
        return sys.removeSds(id);
      case "Sds/enterMaintenanceMode":
        return sys.enterMaintenance(id);
      case "Sds/exitMaintenanceMode":
        return sys.exitMaintenance(id);
      case "Device/removeDevice":
        return sys.removeDevice(id);
      case "Sdc/setSdcName": {
        sys.sdc(id).name = str(b, "sdcName");
        return;
      }
      case "Sdc/removeSdc": {
        if (sys.volumesOfSdc(id).length) throw badRequest("The SDC has mapped volumes");
        sys.sdcs.delete(sys.sdc(id).id);
        return;
      }
      default:
        throw badRequest(`Unknown action ${verb} for ${type}`, 0);
    }
  }

  return { app, tokens, stats, alerts, views };
}
