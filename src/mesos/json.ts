// JSON as Mesos writes it, decoded without losing 64-bit integers. Epoch nanoseconds
// (~1.7e18) do not fit a double, so integers outside the safe range become bigint.
import { parse as losslessParse, stringify as losslessStringify } from "lossless-json";
import { MesosProtocolError } from "./errors.js";

const LONG_DIGIT_RUN = /\d{16,}/;

function parseNumber(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number(text);
}

/** Parses Mesos JSON; integers beyond 2^53 come back as bigint. */
export function parseMesosJson(text: string): unknown {
  try {
    // Fast path: without a 16+ digit run no number can exceed 2^53.
    if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
    return losslessParse(text, null, parseNumber);
  } catch (err) {
    throw new MesosProtocolError(`invalid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Serialises to Mesos JSON; bigint values are written as bare JSON numbers. */
export function stringifyMesosJson(value: unknown): string {
  // Fast path: most messages hold no bigint, and JSON.stringify is several times faster
  // than lossless-json's. It throws a TypeError at the first bigint; then the slow path.
  try {
    const fast = JSON.stringify(value) as string | undefined;
    if (fast !== undefined) return fast;
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  const out = losslessStringify(value, undefined, undefined, [
    { test: (v: unknown) => typeof v === "bigint", stringify: (v: unknown) => String(v) },
  ]);
  if (out === undefined) throw new MesosProtocolError("value cannot be serialised to JSON");
  return out;
}

/** Converts an Int64 field to bigint exactly. */
export function toBigInt(value: number | bigint): bigint {
  return typeof value === "bigint" ? value : BigInt(Math.trunc(value));
}

/** Nanoseconds (Int64) for a time in milliseconds since the epoch. */
export function nanosFromMillis(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 1_000_000n;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Decodes one record's bytes as UTF-8 JSON object with a string `type`. */
export function decodeMessage(bytes: Uint8Array): { type: string } & Record<string, unknown> {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch (err) {
    throw new MesosProtocolError("record is not valid UTF-8", { cause: err });
  }
  const value = parseMesosJson(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MesosProtocolError("record is not a JSON object");
  }
  const type = (value as Record<string, unknown>).type;
  if (typeof type !== "string" || type.length === 0) {
    throw new MesosProtocolError("record has no string 'type'");
  }
  return value as { type: string } & Record<string, unknown>;
}
