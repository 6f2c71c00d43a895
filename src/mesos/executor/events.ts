// Turns a decoded executor event into what the client dispatches: known types are checked
// (validation.ts) so that a malformed event from the agent becomes an InvalidEventError
// instead of a crash deep inside a handler; unknown types pass through untouched
// (reference 10.25).
import type { DurationInfo } from "../types/common.js";
import { EXECUTOR_EVENT_TYPES, type ExecutorEvent } from "../types/executor.js";
import { checkExecutorEvent } from "../validation.js";

export type DecodedExecutorEvent =
  ExecutorEvent | { type: "UNKNOWN_EVENT"; originalType: string; raw: Record<string, unknown> };

const KNOWN: ReadonlySet<string> = new Set(EXECUTOR_EVENT_TYPES);

/** Validates the shape of a known event; returns unknown types wrapped as UNKNOWN_EVENT. */
export function toExecutorEvent(
  raw: { type: string } & Record<string, unknown>,
): DecodedExecutorEvent {
  if (!KNOWN.has(raw.type)) return { type: "UNKNOWN_EVENT", originalType: raw.type, raw };
  return checkExecutorEvent(raw);
}

/** Milliseconds of a DurationInfo (Int64 nanoseconds, possibly bigint); undefined if unset. */
export function durationInfoMs(d: DurationInfo | undefined): number | undefined {
  if (!d || d.nanoseconds === undefined || d.nanoseconds === null) return undefined;
  const ns = d.nanoseconds;
  const ms = typeof ns === "bigint" ? Number(ns / 1_000_000n) : Number(ns) / 1e6;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
