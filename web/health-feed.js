// Pools and the observation history are not on the event stream: they are read at about the
// observation interval (learnt from the samples' spacing), soon after a health or summary
// event, and not while the tab is hidden. History is asked only for what is newer than the
// newest sample already here.
import { ApiError, getJson } from "./api.js";
import { typicalSpacing } from "./plot.js";

const DEFAULT_MS = 10_000;
const MIN_MS = 2_000;
const MAX_MS = 60_000;
/** Several events in a row cause one read. */
const SOON_MS = 300;

/**
 * @param {{ newestSample: () => number | undefined,
 *           samples: () => {at: number}[],
 *           onPools: (pools: any[]) => void,
 *           onSamples: (samples: any[], reset: boolean) => void,
 *           onProblem: (err: unknown) => void }} o
 */
export function followHealth(o) {
  let timer;
  let dueAt = Infinity;
  let running = null;
  let again = false;
  let reset = true;
  let generation = 0; // answers from before a restart are dropped
  let gone = false; // a scheduler without these routes (404): nothing to follow

  const intervalMs = () =>
    Math.min(MAX_MS, Math.max(MIN_MS, typicalSpacing(o.samples()) ?? DEFAULT_MS));

  /** Reads in `ms`, or sooner if a read is already due sooner. */
  const schedule = (ms) => {
    if (gone || Date.now() + ms >= dueAt) return;
    clearTimeout(timer);
    dueAt = Date.now() + ms;
    timer = setTimeout(read, ms);
  };

  async function readOnce() {
    const g = generation;
    const full = reset;
    const newest = full ? undefined : o.newestSample();
    const since = newest === undefined ? "" : `?since=${newest + 1}`;
    const [pools, history] = await Promise.all([
      getJson("/v1/pools"),
      getJson(`/v1/health/history${since}`),
    ]);
    if (g !== generation) return;
    reset = false;
    o.onPools(Array.isArray(pools?.pools) ? pools.pools : []);
    o.onSamples(Array.isArray(history?.samples) ? history.samples : [], full);
  }

  function read() {
    clearTimeout(timer);
    dueAt = Infinity;
    if (document.hidden) return; // visibilitychange reads again
    if (running) {
      again = true;
      return;
    }
    running = readOnce()
      .catch((err) => {
        if (err instanceof ApiError && err.status === 404) gone = true;
        // 401: the event stream asks for the token; the next read uses it.
        else if (!(err instanceof ApiError && err.status === 401)) o.onProblem(err);
      })
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          read();
        } else schedule(intervalMs());
      });
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) read();
  });

  return {
    /** Reads everything again now (a new connection: the scheduler may have restarted). */
    restart() {
      gone = false;
      reset = true;
      generation++;
      read();
    },
    /** Something changed: read soon. */
    soon() {
      if (!running) schedule(SOON_MS);
      else again = true;
    },
  };
}
