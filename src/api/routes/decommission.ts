// A node taken out of the cluster for good, and let back in. Decommission answers 202 when the
// work is under way (the `decommission` plan) and 409 with a code and the figures when the node
// may not go (the rest of a pool could not hold its data, too few fault units would remain, or
// it is an MDM member: replace it first). Recommission lets the deploy plan on-board it again.
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import { emptyBody, parseBody } from "../body.js";
import { ApiError, answerRefusal } from "../errors.js";

type Params = { agentId: string };

/** `removeSdc`: the platform's storage client goes too (only when nothing is mapped to it). */
export const decommissionBody = z.object({ removeSdc: z.boolean().optional() }).strict();

/** A platform's refusal answers with its own status, code and figures (not a 500: a fault). */
const refused = (reply: FastifyReply, err: unknown): FastifyReply =>
  answerRefusal(reply, err, (e) => e.statusCode !== 500);

export function decommissionRoutes(
  app: FastifyInstance,
  view: OperatorView,
  guards: { write: Guard[] },
): void {
  app.post<{ Params: Params }>(
    "/v1/nodes/:agentId/decommission",
    { onRequest: guards.write },
    async (req, reply) => {
      const { agentId } = req.params;
      const { removeSdc } = parseBody(decommissionBody, req.body);
      const node = view.node(agentId);
      if (!node) throw new ApiError(404, `no agent '${agentId}'`);
      const platform = view.source.platform;
      if (!platform.decommission)
        throw new ApiError(501, `the ${platform.name} platform cannot decommission nodes`);
      let started;
      try {
        started = await platform.decommission(agentId, { removeClient: removeSdc ?? false });
      } catch (err) {
        return refused(reply, err);
      }
      view.events.log(
        "info",
        `operator asked to decommission ${node.hostname}: ${started.message}`,
      );
      return reply.code(202).send(started);
    },
  );
  app.post<{ Params: Params }>(
    "/v1/nodes/:agentId/recommission",
    { onRequest: guards.write },
    async (req, reply) => {
      const { agentId } = req.params;
      parseBody(emptyBody, req.body);
      const node = view.node(agentId);
      if (!node) throw new ApiError(404, `no agent '${agentId}'`);
      const platform = view.source.platform;
      if (!platform.recommission)
        throw new ApiError(501, `the ${platform.name} platform cannot recommission nodes`);
      try {
        await platform.recommission(agentId);
      } catch (err) {
        return refused(reply, err);
      }
      view.events.log("info", `operator recommissioned ${node.hostname}: it is on-boarded again`);
      return reply
        .code(202)
        .send({ accepted: true, message: `${node.hostname} is on-boarded again` });
    },
  );
}
