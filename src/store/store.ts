// The state store interface: a small key/value space for what the scheduler must remember
// across restarts (framework id, desired state, plan progress, task intents). Keys are
// `/`-separated paths of safe characters; values are JSON documents.

export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
  }
}

export interface StateStore {
  /** The value stored under key, or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores a value durably: once this resolves, a crash does not lose it. */
  set(key: string, value: unknown): Promise<void>;
  /** Removes a key (no error if absent). */
  delete(key: string): Promise<void>;
  /** Keys directly or indirectly under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Probes that the store can be written right now (for /health). */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Validates a key so it can never escape the store (no `..`, no absolute paths). */
export function checkKey(key: string): string[] {
  const parts = key.split("/");
  if (
    parts.length === 0 ||
    parts.length > 16 ||
    parts.some((p) => !SEGMENT.test(p) || p === "..")
  ) {
    throw new StoreError(
      "BAD_KEY",
      `invalid store key '${key}': use /-separated segments of letters, digits, '.', '_' or '-'`,
    );
  }
  return parts;
}
