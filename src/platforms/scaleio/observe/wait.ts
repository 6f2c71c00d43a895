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
  /** Asks for one at once, when the source offers it: a wait's first ask, its change made
   *  (the settle is for bursts of changes; a miss asks again with observeSoon). */
  observeNow?(): void;
  /** The latest observation and its findings, when the source keeps them (a wait given a
   *  `since` may be satisfied by it without asking for another). */
  readonly latest?: ObservedCluster | undefined;
  readonly findings?: ConditionFinding[];
}

/**
 * Resolves at the first observation begun from now on that satisfies `ok`; rejects after
 * `timeoutMs` (when given) or when `ctx.signal` aborts. Each observation that does not yet
 * satisfy it asks for the next one soon, and may say why (`onMiss`).
 * With `since` (when the caller's last change had returned), an observation begun after that
 * moment counts, the source's latest one included: a look already taken after the change
 * serves without asking for another. One begun in the same millisecond may have begun
 * before the change returned: it does not count.
 */
export function observedUntil(
  source: ObservationSource,
  ok: (o: ObservedCluster, findings: ConditionFinding[]) => boolean,
  what: string,
  ctx: Pick<StepContext, "signal">,
  timeoutMs?: number,
  onMiss?: (o: ObservedCluster, findings: ConditionFinding[]) => void,
  since?: number,
): Promise<void> {
  const from = since ?? Date.now();
  const begun = (o: ObservedCluster) =>
    since === undefined ? (o.startedAt ?? o.at) >= from : (o.startedAt ?? o.at) > since;
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
      if (begun(o) && ok(o, findings)) return done();
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
    const latest = since === undefined ? undefined : source.latest;
    if (latest && begun(latest)) {
      const findings = source.findings ?? [];
      if (ok(latest, findings)) return done();
      onMiss?.(latest, findings);
    }
    if (source.observeNow) source.observeNow();
    else source.observeSoon();
  });
}
