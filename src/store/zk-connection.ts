// One ZooKeeper session for the state store (and the leader election on top of it), kept
// alive across the failures ZooKeeper has: a lost connection (the library reconnects within
// the session), an expired session (a new client and session replace it, after a backoff
// pause), a server that accepts TCP and never answers (the library has no read timeout: an
// operation's deadline cuts the socket). Every failure reaches callers as a StoreError with
// a stable code, retryable or not. Credentials are used, never rendered.
import { EventEmitter } from "node:events";
import zookeeper from "node-zookeeper-client";
import type { ACL, Client, Exception as ZkException } from "node-zookeeper-client";
import { createHash } from "node:crypto";
import { Backoff, delay, type BackoffOptions } from "../mesos/backoff.js";
import { shutdownClient } from "../mesos/detector/zookeeper.js";
import type { Secret } from "../common/secret.js";
import { StoreError } from "./store.js";

export interface ZkConnectionOptions {
  /** Requested session timeout (the server may clamp it). Default 10 s. */
  sessionTimeoutMs?: number;
  /** `user:password` for digest authentication; znodes are then created for that user only. */
  auth?: Secret;
  /** How long an operation waits for a connection and for its answer. Default: the session timeout. */
  opTimeoutMs?: number;
  /** Pause before a new session after one expired or could not be set up. */
  backoff?: BackoffOptions;
  /** Upper bound of the client's pause between rounds over the servers. Default 1 s. */
  spinDelayMs?: number;
}

/** The library's numeric result codes used here. */
export const ZK = {
  NO_NODE: zookeeper.Exception.NO_NODE,
  NODE_EXISTS: zookeeper.Exception.NODE_EXISTS,
  BAD_VERSION: zookeeper.Exception.BAD_VERSION,
  NOT_EMPTY: zookeeper.Exception.NOT_EMPTY,
  CONNECTION_LOSS: zookeeper.Exception.CONNECTION_LOSS,
  SESSION_EXPIRED: zookeeper.Exception.SESSION_EXPIRED,
  NO_AUTH: zookeeper.Exception.NO_AUTH,
  AUTH_FAILED: zookeeper.Exception.AUTH_FAILED,
} as const;

export function zkCode(err: unknown): number | undefined {
  const e = err as Partial<ZkException> | null;
  return e && typeof e.getCode === "function" ? e.getCode() : undefined;
}

/** Splits `user:password` (the auth file's content). */
export function digestParts(auth: Secret): { user: string; password: string } {
  const text = auth.reveal();
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1) {
    throw new StoreError(
      "BAD_AUTH",
      `ZooKeeper credentials from ${auth.source} must be "user:password" on one line`,
    );
  }
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Everything for the digest user of these credentials, nothing for anyone else. */
export function digestAcl(auth: Secret): ACL[] {
  const { user, password } = digestParts(auth);
  const hash = createHash("sha1").update(`${user}:${password}`).digest("base64");
  return [
    new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id("digest", `${user}:${hash}`)),
  ];
}

interface ConnectionManagerInternals {
  socket?: { destroy(): void; connecting?: boolean; destroyed?: boolean };
}

const socketOf = (client: Client) =>
  (client as unknown as { connectionManager?: ConnectionManagerInternals }).connectionManager
    ?.socket;

export interface ZkConnectionEvents {
  connected: [];
  disconnected: [];
  /** The session ended (expired, or cut off longer than its timeout); a new one follows. */
  expired: [];
}

export class ZkConnection extends EventEmitter<ZkConnectionEvents> {
  readonly sessionTimeoutMs: number;
  readonly opTimeoutMs: number;
  private readonly backoff: Backoff;
  private client: Client | undefined;
  private generation = 0;
  private connected = false;
  /** Whether the current client ever had its session (else its loss is no expiry). */
  private hadSession = false;
  private closed = false;
  private authFailed = false;
  private watchdog: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private handshakeGuard: NodeJS.Timeout | undefined;
  /** Callers waiting for a connection. */
  private waiters = new Set<() => void>();
  /** Sessions ended so far: a wait begun in one session does not go on into the next. */
  private expiries = 0;

