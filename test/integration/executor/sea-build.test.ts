// `npm run build:executor`: one self-contained executable that needs no Node.js on the agent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { env, timeout: 120_000, cwd: repo }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test(
  "the executor builds into one binary that prints its version and reads MESOS_*",
  { timeout: 180_000 },
  async () => {
    const out = mkdtempSync(join(tmpdir(), "sea-"));
    try {
      const built = await run(process.execPath, ["scripts/build-executor.mjs", "--out", out]);
      assert.equal(built.code, 0, built.stderr);
      const binary = join(out, "scaleio-executor");
      assert.ok(statSync(binary).mode & 0o100, "executable");
      const version = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")).version;
      // no Node.js on PATH and no loader flags: the binary carries its own runtime
      const bare = { PATH: "/nonexistent", HOME: out };
      const v = await run(binary, ["--version"], bare);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout, `${version}\n`);
      const noEnv = await run(binary, ["executor"], bare);
      assert.equal(noEnv.code, 2);
      const line = JSON.parse(noEnv.stderr.trim().split("\n").at(-1)!);
      assert.equal(line.msg, "bad executor environment");
      assert.match(line.err, /MESOS_FRAMEWORK_ID/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
