// Leader detection over a fixed list of masters (reference 2.3): ask each one for
// GET_MASTER; a non-leader redirects (307, scheme-relative Location) to the leader, a
// master that knows no leader or is recovering answers 503.
import { Agent, request, type Dispatcher } from "undici";
import { Backoff, delay, type BackoffOptions } from "../backoff.js";
import {
  DetectorError,
  MesosConfigError,
  MesosHttpError,
  MesosTimeoutError,
  NoLeaderError,
} from "../errors.js";
import { parseMesosJson } from "../json.js";
import type { MasterInfo } from "../types/common.js";
import { DetectorBase, type DetectedMaster, type MasterUrlOptions, type Scheme } from "./base.js";

export interface StaticDetectorOptions extends MasterUrlOptions {
  /** Limit for each HTTP request, connection included (default 10 s). */
  requestTimeoutMs?: number;
  /** Pause between rounds over all masters that found no leader. */
  backoff?: BackoffOptions;
  /** Redirects followed from one master before giving up on it (default 3). */
  maxRedirects?: number;
  /** Re-ask the known leader this often to notice a silent change (0 = only on invalidate). */
  refreshIntervalMs?: number;
  /** HTTP dispatcher (e.g. an undici Agent with TLS options); the detector's own otherwise. */
  dispatcher?: Dispatcher;
}

const DEFAULT_MASTER_PORT = 5050;