  constructor(
    readonly connectionString: string,
    private readonly opts: ZkConnectionOptions = {},
  ) {
    super();
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 10_000;
    this.opTimeoutMs = opts.opTimeoutMs ?? this.sessionTimeoutMs;
    this.backoff = new Backoff({ initialMs: 250, maxMs: 5_000, ...opts.backoff });
    if (opts.auth) digestParts(opts.auth); // a malformed file fails now, not at first use
  }

  start(): void {
    // A replacement already scheduled (after its backoff pause) is not brought forward.
    if (!this.client && !this.closed && !this.retryTimer) this.newClient();
  }

  /** The current session's id (hex), or undefined while there is none. */
  get sessionId(): string | undefined {
    if (!this.connected || !this.client) return undefined;
    return this.client.getSessionId().toString("hex");
  }

  get isConnected(): boolean {
    return this.connected;
  }

  private newClient(): void {
    // Never two clients: an old one would reconnect forever in the background.
    if (this.client) shutdownClient(this.client);
    const gen = ++this.generation;
    this.connected = false;
    const client = zookeeper.createClient(this.connectionString, {
      sessionTimeout: this.sessionTimeoutMs,
      spinDelay: this.opts.spinDelayMs ?? 1000,
      retries: 0,
    });
    this.client = client;
    if (this.opts.auth) {
      const { user, password } = digestParts(this.opts.auth);
      client.addAuthInfo("digest", Buffer.from(`${user}:${password}`));
    }
    const live = () => gen === this.generation && !this.closed;
    client.on("connected", () => {
      if (!live()) return;
      this.connected = true;
      this.hadSession = true;
      this.authFailed = false;
      clearTimeout(this.watchdog);
      this.watchdog = undefined;
      this.backoff.reset();
      for (const w of this.waiters) w();
      this.emit("connected");
    });
    client.on("disconnected", () => {
      if (!live()) return;
      this.connected = false;
      this.armWatchdog(gen);
      this.emit("disconnected");
    });
    client.on("expired", () => {
      if (live()) this.replaceClient();
    });
    client.on("authenticationFailed", () => {
      if (!live()) return;
      this.authFailed = true;
      for (const w of this.waiters) w();
      this.replaceClient();
    });
    this.armWatchdog(gen);
    this.guardHandshake(client, gen);
    client.connect();
  }

  // The library waits forever for the answer to its connect request, and a ZooKeeper still
  // starting accepts TCP and may never answer it: like the Java client's connect timeout, a
  // socket left unanswered is dropped, and the library tries again with the same session.
  private guardHandshake(client: Client, gen: number): void {
    clearInterval(this.handshakeGuard);
    const timeout = client.getSessionTimeout() || this.sessionTimeoutMs;
    let seen: unknown;
    this.handshakeGuard = setInterval(
      () => {
        if (gen !== this.generation || this.closed) return;
        const socket = socketOf(client);
        if (this.connected || !socket || socket.connecting || socket.destroyed) {
          seen = undefined;
          return;
        }
        if (socket === seen) socket.destroy();
        seen = socket;
      },
      Math.max(100, Math.min(2000, timeout / 3)),
    );
    this.handshakeGuard.unref();
  }

