// The emulator's private control endpoint (plain HTTP, loopback): node-side tools post their
// command lines to /node/exec, packages are served from /repo, and /admin holds the fault
// injection and knobs. Real ScaleIO has no such port; nothing in src/ may depend on it.
import Fastify, { type FastifyInstance } from "fastify";
import { createReadStream, existsSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { bootstrap, type BootstrapOptions } from "../model/bootstrap.js";
import { ErrorCode, SimError, badRequest, notFound } from "../model/errors.js";
import type { ScaleioSystem } from "../model/system.js";
import type { ClusterMode } from "../model/types.js";
import { KB_PER_GB } from "../model/units.js";
import { TOOLS, type NodeTools, type Tool } from "../node/exec.js";
import { initSystemOf, servicesOf } from "../node/services.js";
import type { StatsEngine } from "../model/stats.js";

export interface ControlOptions {
  sys: ScaleioSystem;
  tools: NodeTools;
  stats: StatsEngine;
  repoDir: string;
}

type Body = Record<string, unknown>;

function num(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw badRequest(`Invalid ${key}`);
  return n;
}

function sizeKb(b: Body): number {
  const kb =
    num(b, "sizeKb") ??
    (num(b, "sizeGb") !== undefined ? num(b, "sizeGb")! * KB_PER_GB : undefined);
  if (!kb) throw badRequest("sizeKb or sizeGb is required");
  return Math.round(kb);
}

export function buildControl(o: ControlOptions): FastifyInstance {
  const { sys, tools } = o;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 }) as unknown as FastifyInstance;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = String(body).trim();
    if (!text) return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest("Malformed JSON in the request body", ErrorCode.ILLEGAL_SYNTAX), undefined);
    }
  });
  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof SimError) {
      return reply
        .code(err.httpStatus)
        .send({ message: err.message, httpStatusCode: err.httpStatus, errorCode: err.errorCode });
    }
    const e = err as { statusCode?: number; message?: string };
    const status = e.statusCode && e.statusCode < 500 ? e.statusCode : 500;
    return reply
      .code(status)
      .send({ message: e.message ?? "Internal error", httpStatusCode: status, errorCode: 0 });
  });
  const body = (b: unknown): Body =>
    b && typeof b === "object" && !Array.isArray(b) ? (b as Body) : {};

  app.post("/node/exec", async (req) => {
    const b = body(req.body);
    const tool = b.tool as Tool;
    if (!TOOLS.includes(tool)) throw badRequest(`Unknown tool ${String(b.tool)}`);
    const argv = Array.isArray(b.argv) ? b.argv.map(String) : [];
    const env = body(b.env) as Record<string, string | undefined>;
    const ip = env.SCALEIO_SIM_NODE_IP;
    if (!ip) throw badRequest("SCALEIO_SIM_NODE_IP is not set: which node is this?");
    const root = env.SCALEIO_SIM_ROOT || undefined;
    sys.tick();
    return tools.run(
      tool,
      { ip, root, env, ...(typeof b.stdin === "string" ? { stdin: b.stdin } : {}) },
      argv,
      typeof b.cwd === "string" ? b.cwd : undefined,
    );
  });

  app.get("/repo", async () =>
    readdirSync(o.repoDir)
      .sort()
      .map((f) => ({ file: f, path: join(o.repoDir, f), url: `/repo/${f}` })),
  );
  app.get("/repo/:file", async (req, reply) => {
    const f = basename((req.params as { file: string }).file);
    const path = join(o.repoDir, f);
    if (!existsSync(path)) throw notFound("package file");
    return reply.type("application/octet-stream").send(createReadStream(path));
  });

  // ---------------------------------------------------------------- admin: state and setup

  app.get("/admin/state", async () => {
    sys.tick();
    return {
      systemId: sys.created ? sys.id : null,
      systemName: sys.name,
      clusterMode: sys.cluster.mode,
      clusterState: sys.created ? sys.cluster.state() : null,
      hasQuorum: sys.created ? sys.cluster.hasQuorum() : null,
      members: sys.cluster.members.map((m) => ({
        name: m.name,
        ips: m.ips,
        role: m.role,
        alive: sys.cluster.isAlive(m),
      })),
      nodes: [...sys.nodes.values()].map((n) => ({
        ip: n.ip,
        root: n.root ?? null,
        packages: Object.fromEntries([...n.packages.values()].map((p) => [p.component, p.version])),
        mdmAlive: n.mdmAlive,
        sdsAlive: n.sdsAlive,
        sdcAlive: n.sdcAlive,
        initSystem: initSystemOf(n),
        services: Object.fromEntries(
          servicesOf(n).map((x) => [x.name, tools.services.state(n, x.component)]),
        ),
      })),
      capacityAlertThresholds: {
        high: sys.capacityAlertHighThresholdPercent,
        critical: sys.capacityAlertCriticalThresholdPercent,
      },
      pools: [...sys.pools.values()].map((p) => ({
        id: p.id,
        name: p.name,
        protectionDomainId: p.protectionDomainId,
        // As the MDM computes it for its capacity alerts (in use over non-spare capacity).
        usedPercent: Math.round(sys.poolUsedPercent(p.id) * 100) / 100,
        sparePercentage: p.sparePercentage,
        capacityAlertThresholds: {
          high: p.capacityAlertHighThreshold,
          critical: p.capacityAlertCriticalThreshold,
        },
      })),
      time: new Date(sys.clock.now()).toISOString(),
    };
  });

  app.post("/admin/bootstrap", async (req) => {
    if (sys.created) throw badRequest("The system already exists");
    const b = body(req.body);
    const opts: BootstrapOptions = {};
    if (typeof b.mode === "string") opts.mode = b.mode as ClusterMode;
    if (typeof b.firstIp === "string") opts.firstIp = b.firstIp;
    if (b.sdsCount !== undefined) opts.sdsCount = num(b, "sdsCount")!;
    if (b.sdcCount !== undefined) opts.sdcCount = num(b, "sdcCount")!;
    if (b.deviceGb !== undefined) opts.deviceGb = num(b, "deviceGb")!;
    if (typeof b.password === "string") opts.password = b.password;
    bootstrap(sys, opts);
    return { systemId: sys.id };
  });

  app.post("/admin/nodes/:ip/devices", async (req) => {
    const { ip } = req.params as { ip: string };
    const b = body(req.body);
    if (typeof b.path !== "string") throw badRequest("path is required");
    sys.node(ip).deviceSizesKb.set(b.path, sizeKb(b));
    return {};
  });

  // ---------------------------------------------------------------- admin: faults

  const mdmIp = (key: string): string => {
    const m = sys.cluster.byName(key) ?? sys.cluster.byIp(key);
    if (m) return m.ips[0]!;
    if (sys.nodes.get(key)?.packages.has("mdm")) return key;
    throw notFound("MDM");
  };
  const sdsIp = (key: string): string => {
    const s =
      sys.sdss.get(key) ?? [...sys.sdss.values()].find((x) => x.name === key) ?? sys.sdsByIp(key);
    const ip = s?.ipList.find((i) => sys.nodes.get(i.ip)?.packages.has("sds"))?.ip;
    if (ip) return ip;
    if (sys.nodes.get(key)?.packages.has("sds")) return key;
    throw notFound("SDS");
  };
  const sdcIp = (key: string): string => {
    const s = sys.sdcs.get(key) ?? sys.sdcByIp(key) ?? sys.sdcByGuid(key);
    if (s) return s.ip;
    if (sys.nodes.get(key)?.packages.has("sdc")) return key;
    throw notFound("SDC");
  };
  for (const [kind, resolve] of [
    ["mdm", mdmIp],
    ["sds", sdsIp],
    ["sdc", sdcIp],
  ] as const) {
    for (const verb of ["kill", "restore"] as const) {
      app.post(`/admin/${kind}/:key/${verb}`, async (req) => {
        const ip = resolve((req.params as { key: string }).key);
        sys.setComponentAlive(ip, kind, verb === "restore");
        return { ip, component: kind, alive: verb === "restore" };
      });
    }
  }

  /**
   * A rebuild of this size in the SDS's pool, as after a short outage of that SDS (a
   * backward rebuild; the lifecycle gates must wait for it). Runs at the pool's rebuild
   * speed in emulated time (`/admin/time` advances it).
   */
  app.post("/admin/sds/:key/rebuild", async (req) => {
    const ip = sdsIp((req.params as { key: string }).key);
    const sds = sys.sdsByIp(ip);
    if (!sds) throw notFound("SDS");
    const kb = sizeKb(body(req.body));
    if (!(kb > 0)) throw badRequest("sizeGb or sizeKb must be more than 0");
    sys.tick();
    sys.movement.startBackwardRebuild(sds, kb);
    return { sds: sds.id, rebuildKb: kb };
  });

  for (const verb of ["fail", "restore"] as const) {
    app.post(`/admin/devices/:id/${verb}`, async (req) => {
      const id = (req.params as { id: string }).id;
      sys.setDeviceFailed(id, verb === "fail");
      return { id, failed: verb === "fail" };
    });
  }

  app.post("/admin/volumes/:id/write", async (req) => {
    sys.tick();
    const v = sys.volume((req.params as { id: string }).id);
    const written = sys.writeVolume(v.id, sizeKb(body(req.body)));
    return { writtenKb: written, totalWrittenKb: v.writtenKb };
  });

  app.post("/admin/pools/:id/write", async (req) => {
    sys.tick();
    sys.writePool((req.params as { id: string }).id, sizeKb(body(req.body)));
    return {};
  });

  /** Sets a pool's used capacity so that the MDM's used % (as for its alerts) becomes N. */
  app.post("/admin/pools/:id/fill", async (req) => {
    const id = (req.params as { id: string }).id;
    const raw = body(req.body).percent;
    const percent =
      typeof raw === "number"
        ? raw
        : typeof raw === "string" && /^\d+(\.\d+)?$/.test(raw.trim())
          ? Number(raw)
          : NaN;
    if (!(percent >= 0 && percent <= 100))
      throw badRequest(
        `percent must be a number from 0 to 100 (the pool's used % of non-spare capacity), not ${JSON.stringify(raw) ?? "missing"}`,
      );
    const usedPercent = sys.fillPool(id, percent);
    return { id, usedPercent: Math.round(usedPercent * 100) / 100 };
  });

  app.post("/admin/pools/:id/clear", async (req) => {
    sys.clearPoolFill((req.params as { id: string }).id);
    return {};
  });

  /** Emulated application I/O through the SDC: fails where no copy of the data is live. */
  app.post("/admin/volumes/:id/io", async (req) => {
    sys.tick();
    const v = sys.volume((req.params as { id: string }).id);
    if (sys.volumeHasFailedData(v))
      throw new SimError("I/O error (EIO): no live copy of part of the volume", 500, 5);
    return { ok: true, latencyMs: o.stats.volumeIo(v).latencyMs };
  });

  app.post("/admin/volumes/:id/workload", async (req) => {
    const v = sys.volume((req.params as { id: string }).id);
    const b = body(req.body);
    v.workload = {
      readIops: num(b, "readIops") ?? 0,
      writeIops: num(b, "writeIops") ?? 0,
      ioSizeKb: num(b, "ioSizeKb") ?? 4,
    };
    return {};
  });

  app.post("/admin/slow-io", async (req) => {
    const b = body(req.body);
    const ms = num(b, "latencyMs");
    if (ms === undefined) throw badRequest("latencyMs is required");
    const key = typeof b.sds === "string" ? sys.sdsByIp(sdsIp(b.sds))!.id : "*";
    if (ms === 0) sys.slowIoMs.delete(key);
    else sys.slowIoMs.set(key, ms);
    return {};
  });

  app.post("/admin/time", async (req) => {
    const b = body(req.body);
    const scale = num(b, "scale");
    const adv = num(b, "advanceSeconds");
    if (scale !== undefined) {
      if (!sys.clock.setFactor) throw badRequest("This emulator's clock cannot be scaled");
      if (scale <= 0) throw badRequest("scale must be positive");
      sys.clock.setFactor(scale);
    }
    if (adv !== undefined) {
      if (!sys.clock.advance) throw badRequest("This emulator's clock cannot be advanced");
      sys.clock.advance(adv * 1000);
    }
    sys.tick();
    return { time: new Date(sys.clock.now()).toISOString() };
  });

  return app;
}
