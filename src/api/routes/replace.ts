// A lost or failing node replaced at an operator's request: its roles move to other agents
// (the platform decides which, by its placement rules) in the plan it names. 202 when planned,
// 409 with the reason and a stable code when refused (a healthy node without `force`, no agent
// that can take over, no quorum, another replacement under way).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import { parseBody } from "../body.js";
import { ApiError, answerRefusal } from "../errors.js";

type Params = { agentId: string };

export const replaceBody = z.object({ force: z.boolean().optional() }).strict();

export function replaceRoutes(
  app: FastifyInstance,
  view: OperatorView,
  guards: { write: Guard[] },
): void {
  app.post<{ Params: Params }>(
    "/v1/nodes/:agentId/replace",
    { onRequest: guards.write },
    async (req, reply) => {
      const { agentId } = req.params;
      const { force } = parseBody(replaceBody, req.body);
      const node = view.node(agentId);
      if (!node) throw new ApiError(404, `no agent '${agentId}'`);
      const platform = view.source.platform;
      if (!platform.replaceNode)
        throw new ApiError(501, `the ${platform.name} platform cannot replace nodes`);
      let answer: { plan: string; message: string; replacement?: string };
      try {
        answer = await platform.replaceNode(agentId, { force: force === true });
      } catch (err) {
        return answerRefusal(reply, err);
      }
      view.events.log(
        force ? "warn" : "info",
        `operator asked to replace ${node.hostname}${force ? " (forced)" : ""}: ${answer.message}`,
      );
      return reply.code(202).send(answer);
    },
  );
}
