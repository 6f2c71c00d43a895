// "Did you mean …?" for a misspelt key, flag or variable: the closest known name by edit
// distance, case and separators ignored, when it is close enough to be a likely typo.

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

const squash = (s: string) => s.toLowerCase().replace(/[-_.]/g, "");

/** The known name closest to `typed`, or undefined when none is plausibly meant. */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const t = squash(typed);
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(t, squash(name));
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  // A third of the name's length, at least 1 and at most 3 edits.
  const limit = Math.min(3, Math.max(1, Math.floor(t.length / 3)));
  return best.d <= limit ? best.name : undefined;
}

/** "; did you mean 'master'?" or nothing. */
export function didYouMean(
  typed: string,
  known: readonly string[],
  show: (name: string) => string = (n) => `'${n}'`,
): string {
  const c = closest(typed, known);
  return c ? `; did you mean ${show(c)}?` : "";
}
