// Runs a store's operations on each key in call order: two writes of one key in flight at
// once could otherwise land in either order, and an older value would win. An operation on
// several keys (an atomic commit) starts after the earlier operations on all of them.
export class KeyQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<R>(keys: readonly string[], op: () => Promise<R>): Promise<R> {
    // An earlier op's failure was reported to its own caller; this one runs regardless.
    const prev = Promise.allSettled(keys.map((k) => this.tails.get(k)));
    const next = prev.then(op);
    for (const k of keys) this.tails.set(k, next);
    const forget = () => {
      for (const k of keys) if (this.tails.get(k) === next) this.tails.delete(k);
    };
    next.then(forget, forget);
    return next;
  }

  /** Resolves once every operation asked for so far has ended (failed or not). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}
