#!/usr/bin/env node
// Runs the given test folders or files N times in a row (each run through run-tests.mjs, so
// exactly as `npm test` runs them), stops at the first failing run, and ends with one
// summary line. For finding flaky tests:
//   npm run test:repeat -- --times 10 test/sim/mesos test/e2e
// Other `--` flags are passed on to the test runner (e.g. --test-concurrency=1).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const runTests = fileURLToPath(new URL("./run-tests.mjs", import.meta.url));

function parse(argv) {
  let times = 10;
  const roots = [];
  const passThrough = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--times" || a.startsWith("--times=")) {
      const v = a === "--times" ? argv[++i] : a.slice("--times=".length);
      times = Number(v);
      if (!Number.isInteger(times) || times < 1) {
        console.error(`repeat-tests: --times must be a whole number >= 1, not ${v}`);
        process.exit(2);
      }
    } else if (a.startsWith("--")) passThrough.push(a);
    else roots.push(a);
  }
  return { times, roots, passThrough };
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const { times, roots, passThrough } = parse(process.argv.slice(2));
const what = roots.length ? roots.join(" ") : "test";
const durations = [];
const started = Date.now();
for (let run = 1; run <= times; run++) {
  console.log(`\nrepeat-tests: run ${run} of ${times}: ${what}`);
  const t0 = Date.now();
  const res = spawnSync(process.execPath, [runTests, ...passThrough, ...roots], {
    stdio: "inherit",
  });
  durations.push(Date.now() - t0);
  if (res.status !== 0) {
    const why = res.signal ? `signal ${res.signal}` : `exit ${res.status}`;
    console.log(
      `repeat-tests: FAILED on run ${run} of ${times} (${why}) after ${run - 1} passing: ${what} (${seconds(Date.now() - started)})`,
    );
    process.exit(res.status || 1);
  }
}
console.log(
  `repeat-tests: ${times} of ${times} runs passed: ${what} (total ${seconds(Date.now() - started)}, slowest run ${seconds(Math.max(...durations))})`,
);
