// Observes the cluster on an interval (default 10 s) and soon after every change the
// framework makes, one observation at a time; keeps the latest typed model, the conditions
// the checks derive from it, and an hour of per-pool samples for the UI's plots.
import { EventEmitter } from "node:events";
import { CoalescedRunner } from "../../../common/coalesced-runner.js";
import type { ConditionFinding } from "../../../framework/health/types.js";
import type { PlatformHealth } from "../../../framework/health/monitor.js";
import { SampleHistory, type Sample } from "../../../framework/health/history.js";
import type { GatewayClient } from "../gateway/client.js";
import { poolObject, ScaleioHealthChecks } from "./checks.js";
import type { ObservedCluster } from "./model.js";
import { readObserved } from "./read.js";

/** One point of a pool's plots. */
export interface PoolSample {
  usedPercent: number;
  iops: number;
  kbPerSecond: number;
  latencyMicros: number;
  rebuildRemainingKb: number;
}

/** Per pool (by its object name), one observation's figures. */
export type ClusterSample = Record<string, PoolSample>;

export interface ObserverOptions {
  client: () => GatewayClient;
  system?: { name?: string; id?: string };
  intervalMs?: number;
  /** Samples kept (default: an hour at the interval). */
  historySize?: number;
  checks?: ScaleioHealthChecks;
  /** Observations after a change wait this long first, so a burst of changes costs one. */
  settleMs?: number;
  now?: () => number;
}

export interface ObserverEvents {
  observed: [cluster: ObservedCluster, findings: ConditionFinding[]];
  failed: [error: Error];
}

export class ClusterObserver extends EventEmitter<ObserverEvents> implements PlatformHealth {
  private readonly opts: ObserverOptions;
  private readonly runner: CoalescedRunner;
  private readonly checks: ScaleioHealthChecks;
  readonly history: SampleHistory<ClusterSample>;
  private latestValue: ObservedCluster | undefined;
  private findingsValue: ConditionFinding[] = [];
  private errorValue: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private running = false;

  constructor(opts: ObserverOptions) {
    super();
    this.opts = opts;
    this.checks = opts.checks ?? new ScaleioHealthChecks();
    const interval = this.intervalMs;
    this.history = new SampleHistory(
      opts.historySize ?? Math.max(1, Math.ceil(3_600_000 / interval)),
    );
    this.runner = new CoalescedRunner(() => this.observeOnce());
  }

  get intervalMs(): number {
    return this.opts.intervalMs ?? 10_000;
  }

  /** The latest observation, if one has succeeded. */
  get latest(): ObservedCluster | undefined {
    return this.latestValue;
  }

  /** What the checks found in the latest observation. */
  get findings(): ConditionFinding[] {
    return this.findingsValue;
  }

  /** Why the latest observation failed, if it did. */
  get error(): string | undefined {
    return this.errorValue;
  }

  observed(): boolean {
    return this.latestValue !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops looking; resolves once a look under way has ended (it starts none itself). */
  stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.soon);
    return this.runner.settled();
  }

  /** Observe now (or join the observation about to start); resolves when it is done. */
  observe(): Promise<void> {
    return this.runner.run();
  }

  /** Something changed: observe after a short settle, once for a burst of changes. */
  observeSoon(): void {
    if (!this.running || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.observe();
    }, this.opts.settleMs ?? 1000);
    this.soon.unref();
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      const began = Date.now();
      // Looks begin an interval apart (not an interval after the last one ended), so a
      // cause is seen within one interval plus at most one look's time.
      void this.observe().finally(() =>
        this.schedule(Math.max(0, this.intervalMs - (Date.now() - began))),
      );
    }, delayMs);
    this.timer.unref();
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  // Failures are kept and reported as events, never thrown at the timer.
  private async observeOnce(): Promise<void> {
    let cluster: ObservedCluster;
    try {
      cluster = await readObserved(this.opts.client(), this.opts.system ?? {}, () => this.now());
    } catch (err) {
      this.errorValue = (err as Error).message;
      this.emit("failed", err as Error);
      return;
    }
    this.errorValue = undefined;
    this.latestValue = cluster;
    this.findingsValue = this.checks.check(cluster);
    const sample: ClusterSample = {};
    for (const p of cluster.pools)
      sample[poolObject(p)] = {
        usedPercent: p.usedPercent,
        iops: p.performance.read.iops + p.performance.write.iops,
        kbPerSecond: p.performance.read.kbPerSecond + p.performance.write.kbPerSecond,
        latencyMicros: p.performance.latencyMicros,
        rebuildRemainingKb: p.rebuildRemainingKb,
      };
    this.history.push(cluster.at, sample);
    this.emit("observed", cluster, this.findingsValue);
  }

  /** The plots' data since a time (default: all that is kept). */
  samples(since?: number): Sample<ClusterSample>[] {
    return this.history.list(since);
  }
}
