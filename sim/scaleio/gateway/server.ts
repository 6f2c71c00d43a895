// The REST gateway (reference section 4): login/token auth, types/instances/relationships,
// actions and statistics, with the real error shape.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { AlertBook } from "../model/alerts.js";
import { ErrorCode, SimError, badRequest } from "../model/errors.js";
import { STATS_TYPES, StatsEngine, type StatsType } from "../model/stats.js";
import type { ScaleioSystem } from "../model/system.js";
import { TokenStore, parseBasic, type TokenPolicy } from "./auth.js";
import { asBody, str } from "./body.js";
import type { GatewayCert } from "./tls.js";
import { Views } from "./views.js";
import { Operations } from "./operations.js";

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
  const ops = new Operations(sys, {
    apiMajor,
    onUserRemoved: (name) => tokens.revokeUser(name),
  });

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
    return { id: ops.create(type, asBody(req.body)) };
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
      return reply.type("application/json").send(JSON.stringify(ops.queryIdByKey(type, b)));
    if (verb === "queryBySelectedIds") {
      const ids = b.ids;
      if (!Array.isArray(ids)) throw badRequest("ids must be a list", 0);
      return ids.map((id) => views.render(type, String(id)));
    }
    if (verb === "querySelectedStatistics") {
      const t = statsType(type);
      // The System is a singleton: without ids (or with an empty list) its properties come
      // back flat, not keyed by its id.
      if (t === "System" && b.allIds === undefined) {
        if (b.ids === undefined || (Array.isArray(b.ids) && b.ids.length === 0))
          return stats.selected("System", [sys.id], b.properties)[sys.id];
      }
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
    const result = ops.action(type, id, verb, asBody(req.body));
    return reply.type("application/json").send(JSON.stringify(result ?? {}));
  });

  // [3.x] queryMdmCluster is posted without /action/ by some clients.
  app.post("/api/instances/:obj/queryMdmCluster", async (req) => {
    splitObj((req.params as { obj: string }).obj);
    return ops.mdmClusterView();
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

  return { app, tokens, stats, alerts, views };
}
