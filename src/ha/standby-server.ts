// The API of a scheduler that stands by: it is alive (/health 200, role "standby"), says who
// leads (/v1/leader) and its version, answers the operator's reads (summary, health, pools,
// plans, nodes) from the copy of the leader's views in the store, marked as a standby's
// copy with its age and the leader's URL, and sends every other request (every change) to
// the leader with a 503 naming the leader's API URL. It holds no scheduler state: that is
// built on election.
import type { RequestListener, Server } from "node:http";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { Secret } from "../common/secret.js";
import { requireToken, type Guard } from "../api/auth.js";
import { registerCompression } from "../api/compression.js";
import { ApiError } from "../api/errors.js";
import { nodeQuery, parseQuery, stepQuery } from "../api/list-query.js";
import { leaderRoutes } from "../api/routes/leader.js";
import { versionInt } from "../api/server.js";
import { CursorError } from "../framework/node-index.js";
import type { LeaderView } from "./elector.js";
import type { StoredViewSnapshot } from "./view-reader.js";
import { filteredPlan, nodePage } from "./view-query.js";

export interface StandbyServerOptions {
  version: string;
  election: { view(): LeaderView };
  /** The leader's views as stored (src/ha/view-reader.ts); without: every read is a 503. */
  views?: { current(): Promise<StoredViewSnapshot | undefined> };
  apiToken?: Secret | undefined;
  protectReads?: boolean;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Serve on the caller's server (src/ha/handover-listener.ts), which carries the TLS. */
  serverFactory?: (handler: RequestListener) => Server;
  now?: () => number;
  /** Called with unexpected faults (5xx), for the log. */
  onFault?: (err: Error, url: string) => void;
}

/** The stable code of the answer a standby gives to what only the leader does. */
export const NOT_LEADER = "NOT_LEADER";

export function buildStandbyServer(opts: StandbyServerOptions): FastifyInstance {
  const base = { logger: false, bodyLimit: 64 * 1024 };
  const app = (opts.serverFactory
    ? Fastify({ ...base, serverFactory: opts.serverFactory })
    : opts.tls
      ? Fastify({ ...base, https: opts.tls })
      : Fastify(base)) as unknown as FastifyInstance;
  const read: Guard[] = opts.protectReads ? [requireToken(opts.apiToken)] : [];
  const leaderApi = () => {
    const v = opts.election.view();
    return v.leader ? undefined : (v.current?.api ?? null);
  };
  const notLeader = (reply: FastifyReply, what: string, why = "this scheduler stands by") => {
    const leader = leaderApi() ?? null;
    const where = leader
      ? `the leader at ${leader}`
      : "the leader (not known yet: none elected, or not read yet)";
    return reply
      .code(503)
      .header("retry-after", "1")
      .send({ error: `${why}: send ${what} to ${where}`, code: NOT_LEADER, leader });
  };
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof CursorError) return reply.code(400).send({ error: err.message });
    const status =
      err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    const hide = status >= 500 && !(err instanceof ApiError);
    if (hide) opts.onFault?.(err, req.url);
    return reply.code(status).send({ error: hide ? "internal error" : err.message });
  });
  // Before any route: the plugin hooks each route as it is added.
  registerCompression(app);

  // Alive and ready to take over: Marathon must not restart a standby.
  app.get("/health", async () => ({
    healthy: true,
    role: "standby",
    problems: [],
    leader: leaderApi() ?? null,
  }));
  app.get("/version", async () => ({
    versionint: versionInt(opts.version),
    versionstr: opts.version,
    version: opts.version,
  }));
  leaderRoutes(app, opts.election, { read });
  if (opts.views) {
    const views = opts.views;
    const now = opts.now ?? Date.now;
    /** Serves what answer() makes of the stored copy, or a 503 when there is none. */
    const fromCopy =
      <P>(answer: (snap: StoredViewSnapshot, params: P, query: unknown) => unknown) =>
      async (
        req: { params: P; query: unknown; method: string; url: string },
        reply: FastifyReply,
      ) => {
        const what = `${req.method} ${req.url.split("?")[0]}`;
        let snap: StoredViewSnapshot | undefined;
        try {
          snap = await views.current();
        } catch (err) {
          // The store's words stay in the reader's log line: they name paths and servers.
          const code = (err as { code?: unknown }).code;
          const why = typeof code === "string" ? ` (${code})` : "";
          return notLeader(reply, what, `the leader's views cannot be read from the store${why}`);
        }
        if (!snap) return notLeader(reply, what, "no copy of the leader's views in the store yet");
        const body = answer(snap, req.params, req.query);
        // The leader's clock may run ahead of this host's: never a negative age.
        const ageMs = Math.max(0, now() - snap.meta.checkedAt);
        // Where changes go now (the election's word, not the copy's publisher's).
        const leader = leaderApi();
        void reply
          .header("x-served-by", "standby")
          .header("x-view-age-ms", String(ageMs))
          .header("age", String(Math.floor(ageMs / 1000)))
          .header("cache-control", "no-cache");
        if (leader) void reply.header("x-leader", leader);
        return reply.send(body);
      };
    type PlanParams = { planId: string };
    type NodeParams = { agentId: string };
    app.get(
      "/v1/summary",
      { onRequest: read },
      fromCopy((s) => s.set.summary),
    );
    app.get(
      "/v1/health",
      { onRequest: read },
      fromCopy((s) => s.set.health),
    );
    app.get(
      "/v1/pools",
      { onRequest: read },
      fromCopy((s) => ({ pools: s.set.pools })),
    );
    app.get(
      "/v1/plans",
      { onRequest: read },
      fromCopy((s) => ({ plans: s.set.plans })),
    );
    app.get<{ Params: PlanParams }>(
      "/v1/plans/:planId",
      { onRequest: read },
      fromCopy<PlanParams>((s, p, query) => {
        const f = parseQuery(stepQuery, query);
        const plan = s.planById.get(p.planId);
        if (!plan) throw new ApiError(404, `no plan '${p.planId}'`);
        return filteredPlan(plan, f, s.set.nodes, s.nodeById);
      }),
    );
    app.get(
      "/v1/nodes",
      { onRequest: read },
      fromCopy((s, _p, query) => {
        const q = parseQuery(nodeQuery, query);
        // No parameter: every node, in the leader's order.
        if (Object.keys(q).length === 0) return { nodes: s.set.nodes };
        return nodePage(s.set.nodes, q);
      }),
    );
    app.get<{ Params: NodeParams }>(
      "/v1/nodes/:agentId",
      { onRequest: read },
      fromCopy<NodeParams>((s, p) => {
        const node = s.nodeById.get(p.agentId);
        if (!node) throw new ApiError(404, `no agent '${p.agentId}'`);
        return node;
      }),
    );
  }
  app.setNotFoundHandler((req, reply) => {
    void notLeader(reply, `${req.method} ${req.url.split("?")[0]}`);
  });
  return app;
}
