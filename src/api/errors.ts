// Every error the API answers is JSON `{error}` with a status that says whose fault it was:
// 4xx for bad requests, unknown ids and routes; 500 only for real faults (message hidden).
import type { FastifyInstance, FastifyReply } from "fastify";
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

/** What a platform's or lifecycle's refusal carries: a status, a stable code, figures. */
type Refusal = Error & { statusCode?: number; code?: string; details?: object };

/**
 * Answers a refusal as it was made (its status, its message, its stable `code` and any figures
 * in `details`) when `answers` says the route answers that kind; anything else is thrown on to
 * the error handler. By default: the 4xx ones (the operator's to fix).
 */
export function answerRefusal(
  reply: FastifyReply,
  err: unknown,
  answers: (e: Refusal & { statusCode: number }) => boolean = (e) => e.statusCode < 500,
): FastifyReply {
  const e = err as Refusal;
  if (!e.statusCode || e.statusCode < 400 || e.statusCode >= 600) throw err;
  if (!answers(e as Refusal & { statusCode: number })) throw err;
  return reply.code(e.statusCode).send({
    error: e.message,
    ...(e.code ? { code: e.code } : {}),
    ...(e.details ?? {}),
  });
}
