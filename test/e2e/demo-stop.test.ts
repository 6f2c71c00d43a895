// `demo` stopped in the middle of its deploy by a signal to its whole process group (Ctrl-C in
// a terminal, `timeout`): every process it started exits, executors included (each runs in
// its own process group, so only the demo's own stop reaches them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
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
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        "const m = await import('./sim/demo/demo.ts'); await m.runDemo(['--agents', '3']);",
      ],
      { stdio: ["ignore", "pipe", "inherit"], detached: true },
    );
    child.stdout.resume();
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
    } finally {
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
