import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HostRoot } from "../../../src/host/files.js";
import { readPackageArchive } from "../../../src/host/package-archive.js";
import { UnpackedPackages } from "../../../src/host/unpacked-packages.js";
import {
  buildDeb,
  buildRpm,
  type PackageSpec,
} from "../../../sim/scaleio/node/package-archives.js";

const spec = (release: string, extra: PackageSpec["files"] = []): PackageSpec => ({
  name: "EMC-ScaleIO-sdc",
  version: "2.0",
  release,
  files: [
    { path: "/opt/emc/scaleio/sdc/bin/drv_cfg", content: "#!/bin/sh\n", mode: 0o755 },
    { path: "/usr/lib/systemd/system/scini.service", content: "[Unit]\n" },
    ...extra,
  ],
});

test("package archives: rpm and deb payloads, names and versions are read without any tool", async () => {
  for (const buf of [
    buildRpm(spec("6035.0.el7")),
    buildDeb({ ...spec("6035.0"), name: "emc-scaleio-sdc" }),
  ]) {
    const a = await readPackageArchive(buf);
    assert.equal(a.version, "2.0-6035.0");
    assert.match(a.name, /^(EMC-ScaleIO|emc-scaleio)-sdc$/);
    const drv = a.entries.find((e) => e.path === "/opt/emc/scaleio/sdc/bin/drv_cfg");
    assert.equal(drv?.type, "file");
    assert.equal(drv?.mode, 0o755);
    assert.equal(drv?.data?.toString(), "#!/bin/sh\n");
    assert.ok(a.entries.some((e) => e.type === "dir" && e.path === "/opt/emc/scaleio/sdc"));
  }
  await assert.rejects(
    () => readPackageArchive(Buffer.from("scaleio-sim package sdc\n")),
    /not an rpm or deb/,
  );
  // A broken xz payload is refused with the reason, not unpacked as garbage.
  const rpm = buildRpm(spec("1.el7"));
  const gz = rpm.indexOf(Buffer.from([0x1f, 0x8b]));
  const xz = Buffer.concat([
    rpm.subarray(0, gz),
    Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2]),
  ]);
  await assert.rejects(() => readPackageArchive(xz), /rpm payload cannot be decompressed/);
  // A member naming ../ cannot climb out of the root: it lands inside it.
  const evil = await readPackageArchive(
    buildDeb({ ...spec("1"), files: [{ path: "/../../etc/evil", content: "x" }] }),
  );
  assert.deepEqual(
    evil.entries.filter((e) => e.type === "file").map((e) => e.path),
    ["/etc/evil"],
  );
});

test("unpacked packages: a Flatcar-like root gets the payload under /opt, read-only /usr files relocated, a record with the version; upgrade and removal follow the record", async () => {
  const dir = mkdtempSync(join(tmpdir(), "unpack-"));
  try {
    const root = new HostRoot(join(dir, "root"), { readOnly: ["/usr"] });
    const pk = new UnpackedPackages(root, "rpm", "Flatcar");
    const v1 = join(dir, "EMC-ScaleIO-sdc-2.0-6035.0.el7.x86_64.rpm");
    writeFileSync(
      v1,
      buildRpm(spec("6035.0.el7", [{ path: "/opt/emc/scaleio/sdc/old.txt", content: "old" }])),
    );
    assert.equal(await pk.installedVersion("EMC-ScaleIO-sdc"), undefined);
    const r = await pk.installFile(v1, { unpackRelocateTo: "/opt/emc/scaleio/rootfs" });
    assert.match(r.stdout, /Unpacked EMC-ScaleIO-sdc 2.0-6035.0 \(rpm payload, 3 files\)/);
    assert.match(r.stdout, /1 files for read-only paths put under \/opt\/emc\/scaleio\/rootfs/);
    const real = (p: string) => join(dir, "root", p);
    assert.equal(statSync(real("/opt/emc/scaleio/sdc/bin/drv_cfg")).mode & 0o777, 0o755);
    assert.equal(existsSync(real("/usr/lib/systemd/system/scini.service")), false);
    assert.equal(
      readFileSync(real("/opt/emc/scaleio/rootfs/usr/lib/systemd/system/scini.service"), "utf8"),
      "[Unit]\n",
    );
    assert.equal(await pk.installedVersion("EMC-ScaleIO-sdc"), "2.0-6035.0");
    assert.deepEqual(
      [...(await pk.installedVersions(["EMC-ScaleIO-sdc", "EMC-ScaleIO-sds"]))],
      [["EMC-ScaleIO-sdc", "2.0-6035.0"]],
    );

    const v2 = join(dir, "EMC-ScaleIO-sdc-2.0-13000.211.el7.x86_64.rpm");
    writeFileSync(v2, buildRpm(spec("13000.211.el7")));
    assert.match(
      (await pk.installFile(v2, { unpackRelocateTo: "/opt/emc/scaleio/rootfs" })).stdout,
      /replacing 2.0-6035.0/,
    );
    assert.equal(await pk.installedVersion("EMC-ScaleIO-sdc"), "2.0-13000.211");
    assert.equal(
      existsSync(real("/opt/emc/scaleio/sdc/old.txt")),
      false,
      "a file the new version lacks is gone",
    );

    assert.equal(await pk.remove("EMC-ScaleIO-sdc"), true);
    assert.equal(existsSync(real("/opt/emc/scaleio/sdc/bin/drv_cfg")), false);
    assert.equal(await pk.installedVersion("EMC-ScaleIO-sdc"), undefined);
    assert.equal(await pk.remove("EMC-ScaleIO-sdc"), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("host root: payload symlinks are made only with relative targets that stay inside the root", async () => {
  const dir = mkdtempSync(join(tmpdir(), "links-"));
  try {
    const root = new HostRoot(dir, { readOnly: ["/usr"] });
    await root.symlink("/opt/emc/scaleio/sdc/bin/current", "../lib/drv");
    const { readlinkSync } = await import("node:fs");
    assert.equal(readlinkSync(join(dir, "opt/emc/scaleio/sdc/bin/current")), "../lib/drv");
    await root.symlink("/opt/emc/scaleio/sdc/bin/current", "../lib/drv"); // again: no change
    await assert.rejects(root.symlink("/opt/x", "/etc/shadow"), /only relative targets/);
    await assert.rejects(root.symlink("/opt/x", "../../../etc/shadow"), /only relative targets/);
    await assert.rejects(root.symlink("/usr/bin/x", "y"), /read-only file system/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
