// The generic package layer against the emulator's rpm/dpkg/apt-get/yum as child processes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostRoot } from "../../../src/host/files.js";
import {
  PackageManager,
  compareVersions,
  detectPackageFormat,
  normalizeVersion,
} from "../../../src/host/packages.js";
import { startEmuNodes } from "../../support/scaleio-node.js";

test("versions: rpm dist tags dropped, numeric ordering", () => {
  assert.equal(normalizeVersion("2.0-6035.0.el7"), "2.0-6035.0");
  assert.equal(normalizeVersion("2.0-6035.0"), "2.0-6035.0");
  assert.ok(compareVersions("2.0-13000.211", "2.0-6035.0") > 0);
  assert.equal(compareVersions("2.0-6035.0", "2.0-6035.0"), 0);
});

test("format detection: explicit, marker files, fallback, else a clear error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pkgfmt-"));
  try {
    const r = new HostRoot(dir);
    assert.equal(await detectPackageFormat(r, "deb", undefined), "deb");
    await assert.rejects(detectPackageFormat(r, "msi", undefined), /neither 'deb' nor 'rpm'/);
    await assert.rejects(detectPackageFormat(r, undefined, undefined), /cannot tell/);
    assert.equal(await detectPackageFormat(r, undefined, "rpm"), "rpm");
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "etc/debian_version"), "12.5\n");
    assert.equal(await detectPackageFormat(r, undefined, "rpm"), "deb");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rpm and deb: install a file with env, query the version, OS packages, remove", async () => {
  const n = await startEmuNodes();
  try {
    await n.onNode("10.30.0.1", async () => {
      const rpm = new PackageManager("rpm");
      assert.equal(await rpm.installedVersion("EMC-ScaleIO-mdm"), undefined);
      const file = join(n.emu.repoDir, "EMC-ScaleIO-mdm-2.0-6035.0.el7.x86_64.rpm");
      const r = await rpm.installFile(file, { env: { MDM_ROLE_IS_MANAGER: "1" } });
      assert.match(r.stdout, /Created symlink from/);
      assert.equal(await rpm.installedVersion("EMC-ScaleIO-mdm"), "2.0-6035.0");
      assert.match((await rpm.installOsPackages(["libaio", "zip"])).stdout, /Complete!/);
      await assert.rejects(rpm.installOsPackages(["zip; rm -rf /"]), /not a valid package name/);
      assert.equal(await rpm.remove("EMC-ScaleIO-mdm"), true);
      assert.equal(await rpm.remove("EMC-ScaleIO-mdm"), false);
    });
    await n.onNode("10.30.0.2", async () => {
      const deb = new PackageManager("deb");
      const file = join(n.emu.repoDir, "emc-scaleio-sds_2.0-6035.0_amd64.deb");
      assert.match((await deb.installFile(file)).stdout, /sds start\/running/);
      assert.equal(await deb.installedVersion("emc-scaleio-sds"), "2.0-6035.0");
      assert.match((await deb.installOsPackages(["libaio1", "zip"])).stdout, /2 newly installed/);
      assert.equal(await deb.remove("emc-scaleio-sds"), true);
      assert.equal(await deb.installedVersion("emc-scaleio-sds"), undefined);
    });
  } finally {
    await n.close();
  }
});

test("several installed versions with one query (rpm and deb); missing ones left out", async () => {
  const n = await startEmuNodes();
  try {
    await n.onNode("10.30.0.3", async () => {
      const rpm = new PackageManager("rpm");
      const names = ["EMC-ScaleIO-mdm", "EMC-ScaleIO-sds", "EMC-ScaleIO-sdc"];
      assert.deepEqual([...(await rpm.installedVersions(names))], []);
      await rpm.installFile(join(n.emu.repoDir, "EMC-ScaleIO-sds-2.0-6035.0.el7.x86_64.rpm"));
      assert.deepEqual(
        [...(await rpm.installedVersions(names))],
        [["EMC-ScaleIO-sds", "2.0-6035.0"]],
      );
      await assert.rejects(rpm.installedVersions(["x", "-a"]), /not a valid package name/);
    });
    await n.onNode("10.30.0.4", async () => {
      const deb = new PackageManager("deb");
      const names = ["emc-scaleio-mdm", "emc-scaleio-sds", "emc-scaleio-sdc"];
      await deb.installFile(join(n.emu.repoDir, "emc-scaleio-sds_2.0-6035.0_amd64.deb"));
      await deb.installFile(join(n.emu.repoDir, "emc-scaleio-sdc_2.0-6035.0_amd64.deb"), {
        env: { MDM_IP: "10.30.0.1" },
      });
      assert.deepEqual([...(await deb.installedVersions(names))].sort(), [
        ["emc-scaleio-sdc", "2.0-6035.0"],
        ["emc-scaleio-sds", "2.0-6035.0"],
      ]);
    });
  } finally {
    await n.close();
  }
});
