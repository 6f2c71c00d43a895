// Waiting on events with deadlines (tests never sleep a fixed time).
import type { EventEmitter } from "node:events";

/**
 * Resolves with the arguments of the first `event` for which `predicate` holds; rejects
 * after `timeoutMs`. Subscribe before triggering the action you wait for.
 */
export function waitForEvent<A extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, "on" | "off">,
  event: string,
  predicate: (...args: A) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<A> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (!predicate(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** Rejects with a clear message if `promise` does not settle within `timeoutMs`. */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
