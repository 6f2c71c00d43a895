// Where a plan's progress lives in the state store: a small header (`plans/<id>`: paused
// flags) and the steps spread over a fixed number of shards by a hash of their id
// (`plans/<id>/steps/<nn>`). A step's change rewrites only its shard: with the whole plan
// in one value, a 7,000-step deploy rewrote over a megabyte for every burst of changes.
// Each key has its own coalescing writer, so a burst of changes in one shard shares a write.
import type { StateStore } from "../../store/store.js";
import { LatestWriter } from "../../store/latest-writer.js";
import { fnv1a } from "../../common/fnv.js";
import { stepIn, stepTable, type PlanProgress, type StepProgress } from "./types.js";

export const STEP_SHARDS = 32;

const headerKey = (planId: string) => `plans/${planId}`;
const shardKey = (planId: string, shard: number) =>
  `plans/${planId}/steps/${String(shard).padStart(2, "0")}`;

/** Stable across processes and versions: a step must keep its shard. */
export function shardOf(stepId: string): number {
  return fnv1a(stepId) % STEP_SHARDS;
}

interface Header {
  id: string;
  paused: boolean;
  pausedPhases: string[];
  /** Only in values written before the steps had shards of their own. */
  steps?: Record<string, StepProgress>;
}

export class PlanProgressStore {
  private readonly header: LatestWriter;
  private readonly shards: LatestWriter[];
  /** Step ids per shard, as of the last saveAll() (the only time steps come or go). */
  private members: string[][] = [];

  constructor(
    private readonly store: StateStore,
    private readonly progress: PlanProgress,
  ) {
    const id = progress.id;
    this.header = new LatestWriter(store, headerKey(id), () => ({
      id,
      paused: progress.paused,
      pausedPhases: progress.pausedPhases,
    }));
    this.shards = Array.from(
      { length: STEP_SHARDS },
      (_, k) =>
        new LatestWriter(store, shardKey(id, k), () => {
          const out = stepTable();
          for (const stepId of this.members[k] ?? []) {
            const p = stepIn(progress.steps, stepId);
            if (p) out[stepId] = p;
          }
          return out;
        }),
    );
  }

  /** The stored progress of a plan (either layout), or undefined when none was stored. */
  static async load(store: StateStore, planId: string): Promise<PlanProgress | undefined> {
    const header = await store.get<Header>(headerKey(planId));
    if (!header) return undefined;
    // Without a prototype: a stored id such as `__proto__` stays a plain entry.
    const steps = stepTable(header.steps);
    const prefix = `plans/${planId}/steps/`;
    for (const key of await store.list(`plans/${planId}/steps`)) {
      if (!key.startsWith(prefix)) continue;
      const shard = await store.get<Record<string, StepProgress>>(key);
      for (const [id, p] of Object.entries(shard ?? {})) steps[id] = p;
    }
    return {
      id: planId,
      paused: header.paused,
      pausedPhases: header.pausedPhases ?? [],
      steps,
    };
  }

  /** The paused flags. */
  saveHeader(): Promise<void> {
    return this.header.save();
  }

  /** The shards holding these steps. */
  async saveSteps(...stepIds: string[]): Promise<void> {
    const shards = new Set(stepIds.map(shardOf));
    await Promise.all([...shards].map((k) => this.shards[k]!.save()));
  }

  /**
   * After steps came or went: the shards whose steps changed, then the header (which then
   * drops the steps of the old single-value layout, now in their shards).
   */
  async saveAll(): Promise<void> {
    const members: string[][] = Array.from({ length: STEP_SHARDS }, () => []);
    for (const stepId of Object.keys(this.progress.steps)) members[shardOf(stepId)]!.push(stepId);
    const changed = members.flatMap((ids, k) => (sameIds(ids, this.members[k]) ? [] : [k]));
    this.members = members;
    await Promise.all(changed.map((k) => this.shards[k]!.save()));
    await this.header.save();
  }

  settled(): Promise<unknown> {
    return Promise.all([this.header.settled(), ...this.shards.map((w) => w.settled())]);
  }

  /** Deletes the plan's stored progress. */
  async remove(): Promise<void> {
    await this.settled();
    for (let k = 0; k < STEP_SHARDS; k++) await this.store.delete(shardKey(this.progress.id, k));
    await this.store.delete(headerKey(this.progress.id));
  }
}

function sameIds(a: string[], b: string[] | undefined): boolean {
  if (!b) return false; // first save in this process: whatever is stored may be stale
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((id) => set.has(id));
}
