// Nodes (one per agent the framework knows) and the summary of the whole cluster.
import type { FastifyInstance } from "fastify";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import { emptyBody, parseBody } from "../body.js";
import { ApiError } from "../errors.js";
import { nodeQuery, parseQuery } from "../list-query.js";
import { CursorError } from "../../framework/node-index.js";

type Params = { agentId: string };

export function nodeRoutes(
  app: FastifyInstance,
  view: OperatorView,
  guards: { read: Guard[]; write: Guard[] },
): void {
  app.get("/v1/summary", { onRequest: guards.read }, async () => view.summary());
  app.get("/v1/nodes", { onRequest: guards.read }, async (req) => {
    const q = parseQuery(nodeQuery, req.query);
    // No parameter: every node, in the registry's order, as always.
    if (Object.keys(q).length === 0) return { nodes: view.nodes() };
    try {
      return view.nodePage(q);
    } catch (err) {
      if (err instanceof CursorError) throw new ApiError(400, err.message);
      throw err;
    }
  });
  app.get<{ Params: Params }>("/v1/nodes/:agentId", { onRequest: guards.read }, async (req) => {
    const node = view.node(req.params.agentId);
    if (!node) throw new ApiError(404, `no agent '${req.params.agentId}'`);
    return node;
  });
  app.post<{ Params: Params }>(
    "/v1/nodes/:agentId/rescan",
    { onRequest: guards.write },
    async (req, reply) => {
      const { agentId } = req.params;
      parseBody(emptyBody, req.body);
      const node = view.node(agentId);
      if (!node) throw new ApiError(404, `no agent '${agentId}'`);
      const platform = view.source.platform;
      if (!platform.rescan)
        throw new ApiError(501, `the ${platform.name} platform cannot rescan devices`);
      // Refusals (agent lost, not deployed yet) carry a 4xx statusCode and answer as such; the
      // rescan itself then runs as plan work, its outcome in the plans and the event stream.
      try {
        await platform.rescan(agentId);
      } catch (err) {
        const e = err as Error & { statusCode?: number };
        if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)
          throw new ApiError(e.statusCode, e.message);
        throw err;
      }
      view.events.log("info", `operator asked to rescan the devices of ${node.hostname}`);
      return reply.code(202).send({ accepted: true });
    },
  );
}
