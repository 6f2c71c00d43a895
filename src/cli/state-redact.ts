// What `state dump` and `state get` never print. The scheduler keeps no secret in its store
// (the vault hands secrets to executors from memory), but a store written by hand, by the
// predecessor or by a future bug might: a key under a secrets/ or vault/ prefix, or named like
// a credential, is shown as [redacted], and so is any such field inside a value.

export const REDACTED = "[redacted]";

const SECRET_NAME =
  /pass(word)?|secret|token|credential|private[-_]?key|access[-_]?key|api[-_]?key/i;
const SECRET_PREFIX = /^(secrets?|vault)$/i;

/** Whether a whole key holds a secret: a segment secrets/, vault/ or named like a credential. */
export function isSecretKey(key: string): boolean {
  return key.split("/").some((s) => SECRET_PREFIX.test(s) || SECRET_NAME.test(s));
}

/** The value with every credential-named field replaced, and how many were. */
export function redactValue(value: unknown): { value: unknown; redacted: number } {
  let redacted = 0;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== "object" || v === null) return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, inner]) => {
        if (SECRET_NAME.test(k) && inner !== null && inner !== undefined && inner !== "") {
          redacted++;
          return [k, REDACTED];
        }
        return [k, walk(inner)];
      }),
    );
  };
  return { value: walk(value), redacted };
}

/** What may be shown of a key's value. */
export function shownValue(key: string, value: unknown): { value: unknown; redacted: number } {
  return isSecretKey(key) ? { value: REDACTED, redacted: 1 } : redactValue(value);
}
