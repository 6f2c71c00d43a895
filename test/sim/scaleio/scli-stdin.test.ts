// The emulator's scli takes the passwords it was not given as flags on standard input, as the
// real one prompts for them: the framework never puts the admin password in scli's arguments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { simBinDir } from "../../../sim/scaleio/node/packages.js";
import { PASSWORD, startTestEmu } from "./helpers.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** bin/scli as a child process; `input` is written to its stdin, else stdin stays open. */
function scli(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(simBinDir(), "scli"), args, {
      env: { ...process.env, NODE_OPTIONS: "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

test("scli --login and --set_password read the passwords they are not given from stdin", async () => {
  const t = await startTestEmu();
  const env = { SCALEIO_SIM_CONTROL: t.emu.controlUrl, SCALEIO_SIM_NODE_IP: "10.20.0.11" };
  try {
    const login = await scli(["--login", "--username", "admin"], env, `${PASSWORD}\n`);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /^Logged in\./);
    const wrong = await scli(["--login", "--username", "admin"], env, "nope\n");
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /invalid user name or password/);
    const none = await scli(["--login", "--username", "admin"], env, "");
    assert.match(none.stderr, /Missing required parameter --password/);

    // The new password and its confirmation; a mismatch changes nothing.
    assert.equal((await scli(["--login", "--username", "admin"], env, `${PASSWORD}\n`)).code, 0);
    const mismatch = await scli(
      ["--set_password", "--old_password", PASSWORD],
      env,
      "New-pw-1\nNew-pw-2\n",
    );
    assert.match(mismatch.stderr, /do not match/);
    assert.ok(t.emu.sys.authenticate("admin", PASSWORD), "unchanged");
    const set = await scli(
      ["--set_password", "--old_password", PASSWORD],
      env,
      "New-pw-1\nNew-pw-1\n",
    );
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Password changed successfully/);
    assert.ok(t.emu.sys.authenticate("admin", "New-pw-1"));
    assert.ok(!t.emu.sys.authenticate("admin", PASSWORD));

    // Both passwords prompted for: old, new (no confirmation line is fine).
    assert.equal((await scli(["--login", "--username", "admin"], env, "New-pw-1\n")).code, 0);
    const both = await scli(["--set_password"], env, "New-pw-1\nNew-pw-2\n");
    assert.equal(both.code, 0, both.stderr);
    assert.ok(t.emu.sys.authenticate("admin", "New-pw-2"));

    // With the password as a flag scli prompts for nothing, so it never waits on stdin.
    const flag = await scli(["--login", "--username", "admin", "--password", "New-pw-2"], env);
    assert.equal(flag.code, 0, flag.stderr);
  } finally {
    await t.close();
  }
});
