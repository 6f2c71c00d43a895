// The state store interface: a small key/value space for what the scheduler must remember
// across restarts (framework id, desired state, plan progress, task intents). Keys are
// `/`-separated paths of safe characters; values are JSON documents.

/**
 * Codes a caller may retry as they are (the store or its connection may recover); every
 * other code needs something to change first (re-read after CONFLICT, fix the input,...).
 */
const RETRYABLE = new Set(["UNAVAILABLE", "SESSION_EXPIRED", "IO"]);

export class StoreError extends Error {
  /** Stable: CONFLICT, FENCED, UNAVAILABLE, SESSION_EXPIRED, AUTH_FAILED, ACL, LOCKED, IO, ... */
  readonly code: string;
  /** Whether the same call may succeed later unchanged. */
  readonly retryable: boolean;
  constructor(code: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options);
    this.name = "StoreError";
    this.code = code;
    this.retryable = options?.retryable ?? RETRYABLE.has(code);
  }
}

/** A value with the version it was read at. */
export interface Versioned<T> {
  value: T;
  /**
   * Grows with every write of the key; a key deleted and written again never gets back a
   * version it had, so a compare-and-set cannot succeed against an older incarnation.
   */
  version: number;
}

/** What a conditional write expects of a key: this version, or no value at all. */
export type Expect = number | "absent";

/** One write of an atomic commit; `expect` makes it conditional. */
export type WriteOp =
  | { op: "set"; key: string; value: unknown; expect?: Expect }
  | { op: "delete"; key: string; expect?: Expect }
  /** Writes nothing: the commit applies only if the key is as expected. */
  | { op: "check"; key: string; expect: Expect };

export interface StateStore {
  /** The value stored under key, or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Stores a value durably: once this resolves, a crash does not lose it. */
  set(key: string, value: unknown): Promise<void>;
  /** Removes a key (no error if absent). */
  delete(key: string): Promise<void>;
  /** Keys directly or indirectly under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** The value and its version, or undefined when the key has no value. */
  getVersioned<T = unknown>(key: string): Promise<Versioned<T> | undefined>;
  /**
   * Compare-and-set: writes only if the key is as expected, else StoreError CONFLICT and
   * nothing changes. Resolves with the key's new version.
   */
  setIf(key: string, value: unknown, expect: Expect): Promise<number>;
  /** Deletes only if the key has this version, else StoreError CONFLICT. */
  deleteIf(key: string, version: number): Promise<void>;
  /**
   * Applies every op or none, durably. A failed expectation rejects with CONFLICT and
   * writes nothing. Resolves with the new version of each key set.
   */
  commit(ops: readonly WriteOp[]): Promise<Record<string, number>>;
  /** Probes that the store can be written right now (for /health). */
  checkWritable(): Promise<void>;
  close(): Promise<void>;
}

/** The one CONFLICT error text, so both stores say the same. */
export function conflict(key: string, expect: Expect, actual: number | undefined): StoreError {
  const want = expect === "absent" ? "no value" : `version ${expect}`;
  const have = actual === undefined ? "no value" : `version ${actual}`;
  return new StoreError("CONFLICT", `${key} changed: expected ${want}, found ${have}`);
}

/** Validates a commit's ops: keys valid, each key at most once, values JSON. */
export function checkOps(ops: readonly WriteOp[]): void {
  const seen = new Set<string>();
  for (const op of ops) {
    checkKey(op.key);
    if (seen.has(op.key)) {
      throw new StoreError("BAD_OP", `commit names ${op.key} twice; one op per key`);
    }
    seen.add(op.key);
    if (op.op === "check" && op.expect === undefined) {
      throw new StoreError("BAD_OP", `check of ${op.key} needs an expectation`);
    }
    if (op.expect !== undefined && op.expect !== "absent" && !Number.isSafeInteger(op.expect)) {
      throw new StoreError("BAD_OP", `expected version of ${op.key} is not an integer`);
    }
  }
}

/** JSON text of a value, or BAD_VALUE. */
export function toJson(key: string, value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new StoreError("BAD_VALUE", `value for ${key} is not JSON`);
  return text;
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
