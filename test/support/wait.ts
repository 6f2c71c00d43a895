// Waiting on events with a deadline instead of sleeping.
import { once, type EventEmitter } from "node:events";

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
