// Package versions look like "2.0-5014.0" (from `EMC-ScaleIO-mdm-2.0-5014.0.el7.x86_64.rpm`);
// the MDM and REST show them as "2.0.5014" and "R2_0.5014.0".
export const DEFAULT_VERSION = "2.0-6035.0";

function parts(v: string): { major: string; minor: string; build: string; patch: string } {
  const m = /^(\d+)\.(\d+)-(\d+)(?:\.(\d+))?/.exec(v);
  if (!m) return { major: "2", minor: "0", build: "0", patch: "0" };
  return { major: m[1]!, minor: m[2]!, build: m[3]!, patch: m[4] ?? "0" };
}

export function dottedVersion(v: string): string {
  const p = parts(v);
  return `${p.major}.${p.minor}.${p.build}`;
}

export function rVersion(v: string): string {
  const p = parts(v);
  return `R${p.major}_${p.minor}.${p.build}.${p.patch}`;
}

/** Orders package versions numerically (for upgrade decisions). */
export function compareVersions(a: string, b: string): number {
  const na = a.split(/[.-]/).map((x) => Number(x) || 0);
  const nb = b.split(/[.-]/).map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