/** Parses `http://h1:5050,http://h2:5050` or `h1:5050,h2:5050` into base URLs. */
export function parseMasterList(spec: string, scheme: Scheme = "http"): string[] {
  if (typeof spec !== "string" || spec.trim() === "") {
    throw new MesosConfigError("master list is empty");
  }
  return spec.split(",").map((raw, i) => {
    const entry = raw.trim();
    if (entry === "") throw new MesosConfigError(`master list entry ${i + 1} is empty`);
    const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry);
    let text = hasScheme ? entry : `${scheme}://${entry}`;
    // No port: the Mesos master's default, not the scheme's.
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1] ?? "";
    if (!/:\d+$/.test(authority)) {
      text = text.replace(authority, `${authority}:${DEFAULT_MASTER_PORT}`);
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new MesosConfigError(`master list entry "${entry}" is not a valid host:port or URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new MesosConfigError(`master list entry "${entry}" must use http or https`);
    }
    if (url.username || url.password) {
      throw new MesosConfigError(`master list entry ${i + 1} must not carry credentials`);
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
      throw new MesosConfigError(`master list entry "${entry}" must not have a path or query`);
    }
    if (!url.hostname) throw new MesosConfigError(`master list entry "${entry}" has no host`);
    return url.origin;
  });
}

const GET_MASTER = JSON.stringify({ type: "GET_MASTER" });

export class StaticDetector extends DetectorBase {
  readonly masters: readonly string[];
  private readonly opts: StaticDetectorOptions;
  private readonly timeoutMs: number;
  private readonly backoff: Backoff;
  private readonly dispatcher: Dispatcher;
  private readonly ownDispatcher: Agent | undefined;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(masters: string | readonly string[], opts: StaticDetectorOptions = {}) {
    super();
    const list = typeof masters === "string" ? masters : masters.join(",");
    this.masters = parseMasterList(list, opts.scheme);
    this.opts = opts;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    if (!(this.timeoutMs > 0)) throw new MesosConfigError("requestTimeoutMs must be > 0");
    this.backoff = new Backoff({ initialMs: 250, maxMs: 10_000, ...opts.backoff });
    this.ownDispatcher = opts.dispatcher
      ? undefined
      : new Agent({
          connect: { timeout: this.timeoutMs },
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        });
    this.dispatcher = opts.dispatcher ?? this.ownDispatcher!;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.loopDone = this.loop().catch((err: unknown) => {
      if (!this.stopped) this.reportError(err as Error);
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.markStopped();
    this.abort.abort(new NoLeaderError("master detector stopped"));
    this.wake?.();
    await this.loopDone;
    await this.ownDispatcher?.destroy();
  }

  invalidate(url?: string): void {
    const cur = this.current();
    if (this.stopped || !cur || (url !== undefined && cur.url !== url)) return;
    this.clearLeader(`leader ${cur.url} reported as failed`);
    this.wake?.();
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    while (!this.stopped) {
      if (this.current()) {
        // Known leader: sleep until invalidated, stopped or the refresh is due.
        await new Promise<void>((resolve) => {
          const refresh = this.opts.refreshIntervalMs ?? 0;
          const timer = refresh > 0 ? setTimeout(resolve, refresh) : undefined;
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        if (this.stopped) return;
      }
      const found = await this.round(signal);
      if (this.stopped) return;
      if (found) {
        this.backoff.reset();
        this.setLeader(found);
        continue;
      }
      await delay(this.backoff.next(), signal).catch(() => {});
    }
  }

  /** Asks every master in turn; the first that yields a leader wins. */
  private async round(signal: AbortSignal): Promise<DetectedMaster | undefined> {
    const failures: string[] = [];
    // Start with the last leader: it is the most likely to still lead.
    const last = this.current()?.url;
    const order =
      last && this.masters.includes(last)
        ? [last, ...this.masters.filter((m) => m !== last)]
        : this.masters;
    for (const master of order) {
      if (signal.aborted) return undefined;
      try {
        const found = await this.ask(master, signal);
        if (found) return found;
        failures.push(`${master}: no leader elected or master recovering (503)`);
      } catch (err) {
        if (signal.aborted) return undefined;
        failures.push(`${master}: ${(err as Error).message}`);
      }
    }
    this.clearLeader("no master named a leader");
    this.reportError(new NoLeaderError(`no leading master found: ${failures.join("; ")}`));
    return undefined;
  }

  /** Finds the leader starting at one master: undefined on 503; throws on failure. */
  private async ask(master: string, signal: AbortSignal): Promise<DetectedMaster | undefined> {
    let url = new URL("/api/v1", master);
    const maxRedirects = this.opts.maxRedirects ?? 3;
    for (let hop = 0; hop <= maxRedirects; hop++) {
      const res = await this.send(url, "POST", signal);
      const body = await this.readBody(res, url);
      if (res.statusCode === 200) return { url: url.origin, info: this.masterInfo(body, url) };
      if (isRedirect(res.statusCode)) {
        // Re-POST to the leader ourselves; a scheme-relative Location keeps our scheme.
        url = this.location(res, url);
        continue;
      }
      if (res.statusCode === 503) return undefined;
      if (res.statusCode === 404 || res.statusCode === 405) return this.askRedirect(url, signal);
      throw new MesosHttpError(res.statusCode, body, `GET_MASTER at ${url.href}`);
    }
    throw new DetectorError(
      "MASTER_UNREACHABLE",
      `more than ${maxRedirects} redirects starting at ${master}`,
    );
  }

  /** Fallback for masters without the operator API: `GET /redirect` names the leader. */
  private async askRedirect(from: URL, signal: AbortSignal): Promise<DetectedMaster | undefined> {
    const url = new URL("/redirect", from);
    const res = await this.send(url, "GET", signal);
    const body = await this.readBody(res, url);
    if (isRedirect(res.statusCode)) return { url: this.location(res, url).origin };
    if (res.statusCode === 503) return undefined;
    throw new MesosHttpError(res.statusCode, body, `GET ${url.href}`);
  }

  private async send(
    url: URL,
    method: "GET" | "POST",
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await request(url, {
        method,
        dispatcher: this.dispatcher,
        signal: AbortSignal.any([signal, timeout]),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        headers:
          method === "POST"
            ? { "content-type": "application/json", accept: "application/json" }
            : { accept: "application/json" },
        ...(method === "POST" ? { body: GET_MASTER } : {}),
      });
    } catch (err) {
      throw this.wrap(err, url, timeout, signal);
    }
  }

  private async readBody(res: Dispatcher.ResponseData, url: URL): Promise<string> {
    try {
      return await res.body.text();
    } catch (err) {
      throw this.wrap(err, url, undefined, this.abort.signal);
    }
  }

  private wrap(err: unknown, url: URL, timeout: AbortSignal | undefined, stop: AbortSignal): Error {
    if (stop.aborted) return stop.reason as Error;
    const e = err as { name?: string; code?: string; message?: string };
    if (timeout?.aborted || e.name === "TimeoutError" || /TIMEOUT/.test(e.code ?? "")) {
      return new MesosTimeoutError(`${url.href} did not answer within ${this.timeoutMs} ms`);
    }
    const detail = e.code ?? e.message ?? String(err);
    return new DetectorError("MASTER_UNREACHABLE", `${url.href} unreachable: ${detail}`, {
      cause: err,
    });
  }

  private location(res: Dispatcher.ResponseData, from: URL): URL {
    const loc = res.headers.location;
    const value = Array.isArray(loc) ? loc[0] : loc;
    if (!value)
      throw new DetectorError("MASTER_UNREACHABLE", `${from.href} redirected without a Location`);
    try {
      return new URL(value, from);
    } catch {
      throw new DetectorError(
        "MASTER_UNREACHABLE",
        `${from.href} redirected to an invalid Location`,
      );
    }
  }

  private masterInfo(body: string, url: URL): MasterInfo | undefined {
    let value: unknown;
    try {
      value = parseMesosJson(body);
    } catch {
      // The master answered 200 on a leader-only endpoint: it leads, whatever it said.
      this.reportError(
        new DetectorError("MASTER_INFO_INVALID", `GET_MASTER at ${url.href} returned invalid JSON`),
      );
      return undefined;
    }
    const info = (value as { get_master?: { master_info?: unknown } } | null)?.get_master
      ?.master_info;
    if (typeof info !== "object" || info === null || Array.isArray(info)) {
      this.reportError(
        new DetectorError("MASTER_INFO_INVALID", `GET_MASTER at ${url.href} has no master_info`),
      );
      return undefined;
    }
    return info as MasterInfo;
  }
}

function isRedirect(status: number): boolean {
  return status === 307 || status === 308 || status === 301 || status === 302 || status === 303;
}
