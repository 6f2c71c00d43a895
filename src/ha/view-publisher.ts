// The leader keeps a copy of its read views in the state store, so that its standbys can
// answer reads (src/ha/view-reader.ts). A change (any event of the operator view) asks for a
// publish; publishes are at least `minIntervalMs` apart (more for views so large that
// serializing them would take over 5% of a core), write only the pieces whose JSON
// changed (with the meta, in one commit: fenced like every write of the leader), and nothing
// at all when nothing changed, except the meta's `checkedAt` every `heartbeatMs`, so a
// standby can tell a still copy from an abandoned one. Secrets are taken out of the text.
import type { OperatorEvent } from "../framework/events.js";
import type { OperatorView } from "../framework/operator-view.js";
import type { StateStore, WriteOp } from "../store/store.js";
import { StoreError } from "../store/store.js";
import {
  cut,
  hashText,
  isViewMeta,
  META_KEY,
  VIEWS_PREFIX,
  type ViewMeta,
  type ViewSet,
} from "./views.js";

export interface ViewPublisherOptions {
  /** The views as they are now. */
  collect: () => ViewSet;
  /** Who publishes (the leader's election id and API URL), once known. */
  leader: () => { id: string; api: string } | null;
  /** Replaces secrets in a text. */
  redact: (text: string) => string;
  /** Least time between two publishes (default 1 s). */
  minIntervalMs?: number;
  /** Rewrites the meta when nothing changed for this long (default 10 s). */
  heartbeatMs?: number;
  now?: () => number;
  /** Problems (a failed write), each distinct one once in a row. */
  warn?: (msg: string) => void;
  /** False: publish nothing (an uninstall past its teardown deletes the whole state). */
  active?: () => boolean;
}

export class ViewPublisher {
  private readonly opts: ViewPublisherOptions;
  /** Hashes of the pieces as stored; undefined until read from the store (or after a failure). */
  private stored: Map<string, string> | undefined;
  private lastMetaAt = 0;
  private changedAt = 0;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  /** What the last publish cost before its write (collecting, serializing, hashing). */
  private lastCostMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** The publish waiting for its time or running, and how to end the wait early. */
  private pending: { done: Promise<void>; cancel(): void } | undefined;
  private running = false;
  private again = false;
  private stopped = false;
  private lastWarning: string | undefined;
  /** Commits made (for tests and metrics). */
  publishes = 0;

  constructor(
    private readonly store: StateStore,
    opts: ViewPublisherOptions,
  ) {
    this.opts = opts;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Publishes now, then on every change() and heartbeat. */
  start(): void {
    const every = this.opts.heartbeatMs ?? 10_000;
    this.heartbeat = setInterval(() => this.changed(), every);
    this.heartbeat.unref();
    this.changed();
  }

  /** Something may have changed: publish when the interval allows. */
  changed(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.pending) return;
    // At most 5% of a core: views of thousands of nodes and steps take a while to serialize.
    const gap = Math.max(this.opts.minIntervalMs ?? 1000, 20 * this.lastCostMs);
    const wait = Math.max(0, this.lastRunAt + gap - this.now());
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const finish = () => {
      this.timer = undefined;
      this.pending = undefined;
      resolve();
    };
    this.timer = setTimeout(() => {
      this.running = true;
      void this.run().finally(() => {
        this.running = false;
        finish();
        if (this.again) {
          this.again = false;
          this.changed();
        }
      });
    }, wait);
    this.pending = {
      done,
      cancel: () => {
        if (this.running) return;
        clearTimeout(this.timer);
        finish();
      },
    };
  }

  /** Resolves once no publish is waiting or running. */
  async settled(): Promise<void> {
    while (this.pending) await this.pending.done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    this.pending?.cancel();
    await this.settled();
  }

