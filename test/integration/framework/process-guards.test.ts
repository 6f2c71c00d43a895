// Anything no handler caught (an unhandled rejection, an uncaught exception) ends the process
// with one log line and exit code 1, for its supervisor to restart it: never a process that
// dies with a multi-line trace, nor one that runs on half-dead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { withDeadline } from "../../support/wait.js";

const fixture = fileURLToPath(new URL("./fixtures/guarded-process.ts", import.meta.url));

async function run(how: string): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, how], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code = await withDeadline(
    new Promise<number | null>((r) => child.once("exit", (c) => r(c))),
    20_000,
    `the ${how} process to exit`,
  ).finally(() => child.kill("SIGKILL"));
  return { code, lines: err.split("\n").filter((l) => l.trim() !== "") };
}

for (const [how, kind, message] of [
  ["rejection", "unhandledRejection", "nobody handled me"],
  ["exception", "uncaughtException", "Cannot read properties of undefined (reading 'value')"],
  ["emitter", "unhandledRejection", "Cannot read properties of undefined (reading 'value')"],
] as const) {
  test(`${how}: one line, exit 1`, async () => {
    const { code, lines } = await run(how);
    assert.equal(code, 1);
    assert.equal(lines.length, 1, lines.join("\n"));
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.level, "fatal");
    assert.equal(line.msg, "internal error; exiting");
    assert.equal(line.kind, kind);
    assert.equal(line.err, message);
  });
}
