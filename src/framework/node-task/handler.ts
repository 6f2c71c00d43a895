// What a node step handler is: a kind, a params schema and an idempotent run(). The
// executor finds the handler by the spec's kind, validates the params with the schema
// (a mismatch is a permanent failure) and runs it with a context that gives the host, the
// secrets (fetched lazily, once, with the spec's token), progress reporting and an abort
// signal (KILL, SHUTDOWN).
import type { z } from "zod";
import type { Secret } from "../../common/secret.js";
import type { HostProfile } from "../../host/profile.js";

export interface NodeSecrets {
  adminPassword: Secret;
}

export interface StepContext {
  readonly host: HostProfile;
  /** Secrets of this step; rejects with a StepError when the step has no token. */
  secrets(): Promise<NodeSecrets>;
  /** A short progress line (sent as TASK_RUNNING `message`). */
  progress(message: string): void;
  readonly signal: AbortSignal;
}

export interface NodeStepHandler<P = unknown, R = unknown> {
  readonly kind: string;
  readonly params: z.ZodType<P>;
  run(params: P, ctx: StepContext): Promise<R>;
}

/** A step failure with a message meant for the operator. */
export class StepError extends Error {
  /** Retrying cannot help (bad params, wrong host state only an operator can fix). */
  readonly permanent: boolean;
  constructor(message: string, opts: { permanent?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = "StepError";
    this.permanent = opts.permanent ?? false;
  }
}

/** Erases the params type so handlers of different kinds fit in one registry. */
export function defineHandler<P, R>(h: NodeStepHandler<P, R>): NodeStepHandler {
  return h as unknown as NodeStepHandler;
}

/** Validation messages of a params schema, in one line naming each bad field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join(".") : "params"}: ${i.message}`)
    .join("; ");
}
