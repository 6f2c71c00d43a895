// The demo's command line: help exits 0 without starting anything, unknown options and bad
// values are usage errors (exit 2) with the reason, an agent count that could never become
// healthy is refused at once, the log goes to a file the demo names, and the deploy's deadline
// and the sharing of processes follow the cluster's size unless given.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CommanderError } from "commander";
import { FileStateStore } from "../../../src/store/file-store.js";
import { defaultDeadlineMs, parseDemoArgs } from "../../../sim/demo/options.js";
import { mdmWords } from "../../../sim/demo/demo.js";
import { flagArgs, schedulerLogFile } from "../../../sim/demo/scheduler-group.js";

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
    schedulers: 1,
  });
});

test("--schedulers and --state: several schedulers share their state in ZooKeeper", () => {
  const parse = (argv: string[]) => parseDemoArgs(argv, quiet().sink)!;
  assert.equal(parse([]).schedulers, 1);
  assert.equal(parse([]).state, undefined);
  const two = parse(["--schedulers", "2", "--state", "zk://127.0.0.1:2181/demo"]);
  assert.equal(two.schedulers, 2);
  assert.equal(two.state, "zk://127.0.0.1:2181/demo");
  assert.equal(
    parse(["--schedulers", "3", "--state", "zk://10.0.0.1:2181,10.0.0.2:2181/x"]).schedulers,
    3,
  );
  // One scheduler on either kind of state the scheduler accepts.
  assert.equal(parse(["--state", "zk://127.0.0.1:2181/demo"]).schedulers, 1);
  assert.equal(parse(["--state", "file:///tmp/demo-state"]).state, "file:///tmp/demo-state");
  // Two or more need a shared store, which only ZooKeeper is.
  assert.match(usage(["--schedulers", "2"]), /--schedulers 2 needs .* --state zk:\/\//);
  assert.match(
    usage(["--schedulers", "2", "--state", "file:///tmp/x"]),
    /--schedulers 2 needs their shared state in ZooKeeper/,
  );
  assert.match(usage(["--schedulers", "0"]), /whole number of schedulers, at least 1/);
  assert.match(usage(["--schedulers", "two"]), /--schedulers.*whole number/);
  assert.match(usage(["--schedulers", "1.5"]), /whole number/);
  assert.match(usage(["--schedulers", "6", "--state", "zk://h:1/p"]), /at most 5 schedulers/);
  assert.match(usage(["--schedulers"]), /argument missing/);
  // A URL the scheduler would refuse is refused before anything starts.
  assert.match(usage(["--state", "zk"]), /zk:\/\/127\.0\.0\.1:2181\/.*does not start ZooKeeper/);
  assert.match(usage(["--state", "http://x/y"]), /use file:\/\/\/path or zk:\/\//);
  assert.match(usage(["--state", "/var/lib/x"]), /use file:\/\/\/path or zk:\/\//);
});

test("each scheduler's log is a file of its own, and flags become the command's arguments", () => {
  assert.equal(schedulerLogFile("/tmp/demo.log", 1, 1), "/tmp/demo.log");
  assert.equal(schedulerLogFile("/tmp/demo.log", 1, 2), "/tmp/demo-1.log");
  assert.equal(schedulerLogFile("/tmp/demo.log", 2, 2), "/tmp/demo-2.log");
  assert.equal(schedulerLogFile("/tmp/a.b/demo", 2, 2), "/tmp/a.b/demo-2");
  assert.deepEqual(flagArgs({ master: "http://m", "state-dir": undefined, state: "zk://h/p" }), [
    "--master",
    "http://m",
    "--state",
    "zk://h/p",
  ]);
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
    "--schedulers",
    "--state",
  ])
    assert.ok(help.includes(o), `help names ${o}`);
  // How to see the election, in the help itself.
  assert.match(help, /demo --schedulers 2 --state zk:\/\/127\.0\.0\.1:2181\//);
  assert.match(help, /does not start one/);
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
  const alone = run(["--schedulers", "2"]);
  assert.equal(alone.status, 2);
  assert.match(alone.stderr, /--schedulers 2 needs their shared state in ZooKeeper/);
  assert.equal(alone.stdout, "");
});

test("a demo starts afresh: --state already holding state is refused before anything starts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "demo-used-state-"));
  try {
    const store = await FileStateStore.open(dir);
    await store.set("framework/id", { value: "an-earlier-run" });
    await store.close();
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `const m = await import('./sim/demo/demo.ts'); await m.runDemo(['--state', ${JSON.stringify(pathToFileURL(dir).href)}]);`,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /already holds state \(framework\/id\): the demo starts afresh/);
    assert.doesNotMatch(r.stdout, /^api:/m, "no demo started");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the MDM cluster's summary words say each thing once", () => {
  assert.equal(mdmWords("Cluster", "ClusteredNormal"), "ClusteredNormal");
  assert.equal(mdmWords("ThreeNodes", "ClusteredNormal"), "ThreeNodes ClusteredNormal");
  assert.equal(mdmWords("Clustered", "ClusteredNormal"), "ClusteredNormal");
  assert.equal(mdmWords(undefined, undefined), "?");
});
