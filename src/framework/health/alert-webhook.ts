// Condition changes posted to a webhook as Alertmanager does (webhook payload version 4), so
// any receiver written for Alertmanager (a chat bridge, a pager, an incident tool) takes
// them as they are. Posting never holds up the caller: changes are queued (bounded), sent
// one at a time in order, retried with backoff a few times, then given up with a warning.
import { createHash } from "node:crypto";
import { request } from "undici";
import { Backoff, delay } from "../../mesos/backoff.js";
import type { Condition, ConditionChange } from "./types.js";

/** Alertmanager's "not ended" time, as it sends it for firing alerts. */
const NOT_ENDED = "0001-01-01T00:00:00Z";

export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: "4";
  groupKey: string;
  truncatedAlerts: number;
  status: "firing" | "resolved";
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export interface PayloadOptions {
  receiver: string;
  /** Where operators look (the API's address); the alerts point at its /v1/health. */
  externalURL: string;
  /** Labels every alert carries (e.g. the framework's and the cluster's names). */
  labels?: Record<string, string>;
  now: number;
}

/** Alertmanager's fingerprint is a hash of the sorted labels; any stable hash does. */
function fingerprint(labels: Record<string, string>): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join("\u0000");
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** Keys with the same value in every record. */
function common(records: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([k, v]) => rest.every((r) => r[k] === v)),
  );
}

function alert(
  c: Condition,
  severity: Condition["severity"],
  resolved: boolean,
  description: string,
  o: PayloadOptions,
): WebhookAlert {
  const labels = { ...o.labels, alertname: c.type, severity, object: c.object };
  return {
    status: resolved ? "resolved" : "firing",
    labels,
    annotations: { summary: c.message, description },
    startsAt: new Date(c.since).toISOString(),
    endsAt: resolved ? new Date(o.now).toISOString() : NOT_ENDED,
    generatorURL: `${o.externalURL}/v1/health`,
    fingerprint: fingerprint(labels),
  };
}

/**
 * A change's alerts. The severity is a label, so (as in Alertmanager) a condition that changes
 * severity is another alert: the one of the old severity is resolved, the new one fires.
 */
function alertsOf(change: ConditionChange, o: PayloadOptions): WebhookAlert[] {
  const c: Condition = change.condition;
  const what = `${c.type} on ${c.object}`;
  const since = new Date(c.since).toISOString();
  if (change.kind === "cleared")
    return [alert(c, c.severity, true, `${what} cleared (active since ${since})`, o)];
  if (change.kind === "changed" && change.previous && change.previous !== c.severity)
    return [
      alert(c, change.previous, true, `${what} is ${c.severity} now (was ${change.previous})`, o),
      alert(c, c.severity, false, `${what} is ${c.severity} now (was ${change.previous})`, o),
    ];
  return [alert(c, c.severity, false, `${what} since ${since}`, o)];
}

/** One POST's body for the changes of one look at the cluster. */
export function alertmanagerPayload(changes: ConditionChange[], o: PayloadOptions): WebhookPayload {
  const alerts = changes.flatMap((c) => alertsOf(c, o));
  return {
    version: "4",
    groupKey: `{}:{receiver="${o.receiver}"}`,
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
    receiver: o.receiver,
    groupLabels: {},
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    externalURL: o.externalURL,
    alerts,
  };
}

interface Logger {
  warn(obj: object, msg?: string): void;
}

/** What emits the changes (the health monitor). */
export interface ChangeSource {
  on(event: "change", listener: (changes: ConditionChange[]) => void): unknown;
  off(event: "change", listener: (changes: ConditionChange[]) => void): unknown;
}

export interface AlertWebhookOptions {
  url: string;
  /** Alertmanager's receiver name (default `storage-framework`). */
  receiver?: string;
  /** Read at each post: the API's address is known only once it listens. */
  externalURL: () => string;
  labels?: Record<string, string>;
  /** Scrubs secrets from the body before it leaves. */
  redact?: (text: string) => string;
  logger: Logger;
  /** Tries per post before it is given up (default 5). */
  attempts?: number;
  backoff?: { initialMs?: number; maxMs?: number; random?: () => number };
  timeoutMs?: number;
  /** Posts waiting at most; the oldest are dropped beyond (default 100). */
  maxQueue?: number;
  now?: () => number;
}

