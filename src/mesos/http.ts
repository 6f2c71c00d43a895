// The HTTP side of the v1 APIs: POSTs of JSON calls with a timeout each, and the long-lived
// streaming POST of SUBSCRIBE. Redirects are never followed here (callers re-POST the same
// body themselves, as Mesos requires); TLS and Basic authentication are configured once.
import { Agent, request, type Dispatcher } from "undici";
import type { Credential } from "./credentials.js";
import { MesosConnectionError, MesosTimeoutError } from "./errors.js";

export const DEFAULT_CALL_TIMEOUT_MS = 75_000;

export interface TlsOptions {
  /** PEM CA bundle that signs the master's (or agent's) certificate. */
  ca?: string | Buffer;
  /** Defaults to true; turning it off is an explicit, logged choice of the caller. */
  rejectUnauthorized?: boolean;
}

export interface HttpTransportOptions {
  credential?: Credential;
  /** `Authorization: Bearer` token (executor authentication); never logged. */
  bearerToken?: string;
  callTimeoutMs?: number;
  tls?: TlsOptions;
  /** Header timeout for the SUBSCRIBE response (the body itself has no timeout). */
  subscribeTimeoutMs?: number;
  /**
   * Connections per master (default 16, the event stream's included): calls beyond them
   * wait their turn instead of opening hundreds of sockets when a large cluster makes the
   * scheduler answer many offers and updates at once.
   */
  maxConnections?: number;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface HttpStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: AsyncIterable<Uint8Array>;
  /** Reads the body as text (for non-200 answers). */
  text(): Promise<string>;
  /** Tears the connection down. Safe to call more than once. */
  close(): void;
}

export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Resolves a `Location` header (Mesos sends scheme-relative `//host:port/path`) against a URL. */
export function resolveLocation(location: string, base: string): string {
  return new URL(location, base).toString();
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

function translate(err: unknown, what: string, timeoutMs: number, signal?: AbortSignal): unknown {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  if (signal?.aborted && signal.reason !== undefined && !(signal.reason instanceof DOMException)) {
    return signal.reason;
  }
  if (
    e?.name === "TimeoutError" ||
    e?.code === "UND_ERR_HEADERS_TIMEOUT" ||
    e?.code === "UND_ERR_BODY_TIMEOUT" ||
    e?.code === "UND_ERR_CONNECT_TIMEOUT"
  ) {
    return new MesosTimeoutError(`${what} timed out after ${timeoutMs} ms`);
  }
  const code = e?.code ?? e?.cause?.code;
  if (code && CONNECTION_CODES.has(code)) {
    return new MesosConnectionError(`${what} failed: ${code}`, { cause: err });
  }
  return err;
}

interface Waiter {
  go: () => void;
  fail: (err: Error) => void;
}

/**
 * At most `limit` holders at once; the others wait in line, first come first served, those
 * marked urgent ahead of the rest.
 */
class Gate {
  private active = 0;
  private readonly urgent: Waiter[] = [];
  private readonly normal: Waiter[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves when it is the caller's turn; rejects on abort, after `timeoutMs`, or on close. */
  acquire(
    timeoutMs: number,
    timedOut: () => Error,
    signal?: AbortSignal,
    urgent = false,
  ): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve();
    }
    const line = urgent ? this.urgent : this.normal;
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = line.indexOf(entry);
        if (i >= 0) line.splice(i, 1);
      };
      const entry: Waiter = {
        go: () => {
          leave();
          resolve();
        },
        fail: (err: Error) => {
          leave();
          reject(err);
        },
      };
      const onAbort = () => entry.fail(signal!.reason as Error);
      const timer = setTimeout(() => entry.fail(timedOut()), timeoutMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      line.push(entry);
    });
  }

  release(): void {
    const next = this.urgent[0] ?? this.normal[0];
    if (next)
      next.go(); // the slot passes on
    else this.active -= 1;
  }

  close(err: Error): void {
    for (const w of [...this.urgent, ...this.normal]) w.fail(err);
  }
}

export class HttpTransport {
  private readonly dispatcher: Agent;
  private readonly opts: HttpTransportOptions;
  private readonly connections: number;
  private readonly gates = new Map<string, Gate>();
  readonly callTimeoutMs: number;

