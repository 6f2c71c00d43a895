// Endpoints for executors on the agents: the secrets exchange (single-use token → values) and
// the self-contained executor artifact Mesos fetches.
import type { FastifyInstance } from "fastify";
import { createReadStream, statSync } from "node:fs";
import type { SecretVault } from "../../framework/secrets/vault.js";
import { SECRETS_PATH } from "../../framework/node-task/protocol.js";

export interface ExecutorRouteOptions {
  version: string;
  vault: Pick<SecretVault, "redeem">;
  executorArtifact?: string;
  onSecretsIssued?: (purpose: string, names: string[], remote: string) => void;
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
    const granted = m ? opts.vault.redeem(m[1]!) : undefined;
    if (!granted) {
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="scaleio-framework-executor"')
        .send({ error: "missing, unknown, used or expired token" });
    }
    opts.onSecretsIssued?.(granted.purpose, Object.keys(granted.values), req.ip);
    return reply.header("cache-control", "no-store").send(granted.values);
  });
}