/** A status that may pass: the receiver is busy or away, not refusing the payload. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export class AlertWebhook {
  private readonly opts: AlertWebhookOptions;
  private readonly queue: WebhookPayload[] = [];
  private readonly aborter = new AbortController();
  private source: ChangeSource | undefined;
  private draining: Promise<void> | undefined;
  private readonly onChange = (changes: ConditionChange[]) => this.enqueue(changes);
  /** Posts delivered and given up (for tests and diagnostics). */
  delivered = 0;
  dropped = 0;

  constructor(opts: AlertWebhookOptions) {
    this.opts = opts;
  }

  start(source: ChangeSource): void {
    this.source = source;
    source.on("change", this.onChange);
  }

  /** Stops listening and gives up what is still queued (a post in flight is aborted). */
  async stop(): Promise<void> {
    this.source?.off("change", this.onChange);
    this.aborter.abort(new Error("stopping"));
    await this.draining;
  }

  /** Queues the changes' post and returns at once. */
  enqueue(changes: ConditionChange[]): void {
    if (changes.length === 0 || this.aborter.signal.aborted) return;
    this.queue.push(
      alertmanagerPayload(changes, {
        receiver: this.opts.receiver ?? "storage-framework",
        externalURL: this.opts.externalURL(),
        ...(this.opts.labels ? { labels: this.opts.labels } : {}),
        now: this.opts.now?.() ?? Date.now(),
      }),
    );
    const max = this.opts.maxQueue ?? 100;
    if (this.queue.length > max) {
      const gone = this.queue.splice(0, this.queue.length - max);
      this.dropped += gone.length;
      this.opts.logger.warn(
        { dropped: gone.length, url: this.target() },
        "alert webhook: too many posts waiting, the oldest dropped",
      );
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** The webhook's address without credentials or query (for logs). */
  private target(): string {
    try {
      const u = new URL(this.opts.url);
      return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return "(invalid URL)";
    }
  }

  private async drain(): Promise<void> {
    const signal = this.aborter.signal;
    while (this.queue.length > 0 && !signal.aborted) {
      const payload = this.queue.shift()!;
      const backoff = new Backoff({
        initialMs: this.opts.backoff?.initialMs ?? 1000,
        maxMs: this.opts.backoff?.maxMs ?? 60_000,
        ...(this.opts.backoff?.random ? { random: this.opts.backoff.random } : {}),
      });
      const attempts = this.opts.attempts ?? 5;
      let why = "";
      let done = false;
      for (let i = 1; i <= attempts && !done && !signal.aborted; i++) {
        const r = await this.post(payload, signal);
        if (r.ok) {
          done = true;
          this.delivered++;
          break;
        }
        why = r.why;
        if (!r.retry) break;
        // An aborted wait means stopping: the loop sees the signal and ends.
        if (i < attempts) await delay(backoff.next(), signal).catch(() => undefined);
      }
      if (!done && !signal.aborted) {
        this.dropped++;
        this.opts.logger.warn(
          { url: this.target(), alerts: payload.alerts.length, err: why },
          "alert webhook: post given up",
        );
      }
    }
  }

  private async post(
    payload: WebhookPayload,
    signal: AbortSignal,
  ): Promise<{ ok: true } | { ok: false; retry: boolean; why: string }> {
    let body = JSON.stringify(payload);
    if (this.opts.redact) body = this.opts.redact(body);
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    try {
      const r = await request(this.opts.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
      // Read (and drop) the answer so the connection can be reused; its status says it all.
      await r.body.text().catch(() => "");
      if (r.statusCode >= 200 && r.statusCode < 300) return { ok: true };
      return { ok: false, retry: retryable(r.statusCode), why: `HTTP ${r.statusCode}` };
    } catch (err) {
      return { ok: false, retry: true, why: (err as Error).message };
    }
  }
}
