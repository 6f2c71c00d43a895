// The scheduler's HTTP server. For now: health for Marathon, version (with the predecessor's
// fields), and the secrets endpoint executors trade their single-use tokens at. The operator
// API, event stream, metrics and UI mount here too.
import Fastify, { type FastifyInstance } from "fastify";
import { createReadStream, statSync } from "node:fs";
import type { SecretVault } from "../framework/secrets/vault.js";
import { SECRETS_PATH } from "../framework/node-task/protocol.js";
import { registerUi } from "./ui-routes.js";

export interface HealthSource {
  /** Subscribed to Mesos right now. */
  subscribed(): boolean;
  /** Throws if the state store cannot be written. */
  checkStore(): Promise<void>;
}

export interface ApiServerOptions {
  version: string;
  vault: SecretVault;
  health: HealthSource;
  /** The self-contained executor agents fetch (`executor.launch: artifact`). */
  executorArtifact?: string;
  /** Audit hook: who got which secrets for what (never the values). */
  onSecretsIssued?: (purpose: string, names: string[], remote: string) => void;
}

/** 1.2.3 → 10203, as the predecessor reported `versionint`. */
export function versionInt(version: string): number {
  const [a = 0, b = 0, c = 0] = version.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  return a * 10000 + b * 100 + c;
}

export function buildApiServer(opts: ApiServerOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

  app.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
    const status =
      err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    void reply.code(status).send({ error: status === 500 ? "internal error" : err.message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split("?")[0]}` });
  });

  app.get("/health", async (_req, reply) => {
    const problems: string[] = [];
    if (!opts.health.subscribed()) problems.push("not subscribed to Mesos");
    try {
      await opts.health.checkStore();
    } catch (err) {
      problems.push(`state store not writable: ${(err as Error).message}`);
    }
    return reply
      .code(problems.length ? 503 : 200)
      .send({ healthy: problems.length === 0, problems });
  });

  app.get("/version", async () => ({
    versionint: versionInt(opts.version),
    versionstr: opts.version,
    version: opts.version,
  }));

  // Versioned path: the agents' fetcher cache keys on the URI, so an upgrade fetches anew.
  app.get(`/v1/artifacts/${opts.version}/scaleio-executor`, async (_req, reply) => {
    const path = opts.executorArtifact;
    let size: number;
    try {
      if (!path) throw new Error("none");
      size = statSync(path).size;
    } catch {
      return reply
        .code(404)
        .send({ error: "the executor artifact is not built (npm run build:executor)" });
    }
    return reply
      .header("content-type", "application/octet-stream")
      .header("content-length", String(size))
      .send(createReadStream(path));
  });

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

  registerUi(app);
  return app;
}
