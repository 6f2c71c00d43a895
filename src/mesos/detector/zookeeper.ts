// Leader detection through ZooKeeper, as Mesos does it (reference 2.1): masters create
// ephemeral sequential `json.info_<seq>` children of a path; the lowest sequence leads
// and its data is MasterInfo JSON.
import zookeeper from "node-zookeeper-client";
import type { Client, Event, Exception as ZkException } from "node-zookeeper-client";
import { Backoff, type BackoffOptions } from "../backoff.js";
import { DetectorError, MesosConfigError } from "../errors.js";
import { parseMesosJson } from "../json.js";
import type { MasterInfo } from "../types/common.js";
import { DetectorBase, masterUrl, type MasterUrlOptions } from "./base.js";
import { parseZkUrl, type ZkUrl } from "./zk-url.js";

export interface ZooKeeperDetectorOptions extends MasterUrlOptions {
  /** Requested session timeout (the server may clamp it). Mesos' default: 10 s. */
  sessionTimeoutMs?: number;
  /** Upper bound of the client's random pause between rounds over the servers. */
  spinDelayMs?: number;
  /** Pause before replacing an expired or failed client, and before retrying errors. */
  backoff?: BackoffOptions;
  /** Creates the ZooKeeper client; replaceable to observe or fault-inject in tests. */
  clientFactory?: (
    connectionString: string,
    options: { sessionTimeout: number; spinDelay: number },
  ) => Client;
}

const LEADER_CHILD = /^json\.info_(\d+)$/;

/** The `json.info_*` child with the lowest numeric sequence, if any. */
export function lowestMasterChild(children: readonly string[]): string | undefined {
  let best: { name: string; seq: bigint } | undefined;
  for (const name of children) {
    const m = LEADER_CHILD.exec(name);
    if (!m) continue;
    // BigInt: compare numerically even if a suffix were ever wider than 10 digits.
    const seq = BigInt(m[1]!);
    if (!best || seq < best.seq) best = { name, seq };
  }
  return best?.name;
}

