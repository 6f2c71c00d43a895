// The agent's status update manager (reference 5.3): per task, updates are stored, then
// forwarded to the master one at a time and re-sent (10 s doubling to 10 min by default)
// until the scheduler's acknowledgement comes back through the master.
import type { TaskStatus } from "../../../src/mesos/types/index.js";

interface UpdateStream {
  frameworkId: string;
  taskId: string;
  pending: TaskStatus[];
  seen: Set<string>;
  timer?: NodeJS.Timeout;
  retryMs: number;
}

export interface StatusUpdateOptions {
  retryMs: number;
  maxRetryMs: number;
  forward(frameworkId: string, status: TaskStatus): void;
  changed(frameworkId: string, taskId: string): void;
  acknowledged(frameworkId: string, status: TaskStatus): void;
}

const key = (f: string, t: string) => `${f}\u0000${t}`;

export class StatusUpdateManager {
  private streams = new Map<string, UpdateStream>();
  private online = false;

  constructor(private readonly opts: StatusUpdateOptions) {}

  /** Stores an update; returns false for a duplicate (same uuid seen before). */
  add(frameworkId: string, status: TaskStatus): boolean {
    const s = this.stream(frameworkId, status.task_id.value);
    if (status.uuid && s.seen.has(status.uuid)) return false;
    if (status.uuid) s.seen.add(status.uuid);
    s.pending.push(status);
    this.opts.changed(frameworkId, s.taskId);
    if (s.pending.length === 1) this.send(s);
    return true;
  }

  /** The scheduler acknowledged `uuid`: drop the head and forward the next one. */
  ack(frameworkId: string, taskId: string, uuid: string): boolean {
    const s = this.streams.get(key(frameworkId, taskId));
    const head = s?.pending[0];
    if (!s || !head || head.uuid !== uuid) return false;
    s.pending.shift();
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.retryMs = this.opts.retryMs;
    this.opts.changed(frameworkId, taskId);
    this.opts.acknowledged(frameworkId, head);
    if (s.pending.length > 0) this.send(s);
    return true;
  }

  pending(frameworkId: string, taskId: string): TaskStatus[] {
    return this.streams.get(key(frameworkId, taskId))?.pending ?? [];
  }

  /** Restores checkpointed updates (agent restart); forwarding starts when online. */
  restore(frameworkId: string, taskId: string, pending: TaskStatus[]): void {
    const s = this.stream(frameworkId, taskId);
    for (const p of pending) {
      if (p.uuid && s.seen.has(p.uuid)) continue;
      if (p.uuid) s.seen.add(p.uuid);
      s.pending.push(p);
    }
  }

  seen(frameworkId: string, taskId: string, uuid: string): boolean {
    return this.streams.get(key(frameworkId, taskId))?.seen.has(uuid) ?? false;
  }

  /** Connected to a master: re-send every head at once. */
  setOnline(online: boolean): void {
    this.online = online;
    for (const s of this.streams.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.retryMs = this.opts.retryMs;
      if (online && s.pending.length > 0) this.send(s);
    }
  }

  /** Re-sends a framework's pending heads now, backoff reset (it re-subscribed). */
  flush(frameworkId: string): void {
    for (const s of this.streams.values()) {
      if (s.frameworkId !== frameworkId || s.pending.length === 0) continue;
      s.retryMs = this.opts.retryMs;
      this.send(s);
    }
  }

  dropFramework(frameworkId: string): void {
    for (const [k, s] of [...this.streams]) {
      if (s.frameworkId !== frameworkId) continue;
      if (s.timer) clearTimeout(s.timer);
      this.streams.delete(k);
    }
  }

  forget(frameworkId: string, taskId: string): void {
    const s = this.streams.get(key(frameworkId, taskId));
    if (s?.timer) clearTimeout(s.timer);
    this.streams.delete(key(frameworkId, taskId));
  }

  stop(): void {
    for (const s of this.streams.values()) if (s.timer) clearTimeout(s.timer);
  }

  private stream(frameworkId: string, taskId: string): UpdateStream {
    let s = this.streams.get(key(frameworkId, taskId));
    if (!s) {
      s = { frameworkId, taskId, pending: [], seen: new Set(), retryMs: this.opts.retryMs };
      this.streams.set(key(frameworkId, taskId), s);
    }
    return s;
  }

  private send(s: UpdateStream): void {
    const head = s.pending[0];
    if (!head || !this.online) return;
    this.opts.forward(s.frameworkId, head);
    if (s.timer) clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.retryMs = Math.min(s.retryMs * 2, this.opts.maxRetryMs);
      this.send(s);
    }, s.retryMs);
    s.timer.unref();
  }
}
