// `dev mesos`: prints exactly one `master: <url>` line once ready; SIGTERM stops every
// process it started. Runs the TypeScript source (the bin runs the same code from dist/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { http, until } from "./helpers.js";

function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [pid, pp] of parent) {
      if (pp !== p) continue;
      out.push(pid);
      walk(pid);
    }
  };
  walk(root);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("dev mesos --agents 3 --port 0: one ready line, a working master, nothing left after SIGTERM", async () => {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      "const m = await import('./sim/cli/dev.ts'); await m.runDev(['mesos', '--agents', '3', '--port', '0', '--host', '127.0.0.1']);",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  try {
    await until(() => out.includes("\n"), 60_000, "the ready line");
    const m = /^master: (http:\/\/127\.0\.0\.1:\d+)\n$/.exec(out);
    assert.ok(m, `unexpected output: ${JSON.stringify(out)}`);
    const state = JSON.parse((await http(`${m[1]}/state`, { method: "GET" })).body);
    assert.equal(state.activated_slaves, 3, "all agents registered before the line was printed");
    const started = descendants(child.pid!);
    assert.ok(started.length >= 3);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    await until(() => started.every((p) => !alive(p)), 10_000, "every started process to exit");
    assert.equal(out.split("\n").filter(Boolean).length, 1, "exactly one line on stdout");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
