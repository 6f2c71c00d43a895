// Level-based condition tracking: each look hands over every condition that holds now (from
// one source, e.g. the platform's checkers or the agent registry); the tracker keeps when
// each began, and reports what was raised, what cleared and what changed severity. A
// condition that holds across looks keeps its `since`; one that stops holding is gone.
import type { Condition, ConditionChange, ConditionFinding } from "./types.js";

const keyOf = (c: Pick<ConditionFinding, "type" | "object">) => `${c.type}\u0000${c.object}`;

export class ConditionTracker {
  /** Per source, the active conditions by type and object. */
  private readonly bySource = new Map<string, Map<string, Condition>>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Replaces what `source` says holds now; returns the changes. Findings are copied, so a
   * checker may reuse its objects.
   */
  update(source: string, findings: readonly ConditionFinding[]): ConditionChange[] {
    const before = this.bySource.get(source) ?? new Map<string, Condition>();
    const after = new Map<string, Condition>();
    const changes: ConditionChange[] = [];
    const at = this.now();
    for (const f of findings) {
      const key = keyOf(f);
      if (after.has(key)) continue; // the first finding of a type and object wins
      const old = before.get(key);
      const cond: Condition = {
        type: f.type,
        severity: f.severity,
        object: f.object,
        message: f.message,
        ...(f.values ? { values: { ...f.values } } : {}),
        since: old?.since ?? at,
      };
      after.set(key, cond);
      if (!old) changes.push({ kind: "raised", condition: cond });
      else if (old.severity !== cond.severity)
        changes.push({ kind: "changed", condition: cond, previous: old.severity });
    }
    for (const [key, old] of before)
      if (!after.has(key)) changes.push({ kind: "cleared", condition: old });
    if (after.size) this.bySource.set(source, after);
    else this.bySource.delete(source);
    return changes;
  }

  /** Every active condition: critical first, then the oldest first. */
  active(): Condition[] {
    const all = [...this.bySource.values()].flatMap((m) => [...m.values()]);
    return all.sort(
      (a, b) =>
        (b.severity === "critical" ? 1 : 0) - (a.severity === "critical" ? 1 : 0) ||
        a.since - b.since ||
        a.type.localeCompare(b.type) ||
        a.object.localeCompare(b.object),
    );
  }
}
