// `demo --agents 12 --shared-processes`, as a user runs it: the agents share two host
// processes and run their executors inside them (no process per agent or per executor), the
// scheduler still reaches them over HTTP through the master, and the demo reaches healthy and
// exits 0, leaving only its log behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { alive, descendants } from "../sim/mesos/helpers.js";

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
};
const parentOf = (pid: number): number => {
  try {
    // The fields after the command's closing parenthesis: state, then the parent's pid.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 0;
  }
};
const runsAgentMain = (pid: number) => /agent\/main\.[jt]s /.test(cmdline(pid));
// A host's child caught between fork and exec (a program the node runs, such as REX-Ray's
// stand-in) still shows the host's command line: it is not a host of its own.
const isAgentHost = (pid: number) => runsAgentMain(pid) && !runsAgentMain(parentOf(pid));
const isExecutor = (pid: number) => /\sexecutor\s*$/.test(cmdline(pid));

test(
  "the demo with 12 agents in shared processes reaches healthy with two agent host processes",
  { timeout: 240_000 },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), "demo-shared-"));
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        "const m = await import('./sim/demo/demo.ts'); await m.runDemo(['--agents', '12', '--shared-processes', '--exit-when-healthy']);",
      ],
      { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, TMPDIR: tmp } },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    // What ran under the demo, seen while it ran (every host and executor it started).
    const hosts = new Set<number>();
    const executors = new Set<number>();
    const look = () => {
      for (const pid of descendants(child.pid!)) {
        if (isAgentHost(pid)) hosts.add(pid);
        if (isExecutor(pid)) executors.add(pid);
      }
    };
    const watcher = setInterval(look, 200);
    try {
      const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
      assert.equal(code, 0, `the demo exits 0 once healthy:\n${stdout}\n${stderr}`);
      assert.match(stdout, /^agents: 12 in 2 shared host processes, executors inside them$/m);
      assert.match(
        stdout,
        /^healthy in [\d.]+ s: MDM cluster .*ClusteredNormal, 3\/3 SDS connected, .*12\/12 SDC connected, .*no health condition$/m,
      );
      assert.equal(hosts.size, 2, "two agent host processes for twelve agents");
      assert.equal(executors.size, 0, "no executor process: executors run in the hosts");
      assert.ok(
        [...hosts].every((p) => !alive(p)),
        "the agent hosts exited with the demo",
      );
      const log = /^log: (.+)$/m.exec(stdout)?.[1];
      assert.ok(log, "the demo names its log");
      const left = readdirSync(tmp).filter((f) => !f.startsWith("tsx-"));
      assert.deepEqual(left, [basename(log)], "only the log is left");
    } finally {
      clearInterval(watcher);
      rmSync(tmp, { recursive: true, force: true });
      if (child.exitCode === null && child.signalCode === null)
        process.kill(-child.pid!, "SIGKILL");
    }
  },
);
