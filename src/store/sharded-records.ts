// A map of small records kept in a fixed number of shards (`<prefix>/<nn>`) by a hash of
// their id, each shard with a coalescing writer: the hundreds of changes of a large deploy
// (a launch record per task, an executor per agent) share a few writes per burst instead of
// a file and an fsync each. Records of an older one-key-per-record layout
// (`<legacyPrefix>/<id>`) are taken over on load and their keys removed.
import type { StateStore } from "./store.js";
import { LatestWriter } from "./latest-writer.js";
import { fnv1a } from "../common/fnv.js";

export interface ShardedRecordsOptions {
  prefix: string;
  shards: number;
  legacyPrefix?: string;
}

export class ShardedRecords<T> {
  private readonly shards: Map<string, T>[];
  private readonly writers: LatestWriter[];
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly opts: ShardedRecordsOptions,
  ) {
    this.shards = Array.from({ length: opts.shards }, () => new Map<string, T>());
    this.writers = this.shards.map(
      (records, k) => new LatestWriter(store, this.key(k), () => Object.fromEntries(records)),
    );
  }

  private key(k: number): string {
    return `${this.opts.prefix}/${String(k).padStart(2, "0")}`;
  }

  private shardOf(id: string): number {
    return fnv1a(id) % this.opts.shards;
  }

  /** Reads the stored records once (later calls wait for that read). Call before set(). */
  load(): Promise<void> {
    this.loading ??= this.read();
    return this.loading;
  }

  private async read(): Promise<void> {
    for (let k = 0; k < this.opts.shards; k++) {
      const stored = await this.store.get<Record<string, T>>(this.key(k));
      for (const [id, rec] of Object.entries(stored ?? {})) this.shards[k]!.set(id, rec);
    }
    const legacy = this.opts.legacyPrefix;
    if (!legacy) return;
    for (const key of await this.store.list(legacy)) {
      const rec = await this.store.get<T>(key);
      if (rec !== undefined) await this.set(key.slice(legacy.length + 1), rec);
      await this.store.delete(key);
    }
  }

  get(id: string): T | undefined {
    return this.shards[this.shardOf(id)]!.get(id);
  }

  /** Resolves once the record is durable. */
  set(id: string, rec: T): Promise<void> {
    const k = this.shardOf(id);
    this.shards[k]!.set(id, rec);
    return this.writers[k]!.save();
  }

  /** Resolves once the record's removal is durable. */
  delete(id: string): Promise<void> {
    const k = this.shardOf(id);
    if (!this.shards[k]!.delete(id)) return Promise.resolve();
    return this.writers[k]!.save();
  }

  /** Every record, by id. */
  all(): [string, T][] {
    return this.shards.flatMap((records) => [...records]);
  }

  settled(): Promise<unknown> {
    return Promise.all(this.writers.map((w) => w.settled()));
  }
}