  // Not connected for a whole session timeout: the server has dropped the session or will,
  // so it is treated as expired, as Mesos does; a client that never connected (a server
  // hanging in the handshake) is replaced too.
  private armWatchdog(gen: number): void {
    clearTimeout(this.watchdog);
    // The timeout the server granted (it clamps the one asked for), once known.
    const timeout = this.client?.getSessionTimeout() || this.sessionTimeoutMs;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (gen === this.generation && !this.closed) this.replaceClient();
    }, timeout);
  }

  private replaceClient(): void {
    const hadSession = this.hadSession;
    this.hadSession = false;
    clearTimeout(this.watchdog);
    clearInterval(this.handshakeGuard);
    const old = this.client;
    this.client = undefined;
    this.connected = false;
    this.generation += 1;
    if (old) shutdownClient(old);
    if (hadSession) {
      this.expiries += 1;
      // Callers waiting for the old session learn at once that it is gone (a leader's
      // writes are fenced now; waiting out their deadline only delays its stop).
      for (const w of this.waiters) w();
      this.emit("expired");
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed && !this.client) this.newClient();
    }, this.backoff.next());
  }

  /** Drops the current session at once (as if it expired): a new one is set up. */
  dropSession(): void {
    if (!this.closed && this.client) this.replaceClient();
  }

  /**
   * The connected client, waiting for a connection until the deadline. A wait that began
   * while a session was alive fails with SESSION_EXPIRED when that session ends.
   */
  async ready(timeoutMs = this.opTimeoutMs): Promise<Client> {
    this.start();
    const deadline = Date.now() + timeoutMs;
    const expiries = this.expiries;
    const inSession = this.hadSession;
    for (;;) {
      if (this.closed) throw new StoreError("CLOSED", "state store is closed");
      if (inSession && this.expiries !== expiries) {
        throw new StoreError(
          "SESSION_EXPIRED",
          `ZooKeeper session with ${this.connectionString} ended while waiting for it`,
        );
      }
      if (this.authFailed) {
        throw new StoreError(
          "AUTH_FAILED",
          `ZooKeeper (${this.connectionString}) rejected the credentials from ${this.opts.auth?.source ?? "the auth file"}`,
        );
      }
      if (this.connected && this.client) return this.client;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreError(
          "UNAVAILABLE",
          `no ZooKeeper session with ${this.connectionString} within ${timeoutMs} ms`,
        );
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  /**
   * Runs one request on the connected client, with a deadline. ZooKeeper's own result codes
   * (NO_NODE, BAD_VERSION, ...) reach the caller as they are; the connection's failures
   * become StoreErrors (UNAVAILABLE, SESSION_EXPIRED, ACL, AUTH_FAILED).
   */
  async run<T>(
    what: string,
    fn: (client: Client, cb: (err: Error | ZkException | null, value: T) => void) => void,
    opts: { idempotent?: boolean } = {},
  ): Promise<T> {
    const deadline = Date.now() + this.opTimeoutMs;
    let retry: Backoff | undefined;
    for (;;) {
      const client = await this.ready(Math.max(1, deadline - Date.now()));
      try {
        return await withDeadline(client, Math.max(1, deadline - Date.now()), (cb) =>
          fn(client, cb),
        );
      } catch (err) {
        // A request that changes nothing is sent again on the next connection, within
        // its deadline; a write's outcome is unknown and is the caller's to read back.
        const lost = zkCode(err) === ZK.CONNECTION_LOSS;
        if (!(opts.idempotent && lost && Date.now() < deadline && !this.closed)) {
          throw this.translate(err, what);
        }
        // A short pause (with jitter) while the library reconnects.
        await delay((retry ??= new Backoff({ initialMs: 20, maxMs: 500 })).next());
      }
    }
  }

  /** A connection failure as a StoreError; other errors unchanged. */
  translate(err: unknown, what: string): unknown {
    if (err instanceof StoreError) return err;
    switch (zkCode(err)) {
      case ZK.CONNECTION_LOSS:
        return new StoreError(
          "UNAVAILABLE",
          `connection to ZooKeeper lost during ${what}; a write's outcome is unknown until read back`,
          { cause: err },
        );
      case ZK.SESSION_EXPIRED:
        return new StoreError("SESSION_EXPIRED", `ZooKeeper session expired during ${what}`, {
          cause: err,
        });
      case ZK.NO_AUTH:
        return new StoreError(
          "ACL",
          `ZooKeeper refused ${what}: the path's ACL does not grant these credentials`,
          { cause: err },
        );
      case ZK.AUTH_FAILED:
        return new StoreError("AUTH_FAILED", `ZooKeeper rejected the credentials (${what})`, {
          cause: err,
        });
      default:
        return err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.watchdog);
    clearTimeout(this.retryTimer);
    clearInterval(this.handshakeGuard);
    this.retryTimer = undefined;
    this.generation += 1;
    for (const w of this.waiters) w();
    const client = this.client;
    this.client = undefined;
    this.connected = false;
    if (client) shutdownClient(client);
  }
}

/**
 * One request with a deadline. On the deadline the socket is cut: the library reconnects
 * and fails the pending requests with CONNECTION_LOSS (it never times a request out itself).
 */
function withDeadline<T>(
  client: Client,
  timeoutMs: number,
  fn: (cb: (err: Error | ZkException | null, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new StoreError("UNAVAILABLE", `ZooKeeper did not answer within ${timeoutMs} ms`, {
          retryable: true,
        }),
      );
      socketOf(client)?.destroy();
    }, timeoutMs);
    timer.unref();
    fn((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    });
  });
}