/** Parses a leader znode's data; throws DetectorError(MASTER_INFO_INVALID). */
export function parseMasterInfo(data: Buffer | undefined, where: string): MasterInfo {
  if (!data || data.length === 0) {
    throw new DetectorError("MASTER_INFO_INVALID", `${where} has no data`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch (err) {
    throw new DetectorError("MASTER_INFO_INVALID", `${where} is not UTF-8`, { cause: err });
  }
  let value: unknown;
  try {
    value = parseMesosJson(text);
  } catch (err) {
    throw new DetectorError(
      "MASTER_INFO_INVALID",
      `${where} is not MasterInfo JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DetectorError("MASTER_INFO_INVALID", `${where} is not a JSON object`);
  }
  return value as MasterInfo;
}

function zkCode(err: unknown): number | undefined {
  const e = err as Partial<ZkException> | null;
  return e && typeof e.getCode === "function" ? e.getCode() : undefined;
}

/**
 * Runs one ZooKeeper operation with a deadline. The library never times out a request on
 * a connection that went silent (no read timeout), so on the deadline the connection is
 * cut: the library reconnects and fails the pending requests with CONNECTION_LOSS.
 */
function call<T>(
  client: Client,
  timeoutMs: number,
  fn: (cb: (err: Error | ZkException | null, value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new DetectorError(
          "ZK_UNREACHABLE",
          `ZooKeeper did not answer within ${timeoutMs} ms; reconnecting`,
        ),
      );
      const cm = (client as unknown as { connectionManager?: ConnectionManagerInternals })
        .connectionManager;
      cm?.socket?.destroy();
    }, timeoutMs);
    // Only a guard: it must not keep a stopped process alive.
    timer.unref();
    fn((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value);
    });
  });
}

export class ZooKeeperDetector extends DetectorBase {
  readonly url: ZkUrl;
  private readonly opts: ZooKeeperDetectorOptions;
  private readonly sessionTimeoutMs: number;
  private readonly backoff: Backoff;
  private client: Client | undefined;
  // Bumped for every new client: callbacks of a replaced client are ignored.
  private generation = 0;
  private connectedOnce = false;
  private connected = false;
  private handshakeGuard: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  // Generation of the client whose detection is in flight: a run stuck on a replaced
  // client must not hold up detection on the new one.
  private detectingGen: number | undefined;
  private detectAgain = false;

  constructor(url: ZkUrl | string, opts: ZooKeeperDetectorOptions = {}) {
    super();
    this.url = typeof url === "string" ? parseZkUrl(url) : url;
    this.opts = opts;
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 10_000;
    if (!(this.sessionTimeoutMs > 0)) throw new MesosConfigError("sessionTimeoutMs must be > 0");
    this.backoff = new Backoff({ initialMs: 250, maxMs: 10_000, ...opts.backoff });
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.newClient();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.clearTimers();
    const client = this.client;
    this.client = undefined;
    this.generation += 1;
    this.markStopped();
    if (client) shutdownClient(client);
  }

  invalidate(url?: string): void {
    const cur = this.current();
    if (this.stopped || (url !== undefined && cur?.url !== url)) return;
    // ZooKeeper is the authority: re-read the group rather than forget the leader; a
    // master that lost leadership has already lost its znode (or soon will).
    this.detect();
  }

  private clearTimers(): void {
    clearTimeout(this.watchdog);
    clearTimeout(this.retryTimer);
    clearInterval(this.handshakeGuard);
    this.handshakeGuard = undefined;
    this.watchdog = undefined;
    this.retryTimer = undefined;
  }

  private newClient(): void {
    const gen = ++this.generation;
    this.connectedOnce = false;
    this.connected = false;
    const factory =
      this.opts.clientFactory ?? ((cs, o) => zookeeper.createClient(cs, { ...o, retries: 0 }));
    const client = factory(this.url.connectionString, {
      sessionTimeout: this.sessionTimeoutMs,
      spinDelay: this.opts.spinDelayMs ?? 1000,
    });
    this.client = client;
    const creds = this.url.credentials;
    if (creds) client.addAuthInfo("digest", Buffer.from(`${creds.username}:${creds.password}`));
    const live = () => gen === this.generation && !this.stopped;

    const onConnected = () => {
      if (!live()) return;
      this.connectedOnce = true;
      this.connected = true;
      clearTimeout(this.watchdog);
      this.watchdog = undefined;
      this.backoff.reset();
      // A (re)established session may have missed changes: always read the group again.
      this.detect();
    };
    client.on("connected", onConnected);
    client.on("connectedReadOnly", onConnected);
    client.on("disconnected", () => {
      if (!live()) return;
      this.connected = false;
      this.armWatchdog(gen);
    });
    client.on("expired", () => {
      if (!live()) return;
      this.reportError(
        new DetectorError(
          "ZK_SESSION_EXPIRED",
          `ZooKeeper session expired (${this.url}); starting a new session`,
        ),
      );
      this.replaceClient("ZooKeeper session expired");
    });
    client.on("authenticationFailed", () => {
      if (!live()) return;
      this.reportError(
        new DetectorError("ZK_AUTH_FAILED", `ZooKeeper rejected the credentials of ${this.url}`),
      );
      this.replaceClient("ZooKeeper authentication failed");
    });
    this.armWatchdog(gen);
    this.guardHandshake(client, gen);
    client.connect();
  }

  // Not connected for a whole session timeout: start over with a new client (after a
  // backoff pause). With a session, treat it as expired, as Mesos does: the server has
  // dropped it or will, and the leader we knew can no longer be vouched for. Without one,
  // the library can hang in its handshake (a server that accepts TCP while starting up
  // and never answers; the library has no read timeout), so the client is replaced too.
  private armWatchdog(gen: number): void {
    clearTimeout(this.watchdog);
    const timeout = this.client?.getSessionTimeout() || this.sessionTimeoutMs;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      if (gen !== this.generation || this.stopped) return;
      const had = this.connectedOnce;
      this.reportError(
        new DetectorError(
          had ? "ZK_SESSION_EXPIRED" : "ZK_UNREACHABLE",
          had
            ? `disconnected from ZooKeeper (${this.url}) for longer than the ${timeout} ms session timeout; starting a new session`
            : `cannot connect to ZooKeeper (${this.url}) within ${timeout} ms; retrying`,
        ),
      );
      this.replaceClient(had ? "ZooKeeper session lost" : "ZooKeeper unreachable");
    }, timeout);
  }

  // The library waits forever for the server's answer to its connect request (a server
  // still starting accepts TCP and may never answer). Like the Java client's connect
  // timeout, drop a socket that stays unanswered; the library then retries, same session.
  private guardHandshake(client: Client, gen: number): void {
    clearInterval(this.handshakeGuard);
    const period = Math.max(
      100,
      Math.floor((client.getSessionTimeout() || this.sessionTimeoutMs) / 3),
    );
    let seen: unknown;
    this.handshakeGuard = setInterval(() => {
      if (gen !== this.generation || this.stopped) return;
      const cm = (client as unknown as { connectionManager?: ConnectionManagerInternals })
        .connectionManager;
      const socket = cm?.socket as
        | (ConnectionManagerInternals["socket"] & { connecting?: boolean; destroyed?: boolean })
        | undefined;
      if (this.connected || !socket || socket.connecting || socket.destroyed) {
        seen = undefined;
        return;
      }
      if (socket === seen) socket.destroy();
      seen = socket;
    }, period);
  }

  private replaceClient(reason: string): void {
    this.clearLeader(reason);
    this.clearTimers();
    const old = this.client;
    this.client = undefined;
    this.generation += 1;
    if (old) shutdownClient(old);
    const wait = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.newClient();
    }, wait);
  }

  private retryLater(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.detect();
    }, this.backoff.next());
  }

  /** Runs one detection at a time; a request during a run triggers one more run. */
  private detect(): void {
    if (this.stopped || !this.client) return;
    if (this.detectingGen === this.generation) {
      this.detectAgain = true;
      return;
    }
    const client = this.client;
    const gen = this.generation;
    this.detectingGen = gen;
    this.detectAgain = false;
    this.detectOnce(client, gen)
      .catch((err: unknown) => {
        if (gen !== this.generation || this.stopped) return;
        const code = zkCode(err);
        // Connection loss: the reconnection ('connected') runs detection again.
        if (
          code === zookeeper.Exception.CONNECTION_LOSS ||
          code === zookeeper.Exception.SESSION_EXPIRED
        ) {
          return;
        }
        this.reportError(
          err instanceof DetectorError
            ? err
            : new DetectorError(
                "ZK_ERROR",
                `reading ${this.url.path} from ZooKeeper failed: ${String(err)}`,
                { cause: err },
              ),
        );
        this.retryLater();
      })
      .finally(() => {
        if (this.detectingGen !== gen) return;
        this.detectingGen = undefined;
        if (this.detectAgain && gen === this.generation) {
          this.detectAgain = false;
          this.detect();
        }
      });
  }

  private watcherFor = new WeakMap<Client, (event: Event) => void>();

  // One function per client: the library registers a given watcher function only once.
  private watcher(client: Client): (event: Event) => void {
    let w = this.watcherFor.get(client);
    if (!w) {
      w = () => {
        if (this.client === client) this.detect();
      };
      this.watcherFor.set(client, w);
    }
    return w;
  }

  private async detectOnce(client: Client, gen: number): Promise<void> {
    const path = this.url.path;
    const watch = this.watcher(client);
    const stale = () => gen !== this.generation || this.stopped;
    // A healthy server answers in milliseconds; a session timeout means the link is dead.
    const deadline = client.getSessionTimeout() || this.sessionTimeoutMs;
    let children: string[];
    try {
      children = await call<string[]>(client, deadline, (cb) =>
        client.getChildren(path, watch, cb),
      );
    } catch (err) {
      if (zkCode(err) !== zookeeper.Exception.NO_NODE) throw err;
      // The path does not exist yet (no master ever started): watch for its creation.
      const stat = await call<unknown>(client, deadline, (cb) => client.exists(path, watch, cb));
      if (stale()) return;
      if (stat) this.detectAgain = true;
      else this.clearLeader(`ZooKeeper path ${path} does not exist`);
      return;
    }
    if (stale()) return;
    const child = lowestMasterChild(children);
    if (!child) {
      this.clearLeader(`no master registered under ${path}`);
      return;
    }
    const childPath = path === "/" ? `/${child}` : `${path}/${child}`;
    let data: Buffer;
    try {
      data = await call<Buffer>(client, deadline, (cb) => client.getData(childPath, cb));
    } catch (err) {
      // Deleted in between: the children watch fires too; read the group again.
      if (zkCode(err) === zookeeper.Exception.NO_NODE) {
        this.detectAgain = true;
        return;
      }
      throw err;
    }
    if (stale()) return;
    let info: MasterInfo;
    let url: string | undefined;
    try {
      info = parseMasterInfo(data, `leader znode ${childPath}`);
      url = masterUrl(info, this.opts);
      if (!url) {
        throw new DetectorError(
          "MASTER_INFO_INVALID",
          `leader znode ${childPath} has no usable address and port`,
        );
      }
    } catch (err) {
      // Keep watching: the master may be replaced; meanwhile there is no usable leader.
      this.clearLeader(`leader znode ${childPath} holds invalid MasterInfo`);
      this.reportError(err as Error);
      return;
    }
    this.backoff.reset();
    this.setLeader({ url, info });
  }
}

// node-zookeeper-client 1.1 has no safe way to abandon a client that is not connected:
// close() then writes to a missing socket (TypeError) or a half-open one, and a connect
// response arriving after close() is misparsed and throws from a socket handler. So a
// live session is closed politely, and everything else is cut at the connection manager.
interface ConnectionManagerInternals {
  state: number;
  socket?: {
    write(b: Buffer): boolean;
    end(): void;
    destroy(): void;
    removeAllListeners(e?: string): void;
  };
  connectTimeoutHandler?: NodeJS.Timeout | null;
  connect(): void;
  onSocketConnected(): void;
  onSocketData(b: Buffer): void;
}
const CM_CLOSING = -1;

/** Ends a client: closes its session if it has one, and leaves no socket or timer behind. */
export function shutdownClient(client: Client): void {
  client.removeAllListeners();
  const cm = (client as unknown as { connectionManager?: ConnectionManagerInternals })
    .connectionManager;
  const state = client.getState();
  const live =
    state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY;
  if (live) {
    try {
      client.close(); // queues and writes closeSession synchronously
    } catch {
      // fall through to the hard stop
    }
  }
  if (!cm) return;
  // CLOSING: the library does not reconnect when the socket closes in this state.
  cm.state = CM_CLOSING;
  cm.connect = () => {};
  cm.onSocketConnected = function (this: ConnectionManagerInternals) {
    this.socket?.destroy();
  };
  cm.onSocketData = () => {};
  if (cm.connectTimeoutHandler) clearTimeout(cm.connectTimeoutHandler);
  const socket = cm.socket;
  if (socket) {
    socket.removeAllListeners("data");
    // end(): the closeSession just written is flushed before the FIN.
    if (live) socket.end();
    else socket.destroy();
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
