// A rolling upgrade of the cluster's software at an operator's request: 202 once the `upgrade`
// plan is in place (its progress, pauses and controls are those of any plan), 409 with a
// stable code when refused (a downgrade, another upgrade unfinished).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import { parseBody } from "../body.js";
import { ApiError, answerRefusal } from "../errors.js";

export const upgradeBody = z
  .object({
    version: z
      .string()
      .regex(/^\d+\.\d+-\d+(\.\d+)?$/, "must be a package version like 2.0-13000.211"),
    /** Pause after this many storage servers until an operator resumes the plan. */
    canary: z.number().int().min(0).max(10_000).optional(),
  })
  .strict();

export function upgradeRoutes(
  app: FastifyInstance,
  view: OperatorView,
  guards: { write: Guard[] },
): void {
  app.post("/v1/plans/upgrade", { onRequest: guards.write }, async (req, reply) => {
    const { version, canary } = parseBody(upgradeBody, req.body);
    const platform = view.source.platform;
    if (!platform.upgrade)
      throw new ApiError(501, `the ${platform.name} platform cannot be upgraded`);
    try {
      await platform.upgrade({ version, ...(canary ? { canary } : {}) });
    } catch (err) {
      return answerRefusal(reply, err);
    }
    view.events.log(
      "info",
      `operator asked for an upgrade to ${version}${canary ? ` (canary: ${canary})` : ""}`,
    );
    return reply.code(202).send({ accepted: true, planId: "upgrade", version });
  });
}
