// A step's fingerprint: a short digest of the inputs it acts on, the same for equal inputs
// in any process (object keys in any order; arrays in their order, so a caller sorts the
// ones whose order means nothing).
import { createHash } from "node:crypto";

export function fingerprintOf(inputs: unknown): string {
  return createHash("sha256").update(canonical(inputs)).digest("hex").slice(0, 16);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
