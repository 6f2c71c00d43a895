// The operator event hub: a bounded ring buffer of what happened (plan and step changes,
// agents seen or lost, platform observations, operator-relevant log lines) with increasing
// ids, so the event stream can replay what a reconnecting client missed (Last-Event-ID).
import { EventEmitter } from "node:events";
import { mergePlanChanges, type PlanChange } from "./plan-changes.js";

export type OperatorEventType = "plan" | "step" | "node" | "summary" | "log" | "health";

export interface OperatorEvent {
  id: number;
  type: OperatorEventType;
  time: number;
  data: unknown;
}

export interface LogEventData {
  time: number;
  level: "info" | "warn" | "error";
  msg: string;
}

export interface EventHubOptions {
  /** Events kept for replay (default 500). */
  capacity?: number;
  /** Scrubs secrets from every event before it is kept or sent. */
  redact?: (text: string) => string;
  now?: () => number;
}

export class EventHub extends EventEmitter<{ event: [OperatorEvent] }> {
  private readonly buffer: OperatorEvent[] = [];
  private readonly capacity: number;
  private readonly opts: EventHubOptions;
  private lastId = 0;
  private evicted = 0;

  constructor(opts: EventHubOptions = {}) {
    super();
    this.opts = opts;
    this.capacity = Math.max(1, opts.capacity ?? 500);
    // Every SSE client listens; that is not a leak.
    this.setMaxListeners(0);
  }

  publish(type: OperatorEventType, data: unknown): OperatorEvent {
    const clean = this.opts.redact ? scrub(data, this.opts.redact) : data;
    const ev: OperatorEvent = {
      id: ++this.lastId,
      type,
      time: this.opts.now?.() ?? Date.now(),
      data: clean,
    };
    // A node or summary event is the whole current state of its object, a plan event its
    // current status and counts: the buffer keeps only the newest of each (hundreds of them
    // would otherwise crowd out the step changes). A plan's kept event also says what the
    // phase changes it replaced said. Replays still end in the latest state of everything
    // they cover.
    let kept = ev;
    const key = stateKey(type, clean);
    if (key !== undefined) {
      const i = this.buffer.findIndex((e) => stateKey(e.type, e.data) === key);
      if (i >= 0) {
        const [old] = this.buffer.splice(i, 1);
        if (type === "plan" && isPlanChange(old!.data) && isPlanChange(clean))
          kept = { ...ev, data: mergePlanChanges(old!.data, clean) };
      }
    }
    this.buffer.push(kept);
    if (this.buffer.length > this.capacity) {
      const gone = this.buffer.splice(0, this.buffer.length - this.capacity);
      this.evicted = gone.at(-1)!.id;
    }
    this.emit("event", ev);
    return ev;
  }

  log(level: LogEventData["level"], msg: string): OperatorEvent {
    return this.publish("log", { time: this.opts.now?.() ?? Date.now(), level, msg });
  }

  /** Events with an id above `afterId` (all kept ones when undefined), oldest first. */
  since(afterId?: number): OperatorEvent[] {
    return afterId === undefined ? [...this.buffer] : this.buffer.filter((e) => e.id > afterId);
  }

  /** The newest `n` events, oldest first. */
  recent(n: number): OperatorEvent[] {
    return n <= 0 ? [] : this.buffer.slice(-n);
  }

  get latestId(): number {
    return this.lastId;
  }

  /**
   * The newest id the buffer let go of for room (0: none yet). A reader that has seen up to
   * an id below it has missed events no replay can give back. (An older view of a plan, node
   * or summary replaced by a newer one is not missed: the newer one says it all.)
   */
  get evictedUpTo(): number {
    return this.evicted;
  }
}

/**
 * The data with every string (values and keys) passed through `redact`. Copies only what
 * changed (a secret is rare) and never serialises the whole value: a plan view of a large
 * cluster is megabytes of JSON, published several times a second while it deploys.
 */
function scrub(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (value === null || typeof value !== "object") return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    // What JSON would show of it (a Secret shows "[redacted]", a Date its ISO text).
    return scrub((value as { toJSON: () => unknown }).toJSON(), redact);
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const c = scrub(v, redact);
      if (c !== v) (out ??= value.slice())[i] = c;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  const entries = Object.entries(value);
  entries.forEach(([k, v], i) => {
    const c = scrub(v, redact);
    const key = redact(k);
    // The first change copies the entries before it; later ones are copied as they come.
    if (c !== v || key !== k) (out ??= Object.fromEntries(entries.slice(0, i)))[key] = c;
    else if (out) out[k] = v;
  });
  return out ?? value;
}

/** A plan change (its phases without steps), not a whole plan view. */
function isPlanChange(d: unknown): d is PlanChange {
  const phases = (d as { phases?: unknown } | null)?.phases;
  return Array.isArray(phases) && phases.every((p) => !(p as { steps?: unknown })?.steps);
}

/** What a state event replaces: the same plan, node or the summary. */
function stateKey(type: OperatorEventType, data: unknown): string | undefined {
  const d = data as { id?: unknown; agentId?: unknown } | null;
  if (type === "summary") return "summary";
  if (type === "plan" && typeof d?.id === "string") return `plan:${d.id}`;
  if (type === "node" && typeof d?.agentId === "string") return `node:${d.agentId}`;
  return undefined;
}

interface LevelLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** `msg: key=value, ...` from a structured log call (values shortened). */
function logText(obj: object, msg?: string): string {
  const fields = Object.entries(obj)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${(typeof v === "string" ? v : JSON.stringify(v)).slice(0, 300)}`);
  return [msg ?? "", fields.join(", ")].filter(Boolean).join(": ");
}

/**
 * A logger that also publishes warnings and errors on the hub (operators see what went
 * wrong without reading logs). The same line within `quietMs` is published once.
 */
export function teeToHub<L extends LevelLogger>(base: L, hub: EventHub, quietMs = 60_000): L {
  const last = new Map<string, number>();
  const publish = (level: "warn" | "error", obj: object, msg?: string) => {
    const text = logText(obj, msg);
    const now = Date.now();
    if ((last.get(text) ?? -Infinity) > now - quietMs) return;
    last.set(text, now);
    if (last.size > 1000) last.clear();
    hub.log(level, text);
  };
  return Object.assign(Object.create(base) as L, {
    warn: (obj: object, msg?: string) => {
      base.warn(obj, msg);
      publish("warn", obj, msg);
    },
    error: (obj: object, msg?: string) => {
      base.error(obj, msg);
      publish("error", obj, msg);
    },
  });
}
