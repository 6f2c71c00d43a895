// Every error the API answers is JSON `{error}` with a status that says whose fault it was:
// 4xx for bad requests, unknown ids and routes; 500 only for real faults (message hidden).
import type { FastifyInstance } from "fastify";
import { PlanError } from "../framework/plan/types.js";

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.statusCode = statusCode;
  }
}

const PLAN_ERROR_STATUS = new Map<string, number>([
  ["UNKNOWN_PLAN", 404],
  ["UNKNOWN_STEP", 404],
  ["UNKNOWN_PHASE", 404],
]);

export function installErrorHandlers(
  app: FastifyInstance,
  onFault?: (err: Error, url: string) => void,
): void {
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    let status =
      err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (err instanceof PlanError) status = PLAN_ERROR_STATUS.get(err.code) ?? 409;
    // Our own errors say what is wrong; anything else that is a 5xx is a fault, shown vaguely.
    const hide = status >= 500 && !(err instanceof ApiError);
    if (hide) onFault?.(err, req.url);
    void reply.code(status).send({ error: hide ? "internal error" : err.message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split("?")[0]}` });
  });
}