  constructor(opts: HttpTransportOptions = {}) {
    this.opts = opts;
    this.callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.connections = Math.max(2, opts.maxConnections ?? 16);
    // Pipelining 1 (undici's default) keeps calls off the busy subscription connection.
    this.dispatcher = new Agent({
      keepAliveTimeout: 30_000,
      connections: this.connections,
      connect: {
        ...(opts.tls?.ca !== undefined ? { ca: opts.tls.ca } : {}),
        rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
      },
    });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
      ...extra,
    };
    if (this.opts.credential) h.authorization = this.opts.credential.authorizationHeader();
    else if (this.opts.bearerToken) h.authorization = `Bearer ${this.opts.bearerToken}`;
    return h;
  }

  /** One non-streaming call: resolves with the status and the whole body, or rejects typed. */
  async post(
    url: string,
    body: string,
    extraHeaders: Record<string, string> = {},
    opts: {
      timeoutMs?: number;
      signal?: AbortSignal;
      /** Goes ahead of the other calls waiting for a connection. */
      urgent?: boolean;
    } = {},
  ): Promise<HttpAnswer> {
    const timeoutMs = opts.timeoutMs ?? this.callTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const timedOut = () => new MesosTimeoutError(`POST ${url} timed out after ${timeoutMs} ms`);
    // Waiting for a connection counts against the call's time, but costs only a queue
    // entry: a large cluster can make thousands of calls wait while the master is busy.
    const gate = this.gateOf(url);
    await gate.acquire(timeoutMs, timedOut, opts.signal, opts.urgent).catch((err: unknown) => {
      throw translate(err, `POST ${url}`, timeoutMs, opts.signal);
    });
    // One timer and signal per call, released when it ends (AbortSignal.timeout would keep
    // both alive for the whole timeout after the call is done).
    const controller = new AbortController();
    const onAbort = () => controller.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    const remaining = deadline - Date.now();
    const timer = setTimeout(() => controller.abort(timedOut()), Math.max(0, remaining));
    try {
      if (remaining <= 0) throw timedOut();
      if (opts.signal?.aborted) onAbort();
      const res = await request(url, {
        method: "POST",
        body,
        headers: this.headers(extraHeaders),
        dispatcher: this.dispatcher,
        signal: controller.signal,
        headersTimeout: remaining,
        bodyTimeout: remaining,
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      if (err instanceof MesosTimeoutError || controller.signal.reason instanceof MesosTimeoutError)
        throw timedOut();
      throw translate(err, `POST ${url}`, timeoutMs, opts.signal);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      gate.release();
    }
  }

  private gateOf(url: string): Gate {
    const origin = new URL(url).origin;
    let gate = this.gates.get(origin);
    if (!gate) {
      // One connection stays for the event stream.
      gate = new Gate(Math.max(1, this.connections - 1));
      this.gates.set(origin, gate);
    }
    return gate;
  }

  /** Opens a streaming POST (SUBSCRIBE). The body has no timeout: liveness is the caller's job. */
  async openStream(
    url: string,
    body: string,
    extraHeaders: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<HttpStream> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    const headersTimeout = this.opts.subscribeTimeoutMs ?? this.callTimeoutMs;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: "POST",
        body,
        headers: this.headers(extraHeaders),
        dispatcher: this.dispatcher,
        signal: controller.signal,
        headersTimeout,
        bodyTimeout: 0,
      });
    } catch (err) {
      signal?.removeEventListener("abort", onAbort);
      throw translate(err, `POST ${url}`, headersTimeout, signal);
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      signal?.removeEventListener("abort", onAbort);
      // Destroying an undici body emits an AbortError; nobody needs to hear it.
      res.body.on("error", () => {});
      res.body.destroy();
    };
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body,
      text: async () => {
        try {
          return await res.body.text();
        } finally {
          close();
        }
      },
      close,
    };
  }

  async close(): Promise<void> {
    for (const g of this.gates.values())
      g.close(new MesosConnectionError("the HTTP transport was closed"));
    await this.dispatcher.destroy();
  }
}
