#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: test/) with Node's own test runner.
// Node 20's runner has no glob support, so the file list is collected here.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";

const roots = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith("--"));

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith(".test.ts")) out.push(path);
    return out;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    collect(join(path, name), out);
  }
  return out;
}

const all = (roots.length ? roots : ["test"]).flatMap((r) => collect(resolve(r), []));
if (all.length === 0) {
  console.error("run-tests: no test files found");
  process.exit(1);
}

// The chaos and abuse suite runs first, as its own run that ends with its summary line; the
// rest runs after it, so the run's closing lines are the test runner's own.
const isChaos = (f) => f.includes(`${sep}test${sep}chaos${sep}`);
const phases = [all.filter(isChaos), all.filter((f) => !isChaos(f))].filter((p) => p.length);
const chaosReporter = [
  "--test-reporter=./scripts/chaos-summary-reporter.mjs",
  "--test-reporter-destination=stdout",
];

let status = 0;
for (const files of phases) {
  const args = [
    "--import",
    "tsx",
    "--test",
    "--test-concurrency=2",
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    ...(files.some(isChaos) ? chaosReporter : []),
    "--test-timeout=300000",
    ...passThrough,
    ...files,
  ];
  const res = spawnSync(process.execPath, args, { stdio: "inherit" });
  if (res.status !== 0) status = res.status ?? 1;
}
process.exit(status);
