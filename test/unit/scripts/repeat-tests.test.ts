// scripts/repeat-tests.mjs: N runs in a row, stopping at the first failing one, with a
// summary line either way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../../scripts/repeat-tests.mjs", import.meta.url));

/** A folder with one test that fails on run `failOn` (counted in a file), else passes. */
function suite(failOn: number): string {
  const dir = mkdtempSync(join(tmpdir(), "repeat-"));
  const count = JSON.stringify(join(dir, "count"));
  writeFileSync(
    join(dir, "flaky.test.ts"),
    `const { test } = require("node:test");
const fs = require("node:fs");
test("flaky", () => {
  const n = (fs.existsSync(${count}) ? Number(fs.readFileSync(${count}, "utf8")) : 0) + 1;
  fs.writeFileSync(${count}, String(n));
  if (n === ${failOn}) throw new Error("failed on run " + n);
});
`,
  );
  return dir;
}

function repeat(args: string[]) {
  // Without this test runner's context: the runs inside must report as a test run of their own.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: "utf8", env });
  const summary = r.stdout.trim().split("\n").at(-1) ?? "";
  return {
    status: r.status,
    summary,
    runs: (r.stdout.match(/^repeat-tests: run /gm) ?? []).length,
  };
}

test("stops at the first failing run and says which", () => {
  const dir = suite(2);
  try {
    const r = repeat(["--times", "4", dir]);
    assert.notEqual(r.status, 0);
    assert.equal(r.runs, 2, "no run after the failing one");
    assert.match(r.summary, /^repeat-tests: FAILED on run 2 of 4 \(exit \d+\) after 1 passing: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("all runs passing: one summary line with the count", () => {
  const dir = suite(99);
  try {
    const r = repeat(["--times=3", dir]);
    assert.equal(r.status, 0);
    assert.equal(r.runs, 3);
    assert.match(
      r.summary,
      /^repeat-tests: 3 of 3 runs passed: .* \(total [\d.]+ s, slowest run [\d.]+ s\)$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a bad --times is refused", () => {
  const r = repeat(["--times", "0", "test/unit/scripts"]);
  assert.equal(r.status, 2);
});
