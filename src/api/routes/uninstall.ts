// Uninstall at an operator's request: `POST /v1/uninstall` with the framework's name as
// confirmation answers 202 once the teardown plan is in place (its progress shows like any
// plan's); the scheduler then releases its agents, leaves Mesos, deletes its state and exits.
// Refusals carry a stable code: CONFIRMATION_MISMATCH (400), VOLUMES_EXIST (409, unless
// destroyData), CLUSTER_UNREADABLE (503). `GET /v1/uninstall` says how far it is.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import type { Uninstaller } from "../../framework/uninstall.js";
import { parseBody } from "../body.js";
import { answerRefusal } from "../errors.js";

export const uninstallBody = z
  .object({
    /** The framework's name, typed by the operator: nothing is removed by accident. */
    confirm: z.string().min(1).max(200),
    /** Remove the volumes too (their data is lost); without it, existing volumes refuse. */
    destroyData: z.boolean().default(false),
  })
  .strict();

export function uninstallRoutes(
  app: FastifyInstance,
  view: OperatorView,
  uninstaller: Pick<Uninstaller, "request" | "status"> | undefined,
  guards: { read: Guard[]; write: Guard[] },
): void {
  app.get("/v1/uninstall", { onRequest: guards.read }, async () =>
    uninstaller ? uninstaller.status() : { state: "none" },
  );
  app.post("/v1/uninstall", { onRequest: guards.write }, async (req, reply) => {
    const { confirm, destroyData } = parseBody(uninstallBody, req.body);
    const name = view.source.frameworkInfo.name;
    if (confirm !== name)
      return reply.code(400).send({
        error: `confirm must be this framework's name ('${name}') to uninstall it`,
        code: "CONFIRMATION_MISMATCH",
      });
    if (!uninstaller)
      return reply
        .code(501)
        .send({ error: "this scheduler cannot uninstall", code: "UNINSTALL_UNSUPPORTED" });
    let record;
    try {
      record = await uninstaller.request({ destroyData });
    } catch (err) {
      // Its refusals, 5xx ones too (the cluster unreadable), carry a stable code.
      return answerRefusal(reply, err, (e) => e.code !== undefined);
    }
    view.events.log(
      "warn",
      `operator asked to uninstall${record.destroyData ? ", destroying volumes and their data" : ""}`,
    );
    return reply
      .code(202)
      .send({ accepted: true, planId: record.planId, destroyData: record.destroyData });
  });
}
