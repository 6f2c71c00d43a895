import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostRoot } from "../../../src/host/files.js";

test("HostRoot maps absolute host paths under its root and refuses escapes", () => {
  const r = new HostRoot("/tmp/node-a");
  assert.equal(r.resolve("/etc/rexray/config.yml"), "/tmp/node-a/etc/rexray/config.yml");
  assert.equal(new HostRoot("/").resolve("/etc/x"), "/etc/x");
  assert.throws(() => r.resolve("etc/x"), /not an absolute host path/);
  assert.equal(r.resolve("/etc/../../x"), "/tmp/node-a/x", "`..` cannot climb above the root");
  assert.throws(() => new HostRoot("relative"), /not an absolute path/);
});

test("writeAtomic creates folders, sets the mode, and reports no change on a rewrite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hostroot-"));
  try {
    const r = new HostRoot(dir);
    assert.equal(await r.writeAtomic("/etc/app/secret.yml", "pw: x\n", { mode: 0o600 }), true);
    const real = join(dir, "etc/app/secret.yml");
    assert.equal(readFileSync(real, "utf8"), "pw: x\n");
    assert.equal(statSync(real).mode & 0o777, 0o600);
    assert.equal(await r.writeAtomic("/etc/app/secret.yml", "pw: x\n", { mode: 0o600 }), false);
    assert.equal(await r.writeAtomic("/etc/app/secret.yml", "pw: x\n", { mode: 0o640 }), true);
    assert.equal(statSync(real).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(join(dir, "etc/app")), ["secret.yml"], "no temp files left");
    assert.equal(await r.readText("/etc/app/missing"), undefined);
    assert.equal(await r.exists("/etc/app/secret.yml"), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
