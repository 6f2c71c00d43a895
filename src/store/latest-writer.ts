// Persists the latest snapshot of one key, coalescing bursts: writes never overlap, and all
// the save() calls made while a write is in flight share the one next write. Each save()
// resolves once a write that began after the call is durable, so callers keep the store's
// guarantee ("once this resolves, a crash does not lose it") at one fsync per burst instead
// of one per change.
import { CoalescedRunner } from "../common/coalesced-runner.js";
import type { StateStore } from "./store.js";

export class LatestWriter {
  private readonly writes: CoalescedRunner;

  constructor(
    store: StateStore,
    key: string,
    /** The value to write, read when the write begins (not when save() is called). */
    snapshot: () => unknown,
  ) {
    this.writes = new CoalescedRunner(() => store.set(key, snapshot()));
  }

  save(): Promise<void> {
    return this.writes.run();
  }

  /** Resolves once every write asked for so far has ended (failed or not). */
  settled(): Promise<void> {
    return this.writes.settled();
  }
}
