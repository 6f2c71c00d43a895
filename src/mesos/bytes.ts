// Protobuf `bytes` fields travel as standard base64; status uuids are 16 random bytes.
import { randomBytes } from "node:crypto";

export function toBase64(data: Uint8Array | string): string {
  return Buffer.from(typeof data === "string" ? Buffer.from(data, "utf8") : data).toString(
    "base64",
  );
}

export function fromBase64(text: string): Buffer {
  return Buffer.from(text, "base64");
}

/** A fresh RFC 4122 version-4 UUID as 16 raw bytes, base64-encoded (TaskStatus.uuid). */
export function newStatusUuid(): string {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b.toString("base64");
}

/** True when the base64 text decodes to exactly 16 bytes (what Mesos checks on ACKNOWLEDGE). */
export function isStatusUuid(text: string): boolean {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return false;
  return Buffer.from(text, "base64").length === 16;
}
