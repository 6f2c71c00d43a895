// `demo` stopped in the middle of its deploy by a signal to its whole process group (Ctrl-C in
// a terminal, `timeout`): every process it started exits, executors included (each runs in
// its own process group, so only the demo's own stop reaches them); its temporary folder is
// gone, and the scheduler's log it named is left to read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { alive, descendants } from "../sim/mesos/helpers.js";
import { waitUntil } from "../support/wait.js";

const isExecutor = (pid: number) => {
  try {
    return /\sexecutor\s*$/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "));
  } catch {
    return false;
  }
};

test(
  "the demo stopped by SIGTERM mid-deploy leaves no process behind",
  { timeout: 120_000 },
  async () => {
    let tmp = "";
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        "const m = await import('./sim/demo/demo.ts'); await m.runDemo(['--agents', '3']);",
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
        detached: true,
        // Its own temporary folder: what the demo leaves there is all the test sees.
        env: { ...process.env, TMPDIR: (tmp = mkdtempSync(join(tmpdir(), "demo-stop-"))) },
      },
    );
    let stdout = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    let started: number[] = [];
    try {
      await waitUntil(
        () => {
          started = descendants(child.pid!);
          return started.filter(isExecutor).length >= 3;
        },
        { timeoutMs: 60_000, intervalMs: 50, what: "an executor process on each agent" },
      );
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      process.kill(-child.pid!, "SIGTERM");
      assert.equal(await exited, 0);
      await waitUntil(() => started.every((p) => !alive(p)), {
        timeoutMs: 15_000,
        what: `every process the demo started to exit (${started.filter(alive).join(", ")})`,
      });
      const log = /^log: (.+)$/m.exec(stdout)?.[1];
      assert.ok(log, `the demo names its log:\n${stdout}`);
      // (tsx, which runs the demo here, keeps its compile cache there too.)
      const left = readdirSync(tmp).filter((f) => !f.startsWith("tsx-"));
      assert.deepEqual(left, [basename(log)], "only the log is left");
      const first = readFileSync(log, "utf8").split("\n")[0]!;
      assert.equal(typeof (JSON.parse(first) as { msg: string }).msg, "string");
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
      // On failure, leave nothing running (executors included: each leads its own group).
      for (const pid of [child.pid!, ...started.filter(isExecutor)]) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch (err) {
          assert.equal((err as NodeJS.ErrnoException).code, "ESRCH"); // gone already
        }
      }
    }
  },
);
