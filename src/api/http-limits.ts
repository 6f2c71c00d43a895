// Limits of the API's HTTP server, so that slow or piled-up clients cannot hold it: a request
// must arrive (headers, then the whole body) within its timeouts, an idle connection is
// closed, and beyond a number of connections new ones are refused at once.
import type { Server } from "node:http";

export interface HttpLimits {
  /** Connections open at once; more are closed as they come (0: no limit). */
  maxConnections: number;
  /** A request's headers must have arrived within this (ms). */
  headersTimeoutMs: number;
  /** A request's headers and body must have arrived within this (ms; 0: no limit). */
  requestTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (ms; 0: never). Longer
   * than the event stream's keep-alive period, which is traffic. */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (ms). */
  keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed (0: no limit). */
  maxRequestsPerSocket: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 72_000,
  maxRequestsPerSocket: 1000,
};

/** The limits with defaults filled in; a clear error for values that cannot work together. */
export function resolveHttpLimits(given: Partial<HttpLimits> = {}): HttpLimits {
  const limits = { ...DEFAULT_HTTP_LIMITS };
  for (const [k, v] of Object.entries(given) as [keyof HttpLimits, number | undefined][])
    if (v !== undefined) limits[k] = v;
  for (const [k, v] of Object.entries(limits))
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`HTTP limit ${k} must be a non-negative integer, got ${v}`);
  if (limits.headersTimeoutMs <= 0) throw new RangeError("HTTP limit headersTimeoutMs must be > 0");
  if (limits.requestTimeoutMs > 0 && limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new RangeError(
      `HTTP limit headersTimeoutMs (${limits.headersTimeoutMs}) must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  return limits;
}

/** The Fastify options that carry these limits. */
export function fastifyLimitOptions(limits: HttpLimits) {
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
  };
}

/** The limits Fastify has no option for; before the server listens. */
export function applyServerLimits(
  server: Pick<Server, "headersTimeout" | "maxConnections" | "on"> & {
    connectionsCheckingInterval?: number;
  },
  limits: HttpLimits,
  onRefused?: () => void,
): void {
  server.headersTimeout = limits.headersTimeoutMs;
  // Node looks for overdue headers and bodies on this period (default 30 s, which would let
  // a 10 s limit run to 40 s); the timers start when the server listens.
  const shortest = Math.min(
    limits.headersTimeoutMs,
    limits.requestTimeoutMs || limits.headersTimeoutMs,
  );
  server.connectionsCheckingInterval = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
  if (limits.maxConnections > 0) {
    server.maxConnections = limits.maxConnections;
    if (onRefused) server.on("drop", onRefused);
  }
}
