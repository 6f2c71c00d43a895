// Mesh mirroring: each chunk has two copies on two different fault units. We keep, per
// volume, how many net KB live on each pair of SDSs; every capacity counter derives from it.

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export function pairOf(key: string): [string, string] {
  const [a, b] = key.split("|");
  return [a ?? "", b ?? ""];
}

export interface Unit {
  sdsId: string;
  faultSetId: string | null;
  weightKb: number;
}

/** Splits `kb` over all allowed pairs in proportion to the product of their capacities. */
export function spread(kb: number, units: Unit[]): Map<string, number> {
  const pairs: { key: string; w: number }[] = [];
  for (let i = 0; i < units.length; i++) {
    for (let j = i + 1; j < units.length; j++) {
      const a = units[i]!;
      const b = units[j]!;
      if (a.faultSetId !== null && a.faultSetId === b.faultSetId) continue;
      pairs.push({ key: pairKey(a.sdsId, b.sdsId), w: a.weightKb * b.weightKb });
    }
  }
  const out = new Map<string, number>();
  const total = pairs.reduce((s, p) => s + p.w, 0);
  if (kb <= 0 || total <= 0) return out;
  // Largest-remainder rounding keeps the sum exact in whole KB.
  let assigned = 0;
  const rema: { key: string; r: number }[] = [];
  for (const p of pairs) {
    const exact = (kb * p.w) / total;
    const whole = Math.floor(exact);
    out.set(p.key, whole);
    assigned += whole;
    rema.push({ key: p.key, r: exact - whole });
  }
  rema.sort((x, y) => y.r - x.r);
  for (let i = 0; assigned < kb; i = (i + 1) % rema.length) {
    const k = rema[i]!.key;
    out.set(k, (out.get(k) ?? 0) + 1);
    assigned++;
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

export function addInto(target: Map<string, number>, add: Map<string, number>): void {
  for (const [k, v] of add) target.set(k, (target.get(k) ?? 0) + v);
}

/** Net KB whose copy lives on the given SDS. */
export function onSds(placement: Map<string, number>, sdsId: string): number {
  let s = 0;
  for (const [k, v] of placement) {
    const [a, b] = pairOf(k);
    if (a === sdsId || b === sdsId) s += v;
  }
  return s;
}
