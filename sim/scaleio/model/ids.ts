// Object ids are 16 lowercase hex digits: an 8-digit prefix per object type plus an 8-digit
// counter, the pattern seen on real systems.
import { randomBytes, randomUUID } from "node:crypto";

export class IdFactory {
  private prefixes = new Map<string, string>();
  private counters = new Map<string, number>();

  next(kind: string): string {
    let prefix = this.prefixes.get(kind);
    if (!prefix) {
      prefix = randomBytes(4).toString("hex");
      this.prefixes.set(kind, prefix);
    }
    const n = this.counters.get(kind) ?? 0;
    this.counters.set(kind, n + 1);
    return prefix + n.toString(16).padStart(8, "0");
  }
}

export function randomHex16(): string {
  return randomBytes(8).toString("hex");
}

/** SDC GUIDs are upper-case UUIDs (what `drv_cfg --query_guid` prints). */
export function newSdcGuid(): string {
  return randomUUID().toUpperCase();
}
