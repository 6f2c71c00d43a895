// The web UI at 1,000 agents (issue 20): how free the browser's main thread stays while 85
// step changes a second stream in, measured in Chromium against the stand-in API of
// test/e2e/ui-scale.test.ts, which this runs in its measuring mode (UI_SCALE_MEASURE_ONLY=1)
// several times. Each run prints the longest task, how busy the main thread was (wall time and
// CPU) and how many clicks on a "Steps" toggle were handled; then the medians against the
// targets: no task over 100 ms, the main thread under 25 % busy, every click handled. Exits 1
// when a median misses a target.
//
// Usage: npm run bench:ui [-- --runs 3]
// A quiet machine gives the figures that mean something: each run is timed by the browser.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const runs = argv.includes("--runs") ? Number(argv[argv.indexOf("--runs") + 1]) : 3;
if (!Number.isInteger(runs) || runs < 1) {
  console.error("bench:ui: --runs takes a whole number >= 1");
  process.exit(2);
}
const TARGET = { longestMs: 100, busyPercent: 25 };

interface Figures {
  longestMs: number;
  busyPercent: number;
  cpuPercent: number;
  handled: number;
  clicks: number;
  changesPerSecond: number;
}

/** The browser reports tasks over 50 ms ("long tasks") only. */
const taskText = (ms: number) => (ms > 0 ? `longest task ${ms} ms` : "no task over 50 ms");

const testFile = fileURLToPath(new URL("../test/e2e/ui-scale.test.ts", import.meta.url));
const results: Figures[] = [];
for (let i = 1; i <= runs; i++) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", testFile], {
    env: { ...process.env, UI_SCALE_MEASURE_ONLY: "1" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = /ui-scale: (\{.*\})/.exec(r.stdout)?.[1];
  if (r.status !== 0 || !line) {
    console.error(`run ${i} failed (exit ${r.status}):\n${r.stdout.slice(-3000)}${r.stderr}`);
    process.exit(1);
  }
  const f = JSON.parse(line) as Figures;
  results.push(f);
  console.log(
    `run ${i}: ${taskText(f.longestMs)}; main thread ${f.busyPercent.toFixed(1)} % busy ` +
      `(${f.cpuPercent.toFixed(1)} % of a CPU); clicks handled ${f.handled} of ${f.clicks}; ` +
      `${f.changesPerSecond.toFixed(1)} step changes/s`,
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const longest = median(results.map((f) => f.longestMs));
const busy = median(results.map((f) => f.busyPercent));
const cpu = median(results.map((f) => f.cpuPercent));
const lost = results.reduce((n, f) => n + f.clicks - f.handled, 0);
const verdicts = [
  [taskText(longest), longest <= TARGET.longestMs, `<= ${TARGET.longestMs} ms`],
  [`main thread ${busy.toFixed(1)} % busy`, busy < TARGET.busyPercent, `< ${TARGET.busyPercent} %`],
  [`${cpu.toFixed(1)} % of a CPU`, cpu < TARGET.busyPercent, `< ${TARGET.busyPercent} %`],
  [`${lost} clicks lost`, lost === 0, "none"],
] as const;
console.log(`medians of ${runs} run(s):`);
for (const [what, ok, target] of verdicts)
  console.log(`  ${what} (target ${target}): ${ok ? "ok" : "MISSED"}`);
process.exit(verdicts.every(([, ok]) => ok) ? 0 : 1);
