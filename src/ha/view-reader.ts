// A standby's copy of the leader's read views (src/ha/views.ts), read from the state store at
// most once per `maxAgeMs` however many requests come, fetching only the pieces whose hash
// in the meta changed. A piece read is checked against the meta's hash: one the leader
// rewrote meanwhile makes the read start again, so a copy is always one published set.
import type { StateStore } from "../store/store.js";
import { StoreError } from "../store/store.js";
import type { NodeView } from "../framework/operator-view.js";
import type { PlanView } from "../framework/plan/types.js";
import { assemble, hashText, isViewMeta, META_KEY, type ViewMeta, type ViewSet } from "./views.js";

export interface StoredViewSnapshot {
  set: ViewSet;
  meta: ViewMeta;
  nodeById: Map<string, NodeView>;
  planById: Map<string, PlanView>;
}

/** Reads made one after another before giving up on a leader that keeps rewriting. */
const ATTEMPTS = 3;

export class StoredViews {
  private snap: StoredViewSnapshot | undefined;
  /** When the copy was last read (or a read failed): reads are at least maxAgeMs apart. */
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<StoredViewSnapshot | undefined> | undefined;
  /** The pieces last read, by key: the meta's hash says whether each is still current. */
  private pieces = new Map<string, { hash: string; value: unknown }>();
  /** Why the last read failed, while there is no copy: answered until the next read. */
  private failure: Error | undefined;
  /** Reads of the store made (for tests). */
  reads = 0;

  constructor(
    private readonly store: StateStore,
    private readonly opts: {
      maxAgeMs?: number;
      now?: () => number;
      /** Each failed read (at most one per maxAgeMs), for the log. */
      onReadError?: (err: Error) => void;
    } = {},
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * The latest copy, undefined when none was published. When the store cannot be read, the
   * copy read before (its meta says how old it is); without one, the error.
   */
  current(): Promise<StoredViewSnapshot | undefined> {
    if (this.now() - this.readAt < (this.opts.maxAgeMs ?? 1000))
      return this.failure && !this.snap ? Promise.reject(this.failure) : Promise.resolve(this.snap);
    this.reading ??= this.refresh().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async refresh(): Promise<StoredViewSnapshot | undefined> {
    try {
      for (let attempt = 1; ; attempt++) {
        const read = await this.read();
        if (read !== "moved") {
          this.snap = read;
          this.failure = undefined;
          return read;
        }
        if (attempt >= ATTEMPTS) {
          if (this.snap) return this.snap;
          throw new StoreError("UNAVAILABLE", "the leader's views kept changing while read");
        }
      }
    } catch (err) {
      this.opts.onReadError?.(err as Error);
      if (this.snap) return this.snap;
      this.failure = err as Error;
      throw err;
    } finally {
      this.readAt = this.now();
    }
  }

  /** One read: the copy, undefined when none was published, or "moved" when it changed meanwhile. */
  private async read(): Promise<StoredViewSnapshot | undefined | "moved"> {
    this.reads++;
    const meta = await this.store.get(META_KEY);
    if (meta === undefined) return undefined;
    if (!isViewMeta(meta)) throw new StoreError("CORRUPT", `${META_KEY} is not a view index`);
    let moved = false;
    const fresh = new Map<string, { hash: string; value: unknown }>();
    await Promise.all(
      Object.entries(meta.pieces).map(async ([key, hash]) => {
        let have = this.pieces.get(key);
        if (have?.hash !== hash) {
          this.reads++;
          const value = await this.store.get(key);
          // Kept even when it is newer than this meta: the next meta may name it.
          have = { hash: value === undefined ? "" : hashText(JSON.stringify(value)), value };
          this.pieces.set(key, have);
        }
        if (have.hash !== hash) moved = true;
        fresh.set(key, have);
      }),
    );
    if (moved) return "moved";
    this.pieces = fresh;
    const set = assemble(meta, new Map([...fresh].map(([k, v]) => [k, v.value])));
    return {
      set,
      meta,
      nodeById: new Map(set.nodes.map((n) => [n.agentId, n])),
      planById: new Map(set.plans.map((p) => [p.id, p])),
    };
  }
}
