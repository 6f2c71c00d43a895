// Mesos duration syntax (stout Duration::parse): a decimal number immediately followed by
// a unit, e.g. `2secs`, `15mins`, `1.5secs`, `100ms`.
import { MesosConfigError } from "./errors.js";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  secs: 1000,
  mins: 60_000,
  hrs: 3_600_000,
  days: 86_400_000,
  weeks: 604_800_000,
};

/** Milliseconds for a Mesos duration string; throws MesosConfigError naming the input. */
export function parseMesosDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ns|us|ms|secs|mins|hrs|days|weeks)\s*$/.exec(text);
  if (!m) {
    throw new MesosConfigError(
      `invalid Mesos duration '${text}': expected a number followed by ns, us, ms, secs, mins, hrs, days or weeks`,
    );
  }
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Formats milliseconds the way Mesos prints durations (largest exact unit). */
export function formatMesosDuration(ms: number): string {
  for (const unit of ["weeks", "days", "hrs", "mins", "secs", "ms"]) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && Number.isInteger(ms / size)) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
