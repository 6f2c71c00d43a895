import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostCommandError, run } from "../../../src/host/process.js";

test("arguments are passed as they are: no shell ever interprets them", async () => {
  const dir = mkdtempSync(join(tmpdir(), "run-"));
  const marker = join(dir, "pwned");
  const r = await run("printf", ["%s|", "a b", `x; touch ${marker}`, "$(id)", "`id`"]);
  assert.equal(r.stdout, `a b|x; touch ${marker}|$(id)|\`id\`|`);
  assert.equal(existsSync(marker), false);
});

test("a failing program is a typed error with its exit code and the tail of stderr", async () => {
  await assert.rejects(
    run("sh", ["-c", "echo first >&2; echo 'Error: MDM failed command.' >&2; exit 3"]),
    (e: unknown) => {
      assert.ok(e instanceof HostCommandError);
      assert.equal(e.exitCode, 3);
      assert.match(e.message, /exit 3.*Error: MDM failed command\./);
      return true;
    },
  );
  const r = await run("sh", ["-c", "exit 4"], { check: false });
  assert.equal(r.exitCode, 4);
});

test("a missing program says so", async () => {
  await assert.rejects(run("no-such-program-here", []), /command not found/);
});

test("a timeout kills the whole process group, grandchildren included", async () => {
  const dir = mkdtempSync(join(tmpdir(), "run-"));
  const pidFile = join(dir, "pid");
  await assert.rejects(
    run("sh", ["-c", `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 }),
    /timed out after 300 ms/,
  );
  const { readFileSync } = await import("node:fs");
  const pid = Number(readFileSync(pidFile, "utf8"));
  // The grandchild must be gone (or a zombie being reaped) right after the group kill.
  const alive = () => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]!.startsWith("Z");
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 2000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(alive(), false);
});

test("abort signal stops the program", async () => {
  const ac = new AbortController();
  const p = run("sleep", ["30"], { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, /aborted/);
});

test("output is capped, env is passed, secrets are scrubbed from results and errors", async () => {
  const r = await run("head", ["-c", "100000", "/dev/zero"], { maxOutputBytes: 1000 });
  assert.equal(r.stdout.length, 1000);
  assert.equal(r.truncated, true);
  const e = await run("sh", ["-c", 'echo "token is $TOKEN"'], {
    env: { TOKEN: "hunter22" },
    redact: ["hunter22"],
  });
  assert.equal(e.stdout, "token is [redacted]\n");
  await assert.rejects(
    run("sh", ["-c", 'echo "bad $TOKEN" >&2; exit 1'], {
      env: { TOKEN: "hunter22" },
      redact: ["hunter22"],
    }),
    (err: Error) => !err.message.includes("hunter22"),
  );
});

test("input goes to stdin", async () => {
  assert.equal((await run("cat", [], { input: "hello" })).stdout, "hello");
});

test("a program that exits without reading its input is its exit status, not a crash", async () => {
  // 4 MiB cannot fit in a pipe: writing it after the program has gone fails with EPIPE.
  const input = Buffer.alloc(4 * 1024 * 1024, 120);
  const r = await run("sh", ["-c", "exit 0"], { input });
  assert.equal(r.exitCode, 0);
  const r2 = await run("sh", ["-c", "echo no >&2; exit 5"], { input, check: false });
  assert.equal(r2.exitCode, 5);
  assert.equal(r2.stderr, "no\n");
});

test("non-string arguments are refused before anything runs", () => {
  assert.throws(() => run("echo", ["a\0b"]), TypeError);
  assert.throws(() => run("", []), TypeError);
});
