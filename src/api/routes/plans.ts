// Plans: list, detail, and the operator controls (pause/resume a plan or phase, restart or
// force-complete a step). Step ids contain '/', so the step travels in the body.
import type { FastifyInstance } from "fastify";
import type { Guard } from "../auth.js";
import type { OperatorView } from "../../framework/operator-view.js";
import { parseBody, phaseBody, stepBody } from "../body.js";
import { parseQuery, stepQuery } from "../list-query.js";

type Params = { planId: string };

export function planRoutes(
  app: FastifyInstance,
  view: OperatorView,
  guards: { read: Guard[]; write: Guard[] },
): void {
  const engine = view.source.engine;
  const hub = view.events;
  app.get("/v1/plans", { onRequest: guards.read }, async () => ({ plans: view.plans() }));
  app.get<{ Params: Params }>("/v1/plans/:planId", { onRequest: guards.read }, async (req) => {
    const f = parseQuery(stepQuery, req.query);
    // Unfiltered: the engine's own view. Either way, an agent's steps carry its hostname.
    const whole = Object.keys(f).length === 0;
    const v = whole ? engine.view(req.params.planId) : view.index.plan(req.params.planId, f);
    if (!v) return engine.view(req.params.planId); // unknown: the engine's 404
    if (!whole) return v;
    return {
      ...v,
      phases: v.phases.map((ph) => ({
        ...ph,
        steps: ph.steps.map((s) => view.index.hostnamed(s)),
      })),
    };
  });
  app.post<{ Params: Params }>(
    "/v1/plans/:planId/pause",
    { onRequest: guards.write },
    async (req) => {
      const { phase } = parseBody(phaseBody, req.body);
      await engine.pause(req.params.planId, phase);
      hub.log("info", `operator paused ${req.params.planId}${phase ? ` phase ${phase}` : ""}`);
      return engine.view(req.params.planId);
    },
  );
  app.post<{ Params: Params }>(
    "/v1/plans/:planId/resume",
    { onRequest: guards.write },
    async (req) => {
      const { phase } = parseBody(phaseBody, req.body);
      await engine.resume(req.params.planId, phase);
      hub.log("info", `operator resumed ${req.params.planId}${phase ? ` phase ${phase}` : ""}`);
      return engine.view(req.params.planId);
    },
  );
  app.post<{ Params: Params }>(
    "/v1/plans/:planId/restart",
    { onRequest: guards.write },
    async (req) => {
      const { step } = parseBody(stepBody, req.body);
      await engine.restartStep(req.params.planId, step);
      hub.log("info", `operator restarted ${req.params.planId} step ${step}`);
      return engine.view(req.params.planId);
    },
  );
  app.post<{ Params: Params }>(
    "/v1/plans/:planId/force-complete",
    { onRequest: guards.write },
    async (req) => {
      const { step } = parseBody(stepBody, req.body);
      await engine.forceComplete(req.params.planId, step);
      hub.log("warn", `operator force-completed ${req.params.planId} step ${step}`);
      return engine.view(req.params.planId);
    },
  );
}
