// Time-driven processes (rebuild, rebalance, token expiry) read time from a Clock so tests
// can move time explicitly instead of sleeping.
export interface Clock {
  /** Milliseconds since the epoch, as the emulated system sees it. */
  now(): number;
  /** Jumps forward (the "speed up time" knob). */
  advance?(ms: number): void;
  /** Runs faster than real time from now on (wall clocks only). */
  setFactor?(factor: number): void;
}

export class ManualClock implements Clock {
  constructor(private ms = Date.UTC(2017, 5, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Wall clock that can run faster than real time (the "speed up rebuilds" knob). */
export class ScaledClock implements Clock {
  private baseReal = Date.now();
  private baseSim = Date.now();
  constructor(private factor = 1) {}
  now(): number {
    return this.baseSim + (Date.now() - this.baseReal) * this.factor;
  }
  setFactor(factor: number): void {
    this.baseSim = this.now();
    this.baseReal = Date.now();
    this.factor = factor;
  }
  getFactor(): number {
    return this.factor;
  }
  advance(ms: number): void {
    this.baseSim += ms;
  }
}
