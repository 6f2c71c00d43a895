// `dev mesos`: prints exactly one `master: <url>` line once ready; SIGTERM stops every
// process it started. Runs the TypeScript source (the bin runs the same code from dist/).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FRAMEWORK, Scheduler, alive, descendants, http, until } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/test-executor.mjs", import.meta.url));

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

test("dev mesos stopped by a signal to its whole process group (Ctrl-C, `timeout`) leaves no executor running", async () => {
  // Its own process group, as a shell job or `timeout` gives it; then the group is signalled.
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      "const m = await import('./sim/cli/dev.ts'); await m.runDev(['mesos', '--agents', '2', '--port', '0', '--host', '127.0.0.1']);",
    ],
    { stdio: ["ignore", "pipe", "inherit"], detached: true },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  let s: Scheduler | undefined;
  try {
    await until(() => out.includes("\n"), 60_000, "the ready line");
    const master = /^master: (\S+)\n$/.exec(out)![1]!;
    s = await Scheduler.subscribe(master, FRAMEWORK);
    const offers = await s.offers(2);
    const cpus = { name: "cpus", type: "SCALAR", scalar: { value: 0.1 } };
    for (const [i, o] of offers.entries()) {
      const r = await s.call("ACCEPT", {
        offer_ids: [o.id],
        operations: [
          {
            type: "LAUNCH",
            launch: {
              task_infos: [
                {
                  name: `t${i}`,
                  task_id: { value: `t${i}` },
                  agent_id: o.agent_id,
                  resources: [cpus],
                  executor: {
                    type: "CUSTOM",
                    executor_id: { value: `e${i}` },
                    command: {
                      shell: false,
                      value: process.execPath,
                      arguments: ["node", FIXTURE],
                    },
                    resources: [cpus],
                  },
                },
              ],
            },
          },
        ],
      });
      assert.equal(r.status, 202, r.body);
    }
    for (const i of [0, 1])
      await s.update((u) => u.task_id.value === `t${i}` && u.state === "TASK_RUNNING", 20_000);
    const started = descendants(child.pid!);
    const executors = started.filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("test-executor.mjs");
      } catch {
        return false;
      }
    });
    assert.equal(executors.length, 2, "two executor processes run");
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    process.kill(-child.pid!, "SIGTERM");
    assert.equal(await exited, 0);
    await until(() => started.every((p) => !alive(p)), 15_000, "every started process to exit");
  } finally {
    s?.close();
    if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
  }
});
