// The demo's command line: help exits 0 without starting anything, unknown options and bad
// values are usage errors (exit 2) with the reason, an agent count that could never become
// healthy is refused at once, and the log goes to a file the demo names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { CommanderError } from "commander";
import { parseDemoArgs } from "../../../sim/demo/options.js";
import { mdmWords } from "../../../sim/demo/demo.js";

const quiet = () => {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    sink: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) },
  };
};

const usage = (argv: string[]): string => {
  const q = quiet();
  try {
    parseDemoArgs(argv, q.sink);
  } catch (e) {
    assert.ok(e instanceof CommanderError);
    assert.equal(e.exitCode, 2, `${argv.join(" ")} is a usage error`);
    return q.err.join("");
  }
  assert.fail(`${argv.join(" ")} was accepted`);
};

test("defaults, and every option read", () => {
  const d = parseDemoArgs([], quiet().sink)!;
  assert.equal(d.agents, 5);
  assert.equal(d.exitWhenHealthy, false);
  assert.equal(d.failover, false);
  assert.match(d.logFile, /scaleio-demo-.*\.log$/);
  const o = parseDemoArgs(
    ["--agents", "7", "--exit-when-healthy", "--failover", "--log", "/tmp/x.log"],
    quiet().sink,
  )!;
  assert.deepEqual(o, { agents: 7, exitWhenHealthy: true, failover: true, logFile: "/tmp/x.log" });
});

test("help is printed, not a demo started", () => {
  const q = quiet();
  assert.equal(parseDemoArgs(["--help"], q.sink), undefined);
  const help = q.out.join("");
  for (const o of ["--agents", "--exit-when-healthy", "--failover", "--log"])
    assert.ok(help.includes(o), `help names ${o}`);
});

test("unknown options and bad values are usage errors that say what is wrong", () => {
  assert.match(usage(["--bogus"]), /unknown option '--bogus'/);
  assert.match(usage(["--agents", "abc"]), /--agents.*whole number/);
  assert.match(usage(["--agents", "0"]), /whole number of agents, at least 1/);
  assert.match(usage(["--agents", "2.5"]), /whole number/);
  assert.match(
    usage(["--agents", "2", "--exit-when-healthy"]),
    /3-node MDM cluster needs at least 3 agents/,
  );
  assert.match(usage(["extra"]), /too many arguments|unknown command|excess/i);
});

test("the demo command exits at once: 0 for help, 2 for a bad option, nothing started", () => {
  const run = (args: string[]) =>
    spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const m = await import('./sim/demo/demo.ts'); await m.runDemo(${JSON.stringify(args)});`,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
  const help = run(["--help"]);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: scaleio-framework demo/);
  assert.doesNotMatch(help.stdout, /^api:/m, "no demo started");
  const bad = run(["--agents", "2", "--exit-when-healthy"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /needs at least 3 agents/);
  assert.equal(bad.stdout, "");
});

test("the MDM cluster's summary words say each thing once", () => {
  assert.equal(mdmWords("Cluster", "ClusteredNormal"), "ClusteredNormal");
  assert.equal(mdmWords("ThreeNodes", "ClusteredNormal"), "ThreeNodes ClusteredNormal");
  assert.equal(mdmWords("Clustered", "ClusteredNormal"), "ClusteredNormal");
  assert.equal(mdmWords(undefined, undefined), "?");
});
