// Natural ordering of names and addresses, as the API sorts them: runs of digits compare as
// numbers, so host-2 sorts before host-10 and 127.151.1.4 before 127.151.1.10. Ties (host-01,
// host-1) fall back to plain text order, so the order is total.
const CHUNK = /(\d+|\D+)/g;

const isDigit = (s) => s.charCodeAt(0) >= 48 && s.charCodeAt(0) <= 57;

/** @param {string} a @param {string} b */
export function naturalCompare(a, b) {
  const xs = String(a).toLowerCase().match(CHUNK) ?? [];
  const ys = String(b).toLowerCase().match(CHUNK) ?? [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i];
    const y = ys[i];
    if (x === y) continue;
    if (isDigit(x) && isDigit(y)) {
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
