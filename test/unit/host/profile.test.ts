import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostProfileFromEnv } from "../../../src/host/profile.js";

test("host profiles: dev needs SCALEIO_SIM_ROOT; devices are files under <root>/dev minus scini", async () => {
  await assert.rejects(
    hostProfileFromEnv({ SCALEIO_FRAMEWORK_HOST_PROFILE: "dev" }),
    /SCALEIO_SIM_ROOT is required/,
  );
  await assert.rejects(
    hostProfileFromEnv({ SCALEIO_FRAMEWORK_HOST_PROFILE: "windows" }),
    /neither 'linux' nor 'dev'/,
  );
  const dir = mkdtempSync(join(tmpdir(), "profile-"));
  try {
    mkdirSync(join(dir, "dev/disk/by-id"), { recursive: true });
    writeFileSync(join(dir, "dev/sdb"), Buffer.alloc(65536));
    writeFileSync(join(dir, "dev/scini"), "");
    const p = await hostProfileFromEnv({
      SCALEIO_FRAMEWORK_HOST_PROFILE: "dev",
      SCALEIO_SIM_ROOT: dir,
      SCALEIO_FRAMEWORK_PACKAGE_FORMAT: "deb",
    });
    assert.equal(p.name, "dev");
    assert.equal(p.packages.format, "deb");
    assert.equal(p.root.resolve("/etc/x"), join(dir, "etc/x"));
    assert.equal(p.cacheDir, join(dir, "var/cache/scaleio-framework"));
    assert.deepEqual(
      (await p.discoverDevices()).map((d) => [d.path, d.usable]),
      [["/dev/sdb", true]],
    );
    assert.equal(await p.drvCfgCommand(), "drv_cfg");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
