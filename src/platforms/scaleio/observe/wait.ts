// Waiting on the cluster as observed: a step that changed something (restarted a process,
// entered maintenance, upgraded a package) waits until an observation shows the result.
import type { StepContext } from "../../../framework/plan/types.js";
import type { ConditionFinding } from "../../../framework/health/types.js";
import type { ObservedCluster } from "./model.js";

/** What a wait needs of the observer (the ClusterObserver has it). */
export interface ObservationSource {
  on(event: "observed", fn: (o: ObservedCluster, findings: ConditionFinding[]) => void): unknown;
  off(event: "observed", fn: (o: ObservedCluster, findings: ConditionFinding[]) => void): unknown;
  /** Asks for an observation soon (one burst of asks costs one). */
  observeSoon(): void;
}

/**
 * Resolves at the first observation begun from now on that satisfies `ok`; rejects after
 * `timeoutMs` (when given) or when `ctx.signal` aborts. Each observation that does not yet
 * satisfy it asks for the next one soon, and may say why (`onMiss`).
 */
export function observedUntil(
  source: ObservationSource,
  ok: (o: ObservedCluster, findings: ConditionFinding[]) => boolean,
  what: string,
  ctx: Pick<StepContext, "signal">,
  timeoutMs?: number,
  onMiss?: (o: ObservedCluster, findings: ConditionFinding[]) => void,
): Promise<void> {
  const from = Date.now();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      if (timer) clearTimeout(timer);
      source.off("observed", onObserved);
      ctx.signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onObserved = (o: ObservedCluster, findings: ConditionFinding[]) => {
      // One in flight when the wait began may predate what it waits for.
      if ((o.startedAt ?? o.at) >= from && ok(o, findings)) return done();
      onMiss?.(o, findings);
      source.observeSoon();
    };
    const onAbort = () => done(ctx.signal.reason as Error);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => done(new Error(`${what}: not seen within ${Math.round(timeoutMs / 1000)} s`)),
            timeoutMs,
          );
    source.on("observed", onObserved);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    if (ctx.signal.aborted) return onAbort();
    source.observeSoon();
  });
}
