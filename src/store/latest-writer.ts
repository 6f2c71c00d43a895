// Persists the latest snapshot of one key, coalescing bursts: writes never overlap, and all
// the save() calls made while a write is in flight share the one next write. Each save()
// resolves once a write that began after the call is durable, so callers keep the store's
// guarantee ("once this resolves, a crash does not lose it") at one fsync per burst instead
// of one per change.
import type { StateStore } from "./store.js";

export class LatestWriter {
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly key: string,
    /** The value to write, read when the write begins (not when save() is called). */
    private readonly snapshot: () => unknown,
  ) {}

  save(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.tail
      .catch(() => {})
      .then(() => {
        // From here on a change needs another write: this one may already have its snapshot.
        this.queued = undefined;
        return this.store.set(this.key, this.snapshot());
      });
    this.queued = next;
    this.tail = next;
    return next;
  }

  /** Resolves once every write asked for so far has ended (failed or not). */
  settled(): Promise<void> {
    return this.tail.catch(() => {});
  }
}
