// A fixed-size ring of timestamped samples (the last hour of observations at the interval),
// for the UI's plots. Memory is bounded by the capacity whatever the uptime.

export interface Sample<T> {
  at: number;
  value: T;
}

export class SampleHistory<T> {
  private readonly ring: (Sample<T> | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("history capacity must be a positive integer");
    this.ring = new Array<Sample<T> | undefined>(capacity);
  }

  push(at: number, value: T): void {
    this.ring[this.next] = { at, value };
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Oldest first; only samples at or after `since` when given. */
  list(since = Number.NEGATIVE_INFINITY): Sample<T>[] {
    const out: Sample<T>[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const s = this.ring[(start + i) % this.capacity]!;
      if (s.at >= since) out.push(s);
    }
    return out;
  }

  latest(): Sample<T> | undefined {
    return this.size ? this.ring[(this.next - 1 + this.capacity) % this.capacity] : undefined;
  }
}
