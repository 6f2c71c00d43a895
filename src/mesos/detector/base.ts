// What every master detector shares: the current leader, waiting for one, and events.
import { EventEmitter } from "node:events";
import { NoLeaderError } from "../errors.js";
import type { MasterInfo } from "../types/common.js";

export type Scheme = "http" | "https";

export interface DetectedMaster {
  /** Base URL of the leading master, e.g. `http://10.0.4.21:5050` (no trailing slash). */
  url: string;
  /** The leader's MasterInfo when the detection method provides it. */
  info?: MasterInfo;
}

export interface MasterDetectorEvents {
  leader: [master: DetectedMaster];
  noLeader: [reason: string];
  error: [error: Error];
}

export interface MasterDetector {
  /** Begins detection; idempotent. */
  start(): void;
  /** Ends detection and releases every connection; pending next() calls reject. */
  stop(): Promise<void>;
  /** The leader as last detected, if any. */
  current(): DetectedMaster | undefined;
  /** The current leader, or the next one detected. Rejects on abort or stop. */
  next(signal?: AbortSignal): Promise<DetectedMaster>;
  /**
   * Tells the detector this leader failed (connection refused, 307, 503, stream lost).
   * A static detector forgets it and asks the masters again; ZooKeeper re-reads the
   * group. A URL that is not the current leader is ignored (a stale report).
   */
  invalidate(url?: string): void;
  on<E extends keyof MasterDetectorEvents>(
    event: E,
    listener: (...args: MasterDetectorEvents[E]) => void,
  ): this;
  off<E extends keyof MasterDetectorEvents>(
    event: E,
    listener: (...args: MasterDetectorEvents[E]) => void,
  ): this;
  once<E extends keyof MasterDetectorEvents>(
    event: E,
    listener: (...args: MasterDetectorEvents[E]) => void,
  ): this;
}

export interface MasterUrlOptions {
  scheme?: Scheme;
  /** Build URLs from the IP rather than the hostname (default: hostname, as Mesos does). */
  preferIp?: boolean;
}

/** `ip` of MasterInfo: a network-order IPv4 read as a little-endian integer. */
export function ipFromInt(ip: number): string {
  const n = ip >>> 0;
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join(".");
}

function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The base URL of a master from its MasterInfo, or undefined if it has no address. */
export function masterUrl(info: MasterInfo, opts: MasterUrlOptions = {}): string | undefined {
  const scheme = opts.scheme ?? "http";
  const a = info.address;
  const hostname = a?.hostname || info.hostname || undefined;
  let ip = a?.ip || undefined;
  if (!ip && typeof info.ip === "number" && info.ip !== 0) ip = ipFromInt(info.ip);
  const host = opts.preferIp ? (ip ?? hostname) : (hostname ?? ip);
  const port = a?.port ?? info.port;
  if (!host || typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    return undefined;
  }
  return `${scheme}://${urlHost(host)}:${port}`;
}

/** Emitter plumbing and leader bookkeeping shared by the detectors. */
export abstract class DetectorBase extends EventEmitter implements MasterDetector {
  private leader: DetectedMaster | undefined;
  // 'noLeader' is emitted once per stretch without a leader, including the first one.
  private noLeaderReported = false;
  protected stopped = false;
  protected started = false;

  constructor() {
    super();
    // An 'error' event without a listener would crash the process; detection errors
    // are retried, so they are informational unless someone listens.
    this.on("error", () => {});
  }

  abstract start(): void;
  abstract stop(): Promise<void>;
  abstract invalidate(url?: string): void;

  current(): DetectedMaster | undefined {
    return this.leader;
  }

  next(signal?: AbortSignal): Promise<DetectedMaster> {
    if (this.leader) return Promise.resolve(this.leader);
    if (this.stopped) return Promise.reject(new NoLeaderError("master detector is stopped"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.off("leader", onLeader);
        this.off("stopped" as keyof MasterDetectorEvents, onStopped);
        signal?.removeEventListener("abort", onAbort);
      };
      const onLeader = (m: DetectedMaster) => {
        cleanup();
        resolve(m);
      };
      const onStopped = () => {
        cleanup();
        reject(new NoLeaderError("master detector stopped before a leader was found"));
      };
      const onAbort = () => {
        cleanup();
        reject(signal!.reason);
      };
      this.on("leader", onLeader);
      this.on("stopped" as keyof MasterDetectorEvents, onStopped);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Records a leader; emits 'leader' only when it differs from the previous one. */
  protected setLeader(master: DetectedMaster): void {
    const prev = this.leader;
    this.noLeaderReported = false;
    if (prev && prev.url === master.url && prev.info?.id === master.info?.id) {
      this.leader = master;
      return;
    }
    this.leader = master;
    this.emit("leader", master);
  }

  /** Forgets the leader; emits 'noLeader' unless already reported for this stretch. */
  protected clearLeader(reason: string): void {
    const report = this.leader !== undefined || !this.noLeaderReported;
    this.leader = undefined;
    this.noLeaderReported = true;
    if (report) this.emit("noLeader", reason);
  }

  protected reportError(err: Error): void {
    this.emit("error", err);
  }

  protected markStopped(): void {
    this.stopped = true;
    this.leader = undefined;
    this.emit("stopped");
  }
}
