// One error type for every cluster-side operation. The plan engine needs one bit: run the
// step again later (gateway unreachable, no MDM quorum, a hiccup) or stop and tell the
// operator (bad input, objects that conflict with the desired layout, bad credentials).
import { GatewayError } from "../gateway/client.js";

export class ClusterOpError extends Error {
  readonly permanent: boolean;
  /** The gateway's answer behind it, when there was one. */
  readonly httpStatus: number | undefined;
  readonly errorCode: number | undefined;

  constructor(
    message: string,
    o: { permanent: boolean; cause?: unknown; httpStatus?: number; errorCode?: number },
  ) {
    super(message, o.cause !== undefined ? { cause: o.cause } : undefined);
    this.name = "ClusterOpError";
    this.permanent = o.permanent;
    this.httpStatus = o.httpStatus;
    this.errorCode = o.errorCode;
  }

  get retryable(): boolean {
    return !this.permanent;
  }
}

/** A refusal that running again cannot fix. */
export function conflict(message: string): ClusterOpError {
  return new ClusterOpError(message, { permanent: true });
}

/**
 * Wraps anything thrown during `what`. Transport failures (status 0), 5xx other than a
 * known refusal and 503 (no quorum) are retryable; 4xx (bad request, bad credentials) is not.
 */
export function asClusterError(err: unknown, what: string): ClusterOpError {
  if (err instanceof ClusterOpError) return err;
  if (err instanceof GatewayError) {
    const s = err.httpStatus;
    const permanent = s >= 400 && s < 500;
    return new ClusterOpError(`${what}: ${err.message}`, {
      permanent,
      cause: err,
      httpStatus: s,
      ...(err.errorCode !== undefined ? { errorCode: err.errorCode } : {}),
    });
  }
  const msg = err instanceof Error ? err.message : String(err);
  // Unknown failures (a bug, a dropped connection) are worth another try.
  return new ClusterOpError(`${what}: ${msg}`, { permanent: false, cause: err });
}

/** A gateway answer that means "the cluster cannot serve now" rather than "no". */
export function isTransient(err: unknown): boolean {
  return err instanceof GatewayError && (err.httpStatus === 0 || err.httpStatus === 503);
}
