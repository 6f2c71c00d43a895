// Periodic device rescan: while subscribed, the executor looks at its host's raw devices on
// an interval and tells the scheduler (Mesos MESSAGE) when they differ from what it last
// sent. It never asks anyone about the cluster; the scheduler decides what to do.
import type { Logger } from "./logger.js";

export const DEVICE_SCAN_ENV = "SCALEIO_FRAMEWORK_DEVICE_SCAN_INTERVAL";

export interface DeviceReporterOptions {
  /** Seconds between scans; 0 turns the reporter off. */
  intervalSeconds: number;
  /** The host's devices, already encoded as the message to send. */
  scan(): Promise<string>;
  send(message: string): Promise<void>;
  log: Logger;
}

/** Seconds from the environment (default 300); a bad value is refused, not guessed. */
export function scanIntervalFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env[DEVICE_SCAN_ENV];
  if (raw === undefined || raw === "") return 300;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 86_400)
    throw new Error(`${DEVICE_SCAN_ENV}='${raw}' must be whole seconds between 0 and 86400`);
  return n;
}

export class DeviceReporter {
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private busy = false;

  constructor(private readonly o: DeviceReporterOptions) {}

  /** Scans now, then on the interval (a second call only scans now). */
  start(): void {
    if (this.o.intervalSeconds === 0) return;
    void this.scanOnce();
    if (this.timer) return;
    this.timer = setInterval(() => void this.scanOnce(), this.o.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-sends the next report even if unchanged (after a resubscription). */
  forget(): void {
    this.last = undefined;
  }

  async scanOnce(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const message = await this.o.scan();
      if (message === this.last) return;
      await this.o.send(message);
      this.last = message;
      this.o.log.info({}, "device report sent");
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, "device scan failed; next interval retries");
    } finally {
      this.busy = false;
    }
  }
}
