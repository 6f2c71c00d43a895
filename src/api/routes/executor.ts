// Endpoints for executors on the agents: the secrets exchange (single-use token → values) and
// the self-contained executor artifact Mesos fetches.
import type { FastifyInstance } from "fastify";
import { createReadStream, statSync } from "node:fs";
import type { RefusalReason, SecretVault } from "../../framework/secrets/vault.js";
import { SECRETS_PATH, SECRETS_TASK_HEADER } from "../../framework/node-task/protocol.js";

/** What a refused secrets request is logged with (never the token). */
export interface SecretsRefusal {
  reason: RefusalReason;
  remote: string;
  /** The task id the caller showed, if any. */
  taskId?: string;
  /** The step the token was issued for, when the token was known. */
  purpose?: string;
}

export interface ExecutorRouteOptions {
  version: string;
  vault: Pick<SecretVault, "redeem">;
  executorArtifact?: string;
  onSecretsIssued?: (purpose: string, names: string[], remote: string) => void;
  /** Each refused request (rate-limited callers once per window). */
  onSecretsRefused?: (refusal: SecretsRefusal) => void;
}

export function executorRoutes(app: FastifyInstance, opts: ExecutorRouteOptions): void {
  // Versioned path: the agents' fetcher cache keys on the URI, so an upgrade fetches anew.
  app.get<{ Params: { version: string } }>(
    "/v1/artifacts/:version/scaleio-executor",
    async (req, reply) => {
      const path = opts.executorArtifact;
      let size: number;
      try {
        if (!path || req.params.version !== opts.version) throw new Error("none");
        size = statSync(path).size;
      } catch {
        return reply.code(404).send({
          error:
            req.params.version !== opts.version
              ? `this scheduler serves the executor of version ${opts.version} only`
              : "the executor artifact is not built (npm run build:executor)",
        });
      }
      return reply
        .header("content-type", "application/octet-stream")
        .header("content-length", String(size))
        .send(createReadStream(path));
    },
  );

  app.get(SECRETS_PATH, async (req, reply) => {
    const auth = req.headers.authorization ?? "";
    const m = /^Bearer ([A-Za-z0-9_-]{16,200})$/.exec(auth);
    const shown = req.headers[SECRETS_TASK_HEADER];
    const taskId = typeof shown === "string" && shown.length <= 300 ? shown : undefined;
    // The socket's address, not a forwarded header: the agent check needs the real peer.
    const remote = req.socket.remoteAddress ?? req.ip;
    const outcome = opts.vault.redeem(m ? m[1]! : "", { taskId, address: remote });
    if (!outcome.ok) {
      if (outcome.worthLogging)
        opts.onSecretsRefused?.({
          reason: outcome.reason,
          remote,
          ...(taskId ? { taskId } : {}),
          ...(outcome.purpose ? { purpose: outcome.purpose } : {}),
        });
      if (outcome.reason === "rate-limited")
        return reply
          .code(429)
          .header("retry-after", String(Math.ceil((outcome.retryAfterMs ?? 1000) / 1000)))
          .send({ error: "too many refused requests from this address; try again later" });
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="scaleio-framework-executor"')
        .send({ error: "missing, unknown, used, expired or misbound token" });
    }
    opts.onSecretsIssued?.(outcome.purpose, Object.keys(outcome.values), remote);
    return reply.header("cache-control", "no-store").send(outcome.values);
  });
}
