// Durations in configuration: `90s`, `10m`, `1h30m`, `500ms` (a bare number from YAML is in
// seconds), as milliseconds.
import { z } from "zod";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration text, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return Math.round(ms);
}

/** A duration (text, or seconds as a number) as milliseconds, within bounds. */
export function durationMs(minMs: number, maxMs: number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const ms = typeof v === "number" ? Math.round(v * 1000) : parseDuration(v);
    if (ms === undefined || !Number.isFinite(ms)) {
      ctx.addIssue({ code: "custom", message: "must be a duration such as 90s, 10m or 1h" });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({
        code: "custom",
        message: `must be between ${minMs / 1000} s and ${maxMs / 3_600_000} h`,
      });
      return z.NEVER;
    }
    return ms;
  });
}
