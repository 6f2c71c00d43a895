// A node into or out of maintenance at an operator's request, with the same rules as a Mesos
// maintenance window (the platform decides): 202 when the work is under way (the
// `maintenance` plan), 409 with the reason when refused.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import { parseBody } from "../body.js";
import { ApiError, answerRefusal } from "../errors.js";

type Params = { agentId: string };

export const maintenanceBody = z.object({ enter: z.boolean() }).strict();

export function maintenanceRoutes(
  app: FastifyInstance,
  view: OperatorView,
  guards: { write: Guard[] },
): void {
  app.post<{ Params: Params }>(
    "/v1/nodes/:agentId/maintenance",
    { onRequest: guards.write },
    async (req, reply) => {
      const { agentId } = req.params;
      const { enter } = parseBody(maintenanceBody, req.body);
      const node = view.node(agentId);
      if (!node) throw new ApiError(404, `no agent '${agentId}'`);
      const platform = view.source.platform;
      if (!platform.setMaintenance)
        throw new ApiError(501, `the ${platform.name} platform has no maintenance`);
      let answer: { state: string; message: string };
      try {
        answer = await platform.setMaintenance(agentId, enter);
      } catch (err) {
        return answerRefusal(reply, err);
      }
      view.events.log(
        "info",
        `operator asked ${node.hostname} ${enter ? "into" : "out of"} maintenance: ${answer.message}`,
      );
      return reply.code(202).send(answer);
    },
  );
}
