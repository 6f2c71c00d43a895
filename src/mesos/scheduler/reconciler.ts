// Task reconciliation as Mesos recommends it (reconciliation.md): explicitly reconcile every
// task believed non-terminal, re-asking with truncated exponential backoff for those that
// have not answered, then one implicit reconciliation. One run at a time; starting a new
// run (as after every SUBSCRIBED) cancels the previous one.
import { EventEmitter } from "node:events";
import { Backoff, delay, type BackoffOptions } from "../backoff.js";
import { MesosError } from "../errors.js";
import type { TaskStatus } from "../types/common.js";

export interface ReconcileTarget {
  taskId: string;
  agentId?: string;
}

/** What the reconciler needs of a scheduler client. */
export interface ReconcileChannel extends EventEmitter {
  reconcile(tasks: { taskId: string; agentId?: string }[]): Promise<void>;
}

export interface ReconcilerOptions {
  backoff?: BackoffOptions;
  /** Rounds of explicit reconciliation before giving up on silent tasks (default: unlimited). */
  maxRounds?: number;
}

export interface ReconcileResult {
  /** Tasks that answered, with their latest status. */
  answered: Map<string, TaskStatus>;
  /** Tasks that never answered (only when maxRounds was reached). */
  silent: string[];
  rounds: number;
}

export class TaskReconciler {
  private readonly channel: ReconcileChannel;
  private readonly opts: ReconcilerOptions;
  private current: AbortController | undefined;

  constructor(channel: ReconcileChannel, opts: ReconcilerOptions = {}) {
    this.channel = channel;
    this.opts = opts;
  }

  /** True while a run is in progress. */
  get running(): boolean {
    return this.current !== undefined;
  }

  /** Cancels the current run, if any. */
  cancel(): void {
    this.current?.abort(new MesosError("RECONCILE_CANCELLED", "reconciliation superseded"));
    this.current = undefined;
  }

  /**
   * Runs one reconciliation: explicit for `tasks` until each has answered, then implicit.
   * Rejects if cancelled (a newer run started) or if a RECONCILE call fails for good.
   */
  async run(tasks: ReconcileTarget[]): Promise<ReconcileResult> {
    this.cancel();
    const ac = new AbortController();
    this.current = ac;
    const answered = new Map<string, TaskStatus>();
    const pending = new Map(tasks.map((t) => [t.taskId, t]));
    const onUpdate = (status: TaskStatus) => {
      answered.set(status.task_id.value, status);
      pending.delete(status.task_id.value);
      if (pending.size === 0) wake();
    };
    let wake: () => void = () => {};
    this.channel.on("update", onUpdate);
    const backoff = new Backoff({ initialMs: 1000, maxMs: 60_000, ...this.opts.backoff });
    let rounds = 0;
    try {
      while (pending.size > 0) {
        if (this.opts.maxRounds !== undefined && rounds >= this.opts.maxRounds) break;
        rounds += 1;
        await this.channel.reconcile(
          [...pending.values()].map((t) => ({
            taskId: t.taskId,
            ...(t.agentId ? { agentId: t.agentId } : {}),
          })),
        );
        // Wait for the backoff period, or less if every pending task answers meanwhile.
        const allAnswered = new Promise<void>((resolve) => (wake = resolve));
        await Promise.race([delay(backoff.next(), ac.signal), allAnswered]);
        if (ac.signal.aborted) throw ac.signal.reason;
      }
      const silent = [...pending.keys()];
      await this.channel.reconcile([]);
      return { answered, silent, rounds };
    } finally {
      this.channel.off("update", onUpdate);
      if (this.current === ac) this.current = undefined;
    }
  }
}
