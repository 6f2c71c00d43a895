// Health: the cluster's status and active conditions (the same model as the summary, /health,
// metrics and the CLI), capacity per pool, and the last hour of observations for plots.
import type { FastifyInstance } from "fastify";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import { ApiError } from "../errors.js";

export function healthRoutes(
  app: FastifyInstance,
  view: OperatorView,
  guards: { read: Guard[] },
): void {
  const platform = view.source.platform;
  app.get("/v1/health", { onRequest: guards.read }, async () => view.healthReport());
  app.get("/v1/pools", { onRequest: guards.read }, async () => ({
    pools: platform.pools?.() ?? [],
  }));
  app.get<{ Querystring: { since?: string } }>(
    "/v1/health/history",
    { onRequest: guards.read },
    async (req) => {
      const raw = req.query.since;
      if (raw !== undefined && !/^\d{1,15}$/.test(raw))
        throw new ApiError(400, "since: epoch milliseconds expected");
      const since = raw === undefined ? undefined : Number(raw);
      return { samples: platform.history?.(since) ?? [] };
    },
  );
}
