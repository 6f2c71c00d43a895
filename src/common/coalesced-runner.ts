// Runs one job at a time; calls made while a run waits to start share that run. For work
// that reads the current state when it begins (recomputing plans, reviving offers): a
// burst of triggers costs one run, not one per trigger, and no two runs overlap.
export class CoalescedRunner {
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(private readonly job: () => Promise<void>) {}

  /** Resolves (or rejects) with the run that begins after this call. */
  run(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.tail
      .catch(() => {})
      .then(() => {
        // From here on a trigger needs another run: this one may have read the state already.
        this.queued = undefined;
        return this.job();
      });
    this.queued = next;
    this.tail = next;
    return next;
  }

  /** Resolves once every run asked for so far has ended (failed or not). */
  settled(): Promise<void> {
    return this.tail.catch(() => {});
  }
}