  private async run(): Promise<void> {
    this.lastRunAt = this.now();
    try {
      await this.publish();
      this.lastWarning = undefined;
    } catch (err) {
      // Unknown what landed: the next publish reads the stored meta again.
      this.stored = undefined;
      const fenced = err instanceof StoreError && err.code === "FENCED";
      if (fenced) this.stopped = true; // deposed: the process stops anyway
      const msg = `views for standbys not published${fenced ? " (no longer the leader)" : ""}: ${(err as Error).message}`;
      if (msg !== this.lastWarning) this.opts.warn?.(msg);
      this.lastWarning = msg;
    }
  }

  /** The pieces' hashes as stored (from the stored meta), and every key under views/. */
  private async readStored(): Promise<Map<string, string>> {
    const meta = await this.store.get(META_KEY);
    const hashes = isViewMeta(meta) ? meta.pieces : {};
    if (isViewMeta(meta)) this.changedAt = meta.changedAt;
    const out = new Map<string, string>();
    // A key the meta does not name (an older layout, a failed commit's leftovers) is removed.
    for (const key of await this.store.list(VIEWS_PREFIX))
      if (key !== META_KEY) out.set(key, hashes[key] ?? "");
    return out;
  }

  private async publish(): Promise<void> {
    const active = this.opts.active ?? (() => true);
    if (!active()) return;
    const stored = (this.stored ??= await this.readStored());
    const began = performance.now();
    const { pieces, plans, nodePieces } = cut(this.opts.collect());
    const hashes: Record<string, string> = {};
    const ops: WriteOp[] = [];
    for (const [key, value] of pieces) {
      let text = JSON.stringify(value);
      let safe = value;
      // A secret found: the value as JSON carries it, every string redacted on its own.
      if (this.opts.redact(text) !== text) {
        safe = redactDeep(JSON.parse(text), this.opts.redact);
        text = JSON.stringify(safe);
      }
      const hash = hashText(text);
      hashes[key] = hash;
      if (stored.get(key) !== hash) ops.push({ op: "set", key, value: safe });
    }
    for (const key of stored.keys()) if (!pieces.has(key)) ops.push({ op: "delete", key });
    this.lastCostMs = performance.now() - began;
    const now = this.now();
    if (ops.length === 0 && now - this.lastMetaAt < (this.opts.heartbeatMs ?? 10_000)) return;
    if (ops.length > 0) this.changedAt = now;
    const meta: ViewMeta = {
      format: 1,
      checkedAt: now,
      changedAt: this.changedAt || now,
      leader: this.opts.leader(),
      pieces: hashes,
      plans,
      nodePieces,
    };
    ops.push({ op: "set", key: META_KEY, value: meta });
    if (!active()) return;
    await this.store.commit(ops);
    this.publishes++;
    this.lastMetaAt = now;
    this.stored = new Map(Object.entries(hashes));
  }
}

/** A parsed JSON value with every string (and key) passed through redact. */
function redactDeep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value === null || typeof value !== "object") return value;
  // Without a prototype: a key such as `__proto__` stays a plain entry.
  const out = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) out[redact(k)] = redactDeep(v, redact);
  return out;
}

/** The answers of the leader's read routes, as a standby serves them. */
export function collectViews(view: OperatorView): ViewSet {
  const plans = view.plans();
  return {
    summary: view.summary(),
    health: view.healthReport(plans),
    pools: view.source.platform.pools?.() ?? [],
    plans,
    nodes: view.nodes(),
  };
}

/**
 * Publishes an operator view for the standbys: now, after its events (log lines change no
 * view) and on the heartbeat. Stop it before the store closes.
 */
export function publishOperatorViews(
  store: StateStore,
  view: OperatorView,
  opts: Pick<ViewPublisherOptions, "leader" | "warn" | "active" | "minIntervalMs" | "heartbeatMs">,
): { publisher: ViewPublisher; stop(): Promise<void> } {
  const publisher = new ViewPublisher(store, {
    ...opts,
    collect: () => collectViews(view),
    redact: (t) => view.source.redact(t),
  });
  const onEvent = (ev: OperatorEvent) => {
    if (ev.type !== "log") publisher.changed();
  };
  view.events.on("event", onEvent);
  publisher.start();
  return {
    publisher,
    stop: async () => {
      view.events.off("event", onEvent);
      await publisher.stop();
    },
  };
}
