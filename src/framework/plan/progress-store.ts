// Where a plan's progress lives in the state store: a small header (`plans/<id>`: paused
// flags) and the steps spread over a fixed number of shards by a hash of their id
// (`plans/<id>/steps/<nn>`). A step's change rewrites only its shard: with the whole plan
// in one value, a 7,000-step deploy rewrote over a megabyte for every burst of changes.
// Each key has its own coalescing writer, so a burst of changes in one shard shares a write;
// steps coming or going (several shards and the header) and removal are one atomic commit
// each, so a crash never leaves half of them written.
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
  /** Shards whose stored value is unknown (their commit failed): the next saveAll writes them. */
  private readonly unsure = new Set<number>();
  /** Set by remove(): later saves write nothing (a step ending after it would revive keys). */
  private removed = false;

  constructor(
    private readonly store: StateStore,
    private readonly progress: PlanProgress,
  ) {
    const id = progress.id;
    this.header = new LatestWriter(store, headerKey(id), () => this.headerValue());
    this.shards = Array.from(
      { length: STEP_SHARDS },
      (_, k) => new LatestWriter(store, shardKey(id, k), () => this.shardValue(k)),
    );
  }

  private headerValue(): Header {
    const p = this.progress;
    return { id: p.id, paused: p.paused, pausedPhases: p.pausedPhases };
  }

  private shardValue(k: number): Record<string, StepProgress> {
    const out = stepTable();
    for (const stepId of this.members[k] ?? []) {
      const p = stepIn(this.progress.steps, stepId);
      if (p) out[stepId] = p;
    }
    return out;
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
  async saveHeader(): Promise<void> {
    if (!this.removed) await this.header.save();
  }

  /** The shards holding these steps. */
  async saveSteps(...stepIds: string[]): Promise<void> {
    if (this.removed) return;
    const shards = new Set(stepIds.map(shardOf));
    await Promise.all([...shards].map((k) => this.shards[k]!.save()));
  }

  /**
   * After steps came or went: the shards whose steps changed and the header (which then
   * drops the steps of the old single-value layout, now in their shards), in one commit.
   * Failed, the store keeps the previous progress whole, and the next call writes them again.
   */
  async saveAll(): Promise<void> {
    if (this.removed) return;
    const members: string[][] = Array.from({ length: STEP_SHARDS }, () => []);
    for (const stepId of Object.keys(this.progress.steps)) members[shardOf(stepId)]!.push(stepId);
    const changed = members.flatMap((ids, k) =>
      sameIds(ids, this.members[k]) && !this.unsure.has(k) ? [] : [k],
    );
    // Before the commit: a single-shard write begun meanwhile must write the new members.
    this.members = members;
    const id = this.progress.id;
    try {
      await this.store.commit([
        ...changed.map((k) => ({
          op: "set" as const,
          key: shardKey(id, k),
          value: this.shardValue(k),
        })),
        { op: "set", key: headerKey(id), value: this.headerValue() },
      ]);
    } catch (err) {
      for (const k of changed) this.unsure.add(k);
      throw err;
    }
    for (const k of changed) this.unsure.delete(k);
  }

  settled(): Promise<unknown> {
    return Promise.all([this.header.settled(), ...this.shards.map((w) => w.settled())]);
  }

  /** Deletes the plan's stored progress, header and shards in one commit. */
  async remove(): Promise<void> {
    this.removed = true;
    await this.settled();
    const id = this.progress.id;
    await this.store.commit([
      { op: "delete", key: headerKey(id) },
      ...Array.from({ length: STEP_SHARDS }, (_, k) => ({
        op: "delete" as const,
        key: shardKey(id, k),
      })),
    ]);
  }
}

function sameIds(a: string[], b: string[] | undefined): boolean {
  if (!b) return false; // first save in this process: whatever is stored may be stale
  if (a.length !== b.length) return false;
  const set = new Set(b);
  return a.every((id) => set.has(id));
}
