// The API of a scheduler that stands by: it is alive (/health 200, role "standby"), says who
// leads (/v1/leader) and its version, and sends every other request to the leader with a
// 503 naming the leader's API URL. It holds no scheduler state: that is built on election.
import Fastify, { type FastifyInstance } from "fastify";
import type { Secret } from "../common/secret.js";
import { requireToken, type Guard } from "../api/auth.js";
import { leaderRoutes } from "../api/routes/leader.js";
import { versionInt } from "../api/server.js";
import type { LeaderView } from "./elector.js";

export interface StandbyServerOptions {
  version: string;
  election: { view(): LeaderView };
  apiToken?: Secret | undefined;
  protectReads?: boolean;
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** The stable code of the answer a standby gives to what only the leader does. */
export const NOT_LEADER = "NOT_LEADER";

export function buildStandbyServer(opts: StandbyServerOptions): FastifyInstance {
  const base = { logger: false, bodyLimit: 64 * 1024 };
  const app = (opts.tls
    ? Fastify({ ...base, https: opts.tls })
    : Fastify(base)) as unknown as FastifyInstance;
  const read: Guard[] = opts.protectReads ? [requireToken(opts.apiToken)] : [];
  const leaderApi = () => {
    const v = opts.election.view();
    return v.leader ? undefined : (v.current?.api ?? null);
  };

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
  app.setNotFoundHandler((req, reply) => {
    const leader = leaderApi() ?? null;
    const where = leader ? `the leader at ${leader}` : "the leader (none elected yet)";
    void reply
      .code(503)
      .header("retry-after", "1")
      .send({
        error: `this scheduler stands by: send ${req.method} ${req.url.split("?")[0]} to ${where}`,
        code: NOT_LEADER,
        leader,
      });
  });
  return app;
}
