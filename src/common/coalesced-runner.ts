// Runs one job at a time; calls made while a run waits to start share that run. For work
// that reads the current state when it begins (recomputing plans, reviving offers): a
// burst of triggers costs one run, not one per trigger, and no two runs overlap. An
// optional gap keeps runs apart, for jobs whose cost grows with what they look at.
export class CoalescedRunner {
  private tail: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private lastEnd = 0;

  constructor(
    private readonly job: () => Promise<void>,
    /** Least time between the end of a run and the start of the next (read each time). */
    private readonly gapMs: () => number = () => 0,
  ) {}

  /** Resolves (or rejects) with the run that begins after this call. */
  run(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.tail
      .catch(() => {})
      .then(async () => {
        const wait = this.lastEnd + this.gapMs() - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        // From here on a trigger needs another run: this one may have read the state already.
        this.queued = undefined;
        try {
          await this.job();
        } finally {
          this.lastEnd = Date.now();
        }
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
