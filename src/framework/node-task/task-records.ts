// The launch records of node tasks: written (durably) before each launch reaches Mesos and
// removed when the task ends, so a restarted scheduler knows which tasks a previous process
// may have left running. Kept in a fixed number of shards (`task-records/<nn>`) by a hash
// of the task id, each with a coalescing writer: the hundreds of launches and ends of a
// large deploy share a few writes per burst instead of one file (and fsync) per record.
// Records of the older one-key-per-task layout (`tasks/<id>`) are taken over on load.
import type { StateStore } from "../../store/store.js";
import { LatestWriter } from "../../store/latest-writer.js";
import { fnv1a } from "../../common/fnv.js";

export interface TaskRecord {
  agentId: string;
  stepId: string;
  kind: string;
  launchedAt: number;
}

export const TASK_SHARDS = 16;
const LEGACY_PREFIX = "tasks";
const shardKey = (k: number) => `task-records/${String(k).padStart(2, "0")}`;
const shardOf = (taskId: string) => fnv1a(taskId) % TASK_SHARDS;

export class TaskRecordStore {
  private readonly shards: Map<string, TaskRecord>[] = Array.from(
    { length: TASK_SHARDS },
    () => new Map(),
  );
  private readonly writers: LatestWriter[];
  private loading: Promise<void> | undefined;

  constructor(private readonly store: StateStore) {
    this.writers = this.shards.map(
      (records, k) => new LatestWriter(store, shardKey(k), () => Object.fromEntries(records)),
    );
  }

  /** Reads the stored records once (later calls wait for that read). */
  load(): Promise<void> {
    this.loading ??= this.read();
    return this.loading;
  }

  private async read(): Promise<void> {
    for (let k = 0; k < TASK_SHARDS; k++) {
      const stored = await this.store.get<Record<string, TaskRecord>>(shardKey(k));
      for (const [taskId, rec] of Object.entries(stored ?? {})) this.shards[k]!.set(taskId, rec);
    }
    const legacy = await this.store.list(LEGACY_PREFIX);
    for (const key of legacy) {
      const rec = await this.store.get<TaskRecord>(key);
      if (rec) await this.set(key.slice(LEGACY_PREFIX.length + 1), rec);
      await this.store.delete(key);
    }
  }

  /** Resolves once the record is durable. */
  set(taskId: string, rec: TaskRecord): Promise<void> {
    const k = shardOf(taskId);
    this.shards[k]!.set(taskId, rec);
    return this.writers[k]!.save();
  }

  /** Resolves once the record's removal is durable. */
  delete(taskId: string): Promise<void> {
    const k = shardOf(taskId);
    if (!this.shards[k]!.delete(taskId)) return Promise.resolve();
    return this.writers[k]!.save();
  }

  /** Every record, by task id. */
  all(): [string, TaskRecord][] {
    return this.shards.flatMap((records) => [...records]);
  }

  settled(): Promise<unknown> {
    return Promise.all(this.writers.map((w) => w.settled()));
  }
}
