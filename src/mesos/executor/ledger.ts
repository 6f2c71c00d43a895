// The executor's two lists of reference 6.5: updates sent but not ACKNOWLEDGED, and tasks
// received with no acknowledged update yet. Both are carried in every resubscription.
// Also remembers which tasks already had their one terminal update.
import { isTerminalTaskState, type TaskInfo, type TaskStatus } from "../types/common.js";

interface TaskEntry {
  info: TaskInfo;
  /** At least one update of this task was ACKNOWLEDGED by the agent. */
  acknowledged: boolean;
  /** The task's terminal update has been issued (accepted by update()). */
  terminal: boolean;
}

export interface UpdateEntry {
  status: TaskStatus;
  /** Accepted by the agent (202) or carried in a SUBSCRIBE that got SUBSCRIBED. */
  delivered: boolean;
}

export class ExecutorLedger {
  private readonly tasks = new Map<string, TaskEntry>();
  // Keyed by uuid; Map iteration keeps the order updates were issued in.
  private readonly updates = new Map<string, UpdateEntry>();

  /** Records a launched task. `duplicate` when the same id is still live (not terminal). */
  launch(task: TaskInfo): "new" | "duplicate" {
    const id = task.task_id.value;
    const known = this.tasks.get(id);
    if (known && !known.terminal) return "duplicate";
    // A finished task id may be reused (allowed by Mesos, if discouraged).
    this.tasks.set(id, { info: task, acknowledged: false, terminal: false });
    return "new";
  }

  task(id: string): TaskInfo | undefined {
    return this.tasks.get(id)?.info;
  }

  knows(id: string): boolean {
    return this.tasks.has(id);
  }

  isTerminal(id: string): boolean {
    return this.tasks.get(id)?.terminal ?? false;
  }

  /** Adds an update that is about to be sent; marks the task terminal if it is. */
  record(status: TaskStatus): UpdateEntry {
    const entry: UpdateEntry = { status, delivered: false };
    this.updates.set(status.uuid!, entry);
    const task = this.tasks.get(status.task_id.value);
    if (task && isTerminalTaskState(status.state)) task.terminal = true;
    return entry;
  }

  /** Forgets an update the agent rejected (4xx): it will never be acknowledged. */
  retract(uuid: string): void {
    const entry = this.updates.get(uuid);
    if (!entry) return;
    this.updates.delete(uuid);
    const task = this.tasks.get(entry.status.task_id.value);
    if (task && isTerminalTaskState(entry.status.state)) task.terminal = false;
  }

  pending(uuid: string): UpdateEntry | undefined {
    return this.updates.get(uuid);
  }

  /** Applies ACKNOWLEDGED; returns the acknowledged status, or undefined for an unknown uuid. */
  acknowledge(taskId: string, uuid: string): TaskStatus | undefined {
    const task = this.tasks.get(taskId);
    if (task) task.acknowledged = true;
    const entry = this.updates.get(uuid);
    if (!entry) return undefined;
    this.updates.delete(uuid);
    return entry.status;
  }

  /** Marks every listed update as handed to the agent (it was carried by a SUBSCRIBE). */
  markDelivered(uuids: Iterable<string>): void {
    for (const uuid of uuids) {
      const entry = this.updates.get(uuid);
      if (entry) entry.delivered = true;
    }
  }

  unacknowledgedUpdates(): TaskStatus[] {
    return [...this.updates.values()].map((e) => e.status);
  }

  /** Full TaskInfos of launched tasks not yet covered by any ACKNOWLEDGED. */
  unacknowledgedTasks(): TaskInfo[] {
    return [...this.tasks.values()].filter((t) => !t.acknowledged).map((t) => t.info);
  }

  /** Tasks without a terminal update yet: what a shutdown must kill. */
  activeTasks(): TaskInfo[] {
    return [...this.tasks.values()].filter((t) => !t.terminal).map((t) => t.info);
  }

  get unacknowledgedCount(): number {
    return this.updates.size;
  }
}
