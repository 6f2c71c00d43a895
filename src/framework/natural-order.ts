// Natural ordering of names and addresses: runs of digits compare as numbers, so
// host-2 sorts before host-10 and 127.151.1.4 before 127.151.1.10. Ties (host-01, host-1)
// fall back to plain text order, so the order is total (cursors rely on that).
const CHUNK = /(\d+|\D+)/g;

export function naturalCompare(a: string, b: string): number {
  const xs = a.toLowerCase().match(CHUNK) ?? [];
  const ys = b.toLowerCase().match(CHUNK) ?? [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (x === y) continue;
    const xd = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const yd = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (xd && yd) {
      // As numbers of any length: fewer significant digits is smaller.
      const xn = x.replace(/^0+/, "");
      const yn = y.replace(/^0+/, "");
      if (xn.length !== yn.length) return xn.length - yn.length;
      if (xn !== yn) return xn < yn ? -1 : 1;
      continue;
    }
    return x < y ? -1 : 1;
  }
  if (xs.length !== ys.length) return xs.length - ys.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
