// The scheduler's HTTP server: health for Marathon, version (with the predecessor's fields),
// the executor endpoints, and — given an operator view — the operator API (summary, nodes,
// plans and their controls, the event stream), metrics and the OpenAPI document.
import Fastify, { type FastifyInstance } from "fastify";
import type { RequestListener, Server } from "node:http";
import type { Secret } from "../common/secret.js";
import type { OperatorView } from "../framework/operator-view.js";
import { requireToken, type Guard } from "./auth.js";
import { registerCompression } from "./compression.js";
import { installErrorHandlers } from "./errors.js";
import { EventStreams } from "./event-streams.js";
import {
  applyServerLimits,
  fastifyLimitOptions,
  resolveHttpLimits,
  type HttpLimits,
} from "./http-limits.js";
import type { Metrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { eventRoutes } from "./routes/events.js";
import { executorRoutes, type ExecutorRouteOptions } from "./routes/executor.js";
import { nodeRoutes } from "./routes/nodes.js";
import { maintenanceRoutes } from "./routes/maintenance.js";
import { decommissionRoutes } from "./routes/decommission.js";
import { replaceRoutes } from "./routes/replace.js";
import { healthRoutes } from "./routes/health.js";
import { planRoutes } from "./routes/plans.js";
import { upgradeRoutes } from "./routes/upgrade.js";
import { uninstallRoutes } from "./routes/uninstall.js";
import { leaderRoutes } from "./routes/leader.js";
import type { LeaderView } from "../ha/elector.js";
import type { Uninstaller } from "../framework/uninstall.js";
import { registerUi } from "./ui-routes.js";

export interface HealthSource {
  /** Subscribed to Mesos right now. */
  subscribed(): boolean;
  /** Throws if the state store cannot be written. */
  checkStore(): Promise<void>;
}

export interface ApiServerOptions extends ExecutorRouteOptions {
  health: HealthSource;
  /** The operator API is served when given. */
  operator?: OperatorView;
  metrics?: Metrics;
  /** Bearer token for mutations (and reads with protectReads); none: mutations are refused. */
  apiToken?: Secret | undefined;
  protectReads?: boolean;
  /** SSE keep-alive period (tests shorten it). */
  keepAliveMs?: number;
  /** Timeouts and the connection cap (defaults: DEFAULT_HTTP_LIMITS). */
  limits?: Partial<HttpLimits>;
  /** The open event streams and what each holds (default: a new registry). */
  eventStreams?: EventStreams;
  /** Called with unexpected faults (5xx), for the log. */
  onFault?: (err: Error, url: string) => void;
  /** Sees every route as it is registered (the OpenAPI test compares them with the document). */
  onRoute?: (method: string, url: string) => void;
  /** Lets other parts (the web UI) add their routes before the server is ready. */
  extend?: (app: FastifyInstance) => void;
  /** Serves `/v1/uninstall` (with the operator API). */
  uninstall?: Pick<Uninstaller, "request" | "status">;
  /** The leader election (state in ZooKeeper): GET /v1/leader, and the role in /health. */
  leader?: { view(): LeaderView };
  /** Serve HTTPS with this PEM certificate (chain) and key instead of plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Serve on a server of the caller's (a standby's listener handed over, src/ha): it carries
   * the TLS and the limits, and the caller listens and closes it.
   */
  serverFactory?: (handler: RequestListener) => Server;
}

/** 1.2.3 → 10203, as the predecessor reported `versionint`. */
export function versionInt(version: string): number {
  const [a = 0, b = 0, c = 0] = version.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  return a * 10000 + b * 100 + c;
}

export function buildApiServer(opts: ApiServerOptions): FastifyInstance {
  const limits = resolveHttpLimits(opts.limits);
  const base = { logger: false, bodyLimit: 1024 * 1024, ...fastifyLimitOptions(limits) };
  // The HTTPS instance is typed for https.Server; routes and hooks are the same either way.
  const app = (opts.serverFactory
    ? Fastify({ ...base, serverFactory: opts.serverFactory })
    : opts.tls
      ? Fastify({ ...base, https: opts.tls })
      : Fastify(base)) as unknown as FastifyInstance;
  if (!opts.serverFactory)
    applyServerLimits(app.server, limits, () => opts.metrics?.countRefusedConnection());
  const onRoute = opts.onRoute;
  if (onRoute)
    app.addHook("onRoute", (r) => {
      for (const m of [r.method].flat()) onRoute(m, r.url);
    });
  installErrorHandlers(app, opts.onFault);
  // Before any route: the plugin hooks each route as it is added.
  registerCompression(app);

  // onRequest hooks: the token is checked before any of the body is read.
  const write: Guard[] = [requireToken(opts.apiToken)];
  const read: Guard[] = opts.protectReads ? write : [];
  const streams = opts.eventStreams ?? new EventStreams();
  opts.metrics?.bindEventStreams(streams);

  app.get("/health", async (_req, reply) => {
    const problems: string[] = [];
    if (!opts.health.subscribed()) problems.push("not subscribed to Mesos");
    try {
      await opts.health.checkStore();
    } catch (err) {
      problems.push(`state store not writable: ${(err as Error).message}`);
    }
    // The code is the scheduler's own liveness (Marathon restarts a 503): a degraded
    // cluster is no reason to restart it. The cluster's health travels in the body, from the
    // same model as /v1/health, so an MDM alert is never hidden behind a plain 200.
    const cluster = opts.operator?.healthReport();
    return reply.code(problems.length ? 503 : 200).send({
      healthy: problems.length === 0,
      ...(opts.leader ? { role: opts.leader.view().leader ? "leader" : "standby" } : {}),
      problems,
      ...(cluster
        ? {
            cluster: {
              status: cluster.status,
              conditions: cluster.conditions.map((c) => `${c.severity} ${c.type} ${c.object}`),
            },
          }
        : {}),
    });
  });

  app.get("/version", async () => ({
    versionint: versionInt(opts.version),
    versionstr: opts.version,
    version: opts.version,
  }));

  // The 2017 scheduler's state document (it carried the admin password): gone, with where
  // each part of it lives now, so a script written for it fails with directions, not a 404.
  app.get("/api/state", async (_req, reply) =>
    reply.code(410).send({
      error:
        "/api/state was the 2017 scheduler's; its parts are GET /v1/summary (the cluster), /v1/nodes (the agents) and /v1/plans (progress)",
      successors: ["/v1/summary", "/v1/nodes", "/v1/plans"],
    }),
  );

  executorRoutes(app, opts);
  if (opts.leader) leaderRoutes(app, opts.leader, { read });

  const doc = openApiDocument(opts.version);
  app.get("/openapi.json", async () => doc);

  if (opts.metrics) {
    const metrics = opts.metrics;
    app.get("/metrics", { onRequest: read }, async (_req, reply) =>
      reply.header("content-type", metrics.contentType).send(await metrics.text()),
    );
  }

  if (opts.operator) {
    const view = opts.operator;
    nodeRoutes(app, view, { read, write });
    maintenanceRoutes(app, view, { write });
    decommissionRoutes(app, view, { write });
    replaceRoutes(app, view, { write });
    healthRoutes(app, view, { read });
    planRoutes(app, view, { read, write });
    uninstallRoutes(app, view, opts.uninstall, { read, write });
    upgradeRoutes(app, view, { write });
    eventRoutes(
      app,
      view.events,
      { read },
      { streams, ...(opts.keepAliveMs ? { keepAliveMs: opts.keepAliveMs } : {}) },
    );
  }

  registerUi(app);
  opts.extend?.(app);
  return app;
}
