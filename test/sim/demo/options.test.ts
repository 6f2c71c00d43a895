// The demo's command line: help exits 0 without starting anything, unknown options and bad
// values are usage errors (exit 2) with the reason, an agent count that could never become
// healthy is refused at once, the log goes to a file the demo names, and the deploy's deadline
// and the sharing of processes follow the cluster's size unless given.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { CommanderError } from "commander";
import { defaultDeadlineMs, parseDemoArgs } from "../../../sim/demo/options.js";
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
  assert.equal(d.deadlineMs, 120_000);
  assert.equal(d.sharedProcesses, false);
  const o = parseDemoArgs(
    [
      "--agents",
      "7",
      "--exit-when-healthy",
      "--failover",
      "--log",
      "/tmp/x.log",
      "--deadline",
      "1m30s",
    ],
    quiet().sink,
  )!;
  assert.deepEqual(o, {
    agents: 7,
    exitWhenHealthy: true,
    failover: true,
    logFile: "/tmp/x.log",
    deadlineMs: 90_000,
    sharedProcesses: false,
  });
});

test("the deploy's deadline grows with the agents unless --deadline says otherwise", () => {
  const parse = (argv: string[]) => parseDemoArgs(argv, quiet().sink)!;
  // 120 s as before for a small cluster, then 3 s more per agent.
  assert.equal(parse(["--agents", "20"]).deadlineMs, 120_000);
  assert.equal(parse(["--agents", "100"]).deadlineMs, 360_000);
  assert.equal(parse(["--agents", "200"]).deadlineMs, 660_000);
  assert.equal(defaultDeadlineMs(90), 330_000);
  for (let n = 3; n < 200; n++) assert.ok(defaultDeadlineMs(n + 1) >= defaultDeadlineMs(n));
  assert.equal(parse(["--agents", "100", "--deadline", "10m"]).deadlineMs, 600_000);
  assert.equal(parse(["--deadline", "45s"]).deadlineMs, 45_000);
  assert.equal(parse(["--deadline", "1h"]).deadlineMs, 3_600_000);
});

test("agents share processes from eleven on, unless told otherwise or walking through failover", () => {
  const parse = (argv: string[]) => parseDemoArgs(argv, quiet().sink)!;
  assert.equal(parse(["--agents", "10"]).sharedProcesses, false);
  assert.equal(parse(["--agents", "11"]).sharedProcesses, true);
  assert.equal(parse(["--agents", "100"]).sharedProcesses, true);
  assert.equal(parse(["--agents", "100", "--no-shared-processes"]).sharedProcesses, false);
  assert.equal(parse(["--agents", "5", "--shared-processes"]).sharedProcesses, true);
  // The walk-through kills one agent alone, which needs a process of its own.
  assert.equal(parse(["--agents", "100", "--failover"]).sharedProcesses, false);
  assert.match(usage(["--failover", "--shared-processes"]), /cannot run with --shared-processes/);
});

test("help is printed, not a demo started", () => {
  const q = quiet();
  assert.equal(parseDemoArgs(["--help"], q.sink), undefined);
  const help = q.out.join("");
  for (const o of [
    "--agents",
    "--exit-when-healthy",
    "--failover",
    "--log",
    "--deadline",
    "--shared-processes",
    "--no-shared-processes",
  ])
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
  assert.match(usage(["--deadline", "soon"]), /--deadline.*a duration such as 90s, 10m or 1h30m/);
  assert.match(usage(["--deadline", "120"]), /a duration such as/);
  assert.match(usage(["--deadline", "-5m"]), /a duration such as/);
  assert.match(usage(["--deadline", "5s"]), /between 10 s and 24 h/);
  assert.match(usage(["--deadline", "2d"]), /between 10 s and 24 h/);
  assert.match(usage(["--deadline"]), /argument missing/);
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
