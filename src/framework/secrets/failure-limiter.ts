// Counts failed attempts per caller address in a fixed window, so that whoever keeps
// presenting bad or stolen tokens is refused for a while (and does not flood the log).
export interface FailureLimiterOptions {
  /** Failures allowed per address within one window (default 5). */
  max?: number;
  /** Window length (default 60 s). */
  windowMs?: number;
  /** Addresses remembered at most; the oldest are forgotten first (default 10,000). */
  maxAddresses?: number;
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
  /** Refusals while blocked in this window (logged once, then only counted). */
  refused: number;
}

export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(o: FailureLimiterOptions = {}) {
    this.max = o.max ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
    this.maxAddresses = o.maxAddresses ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  private current(address: string): Window | undefined {
    const w = this.windows.get(address);
    if (w && this.now() - w.start >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  /** Milliseconds until this address may try again, or 0 when it may try now. */
  blockedFor(address: string): number {
    const w = this.current(address);
    if (!w || w.failures < this.max) return 0;
    return Math.max(1, w.start + this.windowMs - this.now());
  }

  /** Records a refusal of a blocked address; true for the first one of its window. */
  refusedWhileBlocked(address: string): boolean {
    const w = this.current(address);
    if (!w) return true;
    w.refused += 1;
    return w.refused === 1;
  }

  fail(address: string): void {
    let w = this.current(address);
    if (!w) {
      if (this.windows.size >= this.maxAddresses) {
        // Maps iterate in insertion order: the first key is the oldest window.
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      w = { start: this.now(), failures: 0, refused: 0 };
      this.windows.set(address, w);
    }
    w.failures += 1;
  }
}
