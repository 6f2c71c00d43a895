// What the event stream says of a plan: its status and counts, and of its phases only those
// whose status or pause changed since the plan was last told of. A whole plan view is
// O(steps) (megabytes at a thousand agents) and every step already has its own event; a
// client that needs the whole view GETs /v1/plans/{id}.
import type { AggregateStatus, PlanView } from "./plan/types.js";

export interface PhaseChange {
  id: string;
  status: AggregateStatus;
  paused: boolean;
  /** Only when the phase is new to the stream (its first change). */
  name?: string;
}

export interface PlanChange {
  id: string;
  name: string;
  status: AggregateStatus;
  paused: boolean;
  progress: { complete: number; total: number };
  /** Phases whose status or pause changed (all of them the first time a plan is told of). */
  phases: PhaseChange[];
  /** Phases gone from the plan since it was last told of. */
  removedPhases?: string[];
}

interface Told {
  key: string;
  phases: Map<string, string>;
}

export class PlanChangeTracker {
  private readonly told = new Map<string, Told>();

  /** The change since the plan was last told of, or undefined when nothing changed. */
  change(v: PlanView): PlanChange | undefined {
    const before = this.told.get(v.id);
    const phases: PhaseChange[] = [];
    const now = new Map<string, string>();
    for (const ph of v.phases) {
      const key = `${ph.status}|${ph.paused}`;
      now.set(ph.id, key);
      const was = before?.phases.get(ph.id);
      if (was === key) continue;
      phases.push({
        id: ph.id,
        status: ph.status,
        paused: ph.paused,
        ...(was === undefined ? { name: ph.name } : {}),
      });
    }
    const removed = before ? [...before.phases.keys()].filter((id) => !now.has(id)) : [];
    const key = `${v.status}|${v.paused}|${v.progress.complete}|${v.progress.total}|${v.name}`;
    this.told.set(v.id, { key, phases: now });
    if (before?.key === key && phases.length === 0 && removed.length === 0) return undefined;
    return {
      id: v.id,
      name: v.name,
      status: v.status,
      paused: v.paused,
      progress: { ...v.progress },
      phases,
      ...(removed.length ? { removedPhases: removed } : {}),
    };
  }

  /** Forgets a plan (removed): told of again in full if it comes back. */
  forget(planId: string): void {
    this.told.delete(planId);
  }
}

/**
 * One change that says what `older` and `newer` said together (newer wins per phase): what the
 * event buffer keeps when a plan's newer change replaces an older one, so a replay loses no
 * phase's change.
 */
export function mergePlanChanges(older: PlanChange, newer: PlanChange): PlanChange {
  const removed = new Set(newer.removedPhases ?? []);
  const phases = new Map<string, PhaseChange>();
  for (const ph of older.phases) if (!removed.has(ph.id)) phases.set(ph.id, ph);
  for (const ph of newer.phases) {
    const was = phases.get(ph.id);
    // A phase new in the older change keeps its name.
    phases.set(
      ph.id,
      was?.name !== undefined && ph.name === undefined ? { ...ph, name: was.name } : ph,
    );
  }
  const gone = [...(older.removedPhases ?? []), ...removed].filter(
    (id) => !newer.phases.some((p) => p.id === id),
  );
  return {
    ...newer,
    phases: [...phases.values()],
    ...(gone.length ? { removedPhases: [...new Set(gone)] } : {}),
  };
}
