// Waiting helpers for tests: every wait is for an event or a condition, with a deadline.
import { once, type EventEmitter } from "node:events";

export function waitForEvent<T extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, "on" | "off">,
  name: string,
  opts: { timeoutMs?: number; filter?: (...args: T) => boolean } = {},
): Promise<T> {
  // on/off rather than events.once: once() rejects when an unrelated 'error' event fires.
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (opts.filter && !opts.filter(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(name, listener);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${name}'`));
    }, timeoutMs);
    emitter.on(name, listener);
  });
}

/** Re-checks a condition on a short interval until it holds or the deadline passes. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? "condition"}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 10));
  }
}

/** Rejects if the promise does not settle in time. */
export async function withDeadline<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The arguments of the next `name` event, or a clear failure after `timeoutMs`. */
export async function nextEvent<T extends unknown[] = unknown[]>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  emitter: EventEmitter<any>,
  name: string,
  timeoutMs = 5000,
): Promise<T> {
  try {
    return (await once(emitter as EventEmitter, name, {
      signal: AbortSignal.timeout(timeoutMs),
    })) as T;
  } catch (err) {
    if ((err as Error).name === "AbortError") {
      throw new Error(`no '${name}' event within ${timeoutMs} ms`);
    }
    throw err;
  }
}

/** Resolves when `pred()` holds, checking on every `name` event of `emitter`, or fails at the deadline. */
export async function until(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  emitter: EventEmitter<any>,
  names: string[],
  pred: () => boolean,
  timeoutMs = 5000,
): Promise<void> {
  if (pred()) return;
  const e = emitter as EventEmitter;
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!pred()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`condition not met within ${timeoutMs} ms (watching ${names.join(", ")})`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      for (const n of names) e.off(n, check);
    };
    for (const n of names) e.on(n, check);
  });
}

/** waitForEvent with a positional predicate (the detector suites' form). */
export function waitForEventWhere<A extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, "on" | "off">,
  event: string,
  predicate: (...args: A) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<A> {
  return waitForEvent<A>(emitter, event, { filter: predicate, timeoutMs });
}
